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
        /// Turn off the local dev issuer (accept only the configured Clerk instance).
        #[arg(long)]
        no_dev_auth: bool,
        /// Built frontend to serve.
        #[arg(long, default_value = "frontend/dist")]
        frontend_dir: PathBuf,
    },
    /// Apply database migrations (over DATABASE_URL_UNPOOLED when set).
    Migrate,
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
        Command::Serve { port, host, no_dev_auth, frontend_dir } => {
            let settings = Settings::from_env()?;
            let options = ServeOptions { addr: SocketAddr::new(host, port), dev_auth: !no_dev_auth, frontend_dir };
            serve(settings, options).await
        }
        Command::Migrate => {
            let settings = Settings::from_env()?;
            voiceforge::db::migrate(settings.database_url_unpooled.expose()).await?;
            eprintln!("migrations applied");
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
