//! The `voiceforge` command: local server, migrations, dev tokens.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use voiceforge::{
    auth::{Role, dev::DevIssuer},
    config::{Settings, data_dir_from_env},
    server::{ServeOptions, serve},
};

#[derive(Parser)]
#[command(name = "voiceforge", version, about = "VoiceForge: brand-voice content platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every endpoint, the frontend and dev sign-in on one local listener.
    Serve {
        /// Port to listen on.
        #[arg(long, default_value_t = 3000, env = "PORT")]
        port: u16,
        /// Address to bind.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Run the local dev issuer (dev sign-in) even though a Clerk issuer is configured.
        #[arg(long, overrides_with = "no_dev_auth")]
        dev_auth: bool,
        /// Turn off the local dev issuer (accept only the configured Clerk instance); the
        /// default whenever CLERK_ISSUER is set.
        #[arg(long)]
        no_dev_auth: bool,
        /// Built frontend to serve.
        #[arg(long, default_value = "frontend/dist")]
        frontend_dir: PathBuf,
    },
    /// Apply database migrations (over DATABASE_URL_UNPOOLED when set).
    Migrate,
    /// Import a single-tenant VoiceForge database (docs/legacy-schema.sql) into an organization.
    ImportLegacy {
        /// URL of the legacy database; only read.
        #[arg(long)]
        from: String,
        /// Clerk id of the organization to import into (created when missing).
        #[arg(long)]
        org: String,
        /// Clerk id of the user the items are attributed to (becomes an admin member).
        #[arg(long)]
        created_by: Option<String>,
        /// Report counts and problems without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the route table as JSON: function file → URL path.
    Routes,
    /// Print a dev session token for `voiceforge serve` (same data folder).
    DevToken {
        /// Clerk-style organization id, created on first use.
        #[arg(long)]
        org: String,
        /// Clerk-style user id, created on first use.
        #[arg(long)]
        user: String,
        /// Role in the organization.
        #[arg(long, value_parser = ["admin", "member"], default_value = "member")]
        role: String,
        /// Display name for a new organization.
        #[arg(long)]
        org_name: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    voiceforge::telemetry::init();
    match Cli::parse().command {
        Command::Serve { port, host, dev_auth, no_dev_auth, frontend_dir } => {
            let settings = Settings::from_env()?;
            for warning in settings.warnings() {
                tracing::warn!("{warning}");
            }
            let asked = match (dev_auth, no_dev_auth) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let dev_auth = voiceforge::server::dev_auth_choice(asked, settings.clerk.is_some(), host)?;
            let options = ServeOptions { addr: SocketAddr::new(host, port), dev_auth, frontend_dir };
            serve(settings, options).await
        }
        Command::Migrate => {
            let settings = Settings::from_env()?;
            voiceforge::db::migrate(settings.database_url_unpooled.expose()).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::ImportLegacy { from, org, created_by, dry_run } => {
            use voiceforge::auth::dev::valid_clerk_id;
            anyhow::ensure!(valid_clerk_id("org", &org), "--org must be a Clerk organization id like org_2abc");
            if let Some(user) = &created_by {
                anyhow::ensure!(valid_clerk_id("user", user), "--created-by must be a Clerk user id like user_2abc");
            }
            let settings = Settings::from_env()?;
            let db = voiceforge::db::Database::connect_lazy(&settings)?;
            db.ensure_safe_role().await?;
            let options = voiceforge::legacy::ImportOptions { from, org, created_by, dry_run };
            let report = voiceforge::legacy::import(&db, &options, &mut TerminalProgress::default()).await?;
            print_report(&report);
            Ok(())
        }
        Command::Routes => {
            let table: serde_json::Map<String, serde_json::Value> = voiceforge::routes::Endpoint::ALL
                .iter()
                .map(|e| (e.function_file().to_owned(), e.path().into()))
                .collect();
            println!("{}", serde_json::Value::Object(table));
            Ok(())
        }
        Command::DevToken { org, user, role, org_name, ttl } => {
            use voiceforge::auth::dev::valid_clerk_id;
            anyhow::ensure!(valid_clerk_id("org", &org), "--org must look like org_acme");
            anyhow::ensure!(valid_clerk_id("user", &user), "--user must look like user_alice");
            let role = if role == "admin" { Role::Admin } else { Role::Member };
            let data_dir = data_dir_from_env();
            let issuer = DevIssuer::load_or_create(&data_dir)
                .with_context(|| format!("loading the dev issuer key from {}", data_dir.display()))?;
            println!("{}", issuer.mint(&org, &user, role, org_name.as_deref(), Duration::from_secs(ttl))?);
            Ok(())
        }
    }
}

/// Progress on stderr: a redrawn bar on a terminal, a line every 100 rows otherwise.
#[derive(Default)]
struct TerminalProgress {
    last_table: String,
}

impl voiceforge::legacy::Progress for TerminalProgress {
    fn update(&mut self, table: &str, done: u64, total: u64) -> std::ops::ControlFlow<()> {
        use std::io::{IsTerminal, Write};
        let mut err = std::io::stderr();
        if err.is_terminal() {
            let width = 30u64;
            let filled = (done * width).checked_div(total).unwrap_or(width) as usize;
            let bar = format!("{}{}", "#".repeat(filled), ".".repeat(width as usize - filled.min(width as usize)));
            let newline = if self.last_table != table && !self.last_table.is_empty() { "\n" } else { "" };
            let _ = write!(err, "{newline}\r{table:>16} [{bar}] {done}/{total}");
            if done == total {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        } else if done.is_multiple_of(100) || done == total {
            let _ = writeln!(err, "{table}: {done}/{total}");
        }
        self.last_table = table.to_owned();
        std::ops::ControlFlow::Continue(())
    }
}

fn print_report(report: &voiceforge::legacy::ImportReport) {
    println!("{}", if report.dry_run { "Dry run: nothing was written." } else { "Import finished." });
    println!(
        "{:<22} {:>7} {:>9} {:>9} {:>11} {:>9} {:>8} {:>7} {:>9}",
        "table", "total", "imported", "already", "duplicates", "refused", "rebuilt", "failed", "warnings"
    );
    for t in &report.tables {
        println!(
            "{:<22} {:>7} {:>9} {:>9} {:>11} {:>9} {:>8} {:>7} {:>9}",
            t.table,
            t.total,
            t.imported,
            t.already_imported,
            t.duplicates,
            t.refused_by_limits,
            t.rebuilt,
            t.failed.len(),
            t.warnings.len()
        );
    }
    for t in &report.tables {
        for f in &t.failed {
            println!("failed: {} #{}: {}", t.table, f.legacy_id, f.reason);
        }
        for w in &t.warnings {
            println!("warning: {} #{}: {}", t.table, w.legacy_id, w.message);
        }
        if t.refused_by_limits > 0 {
            println!(
                "refused: {} {} rows by the organization's limits; raise the limit and run again to import them",
                t.refused_by_limits, t.table
            );
        }
    }
    if report.interrupted {
        println!("Interrupted: run the same command again to resume.");
    }
}
