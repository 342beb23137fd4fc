//! `PATCH /api/organizations/limits`: the deployment's operators change an organization's
//! limits. Not for organization members, admins included: they get 403.

use axum::{
    extract::{FromRequestParts, State},
    http::{header, request::Parts},
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{
    auth::bearer_token,
    error::ApiError,
    http::{App, extract::ClientIp, json::ApiJson},
    tenancy::Limits,
    usage::{self, LimitsChange},
};

/// Body: the organization by Clerk id and the limits to change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    /// Clerk organization id.
    pub organization: String,
    /// New seat limit.
    pub max_users: Option<i32>,
    /// New content item limit.
    pub max_content_items: Option<i32>,
    /// New monthly crawl limit.
    pub max_crawls_per_month: Option<i32>,
}

#[derive(Serialize)]
struct LimitsView {
    organization: String,
    limits: Limits,
}

/// A caller holding `VOICEFORGE_ADMIN_TOKEN`; checked before the body is read. A valid
/// session token (any member, org admins included) is 403, no token 401.
pub struct Operator;

impl FromRequestParts<App> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let header = parts.headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("\u{0}"));
        let token = bearer_token(header).map_err(|_| {
            ApiError::unauthorized("missing_token", "send the deployment's admin token as a bearer token")
        })?;
        if let Some(expected) = &app.settings.admin_token
            && bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes()))
        {
            return Ok(Operator);
        }
        // A member's session token, even an org admin's, is the wrong kind of credential.
        app.verifier.verify(token).await?;
        Err(ApiError::forbidden("operator_required", "only the deployment's operators can change limits"))
    }
}

/// Changes the named organization's limits and records it in that organization's audit log.
pub async fn patch_limits(
    _: Operator,
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LimitsRequest>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let change = LimitsChange {
        max_users: body.max_users,
        max_content_items: body.max_content_items,
        max_crawls_per_month: body.max_crawls_per_month,
    };
    if let Some(problem) = change.problem() {
        return Err(ApiError::bad_request("invalid_limits", problem));
    }
    if body.organization.is_empty() || body.organization.len() > 128 {
        return Err(ApiError::not_found("the organization"));
    }
    let limits = usage::change_limits(&app.db, &body.organization, &change, ip)
        .await?
        .ok_or_else(|| ApiError::not_found("the organization"))?;
    Ok(ApiJson(LimitsView { organization: body.organization, limits }))
}
