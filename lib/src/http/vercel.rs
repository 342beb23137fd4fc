//! The Vercel adapter: one endpoint per function binary, served through `vercel_runtime`.
//!
//! State lives for the life of the warm instance (the pool survives between invocations).
//! Dev sign-in does not exist here: the function binaries build the lib without `cli`.

use std::sync::{Arc, Once};

use axum::body::Body;
use http_body_util::BodyExt;
use tower::ServiceExt;
use vercel_runtime::{Request, ResponseBody, service_fn};

use crate::{
    auth::TokenVerifier,
    config::Settings,
    db::Database,
    http::{App, AppInner, background::Background, function_router, http_client},
    routes::Function,
};

/// Serves one endpoint as a Vercel function until the runtime shuts it down. `function` comes
/// from a `const` ([`Endpoint::function`](crate::routes::Endpoint::function)), so the binary
/// links only that endpoint's handlers.
pub async fn run(function: Function) -> Result<(), vercel_runtime::Error> {
    crate::telemetry::init_function();
    let app = match build_app() {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("function start-up failed: {err:#}");
            return Err(err.into());
        }
    };
    let full_text_only = !app.settings.embedding.provider_set;
    let warnings = app.settings.warnings();
    let warned = Arc::new(Once::new());
    let router = function_router(app, function);
    vercel_runtime::run(service_fn(move |req: Request, state: vercel_runtime::AppState| {
        let (router, warned, warnings) = (router.clone(), warned.clone(), warnings.clone());
        let log = request_log(&req, &state);
        crate::telemetry::in_request_log(log.clone(), async move {
            // Said once per instance, inside a request: only a request's logs reach Vercel.
            warned.call_once(|| {
                if full_text_only {
                    tracing::warn!(
                        "EMBEDDING_PROVIDER is not set: search is full-text only and no embeddings are \
                         computed (set EMBEDDING_PROVIDER=openai or pinecone; see docs/DEPLOY.md)"
                    );
                }
                for warning in &warnings {
                    tracing::warn!("{warning}");
                }
            });
            let mut req = req.map(Body::new);
            // Work a handler hands to `Background` continues after the response (wait_until),
            // logging to the same request.
            req.extensions_mut().insert(Background::new(move |work| {
                state.wait_until(crate::telemetry::in_request_log(log.clone(), work));
            }));
            let response = router.oneshot(req).await.unwrap_or_else(|never| match never {});
            into_function_response(response).await
        })
    }))
    .await
}

/// The request's IPC log when Vercel's platform started this function: the runtime connected
/// to `VERCEL_IPC_PATH`, and the request carries the invocation and request ids its `log` and
/// `end` messages are filed under. Otherwise (`VERCEL_DEV_PORT` alone) lines go to stderr.
fn request_log(req: &Request, state: &vercel_runtime::AppState) -> Option<vercel_runtime::LogContext> {
    let ids = req.headers().contains_key("x-vercel-internal-invocation-id")
        && req
            .headers()
            .get("x-vercel-internal-request-id")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.parse::<u64>().is_ok());
    (ids && std::env::var_os("VERCEL_IPC_PATH").is_some()).then(|| state.log_context.clone())
}

/// Converts the router's response for the runtime: event streams are passed on frame by
/// frame (the runtime needs a `Sync` body, axum's is not), everything else is sent whole.
async fn into_function_response(
    response: axum::response::Response,
) -> Result<vercel_runtime::Response<ResponseBody>, vercel_runtime::Error> {
    let (parts, body) = response.into_parts();
    let streaming = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if !streaming {
        let bytes = body.collect().await?.to_bytes();
        return Ok(vercel_runtime::Response::from_parts(parts, ResponseBody::from(bytes)));
    }
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let log = crate::telemetry::current_request_log();
    tokio::spawn(crate::telemetry::in_request_log(log, async move {
        let mut body = body;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Box::new(e) as vercel_runtime::Error);
            let failed = frame.is_err();
            if tx.send(frame).await.is_err() || failed {
                break;
            }
        }
    }));
    let stream = http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok(vercel_runtime::Response::from_parts(parts, ResponseBody::from(stream)))
}

fn build_app() -> anyhow::Result<App> {
    let settings = Settings::from_env()?;
    let http = http_client()?;
    let verifier = TokenVerifier::new(crate::http::clerk_issuers(&settings), http.clone());
    let db = Database::connect_lazy(&settings)?;
    let crawler = crate::crawl::Crawler::from_settings(&settings)?;
    let retrieval = crate::search::Retrieval::from_settings(&settings, &http)?;
    Ok(App::new(AppInner {
        settings,
        db,
        verifier,
        http,
        crawler,
        retrieval,
        health: Default::default(),
        #[cfg(feature = "cli")]
        dev_issuer: None,
    }))
}
