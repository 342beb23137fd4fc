//! The one error type of the API, rendered as `application/problem+json` (RFC 9457).
//!
//! Handlers return `Result<_, ApiError>` and use `?`; the variant decides the status and the
//! stable `code` clients branch on. A 5xx logs its whole cause chain with the request id and
//! sends a generic body, so internals never leak.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::http::request_id;

/// Content type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    retry_after: Option<u64>,
    source: Option<anyhow::Error>,
}

/// The problem document sent to the client.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct Problem {
    /// A URI naming the problem type; `about:blank` as the `code` carries the meaning.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary: the HTTP reason phrase.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Human-readable explanation for this occurrence.
    pub detail: String,
    /// Stable machine-readable code, e.g. `seat_limit_reached`.
    pub code: String,
    /// Id of the request, for support and logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), retry_after: None, source: None }
    }

    /// 400 with a code naming what was wrong with the input.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401: the caller is not authenticated.
    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    /// 404 for a missing object and, identically, for another organization's object.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} was not found"))
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(code: &'static str, detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self { retry_after: Some(retry_after_secs.max(1)), ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, detail) }
    }

    /// 413: the body is larger than the configured cap.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    /// 503: a dependency (the database) is unreachable; the client may retry.
    pub fn unavailable(code: &'static str, detail: impl Into<String>, source: anyhow::Error) -> Self {
        Self { retry_after: Some(2), source: Some(source), ..Self::new(StatusCode::SERVICE_UNAVAILABLE, code, detail) }
    }

    /// 500: a bug or an unexpected failure; the cause is logged, not sent.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "an unexpected error occurred; it has been logged",
            )
        }
    }

    /// The same error with a cause that is logged with it and never sent.
    pub fn with_source(self, source: impl Into<anyhow::Error>) -> Self {
        Self { source: Some(source.into()), ..self }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: "about:blank".into(),
            title: self.status.canonical_reason().unwrap_or("Error").into(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.into(),
            request_id: request_id::current(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        if is_lock_conflict(&err) {
            let mut busy = Self::unavailable(
                "database_busy",
                "the database was busy with a conflicting change; retry",
                err.into(),
            );
            busy.retry_after = Some(1);
            busy
        } else if is_unavailable(&err) {
            Self::unavailable("database_unavailable", "the database is unavailable; try again shortly", err.into())
        } else {
            Self::internal(err)
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<sqlx::Error>() {
            Ok(sql) => sql.into(),
            Err(other) => match other.downcast::<ApiError>() {
                Ok(api) => api,
                Err(other) => Self::internal(other),
            },
        }
    }
}

impl std::error::Error for ApiError {}

/// Whether Postgres aborted the transaction to break a lock cycle (deadlock, serialization
/// failure): nothing of it remains and the same work can simply run again.
pub fn is_lock_conflict(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

/// Whether a database error means "cannot reach the database" rather than "bad query".
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            // Class 08 (connection exception) and 57P0x (admin/crash shutdown, cannot connect now).
            db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P0"))
        }
        _ => false,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            let cause = self.source.as_ref().map(|e| format!("{e:#}")).unwrap_or_default();
            tracing::error!(status = self.status.as_u16(), code = self.code, request_id = ?request_id::current(), cause, "request failed");
        }
        problem_response(&self.problem(), self.retry_after)
    }
}

/// Renders a problem document with its content type (and `Retry-After` when given).
pub fn problem_response(problem: &Problem, retry_after: Option<u64>) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| b"{}".to_vec());
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}
