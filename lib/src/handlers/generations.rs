//! Generation: `POST /api/generate` (JSON, or server-sent events when asked), `GET
//! /api/generations`, `GET /api/generations/{id}`.
//!
//! A generation runs in three steps so no database connection is held while the model
//! writes: prepare in one tenant transaction, call the provider, store in a second one.

use std::convert::Infallible;

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use tokio::sync::mpsc;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use uuid::Uuid;

use crate::{
    error::ApiError,
    generate::{
        HybridRetriever,
        generation::{self, GenerateError, GenerateRequest, Generation, Prepared},
        providers::{Completion, Provider, ProviderError},
    },
    http::{
        App,
        extract::{Admitted, InTenant, ResourceId},
        json::ApiJson,
    },
    pagination::{self, Page, PageQuery},
};

impl From<ProviderError> for ApiError {
    /// The provider's own words (which can quote a masked key or an account detail) go to the
    /// log with the request id, never into the body.
    fn from(err: ProviderError) -> Self {
        match err {
            ProviderError::Unavailable(detail) => ApiError::unavailable(
                "provider_unavailable",
                "the writing model is unavailable; try again shortly",
                anyhow::anyhow!("provider unavailable: {detail}"),
            ),
            ProviderError::Rejected(detail) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "provider_rejected",
                "the writing model refused the request; its answer is in the server log under this request id",
            )
            .with_source(anyhow::anyhow!("provider rejected the request: {detail}")),
        }
    }
}

impl From<GenerateError> for ApiError {
    fn from(err: GenerateError) -> Self {
        match err {
            GenerateError::TemplateNotFound => ApiError::not_found("template"),
            GenerateError::Inputs(e) => e.into(),
            GenerateError::LibraryEmpty => ApiError::conflict("library_empty", err.to_string()),
            GenerateError::Invalid(detail) => ApiError::bad_request("invalid_generation", detail),
            GenerateError::Provider(e) => e.into(),
            GenerateError::Internal(e) => e.into(),
        }
    }
}

/// Drafts from a template, grounded in the org's library, with citations. Streams
/// server-sent events when the client sends `Accept: text/event-stream` or `"stream": true`.
pub async fn post_generate(
    State(app): State<App>,
    member: Admitted,
    headers: HeaderMap,
    ApiJson(req): ApiJson<GenerateRequest>,
) -> Result<Response, ApiError> {
    let wants_stream = req.stream
        || headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/event-stream"));

    let mut tenant = member.tenant(&app).await?;
    let retriever = HybridRetriever { retrieval: &app.retrieval, db: &app.db };
    let prepared = generation::prepare(&mut tenant, &retriever, &req).await?;
    tenant.commit().await?;

    if wants_stream {
        return Ok(stream(app, member, prepared).into_response());
    }
    let (completion, provider) = draft(&app, &prepared, None).await?;
    let mut tenant = member.tenant(&app).await?;
    let stored = generation::store(&mut tenant, &prepared, completion, provider).await?;
    tenant.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(stored)).into_response())
}

/// Calls the configured provider, or composes offline; pieces go to `deltas` when streaming.
async fn draft(
    app: &App,
    prepared: &Prepared,
    deltas: Option<&mpsc::Sender<String>>,
) -> Result<(Completion, &'static str), ProviderError> {
    match &app.settings.llm {
        Some(settings) => {
            let provider = Provider::new(settings.clone());
            let completion = match deltas {
                Some(tx) => provider.stream(&app.http, &prepared.prompt, tx).await?,
                None => provider.complete(&app.http, &prepared.prompt).await?,
            };
            Ok((completion, provider.name()))
        }
        None => {
            let completion = generation::extractive(prepared);
            if let Some(tx) = deltas {
                for piece in completion.text.split_inclusive("\n\n") {
                    let _ = tx.send(piece.to_owned()).await;
                }
            }
            Ok((completion, "extractive"))
        }
    }
}

fn event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default().event(name).data(serde_json::to_string(data).unwrap_or_else(|_| "{}".into()))
}

/// The event stream: `sources` first, `delta` per piece of text, then `done` with the
/// stored generation, or `error` with a problem document.
fn stream(app: App, member: Admitted, prepared: Prepared) -> impl IntoResponse {
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let sources: Vec<_> = prepared
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({"n": i + 1, "content_id": s.content_id, "chunk_id": s.chunk_id,
                    "heading": s.heading, "title": s.title, "url": s.url})
            })
            .collect();
        let _ = tx.send(event("sources", &sources)).await;
        let (dtx, mut drx) = mpsc::channel::<String>(64);
        let producer = {
            let (app, prepared) = (&app, &prepared);
            async move {
                let result = draft(app, prepared, Some(&dtx)).await;
                drop(dtx);
                result
            }
        };
        let forward = async {
            while let Some(text) = drx.recv().await {
                let _ = tx.send(event("delta", &serde_json::json!({"text": text}))).await;
            }
        };
        let (result, ()) = tokio::join!(producer, forward);
        let outcome: Result<Generation, ApiError> = async {
            let (completion, provider) = result?;
            let mut tenant = member.tenant(&app).await?;
            let stored = generation::store(&mut tenant, &prepared, completion, provider).await?;
            tenant.commit().await?;
            Ok(stored)
        }
        .await;
        let _ = match outcome {
            Ok(stored) => tx.send(event("done", &stored)).await,
            Err(err) => {
                let problem = err.problem();
                // Logs a 5xx cause like any other error response would.
                drop(err.into_response());
                tx.send(event("error", &problem)).await
            }
        };
    });
    Sse::new(ReceiverStream::new(rx).map(Ok::<_, Infallible>)).keep_alive(KeepAlive::default())
}

/// The org's generations, newest first, paginated.
pub async fn list_generations(
    InTenant(mut tenant): InTenant,
    Query(q): Query<PageQuery>,
) -> Result<ApiJson<Page<Generation>>, ApiError> {
    let (limit, after) = (q.limit()?, q.after()?);
    let rows = generation::list(&mut tenant, after, limit + 1).await?;
    tenant.commit().await?;
    Ok(ApiJson(pagination::page(rows, limit, |g| (g.created_at, g.id), |g| g)))
}

/// One generation of the org.
pub async fn get_generation(
    InTenant(mut tenant): InTenant,
    ResourceId(id): ResourceId,
) -> Result<ApiJson<Generation>, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found("generation"))?;
    let found = generation::get(&mut tenant, id).await?.ok_or_else(|| ApiError::not_found("generation"))?;
    tenant.commit().await?;
    Ok(ApiJson(found))
}
