//! Recording progress: a batch's outcomes (written only under the worker's lease), new
//! library items, the content limit, and the crawl's end.

use std::time::Duration;

use url::Url;
use uuid::Uuid;

use super::{
    CrawlStatus,
    engine::State,
    page::{Outcome, Processed},
    seed, urls,
};
use crate::{
    content::{self, ContentError, NewContent, Source, Stored},
    db::Database,
    tenancy::Tenant,
    usage::{self, Metric},
};

/// Finishes the crawl when no row is queued or leased: `completed` when any page reached
/// the library, else `failed` with the root's reason.
pub(super) async fn finish_if_done(db: &Database, org_id: Uuid, crawl_id: Uuid) -> anyhow::Result<Option<CrawlStatus>> {
    let Some(mut tenant) = Tenant::for_system(db, org_id, "crawl: check completion").await? else {
        return Ok(None);
    };
    let (seeded, status): (bool, CrawlStatus) =
        sqlx::query_as("SELECT seeded, status FROM crawls WHERE org_id = $1 AND id = $2 FOR UPDATE")
            .bind(org_id)
            .bind(crawl_id)
            .fetch_one(tenant.conn())
            .await?;
    if status.is_finished() {
        tenant.commit().await?;
        return Ok(Some(status));
    }
    let (pending, good): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status IN ('queued', 'fetching')),
                count(*) FILTER (WHERE status IN ('stored', 'updated', 'unchanged', 'duplicate'))
           FROM crawl_pages WHERE org_id = $1 AND crawl_id = $2",
    )
    .bind(org_id)
    .bind(crawl_id)
    .fetch_one(tenant.conn())
    .await?;
    if !seeded || pending > 0 {
        tenant.commit().await?;
        return Ok(None);
    }
    let (status, reason) = if good > 0 {
        (CrawlStatus::Completed, None)
    } else {
        let root: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT status, reason, detail FROM crawl_pages WHERE org_id = $1 AND crawl_id = $2
              ORDER BY depth, created_at LIMIT 1",
        )
        .bind(org_id)
        .bind(crawl_id)
        .fetch_optional(tenant.conn())
        .await?;
        let why = root.map_or_else(
            || "no page was found".to_owned(),
            |(s, r, d)| {
                format!(
                    "no page could be stored; the start page was {s}: {}{}",
                    r.unwrap_or_default(),
                    d.map(|d| format!(" ({d})")).unwrap_or_default()
                )
            },
        );
        (CrawlStatus::Failed, Some(why))
    };
    set_finished(&mut tenant, crawl_id, status, reason.as_deref()).await?;
    tenant.commit().await?;
    Ok(Some(status))
}

/// Marks the crawl finished (only from queued or running).
pub(super) async fn set_finished(
    tenant: &mut Tenant,
    crawl_id: Uuid,
    status: CrawlStatus,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    let org_id = tenant.org().id;
    sqlx::query(
        "UPDATE crawls SET status = $3, status_reason = $4, finished_at = now(), updated_at = now()
          WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'running')",
    )
    .bind(org_id)
    .bind(crawl_id)
    .bind(status)
    .bind(reason.map(|r| r.chars().take(1024).collect::<String>()))
    .execute(tenant.conn())
    .await?;
    Ok(())
}

/// Writes a batch's outcomes, only for rows whose lease `token` still holds.
pub(super) async fn write_results(
    db: &Database,
    org_id: Uuid,
    crawl_id: Uuid,
    token: Uuid,
    state: &State,
    processed: Vec<Processed>,
    lease: Duration,
) -> anyhow::Result<CrawlStatus> {
    let Some(mut tenant) = Tenant::for_system(db, org_id, "crawl: record pages").await? else {
        return Ok(CrawlStatus::Cancelled);
    };
    let status: CrawlStatus = sqlx::query_scalar("SELECT status FROM crawls WHERE org_id = $1 AND id = $2 FOR UPDATE")
        .bind(org_id)
        .bind(crawl_id)
        .fetch_one(tenant.conn())
        .await?;
    if status.is_finished() {
        tenant.commit().await?;
        return Ok(status);
    }
    let ids: Vec<Uuid> = processed.iter().map(|p| p.claimed.id).collect();
    let ours: Vec<Uuid> = sqlx::query_scalar(
        "UPDATE crawl_pages SET lease_until = now() + $4 * interval '1 millisecond'
          WHERE org_id = $1 AND crawl_id = $2 AND id = ANY($3) AND lease_token = $5 AND status = 'fetching'
          RETURNING id",
    )
    .bind(org_id)
    .bind(crawl_id)
    .bind(&ids)
    .bind(lease.as_millis() as i64)
    .bind(token)
    .fetch_all(tenant.conn())
    .await?;
    let mut limit_reached = false;
    let mut pages_crawled = 0_i64;
    let mut links: Vec<(Url, i32)> = Vec::new();
    for p in processed.into_iter().filter(|p| ours.contains(&p.claimed.id)) {
        let mut row = p.claimed.id;
        let page_url = p.moved_to.clone().unwrap_or_else(|| p.claimed.url.clone());
        if let Some(to) = &p.moved_to {
            record(&mut tenant, row, "redirected", Some("redirected"), Some(to.as_str()), &p, None).await?;
            let inserted: Option<Uuid> = sqlx::query_scalar(
                "INSERT INTO crawl_pages (org_id, crawl_id, url, path_key, depth, status, lease_token, attempts)
                 VALUES ($1, $2, $3, $4, $5, 'fetching', $6, 1) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(org_id)
            .bind(crawl_id)
            .bind(to.as_str())
            .bind(urls::path_key(to))
            .bind(p.claimed.depth)
            .bind(token)
            .fetch_optional(tenant.conn())
            .await?;
            match inserted {
                Some(id) => row = id,
                // The target is a page of its own in this crawl: it has or gets its outcome there.
                None => continue,
            }
        }
        links.extend(p.links.iter().map(|l| (l.clone(), p.claimed.depth + 1)));
        match &p.outcome {
            Outcome::Retry { reason, detail } => {
                let backoff_ms = 250_i64 << p.claimed.attempts.clamp(0, 8);
                sqlx::query(
                    "UPDATE crawl_pages SET status = 'queued', reason = $3, detail = $4, http_status = $5,
                            lease_token = NULL, lease_until = NULL, updated_at = now(),
                            next_attempt_at = now() + $6 * interval '1 millisecond'
                      WHERE org_id = $1 AND id = $2",
                )
                .bind(org_id)
                .bind(row)
                .bind(reason)
                .bind(truncate(detail))
                .bind(p.http_status)
                .bind(backoff_ms)
                .execute(tenant.conn())
                .await?;
            }
            Outcome::Done { status, reason, detail, content_id } => {
                record(&mut tenant, row, status, Some(reason), detail.as_deref(), &p, *content_id).await?;
            }
            Outcome::Store(..) if limit_reached => {
                record(&mut tenant, row, "skipped", Some("content_limit_reached"), None, &p, None).await?;
            }
            Outcome::Store(extracted, chunks) => {
                pages_crawled += 1;
                let new = NewContent {
                    source: Source::Crawl,
                    crawl_id: Some(crawl_id),
                    url: Some(page_url.to_string()),
                    title: extracted.title.clone(),
                    description: extracted.description.clone(),
                    language: extracted.language.clone(),
                    markdown: extracted.markdown.clone(),
                };
                let stored = content::store_chunked(&mut tenant, new, chunks.clone()).await;
                let (status, reason, detail, content) = match stored {
                    Ok(Stored::Created(item)) => ("stored", None, None, Some(item.id)),
                    Ok(Stored::Updated(item)) => ("updated", None, None, Some(item.id)),
                    Ok(Stored::Unchanged(item)) => ("unchanged", Some("same_content"), None, Some(item.id)),
                    Ok(Stored::Duplicate { existing_id }) => (
                        "duplicate",
                        Some("same_content_as_other_item"),
                        Some(existing_id.to_string()),
                        Some(existing_id),
                    ),
                    Err(ContentError::LimitReached { limit }) => {
                        limit_reached = true;
                        (
                            "skipped",
                            Some("content_limit_reached"),
                            Some(format!("the library holds its limit of {limit} items")),
                            None,
                        )
                    }
                    Err(ContentError::Invalid(why)) => ("failed", Some("invalid_content"), Some(why), None),
                    Err(ContentError::Database(err)) => return Err(err.into()),
                };
                record(&mut tenant, row, status, reason, detail.as_deref(), &p, content).await?;
            }
        }
    }
    if pages_crawled > 0 {
        usage::record(&mut tenant, Metric::PagesCrawled, pages_crawled).await?;
    }
    let mut status = CrawlStatus::Running;
    if limit_reached {
        sqlx::query(
            "UPDATE crawl_pages SET status = 'skipped', reason = 'content_limit_reached', lease_token = NULL,
                    lease_until = NULL, updated_at = now()
              WHERE org_id = $1 AND crawl_id = $2 AND status IN ('queued', 'fetching')",
        )
        .bind(org_id)
        .bind(crawl_id)
        .execute(tenant.conn())
        .await?;
        let limit = tenant.org().limits.max_content_items;
        let reason =
            format!("the library reached its limit of {limit} content items; pages stored before the limit are kept");
        set_finished(&mut tenant, crawl_id, CrawlStatus::ContentLimitReached, Some(&reason)).await?;
        status = CrawlStatus::ContentLimitReached;
    } else {
        seed::discover(&mut tenant, crawl_id, &state.root, &state.options, &state.rules, links).await?;
        sqlx::query("UPDATE crawls SET updated_at = now() WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(crawl_id)
            .execute(tenant.conn())
            .await?;
    }
    tenant.commit().await?;
    Ok(status)
}

/// Records a final outcome on a row and releases its lease.
async fn record(
    tenant: &mut Tenant,
    row: Uuid,
    status: &str,
    reason: Option<&str>,
    detail: Option<&str>,
    p: &Processed,
    content_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let org_id = tenant.org().id;
    let links: Vec<String> = p.links.iter().take(2000).map(|l| l.to_string()).collect();
    sqlx::query(
        "UPDATE crawl_pages SET status = $3, reason = $4, detail = $5, http_status = $6, etag = $7,
                last_modified = $8, content_id = $9, links = $10, fetched_at = CASE WHEN $6::int IS NULL THEN fetched_at ELSE now() END,
                lease_token = NULL, lease_until = NULL, updated_at = now()
          WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(row)
    .bind(status)
    .bind(reason)
    .bind(detail.map(truncate))
    .bind(p.http_status)
    .bind(p.etag.as_deref().map(|e| e.chars().take(512).collect::<String>()))
    .bind(p.last_modified.as_deref().map(|e| e.chars().take(128).collect::<String>()))
    .bind(content_id)
    .bind(&links)
    .execute(tenant.conn())
    .await?;
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(1024).collect()
}
