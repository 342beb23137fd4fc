//! A loopback HTTP server that answers each request either normally (from a handler, or by
//! forwarding it to an upstream such as the fake Pinecone) or with a scripted fault: an
//! error status with or without `Retry-After`, a stall past the client's timeout, a 200 with
//! malformed JSON, or a hold until the test releases it. Every request is logged with its
//! time and what it got, so tests can count fetches and measure backoff from the server side.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use tokio::{sync::watch, time::Instant};

/// What one request gets.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// The normal answer.
    Pass,
    /// This status with a JSON error body, and `Retry-After: secs` when given.
    Status(u16, Option<u64>),
    /// The normal answer, but only after this long (past the client's timeout).
    Stall(Duration),
    /// 200 with a body that is not the JSON the client expects.
    Malformed,
    /// No answer until [`FaultServer::release`].
    Hold,
    /// The normal work is done (forwarded upstream) but the answer is kept until
    /// [`FaultServer::release`]: the client dies not knowing its write landed.
    HoldAnswer,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Path and query.
    pub path: String,
    /// When it arrived.
    pub at: Instant,
    /// Its body.
    pub body: Bytes,
}

/// Answers a request normally: method, path and query, headers, body.
pub type Handler = Arc<dyn Fn(&Method, &str, &HeaderMap, &Bytes) -> Response + Send + Sync>;

/// Where normal answers come from.
#[derive(Clone)]
pub enum Upstream {
    /// Computed in the test process.
    Handler(Handler),
    /// Forwarded to this base URL (method, path, query, headers and body kept).
    Proxy(String),
}

#[derive(Default)]
struct Plan {
    script: VecDeque<Fault>,
    otherwise: Option<Fault>,
    log: Vec<Seen>,
    held: usize,
}

#[derive(Clone)]
struct Shared {
    plan: Arc<Mutex<Plan>>,
    upstream: Upstream,
    open: watch::Receiver<bool>,
    http: reqwest::Client,
}

/// The server; cheap to clone.
#[derive(Clone)]
pub struct FaultServer {
    /// `http://127.0.0.1:port`.
    pub url: String,
    plan: Arc<Mutex<Plan>>,
    gate: Arc<watch::Sender<bool>>,
}

impl FaultServer {
    /// Starts a server answering from `upstream` until told otherwise.
    pub async fn start(upstream: Upstream) -> Self {
        voiceforge::http::install_crypto_provider();
        let plan = Arc::new(Mutex::new(Plan::default()));
        let (gate, open) = watch::channel(true);
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let shared = Shared { plan: plan.clone(), upstream, open, http };
        let app = Router::new().fallback(handle).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, plan, gate: Arc::new(gate) }
    }

    /// The next requests get `script` in order, and every later one `otherwise` (normal
    /// answers when `None`). Closes the gate when a hold is planned.
    pub fn plan(&self, script: impl IntoIterator<Item = Fault>, otherwise: Option<Fault>) {
        let mut plan = self.plan.lock().unwrap();
        plan.script = script.into_iter().collect();
        plan.otherwise = otherwise;
        let holds = |f: &Fault| matches!(f, Fault::Hold | Fault::HoldAnswer);
        if plan.script.iter().any(holds) || plan.otherwise.as_ref().is_some_and(holds) {
            self.gate.send_replace(false);
        }
    }

    /// Back to normal answers; held requests are answered now.
    pub fn heal(&self) {
        self.plan(std::iter::empty(), None);
        self.release();
    }

    /// Lets held requests through.
    pub fn release(&self) {
        self.gate.send_replace(true);
    }

    /// Requests waiting at the gate right now.
    pub fn held(&self) -> usize {
        self.plan.lock().unwrap().held
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Seen> {
        self.plan.lock().unwrap().log.clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.plan.lock().unwrap().log.iter().filter(|s| s.path.starts_with(prefix)).count()
    }
}

async fn handle(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let path = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let fault = {
        let mut plan = shared.plan.lock().unwrap();
        let fault = plan.script.pop_front().or_else(|| plan.otherwise.clone()).unwrap_or(Fault::Pass);
        plan.log.push(Seen { path: path.clone(), at: Instant::now(), body: body.clone() });
        if fault == Fault::Hold {
            plan.held += 1;
        }
        fault
    };
    if fault == Fault::HoldAnswer {
        let response = answer(&shared, &parts, &path, body).await;
        shared.plan.lock().unwrap().held += 1;
        let mut open = shared.open.clone();
        let _ = open.wait_for(|open| *open).await;
        shared.plan.lock().unwrap().held -= 1;
        return response;
    }
    match fault {
        Fault::Pass | Fault::HoldAnswer => {}
        Fault::Status(code, retry_after) => {
            let status = StatusCode::from_u16(code).unwrap();
            let json = serde_json::json!({"error": {"message": format!("injected {code}")}, "code": code,
                                          "message": format!("injected {code}")});
            let mut response = (status, axum::Json(json)).into_response();
            if let Some(secs) = retry_after {
                response.headers_mut().insert("retry-after", HeaderValue::from(secs));
            }
            return response;
        }
        Fault::Stall(pause) => tokio::time::sleep(pause).await,
        Fault::Malformed => {
            return ([("content-type", "application/json")], "{\"data\": [{\"index\": 0, \"embedding\": [0.1,")
                .into_response();
        }
        Fault::Hold => {
            let mut open = shared.open.clone();
            let _ = open.wait_for(|open| *open).await;
            shared.plan.lock().unwrap().held -= 1;
        }
    }
    answer(&shared, &parts, &path, body).await
}

/// The normal answer: the handler's, or the upstream's.
async fn answer(shared: &Shared, parts: &axum::http::request::Parts, path: &str, body: Bytes) -> Response {
    match &shared.upstream {
        Upstream::Handler(handler) => handler(&parts.method, path, &parts.headers, &body),
        Upstream::Proxy(base) => {
            let mut forward = shared.http.request(parts.method.clone(), format!("{base}{path}")).body(body);
            for (name, value) in &parts.headers {
                if name != "host" && name != "content-length" {
                    forward = forward.header(name, value);
                }
            }
            match forward.send().await {
                Ok(answer) => {
                    let status = answer.status();
                    let headers = answer.headers().clone();
                    let bytes = answer.bytes().await.unwrap_or_default();
                    let mut response = Response::new(Body::from(bytes));
                    *response.status_mut() = status;
                    if let Some(ct) = headers.get("content-type") {
                        response.headers_mut().insert("content-type", ct.clone());
                    }
                    response
                }
                Err(err) => (StatusCode::BAD_GATEWAY, format!("proxy: {err}")).into_response(),
            }
        }
    }
}
