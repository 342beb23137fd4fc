//! Legacy `contents` → library items through `content::store`, linked to their imported crawl.

use std::{collections::HashSet, ops::ControlFlow};

use anyhow::Context;
use sqlx::PgConnection;

use super::{Outcome, Progress, Run, TableReport, batch};
use crate::content::{self, ContentError, MAX_MARKDOWN_BYTES, NewContent, Source, Stored};

/// A legacy content row.
#[derive(Debug, sqlx::FromRow)]
struct LegacyContent {
    id: i64,
    crawl_id: Option<i64>,
    url: Option<String>,
    title: Option<String>,
    body: Option<String>,
}

const SELECT: &str = "SELECT id::bigint AS id, crawl_id::bigint AS crawl_id, url, title, body
                        FROM contents WHERE id > $1 ORDER BY id LIMIT $2";

/// Imports every content row not mapped yet, adding the legacy ids it imported (or, in a dry
/// run, would import) to `imported`; `Break` when progress asked to stop.
pub(super) async fn import(
    run: &Run<'_>,
    legacy: &mut PgConnection,
    report: &mut TableReport,
    imported: &mut Vec<i64>,
    progress: &mut dyn Progress,
) -> anyhow::Result<ControlFlow<()>> {
    let mapped = run.mapped("contents").await?;
    // Crawls are imported first, so every crawl that could be is in the map by now.
    let crawls = run.mapped("crawls").await?;
    let mut projection = if run.options.dry_run { Some(Projection::load(run).await?) } else { None };
    let (mut after, mut done) = (0i64, 0u64);
    loop {
        let rows: Vec<LegacyContent> = batch(legacy, SELECT, after).await.context("reading legacy contents")?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            let id = row.id;
            if mapped.contains_key(&id) {
                report.already_imported += 1;
            } else if let Some(item) = prepare(row, report) {
                let crawl_id = match item.legacy_crawl {
                    Some(legacy_crawl) => {
                        let new = crawls.get(&legacy_crawl).copied();
                        if new.is_none() && !run.options.dry_run {
                            report.warn(
                                id,
                                format!(
                                    "legacy crawl #{legacy_crawl} was not imported: the item is linked to no crawl"
                                ),
                            );
                        }
                        new
                    }
                    None => None,
                };
                let new = NewContent { crawl_id, ..item.new };
                let outcome = match &mut projection {
                    Some(p) => p.store(&new, report),
                    None => store(run, id, new, report).await?,
                };
                if outcome == Some(Outcome::Imported) {
                    imported.push(id);
                }
            }
            done += 1;
            if progress.update("contents", done, report.total).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// A legacy row checked and shaped as a new item.
struct Prepared {
    new: NewContent,
    legacy_crawl: Option<i64>,
}

/// Refuses rows that cannot become an item (reported as failed) and shapes the rest.
fn prepare(row: LegacyContent, report: &mut TableReport) -> Option<Prepared> {
    let body = row.body.unwrap_or_default();
    if body.trim().is_empty() {
        report.fail(row.id, "empty text: nothing to import");
        return None;
    }
    if body.len() > MAX_MARKDOWN_BYTES {
        report.fail(
            row.id,
            format!("text of {} bytes is over the {MAX_MARKDOWN_BYTES}-byte limit of a content item", body.len()),
        );
        return None;
    }
    let title = legacy_title(row.title.as_deref(), row.url.as_deref(), &body);
    let new = NewContent {
        source: Source::Import,
        crawl_id: None,
        url: row.url.filter(|u| !u.trim().is_empty()),
        title,
        description: None,
        language: None,
        markdown: body,
    };
    Some(Prepared { new, legacy_crawl: row.crawl_id })
}

/// Stores one item with its map line in one tenant transaction; None when it was refused.
async fn store(run: &Run<'_>, id: i64, new: NewContent, report: &mut TableReport) -> anyhow::Result<Option<Outcome>> {
    let mut tenant = run.tenant().await?;
    let (outcome, new_id) = match content::store(&mut tenant, new).await {
        Ok(Stored::Created(item) | Stored::Updated(item)) => (Outcome::Imported, item.id),
        Ok(Stored::Unchanged(item)) => (Outcome::Duplicate, item.id),
        Ok(Stored::Duplicate { existing_id }) => (Outcome::Duplicate, existing_id),
        Err(ContentError::LimitReached { .. }) => {
            report.refused_by_limits += 1;
            return Ok(None);
        }
        Err(ContentError::Invalid(reason)) => {
            report.fail(id, reason);
            return Ok(None);
        }
        Err(ContentError::Database(err)) => return Err(err).context(format!("importing legacy content {id}")),
    };
    run.record(&mut tenant, "contents", id, outcome, new_id).await?;
    tenant.commit().await?;
    report.count(outcome);
    Ok(Some(outcome))
}

/// Dry run: the library as the run would leave it (hashes held, free item slots).
struct Projection {
    hashes: HashSet<String>,
    free: i64,
}

impl Projection {
    async fn load(run: &Run<'_>) -> anyhow::Result<Self> {
        let mut p = Self { hashes: HashSet::new(), free: i64::from(crate::tenancy::DEFAULT_MAX_CONTENT_ITEMS) };
        if let Some(org_id) = run.org_id {
            let mut tenant = run.tenant().await?;
            p.hashes = sqlx::query_scalar("SELECT content_hash FROM contents WHERE org_id = $1")
                .bind(org_id)
                .fetch_all(tenant.conn())
                .await?
                .into_iter()
                .collect();
            p.free = i64::from(tenant.org().limits.max_content_items) - p.hashes.len() as i64;
        }
        Ok(p)
    }

    fn store(&mut self, new: &NewContent, report: &mut TableReport) -> Option<Outcome> {
        if !self.hashes.insert(content::content_hash(&new.markdown)) {
            report.duplicates += 1;
            Some(Outcome::Duplicate)
        } else if self.free <= 0 {
            report.refused_by_limits += 1;
            None
        } else {
            self.free -= 1;
            report.imported += 1;
            Some(Outcome::Imported)
        }
    }
}

/// A title for a legacy row: its own, else the URL's last path segment, else the text's
/// first line.
fn legacy_title(title: Option<&str>, url: Option<&str>, body: &str) -> String {
    if let Some(t) = title.map(str::trim).filter(|t| !t.is_empty()) {
        return t.chars().take(1024).collect();
    }
    let from_url = url.and_then(|u| url::Url::parse(u).ok()).and_then(|u| {
        u.path_segments()
            .and_then(|mut s| s.rfind(|s| !s.is_empty()).map(str::to_owned))
            .or(u.host_str().map(str::to_owned))
    });
    if let Some(t) = from_url {
        return t;
    }
    let first = body.lines().map(|l| l.trim_start_matches('#').trim()).find(|l| !l.is_empty()).unwrap_or("Untitled");
    first.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::legacy_title;

    #[test]
    fn titles_fall_back_to_the_url_then_the_first_line() {
        assert_eq!(legacy_title(Some(" Pricing "), None, "x"), "Pricing");
        assert_eq!(legacy_title(None, Some("https://acme.test/blog/launch-day/"), "x"), "launch-day");
        assert_eq!(legacy_title(Some(""), Some("https://acme.test/"), "x"), "acme.test");
        assert_eq!(legacy_title(None, None, "\n\n# Our story\nMore"), "Our story");
        assert_eq!(legacy_title(None, None, "   "), "Untitled");
    }
}
