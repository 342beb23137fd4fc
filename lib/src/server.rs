//! `voiceforge serve`: every endpoint on one listener, the built frontend, and the dev
//! issuer for local sign-in. Production runs the same handlers as Vercel functions.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use axum::{
    Router,
    routing::{any, get, post},
};
use tower_http::services::{ServeDir, ServeFile};

use crate::{
    auth::{TokenVerifier, dev::DevIssuer},
    config::Settings,
    db::Database,
    error::ApiError,
    handlers::dev,
    http::{self, App, AppInner, http_client},
    routes::Endpoint,
};

/// How the local server is started.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Run the dev issuer (local sign-in); see [`dev_auth_choice`].
    pub dev_auth: bool,
    /// Folder of the built frontend, served for every non-API path when present.
    pub frontend_dir: PathBuf,
}

/// Whether `voiceforge serve` runs the dev issuer: as `--dev-auth` / `--no-dev-auth` say, else
/// only when no Clerk issuer is configured, so a server set up for Clerk never mints tokens
/// by surprise. Dev sign-in hands a token to anyone who asks, so it is refused on an address
/// other machines can reach.
pub fn dev_auth_choice(asked: Option<bool>, clerk_configured: bool, host: std::net::IpAddr) -> anyhow::Result<bool> {
    let on = asked.unwrap_or(!clerk_configured);
    anyhow::ensure!(
        !on || host.is_loopback(),
        "refusing dev sign-in on --host {host}: it gives a token to anyone who can reach the server. \
         Bind a loopback address (127.0.0.1), or configure Clerk (CLERK_ISSUER) and pass --no-dev-auth"
    );
    Ok(on)
}

/// Builds the application state for the local server: Clerk's issuer when configured, plus
/// the dev issuer unless disabled.
pub fn build_app(settings: Settings, dev_auth: bool) -> anyhow::Result<App> {
    let http = http_client()?;
    let mut issuers = http::clerk_issuers(&settings);
    let dev_issuer = if dev_auth {
        let issuer = DevIssuer::load_or_create(&settings.data_dir)
            .with_context(|| format!("loading the dev issuer key from {}", settings.data_dir.display()))?;
        issuers.push(issuer.issuer_config());
        Some(Arc::new(issuer))
    } else {
        None
    };
    anyhow::ensure!(
        !issuers.is_empty(),
        "no token issuer: set CLERK_ISSUER (with CLERK_JWKS_URL or CLERK_JWT_KEY) or drop --no-dev-auth"
    );
    let db = Database::connect_lazy(&settings)?;
    let verifier = TokenVerifier::new(issuers, http.clone());
    let crawler = crate::crawl::Crawler::from_settings(&settings)?;
    let retrieval = crate::search::Retrieval::from_settings(&settings, &http)?;
    Ok(App::new(AppInner { settings, db, verifier, http, crawler, retrieval, health: Default::default(), dev_issuer }))
}

/// The local server's router: the API, dev sign-in (when on) and the frontend.
pub fn router(app: App, frontend_dir: &std::path::Path) -> Router {
    let mut api = Endpoint::ALL.iter().fold(Router::new(), |r, e| r.route(e.path(), e.method_router()));
    // Unknown API paths stay API errors instead of falling through to the frontend.
    api = api.route("/api/{*rest}", any(|| async { ApiError::not_found("endpoint") }));
    if app.dev_issuer.is_some() {
        api = api.route("/api/dev/token", post(dev::post_token)).route("/api/dev/jwks.json", get(dev::get_jwks));
    }
    let mut router = http::with_middleware(api.with_state(app.clone()), &app.settings);
    let index = frontend_dir.join("index.html");
    if index.is_file() {
        // Unknown non-API paths are the single-page app's routes.
        let spa = ServeDir::new(frontend_dir).fallback(ServeFile::new(index));
        router = router.fallback_service(spa);
    }
    router
}

/// Runs the local server until Ctrl-C or SIGTERM.
pub async fn serve(settings: Settings, options: ServeOptions) -> anyhow::Result<()> {
    let app = build_app(settings, options.dev_auth)?;
    app.db.ensure_safe_role().await?;
    // A missing model or a model the vector store does not hold stops start-up here.
    app.retrieval.ensure_compatible(&app.db).await?;
    if app.settings.vector_outbox_worker {
        tokio::spawn(drain_outbox_forever(app.clone()));
    }
    let router = router(app.clone(), &options.frontend_dir);
    if app.settings.crawl.local_worker {
        tokio::spawn(crawl_worker(app.clone()));
    }
    let listener =
        tokio::net::TcpListener::bind(options.addr).await.with_context(|| format!("listening on {}", options.addr))?;
    tracing::info!(
        "VoiceForge listening on http://{} (dev sign-in {})",
        listener.local_addr()?,
        if options.dev_auth { "on" } else { "off" }
    );
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")
}

/// The local stand-in for Vercel cron: advances crawls and starts scheduled re-crawls,
/// pausing briefly when there is nothing to do.
async fn crawl_worker(app: App) {
    loop {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        match app.crawler.advance_all(&app.db, deadline).await {
            Ok(sweep) if sweep.crawls_advanced > 0 => {
                // Busy: a short pause lets retries and other workers' leases come due.
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                continue;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!("crawl worker: {err:#}"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    }
}

/// The local stand-in for the cron that drains the vector outbox: every few seconds.
async fn drain_outbox_forever(app: App) {
    loop {
        match crate::content::drain_outbox(
            &app.db,
            &app.retrieval,
            crate::content::DrainBudget::from_settings(&app.settings),
        )
        .await
        {
            Ok(r) if r.upserted + r.deleted + r.failed > 0 => {
                tracing::info!(upserted = r.upserted, deleted = r.deleted, failed = r.failed, "vector outbox drained");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!("vector outbox: {err:#}"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::dev_auth_choice;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn dev_sign_in_is_off_by_default_once_clerk_is_configured_and_on_when_asked() {
        assert!(dev_auth_choice(None, false, LOOPBACK).unwrap());
        assert!(!dev_auth_choice(None, true, LOOPBACK).unwrap());
        assert!(dev_auth_choice(Some(true), true, LOOPBACK).unwrap());
        assert!(!dev_auth_choice(Some(false), false, LOOPBACK).unwrap());
        assert!(dev_auth_choice(None, false, IpAddr::V6(Ipv6Addr::LOCALHOST)).unwrap());
    }

    #[test]
    fn dev_sign_in_is_refused_on_an_address_other_machines_reach() {
        let everywhere = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let err = dev_auth_choice(None, false, everywhere).unwrap_err().to_string();
        assert!(err.contains("refusing dev sign-in") && err.contains("--no-dev-auth"), "{err}");
        assert!(dev_auth_choice(Some(true), true, "192.0.2.7".parse().unwrap()).is_err());
        assert!(!dev_auth_choice(None, true, everywhere).unwrap(), "Clerk alone may serve any address");
        assert!(!dev_auth_choice(Some(false), false, everywhere).unwrap());
    }
}
