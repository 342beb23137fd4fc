//! The website crawler: crawls are durable jobs in Postgres (`crawls`, with the frontier in
//! `crawl_pages`) that any number of short invocations advance (see [`engine`]). This module
//! holds the crawl's nouns and the tenant-scoped operations the API calls.

pub mod dom;
pub mod engine;
pub mod extract;
pub mod fetch;
pub mod guard;
pub mod page;
mod progress;
pub mod robots;
pub mod schedule;
mod seed;
pub mod sitemap;
mod store;
pub mod urls;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

pub use engine::Crawler;
pub use extract::ExtractedPage;
pub use fetch::{FetchError, Fetcher};
pub use store::{FinishedCrawl, cancel, get, insert_finished, list, list_pages, start};

use crate::error::ApiError;

/// Largest `max_pages` a crawl may ask for.
pub const MAX_PAGES_LIMIT: i32 = 10_000;
/// Default page cap.
pub const DEFAULT_MAX_PAGES: i32 = 500;
/// Largest `max_depth`.
pub const MAX_DEPTH_LIMIT: i32 = 50;
/// Default depth cap (links followed from the root).
pub const DEFAULT_MAX_DEPTH: i32 = 10;

/// A crawl's options as stored; the API's request fields with defaults applied.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CrawlOptions {
    /// Pages fetched at most.
    pub max_pages: i32,
    /// Links followed at most from the root (the root is depth 0).
    pub max_depth: i32,
    /// Path patterns a page must match (empty: all).
    pub include_paths: Vec<String>,
    /// Path patterns that exclude a page; exclusions win.
    pub exclude_paths: Vec<String>,
    /// Crawl subdomains of the root's site too.
    pub include_subdomains: bool,
    /// Seed the frontier from robots.txt sitemaps and /sitemap.xml.
    pub use_sitemap: bool,
}

/// A request to crawl a site, as the API receives it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CrawlRequest {
    /// The root URL.
    pub url: String,
    /// Page cap (1 to 10,000; default 500).
    pub max_pages: Option<i32>,
    /// Depth cap (0 to 50; default 10).
    pub max_depth: Option<i32>,
    /// Include patterns (at most 50).
    pub include_paths: Option<Vec<String>>,
    /// Exclude patterns (at most 50).
    pub exclude_paths: Option<Vec<String>>,
    /// Crawl subdomains too (default false).
    pub include_subdomains: Option<bool>,
    /// Use sitemaps (default true).
    pub use_sitemap: Option<bool>,
}

impl CrawlRequest {
    /// Parses the root URL and applies defaults and bounds to the options.
    pub fn validate(&self) -> Result<(Url, CrawlOptions), CrawlError> {
        let url = urls::normalize(&self.url).map_err(|e| CrawlError::InvalidUrl(e.to_string()))?;
        let max_pages = self.max_pages.unwrap_or(DEFAULT_MAX_PAGES);
        if !(1..=MAX_PAGES_LIMIT).contains(&max_pages) {
            return Err(CrawlError::InvalidOptions(format!("max_pages must be between 1 and {MAX_PAGES_LIMIT}")));
        }
        let max_depth = self.max_depth.unwrap_or(DEFAULT_MAX_DEPTH);
        if !(0..=MAX_DEPTH_LIMIT).contains(&max_depth) {
            return Err(CrawlError::InvalidOptions(format!("max_depth must be between 0 and {MAX_DEPTH_LIMIT}")));
        }
        let patterns = |name: &str, list: &Option<Vec<String>>| -> Result<Vec<String>, CrawlError> {
            let list = list.clone().unwrap_or_default();
            if list.len() > 50 {
                return Err(CrawlError::InvalidOptions(format!("{name} holds more than 50 patterns")));
            }
            if let Some(bad) = list.iter().find(|p| !urls::valid_pattern(p)) {
                return Err(CrawlError::InvalidOptions(format!(
                    "{name}: {bad:?} is not a path pattern (start with / or *, at most 256 characters and 8 *)"
                )));
            }
            Ok(list)
        };
        let options = CrawlOptions {
            max_pages,
            max_depth,
            include_paths: patterns("include_paths", &self.include_paths)?,
            exclude_paths: patterns("exclude_paths", &self.exclude_paths)?,
            include_subdomains: self.include_subdomains.unwrap_or(false),
            use_sitemap: self.use_sitemap.unwrap_or(true),
        };
        Ok((url, options))
    }
}

/// Lifecycle of a crawl.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CrawlStatus {
    /// Created, no page fetched yet.
    Queued,
    /// Being advanced.
    Running,
    /// Every reachable page in scope has an outcome.
    Completed,
    /// Nothing could be stored (the reason says why).
    Failed,
    /// Stopped by a member.
    Cancelled,
    /// Stopped because the library is full; everything stored so far is kept.
    ContentLimitReached,
}

impl CrawlStatus {
    /// Whether the crawl will change no more.
    pub fn is_finished(self) -> bool {
        !matches!(self, CrawlStatus::Queued | CrawlStatus::Running)
    }
}

/// Page counts of a crawl.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PageCounts {
    /// URLs in the frontier (any status).
    pub discovered: i64,
    /// Waiting or being fetched.
    pub queued: i64,
    /// Requests answered (any status code).
    pub fetched: i64,
    /// New items in the library.
    pub stored: i64,
    /// Items updated in place.
    pub updated: i64,
    /// Pages whose content had not changed.
    pub unchanged: i64,
    /// Pages whose content another item already holds.
    pub duplicate: i64,
    /// Left out, with a reason (robots, scope, noindex, not HTML, redirects, …).
    pub skipped: i64,
    /// Failed after retries.
    pub failed: i64,
}

/// A crawl as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Crawl {
    /// Id.
    pub id: Uuid,
    /// Root URL.
    pub url: String,
    /// Lifecycle state.
    pub status: CrawlStatus,
    /// Why it ended as it did.
    pub status_reason: Option<String>,
    /// Options in force.
    pub options: CrawlOptions,
    /// Page counts.
    pub pages: PageCounts,
    /// Pages fetched per minute over the last minute.
    pub pages_per_minute: i64,
    /// Failed pages by reason.
    pub errors_by_kind: BTreeMap<String, i64>,
    /// Skipped pages by reason.
    pub skipped_by_reason: BTreeMap<String, i64>,
    /// Set when a schedule started it.
    pub scheduled: bool,
    /// Created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// First page claimed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// Finished.
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

/// One frontier row as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct CrawlPage {
    /// Row id.
    pub id: Uuid,
    /// Normalized URL.
    pub url: String,
    /// Links from the root.
    pub depth: i32,
    /// `queued`, `fetching`, `stored`, `updated`, `unchanged`, `duplicate`, `redirected`,
    /// `skipped` or `failed`.
    pub status: String,
    /// Machine-readable reason (e.g. `robots_disallowed`, `http_404`, `not_html`).
    pub reason: Option<String>,
    /// Details for people (redirect target, content type, error text).
    pub detail: Option<String>,
    /// HTTP status of the last answer.
    pub http_status: Option<i32>,
    /// Fetch attempts.
    pub attempts: i32,
    /// Library item stored (or matched) for this page.
    pub content_id: Option<Uuid>,
    /// Last fetched.
    #[serde(with = "time::serde::rfc3339::option")]
    pub fetched_at: Option<OffsetDateTime>,
    /// Discovered.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Why a crawl operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// The root URL is unusable.
    #[error("url: {0}")]
    InvalidUrl(String),
    /// An option is out of bounds.
    #[error("{0}")]
    InvalidOptions(String),
    /// The root URL points at a refused address.
    #[error(transparent)]
    Ssrf(#[from] guard::Blocked),
    /// The monthly crawl limit is used up.
    #[error(
        "this organization has started its {limit} crawls for this month; the limit resets on the first of next month"
    )]
    LimitReached {
        /// max_crawls_per_month.
        limit: i32,
    },
    /// No such crawl in the organization.
    #[error("crawl not found")]
    NotFound,
    /// The crawl already ended.
    #[error("the crawl has already finished")]
    AlreadyFinished,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<CrawlError> for ApiError {
    fn from(err: CrawlError) -> Self {
        match err {
            CrawlError::InvalidUrl(_) => ApiError::bad_request("invalid_url", err.to_string()),
            CrawlError::InvalidOptions(_) => ApiError::bad_request("invalid_crawl_options", err.to_string()),
            CrawlError::Ssrf(_) => ApiError::bad_request("ssrf_blocked", err.to_string()),
            CrawlError::LimitReached { .. } => ApiError::forbidden("crawl_limit_reached", err.to_string()),
            CrawlError::NotFound => ApiError::not_found("crawl"),
            CrawlError::AlreadyFinished => ApiError::conflict("crawl_finished", err.to_string()),
            CrawlError::Database(db) => db.into(),
        }
    }
}

/// Checks that `url`'s host is a name or address the guard allows, resolving names once.
pub async fn check_reachable(policy: &guard::Policy, url: &Url) -> Result<(), CrawlError> {
    policy.check_url(url)?;
    if let Some(url::Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((name, port))
            .await
            .map_err(|_| CrawlError::InvalidUrl(format!("the host {name} could not be resolved")))?
            .collect();
        let mut refusal = None;
        if !addrs.iter().any(|a| policy.check(*a).map_err(|b| refusal = Some(b)).is_ok()) {
            return Err(match refusal {
                Some(blocked) => CrawlError::Ssrf(blocked),
                None => CrawlError::InvalidUrl(format!("the host {name} has no address")),
            });
        }
    }
    Ok(())
}

/// Fetches one page through the crawler's guarded client and extracts it, for adding a
/// single URL to the library (`POST /api/contents {url}`). No robots.txt or crawl scope
/// applies; redirects stay on http(s) and pass the SSRF guard.
pub async fn fetch_and_extract(fetcher: &Fetcher, url: &str) -> Result<ExtractedPage, FetchPageError> {
    let url = urls::normalize(url).map_err(|e| FetchPageError::InvalidUrl(e.to_string()))?;
    let fetched = fetcher.fetch(&url, fetch::Want::Html, &fetch::Validators::default(), &|_| true).await?;
    if !fetched.status.is_success() {
        return Err(FetchPageError::Status(fetched.status.as_u16()));
    }
    if !fetched.is_html() {
        return Err(FetchPageError::NotHtml(fetched.content_type.unwrap_or_default()));
    }
    let html = fetch::decode_html(&fetched.body, fetched.content_type.as_deref());
    let final_url = fetched.final_url;
    let page = tokio::task::spawn_blocking(move || extract::extract(&html, &final_url))
        .await
        .map_err(|e| FetchPageError::Fetch(FetchError::Connect(format!("extraction failed: {e}"))))?
        .map_err(FetchPageError::TooComplex)?;
    if page.markdown.trim().is_empty() {
        return Err(FetchPageError::Empty);
    }
    Ok(page)
}

/// Why [`fetch_and_extract`] produced no page.
#[derive(Debug, thiserror::Error)]
pub enum FetchPageError {
    /// Not an http(s) URL.
    #[error("url: {0}")]
    InvalidUrl(String),
    /// Fetching failed (`kind()` gives `ssrf_blocked`, `timeout`, `too_large`, …).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The server answered with an error status.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// Not an HTML page.
    #[error("the URL is not an HTML page ({0})")]
    NotHtml(String),
    /// No main content found.
    #[error("no readable content was found on the page")]
    Empty,
    /// The page would build more elements, or nest them deeper, than extraction allows.
    #[error(transparent)]
    TooComplex(dom::TooComplex),
}
