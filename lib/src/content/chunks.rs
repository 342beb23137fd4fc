//! Stored chunks of content items. Replacing an item's chunks queues their vector work in
//! `vector_outbox` in the same transaction, so the vector store follows Postgres.

use serde::Serialize;
use uuid::Uuid;

use super::chunking;
use crate::tenancy::Tenant;

/// A stored chunk, as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct StoredChunk {
    /// Id.
    pub id: Uuid,
    /// Order within the item.
    pub position: i32,
    /// Heading path above it.
    pub heading: Option<String>,
    /// The chunk's markdown.
    pub text: String,
    /// cl100k tokens.
    pub token_count: i32,
    /// `pending` until its vector is in the store, then `embedded`.
    pub embedding_state: String,
}

/// The full-text configuration for a BCP 47 language tag: English when none is known,
/// `simple` (no stemming) for a language Postgres has no stemmer for.
pub fn ts_config(language: Option<&str>) -> &'static str {
    let Some(language) = language else { return "english" };
    let primary = language.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    match primary.as_str() {
        "en" => "english",
        "de" => "german",
        "fr" => "french",
        "es" => "spanish",
        "it" => "italian",
        "pt" => "portuguese",
        "nl" => "dutch",
        "sv" => "swedish",
        "da" => "danish",
        "no" | "nb" | "nn" => "norwegian",
        "fi" => "finnish",
        "ru" => "russian",
        _ => "simple",
    }
}

/// Replaces the chunks of item `content_id` with `chunks` (cut from its markdown by
/// [`chunking::chunk`]): the old chunks' vectors are queued for deletion, the new chunks for
/// embedding (each page's first passages first), and the item's lexical postings and the
/// organization's search counts follow in the same transaction.
pub async fn replace(
    tenant: &mut Tenant,
    content_id: Uuid,
    chunks: &[chunking::Chunk],
    language: Option<&str>,
) -> Result<usize, sqlx::Error> {
    remove(tenant, content_id).await?;
    let org_id = tenant.org().id;
    let positions: Vec<i32> = chunks.iter().map(|c| c.position).collect();
    let headings: Vec<Option<String>> = chunks.iter().map(|c| c.heading.clone()).collect();
    let texts: Vec<String> = chunks.iter().map(|c| c.text.clone()).collect();
    let tokens: Vec<i32> = chunks.iter().map(|c| c.token_count).collect();
    sqlx::query(
        "WITH new AS (
             INSERT INTO content_chunks (org_id, content_id, position, heading, text, token_count, ts_config)
             SELECT $1, $2, p, h, t, n, $7::regconfig FROM unnest($3::int[], $4::text[], $5::text[], $6::int[]) AS u(p, h, t, n)
             RETURNING id, position, token_count),
         queued AS (
             INSERT INTO vector_outbox (org_id, op, chunk_id, priority) SELECT $1, 'upsert', id, position FROM new)
         INSERT INTO search_stats (org_id, chunks, tokens)
         SELECT $1, count(*), coalesce(sum(token_count), 0) FROM new
         ON CONFLICT (org_id) DO UPDATE
            SET chunks = search_stats.chunks + EXCLUDED.chunks, tokens = search_stats.tokens + EXCLUDED.tokens",
    )
    .bind(org_id)
    .bind(content_id)
    .bind(&positions)
    .bind(&headings)
    .bind(&texts)
    .bind(&tokens)
    .bind(ts_config(language))
    .execute(tenant.conn())
    .await?;
    sqlx::query("SELECT vf_index_content($1, $2)").bind(org_id).bind(content_id).execute(tenant.conn()).await?;
    Ok(chunks.len())
}

/// Removes the chunks of item `content_id`, queues their vectors' deletion and takes them
/// out of the lexical index and the organization's search counts.
pub async fn remove(tenant: &mut Tenant, content_id: Uuid) -> Result<(), sqlx::Error> {
    let org_id = tenant.org().id;
    sqlx::query(
        "WITH gone AS (
             DELETE FROM content_chunks WHERE org_id = $1 AND content_id = $2
             RETURNING id, token_count, embedding_state),
         queued AS (INSERT INTO vector_outbox (org_id, op, chunk_id) SELECT $1, 'delete', id FROM gone),
         postings AS (DELETE FROM search_postings WHERE org_id = $1 AND content_id = $2)
         UPDATE search_stats s
            SET chunks = s.chunks - g.chunks, tokens = s.tokens - g.tokens, embedded = s.embedded - g.embedded
           FROM (SELECT count(*) AS chunks, coalesce(sum(token_count), 0) AS tokens,
                        count(*) FILTER (WHERE embedding_state = 'embedded') AS embedded FROM gone) g
          WHERE s.org_id = $1 AND g.chunks > 0",
    )
    .bind(org_id)
    .bind(content_id)
    .execute(tenant.conn())
    .await?;
    Ok(())
}

/// Sets the organization's search counts to what its chunks say. The statements that add,
/// remove and embed chunks keep them in step; the drain calls this once an organization's
/// outbox is empty, so a count can never stay wrong.
pub async fn recount(tenant: &mut Tenant) -> Result<(), sqlx::Error> {
    let org_id = tenant.org().id;
    sqlx::query(
        "INSERT INTO search_stats (org_id, chunks, tokens, embedded)
         SELECT $1, count(*), coalesce(sum(token_count), 0), count(*) FILTER (WHERE embedding_state = 'embedded')
           FROM content_chunks WHERE org_id = $1
         ON CONFLICT (org_id) DO UPDATE
            SET chunks = EXCLUDED.chunks, tokens = EXCLUDED.tokens, embedded = EXCLUDED.embedded",
    )
    .bind(org_id)
    .execute(tenant.conn())
    .await?;
    Ok(())
}

/// The chunks of item `content_id`, in order.
pub async fn list(tenant: &mut Tenant, content_id: Uuid) -> Result<Vec<StoredChunk>, sqlx::Error> {
    let org_id = tenant.org().id;
    sqlx::query_as(
        "SELECT id, position, heading, text, token_count, embedding_state FROM content_chunks
          WHERE org_id = $1 AND content_id = $2 ORDER BY position",
    )
    .bind(org_id)
    .bind(content_id)
    .fetch_all(tenant.conn())
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_map_to_full_text_configurations() {
        assert_eq!(ts_config(Some("en-US")), "english");
        assert_eq!(ts_config(Some("DE")), "german");
        assert_eq!(ts_config(Some("pt_BR")), "portuguese");
        assert_eq!(ts_config(Some("xx")), "simple");
        assert_eq!(ts_config(None), "english");
    }
}
