//! `GET /api/health`: liveness plus database reachability, without authentication.

use axum::{extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;

use crate::http::{App, json::ApiJson};

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
    version: &'static str,
}

/// Reports `ok` (200) or `degraded` (503) with the database's state.
pub async fn get_health(State(app): State<App>) -> impl IntoResponse {
    let up = app.db.ping().await;
    let body = Health {
        status: if up { "ok" } else { "degraded" },
        database: if up { "ok" } else { "unreachable" },
        version: env!("CARGO_PKG_VERSION"),
    };
    (if up { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, ApiJson(body))
}
