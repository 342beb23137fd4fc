//! Search of an organization's library: the configured embedder and vector store
//! ([`Retrieval`]), lexical ranking by BM25 ([`lexical`]), and hybrid search fusing the two
//! rankings by reciprocal rank fusion, at most a few passages per page, each with a snippet
//! ([`snippet`]). [`status`] says how much of the library is searchable by meaning.

pub mod lexical;
pub mod snippet;
pub mod status;

use std::{collections::HashMap, sync::Arc};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{
    config::Settings,
    db::Database,
    embed::{self, Embedder, InputKind},
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
/// Passages of one page in the results unless the request says otherwise.
pub const DEFAULT_PER_PAGE: usize = 2;
/// Most passages of one page a request may ask for.
pub const MAX_PER_PAGE: usize = 10;
/// Candidates taken from each ranking before fusion.
const CANDIDATES: usize = 60;
/// The reciprocal rank fusion constant: Cormack et al.'s 60, which also did best on the
/// labelled question set (bench/search-quality; the grid is in bench/README.md).
pub const RRF_K: f64 = 60.0;
/// Weight of the lexical ranking in the fusion (the vector ranking has weight 1), chosen on
/// the labelled question set: with the whole index embedded the model ranks better, and words
/// mostly break its ties and lift exact names (hits@10 0.890 → 0.915 at 0.25).
pub const TEXT_WEIGHT: f64 = 0.25;
/// How much of its vote a passage made of links loses on the vector side (a passage that is
/// all links: all of it), so hub pages that list everything do not outrank the answer. The
/// lexical side has its own penalty in its score ([`lexical::LINK_PENALTY`]).
pub const VECTOR_LINK_PENALTY: f64 = 1.0;

/// Which rankings a search uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Words and meaning fused (meaning only once the organization has vectors).
    Hybrid,
    /// Words only (BM25).
    FullText,
    /// Meaning only (vector similarity).
    Vector,
}

impl Mode {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Hybrid => "hybrid",
            Mode::FullText => "full_text",
            Mode::Vector => "vector",
        }
    }
}

/// A search request, validated.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    /// The text to look for.
    pub query: String,
    /// Results wanted.
    pub k: usize,
    /// Only chunks of these items, when given.
    pub content_ids: Option<Vec<Uuid>>,
    /// Passages of one page at most.
    pub per_page: usize,
    /// Rankings to use (hybrid by default).
    pub mode: Mode,
}

impl SearchQuery {
    /// A hybrid search for `query` with the defaults.
    pub fn new(query: impl Into<String>, k: usize) -> Self {
        Self { query: query.into(), k, content_ids: None, per_page: DEFAULT_PER_PAGE, mode: Mode::Hybrid }
    }
}

/// A found passage.
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
    /// The chunk's place in its item (from 0).
    pub position: i32,
    /// Plain text around the best-matching sentence, cut at sentence or word boundaries.
    pub snippet: String,
    /// Matched words in `snippet`, as `[start, end)` UTF-16 offsets.
    pub highlights: Vec<[usize; 2]>,
    /// Fused score (higher is better).
    pub score: f64,
    /// Rank by words (from 1), when among the candidates.
    pub text_rank: Option<usize>,
    /// BM25 score, when ranked by words.
    pub text_score: Option<f64>,
    /// Rank by vector similarity (from 1), when among the candidates.
    pub vector_rank: Option<usize>,
    /// Cosine similarity, when ranked by vectors.
    pub similarity: Option<f32>,
    /// Share of the passage that is link text (hub pages rank lower).
    pub link_density: f32,
}

/// Search results and how they were found.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResults {
    /// Best first, at most `per_page` passages of one page.
    pub results: Vec<SearchHit>,
    /// The rankings used: `hybrid`, `full_text` (no embedder, no vectors yet, or the
    /// embedder or store failed) or `vector`.
    pub mode: &'static str,
    /// Share of the organization's passages searchable by meaning (0 without an embedder).
    pub searchable_share: f64,
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Vector search was asked for and no embedder is configured.
    #[error("this deployment has no embedding provider, so search by meaning is not available")]
    VectorUnavailable,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The embedder or store is misconfigured (not an outage: those fall back to words).
    #[error(transparent)]
    Retrieval(anyhow::Error),
}

/// A chunk's place in each ranking and its fused score.
#[derive(Default)]
struct Fused {
    score: f64,
    text_rank: Option<usize>,
    text_score: Option<f64>,
    vector_rank: Option<usize>,
    similarity: Option<f32>,
}

#[derive(sqlx::FromRow)]
struct HitRow {
    chunk_id: Uuid,
    content_id: Uuid,
    position: i32,
    title: String,
    url: Option<String>,
    heading: Option<String>,
    text: String,
    ts_config: String,
    link_density: f32,
}

/// Searches the tenant's passages: BM25 and vector similarity fused by reciprocal rank, the
/// vector side discounted for link-heavy passages, at most `per_page` passages per page.
/// Until the organization has vectors (or without an embedder) a hybrid search is full-text.
pub async fn search(
    tenant: &mut Tenant,
    retrieval: &Retrieval,
    db: &Database,
    q: &SearchQuery,
) -> Result<SearchResults, SearchError> {
    if q.mode == Mode::Vector && retrieval.embedder().is_none() {
        return Err(SearchError::VectorUnavailable);
    }
    let counts = status::counts(tenant).await?;
    let use_vectors =
        retrieval.embedder().is_some() && (q.mode == Mode::Vector || (q.mode == Mode::Hybrid && counts.embedded > 0));
    let use_words = q.mode != Mode::Vector;
    let wanted = CANDIDATES.max(q.k * q.per_page.min(3));

    // The query's embedding (CPU work, or a hosted call) and the lexical ranking (SQL) do
    // not wait for each other.
    let embed = async {
        if !use_vectors {
            return Ok(None);
        }
        let embedder = retrieval.embedder().expect("checked above");
        // A store that cannot be reached for its compatibility check is an outage, not a
        // misconfiguration: search on by words, like an embedder outage below.
        match retrieval.ensure_compatible(db).await {
            Ok(()) => Ok(Some(embedder.embed(std::slice::from_ref(&q.query), InputKind::Query).await)),
            Err(err) if is_remote_outage(&err) => {
                tracing::warn!("search: the vector store is unavailable, full-text only: {err:#}");
                Ok(None)
            }
            Err(err) => Err(SearchError::Retrieval(err)),
        }
    };
    let words = async {
        if use_words {
            lexical::search(tenant, &q.query, wanted, q.content_ids.as_deref()).await
        } else {
            Ok(Vec::new())
        }
    };
    let (embedded, text_hits) = tokio::join!(embed, words);
    let (embedded, text_hits) = (embedded?, text_hits?);
    let mut vector_hits = Vec::new();
    let mut vectors_used = false;
    match embedded {
        None => {}
        Some(Ok(e)) if e.vectors.len() == 1 => {
            if e.tokens > 0 {
                usage::record(tenant, Metric::EmbeddingTokens, e.tokens as i64).await?;
            }
            match retrieval.store().query(tenant, &e.vectors[0], wanted, q.content_ids.as_deref()).await {
                Ok(hits) => {
                    vector_hits = hits;
                    vectors_used = true;
                }
                Err(vector::VectorError::Remote(err)) => {
                    tracing::warn!("search: querying the vector store failed, full-text only: {err}");
                }
                Err(err) => return Err(SearchError::Retrieval(anyhow::anyhow!(err))),
            }
        }
        Some(Ok(_)) => tracing::warn!("search: the embedder returned no vector; full-text only"),
        Some(Err(err)) => tracing::warn!("search: embedding the query failed, full-text only: {err}"),
    }
    let mode = match (use_words, vectors_used) {
        (true, true) => Mode::Hybrid,
        (false, true) => Mode::Vector,
        _ if q.mode == Mode::Vector => Mode::Vector,
        _ => Mode::FullText,
    };

    let mut ids: Vec<Uuid> = text_hits.iter().map(|h| h.chunk_id).collect();
    ids.extend(vector_hits.iter().map(|h| h.chunk_id));
    ids.sort();
    ids.dedup();
    let org_id = tenant.org().id;
    // Only chunks of this organization come back, whatever a store returned.
    let rows: Vec<HitRow> = sqlx::query_as(
        "SELECT c.id AS chunk_id, c.content_id, c.position, i.title, i.url, c.heading, c.text,
                c.ts_config::text AS ts_config, c.link_density
           FROM content_chunks c JOIN contents i ON i.org_id = c.org_id AND i.id = c.content_id
          WHERE c.org_id = $1 AND c.id = ANY($2)",
    )
    .bind(org_id)
    .bind(&ids)
    .fetch_all(tenant.conn())
    .await?;
    let rows: HashMap<Uuid, HitRow> = rows.into_iter().map(|r| (r.chunk_id, r)).collect();

    let mut fused: HashMap<Uuid, Fused> = HashMap::new();
    for (rank, h) in text_hits.iter().enumerate() {
        let f = fused.entry(h.chunk_id).or_default();
        f.score += TEXT_WEIGHT / (RRF_K + rank as f64 + 1.0);
        (f.text_rank, f.text_score) = (Some(rank + 1), Some(h.score));
    }
    for (rank, m) in vector_hits.iter().enumerate() {
        // The lexical score already discounts link-heavy passages; the vector side does here.
        let density = rows.get(&m.chunk_id).map_or(0.0, |r| f64::from(r.link_density));
        let f = fused.entry(m.chunk_id).or_default();
        f.score += (1.0 - VECTOR_LINK_PENALTY * density) / (RRF_K + rank as f64 + 1.0);
        (f.vector_rank, f.similarity) = (Some(rank + 1), Some(m.score));
    }
    let mut ranked: Vec<(Uuid, Fused)> = fused.into_iter().filter(|(id, _)| rows.contains_key(id)).collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    let ranked = per_page(ranked, |(id, _)| rows[id].content_id, q.per_page, q.k);

    let marked = mark_matches(tenant, &q.query, ranked.iter().map(|(id, _)| &rows[id])).await?;
    let results = ranked
        .into_iter()
        .zip(marked)
        .map(|((id, f), marked)| {
            let row = &rows[&id];
            let snippet = snippet::snippet(&marked);
            SearchHit {
                chunk_id: id,
                content_id: row.content_id,
                title: row.title.clone(),
                url: row.url.clone(),
                heading: row.heading.clone(),
                position: row.position,
                snippet: snippet.text,
                highlights: snippet.highlights,
                score: f.score,
                text_rank: f.text_rank,
                text_score: f.text_score,
                vector_rank: f.vector_rank,
                similarity: f.similarity,
                link_density: row.link_density,
            }
        })
        .collect();
    let searchable_share = if retrieval.embedder().is_some() { counts.searchable_share() } else { 0.0 };
    Ok(SearchResults { results, mode: mode.as_str(), searchable_share })
}

/// The first `k` of `ranked` (best first) with at most `per_page` of one page.
pub fn per_page<T>(ranked: Vec<T>, page: impl Fn(&T) -> Uuid, per_page: usize, k: usize) -> Vec<T> {
    let mut seen: HashMap<Uuid, usize> = HashMap::new();
    let mut out = Vec::with_capacity(k);
    for item in ranked {
        let n = seen.entry(page(&item)).or_default();
        if *n < per_page {
            *n += 1;
            out.push(item);
            if out.len() == k {
                break;
            }
        }
    }
    out
}

/// Each passage's plain text with the words matching `query` marked for [`snippet::snippet`],
/// in the passage's own text-search configuration.
async fn mark_matches<'a>(
    tenant: &mut Tenant,
    query: &str,
    rows: impl Iterator<Item = &'a HitRow>,
) -> Result<Vec<String>, sqlx::Error> {
    let (texts, configs): (Vec<String>, Vec<String>) = rows
        .map(|r| {
            let plain = crate::text::plain_markdown(&r.text).replace([snippet::START, snippet::STOP], "");
            (plain, r.ts_config.clone())
        })
        .unzip();
    if texts.is_empty() {
        return Ok(Vec::new());
    }
    let options = format!("HighlightAll=true, StartSel=\"{}\", StopSel=\"{}\"", snippet::START, snippet::STOP);
    sqlx::query_scalar(
        "SELECT ts_headline(u.cfg::regconfig, u.text, websearch_to_tsquery(u.cfg::regconfig, $3), $4)
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(text, cfg, n)
          ORDER BY u.n",
    )
    .bind(&texts)
    .bind(&configs)
    .bind(lexical::any_word_query(query))
    .bind(options)
    .fetch_all(tenant.conn())
    .await
}

/// Whether `err` comes from a hosted service (vector store, embedder) that failed after its
/// retries, rather than from a misconfiguration or the database.
fn is_remote_outage(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(e.downcast_ref::<vector::VectorError>(), Some(vector::VectorError::Remote(_)))
            || matches!(e.downcast_ref::<embed::EmbedError>(), Some(embed::EmbedError::Provider(_)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_at_most_per_page_passages_of_one_page_in_rank_order() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let ranked = vec![(1, a), (2, a), (3, a), (4, b), (5, a), (6, c), (7, b), (8, b)];
        let kept: Vec<i32> = per_page(ranked.clone(), |(_, p)| *p, 2, 10).into_iter().map(|(n, _)| n).collect();
        assert_eq!(kept, [1, 2, 4, 6, 7]);
        let kept: Vec<i32> = per_page(ranked, |(_, p)| *p, 1, 2).into_iter().map(|(n, _)| n).collect();
        assert_eq!(kept, [1, 4]);
    }
}
