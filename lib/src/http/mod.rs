//! HTTP plumbing shared by both runtimes: the application state, the middleware stack
//! (request id, CORS, body cap, problem+json for every error) and the runtime adapters.

pub mod background;
pub mod extract;
pub mod json;
pub mod request_id;
pub mod vercel;

use std::sync::Arc;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    auth::{IssuerConfig, JwksSource, KeySource, TokenVerifier},
    config::Settings,
    db::Database,
    error::{ApiError, PROBLEM_JSON, Problem, problem_response},
    routes::Function,
};

/// Shared state of every handler: settings, the database, the token verifier.
#[derive(Clone)]
pub struct App(Arc<AppInner>);

/// What [`App`] holds; cloned cheaply through the `Arc`.
pub struct AppInner {
    /// Settings read at start-up.
    pub settings: Settings,
    /// The connection pool and its safety check.
    pub db: Database,
    /// Verifies session tokens of every accepted issuer.
    pub verifier: TokenVerifier,
    /// Outbound HTTP client (no system proxy, rustls).
    pub http: reqwest::Client,
    /// The website crawler (its own SSRF-guarded client).
    pub crawler: crate::crawl::Crawler,
    /// The embedder and vector store of the content library.
    pub retrieval: crate::search::Retrieval,
    /// `GET /api/health`'s cached database check and per-address budget.
    pub health: crate::handlers::health::HealthState,
    /// The local dev issuer, present only under `voiceforge serve`.
    #[cfg(feature = "cli")]
    pub dev_issuer: Option<Arc<crate::auth::dev::DevIssuer>>,
}

impl App {
    /// Wraps the state for handlers.
    pub fn new(inner: AppInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for App {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The configured Clerk instance as a token issuer (none when `CLERK_ISSUER` is unset).
pub fn clerk_issuers(settings: &Settings) -> Vec<IssuerConfig> {
    settings
        .clerk
        .iter()
        .map(|clerk| {
            let keys = match &clerk.jwt_key {
                Some(pem) => KeySource::Pem(pem.expose().to_owned()),
                None => {
                    // Clerk's Backend API JWKS needs the secret key; a Frontend API JWKS does not.
                    let needs_secret = clerk.jwks_url.starts_with("https://api.clerk.com/");
                    KeySource::Jwks(JwksSource {
                        url: url::Url::parse(&clerk.jwks_url).expect("validated in Settings"),
                        bearer_secret: clerk
                            .secret_key
                            .as_ref()
                            .filter(|_| needs_secret)
                            .map(|s| s.expose().to_owned()),
                    })
                }
            };
            IssuerConfig { issuer: clerk.issuer.clone(), keys, authorized_parties: clerk.authorized_parties.clone() }
        })
        .collect()
}

/// Builds the outbound HTTP client: rustls with the ring provider, no system proxy.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .connect_timeout(std::time::Duration::from_secs(5))
        .user_agent(concat!("VoiceForge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| anyhow::anyhow!("building the HTTP client: {e}"))
}

/// Installs rustls' ring provider once (reqwest is built without a default provider).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The router of one Vercel function: its endpoint on every path a function answers on, with
/// the full middleware stack.
pub fn function_router(app: App, function: Function) -> Router {
    let routes = function
        .endpoint
        .function_paths()
        .iter()
        .fold(Router::new(), |r, path| r.route(path, (function.method_router)()));
    with_middleware(routes.with_state(app.clone()), &app.settings)
}

/// Wraps any router (API or local extras) in the middleware every response goes through.
pub fn with_middleware(router: Router, settings: &Settings) -> Router {
    let cap = settings.max_body_bytes;
    router
        .layer(axum::extract::DefaultBodyLimit::max(cap))
        .layer(middleware::from_fn(move |req: Request, next: Next| reject_oversized(cap, req, next)))
        .layer(middleware::from_fn(reject_nul_in_url))
        .layer(middleware::from_fn(problem_for_every_error))
        .layer(middleware::from_fn(request_id::assign))
        .layer(cors(&settings.cors_allowed_origins))
}

/// CORS for the configured origins only; with none configured the API is same-origin.
fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, request_id::HEADER.clone()])
        .expose_headers([request_id::HEADER.clone(), header::RETRY_AFTER])
        .max_age(std::time::Duration::from_secs(600))
}

/// Refuses a declared body over the cap before any handler reads it.
async fn reject_oversized(cap: usize, request: Request, next: Next) -> Response {
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap as u64) {
        return ApiError::payload_too_large(cap).into_response();
    }
    next.run(request).await
}

/// Refuses a path or query holding an encoded NUL (`%00`) before any handler sees it: Postgres
/// cannot store or compare U+0000 in text, so a decoded id or filter holding one would fail
/// in the database as a 500. No object has such an id (404); a query parameter is bad input.
async fn reject_nul_in_url(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let holds_nul = |part: &str| part.as_bytes().windows(3).any(|w| w == b"%00");
    if holds_nul(uri.path()) {
        return ApiError::not_found("the resource").into_response();
    }
    if uri.query().is_some_and(holds_nul) {
        return ApiError::bad_request("invalid_character", "query parameters may not contain an encoded NUL (%00)")
            .into_response();
    }
    next.run(request).await
}

/// Turns any error response that is not yet problem+json (unknown route, wrong method,
/// framework rejections) into one, so clients see a single error format.
async fn problem_for_every_error(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Our own answers (problem+json, or JSON such as a degraded health report) pass through.
    let is_ours = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(PROBLEM_JSON.as_bytes()) || v.starts_with(b"application/json")
    });
    if !status.is_client_error() && !status.is_server_error() || is_ours {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this endpoint does not accept that method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported content type"),
        s if s.is_server_error() => ("internal_error", "an unexpected error occurred"),
        _ => ("bad_request", "the request could not be processed"),
    };
    let problem = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: detail.into(),
        code: code.into(),
        request_id: request_id::current(),
    };
    let mut out = problem_response(&problem, None);
    if let Some(allow) = response.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}
