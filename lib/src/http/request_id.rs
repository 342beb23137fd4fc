//! Request ids: the server's own for every request (Vercel's `x-vercel-id` when the platform
//! set one, else a fresh UUID), echoed in the response and attached to log lines, problem
//! bodies and audit rows. A client's `x-request-id` is kept apart, length-bounded, as
//! `client_request_id`: a caller cannot choose the id under which its actions are logged.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// Header carrying the server's request id in responses, and the client's own in requests.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Header Vercel's edge sets on every request it forwards.
static VERCEL_ID: HeaderName = HeaderName::from_static("x-vercel-id");
/// Longest client or platform id kept.
pub const MAX_ID_LEN: usize = 128;

#[derive(Clone)]
struct Ids {
    server: String,
    client: Option<String>,
}

tokio::task_local! {
    static IDS: Ids;
}

/// The server's id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    IDS.try_with(|ids| ids.server.clone()).ok()
}

/// The id the client sent in `x-request-id` for the request being served, if it was sane.
pub fn client() -> Option<String> {
    IDS.try_with(|ids| ids.client.clone()).ok().flatten()
}

/// Middleware: assigns the ids, runs the rest of the stack inside their scope and log span.
pub async fn assign(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let header =
        |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| is_sane(v)).map(str::to_owned);
    let server = header(&VERCEL_ID).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let client = header(&HEADER);
    let span = tracing::info_span!("request", request_id = %server, client_request_id = client.as_deref(),
        method = %request.method(), path = %request.uri().path());
    let ids = Ids { server: server.clone(), client };
    let mut response = IDS.scope(ids, next.run(request).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&server) {
        response.headers_mut().insert(HEADER.clone(), value);
    }
    response
}

fn is_sane(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b))
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
