//! Vector stores: the [`VectorStore`] trait with two backends, pgvector (default; queries in
//! the tenant transaction) and Pinecone (one namespace per organization). The organization
//! always comes from the verified tenant, never from input.

pub mod pgvector;
pub mod pinecone;

use std::sync::Arc;

use anyhow::Context;
use uuid::Uuid;

use crate::{
    config::{Settings, VectorStoreKind},
    db::Database,
    embed::BoxFuture,
    tenancy::Tenant,
};

/// One chunk's vector.
#[derive(Clone, Debug)]
pub struct VectorRecord {
    /// The chunk (the record's id).
    pub chunk_id: Uuid,
    /// Its content item (metadata, for filtering).
    pub content_id: Uuid,
    /// Unit-length embedding.
    pub values: Vec<f32>,
}

/// Vectors a store holds, by chunk.
pub type StoredVectors = Vec<(Uuid, Vec<f32>)>;

/// A nearest chunk and its cosine similarity.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatch {
    /// The chunk.
    pub chunk_id: Uuid,
    /// Cosine similarity (1 = same direction).
    pub score: f32,
}

/// Why the vector store failed.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The remote store failed after retries.
    #[error("vector store: {0}")]
    Remote(String),
    /// The request cannot be stored as asked (dimension, size).
    #[error("vector store: {0}")]
    Invalid(String),
}

/// Stores and searches chunk vectors of one organization at a time.
pub trait VectorStore: Send + Sync {
    /// `pgvector` or `pinecone`, as recorded in `vector_spaces`.
    fn backend(&self) -> &'static str;
    /// Writes (or replaces) vectors of the tenant's chunks.
    fn upsert<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        records: &'a [VectorRecord],
    ) -> BoxFuture<'a, Result<(), VectorError>>;
    /// The `k` chunks nearest to `vector`, optionally only of `content_ids`.
    fn query<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        vector: &'a [f32],
        k: usize,
        content_ids: Option<&'a [Uuid]>,
    ) -> BoxFuture<'a, Result<Vec<VectorMatch>, VectorError>>;
    /// Removes vectors of the tenant's chunks (missing ids are fine).
    fn delete<'a>(&'a self, tenant: &'a mut Tenant, chunk_ids: &'a [Uuid]) -> BoxFuture<'a, Result<(), VectorError>>;
    /// Removes every vector of an organization (offboarding after the org is deleted).
    fn delete_namespace<'a>(&'a self, db: &'a Database, org_id: Uuid) -> BoxFuture<'a, Result<(), VectorError>>;
    /// The vectors the store holds for some of the tenant's chunks, by chunk; the default
    /// returns none. Lets a passage whose text is already embedded reuse that vector.
    fn fetch<'a>(
        &'a self,
        _tenant: &'a mut Tenant,
        _chunk_ids: &'a [Uuid],
    ) -> BoxFuture<'a, Result<StoredVectors, VectorError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// The dimension the store holds, when the store itself fixes one (a Pinecone index).
    fn index_dimensions(&self) -> BoxFuture<'_, Result<Option<usize>, VectorError>> {
        Box::pin(async { Ok(None) })
    }
}

/// The store the settings choose.
pub fn from_settings(settings: &Settings, http: &reqwest::Client) -> anyhow::Result<Arc<dyn VectorStore>> {
    Ok(match settings.vector_store {
        VectorStoreKind::Pgvector => Arc::new(pgvector::PgVectorStore::new()),
        VectorStoreKind::Pinecone => {
            let p = &settings.pinecone;
            Arc::new(pinecone::PineconeStore::new(
                http.clone(),
                p.index_host.as_deref().context("PINECONE_INDEX_HOST is not set")?,
                p.api_key.clone().context("PINECONE_API_KEY is not set")?,
                p.api_version.clone(),
            )?)
        }
    })
}

/// Reads a pgvector literal (`[0.1,0.2,…]`) back; `None` when it is not one.
pub fn parse_vector_literal(text: &str) -> Option<Vec<f32>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    inner.split(',').map(|v| v.trim().parse::<f32>().ok()).collect()
}

/// The vector literal pgvector reads: `[0.1,0.2,…]`.
pub fn vector_literal(values: &[f32]) -> String {
    let mut out = String::with_capacity(values.len() * 10 + 2);
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{v}"));
    }
    out.push(']');
    out
}
