//! Clerk webhooks: keeping VoiceForge's organizations, users and memberships true to Clerk.
//!
//! A verified delivery is claimed by its `svix-id` in `webhook_events` inside a system
//! transaction that stays open until the effects are done: a concurrent redelivery waits on
//! that uncommitted row and then finds it, a failed one rolls back so Svix's retry starts
//! afresh. Effects are idempotent upserts, so a retry after a partial failure converges.
//! Cross-organization lookups go through [`System`]; each organization's changes (and their
//! audit entries) through [`Tenant::for_system`].

mod event;
mod sync;

use uuid::Uuid;

pub use event::{ClerkEvent, ClerkMembership, ClerkOrganization, ClerkUser, Delivery, EventError};

use crate::{http::App, tenancy::System};

/// Largest webhook body read (Clerk's payloads are a few KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its effects were applied.
    Processed,
    /// The `svix-id` was processed before; nothing changed.
    Duplicate,
    /// An event type VoiceForge does not act on, or one made moot by a later deletion.
    Ignored,
}

/// Applies a verified delivery once per `svix_id`.
pub async fn process(app: &App, svix_id: &str, delivery: &Delivery) -> anyhow::Result<Outcome> {
    let mut claim = System::begin(&app.db, "clerk webhook: claim delivery").await?;
    let fresh: Option<bool> = sqlx::query_scalar(
        "INSERT INTO webhook_events (svix_id, event_type) VALUES ($1, $2) ON CONFLICT (svix_id) DO NOTHING RETURNING true",
    )
    .bind(svix_id)
    .bind(&delivery.event_type)
    .fetch_optional(claim.conn())
    .await?;
    if fresh.is_none() {
        claim.commit().await?;
        return Ok(Outcome::Duplicate);
    }
    // Dropping `claim` on error rolls the claim back, so Svix's retry is processed again.
    let outcome = sync::apply(app, delivery).await?;
    claim.commit().await?;
    Ok(outcome)
}

/// Hook for what an organization holds outside Postgres, run before its rows are deleted so
/// a failure leaves everything in place for Svix's retry: here its vector namespace
/// (`org_<uuid>` in Pinecone; its rows in pgvector) is deleted. Idempotent.
pub async fn on_org_deleted(app: &App, org_id: Uuid) -> anyhow::Result<()> {
    tracing::info!(%org_id, "organization deleted in Clerk; removing its data");
    app.retrieval
        .store()
        .delete_namespace(&app.db, org_id)
        .await
        .map_err(|e| anyhow::anyhow!("deleting the vector namespace of org {org_id}: {e}"))
}
