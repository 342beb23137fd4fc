//! Lexical search that ranks: Okapi BM25 over the organization's passages, read from the
//! inverted index `search_postings` (migration 0009) in one SQL query.
//!
//! Any query term may match (stop words dropped and words stemmed by Postgres's `english`
//! configuration, plus the words as written for passages in a language without a stemmer).
//! A term scores by its rarity in the organization (idf) and its frequency in the passage,
//! saturated and normalised by the passage's length; words of the title and heading path
//! count twice. Longer query words also match as prefixes of indexed words ("config" finds
//! "configparser") at a small weight, two query words that stand side by side in a passage
//! raise it by a quarter each, and passages that are mostly links (hub pages listing every
//! module) are ranked down.

use uuid::Uuid;

use crate::tenancy::Tenant;

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's length normalisation (0: none, 1: full).
const B: f64 = 0.75;
/// Weight of a prefix match relative to the word itself: low, because a prefix mostly finds
/// other words (on the labelled question set 0.5 cost a tenth of the hits that 0.15 keeps).
const PREFIX_WEIGHT: f64 = 0.15;
/// Indexed words a query word may expand to as a prefix.
const PREFIX_EXPANSIONS: i64 = 8;
/// Shortest query word (as stemmed) that expands as a prefix.
const PREFIX_MIN_CHARS: i32 = 4;
/// Score added per pair of adjacent query words found side by side, as a share.
const PHRASE_BOOST: f64 = 0.25;
/// How much a passage made only of links loses (its link density times this).
pub const LINK_PENALTY: f64 = 0.5;
/// Passages ranked by BM25 before the phrase and link rerank.
const RERANKED: i64 = 200;
/// Postings a query reads at most: terms are taken rarest first until their passages would
/// exceed this, so a question made of the corpus's commonest words stays fast. The terms
/// left out are the commonest, which BM25 weighs least.
pub const POSTINGS_BUDGET: i64 = 12_000;
/// Adjacent word pairs of a query checked for the phrase boost.
const MAX_PAIRS: usize = 8;

/// A passage found by lexical search.
#[derive(Clone, Debug, PartialEq)]
pub struct LexicalHit {
    /// The chunk.
    pub chunk_id: Uuid,
    /// Its score (BM25 with the phrase and link adjustments; higher is better).
    pub score: f64,
}

const SQL: &str = r#"
WITH st AS (
    SELECT greatest(chunks, 1)::float8 AS n, greatest(tokens::float8 / greatest(chunks, 1), 1) AS avgdl
      FROM search_stats WHERE org_id = $1),
english AS (SELECT DISTINCT l AS lexeme FROM unnest(tsvector_to_array(to_tsvector('english', $2))) AS l),
terms AS (
    SELECT lexeme, max(weight) AS weight FROM (
        SELECT lexeme, 1.0::float8 AS weight FROM english
        UNION ALL
        SELECT l, 1.0 FROM unnest(tsvector_to_array(to_tsvector('simple', $2))) AS l
        UNION ALL
        SELECT x.lexeme, $7::float8 FROM english w
         CROSS JOIN LATERAL (
             SELECT DISTINCT p.lexeme FROM search_postings p
              WHERE p.org_id = $1 AND length(w.lexeme) >= $8
                AND p.lexeme > (w.lexeme COLLATE "C") AND p.lexeme < ((w.lexeme || chr(1114111)) COLLATE "C")
              LIMIT $9) x
    ) t GROUP BY lexeme),
df AS (
    SELECT t.lexeme, t.weight, sum(p.chunks)::float8 AS df
      FROM terms t JOIN search_postings p ON p.org_id = $1 AND p.lexeme = t.lexeme
     GROUP BY t.lexeme, t.weight),
kept AS (
    SELECT d.lexeme, d.weight * ln(1 + (st.n - d.df + 0.5) / (d.df + 0.5)) AS idf
      FROM (SELECT *, sum(df) OVER (ORDER BY df, lexeme) AS running FROM df) d, st
     WHERE d.running - d.df < $5),
hits AS (
    SELECT p.content_id, unnest(p.positions) AS position, k.idf, unnest(p.freqs) AS tf, unnest(p.lengths) AS len
      FROM kept k JOIN search_postings p ON p.org_id = $1 AND p.lexeme = k.lexeme
     WHERE $4::uuid[] IS NULL OR p.content_id = ANY($4)),
bm25 AS (
    SELECT h.content_id, h.position,
           sum(h.idf * h.tf * ($10 + 1) / (h.tf + $10 * (1 - $11 + $11 * h.len / st.avgdl))) AS score
      FROM hits h, st
     GROUP BY h.content_id, h.position
     ORDER BY score DESC
     LIMIT $12),
pairs AS (
    SELECT pq FROM (SELECT phraseto_tsquery('english', p) AS pq FROM unnest($6::text[]) AS p) x WHERE numnode(pq) = 3)
SELECT c.id,
       b.score * (1 + $13 * (SELECT count(*) FROM pairs WHERE c.tsv @@ pairs.pq)) * (1 - $14 * c.link_density) AS score
  FROM bm25 b JOIN content_chunks c ON c.org_id = $1 AND c.content_id = b.content_id AND c.position = b.position
 ORDER BY 2 DESC, c.id
 LIMIT $3"#;

/// The `limit` passages of the tenant best matching `query` by BM25, best first (only of
/// `content_ids` when given; the terms' rarity is the organization's either way).
pub async fn search(
    tenant: &mut Tenant,
    query: &str,
    limit: usize,
    content_ids: Option<&[Uuid]>,
) -> Result<Vec<LexicalHit>, sqlx::Error> {
    search_with_budget(tenant, query, limit, content_ids, POSTINGS_BUDGET).await
}

/// [`search`] with another postings budget (the benchmark measures what the budget costs).
pub async fn search_with_budget(
    tenant: &mut Tenant,
    query: &str,
    limit: usize,
    content_ids: Option<&[Uuid]>,
    budget: i64,
) -> Result<Vec<LexicalHit>, sqlx::Error> {
    let org_id = tenant.org().id;
    let rows: Vec<(Uuid, f64)> = sqlx::query_as(SQL)
        .bind(org_id)
        .bind(query)
        .bind(limit as i64)
        .bind(content_ids)
        .bind(budget)
        .bind(adjacent_pairs(query))
        .bind(PREFIX_WEIGHT)
        .bind(PREFIX_MIN_CHARS)
        .bind(PREFIX_EXPANSIONS)
        .bind(K1)
        .bind(B)
        .bind(RERANKED.max(limit as i64))
        .bind(PHRASE_BOOST)
        .bind(LINK_PENALTY)
        .fetch_all(tenant.conn())
        .await?;
    Ok(rows.into_iter().map(|(chunk_id, score)| LexicalHit { chunk_id, score }).collect())
}

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

/// Pairs of neighbouring words of the query as written ("leap year"), for the phrase boost.
/// Postgres keeps only pairs of two indexed words (a stop word makes a pair a single term).
pub fn adjacent_pairs(query: &str) -> Vec<String> {
    let words: Vec<&str> = query
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    words.windows(2).map(|w| format!("{} {}", w[0], w[1])).take(MAX_PAIRS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_match_any_word_and_drop_operators_and_punctuation() {
        assert_eq!(any_word_query("Pricing, plans & \"teams\" -or- OR x"), "pricing or plans or teams");
        assert_eq!(any_word_query("!!"), "");
    }

    #[test]
    fn pairs_are_neighbouring_words_without_punctuation() {
        assert_eq!(adjacent_pairs("Is 2024 a leap-year?"), ["Is 2024", "2024 a", "a leap-year"]);
        assert_eq!(adjacent_pairs("one"), Vec::<String>::new());
        assert_eq!(adjacent_pairs("a b c d e f g h i j k l").len(), MAX_PAIRS);
    }
}
