//! Retries with exponential backoff for the hosted providers (embeddings, Pinecone): 429 and
//! 5xx and transport failures are retried, other statuses are final.

use std::time::Duration;

/// How many attempts and how long the first pause lasts.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Attempts in total (first try included).
    pub attempts: u32,
    /// Pause after the first failure; doubles each time, capped at 8 s.
    pub base: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { attempts: 4, base: Duration::from_millis(250) }
    }
}

/// A failed call: status (when the server answered) and a bounded excerpt of its body.
#[derive(Debug)]
pub struct CallError {
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// What went wrong, without secrets.
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn retryable(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// Sends the request `build` makes until it succeeds, a final status arrives, or attempts run
/// out; honours `Retry-After` (seconds, capped) on 429. Returns the successful body.
pub async fn send(
    backoff: Backoff,
    what: &str,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<axum::body::Bytes, CallError> {
    let mut pause = backoff.base;
    let mut last = CallError { status: None, message: format!("{what}: not attempted") };
    for attempt in 1..=backoff.attempts.max(1) {
        match build().send().await {
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let body = response.bytes().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(body);
                }
                let excerpt: String = String::from_utf8_lossy(&body).chars().take(300).collect();
                last = CallError { status: Some(status.as_u16()), message: format!("{what}: {excerpt}") };
                if !retryable(status) {
                    return Err(last);
                }
                if let Some(secs) = retry_after {
                    pause = pause.max(Duration::from_secs(secs.min(8)));
                }
            }
            Err(err) => {
                last = CallError { status: None, message: format!("{what}: {}", without_url(&err)) };
            }
        }
        if attempt < backoff.attempts {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(8));
        }
    }
    Err(last)
}

/// The error's text without the URL (which may carry a host users should not see).
fn without_url(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    kind.to_owned()
}
