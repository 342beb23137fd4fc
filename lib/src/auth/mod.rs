//! Who is calling: Clerk session tokens (and the local dev issuer's look-alikes), verified
//! into an [`Identity`] with its active organization and role; plus Clerk webhook signatures.
//!
//! Every token takes the same path, whether Clerk or `voiceforge serve` minted it:
//! [`bearer_token`] → [`TokenVerifier::verify`]. The rules follow Clerk's own verifier
//! (RS256 only, signature before claims, 5 s clock skew); the `verifier` module lists them.

#[cfg(feature = "cli")]
pub mod dev;
mod jwks;
mod verifier;
pub mod webhook;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use verifier::{CLOCK_SKEW, IssuerConfig, JwksSource, KeySource, TokenVerifier};

/// Longest bearer token accepted; Clerk's session tokens are well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// A member's role in their organization, as VoiceForge uses it: admins manage the org.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Clerk's `org:admin` (legacy `admin`).
    Admin,
    /// Every other role: `org:member`, legacy `basic_member`/`guest_member`, custom roles.
    Member,
}

impl Role {
    /// Maps a Clerk role from a token or webhook (`org:admin`, v2 `admin`, …); anything that
    /// is not an admin role is a member, so an unknown custom role never grants admin rights.
    pub fn from_clerk_role(role: &str) -> Role {
        match role {
            "org:admin" | "admin" => Role::Admin,
            _ => Role::Member,
        }
    }

    /// The role as VoiceForge stores and serializes it: `admin` or `member`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// The role as Clerk writes it in v1 session tokens: `org:admin` or `org:member`.
    pub fn clerk_role(self) -> &'static str {
        match self {
            Role::Admin => "org:admin",
            Role::Member => "org:member",
        }
    }
}

/// A verified caller: the Clerk user and session, and the organization active in that session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Clerk user id (`sub`), e.g. `user_2abc`.
    pub user_id: String,
    /// Clerk session id (`sid`), e.g. `sess_2abc`.
    pub session_id: String,
    /// Clerk organization id of the active organization, e.g. `org_2abc`.
    pub org_id: String,
    /// The active organization's slug, when the token carries it.
    pub org_slug: Option<String>,
    /// Organization display name; Clerk tokens lack it, dev tokens may carry `org_name`.
    pub org_name: Option<String>,
    /// The caller's role in the active organization.
    pub role: Role,
    /// The issuer (`iss`) that vouched for this identity, as configured.
    pub issuer: String,
}

/// Why a request could not be authenticated. [`AuthError::code`] is the stable API code;
/// messages are safe to send to clients (they never contain the token or a secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("sign in first: the request carries no bearer session token")]
    MissingToken,
    /// The token is not a well-formed JWT (segments, base64, JSON, claim types, size).
    #[error("the session token is malformed")]
    MalformedToken,
    /// The header names an algorithm other than RS256 (including `none` and HMAC).
    #[error("the session token uses an unsupported signing algorithm (only RS256 is accepted)")]
    UnsupportedAlgorithm,
    /// The signature does not match the issuer's key.
    #[error("the session token's signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past (beyond the clock skew).
    #[error("the session token has expired")]
    TokenExpired,
    /// `nbf` or `iat` is in the future (beyond the clock skew).
    #[error("the session token is not valid yet")]
    TokenNotYetValid,
    /// `iss` is missing or not a configured issuer.
    #[error("the session token was issued by an unknown issuer")]
    InvalidIssuer,
    /// `azp` is missing or not among the configured authorized parties.
    #[error("the session token was issued for an unauthorized party")]
    UnauthorizedParty,
    /// No key of the issuer matches the token's `kid`.
    #[error("the session token was signed with an unknown key")]
    UnknownKey,
    /// The token verified but is not a Clerk session token (no `sid` or `sub`).
    #[error("the token is not a session token")]
    NotASessionToken,
    /// The session has no active organization (or is `pending`): pick one first.
    #[error("select an organization first: the session has no active organization")]
    NoActiveOrganization,
    /// The issuer's keys could not be loaded, so nothing can be verified right now.
    #[error("the signing keys are unavailable; try again shortly")]
    KeysUnavailable,
}

impl AuthError {
    /// Stable snake_case code for API responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingToken => "missing_token",
            AuthError::MalformedToken => "malformed_token",
            AuthError::UnsupportedAlgorithm => "unsupported_algorithm",
            AuthError::InvalidSignature => "invalid_signature",
            AuthError::TokenExpired => "token_expired",
            AuthError::TokenNotYetValid => "token_not_yet_valid",
            AuthError::InvalidIssuer => "invalid_issuer",
            AuthError::UnauthorizedParty => "unauthorized_party",
            AuthError::UnknownKey => "unknown_key",
            AuthError::NotASessionToken => "not_a_session_token",
            AuthError::NoActiveOrganization => "no_active_organization",
            AuthError::KeysUnavailable => "keys_unavailable",
        }
    }

    /// True when the caller is authenticated but may not proceed (HTTP 403); every other
    /// auth error means "not authenticated" (HTTP 401).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, AuthError::NoActiveOrganization)
    }
}

/// Extracts the token from an `Authorization` header value (`Bearer <token>`, scheme
/// case-insensitive); rejects oversized or non-JWT-alphabet tokens before any parsing.
pub fn bearer_token(header: Option<&str>) -> Result<&str, AuthError> {
    let header = header.map(str::trim).unwrap_or_default();
    if header.is_empty() {
        return Err(AuthError::MissingToken);
    }
    let (scheme, rest) = header.split_once([' ', '\t']).unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    let token = rest.trim();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::MalformedToken);
    }
    let jwt_alphabet = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if !token.bytes().all(jwt_alphabet) {
        return Err(AuthError::MalformedToken);
    }
    Ok(token)
}

#[cfg(test)]
mod bearer_tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(bearer_token(Some("Bearer a.b.c")), Ok("a.b.c"));
        assert_eq!(bearer_token(Some("bearer a.b.c")), Ok("a.b.c"));
        assert_eq!(bearer_token(Some("BEARER   a.b.c  ")), Ok("a.b.c"));
    }

    #[test]
    fn missing_or_other_scheme_is_missing_token() {
        for header in [None, Some(""), Some("   "), Some("Bearer"), Some("Bearer   "), Some("Basic dXNlcjpwYXNz")] {
            assert_eq!(bearer_token(header), Err(AuthError::MissingToken), "{header:?}");
        }
    }

    #[test]
    fn oversized_token_is_malformed() {
        let at_limit = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN));
        assert!(bearer_token(Some(&at_limit)).is_ok());
        let over = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(bearer_token(Some(&over)), Err(AuthError::MalformedToken));
    }

    #[test]
    fn token_outside_jwt_alphabet_is_malformed() {
        for header in ["Bearer a.b c", "Bearer a.b+c", "Bearer a.b/c=", "Bearer \u{0}"] {
            assert_eq!(bearer_token(Some(header)), Err(AuthError::MalformedToken), "{header:?}");
        }
    }

    #[test]
    fn roles_map_from_every_clerk_spelling() {
        assert_eq!(Role::from_clerk_role("org:admin"), Role::Admin);
        assert_eq!(Role::from_clerk_role("admin"), Role::Admin);
        for member in ["org:member", "member", "basic_member", "guest_member", "org:billing", ""] {
            assert_eq!(Role::from_clerk_role(member), Role::Member, "{member}");
        }
        assert_eq!(serde_json::to_string(&Role::Admin).ok().as_deref(), Some("\"admin\""));
        assert_eq!(serde_json::from_str::<Role>("\"member\"").ok(), Some(Role::Member));
    }

    #[test]
    fn only_no_active_organization_is_forbidden() {
        assert!(AuthError::NoActiveOrganization.is_forbidden());
        assert!(!AuthError::TokenExpired.is_forbidden());
        assert_eq!(AuthError::UnknownKey.code(), "unknown_key");
    }
}
