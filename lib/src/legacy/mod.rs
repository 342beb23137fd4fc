//! `voiceforge import-legacy`: moves a single-tenant VoiceForge database (docs/legacy-schema.sql)
//! into one organization without losing anything.
//!
//! The legacy database is read in a read-only transaction per batch and never written. Each
//! legacy row is imported in its own tenant transaction together with its line in
//! `legacy_import_map`, so a second run adds nothing and an interrupted run resumes where it
//! stopped. Tables go in dependency order: crawls, then contents (linked to their imported
//! crawl), then templates. Whatever does not fit is reported with its reason, never dropped
//! silently; whatever was changed to fit is reported as a warning.
//!
//! - **Crawls** become finished crawls with their own times, options and status (a crawl the
//!   legacy install left queued or running is recorded as cancelled). They ran before the
//!   import, so they are never refused by the monthly crawl limit; one created in the current
//!   UTC month counts towards this month's usage (it did take place this month), older ones
//!   count towards nothing.
//! - **Contents** go through the normal pipeline (`content::store`: dedup, limits, chunking);
//!   chunks are re-made from their content, so the legacy chunks of the contents a run
//!   imported are reported as rebuilt (those of refused or duplicate rows are not).
//! - **Templates** go through `generate::templates` validation. Fields are derived from the
//!   valid `{{placeholders}}`; malformed ones are escaped so they render literally. A name
//!   the organization already uses (the built-ins are given first, as the first listing
//!   would) gets an " (imported)" suffix; a template equal to one already there is mapped to it.

mod contents;
mod crawls;
mod templates;

use std::{collections::HashMap, ops::ControlFlow, str::FromStr};

use anyhow::Context;
use serde::Serialize;
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use uuid::Uuid;

use crate::{
    auth::{Identity, Role},
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
    /// Same as an object already in the organization (mapped to it).
    pub duplicates: u64,
    /// Refused by the organization's limits; the next run retries them.
    pub refused_by_limits: u64,
    /// Chunks of the contents this run imported, which the pipeline re-made from their text.
    pub rebuilt: u64,
    /// Rows that could not be imported, with the reason.
    pub failed: Vec<FailedRow>,
    /// Rows imported with a change worth knowing about (renamed, escaped, re-labelled).
    pub warnings: Vec<RowWarning>,
}

impl TableReport {
    fn new(table: &'static str) -> Self {
        Self { table, ..Default::default() }
    }

    fn fail(&mut self, legacy_id: i64, reason: impl Into<String>) {
        self.failed.push(FailedRow { legacy_id, reason: reason.into() });
    }

    fn warn(&mut self, legacy_id: i64, message: impl Into<String>) {
        self.warnings.push(RowWarning { legacy_id, message: message.into() });
    }

    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Imported => self.imported += 1,
            Outcome::Duplicate => self.duplicates += 1,
        }
    }
}

/// A legacy row that could not be imported.
#[derive(Clone, Debug, Serialize)]
pub struct FailedRow {
    /// Its legacy id.
    pub legacy_id: i64,
    /// Why.
    pub reason: String,
}

/// A legacy row imported with a change.
#[derive(Clone, Debug, Serialize)]
pub struct RowWarning {
    /// Its legacy id.
    pub legacy_id: i64,
    /// What changed and why.
    pub message: String,
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

impl ImportReport {
    /// The entry for a legacy table.
    pub fn table(&self, table: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == table)
    }
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
    let run = Run { db, options, org_id, source: &source };

    let mut crawls = TableReport::new("crawls");
    let mut contents = TableReport::new("contents");
    let mut chunks = TableReport::new("content_chunks");
    let mut templates = TableReport::new("marketing_templates");
    for t in [&mut crawls, &mut contents, &mut chunks, &mut templates] {
        t.total = count(&mut legacy, t.table).await?;
    }

    let mut interrupted = crawls::import(&run, &mut legacy, &mut crawls, progress).await?.is_break();
    let mut imported = Vec::new();
    if !interrupted {
        interrupted = contents::import(&run, &mut legacy, &mut contents, &mut imported, progress).await?.is_break();
    }
    if !interrupted {
        // Chunks are not copied: the pipeline re-chunks (and re-embeds) each item this run
        // imported, so those items' legacy chunks are rebuilt; the rest (duplicates, refused,
        // failed or imported before) are not.
        chunks.rebuilt = chunks_of(&mut legacy, &imported).await?;
        let _ = progress.update("content_chunks", chunks.total, chunks.total);
        interrupted = templates::import(&run, &mut legacy, &mut templates, progress).await?.is_break();
    }

    Ok(ImportReport { dry_run: options.dry_run, tables: vec![crawls, contents, chunks, templates], interrupted })
}

/// Reads the next batch of a legacy table after the id `after`; `sql` takes `$1` (after)
/// and `$2` (limit) and returns rows keyed by a bigint `id`.
async fn batch<T>(legacy: &mut PgConnection, sql: &'static str, after: i64) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin + 'static,
{
    read_only(legacy, |conn| Box::pin(async move { sqlx::query_as(sql).bind(after).bind(BATCH).fetch_all(conn).await }))
        .await
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
        "crawls" => "SELECT count(*) FROM crawls",
        "contents" => "SELECT count(*) FROM contents",
        "content_chunks" => "SELECT count(*) FROM content_chunks",
        _ => "SELECT count(*) FROM marketing_templates",
    };
    let n: i64 = read_only(legacy, |c| Box::pin(async move { sqlx::query_scalar(sql).fetch_one(c).await }))
        .await
        .with_context(|| format!("counting legacy {table}"))?;
    Ok(n.max(0) as u64)
}

/// How many legacy chunks belong to the legacy contents `ids`.
async fn chunks_of(legacy: &mut PgConnection, ids: &[i64]) -> anyhow::Result<u64> {
    let ids = ids.to_vec();
    let n: i64 = read_only(legacy, move |c| {
        Box::pin(async move {
            sqlx::query_scalar("SELECT count(*) FROM content_chunks WHERE content_id::bigint = ANY($1)")
                .bind(&ids)
                .fetch_one(c)
                .await
        })
    })
    .await
    .context("counting the legacy chunks of the imported contents")?;
    Ok(n.max(0) as u64)
}

/// `host:port/database` of the legacy database: stable across runs, free of credentials.
fn source_label(options: &PgConnectOptions) -> String {
    format!("{}:{}/{}", options.get_host(), options.get_port(), options.get_database().unwrap_or(""))
}

/// What a legacy row became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// A new object.
    Imported,
    /// An object already in the organization.
    Duplicate,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Imported => "imported",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// The target of one run.
struct Run<'a> {
    db: &'a Database,
    options: &'a ImportOptions,
    /// None only for a dry run into an organization that does not exist yet.
    org_id: Option<Uuid>,
    source: &'a str,
}

impl Run<'_> {
    /// A tenant transaction on the target organization, acting as `--created-by` when given.
    async fn tenant(&self) -> anyhow::Result<Tenant> {
        let org_id = self.org_id.context("no target organization")?;
        match &self.options.created_by {
            Some(user) => {
                let identity = Identity {
                    user_id: user.clone(),
                    session_id: "import-legacy".into(),
                    org_id: self.options.org.clone(),
                    org_slug: None,
                    org_name: None,
                    role: Role::Admin,
                    issuer: crate::tenancy::OPERATOR_ISSUER.into(),
                };
                Ok(Tenant::begin(self.db, &identity).await?)
            }
            None => Tenant::for_system(self.db, org_id, "import-legacy")
                .await?
                .context("the organization disappeared during the import"),
        }
    }

    /// Legacy ids of `table` mapped by earlier runs, with what they became.
    async fn mapped(&self, table: &'static str) -> anyhow::Result<HashMap<i64, Uuid>> {
        let Some(org_id) = self.org_id else { return Ok(HashMap::new()) };
        let mut tenant = self.tenant().await?;
        let rows: Vec<(i64, Uuid)> = sqlx::query_as(
            "SELECT legacy_id, new_id FROM legacy_import_map WHERE org_id = $1 AND source = $2 AND legacy_table = $3",
        )
        .bind(org_id)
        .bind(self.source)
        .bind(table)
        .fetch_all(tenant.conn())
        .await
        .with_context(|| format!("reading the import map of {table}"))?;
        Ok(rows.into_iter().collect())
    }

    /// Records what a legacy row became, in the transaction that made it.
    async fn record(
        &self,
        tenant: &mut Tenant,
        table: &'static str,
        legacy_id: i64,
        outcome: Outcome,
        new_id: Uuid,
    ) -> Result<(), sqlx::Error> {
        let org_id = tenant.org().id;
        sqlx::query(
            "INSERT INTO legacy_import_map (org_id, source, legacy_table, legacy_id, outcome, new_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org_id)
        .bind(self.source)
        .bind(table)
        .bind(legacy_id)
        .bind(outcome.as_str())
        .bind(new_id)
        .execute(tenant.conn())
        .await?;
        Ok(())
    }
}
