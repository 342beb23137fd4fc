//! The route table: every API endpoint, its path, and the Vercel function file serving it.
//! The local server mounts all of them; each `api/*.rs` binary mounts exactly one. A test
//! keeps this table, the `api/` folder and the `[[bin]]`s of Cargo.toml in step.

use axum::{
    http::Method,
    routing::{MethodRouter, get, patch, post},
};

use crate::{handlers, http::App, ratelimit::RouteClass};

/// An API endpoint served by one Vercel function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /api/health`
    Health,
    /// `GET /api/organizations/current`
    OrganizationsCurrent,
    /// `GET /api/organizations/users`
    OrganizationsUsers,
    /// `GET /api/organizations/usage`
    OrganizationsUsage,
    /// `GET /api/organizations/users/{id}`
    OrganizationsUser,
    /// `GET, POST /api/contents`
    Contents,
    /// `GET, PATCH, DELETE /api/contents/{id}`
    Content,
    /// `POST /api/search`
    Search,
    /// `PATCH /api/organizations/limits` (deployment operators)
    OrganizationsLimits,
    /// `POST /api/webhooks/clerk`
    WebhooksClerk,
    /// `GET /api/audit`
    Audit,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: &'static [Endpoint] = &[
        Endpoint::Health,
        Endpoint::OrganizationsCurrent,
        Endpoint::OrganizationsUsers,
        Endpoint::OrganizationsUsage,
        Endpoint::OrganizationsUser,
        Endpoint::Contents,
        Endpoint::Content,
        Endpoint::Search,
        Endpoint::OrganizationsLimits,
        Endpoint::WebhooksClerk,
        Endpoint::Audit,
    ];

    /// The URL path, in axum's syntax (`{id}` for a segment).
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Health => "/api/health",
            Endpoint::OrganizationsCurrent => "/api/organizations/current",
            Endpoint::OrganizationsUsers => "/api/organizations/users",
            Endpoint::OrganizationsUsage => "/api/organizations/usage",
            Endpoint::OrganizationsUser => "/api/organizations/users/{id}",
            Endpoint::Contents => "/api/contents",
            Endpoint::Content => "/api/contents/{id}",
            Endpoint::Search => "/api/search",
            Endpoint::OrganizationsLimits => "/api/organizations/limits",
            Endpoint::WebhooksClerk => "/api/webhooks/clerk",
            Endpoint::Audit => "/api/audit",
        }
    }

    /// The Vercel function file, relative to the repository root.
    pub fn function_file(self) -> &'static str {
        match self {
            Endpoint::Health => "api/health.rs",
            Endpoint::OrganizationsCurrent => "api/organizations/current.rs",
            Endpoint::OrganizationsUsers => "api/organizations/users.rs",
            Endpoint::OrganizationsUsage => "api/organizations/usage.rs",
            Endpoint::OrganizationsUser => "api/organizations/users/[id].rs",
            Endpoint::Contents => "api/contents.rs",
            Endpoint::Content => "api/contents/[id].rs",
            Endpoint::Search => "api/search.rs",
            Endpoint::OrganizationsLimits => "api/organizations/limits.rs",
            Endpoint::WebhooksClerk => "api/webhooks/clerk.rs",
            Endpoint::Audit => "api/audit.rs",
        }
    }

    /// The handlers of each method on this path.
    pub fn method_router(self) -> MethodRouter<App> {
        match self {
            Endpoint::Health => get(handlers::health::get_health),
            Endpoint::OrganizationsCurrent => get(handlers::organizations::get_current),
            Endpoint::OrganizationsUsers => get(handlers::organizations::list_users),
            Endpoint::OrganizationsUsage => get(handlers::organizations::get_usage),
            Endpoint::OrganizationsUser => get(handlers::organizations::get_user),
            Endpoint::Contents => get(handlers::contents::list_contents).post(handlers::contents::create_content),
            Endpoint::Content => get(handlers::contents::get_content)
                .patch(handlers::contents::update_content)
                .delete(handlers::contents::delete_content),
            Endpoint::Search => post(handlers::search::post_search),
            Endpoint::OrganizationsLimits => patch(handlers::limits::patch_limits),
            Endpoint::WebhooksClerk => post(handlers::webhooks::post_clerk),
            Endpoint::Audit => get(handlers::audit::list_audit),
        }
    }

    /// The rate-limit class of a request to this endpoint. Reads and writes follow the method;
    /// generation and crawl-start endpoints name their own class here.
    pub fn rate_class(self, method: &Method) -> RouteClass {
        match self {
            Endpoint::WebhooksClerk | Endpoint::OrganizationsLimits => RouteClass::Writes,
            _ => RouteClass::for_method(method),
        }
    }

    /// Paths a Vercel function answers on: the route itself and, for a dynamic route, the
    /// file's own path (`/api/crawls/[id]`), under which the id arrives as `?id=`.
    pub fn function_paths(self) -> Vec<String> {
        let mut paths = vec![self.path().to_owned()];
        if let Some(file) = self.function_file().strip_suffix(".rs").filter(|f| f.contains('[')) {
            paths.push(format!("/{file}"));
        }
        paths
    }
}
