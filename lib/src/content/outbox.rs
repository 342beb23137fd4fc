//! The vector outbox: chunk work queued by the library in its own transactions, drained by
//! cron or `voiceforge serve`'s background loop. Rows are claimed with a lease (`FOR UPDATE
//! SKIP LOCKED`, then `available_at` pushed ahead), so concurrent drains share the work and
//! a crashed drain's rows come back; failures back off exponentially.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
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
                break;
            }
        }
    }
    Ok(report)
}

struct Claimed {
    ids: Vec<i64>,
    upserts: Vec<(Uuid, Uuid, String)>,
    deletes: Vec<Uuid>,
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
        // the limit (the fault tests caught 100 rows claimed with a batch of 64).
        "WITH picked AS MATERIALIZED (
              SELECT id FROM vector_outbox WHERE org_id = $1 AND available_at <= now()
               ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
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
    let upserts = sqlx::query_as(
        "SELECT id, content_id, coalesce(heading || E'\\n\\n', '') || text FROM content_chunks
          WHERE org_id = $1 AND id = ANY($2)",
    )
    .bind(org_id)
    .bind(&upsert_ids)
    .fetch_all(tenant.conn())
    .await?;
    Ok(Claimed { ids, upserts, deletes })
}

/// Embeds and writes the claimed work, then completes the rows in one transaction.
async fn write(
    db: &Database,
    retrieval: &Retrieval,
    org_id: Uuid,
    claimed: &Claimed,
) -> anyhow::Result<(usize, usize)> {
    let embedder = retrieval.embedder().context("no embedder")?;
    let texts: Vec<String> = claimed.upserts.iter().map(|u| u.2.clone()).collect();
    let embeddings = embed::embed_all(embedder.as_ref(), &texts, InputKind::Passage).await?;
    let records: Vec<VectorRecord> = claimed
        .upserts
        .iter()
        .zip(embeddings.vectors)
        .map(|((chunk_id, content_id, _), values)| VectorRecord {
            chunk_id: *chunk_id,
            content_id: *content_id,
            values,
        })
        .collect();

    let mut tenant = Tenant::for_system(db, org_id, "outbox: write vectors")
        .await?
        .context("the organization was deleted while its vectors were written")?;
    let store = retrieval.store();
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
    sqlx::query("UPDATE content_chunks SET embedding_state = 'embedded' WHERE org_id = $1 AND id = ANY($2)")
        .bind(org_id)
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
