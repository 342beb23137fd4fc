//! The effects of each Clerk event on organizations, users and memberships. Every step is an
//! upsert or a conditional delete, so applying an event twice changes nothing the second time.
//! Events may come in any order: a membership before its user or organization (both are
//! created from the membership's own data), a deletion before the creation (tombstones make
//! the late creation a no-op).

use anyhow::Context;
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ClerkEvent, ClerkMembership, ClerkOrganization, ClerkUser, Delivery, Outcome, on_org_deleted};
use crate::{
    audit::{self, AuditEvent},
    http::App,
    tenancy::{System, Tenant, role_str},
};

/// Applies one event (the caller holds the delivery's claim).
pub(super) async fn apply(app: &App, delivery: &Delivery) -> anyhow::Result<Outcome> {
    let reason = format!("clerk webhook {}", delivery.event_type);
    match &delivery.event {
        ClerkEvent::OrganizationUpserted(org) => {
            upsert_organization_event(app, org, delivery.occurred_at, &reason).await
        }
        ClerkEvent::OrganizationDeleted { clerk_org_id } => delete_organization(app, clerk_org_id, &reason).await,
        ClerkEvent::MembershipUpserted(m) => upsert_membership(app, m, delivery.occurred_at, &reason).await,
        ClerkEvent::MembershipDeleted(m) => remove_membership(app, m, delivery.occurred_at, &reason).await,
        ClerkEvent::UserUpserted(user) => {
            let mut sys = System::begin(&app.db, &reason).await?;
            let known = upsert_user(sys.conn(), user, delivery.occurred_at).await?;
            sys.commit().await?;
            Ok(if known.is_some() { Outcome::Processed } else { Outcome::Ignored })
        }
        ClerkEvent::UserDeleted { clerk_user_id } => delete_user(app, clerk_user_id, &reason).await,
        ClerkEvent::Ignored => Ok(Outcome::Ignored),
    }
}

async fn upsert_organization_event(
    app: &App,
    org: &ClerkOrganization,
    at: OffsetDateTime,
    reason: &str,
) -> anyhow::Result<Outcome> {
    let mut sys = System::begin(&app.db, reason).await?;
    let Some((org_id, inserted, true)) = upsert_organization(sys.conn(), org, at).await? else {
        sys.commit().await?;
        return Ok(Outcome::Ignored);
    };
    sys.commit().await?;
    let Some(mut tenant) = Tenant::for_system(&app.db, org_id, reason).await? else {
        return Ok(Outcome::Ignored);
    };
    let action = if inserted { "organization.created" } else { "organization.updated" };
    let details = json!({"name": org.name, "slug": org.slug});
    audit::record(&mut tenant, AuditEvent::on(action, "organization", &org.id).with(details)).await?;
    tenant.commit().await?;
    Ok(Outcome::Processed)
}

/// Removes the organization and, through the foreign keys, every row it owns; leaves a
/// tombstone so nothing can recreate it.
async fn delete_organization(app: &App, clerk_org_id: &str, reason: &str) -> anyhow::Result<Outcome> {
    let mut sys = System::begin(&app.db, reason).await?;
    let org_id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM organizations WHERE clerk_org_id = $1 FOR UPDATE")
        .bind(clerk_org_id)
        .fetch_optional(sys.conn())
        .await?;
    if let Some(org_id) = org_id {
        on_org_deleted(app, org_id).await.context("clearing the organization's data outside Postgres")?;
        sqlx::query("DELETE FROM organizations WHERE id = $1").bind(org_id).execute(sys.conn()).await?;
    }
    sqlx::query("INSERT INTO deleted_organizations (clerk_org_id) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(clerk_org_id)
        .execute(sys.conn())
        .await?;
    sys.commit().await?;
    Ok(Outcome::Processed)
}

async fn upsert_membership(
    app: &App,
    m: &ClerkMembership,
    occurred_at: OffsetDateTime,
    reason: &str,
) -> anyhow::Result<Outcome> {
    let Some((org_id, user_id)) = org_and_user(app, m, occurred_at, reason).await? else {
        return Ok(Outcome::Ignored);
    };
    let Some(mut tenant) = Tenant::for_system(&app.db, org_id, reason).await? else {
        return Ok(Outcome::Ignored);
    };
    // A removal newer than this event wins: the event was delivered late.
    let removed_at: Option<OffsetDateTime> =
        sqlx::query_scalar("SELECT removed_at FROM membership_removals WHERE org_id = $1 AND user_id = $2 FOR UPDATE")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(tenant.conn())
            .await?;
    if removed_at.is_some_and(|at| at >= occurred_at) {
        tenant.commit().await?;
        return Ok(Outcome::Ignored);
    }
    sqlx::query("DELETE FROM membership_removals WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(tenant.conn())
        .await?;
    // Clerk is the source of truth: the member is added even beyond the seat limit, and
    // `Tenant::begin` then refuses them (403 seat_limit_reached) like one who came by token.
    let role = role_str(m.role);
    let existing: Option<(String, Option<OffsetDateTime>)> =
        sqlx::query_as("SELECT role, clerk_event_at FROM memberships WHERE org_id = $1 AND user_id = $2 FOR UPDATE")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(tenant.conn())
            .await?;
    let action = match existing {
        // A newer event already set this membership: this one was delivered late.
        Some((_, Some(applied))) if applied > occurred_at => {
            tenant.commit().await?;
            return Ok(Outcome::Ignored);
        }
        Some((current, _)) => {
            sqlx::query(
                "UPDATE memberships SET role = $3, clerk_event_at = $4, updated_at = now()
                  WHERE org_id = $1 AND user_id = $2",
            )
            .bind(org_id)
            .bind(user_id)
            .bind(role)
            .bind(occurred_at)
            .execute(tenant.conn())
            .await?;
            (current != role).then_some("membership.updated")
        }
        None => {
            // A session token may add the same member concurrently; the webhook's role wins.
            let inserted: bool = sqlx::query_scalar(
                "INSERT INTO memberships AS m (org_id, user_id, role, clerk_event_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role, clerk_event_at = EXCLUDED.clerk_event_at,
                                                             updated_at = now()
                 RETURNING xmax = 0",
            )
            .bind(org_id)
            .bind(user_id)
            .bind(role)
            .bind(occurred_at)
            .fetch_one(tenant.conn())
            .await?;
            Some(if inserted { "membership.created" } else { "membership.updated" })
        }
    };
    let Some(action) = action else {
        tenant.commit().await?;
        return Ok(Outcome::Processed);
    };
    let over_limit: bool = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM memberships o
                  WHERE o.org_id = m.org_id AND (o.created_at, o.user_id) < (m.created_at, m.user_id))
                >= (SELECT max_users FROM organizations WHERE id = m.org_id)
           FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_one(tenant.conn())
    .await?;
    let details = json!({"role": role, "over_limit": over_limit});
    audit::record(&mut tenant, AuditEvent::on(action, "membership", &m.user.id).with(details)).await?;
    tenant.commit().await?;
    Ok(Outcome::Processed)
}

async fn remove_membership(
    app: &App,
    m: &ClerkMembership,
    occurred_at: OffsetDateTime,
    reason: &str,
) -> anyhow::Result<Outcome> {
    let Some((org_id, user_id)) = org_and_user(app, m, occurred_at, reason).await? else {
        return Ok(Outcome::Ignored);
    };
    let Some(mut tenant) = Tenant::for_system(&app.db, org_id, reason).await? else {
        return Ok(Outcome::Ignored);
    };
    sqlx::query(
        "INSERT INTO membership_removals AS r (org_id, user_id, removed_at) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, user_id) DO UPDATE SET removed_at = greatest(r.removed_at, EXCLUDED.removed_at)",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(occurred_at)
    .execute(tenant.conn())
    .await?;
    if delete_membership(&mut tenant, user_id, &m.user.id, "removed from the organization in Clerk").await? {
        tenant.commit().await?;
        Ok(Outcome::Processed)
    } else {
        tenant.commit().await?;
        Ok(Outcome::Ignored)
    }
}

/// Ends the user's access everywhere: memberships go, the row stays (so authored items keep
/// an author, shown as deleted) without its email and name, and marks the user deleted so a
/// late `user.created` or a still-valid token cannot revive it.
async fn delete_user(app: &App, clerk_user_id: &str, reason: &str) -> anyhow::Result<Outcome> {
    let mut sys = System::begin(&app.db, reason).await?;
    let user_id: Uuid = sqlx::query_scalar(
        "INSERT INTO users AS u (clerk_user_id, deleted_at) VALUES ($1, now())
         ON CONFLICT (clerk_user_id) DO UPDATE
            SET deleted_at = coalesce(u.deleted_at, now()), email = NULL, name = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(clerk_user_id)
    .fetch_one(sys.conn())
    .await?;
    let orgs: Vec<Uuid> = sqlx::query_scalar("SELECT org_id FROM memberships WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(sys.conn())
        .await?;
    sys.commit().await?;
    for org_id in orgs {
        let Some(mut tenant) = Tenant::for_system(&app.db, org_id, reason).await? else { continue };
        delete_membership(&mut tenant, user_id, clerk_user_id, "the user was deleted in Clerk").await?;
        tenant.commit().await?;
    }
    Ok(Outcome::Processed)
}

async fn delete_membership(tenant: &mut Tenant, user_id: Uuid, clerk_user_id: &str, why: &str) -> anyhow::Result<bool> {
    let org_id = tenant.org().id;
    let role: Option<String> =
        sqlx::query_scalar("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2 RETURNING role")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(tenant.conn())
            .await?;
    let Some(role) = role else { return Ok(false) };
    let details = json!({"role": role, "reason": why});
    audit::record(tenant, AuditEvent::on("membership.deleted", "membership", clerk_user_id).with(details)).await?;
    Ok(true)
}

/// The membership's organization and user, created from the event's own data when this is
/// the first VoiceForge hears of them. `None` when either was deleted.
async fn org_and_user(
    app: &App,
    m: &ClerkMembership,
    at: OffsetDateTime,
    reason: &str,
) -> anyhow::Result<Option<(Uuid, Uuid)>> {
    let mut sys = System::begin(&app.db, reason).await?;
    let org = upsert_organization(sys.conn(), &m.organization, at).await?;
    let user = upsert_user(sys.conn(), &m.user, at).await?;
    sys.commit().await?;
    Ok(org.zip(user).map(|((org_id, ..), user_id)| (org_id, user_id)))
}

/// Creates or renames the organization (unless a newer event already did); `None` when it
/// was deleted. Returns its id, whether this created it, and whether this event's data was
/// applied (false when a newer event came first).
async fn upsert_organization(
    conn: &mut PgConnection,
    org: &ClerkOrganization,
    at: OffsetDateTime,
) -> sqlx::Result<Option<(Uuid, bool, bool)>> {
    let deleted: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deleted_organizations WHERE clerk_org_id = $1)")
            .bind(&org.id)
            .fetch_one(&mut *conn)
            .await?;
    if deleted {
        return Ok(None);
    }
    sqlx::query_as(
        "INSERT INTO organizations AS o (clerk_org_id, name, slug, clerk_event_at) VALUES ($1, coalesce($2, $1), $3, $4)
         ON CONFLICT (clerk_org_id) DO UPDATE
            SET name = CASE WHEN o.clerk_event_at IS NULL OR o.clerk_event_at <= $4 THEN coalesce($2, o.name) ELSE o.name END,
                slug = CASE WHEN o.clerk_event_at IS NULL OR o.clerk_event_at <= $4 THEN coalesce($3, o.slug) ELSE o.slug END,
                clerk_event_at = greatest(o.clerk_event_at, $4), updated_at = now()
         RETURNING id, xmax = 0, clerk_event_at = $4",
    )
    .bind(&org.id)
    .bind(&org.name)
    .bind(&org.slug)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
}

/// Creates the user or updates email and name (unless a newer event already did); `None`
/// when the user was deleted.
async fn upsert_user(conn: &mut PgConnection, user: &ClerkUser, at: OffsetDateTime) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "INSERT INTO users AS u (clerk_user_id, email, name, clerk_event_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (clerk_user_id) DO UPDATE
            SET email = CASE WHEN u.clerk_event_at IS NULL OR u.clerk_event_at <= $4 THEN coalesce($2, u.email) ELSE u.email END,
                name = CASE WHEN u.clerk_event_at IS NULL OR u.clerk_event_at <= $4 THEN coalesce($3, u.name) ELSE u.name END,
                clerk_event_at = greatest(u.clerk_event_at, $4), updated_at = now()
          WHERE u.deleted_at IS NULL
         RETURNING id",
    )
    .bind(&user.id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(at)
    .fetch_optional(conn)
    .await
}
