//! Organizations, users and memberships, and the two ways into the database: the tenant
//! transaction ([`Tenant`]) that every request uses, and the audited system path ([`System`]).
//!
//! `Tenant::begin` is the only code that sets `app.org_id`, always with bound parameters and
//! transaction-local `set_config(…, true)`, so a pooled connection never carries one
//! organization's context into another's request.

use sqlx::{PgConnection, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    auth::{Identity, Role},
    db::Database,
    error::ApiError,
};

/// An organization's limits, set per organization (defaults in the schema).
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Limits {
    /// Seats: members beyond this many cannot use the API.
    pub max_users: i32,
    /// Content items in the library.
    pub max_content_items: i32,
    /// Crawls started per calendar month (UTC).
    pub max_crawls_per_month: i32,
}

/// An organization as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Organization {
    /// Internal id; the tenant key of every row.
    pub id: Uuid,
    /// Clerk's id (`org_…`), the id clients see.
    pub clerk_org_id: String,
    /// Display name.
    pub name: String,
    /// Clerk's slug, when known.
    pub slug: Option<String>,
    /// The organization's limits.
    #[sqlx(flatten)]
    pub limits: Limits,
    /// When VoiceForge first saw the organization.
    pub created_at: OffsetDateTime,
    /// The token issuer the organization belongs to; `None` until a member's first request.
    pub issuer: Option<String>,
}

/// Why a caller could not enter their organization.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    /// The organization's seats are all taken by earlier members.
    #[error("this organization uses all of its {limit} seats; ask an admin to free one or raise the limit")]
    SeatLimitReached {
        /// The organization's max_users.
        limit: i32,
    },
    /// The organization was deleted in Clerk; its data is gone and it cannot come back.
    #[error("this organization has been deleted")]
    OrganizationDeleted,
    /// The user was deleted in Clerk; a token issued before that is refused.
    #[error("this user has been deleted")]
    UserDeleted,
    /// Clerk removed the user from the organization; a token issued before that is refused
    /// until Clerk reports them added again.
    #[error("you are no longer a member of this organization")]
    MembershipRemoved,
    /// The token's issuer is not the one the organization belongs to (a dev token for a
    /// Clerk organization, or the reverse).
    #[error("this organization belongs to another sign-in issuer; sign in through that one")]
    IssuerMismatch,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<TenancyError> for ApiError {
    fn from(err: TenancyError) -> Self {
        match err {
            TenancyError::SeatLimitReached { .. } => ApiError::forbidden("seat_limit_reached", err.to_string()),
            TenancyError::OrganizationDeleted => ApiError::forbidden("organization_deleted", err.to_string()),
            TenancyError::UserDeleted => ApiError::forbidden("user_deleted", err.to_string()),
            TenancyError::MembershipRemoved => ApiError::forbidden("membership_removed", err.to_string()),
            TenancyError::IssuerMismatch => ApiError::forbidden("issuer_mismatch", err.to_string()),
            TenancyError::Database(db) => db.into(),
        }
    }
}

/// Stored form of a role.
pub fn role_str(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

/// Parses a stored role.
pub fn parse_role(value: &str) -> Role {
    if value == "admin" { Role::Admin } else { Role::Member }
}

macro_rules! org_columns {
    () => {
        "id, clerk_org_id, name, slug, max_users, max_content_items, max_crawls_per_month, created_at, issuer"
    };
}
const SELECT_ORG_BY_CLERK_ID: &str = concat!("SELECT ", org_columns!(), " FROM organizations WHERE clerk_org_id = $1");
const SELECT_ORG_BY_ID: &str = concat!("SELECT ", org_columns!(), " FROM organizations WHERE id = $1");
const INSERT_ORG: &str = concat!(
    "INSERT INTO organizations (clerk_org_id, name, slug, issuer) VALUES ($1, $2, $3, $4)
     ON CONFLICT (clerk_org_id) DO NOTHING RETURNING ",
    org_columns!()
);

/// Who acts inside a tenant transaction.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A signed-in member of the organization.
    Member {
        /// Internal user id.
        user_id: Uuid,
        /// Clerk user id.
        clerk_user_id: String,
        /// Role in the organization.
        role: Role,
    },
    /// System work for the organization (cron, webhooks, background jobs), with its reason.
    System {
        /// Why the system acts, as recorded in `system_events`.
        reason: String,
    },
}

/// One unit of work confined to one organization: a transaction with `app.org_id` set.
pub struct Tenant {
    tx: Transaction<'static, Postgres>,
    org: Organization,
    actor: Actor,
    client_ip: Option<std::net::IpAddr>,
}

impl Tenant {
    /// Opens the transaction for a verified identity, creating the organization, user and
    /// membership on first sight and following role changes in the token. A newcomer who
    /// would exceed the organization's seats is refused and nothing is written.
    pub async fn begin(db: &Database, identity: &Identity) -> Result<Self, TenancyError> {
        // Concurrent first requests of one organization create the same rows; Postgres may
        // break a lock cycle between them by aborting one (deadlock or serialization
        // failure). Nothing of an aborted attempt remains, so it is simply tried again.
        let mut attempt = 0;
        loop {
            match Self::begin_once(db, identity).await {
                Err(TenancyError::Database(err)) if attempt < 4 && crate::error::is_lock_conflict(&err) => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * attempt + u64::from(rand_jitter()))).await;
                }
                other => return other,
            }
        }
    }

    async fn begin_once(db: &Database, identity: &Identity) -> Result<Self, TenancyError> {
        let mut tx = db.begin().await?;
        sqlx::query("SELECT set_config('app.clerk_org_id', $1, true), set_config('app.clerk_user_id', $2, true)")
            .bind(&identity.org_id)
            .bind(&identity.user_id)
            .execute(&mut *tx)
            .await?;

        let org = upsert_organization(&mut tx, identity).await?;
        set_org(&mut tx, org.id).await?;
        let user_id = upsert_user(&mut tx, &identity.user_id).await?;
        sync_membership(&mut tx, &org, user_id, identity.role).await?;

        let actor = Actor::Member { user_id, clerk_user_id: identity.user_id.clone(), role: identity.role };
        Ok(Self { tx, org, actor, client_ip: None })
    }

    /// Opens a transaction for system work on one organization (a crawl advanced by cron, a
    /// webhook). Recorded in `system_events` with `reason`. `None` when the org is gone.
    pub async fn for_system(db: &Database, org_id: Uuid, reason: &str) -> Result<Option<Self>, sqlx::Error> {
        let mut tx = db.begin().await?;
        sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO system_events (reason) VALUES ($1)")
            .bind(truncate(&format!("{reason} (org {org_id})"), 256))
            .execute(&mut *tx)
            .await?;
        sqlx::query("SELECT set_config('app.system', '', true)").execute(&mut *tx).await?;
        set_org(&mut tx, org_id).await?;
        let org: Option<Organization> = sqlx::query_as(SELECT_ORG_BY_ID).bind(org_id).fetch_optional(&mut *tx).await?;
        Ok(org.map(|org| Self { tx, org, actor: Actor::System { reason: reason.to_owned() }, client_ip: None }))
    }

    /// The caller's organization.
    pub fn org(&self) -> &Organization {
        &self.org
    }

    /// Who acts.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// The acting user's internal id; `None` for system work.
    pub fn user_id(&self) -> Option<Uuid> {
        match &self.actor {
            Actor::Member { user_id, .. } => Some(*user_id),
            Actor::System { .. } => None,
        }
    }

    /// The acting user's Clerk id; `None` for system work.
    pub fn clerk_user_id(&self) -> Option<&str> {
        match &self.actor {
            Actor::Member { clerk_user_id, .. } => Some(clerk_user_id),
            Actor::System { .. } => None,
        }
    }

    /// The actor's role; system work acts with an admin's rights.
    pub fn role(&self) -> Role {
        match &self.actor {
            Actor::Member { role, .. } => *role,
            Actor::System { .. } => Role::Admin,
        }
    }

    /// A label for audit rows: the Clerk user id, or `system: <reason>`.
    pub fn actor_label(&self) -> String {
        match &self.actor {
            Actor::Member { clerk_user_id, .. } => clerk_user_id.clone(),
            Actor::System { reason } => format!("system: {reason}"),
        }
    }

    /// The client's address, recorded with audit events.
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        self.client_ip
    }

    /// Sets the client's address (done by the request extractor).
    pub fn set_client_ip(&mut self, ip: Option<std::net::IpAddr>) {
        self.client_ip = ip;
    }

    /// Refuses members where only admins may act.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Admin => Ok(()),
            Role::Member => Err(ApiError::forbidden("admin_required", "only organization admins can do this")),
        }
    }

    /// The connection for repository queries; row-level security confines it to the org.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Commits the work.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// A few milliseconds of jitter, so retried transactions do not collide again in step.
fn rand_jitter() -> u8 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos()) % 20) as u8
}

async fn set_org(tx: &mut PgConnection, org_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('app.org_id', $1, true)").bind(org_id.to_string()).execute(tx).await?;
    Ok(())
}

async fn upsert_organization(tx: &mut PgConnection, identity: &Identity) -> Result<Organization, TenancyError> {
    let found: Option<Organization> =
        sqlx::query_as(SELECT_ORG_BY_CLERK_ID).bind(&identity.org_id).fetch_optional(&mut *tx).await?;
    if let Some(org) = found {
        return claim_for_issuer(tx, org, &identity.issuer).await;
    }
    // A token issued before the organization's deletion must not bring it back.
    let deleted: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM deleted_organizations WHERE clerk_org_id = $1)")
            .bind(&identity.org_id)
            .fetch_one(&mut *tx)
            .await?;
    if deleted {
        return Err(TenancyError::OrganizationDeleted);
    }
    let name =
        identity.org_name.clone().or_else(|| identity.org_slug.clone()).unwrap_or_else(|| identity.org_id.clone());
    let inserted = sqlx::query_as(INSERT_ORG)
        .bind(&identity.org_id)
        .bind(truncate(&name, 256))
        .bind(identity.org_slug.as_deref().map(|s| truncate(s, 256)))
        // An operator's identity creates the organization without claiming it for anyone.
        .bind(Some(identity.issuer.as_str()).filter(|i| *i != OPERATOR_ISSUER))
        .fetch_optional(&mut *tx)
        .await?;
    match inserted {
        Some(org) => Ok(org),
        // A concurrent first request created it between our select and insert.
        None => {
            let org = sqlx::query_as(SELECT_ORG_BY_CLERK_ID).bind(&identity.org_id).fetch_one(&mut *tx).await?;
            claim_for_issuer(tx, org, &identity.issuer).await
        }
    }
}

/// The issuer of identities that command-line operators act under (`import-legacy
/// --created-by`): not a token issuer (configured issuers are URLs or the dev issuer), so it
/// acts on any organization and claims none.
pub const OPERATOR_ISSUER: &str = "voiceforge-operator";

/// The organization, when `issuer` may act for it: the one it belongs to, or the first to act
/// for an organization no token has reached yet (made by a webhook, an operator or an import).
/// Refused before anything of the request is written.
async fn claim_for_issuer(
    tx: &mut PgConnection,
    org: Organization,
    issuer: &str,
) -> Result<Organization, TenancyError> {
    if issuer == OPERATOR_ISSUER {
        return Ok(org);
    }
    match org.issuer.as_deref() {
        Some(own) if own == issuer => Ok(org),
        Some(_) => Err(TenancyError::IssuerMismatch),
        None => {
            let claimed: Option<String> = sqlx::query_scalar(
                "UPDATE organizations SET issuer = coalesce(issuer, $2) WHERE id = $1 RETURNING issuer",
            )
            .bind(org.id)
            .bind(issuer)
            .fetch_optional(&mut *tx)
            .await?;
            match claimed {
                Some(own) if own == issuer => Ok(Organization { issuer: Some(own), ..org }),
                _ => Err(TenancyError::IssuerMismatch),
            }
        }
    }
}

async fn upsert_user(tx: &mut PgConnection, clerk_user_id: &str) -> Result<Uuid, TenancyError> {
    let found: Option<(Uuid, bool)> =
        sqlx::query_as("SELECT id, deleted_at IS NOT NULL FROM users WHERE clerk_user_id = $1")
            .bind(clerk_user_id)
            .fetch_optional(&mut *tx)
            .await?;
    match found {
        // `user.deleted` keeps the row (authored items stay attributed to it) but ends access.
        Some((_, true)) => return Err(TenancyError::UserDeleted),
        Some((id, false)) => return Ok(id),
        None => {}
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO users (clerk_user_id) VALUES ($1)
         ON CONFLICT (clerk_user_id) DO UPDATE SET clerk_user_id = EXCLUDED.clerk_user_id RETURNING id",
    )
    .bind(clerk_user_id)
    .fetch_one(&mut *tx)
    .await?)
}

async fn sync_membership(
    tx: &mut PgConnection,
    org: &Organization,
    user_id: Uuid,
    role: Role,
) -> Result<(), TenancyError> {
    let wanted = role_str(role);
    // The member's role, and how many members joined before them (their seat number).
    let existing: Option<(String, i64)> = sqlx::query_as(
        "SELECT m.role, (SELECT count(*) FROM memberships o
                          WHERE o.org_id = m.org_id AND (o.created_at, o.user_id) < (m.created_at, m.user_id))
           FROM memberships m WHERE m.org_id = $1 AND m.user_id = $2",
    )
    .bind(org.id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;

    match existing {
        Some((_, ahead)) if ahead >= i64::from(org.limits.max_users) => {
            Err(TenancyError::SeatLimitReached { limit: org.limits.max_users })
        }
        Some((current, _)) if current != wanted => {
            sqlx::query("UPDATE memberships SET role = $3, updated_at = now() WHERE org_id = $1 AND user_id = $2")
                .bind(org.id)
                .bind(user_id)
                .bind(wanted)
                .execute(&mut *tx)
                .await?;
            Ok(())
        }
        Some(_) => Ok(()),
        None => {
            // A token minted before Clerk removed the member must not re-add them (and take a
            // seat); a later `organizationMembership.created` clears the removal.
            let removed: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM membership_removals WHERE org_id = $1 AND user_id = $2)",
            )
            .bind(org.id)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            if removed {
                return Err(TenancyError::MembershipRemoved);
            }
            // Serialize newcomers of this organization so concurrent first requests cannot
            // both take the last seat. NO KEY UPDATE conflicts with other newcomers but not with
            // the KEY SHARE lock every insert of the org's child rows takes through its foreign
            // key, so a newcomer does not wait for all the organization's requests in flight.
            let max_users: i32 =
                sqlx::query_scalar("SELECT max_users FROM organizations WHERE id = $1 FOR NO KEY UPDATE")
                    .bind(org.id)
                    .fetch_one(&mut *tx)
                    .await?;
            let used: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships WHERE org_id = $1")
                .bind(org.id)
                .fetch_one(&mut *tx)
                .await?;
            if used >= i64::from(max_users) {
                return Err(TenancyError::SeatLimitReached { limit: max_users });
            }
            sqlx::query(
                "INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)
                 ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now()",
            )
            .bind(org.id)
            .bind(user_id)
            .bind(wanted)
            .execute(&mut *tx)
            .await?;
            Ok(())
        }
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// A member of the caller's organization, for the team page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Member {
    /// Clerk user id.
    pub clerk_user_id: String,
    /// Email, when a webhook told us.
    pub email: Option<String>,
    /// Display name, when a webhook told us.
    pub name: Option<String>,
    /// Stored role.
    pub role: String,
    /// When the member joined (seat order).
    pub joined_at: OffsetDateTime,
    /// The member's seat number, from 1, in join order.
    pub seat: i64,
}

/// Members of the tenant's organization in seat order, after the `after` keyset position.
pub async fn list_members(
    tenant: &mut Tenant,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<(Member, Uuid)>, sqlx::Error> {
    let org_id = tenant.org().id;
    let rows: Vec<MemberRow> = sqlx::query_as(
        "SELECT * FROM (
             SELECT u.clerk_user_id, u.email, u.name, m.role, m.created_at AS joined_at, m.user_id,
                    row_number() OVER (ORDER BY m.created_at, m.user_id) AS seat
               FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.org_id = $1) ranked
          WHERE ($2::timestamptz IS NULL OR (joined_at, user_id) > ($2, $3))
          ORDER BY joined_at, user_id
          LIMIT $4",
    )
    .bind(org_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(tenant.conn())
    .await?;
    Ok(rows.into_iter().map(|r| (r.member, r.user_id)).collect())
}

/// A member of the tenant's organization by Clerk user id.
pub async fn find_member(tenant: &mut Tenant, clerk_user_id: &str) -> Result<Option<Member>, sqlx::Error> {
    let org_id = tenant.org().id;
    sqlx::query_as(
        "SELECT * FROM (
             SELECT u.clerk_user_id, u.email, u.name, m.role, m.created_at AS joined_at,
                    row_number() OVER (ORDER BY m.created_at, m.user_id) AS seat
               FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.org_id = $1) ranked
          WHERE clerk_user_id = $2",
    )
    .bind(org_id)
    .bind(clerk_user_id)
    .fetch_optional(tenant.conn())
    .await
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    #[sqlx(flatten)]
    member: Member,
    user_id: Uuid,
}

/// Number of members (seats used) of the tenant's organization.
pub async fn count_members(tenant: &mut Tenant) -> Result<i64, sqlx::Error> {
    let org_id = tenant.org().id;
    sqlx::query_scalar("SELECT count(*) FROM memberships WHERE org_id = $1").bind(org_id).fetch_one(tenant.conn()).await
}

/// The schema's default `max_content_items` (see migrations/0001).
pub const DEFAULT_MAX_CONTENT_ITEMS: i32 = 1000;

/// The internal id of the organization with this Clerk id, if VoiceForge knows it.
pub async fn find_organization(db: &Database, clerk_org_id: &str) -> Result<Option<Uuid>, sqlx::Error> {
    let mut sys = System::begin(db, "look up an organization by Clerk id").await?;
    let id = sqlx::query_scalar("SELECT id FROM organizations WHERE clerk_org_id = $1")
        .bind(clerk_org_id)
        .fetch_optional(sys.conn())
        .await?;
    sys.commit().await?;
    Ok(id)
}

/// The organization with this Clerk id, created (named after the id) when missing; for
/// administration that acts before any member has signed in.
pub async fn ensure_organization(db: &Database, clerk_org_id: &str) -> Result<Uuid, sqlx::Error> {
    let mut sys = System::begin(db, "create an organization for administration").await?;
    sqlx::query("INSERT INTO organizations (clerk_org_id, name) VALUES ($1, $1) ON CONFLICT (clerk_org_id) DO NOTHING")
        .bind(clerk_org_id)
        .execute(sys.conn())
        .await?;
    let id = sqlx::query_scalar("SELECT id FROM organizations WHERE clerk_org_id = $1")
        .bind(clerk_org_id)
        .fetch_one(sys.conn())
        .await?;
    sys.commit().await?;
    Ok(id)
}

/// Explicit cross-organization work (cron, webhooks, administration). Each use records its
/// reason in `system_events`, so the bypass of the tenant wall is visible after the fact.
pub struct System {
    tx: Transaction<'static, Postgres>,
}

impl System {
    /// Opens a system transaction for `reason` (e.g. "cron: advance crawls").
    pub async fn begin(db: &Database, reason: &str) -> Result<Self, sqlx::Error> {
        let mut tx = db.begin().await?;
        sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO system_events (reason) VALUES ($1)")
            .bind(truncate(reason, 256))
            .execute(&mut *tx)
            .await?;
        Ok(Self { tx })
    }

    /// The connection, unconfined by organization.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Commits the system work.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}
