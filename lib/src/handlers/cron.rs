//! `GET /api/cron/crawl`: Vercel cron's entry, authenticated by `Bearer $CRON_SECRET`.

use axum::{
    extract::State,
    http::{HeaderMap, header},
};
use subtle::ConstantTimeEq;

use std::time::Duration;

use tokio::time::Instant;

use crate::{
    content::{DrainBudget, DrainReport, drain_outbox},
    crawl::engine::{Deadline, Sweep},
    error::ApiError,
    http::{App, json::ApiJson},
};

/// The share of a cron invocation kept for the vector outbox after the crawls: a quarter of
/// short budgets, at most a minute.
const DRAIN_RESERVE: Duration = Duration::from_secs(60);
/// Time one drain round (claim, one embedding call within the HTTP client's 20 s timeout,
/// the vector write) is given: no round starts with less than this left.
const DRAIN_ROUND: Duration = Duration::from_secs(20);

/// What one cron invocation did.
#[derive(Default, serde::Serialize)]
pub struct CronReport {
    /// Crawls advanced, leases reclaimed, schedules started.
    #[serde(flatten)]
    pub sweep: Sweep,
    /// Vector outbox work done after the crawls (embeddings written, vectors removed).
    pub outbox: DrainReport,
    /// Set when work still running at the invocation's deadline was stopped; its leased
    /// pages and outbox rows return to their queues when their leases expire.
    pub stopped_at_deadline: bool,
}

/// Advances every unfinished crawl across organizations, reclaims expired leases and starts
/// due scheduled re-crawls, then drains the vector outbox so crawled and edited items become
/// searchable without a long-running worker. All of it inside one deadline, the invocation
/// budget (`CRAWL_INVOCATION_SECONDS`, within the function's `maxDuration` less a margin):
/// the crawls claim only batches that finish before the outbox's reserve, the drain starts
/// no round it could not finish, and anything still running at the deadline is stopped.
pub async fn get_cron_crawl(State(app): State<App>, headers: HeaderMap) -> Result<ApiJson<CronReport>, ApiError> {
    authorize(&app, &headers)?;
    let budget = app.settings.crawl.invocation_budget;
    let deadline = Instant::now() + budget;
    let crawls_until = deadline - DRAIN_RESERVE.min(budget / 4);
    let work = async {
        let sweep = app.crawler.advance_all(&app.db, Deadline::at(crawls_until)).await?;
        let time = deadline.saturating_duration_since(Instant::now()).saturating_sub(DRAIN_ROUND);
        let budget = DrainBudget { time, ..DrainBudget::from_settings(&app.settings) };
        let outbox =
            if time.is_zero() { DrainReport::default() } else { drain_outbox(&app.db, &app.retrieval, budget).await? };
        Ok::<_, anyhow::Error>(CronReport { sweep, outbox, stopped_at_deadline: false })
    };
    match tokio::time::timeout_at(deadline, work).await {
        Ok(report) => Ok(ApiJson(report?)),
        Err(_) => {
            tracing::warn!(
                "cron: work still running at the invocation's deadline was stopped; its leased pages \
                 and outbox rows return when their leases expire"
            );
            Ok(ApiJson(CronReport { stopped_at_deadline: true, ..CronReport::default() }))
        }
    }
}

fn authorize(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let denied =
        || ApiError::unauthorized("invalid_cron_secret", "cron calls must carry Authorization: Bearer $CRON_SECRET");
    let Some(secret) = app.settings.cron_secret.as_ref() else {
        return Err(ApiError::unauthorized("cron_not_configured", "CRON_SECRET is not set; cron calls are refused"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(denied)?;
    if bool::from(given.as_bytes().ct_eq(secret.expose().as_bytes())) { Ok(()) } else { Err(denied()) }
}
