//! Retrieval of the passages a draft rests on. [`Retriever`] is the seam: generation asks it
//! for the k most relevant passages of the org's library. [`FullTextRetriever`] answers with
//! Postgres full-text search over `contents`, split into paragraphs; the hybrid (vector +
//! full-text) retriever of the search feature implements the same trait.

use std::future::Future;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::tenancy::Tenant;

/// A passage of one of the org's content items.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The content item.
    pub content_id: Uuid,
    /// Its title.
    pub title: String,
    /// Its URL, when it has one.
    pub url: Option<String>,
    /// The passage (a chunk or paragraph).
    pub text: String,
    /// Relevance, higher is better (comparable within one retrieval only).
    pub score: f32,
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
/// matching), items split into paragraphs ranked by `ts_rank_cd`, at most three per item.
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
 WHERE per_item <= 3
 ORDER BY rank DESC, item_rank DESC, updated_at DESC, id, n
 LIMIT $3";

/// The words of a query joined with `or`, so any of them matches (websearch syntax never
/// fails to parse).
pub fn any_word_query(query: &str) -> String {
    let mut seen = std::collections::BTreeSet::new();
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && w.len() <= 40)
        .map(str::to_lowercase)
        .filter(|w| w != "or" && seen.insert(w.clone()))
        .take(40)
        .collect::<Vec<_>>()
        .join(" or ")
}

impl Retriever for FullTextRetriever {
    async fn retrieve(
        &self,
        tenant: &mut Tenant,
        query: &str,
        k: usize,
        content_ids: Option<&[Uuid]>,
    ) -> anyhow::Result<Vec<Source>> {
        let org_id = tenant.org().id;
        let q = any_word_query(query);
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
                    .map(|(content_id, title, url, text, score)| Source { content_id, title, url, text, score })
                    .collect());
            }
        }
        Ok(Vec::new())
    }
}

/// The library's hybrid search (vector similarity fused with full-text rank over chunks),
/// falling back to [`FullTextRetriever`] while nothing is chunked or embedded yet (a library
/// whose outbox has not drained) so a draft always rests on the library.
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
        let q =
            crate::search::SearchQuery { query: query.to_owned(), k, content_ids: content_ids.map(<[Uuid]>::to_vec) };
        let found = crate::search::search(tenant, self.retrieval, self.db, &q).await?;
        if found.results.is_empty() {
            return FullTextRetriever.retrieve(tenant, query, k, content_ids).await;
        }
        Ok(found
            .results
            .into_iter()
            .map(|hit| Source {
                content_id: hit.content_id,
                title: hit.title,
                url: hit.url,
                text: hit.snippet,
                score: hit.score as f32,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_match_any_word_and_drop_operators_and_punctuation() {
        assert_eq!(any_word_query("Pricing, plans & \"teams\" -or- OR x"), "pricing or plans or teams");
        assert_eq!(any_word_query("!!"), "");
    }
}
