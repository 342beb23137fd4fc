//! Retrieval: the configured embedder and vector store ([`Retrieval`]), and hybrid search
//! over an organization's chunks, fusing vector similarity with Postgres full-text rank by
//! reciprocal rank fusion.

use std::{collections::HashMap, sync::Arc};

use anyhow::{Context, bail};
use serde::Serialize;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{
    config::Settings,
    db::Database,
    embed::{self, Embedder, InputKind},
    error::ApiError,
    tenancy::{System, Tenant},
    usage::{self, Metric},
    vector::{self, VectorStore, pgvector::PgVectorStore},
};

/// The embedder and the vector store, with a once-per-process check that they agree with
/// the vectors already stored.
pub struct Retrieval {
    embedder: Option<Arc<dyn Embedder>>,
    store: Arc<dyn VectorStore>,
    checked: OnceCell<()>,
}

impl Retrieval {
    /// Combines an embedder (none: full-text search only) and a store.
    pub fn new(embedder: Option<Arc<dyn Embedder>>, store: Arc<dyn VectorStore>) -> Self {
        Self { embedder, store, checked: OnceCell::new() }
    }

    /// Builds both from settings.
    pub fn from_settings(settings: &Settings, http: &reqwest::Client) -> anyhow::Result<Self> {
        let embedder = embed::from_settings(settings, http)?;
        let store: Arc<dyn VectorStore> = match settings.vector_store {
            crate::config::VectorStoreKind::Pgvector => {
                Arc::new(PgVectorStore::new().with_model(embedder.as_ref().map_or("", |e| e.model())))
            }
            _ => vector::from_settings(settings, http)?,
        };
        Ok(Self::new(embedder, store))
    }

    /// The embedder, when one is configured.
    pub fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.embedder.as_ref()
    }

    /// The vector store.
    pub fn store(&self) -> &Arc<dyn VectorStore> {
        &self.store
    }

    /// Loads the model (when local) and checks that the store holds vectors of this model and
    /// dimension, recording them on first use. A mismatch is an error naming both.
    pub async fn ensure_compatible(&self, db: &Database) -> anyhow::Result<()> {
        let Some(embedder) = &self.embedder else { return Ok(()) };
        self.checked
            .get_or_try_init(|| async {
                let e = embedder.clone();
                tokio::task::spawn_blocking(move || e.ready()).await.context("loading the embedding model")??;
                let (model, dims) = (embedder.model().to_owned(), embedder.dimensions());
                if let Some(index_dims) = self.store.index_dimensions().await?
                    && index_dims != dims
                {
                    bail!(
                        "the {} index holds {index_dims}-dimension vectors but {model} makes {dims}; \
                         set EMBEDDING_DIMENSIONS={index_dims} or use an index of {dims} dimensions",
                        self.store.backend()
                    );
                }
                let backend = self.store.backend();
                let mut system = System::begin(db, "startup: check the embedding model").await?;
                sqlx::query(
                    "INSERT INTO vector_spaces (backend, model, dimensions) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(backend)
                .bind(&model)
                .bind(dims as i32)
                .execute(system.conn())
                .await?;
                let (stored_model, stored_dims): (String, i32) =
                    sqlx::query_as("SELECT model, dimensions FROM vector_spaces WHERE backend = $1")
                        .bind(backend)
                        .fetch_one(system.conn())
                        .await?;
                system.commit().await?;
                if stored_model != model || stored_dims as usize != dims {
                    bail!(
                        "the {backend} vector store holds vectors of {stored_model} ({stored_dims} dimensions) but the \
                         configured embedder is {model} ({dims} dimensions); configure {stored_model} again, or \
                         re-embed the library into an empty store"
                    );
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }
}

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Most results per search.
pub const MAX_K: usize = 50;
/// Candidates taken from each ranking before fusion.
const CANDIDATES: usize = 50;
/// The reciprocal rank fusion constant (Cormack et al.).
const RRF_K: f64 = 60.0;

/// A search request, validated.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    /// The text to look for.
    pub query: String,
    /// Results wanted.
    pub k: usize,
    /// Only chunks of these items, when given.
    pub content_ids: Option<Vec<Uuid>>,
}

/// A found chunk.
#[derive(Clone, Debug, Serialize)]
pub struct SearchHit {
    /// The chunk.
    pub chunk_id: Uuid,
    /// Its item.
    pub content_id: Uuid,
    /// The item's title.
    pub title: String,
    /// The item's URL.
    pub url: Option<String>,
    /// Headings above the chunk.
    pub heading: Option<String>,
    /// The chunk's text, shortened.
    pub snippet: String,
    /// Fused score (higher is better).
    pub score: f64,
    /// Rank by vector similarity (from 1), when among the candidates.
    pub vector_rank: Option<usize>,
    /// Cosine similarity, when ranked by vectors.
    pub similarity: Option<f32>,
    /// Rank by full-text relevance (from 1), when among the candidates.
    pub text_rank: Option<usize>,
}

/// Search results and how they were found.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResults {
    /// Best first.
    pub results: Vec<SearchHit>,
    /// `hybrid`, or `full_text` when no embedder is configured or it failed.
    pub mode: &'static str,
}

/// A chunk's place in each ranking and its fused score.
#[derive(Default)]
struct Fused {
    score: f64,
    vector_rank: Option<usize>,
    similarity: Option<f32>,
    text_rank: Option<usize>,
}

#[derive(sqlx::FromRow)]
struct HitRow {
    chunk_id: Uuid,
    content_id: Uuid,
    title: String,
    url: Option<String>,
    heading: Option<String>,
    snippet: String,
}

/// Hybrid search of the tenant's chunks.
pub async fn search(
    tenant: &mut Tenant,
    retrieval: &Retrieval,
    db: &Database,
    q: &SearchQuery,
) -> Result<SearchResults, ApiError> {
    // The query's embedding (CPU work, or a hosted call) and the full-text ranking (SQL) do
    // not wait for each other.
    let embed = async {
        let Some(embedder) = retrieval.embedder() else { return Ok(None) };
        // A store that cannot be reached for its compatibility check is an outage, not a
        // misconfiguration: search on in full text, like an embedder outage below.
        match retrieval.ensure_compatible(db).await {
            Ok(()) => Ok(Some(embedder.embed(std::slice::from_ref(&q.query), InputKind::Query).await)),
            Err(err) if is_remote_outage(&err) => {
                tracing::warn!("search: the vector store is unavailable, full-text only: {err:#}");
                Ok(None)
            }
            Err(err) => Err(ApiError::internal(err)),
        }
    };
    let (embedded, text_hits) = tokio::join!(embed, full_text(tenant, &q.query, CANDIDATES, q.content_ids.as_deref()));
    let (embedded, text_hits) = (embedded?, text_hits?);
    let mut vector_hits = Vec::new();
    let mut mode = "full_text";
    match embedded {
        None => {}
        Some(Ok(e)) if e.vectors.len() == 1 => {
            if e.tokens > 0 {
                usage::record(tenant, Metric::EmbeddingTokens, e.tokens as i64).await?;
            }
            match retrieval.store().query(tenant, &e.vectors[0], CANDIDATES, q.content_ids.as_deref()).await {
                Ok(hits) => {
                    vector_hits = hits;
                    mode = "hybrid";
                }
                Err(vector::VectorError::Remote(err)) => {
                    tracing::warn!("search: querying the vector store failed, full-text only: {err}");
                }
                Err(err) => return Err(ApiError::internal(anyhow::anyhow!(err))),
            }
        }
        Some(Ok(_)) => tracing::warn!("search: the embedder returned no vector; full-text only"),
        Some(Err(err)) => tracing::warn!("search: embedding the query failed, full-text only: {err}"),
    }

    let mut fused: HashMap<Uuid, Fused> = HashMap::new();
    for (rank, m) in vector_hits.iter().enumerate() {
        let f = fused.entry(m.chunk_id).or_default();
        f.score += 1.0 / (RRF_K + rank as f64 + 1.0);
        (f.vector_rank, f.similarity) = (Some(rank + 1), Some(m.score));
    }
    for (rank, id) in text_hits.iter().enumerate() {
        let f = fused.entry(*id).or_default();
        f.score += 1.0 / (RRF_K + rank as f64 + 1.0);
        f.text_rank = Some(rank + 1);
    }
    let mut ranked: Vec<(Uuid, Fused)> = fused.into_iter().collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    ranked.truncate(q.k);

    let ids: Vec<Uuid> = ranked.iter().map(|r| r.0).collect();
    let org_id = tenant.org().id;
    // Only chunks of this organization come back, whatever a store returned.
    let rows: Vec<HitRow> = sqlx::query_as(
        "SELECT c.id AS chunk_id, c.content_id, i.title, i.url, c.heading, left(c.text, 400) AS snippet
           FROM content_chunks c JOIN contents i ON i.org_id = c.org_id AND i.id = c.content_id
          WHERE c.org_id = $1 AND c.id = ANY($2)",
    )
    .bind(org_id)
    .bind(&ids)
    .fetch_all(tenant.conn())
    .await?;
    let mut by_id: HashMap<Uuid, HitRow> = rows.into_iter().map(|r| (r.chunk_id, r)).collect();
    let results = ranked
        .into_iter()
        .filter_map(|(id, f)| {
            let row = by_id.remove(&id)?;
            Some(SearchHit {
                chunk_id: row.chunk_id,
                content_id: row.content_id,
                title: row.title,
                url: row.url,
                heading: row.heading,
                snippet: row.snippet,
                score: f.score,
                vector_rank: f.vector_rank,
                similarity: f.similarity,
                text_rank: f.text_rank,
            })
        })
        .collect();
    Ok(SearchResults { results, mode })
}

/// Whether `err` comes from a hosted service (vector store, embedder) that failed after its
/// retries, rather than from a misconfiguration or the database.
fn is_remote_outage(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(e.downcast_ref::<vector::VectorError>(), Some(vector::VectorError::Remote(_)))
            || matches!(e.downcast_ref::<embed::EmbedError>(), Some(embed::EmbedError::Provider(_)))
    })
}

/// Chunks matching `query` by Postgres full-text search (each chunk's own language
/// configuration, plus `simple` for words no stemmer knows), best first.
pub async fn full_text(
    tenant: &mut Tenant,
    query: &str,
    limit: usize,
    content_ids: Option<&[Uuid]>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let org_id = tenant.org().id;
    sqlx::query_scalar(
        "WITH q AS (SELECT websearch_to_tsquery('english', $2) || websearch_to_tsquery('simple', $2) AS q)
         SELECT c.id FROM content_chunks c, q
          WHERE c.org_id = $1 AND c.tsv @@ q.q AND ($3::uuid[] IS NULL OR c.content_id = ANY($3))
          ORDER BY ts_rank_cd(c.tsv, q.q, 32) DESC, c.id
          LIMIT $4",
    )
    .bind(org_id)
    .bind(query)
    .bind(content_ids)
    .bind(limit as i64)
    .fetch_all(tenant.conn())
    .await
}
