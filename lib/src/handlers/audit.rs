//! `GET /api/audit`: the organization's audit log, for its admins. There is no way to change
//! an entry: the endpoint only reads, and the schema allows nothing but inserts.

use axum::extract::Query;
use serde::Deserialize;

use crate::{
    audit::{self, ActionFilter, AuditEntry, AuditFilter},
    error::ApiError,
    http::{extract::InTenant, json::ApiJson},
    pagination::{self, Page, PageQuery},
};

/// Query of the audit list.
#[derive(Deserialize)]
pub struct AuditQuery {
    /// Page size.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `crawl.started` or `crawl.*`.
    pub action: Option<String>,
    /// A Clerk user id, or `system`.
    pub actor: Option<String>,
}

/// Entries newest first, filtered by action and actor; admins only.
pub async fn list_audit(
    InTenant(mut tenant): InTenant,
    Query(q): Query<AuditQuery>,
) -> Result<ApiJson<Page<AuditEntry>>, ApiError> {
    tenant.require_admin()?;
    let page = PageQuery { limit: q.limit, cursor: q.cursor };
    let (limit, after) = (page.limit()?, page.after()?);
    let action = q
        .action
        .map(|a| {
            ActionFilter::parse(&a).ok_or_else(|| {
                ApiError::bad_request("invalid_filter", "action must be like crawl.started or crawl.* (a-z, 0-9, _, .)")
            })
        })
        .transpose()?;
    let actor = q
        .actor
        .map(|a| {
            let ok = (1..=128).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b));
            if ok {
                Ok(a)
            } else {
                Err(ApiError::bad_request("invalid_filter", "actor must be a Clerk user id or system"))
            }
        })
        .transpose()?;
    let rows = audit::list(&mut tenant, &AuditFilter { action, actor }, after, limit + 1).await?;
    tenant.commit().await?;
    Ok(ApiJson(pagination::page(rows, limit, |e| (e.occurred_at, e.id), |e| e)))
}
