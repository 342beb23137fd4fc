//! The caller's organization: `GET /api/organizations/current`, `/users`, `/usage`.

use axum::extract::Query;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    auth::Role,
    error::ApiError,
    http::{
        extract::{InTenant, ResourceId},
        json::ApiJson,
    },
    pagination::{self, Page, PageQuery},
    tenancy::{self, Limits, parse_role},
    usage::{self, Period, UsageReport},
};

#[derive(Serialize)]
struct OrganizationView {
    id: String,
    name: String,
    slug: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    limits: Limits,
}

#[derive(Serialize)]
struct UserRef {
    id: String,
}

#[derive(Serialize)]
struct CurrentOrganization {
    organization: OrganizationView,
    user: UserRef,
    role: Role,
}

/// The caller's organization, their role, and the organization's limits.
pub async fn get_current(InTenant(tenant): InTenant) -> Result<ApiJson<impl Serialize>, ApiError> {
    let org = tenant.org();
    let body = CurrentOrganization {
        organization: OrganizationView {
            id: org.clerk_org_id.clone(),
            name: org.name.clone(),
            slug: org.slug.clone(),
            created_at: org.created_at,
            limits: org.limits.clone(),
        },
        user: UserRef { id: tenant.clerk_user_id().unwrap_or_default().to_owned() },
        role: tenant.role(),
    };
    tenant.commit().await?;
    Ok(ApiJson(body))
}

#[derive(Serialize)]
struct MemberView {
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    role: Role,
    #[serde(with = "time::serde::rfc3339")]
    joined_at: OffsetDateTime,
    over_limit: bool,
}

#[derive(Serialize)]
struct Seats {
    used: i64,
    limit: i32,
}

#[derive(Serialize)]
struct MemberList {
    #[serde(flatten)]
    page: Page<MemberView>,
    seats: Seats,
}

/// Members in seat order, with who is beyond the seat limit, and seats used of the limit.
pub async fn list_users(
    InTenant(mut tenant): InTenant,
    Query(q): Query<PageQuery>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let (limit, after) = (q.limit()?, q.after()?);
    let max_users = tenant.org().limits.max_users;
    let rows = tenancy::list_members(&mut tenant, after, limit + 1).await?;
    let used = tenancy::count_members(&mut tenant).await?;
    tenant.commit().await?;
    let page = pagination::page(rows, limit, |(m, id)| (m.joined_at, *id), |(m, _)| member_view(m, max_users));
    Ok(ApiJson(MemberList { page, seats: Seats { used, limit: max_users } }))
}

/// Query of the usage endpoint.
#[derive(Deserialize)]
pub struct UsageQuery {
    /// `YYYY-MM`; the current month when absent.
    pub period: Option<String>,
}

/// Current (or `?period=YYYY-MM`) usage against limits, warnings and a 30-day series.
pub async fn get_usage(
    InTenant(mut tenant): InTenant,
    Query(q): Query<UsageQuery>,
) -> Result<ApiJson<UsageReport>, ApiError> {
    let period = match q.period.as_deref() {
        None => Period::current(),
        Some(p) => Period::parse(p)
            .ok_or_else(|| ApiError::bad_request("invalid_period", "period must be a month written YYYY-MM"))?,
    };
    let report = usage::report(&mut tenant, period).await?;
    tenant.commit().await?;
    Ok(ApiJson(report))
}

/// One member of the caller's organization by Clerk user id; 404 for anyone else.
pub async fn get_user(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let max_users = tenant.org().limits.max_users;
    let member = tenancy::find_member(&mut tenant, &id).await?.ok_or_else(|| ApiError::not_found("member"))?;
    tenant.commit().await?;
    Ok(ApiJson(member_view(member, max_users)))
}

fn member_view(m: tenancy::Member, max_users: i32) -> MemberView {
    MemberView {
        user_id: m.clerk_user_id,
        email: m.email,
        name: m.name,
        role: parse_role(&m.role),
        joined_at: m.joined_at,
        over_limit: m.seat > i64::from(max_users),
    }
}
