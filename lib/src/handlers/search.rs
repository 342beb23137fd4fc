//! `POST /api/search`: hybrid search of the caller's library.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::ApiError,
    http::{App, extract::InTenant, json::ApiJson},
    search::{self, MAX_K, MAX_QUERY_CHARS, SearchQuery},
};

/// Body of a search.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    query: String,
    k: Option<usize>,
    content_ids: Option<Vec<Uuid>>,
}

/// Chunks of the caller's organization best matching `query`, by vector similarity fused
/// with full-text rank.
pub async fn post_search(
    State(app): State<App>,
    InTenant(mut tenant): InTenant,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    // The bound applies to the query as sent; blanks around it are then dropped.
    let query = body.query.trim().to_owned();
    if query.is_empty() || body.query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request("invalid_query", format!("query must be 1 to {MAX_QUERY_CHARS} characters")));
    }
    let k = body.k.unwrap_or(10);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::bad_request("invalid_k", format!("k must be between 1 and {MAX_K}")));
    }
    if body.content_ids.as_ref().is_some_and(|ids| ids.is_empty() || ids.len() > 100) {
        return Err(ApiError::bad_request("invalid_content_ids", "content_ids must list 1 to 100 item ids"));
    }
    let q = SearchQuery { query, k, content_ids: body.content_ids };
    let results = search::search(&mut tenant, &app.retrieval, &app.db, &q).await?;
    tenant.commit().await?;
    Ok(ApiJson(results))
}
