//! `GET /api/health`: liveness plus database reachability, without authentication. Anyone can
//! call it, so it stays cheap: a successful database check answers for [`CHECK_TTL`]
//! (concurrent calls wait for the same check), and each client address gets [`PER_CLIENT`]
//! calls a minute.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;

use crate::{
    error::ApiError,
    http::{App, extract::ClientIp, json::ApiJson},
};

/// How long one database check answers for.
pub const CHECK_TTL: Duration = Duration::from_secs(5);
/// Calls a minute one client address may make.
pub const PER_CLIENT: u32 = 60;
/// Addresses remembered before the window's table is cleared (bounds memory under a flood).
const MAX_CLIENTS: usize = 10_000;
const WINDOW: Duration = Duration::from_secs(60);

/// Calls per client address since the window started.
type Window = (Option<Instant>, HashMap<Option<IpAddr>, u32>);

/// The cached check and the per-address counters of one instance.
#[derive(Default)]
pub struct HealthState {
    /// When the database last answered, if within [`CHECK_TTL`] that answer is reused.
    last: tokio::sync::Mutex<Option<Instant>>,
    window: Mutex<Window>,
}

impl HealthState {
    /// Whether the database answered: a success counts for [`CHECK_TTL`]; a failure is not
    /// kept, so recovery shows at once (concurrent calls still wait for one check at a time).
    async fn database_up(&self, app: &App) -> bool {
        let mut last = self.last.lock().await;
        if last.is_some_and(|at| at.elapsed() < CHECK_TTL) {
            return true;
        }
        let up = app.db.ping().await;
        *last = up.then(Instant::now);
        up
    }

    /// Counts a call from `ip`; the seconds until the window turns when it is over the budget.
    fn admit(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let mut guard = self.window.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (started, counts) = &mut *guard;
        let now = Instant::now();
        if started.is_none_or(|s| now.duration_since(s) >= WINDOW) || counts.len() >= MAX_CLIENTS {
            *started = Some(now);
            counts.clear();
        }
        let n = counts.entry(ip).or_default();
        *n += 1;
        if *n > PER_CLIENT {
            let left = WINDOW.saturating_sub(now.duration_since(started.expect("set above")));
            return Err(left.as_secs().max(1));
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    version: &'static str,
}

/// Reports `ok` (200) or `degraded` (503) with the database's state; 429 past the budget.
pub async fn get_health(State(app): State<App>, ClientIp(ip): ClientIp) -> Result<impl IntoResponse, ApiError> {
    app.health.admit(ip).map_err(|retry| {
        ApiError::too_many_requests("rate_limited", "too many health checks from this address", retry)
    })?;
    let up = app.health.database_up(&app).await;
    let body = Health {
        status: if up { "ok" } else { "degraded" },
        database: if up { "ok" } else { "unreachable" },
        version: env!("CARGO_PKG_VERSION"),
    };
    Ok((if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, ApiJson(body)))
}
