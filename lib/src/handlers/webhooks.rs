//! `POST /api/webhooks/clerk`: Clerk's events, signed by Svix.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    auth::webhook::{SvixHeaders, WebhookError, verify_svix},
    error::ApiError,
    http::{App, json::ApiJson},
    webhooks::{self, Delivery, EventError, Outcome},
};

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        if err.is_misconfiguration() {
            ApiError::internal(err)
        } else {
            ApiError::unauthorized(err.code(), err.to_string())
        }
    }
}

impl From<EventError> for ApiError {
    fn from(err: EventError) -> Self {
        ApiError::bad_request("invalid_event", err.to_string())
    }
}

#[derive(Serialize)]
struct Acknowledged {
    status: Outcome,
}

/// Verifies the delivery (401 and no effect unless signed with the endpoint's secret within
/// five minutes), then applies it once per `svix-id`; redeliveries answer 200 unchanged.
pub async fn post_clerk(
    State(app): State<App>,
    headers: HeaderMap,
    body: Body,
) -> Result<ApiJson<impl Serialize>, ApiError> {
    let Some(secret) = app.settings.clerk_webhook_signing_secret.as_ref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhooks_not_configured",
            "this deployment does not accept Clerk webhooks (CLERK_WEBHOOK_SIGNING_SECRET is unset)",
        ));
    };
    let svix = SvixHeaders::from_header_map(&headers)?;
    // The raw body escapes axum's DefaultBodyLimit: apply the deployment's cap here too.
    let cap = webhooks::MAX_BODY_BYTES.min(app.settings.max_body_bytes);
    let body = axum::body::to_bytes(body, cap).await.map_err(|_| ApiError::payload_too_large(cap))?;
    let now = OffsetDateTime::now_utc();
    verify_svix(secret.expose(), &svix, &body, now)?;
    let delivery = Delivery::parse(&body, now)?;
    let status = webhooks::process(&app, svix.id, &delivery).await?;
    Ok(ApiJson(Acknowledged { status }))
}
