//! `PATCH /api/organizations/limits`: the deployment's operators change an organization's
//! limits. Not for organization members, admins included: they get 403.

use axum::{
    extract::State,
    http::{HeaderMap, header},
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::{
    audit::{self, AuditEvent},
    auth::bearer_token,
    error::ApiError,
    http::{App, extract::ClientIp, json::ApiJson},
    tenancy::{Limits, System, Tenant},
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

/// Checks `VOICEFORGE_ADMIN_TOKEN`; a valid session token (any member) is 403, no token 401.
async fn require_operator(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let header = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("\u{0}"));
    let token = bearer_token(header)
        .map_err(|_| ApiError::unauthorized("missing_token", "send the deployment's admin token as a bearer token"))?;
    if let Some(expected) = &app.settings.admin_token
        && bool::from(token.as_bytes().ct_eq(expected.expose().as_bytes()))
    {
        return Ok(());
    }
    // A member's session token, even an org admin's, is the wrong kind of credential.
    app.verifier.verify(token).await?;
    Err(ApiError::forbidden("operator_required", "only the deployment's operators can change limits"))
}

/// Changes the named organization's limits and records it in that organization's audit log.
pub async fn patch_limits(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LimitsRequest>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    require_operator(&app, &headers).await?;
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
    let mut sys = System::begin(&app.db, "operator: change limits (look up organization)").await?;
    let org_id: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM organizations WHERE clerk_org_id = $1")
        .bind(&body.organization)
        .fetch_optional(sys.conn())
        .await?;
    sys.commit().await?;
    let org_id = org_id.ok_or_else(|| ApiError::not_found("the organization"))?;
    let mut tenant = Tenant::for_system(&app.db, org_id, "operator: change limits")
        .await?
        .ok_or_else(|| ApiError::not_found("the organization"))?;
    tenant.set_client_ip(ip);
    let (before, after) = usage::set_limits(&mut tenant, &change).await?;
    let details = json!({"before": before, "after": after});
    audit::record(&mut tenant, AuditEvent::on("limits.updated", "organization", &body.organization).with(details))
        .await?;
    tenant.commit().await?;
    Ok(ApiJson(LimitsView { organization: body.organization, limits: after }))
}
