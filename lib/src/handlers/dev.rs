//! Local dev sign-in, mounted only by `voiceforge serve`: the dev issuer's JWKS and a token
//! endpoint for the frontend. Compiled out of the Vercel function binaries (feature `cli`).

use std::time::Duration;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    auth::{
        Role,
        dev::{DevIssuer, valid_clerk_id},
    },
    error::ApiError,
    http::{App, json::ApiJson},
};

/// How long a dev token lives; the frontend mints a new one when it expires.
pub const DEV_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// Body of `POST /api/dev/token`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Clerk-style organization id, e.g. `org_acme`.
    pub org: String,
    /// Clerk-style user id, e.g. `user_alice`.
    pub user: String,
    /// `admin` or `member`.
    pub role: Role,
    /// Display name for a new organization.
    pub org_name: Option<String>,
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

fn issuer(app: &App) -> Result<&DevIssuer, ApiError> {
    app.dev_issuer.as_deref().ok_or_else(|| ApiError::not_found("dev sign-in"))
}

/// Mints a Clerk-shaped session token from the local dev issuer.
pub async fn post_token(
    State(app): State<App>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let issuer = issuer(&app)?;
    if !valid_clerk_id("org", &req.org) {
        return Err(ApiError::bad_request("invalid_org", "org must look like org_acme (letters, digits, _ or -)"));
    }
    if !valid_clerk_id("user", &req.user) {
        return Err(ApiError::bad_request("invalid_user", "user must look like user_alice (letters, digits, _ or -)"));
    }
    if req.org_name.as_ref().is_some_and(|n| n.chars().count() > 256 || n.trim().is_empty()) {
        return Err(ApiError::bad_request("invalid_org_name", "org_name must be 1 to 256 characters"));
    }
    let token = issuer.mint(&req.org, &req.user, req.role, req.org_name.as_deref(), DEV_TOKEN_TTL)?;
    let expires_at = OffsetDateTime::now_utc() + DEV_TOKEN_TTL;
    Ok(ApiJson(TokenResponse { token, expires_at }))
}

/// The dev issuer's public keys, in the same JWKS format Clerk publishes.
pub async fn get_jwks(State(app): State<App>) -> Result<ApiJson<impl Serialize>, ApiError> {
    Ok(ApiJson(issuer(&app)?.jwks()))
}
