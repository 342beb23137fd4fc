//! Session token verification: pick the issuer, verify the RS256 signature, then the claims.

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind, jwk::JwkSet};
use serde::Deserialize;
use url::Url;

use super::{
    AuthError, Identity, MAX_TOKEN_LEN, Role,
    jwks::{RemoteKeys, Timing, usable_keys},
};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, as in Clerk's own verifier.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5);

/// One token issuer we trust: a Clerk instance (its Frontend API URL) or the dev issuer.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// The exact `iss` value, e.g. `https://x.clerk.accounts.dev` (a trailing `/` is ignored).
    pub issuer: String,
    /// Where this issuer's public keys come from.
    pub keys: KeySource,
    /// Allowed `azp` origins; empty means `azp` is not checked.
    pub authorized_parties: Vec<String>,
}

/// Where an issuer's signing keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JWKS fetched over HTTP, cached, refetched on an unknown `kid` (rate-limited).
    Jwks(JwksSource),
    /// A PEM public key (Clerk's `CLERK_JWT_KEY`): networkless, accepts any `kid`.
    Pem(String),
    /// A fixed key set held in memory (the local dev issuer).
    Static(JwkSet),
}

/// A remote JWKS endpoint and the secret it needs, if any.
#[derive(Clone)]
pub struct JwksSource {
    /// The JWKS URL, e.g. `https://api.clerk.com/v1/jwks`.
    pub url: Url,
    /// Sent as `Authorization: Bearer …`; Clerk's Backend API JWKS needs `CLERK_SECRET_KEY`.
    pub bearer_secret: Option<String>,
}

impl JwksSource {
    /// Clerk's Backend API JWKS (`https://api.clerk.com/v1/jwks`), authorized by the secret key.
    pub fn clerk_backend_api(secret_key: impl Into<String>) -> JwksSource {
        JwksSource {
            url: Url::parse("https://api.clerk.com/v1/jwks").expect("constant URL parses"),
            bearer_secret: Some(secret_key.into()),
        }
    }

    /// The public JWKS of a Clerk Frontend API (`<issuer>/.well-known/jwks.json`); no secret.
    pub fn frontend_api(issuer: &str) -> Result<JwksSource, url::ParseError> {
        let url = Url::parse(&format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')))?;
        Ok(JwksSource { url, bearer_secret: None })
    }
}

impl fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksSource")
            .field("url", &self.url.as_str())
            .field("bearer_secret", &self.bearer_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Verifies session tokens against a fixed list of issuers. Cheap to clone (shared caches).
#[derive(Clone)]
pub struct TokenVerifier {
    issuers: Arc<Vec<Issuer>>,
}

struct Issuer {
    issuer: String,
    authorized_parties: Vec<String>,
    keys: IssuerKeys,
}

enum IssuerKeys {
    /// `None` when the configured PEM did not parse: every token then gets keys_unavailable.
    Pem(Option<Arc<DecodingKey>>),
    Static(HashMap<String, Arc<DecodingKey>>),
    Remote(Box<RemoteKeys>),
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let issuers: Vec<&str> = self.issuers.iter().map(|i| i.issuer.as_str()).collect();
        f.debug_struct("TokenVerifier").field("issuers", &issuers).finish()
    }
}

impl TokenVerifier {
    /// Builds a verifier for `issuers`; `http` fetches remote JWKS. A PEM that does not parse
    /// is logged here and makes that issuer's tokens fail with `keys_unavailable`.
    pub fn new(issuers: Vec<IssuerConfig>, http: reqwest::Client) -> TokenVerifier {
        TokenVerifier::with_timing(issuers, http, Timing::default())
    }

    pub(super) fn with_timing(issuers: Vec<IssuerConfig>, http: reqwest::Client, timing: Timing) -> TokenVerifier {
        let mut built: Vec<Issuer> = Vec::with_capacity(issuers.len());
        for config in issuers {
            let issuer = config.issuer.trim_end_matches('/').to_owned();
            if built.iter().any(|b| b.issuer == issuer) {
                tracing::warn!(%issuer, "issuer configured twice; the first configuration wins");
                continue;
            }
            let keys = match config.keys {
                KeySource::Pem(pem) => IssuerKeys::Pem(parse_pem(&issuer, &pem).map(Arc::new)),
                KeySource::Static(set) => IssuerKeys::Static(usable_keys(set.keys.iter())),
                KeySource::Jwks(source) => IssuerKeys::Remote(Box::new(RemoteKeys::new(source, http.clone(), timing))),
            };
            built.push(Issuer { issuer, authorized_parties: config.authorized_parties, keys });
        }
        TokenVerifier { issuers: Arc::new(built) }
    }

    /// Verifies a session token and returns who is calling in which organization.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::MalformedToken);
        }
        let parts = split_token(token)?;
        let header = parse_header(parts.header)?;
        let unverified = parse_unverified_issuer(parts.payload)?;
        let issuer_value = unverified.iss.ok_or(AuthError::InvalidIssuer)?;
        let issuer = self.issuers.iter().find(|i| i.issuer == issuer_value).ok_or(AuthError::InvalidIssuer)?;

        let key = issuer.key(header.kid.as_deref()).await?;
        let claims = verify_signature_and_times(token, &key, &issuer.issuer)?;
        identity_from_claims(issuer, claims)
    }

    /// Reads the `Authorization` header value and verifies its bearer token.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Identity, AuthError> {
        self.verify(super::bearer_token(authorization)?).await
    }
}

impl Issuer {
    async fn key(&self, kid: Option<&str>) -> Result<Arc<DecodingKey>, AuthError> {
        match &self.keys {
            IssuerKeys::Pem(key) => key.clone().ok_or(AuthError::KeysUnavailable),
            IssuerKeys::Static(keys) => kid.and_then(|k| keys.get(k)).cloned().ok_or(AuthError::UnknownKey),
            IssuerKeys::Remote(remote) => match kid {
                Some(kid) if !kid.is_empty() => remote.key(kid).await,
                _ => Err(AuthError::UnknownKey),
            },
        }
    }
}

/// Parses `CLERK_JWT_KEY`: a PEM, possibly flattened to one line with literal `\n`s, or just
/// the base64 body of a `PUBLIC KEY` (the dashboard offers all three).
fn parse_pem(issuer: &str, pem: &str) -> Option<DecodingKey> {
    let pem = pem.trim().replace("\\n", "\n");
    let pem = if pem.contains("-----BEGIN") {
        pem
    } else {
        let body: String = pem.chars().filter(|c| !c.is_whitespace()).collect();
        let lines: Vec<&str> = body.as_bytes().chunks(64).filter_map(|c| std::str::from_utf8(c).ok()).collect();
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
    };
    match DecodingKey::from_rsa_pem(pem.as_bytes()) {
        Ok(key) => Some(key),
        Err(err) => {
            tracing::error!(%issuer, error = %err, "the configured PEM key is not an RSA public key");
            None
        }
    }
}

struct TokenParts<'a> {
    header: &'a str,
    payload: &'a str,
}

fn split_token(token: &str) -> Result<TokenParts<'_>, AuthError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        // The signature may be empty here (`alg: none`); the algorithm check rejects it next.
        (Some(header), Some(payload), Some(_signature), None) if !header.is_empty() && !payload.is_empty() => {
            Ok(TokenParts { header, payload })
        }
        _ => Err(AuthError::MalformedToken),
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<serde_json::Value>,
    kid: Option<String>,
}

/// Only `alg` and `kid` matter; Clerk's extra fields (`cat`, …) are ignored.
fn parse_header(encoded: &str) -> Result<RawHeader, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| AuthError::MalformedToken)?;
    let header: RawHeader = serde_json::from_slice(&bytes).map_err(|_| AuthError::MalformedToken)?;
    match &header.alg {
        Some(serde_json::Value::String(alg)) if alg == "RS256" => Ok(header),
        Some(serde_json::Value::String(_)) => Err(AuthError::UnsupportedAlgorithm),
        _ => Err(AuthError::MalformedToken),
    }
}

#[derive(Deserialize)]
struct UnverifiedIssuer {
    iss: Option<String>,
}

/// Reads `iss` before verification, only to choose which keys to verify with.
fn parse_unverified_issuer(encoded: &str) -> Result<UnverifiedIssuer, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| AuthError::MalformedToken)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::MalformedToken)
}

/// Signature first, then `exp`/`nbf`/`iss` (jsonwebtoken) and `iat` (here), all with
/// [`CLOCK_SKEW`]. Returns the claims only once the signature has verified.
fn verify_signature_and_times(token: &str, key: &DecodingKey, issuer: &str) -> Result<SessionClaims, AuthError> {
    let mut validation = Validation::new(Algorithm::RS256);
    // jsonwebtoken defaults to 60 s leeway and skips `nbf`: set both to Clerk's behaviour.
    validation.leeway = CLOCK_SKEW.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    validation.set_issuer(&[issuer]);

    let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, key, &validation)
        .map_err(|err| map_jwt_error(err.into_kind()))?;
    let claims: SessionClaims =
        serde_json::from_value(serde_json::Value::Object(data.claims)).map_err(|_| AuthError::MalformedToken)?;

    if let Some(iat) = claims.iat {
        let now = jsonwebtoken::get_current_timestamp() as f64;
        if !iat.is_finite() || iat > now + CLOCK_SKEW.as_secs_f64() {
            return Err(AuthError::TokenNotYetValid);
        }
    }
    Ok(claims)
}

fn map_jwt_error(kind: ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::ExpiredSignature => AuthError::TokenExpired,
        ErrorKind::ImmatureSignature => AuthError::TokenNotYetValid,
        ErrorKind::InvalidIssuer => AuthError::InvalidIssuer,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName | ErrorKind::UnsupportedAlgorithm => {
            AuthError::UnsupportedAlgorithm
        }
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            tracing::warn!("an issuer key could not be used to verify RS256 signatures");
            AuthError::KeysUnavailable
        }
        _ => AuthError::MalformedToken,
    }
}

/// The claims VoiceForge reads; unknown claims (`fva`, `act`, `per`, `fpm`, …) are ignored.
#[derive(Deserialize)]
struct SessionClaims {
    iat: Option<f64>,
    azp: Option<String>,
    sub: Option<String>,
    sid: Option<String>,
    sts: Option<String>,
    v: Option<u32>,
    // v1 organization claims.
    org_id: Option<String>,
    org_role: Option<String>,
    org_slug: Option<String>,
    /// Dev issuer only: Clerk tokens carry no organization name.
    org_name: Option<String>,
    // v2 organization claims.
    o: Option<OrgClaimsV2>,
}

#[derive(Deserialize)]
struct OrgClaimsV2 {
    id: Option<String>,
    rol: Option<String>,
    slg: Option<String>,
}

fn identity_from_claims(issuer: &Issuer, claims: SessionClaims) -> Result<Identity, AuthError> {
    if !issuer.authorized_parties.is_empty() {
        let allowed = claims.azp.as_ref().is_some_and(|azp| issuer.authorized_parties.iter().any(|p| p == azp));
        if !allowed {
            return Err(AuthError::UnauthorizedParty);
        }
    }
    let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let session_id = non_empty(claims.sid).ok_or(AuthError::NotASessionToken)?;
    let user_id = non_empty(claims.sub).ok_or(AuthError::NotASessionToken)?;
    if claims.sts.as_deref() == Some("pending") {
        return Err(AuthError::NoActiveOrganization);
    }
    let (org_id, role, org_slug) = match (claims.v, claims.o) {
        (Some(v), o) if v >= 2 => {
            let o = o.ok_or(AuthError::NoActiveOrganization)?;
            (o.id, o.rol, o.slg)
        }
        _ => (claims.org_id, claims.org_role, claims.org_slug),
    };
    let org_id = non_empty(org_id).ok_or(AuthError::NoActiveOrganization)?;
    Ok(Identity {
        user_id,
        session_id,
        org_id,
        org_slug: non_empty(org_slug),
        org_name: non_empty(claims.org_name),
        role: role.as_deref().map_or(Role::Member, Role::from_clerk_role),
        issuer: issuer.issuer.clone(),
    })
}
