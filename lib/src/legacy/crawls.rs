//! Legacy `crawls` → finished crawls of the organization (see the module docs of `legacy`
//! for how they count against the monthly crawl limit).

use std::ops::ControlFlow;

use anyhow::Context;
use serde::Deserialize;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::{Outcome, Progress, Run, TableReport, batch};
use crate::{
    crawl::{self, CrawlOptions, CrawlStatus, FinishedCrawl},
    usage::{self, Metric, Period},
};

/// Rows as JSON, so columns some installs lack (`started_at`, `error`, `max_pages`,
/// `max_depth`) simply read as absent.
const SELECT: &str =
    "SELECT c.id::bigint AS id, to_jsonb(c) AS row FROM crawls c WHERE c.id > $1 ORDER BY c.id LIMIT $2";

/// A legacy crawl row; every column but the id is optional.
#[derive(Debug, Default, Deserialize)]
struct LegacyCrawl {
    root_url: Option<String>,
    status: Option<String>,
    error: Option<String>,
    pages_crawled: Option<i64>,
    max_pages: Option<i64>,
    max_depth: Option<i64>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    created_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    started_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    finished_at: Option<OffsetDateTime>,
}

/// Imports every crawl row not mapped yet; `Break` when progress asked to stop.
pub(super) async fn import(
    run: &Run<'_>,
    legacy: &mut PgConnection,
    report: &mut TableReport,
    progress: &mut dyn Progress,
) -> anyhow::Result<ControlFlow<()>> {
    let mapped = run.mapped("crawls").await?;
    let (mut after, mut done) = (0i64, 0u64);
    let now = OffsetDateTime::now_utc();
    loop {
        let rows: Vec<(i64, serde_json::Value)> =
            batch(legacy, SELECT, after).await.context("reading legacy crawls")?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (id, row) in rows {
            if mapped.contains_key(&id) {
                report.already_imported += 1;
            } else {
                match serde_json::from_value::<LegacyCrawl>(row) {
                    Err(err) => report.fail(id, format!("unreadable row: {err}")),
                    Ok(row) => match finished_crawl(id, &row, now) {
                        Err(reason) => report.fail(id, reason),
                        Ok((crawl, warnings)) => {
                            for w in warnings {
                                report.warn(id, w);
                            }
                            if !run.options.dry_run {
                                insert(run, id, &crawl, row.pages_crawled.unwrap_or(0)).await?;
                            }
                            report.count(Outcome::Imported);
                        }
                    },
                }
            }
            done += 1;
            if progress.update("crawls", done, report.total).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// Records one crawl, its usage when it ran this month, and its map line, in one transaction.
async fn insert(run: &Run<'_>, id: i64, crawl: &FinishedCrawl, pages: i64) -> anyhow::Result<()> {
    let mut tenant = run.tenant().await?;
    let new_id =
        crawl::insert_finished(&mut tenant, crawl).await.with_context(|| format!("importing legacy crawl {id}"))?;
    if Period::containing(crawl.created_at) == Period::current() {
        // Not refused by the limit: the crawl already ran. It still took place this month.
        usage::record(&mut tenant, Metric::Crawls, 1).await?;
        if pages > 0 {
            usage::record(&mut tenant, Metric::PagesCrawled, pages).await?;
        }
    }
    run.record(&mut tenant, "crawls", id, Outcome::Imported, new_id).await?;
    tenant.commit().await?;
    Ok(())
}

/// The finished crawl a legacy row becomes, with warnings for what had to change, or why it
/// cannot be imported.
fn finished_crawl(id: i64, row: &LegacyCrawl, now: OffsetDateTime) -> Result<(FinishedCrawl, Vec<String>), String> {
    let mut warnings = Vec::new();
    let root_url = row.root_url.as_deref().map(str::trim).unwrap_or_default();
    if root_url.is_empty() {
        return Err("no root URL".into());
    }
    if root_url.len() > 2048 {
        return Err(format!("root URL of {} bytes is over the 2048-byte limit", root_url.len()));
    }
    let legacy_status = row.status.as_deref().map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default();
    let pages = row.pages_crawled.unwrap_or(0);
    let origin = format!("imported from the single-tenant install (legacy crawl #{id}, {pages} pages crawled)");
    let error = row.error.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let (status, reason, unfinished) = match legacy_status.as_str() {
        "completed" | "complete" | "done" | "finished" | "" => (CrawlStatus::Completed, origin, false),
        "failed" | "error" => (
            CrawlStatus::Failed,
            format!("{}; {origin}", error.unwrap_or("failed in the single-tenant install")),
            false,
        ),
        "cancelled" | "canceled" => {
            (CrawlStatus::Cancelled, format!("cancelled in the single-tenant install; {origin}"), false)
        }
        "queued" | "running" | "pending" => {
            warnings
                .push(format!("was still {legacy_status} when imported: recorded as cancelled, it will not resume"));
            (
                CrawlStatus::Cancelled,
                format!("still {legacy_status} when imported, so it will not resume; {origin}"),
                true,
            )
        }
        other => {
            warnings.push(format!("unknown status {other:?}: recorded as failed"));
            (CrawlStatus::Failed, format!("legacy status {other:?}; {origin}"), false)
        }
    };
    let reason = match (status, error) {
        // A failure's error is already its reason; keep any other's too.
        (CrawlStatus::Failed, _) | (_, None) => reason,
        (_, Some(e)) => format!("{reason}; error: {e}"),
    };
    let options = CrawlOptions {
        max_pages: bounded(
            row.max_pages,
            crawl::DEFAULT_MAX_PAGES,
            1,
            crawl::MAX_PAGES_LIMIT,
            "max_pages",
            &mut warnings,
        ),
        max_depth: bounded(
            row.max_depth,
            crawl::DEFAULT_MAX_DEPTH,
            0,
            crawl::MAX_DEPTH_LIMIT,
            "max_depth",
            &mut warnings,
        ),
        include_paths: Vec::new(),
        exclude_paths: Vec::new(),
        include_subdomains: false,
        use_sitemap: true,
    };
    let created_at = row.created_at.unwrap_or(now);
    // A legacy crawl ran as soon as it was created, unless it never left the queue.
    let started_at = row.started_at.or((legacy_status != "queued").then_some(created_at));
    let finished_at = row.finished_at.or(unfinished.then_some(now));
    let crawl = FinishedCrawl {
        root_url: root_url.to_owned(),
        options,
        status,
        status_reason: Some(reason),
        created_at,
        started_at,
        finished_at,
    };
    Ok((crawl, warnings))
}

/// A legacy option within the bounds a crawl accepts (clamped with a warning), or the default.
fn bounded(value: Option<i64>, default: i32, min: i32, max: i32, name: &str, warnings: &mut Vec<String>) -> i32 {
    let Some(v) = value else { return default };
    let clamped = v.clamp(i64::from(min), i64::from(max)) as i32;
    if i64::from(clamped) != v {
        warnings.push(format!("{name} {v} is outside {min}–{max}: recorded as {clamped}"));
    }
    clamped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    #[test]
    fn legacy_rows_read_from_json_with_or_without_optional_columns() {
        let row: LegacyCrawl = serde_json::from_value(serde_json::json!({
            "id": 3, "root_url": "https://brand.test/", "status": "completed", "pages_crawled": 100,
            "created_at": "2024-02-01T10:00:00.123456+00:00", "finished_at": null
        }))
        .unwrap();
        assert_eq!(row.created_at, Some(at("2024-02-01T10:00:00.123456Z")));
        assert_eq!((row.started_at, row.error, row.max_pages), (None, None, None));
    }

    #[test]
    fn statuses_map_to_finished_ones_and_times_are_kept() {
        let now = at("2026-11-29T12:00:00Z");
        let created = at("2024-02-01T10:00:00Z");
        let row = |status: &str| LegacyCrawl {
            root_url: Some(" https://brand.test/ ".into()),
            status: Some(status.into()),
            pages_crawled: Some(12),
            created_at: Some(created),
            finished_at: Some(at("2024-02-01T10:05:00Z")),
            ..Default::default()
        };
        let (c, w) = finished_crawl(3, &row("completed"), now).unwrap();
        assert_eq!(
            (c.status, c.root_url.as_str(), c.started_at, w.len()),
            (CrawlStatus::Completed, "https://brand.test/", Some(created), 0)
        );
        assert!(c.status_reason.unwrap().contains("legacy crawl #3, 12 pages crawled"));
        assert_eq!(c.options.max_pages, crawl::DEFAULT_MAX_PAGES);

        let (c, _) =
            finished_crawl(3, &LegacyCrawl { error: Some("DNS failure".into()), ..row("failed") }, now).unwrap();
        assert_eq!(c.status, CrawlStatus::Failed);
        assert!(c.status_reason.unwrap().starts_with("DNS failure; imported"));

        let (c, w) = finished_crawl(3, &LegacyCrawl { finished_at: None, ..row("queued") }, now).unwrap();
        assert_eq!((c.status, c.started_at, c.finished_at, w.len()), (CrawlStatus::Cancelled, None, Some(now), 1));

        let (c, w) = finished_crawl(3, &LegacyCrawl { max_pages: Some(50_000), ..row("weird") }, now).unwrap();
        assert_eq!((c.status, c.options.max_pages, w.len()), (CrawlStatus::Failed, crawl::MAX_PAGES_LIMIT, 2));

        assert!(finished_crawl(3, &LegacyCrawl { root_url: Some("  ".into()), ..row("completed") }, now).is_err());
    }
}
