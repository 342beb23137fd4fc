//! Pinecone over its REST data plane: one namespace per organization (`org_<uuid>`, from the
//! verified tenant), upserts in batches within 1000 records and 2 MB, deletes by id in
//! batches of 1000, the whole namespace deleted when an organization is removed, and
//! backoff on 429/5xx. The `X-Pinecone-Api-Version` header is pinned by settings.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{VectorError, VectorMatch, VectorRecord, VectorStore};
use crate::{
    config::Secret,
    db::Database,
    embed::{
        BoxFuture,
        retry::{self, Backoff},
    },
    tenancy::Tenant,
};

/// Most records per upsert request.
pub const MAX_UPSERT_RECORDS: usize = 1000;
/// Largest upsert request body (Pinecone's limit is 2 MB; keep a margin).
pub const MAX_UPSERT_BYTES: usize = 2_000_000;
/// Most ids per delete request.
pub const MAX_DELETE_IDS: usize = 1000;

/// The namespace of an organization.
pub fn namespace(org_id: Uuid) -> String {
    format!("org_{org_id}")
}

/// A Pinecone index's data plane.
pub struct PineconeStore {
    http: reqwest::Client,
    host: String,
    key: Secret,
    api_version: String,
    backoff: Backoff,
}

impl PineconeStore {
    /// A client for the index at `host` (`https://<index>-<project>.svc.<env>.pinecone.io`).
    pub fn new(http: reqwest::Client, host: &str, key: Secret, api_version: String) -> anyhow::Result<Self> {
        let host = host.trim_end_matches('/').to_owned();
        url::Url::parse(&host).map_err(|e| anyhow::anyhow!("PINECONE_INDEX_HOST is not a URL: {e}"))?;
        Ok(Self { http, host, key, api_version, backoff: Backoff::default() })
    }

    /// Changes the retry policy (tests use short pauses).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.host))
            .header("Api-Key", self.key.expose())
            .header("X-Pinecone-Api-Version", &self.api_version)
            .header("Accept", "application/json")
    }

    async fn post(&self, path: &str, what: &str, body: &serde_json::Value) -> Result<axum::body::Bytes, VectorError> {
        retry::send(self.backoff, what, || self.request(reqwest::Method::POST, path).json(body))
            .await
            .map_err(|e| VectorError::Remote(e.to_string()))
    }
}

/// Typed, so floats serialize as f32 (a `serde_json::Value` would widen them to f64 text).
#[derive(Serialize)]
struct UpsertBody<'a> {
    vectors: Vec<Record<'a>>,
    namespace: &'a str,
}

#[derive(Serialize)]
struct Record<'a> {
    id: String,
    values: &'a [f32],
    metadata: Metadata,
}

/// Small metadata: only what filters need (Pinecone allows 40 KB, no nulls).
#[derive(Serialize)]
struct Metadata {
    content_id: String,
}

#[derive(Deserialize)]
struct QueryResponse {
    #[serde(default)]
    matches: Vec<Match>,
}

#[derive(Deserialize)]
struct Match {
    id: String,
    #[serde(default)]
    score: f32,
}

#[derive(Deserialize)]
struct Stats {
    dimension: Option<usize>,
}

/// Splits records into upsert batches within the record and byte limits.
pub fn upsert_batches(records: &[VectorRecord]) -> Vec<&[VectorRecord]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 64);
    for (i, r) in records.iter().enumerate() {
        // id and metadata (~120 bytes) plus each f32 written as at most 15 characters + comma.
        let size = 160 + r.values.len() * 16;
        if i > start && (i - start >= MAX_UPSERT_RECORDS || bytes + size > MAX_UPSERT_BYTES) {
            batches.push(&records[start..i]);
            (start, bytes) = (i, 64);
        }
        bytes += size;
    }
    if start < records.len() {
        batches.push(&records[start..]);
    }
    batches
}

impl VectorStore for PineconeStore {
    fn backend(&self) -> &'static str {
        "pinecone"
    }

    fn upsert<'a>(
        &'a self,
        tenant: &'a mut Tenant,
        records: &'a [VectorRecord],
    ) -> BoxFuture<'a, Result<(), VectorError>> {
        Box::pin(async move {
            let ns = namespace(tenant.org().id);
            for batch in upsert_batches(records) {
                let vectors: Vec<Record> = batch
                    .iter()
                    .map(|r| Record {
                        id: r.chunk_id.to_string(),
                        values: &r.values,
                        metadata: Metadata { content_id: r.content_id.to_string() },
                    })
                    .collect();
                let body = UpsertBody { vectors, namespace: &ns };
                retry::send(self.backoff, "Pinecone upsert", || {
                    self.request(reqwest::Method::POST, "/vectors/upsert").json(&body)
                })
                .await
                .map_err(|e| VectorError::Remote(e.to_string()))?;
            }
            Ok(())
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
            let mut body = json!({
                "namespace": namespace(tenant.org().id),
                "vector": vector,
                "topK": k.clamp(1, 10_000),
                "includeValues": false,
                "includeMetadata": false,
            });
            if let Some(ids) = content_ids {
                let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
                body["filter"] = json!({"content_id": {"$in": ids}});
            }
            let bytes = self.post("/query", "Pinecone query", &body).await?;
            let parsed: QueryResponse = serde_json::from_slice(&bytes)
                .map_err(|e| VectorError::Remote(format!("Pinecone query: unexpected response: {e}")))?;
            // Ids that are not ours (cannot happen in our namespace) are dropped, not trusted.
            Ok(parsed
                .matches
                .into_iter()
                .filter_map(|m| Some(VectorMatch { chunk_id: Uuid::parse_str(&m.id).ok()?, score: m.score }))
                .collect())
        })
    }

    fn delete<'a>(&'a self, tenant: &'a mut Tenant, chunk_ids: &'a [Uuid]) -> BoxFuture<'a, Result<(), VectorError>> {
        Box::pin(async move {
            let ns = namespace(tenant.org().id);
            for batch in chunk_ids.chunks(MAX_DELETE_IDS) {
                let ids: Vec<String> = batch.iter().map(Uuid::to_string).collect();
                self.post("/vectors/delete", "Pinecone delete", &json!({"ids": ids, "namespace": ns})).await?;
            }
            Ok(())
        })
    }

    fn delete_namespace<'a>(&'a self, _db: &'a Database, org_id: Uuid) -> BoxFuture<'a, Result<(), VectorError>> {
        Box::pin(async move {
            let path = format!("/namespaces/{}", namespace(org_id));
            match retry::send(self.backoff, "Pinecone delete namespace", || {
                self.request(reqwest::Method::DELETE, &path)
            })
            .await
            {
                Ok(_) => Ok(()),
                // A namespace that never received a vector does not exist: nothing to remove.
                Err(e) if e.status == Some(404) => Ok(()),
                Err(e) => Err(VectorError::Remote(e.to_string())),
            }
        })
    }

    fn index_dimensions(&self) -> BoxFuture<'_, Result<Option<usize>, VectorError>> {
        Box::pin(async move {
            let bytes = self.post("/describe_index_stats", "Pinecone describe_index_stats", &json!({})).await?;
            let stats: Stats = serde_json::from_slice(&bytes)
                .map_err(|e| VectorError::Remote(format!("Pinecone describe_index_stats: unexpected response: {e}")))?;
            Ok(stats.dimension)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_batches_stay_within_a_thousand_records_and_two_megabytes() {
        let small: Vec<VectorRecord> = (0..2500)
            .map(|_| VectorRecord { chunk_id: Uuid::new_v4(), content_id: Uuid::new_v4(), values: vec![0.1; 8] })
            .collect();
        let sizes: Vec<usize> = upsert_batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        let big: Vec<VectorRecord> = (0..300)
            .map(|_| VectorRecord {
                chunk_id: Uuid::new_v4(),
                content_id: Uuid::new_v4(),
                values: vec![-1.234_567_9e-5; 1536],
            })
            .collect();
        for batch in upsert_batches(&big) {
            let vectors = batch
                .iter()
                .map(|r| Record {
                    id: r.chunk_id.to_string(),
                    values: &r.values,
                    metadata: Metadata { content_id: r.content_id.to_string() },
                })
                .collect();
            let json = serde_json::to_vec(&UpsertBody { vectors, namespace: &namespace(Uuid::nil()) }).unwrap();
            assert!(json.len() <= 2 * 1024 * 1024, "{} bytes", json.len());
        }
        assert!(upsert_batches(&[]).is_empty());
    }
}
