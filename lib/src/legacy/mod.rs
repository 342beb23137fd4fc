//! `voiceforge import-legacy`: moves a single-tenant VoiceForge database (docs/legacy-schema.sql)
//! into one organization without losing anything.
//!
//! The legacy database is read in a read-only transaction per batch and never written. Each
//! legacy row is imported in its own tenant transaction together with its line in
//! `legacy_import_map`, so a second run adds nothing and an interrupted run resumes where it
//! stopped. Rows go through the normal pipeline (`content::store`: dedup, limits, chunking),
//! and whatever does not fit is reported with its reason, never dropped silently.

use std::{collections::HashSet, ops::ControlFlow, str::FromStr};

use anyhow::Context;
use serde::Serialize;
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use uuid::Uuid;

use crate::{
    auth::{Identity, Role},
    content::{self, ContentError, MAX_MARKDOWN_BYTES, NewContent, Source, Stored},
    db::Database,
    tenancy::{self, Tenant},
};

/// Rows read from the legacy database per query.
const BATCH: i64 = 200;

/// What to import, into which organization.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// URL of the legacy database (read only).
    pub from: String,
    /// Clerk id of the target organization; created when missing.
    pub org: String,
    /// Clerk id of the user the imported items are attributed to (made an admin member).
    pub created_by: Option<String>,
    /// Report counts and problems without writing anything.
    pub dry_run: bool,
}

/// The outcome for one legacy table.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TableReport {
    /// Legacy table name.
    pub table: &'static str,
    /// Rows in the legacy table.
    pub total: u64,
    /// Imported by this run.
    pub imported: u64,
    /// Imported by an earlier run (found in the import map).
    pub already_imported: u64,
    /// Same content as an item already in the organization (mapped to it).
    pub duplicates: u64,
    /// Refused by the organization's limits; the next run retries them.
    pub refused_by_limits: u64,
    /// Carried by another row: chunks are re-made from their content by the pipeline.
    pub rebuilt: u64,
    /// Rows that could not be imported, with the reason.
    pub failed: Vec<FailedRow>,
}

/// A legacy row that could not be imported.
#[derive(Clone, Debug, Serialize)]
pub struct FailedRow {
    /// Its legacy id.
    pub legacy_id: i64,
    /// Why.
    pub reason: String,
}

/// The whole import's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    /// Whether anything was written.
    pub dry_run: bool,
    /// One entry per legacy table, in import order.
    pub tables: Vec<TableReport>,
    /// Whether the run stopped early (interrupted); run again to resume.
    pub interrupted: bool,
}

/// Receives progress; returning `Break` stops the import after the current row (as an
/// interruption would), leaving everything done so far committed.
pub trait Progress {
    /// `done` of `total` rows of `table` are handled.
    fn update(&mut self, table: &str, done: u64, total: u64) -> ControlFlow<()>;
}

/// Ignores progress.
pub struct Quiet;

impl Progress for Quiet {
    fn update(&mut self, _: &str, _: u64, _: u64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// A legacy content row.
#[derive(Debug, sqlx::FromRow)]
struct LegacyContent {
    id: i32,
    url: Option<String>,
    title: Option<String>,
    body: Option<String>,
}

/// Imports the legacy database described by `options` (see the module docs).
pub async fn import(
    db: &Database,
    options: &ImportOptions,
    progress: &mut dyn Progress,
) -> anyhow::Result<ImportReport> {
    let legacy_options = PgConnectOptions::from_str(&options.from)
        .context("--from is not a valid Postgres URL")?
        // Belt and braces: the server itself refuses writes on this session.
        .options([("default_transaction_read_only", "on")])
        .application_name("voiceforge import-legacy");
    let source = source_label(&legacy_options);
    let mut legacy = PgConnection::connect_with(&legacy_options).await.context("connecting to the legacy database")?;

    let org_id = if options.dry_run {
        tenancy::find_organization(db, &options.org).await?
    } else {
        Some(tenancy::ensure_organization(db, &options.org).await?)
    };

    let mut contents = TableReport { table: "contents", ..Default::default() };
    let mut chunks = TableReport { table: "content_chunks", ..Default::default() };
    contents.total = count(&mut legacy, "contents").await?;
    chunks.total = count(&mut legacy, "content_chunks").await?;

    let mut interrupted = false;
    let mut state = Run::new(db, options, org_id, &source).await?;
    let mut after = 0i32;
    let mut done = 0u64;
    'batches: loop {
        let rows: Vec<LegacyContent> = read_only(&mut legacy, |conn| {
            Box::pin(async move {
                sqlx::query_as("SELECT id, url, title, body FROM contents WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after)
                    .bind(BATCH)
                    .fetch_all(conn)
                    .await
            })
        })
        .await
        .context("reading legacy contents")?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            state.content(row, &mut contents).await?;
            done += 1;
            if progress.update("contents", done, contents.total).is_break() {
                interrupted = true;
                break 'batches;
            }
        }
    }
    // Chunks are not copied: the pipeline re-chunks (and re-embeds) each imported item, so
    // every legacy chunk is carried by its content row.
    chunks.rebuilt = chunks.total;
    let _ = progress.update("content_chunks", chunks.total, chunks.total);

    Ok(ImportReport { dry_run: options.dry_run, tables: vec![contents, chunks], interrupted })
}

/// Runs `f` in a read-only transaction of the legacy connection, rolled back afterwards.
async fn read_only<T>(
    conn: &mut PgConnection,
    f: impl for<'c> FnOnce(&'c mut PgConnection) -> futures_util::future::BoxFuture<'c, Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::raw_sql("SET TRANSACTION READ ONLY").execute(&mut *tx).await?;
    let out = f(&mut tx).await;
    tx.rollback().await?;
    out
}

async fn count(legacy: &mut PgConnection, table: &'static str) -> anyhow::Result<u64> {
    let sql = match table {
        "contents" => "SELECT count(*) FROM contents",
        _ => "SELECT count(*) FROM content_chunks",
    };
    let n: i64 = read_only(legacy, |c| Box::pin(async move { sqlx::query_scalar(sql).fetch_one(c).await }))
        .await
        .with_context(|| format!("counting legacy {table}"))?;
    Ok(n.max(0) as u64)
}

/// `host:port/database` of the legacy database: stable across runs, free of credentials.
fn source_label(options: &PgConnectOptions) -> String {
    format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or(""))
}

/// Per-run state: the target organization, what earlier runs mapped, and (for a dry run)
/// the projected library.
struct Run<'a> {
    db: &'a Database,
    options: &'a ImportOptions,
    org_id: Option<Uuid>,
    source: &'a str,
    mapped: HashSet<i64>,
    /// Dry run: hashes the library would hold, and free item slots.
    projected_hashes: HashSet<String>,
    projected_free: i64,
}

impl<'a> Run<'a> {
    async fn new(
        db: &'a Database,
        options: &'a ImportOptions,
        org_id: Option<Uuid>,
        source: &'a str,
    ) -> anyhow::Result<Self> {
        let mut run = Self {
            db,
            options,
            org_id,
            source,
            mapped: HashSet::new(),
            projected_hashes: HashSet::new(),
            projected_free: i64::from(crate::tenancy::DEFAULT_MAX_CONTENT_ITEMS),
        };
        if let Some(org_id) = org_id {
            let mut tenant = run.tenant(org_id).await?;
            run.mapped = sqlx::query_scalar(
                "SELECT legacy_id FROM legacy_import_map WHERE org_id = $1 AND source = $2 AND legacy_table = 'contents'",
            )
            .bind(org_id)
            .bind(source)
            .fetch_all(tenant.conn())
            .await?
            .into_iter()
            .collect();
            if options.dry_run {
                run.projected_hashes = sqlx::query_scalar("SELECT content_hash FROM contents WHERE org_id = $1")
                    .bind(org_id)
                    .fetch_all(tenant.conn())
                    .await?
                    .into_iter()
                    .collect();
                let limit = i64::from(tenant.org().limits.max_content_items);
                run.projected_free = limit - run.projected_hashes.len() as i64;
            }
        }
        Ok(run)
    }

    async fn tenant(&self, org_id: Uuid) -> anyhow::Result<Tenant> {
        match &self.options.created_by {
            Some(user) => {
                let identity = Identity {
                    user_id: user.clone(),
                    session_id: "import-legacy".into(),
                    org_id: self.options.org.clone(),
                    org_slug: None,
                    org_name: None,
                    role: Role::Admin,
                    issuer: "import-legacy".into(),
                };
                Ok(Tenant::begin(self.db, &identity).await?)
            }
            None => Tenant::for_system(self.db, org_id, "import-legacy")
                .await?
                .context("the organization disappeared during the import"),
        }
    }

    async fn content(&mut self, row: LegacyContent, report: &mut TableReport) -> anyhow::Result<()> {
        let id = i64::from(row.id);
        if self.mapped.contains(&id) {
            report.already_imported += 1;
            return Ok(());
        }
        let body = row.body.unwrap_or_default();
        if body.trim().is_empty() {
            report.failed.push(FailedRow { legacy_id: id, reason: "empty text: nothing to import".into() });
            return Ok(());
        }
        if body.len() > MAX_MARKDOWN_BYTES {
            report.failed.push(FailedRow {
                legacy_id: id,
                reason: format!(
                    "text of {} bytes is over the {MAX_MARKDOWN_BYTES}-byte limit of a content item",
                    body.len()
                ),
            });
            return Ok(());
        }
        let title = legacy_title(row.title.as_deref(), row.url.as_deref(), &body);
        let url = row.url.filter(|u| !u.trim().is_empty());

        if self.options.dry_run {
            let hash = content::content_hash(&body);
            if !self.projected_hashes.insert(hash) {
                report.duplicates += 1;
            } else if self.projected_free <= 0 {
                report.refused_by_limits += 1;
            } else {
                self.projected_free -= 1;
                report.imported += 1;
            }
            return Ok(());
        }

        let org_id = self.org_id.context("no target organization")?;
        let mut tenant = self.tenant(org_id).await?;
        let new = NewContent {
            source: Source::Import,
            crawl_id: None,
            url,
            title,
            description: None,
            language: None,
            markdown: body,
        };
        let (outcome, new_id) = match content::store(&mut tenant, new).await {
            Ok(Stored::Created(item) | Stored::Updated(item)) => ("imported", item.id),
            Ok(Stored::Unchanged(item)) => ("duplicate", item.id),
            Ok(Stored::Duplicate { existing_id }) => ("duplicate", existing_id),
            Err(ContentError::LimitReached { .. }) => {
                report.refused_by_limits += 1;
                return Ok(());
            }
            Err(ContentError::Invalid(reason)) => {
                report.failed.push(FailedRow { legacy_id: id, reason });
                return Ok(());
            }
            Err(ContentError::Database(err)) => return Err(err).context(format!("importing legacy content {id}")),
        };
        sqlx::query(
            "INSERT INTO legacy_import_map (org_id, source, legacy_table, legacy_id, outcome, new_id)
             VALUES ($1, $2, 'contents', $3, $4, $5)",
        )
        .bind(org_id)
        .bind(self.source)
        .bind(id)
        .bind(outcome)
        .bind(new_id)
        .execute(tenant.conn())
        .await?;
        tenant.commit().await?;
        self.mapped.insert(id);
        if outcome == "imported" {
            report.imported += 1;
        } else {
            report.duplicates += 1;
        }
        Ok(())
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
