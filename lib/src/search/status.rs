//! How much of an organization's library is searchable, and by what: passages in the
//! lexical index (all of them, as soon as they are stored) and passages with a vector
//! (searchable by meaning once the vector outbox has embedded them).

use serde::Serialize;

use crate::tenancy::Tenant;

/// The search index of one organization, as `GET /api/search/status` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndexStatus {
    /// What a search answers with now: `hybrid` once passages have vectors, else `full_text`.
    pub mode: &'static str,
    /// Whether an embedder is configured (without one, search stays full-text).
    pub embeddings_enabled: bool,
    /// Passages in the library (all searchable by words).
    pub passages: i64,
    /// Passages searchable by meaning.
    pub embedded: i64,
    /// Passages waiting for their vector.
    pub pending: i64,
    /// `embedded / passages` (1 for an empty library).
    pub searchable_share: f64,
    /// Passages embedded per second recently, while the index is being filled.
    pub passages_per_second: Option<f64>,
    /// Seconds until every passage is embedded at that rate; none when nothing is pending or
    /// no embedding ran in the last two minutes.
    pub eta_seconds: Option<u64>,
}

/// Counts of the organization's passages (the `search_stats` row).
#[derive(Clone, Copy, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct Counts {
    /// Passages.
    pub chunks: i64,
    /// Passages with a vector.
    pub embedded: i64,
    /// Recent embedding rate (passages per second), 0 when idle.
    pub rate: f64,
    /// Whether a drain wrote vectors in the last two minutes.
    pub draining: bool,
}

impl Counts {
    /// Share of passages with a vector (1 for an empty library).
    pub fn searchable_share(&self) -> f64 {
        if self.chunks == 0 { 1.0 } else { (self.embedded as f64 / self.chunks as f64).clamp(0.0, 1.0) }
    }
}

/// The organization's passage counts.
pub async fn counts(tenant: &mut Tenant) -> Result<Counts, sqlx::Error> {
    let org_id = tenant.org().id;
    let row: Option<Counts> = sqlx::query_as(
        "SELECT chunks, embedded, embed_rate AS rate,
                coalesce(last_embedded_at > now() - interval '2 minutes', false) AS draining
           FROM search_stats WHERE org_id = $1",
    )
    .bind(org_id)
    .fetch_optional(tenant.conn())
    .await?;
    Ok(row.unwrap_or_default())
}

/// The index status, for an organization whose deployment has (or lacks) an embedder.
pub async fn status(tenant: &mut Tenant, embeddings_enabled: bool) -> Result<IndexStatus, sqlx::Error> {
    Ok(describe(counts(tenant).await?, embeddings_enabled))
}

/// The status these counts describe.
pub fn describe(c: Counts, embeddings_enabled: bool) -> IndexStatus {
    let pending = (c.chunks - c.embedded).max(0);
    let rate = (c.draining && c.rate > 0.0).then_some(c.rate);
    IndexStatus {
        mode: if embeddings_enabled && c.embedded > 0 { "hybrid" } else { "full_text" },
        embeddings_enabled,
        passages: c.chunks,
        embedded: c.embedded,
        pending: if embeddings_enabled { pending } else { 0 },
        searchable_share: if embeddings_enabled { c.searchable_share() } else { 0.0 },
        passages_per_second: rate.filter(|_| embeddings_enabled && pending > 0),
        eta_seconds: rate.filter(|_| embeddings_enabled && pending > 0).map(|r| (pending as f64 / r).ceil() as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_without_vectors_is_full_text_and_estimates_only_while_draining() {
        let c = Counts { chunks: 1000, embedded: 0, rate: 0.0, draining: false };
        let s = describe(c, true);
        assert_eq!((s.mode, s.pending, s.searchable_share, s.eta_seconds), ("full_text", 1000, 0.0, None));

        let c = Counts { chunks: 1000, embedded: 250, rate: 12.5, draining: true };
        let s = describe(c, true);
        assert_eq!((s.mode, s.pending, s.searchable_share, s.eta_seconds), ("hybrid", 750, 0.25, Some(60)));
        assert_eq!(s.passages_per_second, Some(12.5));

        let stalled = describe(Counts { draining: false, ..c }, true);
        assert_eq!(stalled.eta_seconds, None);
        let done = describe(Counts { embedded: 1000, ..c }, true);
        assert_eq!((done.pending, done.eta_seconds, done.searchable_share), (0, None, 1.0));
    }

    #[test]
    fn without_an_embedder_nothing_is_pending_and_search_is_full_text() {
        let s = describe(Counts { chunks: 10, embedded: 0, rate: 0.0, draining: false }, false);
        assert_eq!((s.mode, s.pending, s.searchable_share, s.embeddings_enabled), ("full_text", 0, 0.0, false));
        assert_eq!(describe(Counts::default(), true).searchable_share, 1.0);
    }
}
