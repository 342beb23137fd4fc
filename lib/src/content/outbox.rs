//! The vector outbox: chunk work queued by the library in its own transactions, drained by
//! cron or `voiceforge serve`'s background loop. Rows are claimed with a lease (`FOR UPDATE
//! SKIP LOCKED`, then `available_at` pushed ahead), so concurrent drains share the work and
//! a crashed drain's rows come back; failures back off exponentially.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    db::Database,
    embed::{self, InputKind},
    search::Retrieval,
    tenancy::{System, Tenant},
    usage::{self, Metric},
    vector::VectorRecord,
};

/// How much one drain may do.
#[derive(Clone, Copy, Debug)]
pub struct DrainBudget {
    /// Organizations visited at most.
    pub max_orgs: usize,
    /// Outbox rows claimed per organization and round.
    pub batch: usize,
    /// Stop starting new work after this long.
    pub time: Duration,
    /// How long claimed rows stay hidden from other drains: a drain killed mid-write leaves
    /// its rows for this long (`VECTOR_OUTBOX_LEASE_SECONDS`, default 300).
    pub lease: Duration,
}

impl Default for DrainBudget {
    fn default() -> Self {
        Self { max_orgs: 50, batch: 64, time: Duration::from_secs(50), lease: DEFAULT_LEASE }
    }
}

impl DrainBudget {
    /// The default budget with the lease the settings choose.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self { lease: settings.vector_outbox_lease, ..Self::default() }
    }
}

/// What a drain did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DrainReport {
    /// Organizations with work visited.
    pub orgs: usize,
    /// Vectors written.
    pub upserted: usize,
    /// Vectors removed.
    pub deleted: usize,
    /// Rows that failed and will be retried later.
    pub failed: usize,
}

/// How long a claimed row stays hidden from other drains unless the settings say otherwise:
/// longer than an embedding and store write with all their retries take.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// Drains due outbox work across organizations within `budget`: lists the organizations
/// with due rows through the audited system path, then works on each in its own
/// system-tenant transactions.
pub async fn drain_outbox(db: &Database, retrieval: &Retrieval, budget: DrainBudget) -> anyhow::Result<DrainReport> {
    let started = Instant::now();
    let mut report = DrainReport::default();
    let Some(_) = retrieval.embedder() else {
        // Without an embedder nothing can be written; the rows wait for one.
        return Ok(report);
    };
    retrieval.ensure_compatible(db).await?;
    let mut system = System::begin(db, "outbox: list organizations with due vector work").await?;
    let orgs: Vec<Uuid> = sqlx::query_scalar(
        "SELECT org_id FROM vector_outbox WHERE available_at <= now() GROUP BY org_id ORDER BY min(available_at) LIMIT $1",
    )
    .bind(budget.max_orgs as i64)
    .fetch_all(system.conn())
    .await
    .context("listing organizations with due vector work")?;
    system.commit().await?;

    for org_id in orgs {
        report.orgs += 1;
        loop {
            if started.elapsed() >= budget.time {
                return Ok(report);
            }
            let done = drain_org(db, retrieval, org_id, budget, &mut report).await?;
            if done < budget.batch {
                // The organization's outbox is drained: its search counts are checked once.
                if let Some(mut tenant) = Tenant::for_system(db, org_id, "outbox: recount the search index").await? {
                    super::chunks::recount(&mut tenant).await?;
                    tenant.commit().await?;
                }
                break;
            }
        }
    }
    Ok(report)
}

/// A passage to embed, with the text its vector is made from.
struct Passage {
    chunk_id: Uuid,
    content_id: Uuid,
    text: String,
    hash: [u8; 32],
}

struct Claimed {
    ids: Vec<i64>,
    upserts: Vec<Passage>,
    deletes: Vec<Uuid>,
    /// For passages whose text another embedded chunk of the organization already has:
    /// that chunk, whose vector is reused.
    reuse: HashMap<[u8; 32], Uuid>,
}

/// The text a passage's vector is made from: the page title and the heading path, which
/// place the passage, then its text without link targets, images and permalink marks. Those
/// cost the model tokens (a documentation page's link targets are a third of its characters)
/// and carry no meaning; the rest stays as written.
pub fn embedding_text(title: &str, heading: Option<&str>, text: &str) -> String {
    let text = crate::text::without_link_targets(text);
    let heading = heading.map(crate::text::without_link_targets);
    let heading = heading.as_deref();
    let mut out = String::with_capacity(title.len() + text.len() + 64);
    let title = title.trim();
    // The title once: not again when the heading path or the text already opens with it.
    let opens_with_title = text.trim_start().trim_start_matches('#').trim_start().starts_with(title)
        || heading.is_some_and(|h| h.trim().starts_with(title));
    if !title.is_empty() && !opens_with_title {
        out.push_str(title);
        out.push('\n');
    }
    if let Some(heading) = heading.map(str::trim).filter(|h| !h.is_empty()) {
        out.push_str(heading);
        out.push_str("\n\n");
    }
    out.push_str(text.trim());
    out
}

/// One round for one organization; returns how many rows it claimed.
async fn drain_org(
    db: &Database,
    retrieval: &Retrieval,
    org_id: Uuid,
    budget: DrainBudget,
    report: &mut DrainReport,
) -> anyhow::Result<usize> {
    let Some(mut tenant) = Tenant::for_system(db, org_id, "outbox: claim vector work").await? else {
        return Ok(0);
    };
    let claimed = claim(&mut tenant, budget.batch, budget.lease).await.context("claiming outbox rows")?;
    tenant.commit().await?;
    if claimed.ids.is_empty() {
        return Ok(0);
    }
    let count = claimed.ids.len();
    match write(db, retrieval, org_id, &claimed).await {
        Ok((upserted, deleted)) => {
            report.upserted += upserted;
            report.deleted += deleted;
        }
        Err(err) => {
            tracing::warn!(%org_id, "vector outbox: {err:#}");
            report.failed += count;
            if let Some(mut tenant) = Tenant::for_system(db, org_id, "outbox: back off failed vector work").await? {
                sqlx::query(
                    "UPDATE vector_outbox
                        SET available_at = now() + least(interval '1 second' * power(2, attempts), interval '1 hour'),
                            last_error = left($3, 1024)
                      WHERE org_id = $1 AND id = ANY($2)",
                )
                .bind(org_id)
                .bind(&claimed.ids)
                .bind(format!("{err:#}"))
                .execute(tenant.conn())
                .await?;
                tenant.commit().await?;
            }
        }
    }
    Ok(count)
}

async fn claim(tenant: &mut Tenant, batch: usize, lease: Duration) -> Result<Claimed, sqlx::Error> {
    let org_id = tenant.org().id;
    let rows: Vec<(i64, String, Uuid)> = sqlx::query_as(
        // Materialized, so the locking subquery runs once: as a plain `IN (…)` the planner
        // may rescan it, and a rescan skips nothing this transaction locked, nor stops at
        // the limit (the fault tests caught 100 rows claimed with a batch of 64). Lowest
        // priority (a chunk's position in its page) first: every page's opening passages
        // become searchable by meaning before any page's later ones.
        "WITH picked AS MATERIALIZED (
              SELECT id FROM vector_outbox WHERE org_id = $1 AND available_at <= now()
               ORDER BY priority, id LIMIT $2 FOR UPDATE SKIP LOCKED)
         UPDATE vector_outbox o SET available_at = now() + $3 * interval '1 millisecond', attempts = o.attempts + 1
           FROM picked
          WHERE o.org_id = $1 AND o.id = picked.id
          RETURNING o.id, o.op, o.chunk_id",
    )
    .bind(org_id)
    .bind(batch as i64)
    .bind(lease.as_millis() as i64)
    .fetch_all(tenant.conn())
    .await?;
    let ids = rows.iter().map(|r| r.0).collect();
    let upsert_ids: Vec<Uuid> = rows.iter().filter(|r| r.1 == "upsert").map(|r| r.2).collect();
    let deletes = rows.iter().filter(|r| r.1 == "delete").map(|r| r.2).collect();
    let found: Vec<(Uuid, Uuid, String, Option<String>, String)> = sqlx::query_as(
        "SELECT c.id, c.content_id, i.title, c.heading, c.text
           FROM content_chunks c JOIN contents i ON i.org_id = c.org_id AND i.id = c.content_id
          WHERE c.org_id = $1 AND c.id = ANY($2)",
    )
    .bind(org_id)
    .bind(&upsert_ids)
    .fetch_all(tenant.conn())
    .await?;
    let upserts: Vec<Passage> = found
        .into_iter()
        .map(|(chunk_id, content_id, title, heading, text)| {
            let text = embedding_text(&title, heading.as_deref(), &text);
            let hash = Sha256::digest(text.as_bytes()).into();
            Passage { chunk_id, content_id, text, hash }
        })
        .collect();
    let hashes: Vec<Vec<u8>> = upserts.iter().map(|p| p.hash.to_vec()).collect();
    let reuse: Vec<(Vec<u8>, Uuid)> = sqlx::query_as(
        "SELECT DISTINCT ON (embed_hash) embed_hash, id FROM content_chunks
          WHERE org_id = $1 AND embed_hash = ANY($2) AND embedding_state = 'embedded' AND NOT id = ANY($3)
          ORDER BY embed_hash, id",
    )
    .bind(org_id)
    .bind(&hashes)
    .bind(&upsert_ids)
    .fetch_all(tenant.conn())
    .await?;
    let reuse = reuse.into_iter().filter_map(|(hash, id)| Some((<[u8; 32]>::try_from(hash).ok()?, id))).collect();
    Ok(Claimed { ids, upserts, deletes, reuse })
}

/// Embeds and writes the claimed work, then completes the rows in one transaction. Each
/// distinct text is embedded once; a text the organization already holds a vector for
/// reuses that vector when the store can hand it back.
async fn write(
    db: &Database,
    retrieval: &Retrieval,
    org_id: Uuid,
    claimed: &Claimed,
) -> anyhow::Result<(usize, usize)> {
    let embedder = retrieval.embedder().context("no embedder")?;
    let store = retrieval.store();
    let mut vectors: HashMap<[u8; 32], Vec<f32>> = HashMap::new();
    if !claimed.reuse.is_empty() {
        let mut tenant = Tenant::for_system(db, org_id, "outbox: read vectors to reuse")
            .await?
            .context("the organization was deleted while its vectors were written")?;
        let sources: Vec<Uuid> = claimed.reuse.values().copied().collect();
        let held: HashMap<Uuid, Vec<f32>> = store.fetch(&mut tenant, &sources).await?.into_iter().collect();
        tenant.commit().await?;
        for (hash, source) in &claimed.reuse {
            if let Some(v) = held.get(source).filter(|v| v.len() == embedder.dimensions()) {
                vectors.insert(*hash, v.clone());
            }
        }
    }
    let mut todo: Vec<&Passage> = Vec::new();
    for p in &claimed.upserts {
        if !vectors.contains_key(&p.hash) && !todo.iter().any(|t| t.hash == p.hash) {
            todo.push(p);
        }
    }
    // Similar lengths in one batch: the model pads every text to the batch's longest.
    todo.sort_by_key(|p| p.text.len());
    let texts: Vec<String> = todo.iter().map(|p| p.text.clone()).collect();
    let embeddings = embed::embed_all(embedder.as_ref(), &texts, InputKind::Passage).await?;
    for (p, v) in todo.iter().zip(embeddings.vectors) {
        vectors.insert(p.hash, v);
    }
    let records: Vec<VectorRecord> = claimed
        .upserts
        .iter()
        .filter_map(|p| {
            Some(VectorRecord { chunk_id: p.chunk_id, content_id: p.content_id, values: vectors.get(&p.hash)?.clone() })
        })
        .collect();

    let mut tenant = Tenant::for_system(db, org_id, "outbox: write vectors")
        .await?
        .context("the organization was deleted while its vectors were written")?;
    if !claimed.deletes.is_empty() {
        store.delete(&mut tenant, &claimed.deletes).await?;
    }
    if !records.is_empty() {
        store.upsert(&mut tenant, &records).await?;
    }
    let upserted: Vec<Uuid> = records.iter().map(|r| r.chunk_id).collect();
    // Chunks deleted while their vectors were being written: remove those vectors again.
    let vanished: Vec<Uuid> = sqlx::query_scalar(
        "SELECT u.id FROM unnest($2::uuid[]) AS u(id)
          WHERE NOT EXISTS (SELECT 1 FROM content_chunks c WHERE c.org_id = $1 AND c.id = u.id)",
    )
    .bind(org_id)
    .bind(&upserted)
    .fetch_all(tenant.conn())
    .await?;
    if !vanished.is_empty() {
        store.delete(&mut tenant, &vanished).await?;
    }
    let hashes: Vec<Vec<u8>> = claimed.upserts.iter().map(|p| p.hash.to_vec()).collect();
    let passages: Vec<Uuid> = claimed.upserts.iter().map(|p| p.chunk_id).collect();
    // Newly searchable passages count towards the index status, and the drain's rate (passages
    // per second, smoothed) gives its estimated time to complete. A passage counts once: the
    // `pending` condition is checked again on the locked row, so of two drains writing it at
    // once only one flips it.
    sqlx::query(
        "WITH written AS (SELECT u.id, u.hash FROM unnest($2::uuid[], $3::bytea[]) AS u(id, hash) WHERE u.id = ANY($4)),
         fresh AS (
             UPDATE content_chunks c SET embedding_state = 'embedded', embed_hash = w.hash
               FROM written w
              WHERE c.org_id = $1 AND c.id = w.id AND c.embedding_state = 'pending'
             RETURNING c.id),
         again AS (
             UPDATE content_chunks c SET embed_hash = w.hash
               FROM written w
              WHERE c.org_id = $1 AND c.id = w.id AND c.embedding_state = 'embedded'
             RETURNING c.id)
         UPDATE search_stats s
            SET embedded = s.embedded + w.fresh,
                embed_rate = CASE
                    WHEN s.last_embedded_at IS NULL OR now() - s.last_embedded_at > interval '2 minutes' THEN 0
                    WHEN s.embed_rate = 0 THEN w.n / greatest(extract(epoch FROM now() - s.last_embedded_at)::float8, 1)
                    ELSE 0.7 * s.embed_rate
                         + 0.3 * w.n / greatest(extract(epoch FROM now() - s.last_embedded_at)::float8, 1) END,
                last_embedded_at = now()
           FROM (SELECT (SELECT count(*) FROM fresh) AS fresh,
                        ((SELECT count(*) FROM fresh) + (SELECT count(*) FROM again))::float8 AS n) w
          WHERE s.org_id = $1",
    )
    .bind(org_id)
    .bind(&passages)
    .bind(&hashes)
    .bind(&upserted)
    .execute(tenant.conn())
    .await?;
    sqlx::query("DELETE FROM vector_outbox WHERE org_id = $1 AND id = ANY($2)")
        .bind(org_id)
        .bind(&claimed.ids)
        .execute(tenant.conn())
        .await?;
    if embeddings.tokens > 0 {
        usage::record(&mut tenant, Metric::EmbeddingTokens, embeddings.tokens as i64).await?;
    }
    tenant.commit().await?;
    Ok((records.len(), claimed.deletes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_text_places_the_passage_and_drops_link_targets() {
        let text = "See [datetime](http://x.test/datetime.html#module-datetime \"datetime: Basic\") for dates.";
        assert_eq!(
            embedding_text("time — Time access", Some("Functions"), text),
            "time — Time access\nFunctions\n\nSee datetime for dates."
        );
        assert_eq!(embedding_text("heapq", None, "# heapq\n\nHeap queue."), "# heapq\n\nHeap queue.");
        assert_eq!(embedding_text("Guide", Some("Guide"), "Text."), "Guide\n\nText.");
        assert_eq!(embedding_text("difflib", Some("difflib > Differ"), "Text."), "difflib > Differ\n\nText.");
    }
}
