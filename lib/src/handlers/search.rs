//! `POST /api/search`: search of the caller's library; `GET /api/search/status`: how much of
//! it is searchable by meaning.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::ApiError,
    http::{App, extract::InTenant, json::ApiJson},
    search::{self, DEFAULT_PER_PAGE, MAX_K, MAX_PER_PAGE, MAX_QUERY_CHARS, Mode, SearchError, SearchQuery},
};

/// Body of a search.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    query: String,
    k: Option<usize>,
    content_ids: Option<Vec<Uuid>>,
    per_page: Option<usize>,
    mode: Option<Mode>,
}

impl From<SearchError> for ApiError {
    fn from(err: SearchError) -> Self {
        match err {
            SearchError::VectorUnavailable => ApiError::bad_request("vector_search_unavailable", err.to_string()),
            SearchError::Database(err) => err.into(),
            SearchError::Retrieval(err) => ApiError::internal(err),
        }
    }
}

/// Passages of the caller's organization best matching `query`: BM25 fused with vector
/// similarity (full-text until the library has vectors), at most `per_page` per page.
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
    let per_page = body.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(ApiError::bad_request(
            "invalid_per_page",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    if body.content_ids.as_ref().is_some_and(|ids| ids.is_empty() || ids.len() > 100) {
        return Err(ApiError::bad_request("invalid_content_ids", "content_ids must list 1 to 100 item ids"));
    }
    let q = SearchQuery { query, k, content_ids: body.content_ids, per_page, mode: body.mode.unwrap_or(Mode::Hybrid) };
    let results = search::search(&mut tenant, &app.retrieval, &app.db, &q).await?;
    tenant.commit().await?;
    Ok(ApiJson(results))
}

/// How much of the caller's library is searchable by meaning, and when the rest will be.
pub async fn get_search_status(
    State(app): State<App>,
    InTenant(mut tenant): InTenant,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let status = search::status::status(&mut tenant, app.retrieval.embedder().is_some()).await?;
    tenant.commit().await?;
    Ok(ApiJson(status))
}
