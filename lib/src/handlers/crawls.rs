//! Crawls: `POST/GET /api/crawls`, `GET /api/crawls/{id}`, `GET /api/crawls/{id}/pages`,
//! `POST /api/crawls/{id}/cancel`, `GET/PUT /api/crawls/schedule`.

use axum::{extract::Query, http::StatusCode};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    crawl::{self, Crawl, CrawlPage, CrawlRequest, schedule},
    error::ApiError,
    http::{
        App,
        background::Background,
        extract::{InTenant, ResourceId},
        json::ApiJson,
    },
    pagination::{self, Page, PageQuery},
};

fn crawl_id(ResourceId(id): ResourceId) -> Result<Uuid, ApiError> {
    Uuid::parse_str(&id).map_err(|_| ApiError::not_found("crawl"))
}

/// Starts a crawl (202); it keeps running after the response within the invocation's budget
/// (`CRAWL_INVOCATION_SECONDS`, counted from the request), and cron or the local worker
/// carries it on.
pub async fn post_crawl(
    axum::extract::State(app): axum::extract::State<App>,
    background: Background,
    InTenant(mut tenant): InTenant,
    ApiJson(request): ApiJson<CrawlRequest>,
) -> Result<(StatusCode, ApiJson<Crawl>), ApiError> {
    let started = tokio::time::Instant::now();
    let (url, options) = request.validate()?;
    crawl::check_reachable(&app.crawler.fetcher().settings().policy, &url).await?;
    let crawl = crawl::start(&mut tenant, &url, &options, None).await?;
    let org_id = tenant.org().id;
    tenant.commit().await?;
    // The advance after the response shares the invocation's deadline: it claims only batches
    // that finish before it, and is stopped there if anything overruns (its leased pages then
    // return to the queue when their leases expire).
    let deadline = started + app.settings.crawl.invocation_budget;
    let (crawl_id, worker) = (crawl.id, app.clone());
    background.spawn(async move {
        let advance = worker.crawler.advance(&worker.db, org_id, crawl_id, deadline);
        match tokio::time::timeout_at(deadline, advance).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(%crawl_id, "advancing a new crawl failed: {err:#}"),
            Err(_) => tracing::warn!(%crawl_id, "advancing a new crawl was stopped at the invocation's deadline"),
        }
    });
    Ok((StatusCode::ACCEPTED, ApiJson(crawl)))
}

/// The organization's crawls, newest first.
pub async fn list_crawls(
    InTenant(mut tenant): InTenant,
    Query(q): Query<PageQuery>,
) -> Result<ApiJson<Page<Crawl>>, ApiError> {
    let (limit, after) = (q.limit()?, q.after()?);
    let rows = crawl::list(&mut tenant, after, limit + 1).await?;
    tenant.commit().await?;
    Ok(ApiJson(pagination::page(rows, limit, |c| (c.created_at, c.id), |c| c)))
}

/// One crawl with its counts, rate and errors by kind.
pub async fn get_crawl(InTenant(mut tenant): InTenant, id: ResourceId) -> Result<ApiJson<Crawl>, ApiError> {
    let id = crawl_id(id)?;
    let crawl = crawl::get(&mut tenant, id).await?.ok_or_else(|| ApiError::not_found("crawl"))?;
    tenant.commit().await?;
    Ok(ApiJson(crawl))
}

/// A crawl's pages with per-page status and reason, in discovery order.
pub async fn list_crawl_pages(
    InTenant(mut tenant): InTenant,
    id: ResourceId,
    Query(q): Query<PageQuery>,
) -> Result<ApiJson<Page<CrawlPage>>, ApiError> {
    let id = crawl_id(id)?;
    let (limit, after) = (q.limit()?, q.after()?);
    let rows =
        crawl::list_pages(&mut tenant, id, after, limit + 1).await?.ok_or_else(|| ApiError::not_found("crawl"))?;
    tenant.commit().await?;
    Ok(ApiJson(pagination::page(rows, limit, |p| (p.created_at, p.id), |p| p)))
}

/// Cancels a queued or running crawl; 409 `crawl_finished` when it already ended.
pub async fn cancel_crawl(InTenant(mut tenant): InTenant, id: ResourceId) -> Result<ApiJson<Crawl>, ApiError> {
    let id = crawl_id(id)?;
    let crawl = crawl::cancel(&mut tenant, id).await?;
    tenant.commit().await?;
    Ok(ApiJson(crawl))
}

#[derive(Serialize)]
struct ScheduleView {
    schedule: Option<schedule::Schedule>,
}

/// The organization's re-crawl schedule (`{"schedule": null}` when none).
pub async fn get_schedule(InTenant(mut tenant): InTenant) -> Result<ApiJson<impl Serialize>, ApiError> {
    let found = schedule::get(&mut tenant).await?;
    tenant.commit().await?;
    Ok(ApiJson(ScheduleView { schedule: found }))
}

/// Creates or replaces the re-crawl schedule (admins only).
pub async fn put_schedule(
    InTenant(mut tenant): InTenant,
    ApiJson(request): ApiJson<schedule::ScheduleRequest>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    tenant.require_admin()?;
    let saved = schedule::put(&mut tenant, &request).await?;
    tenant.commit().await?;
    Ok(ApiJson(ScheduleView { schedule: Some(saved) }))
}
