//! Judging one fetched page: what its outcome is, with a reason, and which links it gives.
//! Pure but CPU-heavy (extraction and chunking): the engine runs it on the blocking pool and
//! writes the result.

use url::Url;
use uuid::Uuid;

use crate::content::chunking::Chunk;

use super::{
    extract::{self, ExtractedPage},
    fetch::{self, FetchError, Fetched, Validators},
    robots::Rules,
    urls::Scope,
};

/// Attempts before a transient failure becomes final.
pub const MAX_ATTEMPTS: i32 = 3;

/// A frontier row claimed by this worker.
#[derive(Clone, Debug)]
pub struct Claimed {
    /// Row id.
    pub id: Uuid,
    /// Normalized URL.
    pub url: Url,
    /// Depth from the root.
    pub depth: i32,
    /// Attempts including this one.
    pub attempts: i32,
    /// Validators of an earlier crawl's fetch, for a conditional request.
    pub validators: Validators,
    /// The item that earlier fetch stored, kept when the page is unchanged.
    pub previous_content: Option<Uuid>,
    /// The links that earlier fetch found, followed again when the page is unchanged.
    pub previous_links: Vec<Url>,
}

/// What became of a page.
#[derive(Debug)]
pub enum Outcome {
    /// Try again later.
    Retry {
        /// Kind, e.g. `timeout`, `http_503`.
        reason: String,
        /// Details.
        detail: String,
    },
    /// Final, without storing anything.
    Done {
        /// Row status (`skipped`, `failed`, `unchanged`).
        status: &'static str,
        /// Kind.
        reason: String,
        /// Details.
        detail: Option<String>,
        /// Item kept for an unchanged page.
        content_id: Option<Uuid>,
    },
    /// Extracted content to store in the library, with its markdown already chunked.
    Store(Box<ExtractedPage>, Vec<Chunk>),
}

/// A judged page.
#[derive(Debug)]
pub struct Processed {
    /// The claimed row.
    pub claimed: Claimed,
    /// The URL that answered, when a redirect moved the page.
    pub moved_to: Option<Url>,
    /// HTTP status of the answer.
    pub http_status: Option<i32>,
    /// `ETag` of the answer.
    pub etag: Option<String>,
    /// `Last-Modified` of the answer.
    pub last_modified: Option<String>,
    /// The outcome.
    pub outcome: Outcome,
    /// Links to consider (already normalized), at depth `claimed.depth + 1`.
    pub links: Vec<Url>,
}

fn done(status: &'static str, reason: &str, detail: Option<String>) -> Outcome {
    Outcome::Done { status, reason: reason.to_owned(), detail, content_id: None }
}

/// A page whose judging failed unexpectedly (a panic in extraction): recorded as failed, so
/// the crawl goes on and the reason shows.
pub fn judging_failed(claimed: Claimed) -> Processed {
    Processed {
        moved_to: None,
        http_status: None,
        etag: None,
        last_modified: None,
        outcome: done("failed", "extraction_failed", Some("the page could not be processed".into())),
        links: Vec::new(),
        claimed,
    }
}

/// Judges the result of fetching `claimed`.
pub fn judge(claimed: Claimed, result: Result<Fetched, FetchError>, rules: &Rules, scope: &Scope) -> Processed {
    let mut processed = Processed {
        moved_to: None,
        http_status: None,
        etag: None,
        last_modified: None,
        outcome: done("failed", "unknown", None),
        links: Vec::new(),
        claimed,
    };
    let fetched = match result {
        Err(err) => {
            processed.outcome = match &err {
                FetchError::RedirectOutOfScope(to) => done("skipped", err.kind(), Some(to.to_string())),
                FetchError::TooLarge(_) => done("skipped", err.kind(), Some(err.to_string())),
                e if e.is_transient() && processed.claimed.attempts < MAX_ATTEMPTS => {
                    Outcome::Retry { reason: err.kind().to_owned(), detail: err.to_string() }
                }
                _ => done("failed", err.kind(), Some(err.to_string())),
            };
            return processed;
        }
        Ok(f) => f,
    };
    let status = fetched.status.as_u16();
    processed.http_status = Some(i32::from(status));
    processed.etag = fetched.etag.clone();
    processed.last_modified = fetched.last_modified.clone();
    if fetched.final_url != processed.claimed.url {
        processed.moved_to = Some(fetched.final_url.clone());
    }
    if status == 304 {
        processed.links = processed.claimed.previous_links.clone();
        processed.outcome = Outcome::Done {
            status: "unchanged",
            reason: "not_modified".into(),
            detail: None,
            content_id: processed.claimed.previous_content,
        };
        return processed;
    }
    if status == 429 || fetched.status.is_server_error() {
        let reason = format!("http_{status}");
        processed.outcome = if processed.claimed.attempts < MAX_ATTEMPTS {
            Outcome::Retry { reason, detail: format!("the server answered HTTP {status}") }
        } else {
            done("failed", &reason, Some(format!("the server answered HTTP {status} {MAX_ATTEMPTS} times")))
        };
        return processed;
    }
    if !fetched.status.is_success() {
        processed.outcome =
            done("failed", &format!("http_{status}"), Some(format!("the server answered HTTP {status}")));
        return processed;
    }
    if !fetched.is_html() {
        processed.outcome = done("skipped", "not_html", fetched.content_type.clone());
        return processed;
    }
    let header_noindex = fetched
        .robots_tag
        .as_deref()
        .is_some_and(|t| extract::has_directive(t, "noindex") || extract::has_directive(t, "none"));
    let header_nofollow = fetched
        .robots_tag
        .as_deref()
        .is_some_and(|t| extract::has_directive(t, "nofollow") || extract::has_directive(t, "none"));
    let html = fetch::decode_html(&fetched.body, fetched.content_type.as_deref());
    let page = match extract::extract(&html, &fetched.final_url) {
        Ok(page) => page,
        Err(too_complex) => {
            processed.outcome = done("skipped", "too_complex", Some(too_complex.to_string()));
            return processed;
        }
    };
    if !(page.nofollow || header_nofollow) {
        processed.links = page.links.clone();
    }
    processed.outcome = if page.noindex || header_noindex {
        done("skipped", "noindex", Some(if header_noindex { "X-Robots-Tag" } else { "meta robots" }.into()))
    } else if page.canonical_url != fetched.final_url
        && scope.check(&page.canonical_url).is_ok()
        && rules.allowed(&page.canonical_url)
    {
        processed.links.push(page.canonical_url.clone());
        done("skipped", "canonical_elsewhere", Some(page.canonical_url.to_string()))
    } else if crate::content::word_count(&page.markdown) == 0 {
        done("skipped", "empty_content", Some("no readable main content".into()))
    } else if page.markdown.len() > crate::content::MAX_MARKDOWN_BYTES {
        done("skipped", "too_large", Some("the extracted text exceeds the library's item size".into()))
    } else {
        let chunks = crate::content::chunking::chunk(&page.markdown);
        Outcome::Store(Box::new(page), chunks)
    };
    processed
}
