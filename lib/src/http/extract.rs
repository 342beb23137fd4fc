//! Extractors that authenticate the caller and open their tenant transaction.

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{
    auth::{AuthError, Identity, bearer_token},
    error::ApiError,
    http::App,
    ratelimit::{self, RouteClass},
    routes::Endpoint,
    tenancy::Tenant,
    usage::{self, Metric},
};

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        if err.is_forbidden() {
            ApiError::forbidden(err.code(), err.to_string())
        } else {
            ApiError::unauthorized(err.code(), err.to_string())
        }
    }
}

/// A caller whose session token verified. Nothing has touched the database yet.
pub struct Caller(pub Identity);

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("\u{0}"));
        let token = bearer_token(header)?;
        Ok(Caller(app.verifier.verify(token).await?))
    }
}

/// A verified caller inside their organization's transaction (see [`Tenant::begin`]).
pub struct InTenant(pub Tenant);

impl FromRequestParts<App> for InTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let Caller(identity) = Caller::from_request_parts(parts, app).await?;
        app.db.ensure_safe_role().await.map_err(unsafe_role)?;
        admit(app, &identity, route_class(parts)).await?;
        let mut tenant = Tenant::begin(&app.db, &identity).await?;
        tenant.set_client_ip(client_ip(parts));
        Ok(InTenant(tenant))
    }
}

/// A verified member who passed the gate ([`admit`]) and whose handler opens its tenant
/// transactions itself: for work that must not hold a pooled connection meanwhile (fetching
/// a page, calling a model).
pub struct Admitted {
    identity: Identity,
    ip: Option<std::net::IpAddr>,
}

impl FromRequestParts<App> for Admitted {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, ApiError> {
        let Caller(identity) = Caller::from_request_parts(parts, app).await?;
        app.db.ensure_safe_role().await.map_err(unsafe_role)?;
        // The same gate as every other member route: membership (a removed member is refused
        // before the body is read), the route's rate limit, and the API-call count.
        admit(app, &identity, route_class(parts)).await?;
        Ok(Admitted { identity, ip: client_ip(parts) })
    }
}

impl Admitted {
    /// Opens the member's tenant transaction.
    pub async fn tenant(&self, app: &App) -> Result<Tenant, ApiError> {
        let mut tenant = Tenant::begin(&app.db, &self.identity).await?;
        tenant.set_client_ip(self.ip);
        Ok(tenant)
    }
}

/// The edge's gate, in a short transaction of its own before the request's: takes a token
/// from the member's and the organization's bucket of the route's class (429 `rate_limited`
/// when either is empty, with nothing taken) and counts the API call. Kept apart so the
/// bucket and counter rows are locked for a few statements, not for the whole request.
pub(crate) async fn admit(app: &App, identity: &Identity, class: RouteClass) -> Result<(), ApiError> {
    // Bucket and counter rows are shared by the org's concurrent requests: a transaction that
    // Postgres aborts to break a lock cycle left nothing behind and is tried again.
    let mut attempt = 0;
    loop {
        match admit_once(app, identity, class).await {
            Err(err) if err.code() == "database_busy" && attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(15 * attempt)).await;
            }
            other => return other,
        }
    }
}

async fn admit_once(app: &App, identity: &Identity, class: RouteClass) -> Result<(), ApiError> {
    let mut gate = Tenant::begin(&app.db, identity).await?;
    // On refusal `gate` is dropped uncommitted: a token taken from the first bucket returns.
    ratelimit::check(&mut gate, &app.settings.rate_limits, class).await?;
    usage::record(&mut gate, Metric::ApiCalls, 1).await?;
    gate.commit().await?;
    Ok(())
}

/// The rate-limit class of the matched route (by method when the route is not in the table).
pub(crate) fn route_class(parts: &Parts) -> RouteClass {
    let matched = parts.extensions.get::<axum::extract::MatchedPath>().map(|m| m.as_str());
    matched
        .and_then(|path| Endpoint::ALL.iter().find(|e| e.function_paths().iter().any(|p| p == path)))
        .map_or_else(|| RouteClass::for_method(&parts.method), |e| e.rate_class(&parts.method))
}

/// The client's address, for audit entries written outside a member's request.
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// The client's address: the socket peer under the local server, else the first
/// `X-Forwarded-For` entry (Vercel's edge sets it).
pub fn client_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    if let Some(axum::extract::ConnectInfo(addr)) =
        parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        return Some(addr.ip());
    }
    parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok())
}

/// A failed role check: either the database is down (503) or the role is unsafe (500).
pub fn unsafe_role(err: anyhow::Error) -> ApiError {
    match err.downcast_ref::<sqlx::Error>().map(crate::error::is_unavailable) {
        Some(true) => {
            ApiError::unavailable("database_unavailable", "the database is unavailable; try again shortly", err)
        }
        _ => ApiError::internal(err),
    }
}

/// The `{id}` of a dynamic route, from the path or, as Vercel adds it, from `?id=`.
pub struct ResourceId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ResourceId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        use axum::extract::{Path, Query};
        let from_path = Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(mut p)| p.remove("id"));
        let from_query = || {
            Query::<std::collections::HashMap<String, String>>::try_from_uri(&parts.uri)
                .ok()
                .and_then(|Query(mut q)| q.remove("id"))
        };
        match from_path.or_else(from_query) {
            Some(id) if !id.is_empty() && id.len() <= 256 => Ok(ResourceId(id)),
            _ => Err(ApiError::not_found("the resource")),
        }
    }
}
