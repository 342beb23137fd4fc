//! Tenant-scoped crawl operations: start (metered), read with counts, list, cancel.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::types::Json;
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use super::{Crawl, CrawlError, CrawlOptions, CrawlPage, CrawlStatus, PageCounts, urls};
use crate::{
    audit::{self, AuditEvent},
    tenancy::Tenant,
    usage::{self, Metric},
};

#[derive(sqlx::FromRow)]
struct CrawlRow {
    id: Uuid,
    root_url: String,
    status: CrawlStatus,
    status_reason: Option<String>,
    options: Json<CrawlOptions>,
    schedule_id: Option<Uuid>,
    created_at: OffsetDateTime,
    started_at: Option<OffsetDateTime>,
    finished_at: Option<OffsetDateTime>,
}

const CRAWL_COLUMNS: &str =
    "id, root_url, status, status_reason, options, schedule_id, created_at, started_at, finished_at";

/// Starts a crawl of `url`: counts it against the monthly limit in the same statement that
/// checks it (a refused start writes nothing), queues the root, records usage and audit.
pub async fn start(
    tenant: &mut Tenant,
    url: &Url,
    options: &CrawlOptions,
    schedule_id: Option<Uuid>,
) -> Result<Crawl, CrawlError> {
    let org_id = tenant.org().id;
    let limit = tenant.org().limits.max_crawls_per_month;
    if !usage::try_consume(tenant.conn(), org_id, Metric::Crawls, 1, i64::from(limit)).await? {
        return Err(CrawlError::LimitReached { limit });
    }
    let sql = format!(
        "INSERT INTO crawls (org_id, created_by, schedule_id, root_url, options) VALUES ($1, $2, $3, $4, $5)
         RETURNING {CRAWL_COLUMNS}"
    );
    let row: CrawlRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(tenant.user_id())
        .bind(schedule_id)
        .bind(url.as_str())
        .bind(Json(options))
        .fetch_one(tenant.conn())
        .await?;
    sqlx::query("INSERT INTO crawl_pages (org_id, crawl_id, url, path_key, depth) VALUES ($1, $2, $3, $4, 0)")
        .bind(org_id)
        .bind(row.id)
        .bind(url.as_str())
        .bind(urls::path_key(url))
        .execute(tenant.conn())
        .await?;
    usage::record_event(tenant, Metric::Crawls, 1).await?;
    let details = json!({"url": url.as_str(), "options": options, "scheduled": schedule_id.is_some()});
    audit::record(tenant, AuditEvent::on("crawl.started", "crawl", row.id).with(details)).await?;
    Ok(view(row, Vec::new(), 0))
}

/// A crawl that already ran elsewhere (a legacy import), recorded as finished.
#[derive(Clone, Debug)]
pub struct FinishedCrawl {
    /// Root URL as it was crawled.
    pub root_url: String,
    /// Options in force.
    pub options: CrawlOptions,
    /// How it ended (a finished status).
    pub status: CrawlStatus,
    /// Why it ended as it did.
    pub status_reason: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it started.
    pub started_at: Option<OffsetDateTime>,
    /// When it finished.
    pub finished_at: Option<OffsetDateTime>,
}

/// Records a finished crawl with its own times, attributed to the acting member: no frontier,
/// nothing to advance, and no usage (the caller decides what it counts against).
pub async fn insert_finished(tenant: &mut Tenant, crawl: &FinishedCrawl) -> Result<Uuid, sqlx::Error> {
    debug_assert!(crawl.status.is_finished(), "{:?} is not a finished status", crawl.status);
    let org_id = tenant.org().id;
    sqlx::query_scalar(
        "INSERT INTO crawls (org_id, created_by, root_url, options, status, status_reason, seeded, started_at,
                             finished_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8, $9, now()) RETURNING id",
    )
    .bind(org_id)
    .bind(tenant.user_id())
    .bind(&crawl.root_url)
    .bind(Json(&crawl.options))
    .bind(crawl.status)
    .bind(crawl.status_reason.as_ref().map(|r| r.chars().take(1024).collect::<String>()))
    .bind(crawl.started_at)
    .bind(crawl.finished_at)
    .bind(crawl.created_at)
    .fetch_one(tenant.conn())
    .await
}

/// One crawl of the tenant's organization, with its counts.
pub async fn get(tenant: &mut Tenant, id: Uuid) -> Result<Option<Crawl>, sqlx::Error> {
    let org_id = tenant.org().id;
    let sql = format!("SELECT {CRAWL_COLUMNS} FROM crawls WHERE org_id = $1 AND id = $2");
    let Some(row): Option<CrawlRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org_id).bind(id).fetch_optional(tenant.conn()).await?
    else {
        return Ok(None);
    };
    let groups: Vec<(String, Option<String>, bool, i64)> = sqlx::query_as(
        "SELECT status, reason, http_status IS NOT NULL, count(*) FROM crawl_pages
          WHERE org_id = $1 AND crawl_id = $2 GROUP BY 1, 2, 3",
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(tenant.conn())
    .await?;
    let rate: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM crawl_pages WHERE org_id = $1 AND crawl_id = $2 AND fetched_at > now() - interval '1 minute'",
    )
    .bind(org_id)
    .bind(id)
    .fetch_one(tenant.conn())
    .await?;
    Ok(Some(view(row, groups, rate)))
}

fn view(row: CrawlRow, groups: Vec<(String, Option<String>, bool, i64)>, rate: i64) -> Crawl {
    let mut pages = PageCounts::default();
    let mut errors_by_kind = BTreeMap::new();
    let mut skipped_by_reason = BTreeMap::new();
    for (status, reason, fetched, n) in groups {
        pages.discovered += n;
        if fetched {
            pages.fetched += n;
        }
        let reason = reason.unwrap_or_else(|| "unknown".into());
        match status.as_str() {
            "queued" | "fetching" => pages.queued += n,
            "stored" => pages.stored += n,
            "updated" => pages.updated += n,
            "unchanged" => pages.unchanged += n,
            "duplicate" => pages.duplicate += n,
            "failed" => {
                pages.failed += n;
                *errors_by_kind.entry(reason).or_insert(0) += n;
            }
            _ => {
                pages.skipped += n;
                *skipped_by_reason
                    .entry(if status == "redirected" { "redirected".into() } else { reason })
                    .or_insert(0) += n;
            }
        }
    }
    Crawl {
        id: row.id,
        url: row.root_url,
        status: row.status,
        status_reason: row.status_reason,
        options: row.options.0,
        pages,
        pages_per_minute: rate,
        errors_by_kind,
        skipped_by_reason,
        scheduled: row.schedule_id.is_some(),
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
    }
}

/// The organization's crawls, newest first, after the keyset position `after`.
pub async fn list(
    tenant: &mut Tenant,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<Crawl>, sqlx::Error> {
    let org_id = tenant.org().id;
    let sql = format!(
        "SELECT {CRAWL_COLUMNS} FROM crawls
          WHERE org_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
          ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    let rows: Vec<CrawlRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(tenant.conn())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id;
        // Counts per crawl: a page of at most 100 crawls, each an indexed group-by.
        match get(tenant, id).await? {
            Some(crawl) => out.push(crawl),
            None => out.push(view(row, Vec::new(), 0)),
        }
    }
    Ok(out)
}

/// A crawl's pages in discovery order, after the keyset position `after`; `None` when the
/// crawl is not the organization's.
pub async fn list_pages(
    tenant: &mut Tenant,
    crawl_id: Uuid,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Option<Vec<CrawlPage>>, sqlx::Error> {
    let org_id = tenant.org().id;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM crawls WHERE org_id = $1 AND id = $2)")
        .bind(org_id)
        .bind(crawl_id)
        .fetch_one(tenant.conn())
        .await?;
    if !exists {
        return Ok(None);
    }
    let pages = sqlx::query_as(
        "SELECT id, url, depth, status, reason, detail, http_status, attempts, content_id, fetched_at, created_at
           FROM crawl_pages
          WHERE org_id = $1 AND crawl_id = $2 AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4))
          ORDER BY created_at, id LIMIT $5",
    )
    .bind(org_id)
    .bind(crawl_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(tenant.conn())
    .await?;
    Ok(Some(pages))
}

/// Cancels a running or queued crawl: pages not yet fetched are skipped as `cancelled`;
/// items already stored stay.
pub async fn cancel(tenant: &mut Tenant, id: Uuid) -> Result<Crawl, CrawlError> {
    let org_id = tenant.org().id;
    let status: Option<CrawlStatus> =
        sqlx::query_scalar("SELECT status FROM crawls WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind(org_id)
            .bind(id)
            .fetch_optional(tenant.conn())
            .await?;
    match status {
        None => return Err(CrawlError::NotFound),
        Some(s) if s.is_finished() => return Err(CrawlError::AlreadyFinished),
        Some(_) => {}
    }
    sqlx::query(
        "UPDATE crawls SET status = 'cancelled', status_reason = $3, finished_at = now(), updated_at = now()
          WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(format!("cancelled by {}", tenant.actor_label()))
    .execute(tenant.conn())
    .await?;
    sqlx::query(
        "UPDATE crawl_pages SET status = 'skipped', reason = 'cancelled', lease_token = NULL, lease_until = NULL,
                updated_at = now()
          WHERE org_id = $1 AND crawl_id = $2 AND status IN ('queued', 'fetching')",
    )
    .bind(org_id)
    .bind(id)
    .execute(tenant.conn())
    .await?;
    audit::record(tenant, AuditEvent::on("crawl.cancelled", "crawl", id)).await?;
    get(tenant, id).await?.ok_or(CrawlError::NotFound)
}
