//! pgvector: vectors in `chunk_embeddings`, written and searched inside the tenant
//! transaction, so row-level security confines them like every other table.
//!
//! pgvector 0.6 filters an HNSW scan after the fact (no iterative scans before 0.8), so a
//! small organization's chunks may be missing from the index's candidate list when the
//! index is shared with large ones. Small sets (an organization below
//! [`EXACT_BELOW`] vectors, or a `content_ids` filter) are therefore searched exactly, which
//! is fast at that size; larger ones use the HNSW index and fall back to an exact search if
//! the filtered candidates run short.

use uuid::Uuid;

use super::{VectorError, VectorMatch, VectorRecord, VectorStore, vector_literal};
use crate::{db::Database, embed::BoxFuture, tenancy::Tenant};

/// Organizations with fewer vectors than this are searched exactly.
pub const EXACT_BELOW: i64 = 5_000;

/// The pgvector backend (stateless; the tenant transaction carries everything).
#[derive(Default)]
pub struct PgVectorStore {
    /// Model name recorded with each row.
    model: String,
}

impl PgVectorStore {
    /// A pgvector store.
    pub fn new() -> Self {
        Self { model: String::new() }
    }

    /// Records `model` with the rows it writes.
    pub fn with_model(mut self, model: &str) -> Self {
        self.model = model.to_owned();
        self
    }
}

/// How a query searched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Every vector of the organization compared.
    Exact,
    /// The HNSW index.
    Hnsw,
}

/// Nearest chunks by `strategy` (public for the benchmark's recall measurement).
pub async fn search(
    tenant: &mut Tenant,
    vector: &[f32],
    k: usize,
    content_ids: Option<&[Uuid]>,
    strategy: Strategy,
) -> Result<Vec<VectorMatch>, sqlx::Error> {
    let org_id = tenant.org().id;
    let dims = vector.len();
    // The query vector is parsed once, in a sub-select; written inline, a generic plan would
    // parse its text again for every row compared.
    let literal = vector_literal(vector);
    let rows: Vec<(Uuid, f64)> = match strategy {
        Strategy::Exact => {
            // `+ 0` keeps the planner off the HNSW index: this must see every row.
            let sql = format!(
                "SELECT chunk_id, 1 - (embedding::vector({dims}) <=> (SELECT $2::text::vector({dims}))) AS score
                   FROM chunk_embeddings
                  WHERE org_id = $1 AND dimensions = {dims} AND ($3::uuid[] IS NULL OR content_id = ANY($3))
                  ORDER BY (embedding::vector({dims}) <=> (SELECT $2::text::vector({dims}))) + 0
                  LIMIT $4"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(&literal)
                .bind(content_ids)
                .bind(k as i64)
                .fetch_all(tenant.conn())
                .await?
        }
        Strategy::Hnsw => {
            let ef = (k * 4).clamp(64, 1000);
            sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL hnsw.ef_search = {ef}"))).execute(tenant.conn()).await?;
            let sql = format!(
                "SELECT chunk_id, 1 - (embedding::vector({dims}) <=> (SELECT $2::text::vector({dims}))) AS score
                   FROM chunk_embeddings
                  WHERE org_id = $1 AND dimensions = {dims}
                  ORDER BY embedding::vector({dims}) <=> (SELECT $2::text::vector({dims}))
                  LIMIT $3"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org_id)
                .bind(&literal)
                .bind(k as i64)
                .fetch_all(tenant.conn())
                .await?
        }
    };
    Ok(rows.into_iter().map(|(chunk_id, score)| VectorMatch { chunk_id, score: score as f32 }).collect())
}

impl VectorStore for PgVectorStore {
    fn backend(&self) -> &'static str {
        "pgvector"
    }

    fn upsert<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        records: &'a [VectorRecord],
    ) -> BoxFuture<'a, Result<(), VectorError>> {
        Box::pin(async move {
            let org_id = tenant.org().id;
            if let Some(r) = records.iter().find(|r| r.values.is_empty() || r.values.len() > 4096) {
                return Err(VectorError::Invalid(format!("a vector of {} dimensions", r.values.len())));
            }
            let ids: Vec<Uuid> = records.iter().map(|r| r.chunk_id).collect();
            let dims: Vec<i32> = records.iter().map(|r| r.values.len() as i32).collect();
            let literals: Vec<String> = records.iter().map(|r| vector_literal(&r.values)).collect();
            // Only chunks that still exist get a vector (a deleted chunk's upsert is moot).
            sqlx::query(
                "INSERT INTO chunk_embeddings (org_id, chunk_id, content_id, model, dimensions, embedding)
                 SELECT c.org_id, c.id, c.content_id, $2, u.dims, u.v::vector
                   FROM unnest($3::uuid[], $4::int[], $5::text[]) AS u(id, dims, v)
                   JOIN content_chunks c ON c.org_id = $1 AND c.id = u.id
                 ON CONFLICT (org_id, chunk_id) DO UPDATE
                    SET model = EXCLUDED.model, dimensions = EXCLUDED.dimensions,
                        embedding = EXCLUDED.embedding, updated_at = now()",
            )
            .bind(org_id)
            .bind(&self.model)
            .bind(&ids)
            .bind(&dims)
            .bind(&literals)
            .execute(tenant.conn())
            .await?;
            Ok(())
        })
    }

    fn fetch<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        chunk_ids: &'a [Uuid],
    ) -> BoxFuture<'a, Result<super::StoredVectors, VectorError>> {
        Box::pin(async move {
            let org_id = tenant.org().id;
            let rows: Vec<(Uuid, String)> = sqlx::query_as(
                "SELECT chunk_id, embedding::text FROM chunk_embeddings WHERE org_id = $1 AND chunk_id = ANY($2)",
            )
            .bind(org_id)
            .bind(chunk_ids)
            .fetch_all(tenant.conn())
            .await?;
            rows.into_iter()
                .map(|(id, text)| {
                    super::parse_vector_literal(&text)
                        .map(|v| (id, v))
                        .ok_or_else(|| VectorError::Invalid(format!("an unreadable stored vector for chunk {id}")))
                })
                .collect()
        })
    }

    fn query<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        vector: &'a [f32],
        k: usize,
        content_ids: Option<&'a [Uuid]>,
    ) -> BoxFuture<'a, Result<Vec<VectorMatch>, VectorError>> {
        Box::pin(async move {
            if vector.is_empty() || vector.len() > 4096 {
                return Err(VectorError::Invalid(format!("a query vector of {} dimensions", vector.len())));
            }
            let exact = match content_ids {
                Some(_) => true,
                None => {
                    let org_id = tenant.org().id;
                    let count: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM (SELECT 1 FROM chunk_embeddings WHERE org_id = $1 LIMIT $2) s",
                    )
                    .bind(org_id)
                    .bind(EXACT_BELOW)
                    .fetch_one(tenant.conn())
                    .await?;
                    count < EXACT_BELOW
                }
            };
            if exact {
                return Ok(search(tenant, vector, k, content_ids, Strategy::Exact).await?);
            }
            let found = search(tenant, vector, k, None, Strategy::Hnsw).await?;
            if found.len() < k {
                return Ok(search(tenant, vector, k, None, Strategy::Exact).await?);
            }
            Ok(found)
        })
    }

    fn delete<'a>(&'a self, tenant: &'a mut Tenant, chunk_ids: &'a [Uuid]) -> BoxFuture<'a, Result<(), VectorError>> {
        Box::pin(async move {
            let org_id = tenant.org().id;
            sqlx::query("DELETE FROM chunk_embeddings WHERE org_id = $1 AND chunk_id = ANY($2)")
                .bind(org_id)
                .bind(chunk_ids)
                .execute(tenant.conn())
                .await?;
            Ok(())
        })
    }

    fn delete_namespace<'a>(&'a self, db: &'a Database, org_id: Uuid) -> BoxFuture<'a, Result<(), VectorError>> {
        Box::pin(async move {
            // When the organization row is gone its vectors went with it (ON DELETE CASCADE).
            if let Some(mut tenant) =
                Tenant::for_system(db, org_id, "vectors: delete an organization's vectors").await?
            {
                sqlx::query("DELETE FROM chunk_embeddings WHERE org_id = $1")
                    .bind(org_id)
                    .execute(tenant.conn())
                    .await?;
                tenant.commit().await?;
            }
            Ok(())
        })
    }
}
