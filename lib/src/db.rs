//! The connection pool, migrations, and the check that the application's role cannot
//! bypass row-level security.

use std::{str::FromStr, time::Duration};

use anyhow::{Context, bail};
use sqlx::{
    ConnectOptions, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::sync::OnceCell;

use crate::config::Settings;

/// Migrations embedded from `migrations/` at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// The pool plus a once-per-process verdict on the role's safety.
pub struct Database {
    pool: PgPool,
    role_checked: OnceCell<()>,
    /// Behind a transaction-mode pooler: see [`Database::begin`].
    pooled: bool,
}

impl Database {
    /// A lazily connecting pool: a serverless instance pays for a connection only when a
    /// request needs one, and a warm instance keeps it.
    pub fn connect_lazy(settings: &Settings) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(settings.database_url.expose())
            .context("DATABASE_URL is not a valid Postgres URL")?
            .statement_cache_capacity(settings.database_statement_cache)
            .application_name("voiceforge");
        let pool = PgPoolOptions::new()
            .max_connections(settings.database_max_connections)
            .acquire_timeout(settings.database_acquire_timeout)
            .idle_timeout(Duration::from_secs(60))
            .connect_lazy_with(options);
        Ok(Self { pool, role_checked: OnceCell::new(), pooled: settings.database_statement_cache == 0 })
    }

    /// Wraps an existing pool (tests), not behind a pooler.
    pub fn from_pool(pool: PgPool) -> Self {
        Self { pool, role_checked: OnceCell::new(), pooled: false }
    }

    /// Starts a transaction: the only way work reaches the database, so that each unit of
    /// work stays on one server connection behind a transaction-mode pooler.
    ///
    /// sqlx names its prepared statements (`sqlx_s_N`, counted per client connection) and
    /// does not close them when its cache is off. Behind a pooler that does not track
    /// prepared statements, another client's leftovers on the same server connection then
    /// collide with ours ("prepared statement sqlx_s_1 already exists"). Pooled mode clears
    /// the server connection's statements first, in the simple protocol, so every
    /// transaction starts clean whatever pooler sits in between.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if self.pooled {
            sqlx::raw_sql("DEALLOCATE ALL").execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Refuses to serve when the role bypasses row-level security; checked once per process,
    /// retried after a failure to connect.
    pub async fn ensure_safe_role(&self) -> anyhow::Result<()> {
        self.role_checked
            .get_or_try_init(|| async {
                let mut tx = self.begin().await.context("checking the database role")?;
                check_role(&mut tx).await
            })
            .await
            .map(|_| ())
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        let Ok(mut tx) = self.begin().await else { return false };
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&mut *tx).await.is_ok()
    }
}

/// Fails when the connected role is a superuser or has BYPASSRLS: either would silently
/// disable the database wall between tenants.
pub async fn check_role(conn: &mut sqlx::PgConnection) -> anyhow::Result<()> {
    let (name, superuser, bypass): (String, bool, bool) =
        sqlx::query_as("SELECT rolname::text, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(conn)
            .await
            .context("checking the database role")?;
    if superuser || bypass {
        bail!(
            "refusing to start: database role {name:?} is {} and would bypass row-level security; \
             connect as a role without SUPERUSER and BYPASSRLS",
            if superuser { "a superuser" } else { "BYPASSRLS" }
        );
    }
    Ok(())
}

/// Applies pending migrations over `url` (the direct, unpooled URL in production).
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    // A migration is one long statement by nature: sqlx's slow-statement warning would print
    // the whole file (and a backfill's plan) as if something were wrong.
    let options =
        PgConnectOptions::from_str(url).context("parsing the database URL to migrate")?.disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .context("connecting to the database to migrate")?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    pool.close().await;
    Ok(())
}
