//! Re-crawl schedules: one per organization, a root URL crawled daily or weekly. Runs are
//! claimed by the sweep (`next_run_at` moves forward in the claiming statement, so two
//! sweeps never start the same run) and count against the monthly crawl limit.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{CrawlError, CrawlOptions, CrawlRequest, Crawler};
use crate::{
    audit::{self, AuditEvent},
    db::Database,
    tenancy::{System, Tenant},
};

/// How often a schedule runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Every day.
    Daily,
    /// Every seven days.
    Weekly,
}

impl Frequency {
    fn days(self) -> i64 {
        match self {
            Frequency::Daily => 1,
            Frequency::Weekly => 7,
        }
    }
}

/// The schedule as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Schedule {
    /// Root URL.
    #[sqlx(rename = "root_url")]
    pub url: String,
    /// Daily or weekly.
    pub frequency: Frequency,
    /// Whether runs happen.
    pub enabled: bool,
    /// Crawl options of each run.
    #[serde(skip)]
    pub options: Json<CrawlOptions>,
    /// Next run.
    #[serde(with = "time::serde::rfc3339")]
    pub next_run_at: OffsetDateTime,
    /// Last run (started or skipped).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_run_at: Option<OffsetDateTime>,
    /// Crawl the last run started.
    pub last_crawl_id: Option<Uuid>,
    /// Why the last run did not start a crawl, if it did not.
    pub last_skip_reason: Option<String>,
}

/// `PUT /api/crawls/schedule` body.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// Root URL and crawl options, as for a crawl.
    #[serde(flatten)]
    pub crawl: CrawlRequest,
    /// Daily or weekly.
    pub frequency: Frequency,
    /// Default true.
    pub enabled: Option<bool>,
}

const COLUMNS: &str =
    "root_url, frequency, enabled, options, next_run_at, last_run_at, last_crawl_id, last_skip_reason";

/// The organization's schedule, if any.
pub async fn get(tenant: &mut Tenant) -> Result<Option<Schedule>, sqlx::Error> {
    let org_id = tenant.org().id;
    let sql = format!("SELECT {COLUMNS} FROM crawl_schedules WHERE org_id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_optional(tenant.conn()).await
}

/// Creates or replaces the schedule; the first run comes one period from now.
pub async fn put(tenant: &mut Tenant, request: &ScheduleRequest) -> Result<Schedule, CrawlError> {
    let (url, options) = request.crawl.validate()?;
    let org_id = tenant.org().id;
    let enabled = request.enabled.unwrap_or(true);
    let sql = format!(
        "INSERT INTO crawl_schedules (org_id, root_url, options, frequency, enabled, next_run_at, created_by)
         VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 day', $7)
         ON CONFLICT (org_id) DO UPDATE SET root_url = EXCLUDED.root_url, options = EXCLUDED.options,
                frequency = EXCLUDED.frequency, enabled = EXCLUDED.enabled, next_run_at = EXCLUDED.next_run_at,
                updated_at = now()
         RETURNING {COLUMNS}"
    );
    let schedule: Schedule = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org_id)
        .bind(url.as_str())
        .bind(Json(&options))
        .bind(request.frequency)
        .bind(enabled)
        .bind(request.frequency.days() as f64)
        .bind(tenant.user_id())
        .fetch_one(tenant.conn())
        .await?;
    let details = json!({"url": url.as_str(), "frequency": request.frequency, "enabled": enabled});
    audit::record(tenant, AuditEvent::on("crawl_schedule.updated", "crawl_schedule", org_id).with(details)).await?;
    Ok(schedule)
}

/// A claimed scheduled run.
pub struct DueRun {
    org_id: Uuid,
    id: Uuid,
    url: String,
    options: CrawlOptions,
}

/// Claims due runs across organizations, moving each schedule's next run one period on.
pub async fn claim_due(system: &mut System) -> Result<Vec<DueRun>, sqlx::Error> {
    let rows: Vec<(Uuid, Uuid, String, Json<CrawlOptions>)> = sqlx::query_as(
        "WITH due AS (
             SELECT org_id, id FROM crawl_schedules WHERE enabled AND next_run_at <= now()
              ORDER BY next_run_at LIMIT 50 FOR UPDATE SKIP LOCKED)
         UPDATE crawl_schedules s
            SET next_run_at = greatest(s.next_run_at, now())
                              + CASE s.frequency WHEN 'daily' THEN interval '1 day' ELSE interval '7 days' END,
                last_run_at = now(), updated_at = now()
           FROM due WHERE s.org_id = due.org_id AND s.id = due.id
         RETURNING s.org_id, s.id, s.root_url, s.options",
    )
    .fetch_all(system.conn())
    .await?;
    Ok(rows.into_iter().map(|(org_id, id, url, options)| DueRun { org_id, id, url, options: options.0 }).collect())
}

/// Starts a claimed run in its organization, or records why it was skipped. Returns
/// whether a crawl started.
pub async fn run(crawler: &Crawler, db: &Database, due: DueRun) -> anyhow::Result<bool> {
    let Some(mut tenant) = Tenant::for_system(db, due.org_id, "cron: scheduled crawl").await? else {
        return Ok(false);
    };
    let url = super::urls::normalize(&due.url);
    let started = match url {
        Err(e) => Err(CrawlError::InvalidUrl(e.to_string())),
        Ok(url) => match super::check_reachable(&crawler.fetcher().settings().policy, &url).await {
            Err(e) => Err(e),
            Ok(()) => super::start(&mut tenant, &url, &due.options, Some(due.id)).await,
        },
    };
    let (crawl_id, skip) = match started {
        Ok(crawl) => (Some(crawl.id), None),
        Err(CrawlError::Database(e)) => return Err(e.into()),
        Err(other) => (None, Some(other.to_string())),
    };
    if let Some(reason) = &skip {
        // A failed start may have left the transaction unusable for nothing: start afresh.
        drop(tenant);
        tenant = match Tenant::for_system(db, due.org_id, "cron: scheduled crawl skipped").await? {
            Some(t) => t,
            None => return Ok(false),
        };
        audit::record(
            &mut tenant,
            AuditEvent::on("crawl_schedule.skipped", "crawl_schedule", due.org_id).with(json!({"reason": reason})),
        )
        .await?;
    }
    sqlx::query(
        "UPDATE crawl_schedules SET last_crawl_id = coalesce($3, last_crawl_id), last_skip_reason = $4, updated_at = now()
          WHERE org_id = $1 AND id = $2",
    )
    .bind(due.org_id)
    .bind(due.id)
    .bind(crawl_id)
    .bind(skip.as_deref().map(|s| s.chars().take(1024).collect::<String>()))
    .execute(tenant.conn())
    .await?;
    tenant.commit().await?;
    Ok(crawl_id.is_some())
}
