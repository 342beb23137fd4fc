//! Request ids: taken from a sane `x-request-id` (or Vercel's `x-vercel-id`) or made fresh,
//! echoed in the response, attached to log lines and problem bodies.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// Header carrying the request id both ways.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: assigns the id, runs the rest of the stack inside its scope and log span.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = [&HEADER, &HeaderName::from_static("x-vercel-id")]
        .into_iter()
        .find_map(|name| request.headers().get(name).and_then(|v| v.to_str().ok()).filter(|v| is_sane(v)))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let span =
        tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER.clone(), value);
    }
    response
}

fn is_sane(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_short_plain_ids_are_trusted() {
        assert!(super::is_sane("iad1::abc-123"));
        assert!(!super::is_sane(""));
        assert!(!super::is_sane("a b"));
        assert!(!super::is_sane("<script>"));
        assert!(!super::is_sane(&"x".repeat(200)));
    }
}
