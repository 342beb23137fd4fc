//! `GET /api/cron/crawl`: Vercel cron's entry, authenticated by `Bearer $CRON_SECRET`.

use axum::{
    extract::State,
    http::{HeaderMap, header},
};
use subtle::ConstantTimeEq;

use crate::{
    crawl::engine::Sweep,
    error::ApiError,
    http::{App, json::ApiJson},
};

/// What one cron invocation did.
#[derive(serde::Serialize)]
pub struct CronReport {
    /// Crawls advanced, leases reclaimed, schedules started.
    #[serde(flatten)]
    pub sweep: Sweep,
    /// Vector outbox work done after the crawls (embeddings written, vectors removed).
    pub outbox: crate::content::DrainReport,
}

/// Advances every unfinished crawl across organizations within the invocation's budget,
/// reclaims expired leases and starts due scheduled re-crawls, then drains the vector outbox
/// so crawled and edited items become searchable without a long-running worker.
pub async fn get_cron_crawl(State(app): State<App>, headers: HeaderMap) -> Result<ApiJson<CronReport>, ApiError> {
    authorize(&app, &headers)?;
    let deadline = tokio::time::Instant::now() + app.settings.crawl.invocation_budget;
    let sweep = app.crawler.advance_all(&app.db, deadline).await?;
    let outbox = crate::content::drain_outbox(
        &app.db,
        &app.retrieval,
        crate::content::DrainBudget::from_settings(&app.settings),
    )
    .await?;
    Ok(ApiJson(CronReport { sweep, outbox }))
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
