//! Retrieval of the passages a draft rests on. [`Retriever`] is the seam: generation asks it
//! for the k most relevant passages of the org's library. [`HybridRetriever`] answers with the
//! library's search, one whole passage per page (with its neighbour when it is short), as
//! plain text within a token budget; [`FullTextRetriever`] (Postgres full-text search over
//! `contents`, split into paragraphs) stands in while nothing is chunked yet.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tenancy::Tenant;

/// A passage of one of the org's content items.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The content item.
    pub content_id: Uuid,
    /// Its title.
    pub title: String,
    /// Its URL, when it has one.
    pub url: Option<String>,
    /// The headings above the passage, when it is a chunk under headings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// The chunk the passage starts with, when it is one (citations open it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_id: Option<Uuid>,
    /// The passage as plain text (one chunk, or two neighbours, or a paragraph).
    pub text: String,
    /// Relevance, higher is better (comparable within one retrieval only).
    pub score: f32,
}

/// Most tokens (cl100k) one source may bring to a prompt.
pub const SOURCE_TOKENS: usize = 450;
/// Most tokens all sources together may bring: well inside the smallest context of the
/// supported models, beside the instructions and the draft.
pub const PROMPT_SOURCE_TOKENS: usize = 4_000;
/// A passage shorter than this (tokens) is joined by the passage after it.
const SHORT_PASSAGE_TOKENS: i32 = 80;

/// `text` cut to at most `max` tokens, at a sentence end when there is one in the last
/// third, else at a word boundary, marked with an ellipsis.
pub fn within_tokens(text: &str, max: usize) -> String {
    if crate::content::chunking::count_tokens(text) <= max {
        return text.to_owned();
    }
    // Characters per token vary; shrink by the measured ratio until it fits.
    let mut end = text.len();
    loop {
        let tokens = crate::content::chunking::count_tokens(&text[..end]).max(1);
        if tokens <= max {
            break;
        }
        let target = end * max / tokens * 95 / 100;
        end = text.floor_char_boundary(target.min(end - 1));
    }
    let cut = &text[..end];
    let sentence_end =
        crate::text::sentences(cut).last().map(|r| r.end).filter(|e| *e >= cut.len() * 2 / 3 && *e < cut.len());
    let end = match sentence_end {
        Some(e) => e,
        None => cut.rfind(char::is_whitespace).unwrap_or(cut.len()),
    };
    format!("{}…", cut[..end].trim_end())
}

/// Finds the passages of the tenant's library most relevant to a query.
pub trait Retriever: Sync {
    /// The `k` best passages for `query`, only from `content_ids` when given. Runs inside the
    /// tenant's transaction, so it can only see the tenant's own items.
    fn retrieve(
        &self,
        tenant: &mut Tenant,
        query: &str,
        k: usize,
        content_ids: Option<&[Uuid]>,
    ) -> impl Future<Output = anyhow::Result<Vec<Source>>> + Send;
}

/// Postgres full-text search (`websearch_to_tsquery` over title + markdown, any query word
/// matching), items split into paragraphs ranked by `ts_rank_cd`, the best one per item.
/// When nothing matches, the most recently changed items' paragraphs stand in, so a draft
/// always rests on the library.
pub struct FullTextRetriever;

/// Bytes of an item searched (to_tsvector is capped at 1 MB of lexemes).
const SEARCHED_BYTES: i32 = 200_000;

const SQL: &str = r"
WITH q AS (SELECT websearch_to_tsquery('english', $2) AS q),
items AS (
    SELECT c.id, c.title, c.url, left(c.markdown, $5) AS md, c.updated_at,
           ts_rank_cd(to_tsvector('english', c.title || ' ' || left(c.markdown, $5)), q.q) AS rank
      FROM contents c, q
     WHERE c.org_id = $1
       AND ($4::uuid[] IS NULL OR c.id = ANY($4))
       AND ($6 OR to_tsvector('english', c.title || ' ' || left(c.markdown, $5)) @@ q.q)
     ORDER BY rank DESC, c.updated_at DESC, c.id
     LIMIT 20),
paras AS (
    SELECT i.id, i.title, i.url, i.rank AS item_rank, i.updated_at, btrim(p.text) AS text, p.n,
           ts_rank_cd(to_tsvector('english', p.text), q.q) AS rank
      FROM items i, q, regexp_split_to_table(i.md, E'\\n[ \\t]*\\n') WITH ORDINALITY AS p(text, n)
     WHERE length(btrim(p.text)) >= 40),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY id ORDER BY rank DESC, n) AS per_item FROM paras)
SELECT id, title, url, left(text, 1500) AS text, (rank + item_rank * 0.1)::float4 AS score
  FROM ranked
 WHERE per_item <= 1
 ORDER BY rank DESC, item_rank DESC, updated_at DESC, id, n
 LIMIT $3";

impl Retriever for FullTextRetriever {
    async fn retrieve(
        &self,
        tenant: &mut Tenant,
        query: &str,
        k: usize,
        content_ids: Option<&[Uuid]>,
    ) -> anyhow::Result<Vec<Source>> {
        let org_id = tenant.org().id;
        let q = crate::search::lexical::any_word_query(query);
        let ids = content_ids.map(<[Uuid]>::to_vec);
        for fallback in [false, true] {
            if !fallback && q.is_empty() {
                continue;
            }
            let rows: Vec<(Uuid, String, Option<String>, String, f32)> = sqlx::query_as(SQL)
                .bind(org_id)
                .bind(&q)
                .bind(k as i64)
                .bind(&ids)
                .bind(SEARCHED_BYTES)
                .bind(fallback)
                .fetch_all(tenant.conn())
                .await?;
            if !rows.is_empty() {
                return Ok(rows
                    .into_iter()
                    .map(|(content_id, title, url, text, score)| Source {
                        content_id,
                        title,
                        url,
                        text: within_tokens(&crate::text::plain_markdown(&text), SOURCE_TOKENS),
                        score,
                        ..Source::default()
                    })
                    .collect());
            }
        }
        Ok(Vec::new())
    }
}

/// The library's search (BM25 fused with vector similarity over chunks), one passage per page,
/// each given whole, with the passage after it when it is short, link markup reduced to its
/// text, within [`SOURCE_TOKENS`] each and [`PROMPT_SOURCE_TOKENS`] in all. While nothing
/// is chunked yet, [`FullTextRetriever`] stands in so a draft always rests on the library.
pub struct HybridRetriever<'a> {
    /// Embedder and vector store.
    pub retrieval: &'a crate::search::Retrieval,
    /// For the store's compatibility check.
    pub db: &'a crate::db::Database,
}

impl Retriever for HybridRetriever<'_> {
    async fn retrieve(
        &self,
        tenant: &mut Tenant,
        query: &str,
        k: usize,
        content_ids: Option<&[Uuid]>,
    ) -> anyhow::Result<Vec<Source>> {
        let q = crate::search::SearchQuery {
            content_ids: content_ids.map(<[Uuid]>::to_vec),
            per_page: 1,
            ..crate::search::SearchQuery::new(query, k)
        };
        let found = crate::search::search(tenant, self.retrieval, self.db, &q).await?;
        if found.results.is_empty() {
            return FullTextRetriever.retrieve(tenant, query, k, content_ids).await;
        }
        let org_id = tenant.org().id;
        let ids: Vec<Uuid> = found.results.iter().map(|h| h.chunk_id).collect();
        // Each hit's chunk and, when it is short, the next one of its item.
        let rows: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(
            "SELECT c.id, c.text || coalesce(E'\\n\\n' || n.text, ''), c.heading
               FROM content_chunks c
               LEFT JOIN content_chunks n ON c.token_count < $3 AND n.org_id = c.org_id
                    AND n.content_id = c.content_id AND n.position = c.position + 1
              WHERE c.org_id = $1 AND c.id = ANY($2)",
        )
        .bind(org_id)
        .bind(&ids)
        .bind(SHORT_PASSAGE_TOKENS)
        .fetch_all(tenant.conn())
        .await?;
        let texts: std::collections::HashMap<Uuid, (String, Option<String>)> =
            rows.into_iter().map(|(id, text, heading)| (id, (text, heading))).collect();
        let mut budget = PROMPT_SOURCE_TOKENS;
        let mut sources = Vec::new();
        for hit in found.results {
            let Some((markdown, heading)) = texts.get(&hit.chunk_id) else { continue };
            let text = within_tokens(&crate::text::plain_markdown(markdown), SOURCE_TOKENS.min(budget));
            let tokens = crate::content::chunking::count_tokens(&text);
            if text.trim().is_empty() || tokens > budget {
                break;
            }
            budget -= tokens;
            sources.push(Source {
                content_id: hit.content_id,
                title: hit.title,
                url: hit.url,
                heading: heading.clone(),
                chunk_id: Some(hit.chunk_id),
                text,
                score: hit.score as f32,
            });
            if budget < 50 {
                break;
            }
        }
        Ok(sources)
    }
}
