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
    /// `GET /api/search/status`
    SearchStatus,
    /// `PATCH /api/organizations/limits` (deployment operators)
    OrganizationsLimits,
    /// `POST /api/webhooks/clerk`
    WebhooksClerk,
    /// `GET /api/audit`
    Audit,
    /// `GET, POST /api/crawls`
    Crawls,
    /// `GET, PUT /api/crawls/schedule`
    CrawlsSchedule,
    /// `GET /api/crawls/{id}`
    Crawl,
    /// `GET /api/crawls/{id}/pages`
    CrawlPages,
    /// `POST /api/crawls/{id}/cancel`
    CrawlCancel,
    /// `GET /api/cron/crawl` (Vercel cron)
    CronCrawl,
    /// `GET, POST /api/templates`
    Templates,
    /// `GET, PATCH, DELETE /api/templates/{id}`
    Template,
    /// `GET /api/voice`
    Voice,
    /// `GET, PUT /api/voice/guide`
    VoiceGuide,
    /// `POST /api/voice/check`
    VoiceCheck,
    /// `POST /api/generate`
    Generate,
    /// `GET /api/generations`
    Generations,
    /// `GET /api/generations/{id}`
    Generation,
}

/// One Vercel function: the endpoint it serves and the constructor of its handlers.
#[derive(Clone, Copy, Debug)]
pub struct Function {
    /// The endpoint served.
    pub endpoint: Endpoint,
    /// Builds the handlers of each method on the endpoint's path.
    pub method_router: fn() -> MethodRouter<App>,
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
        Endpoint::SearchStatus,
        Endpoint::OrganizationsLimits,
        Endpoint::WebhooksClerk,
        Endpoint::Audit,
        Endpoint::Crawls,
        Endpoint::CrawlsSchedule,
        Endpoint::Crawl,
        Endpoint::CrawlPages,
        Endpoint::CrawlCancel,
        Endpoint::CronCrawl,
        Endpoint::Templates,
        Endpoint::Template,
        Endpoint::Voice,
        Endpoint::VoiceGuide,
        Endpoint::VoiceCheck,
        Endpoint::Generate,
        Endpoint::Generations,
        Endpoint::Generation,
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
            Endpoint::SearchStatus => "/api/search/status",
            Endpoint::OrganizationsLimits => "/api/organizations/limits",
            Endpoint::WebhooksClerk => "/api/webhooks/clerk",
            Endpoint::Audit => "/api/audit",
            Endpoint::Crawls => "/api/crawls",
            Endpoint::CrawlsSchedule => "/api/crawls/schedule",
            Endpoint::Crawl => "/api/crawls/{id}",
            Endpoint::CrawlPages => "/api/crawls/{id}/pages",
            Endpoint::CrawlCancel => "/api/crawls/{id}/cancel",
            Endpoint::CronCrawl => "/api/cron/crawl",
            Endpoint::Templates => "/api/templates",
            Endpoint::Template => "/api/templates/{id}",
            Endpoint::Voice => "/api/voice",
            Endpoint::VoiceGuide => "/api/voice/guide",
            Endpoint::VoiceCheck => "/api/voice/check",
            Endpoint::Generate => "/api/generate",
            Endpoint::Generations => "/api/generations",
            Endpoint::Generation => "/api/generations/{id}",
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
            Endpoint::SearchStatus => "api/search/status.rs",
            Endpoint::OrganizationsLimits => "api/organizations/limits.rs",
            Endpoint::WebhooksClerk => "api/webhooks/clerk.rs",
            Endpoint::Audit => "api/audit.rs",
            Endpoint::Crawls => "api/crawls.rs",
            Endpoint::CrawlsSchedule => "api/crawls/schedule.rs",
            Endpoint::Crawl => "api/crawls/[id].rs",
            Endpoint::CrawlPages => "api/crawls/[id]/pages.rs",
            Endpoint::CrawlCancel => "api/crawls/[id]/cancel.rs",
            Endpoint::CronCrawl => "api/cron/crawl.rs",
            Endpoint::Templates => "api/templates.rs",
            Endpoint::Template => "api/templates/[id].rs",
            Endpoint::Voice => "api/voice.rs",
            Endpoint::VoiceGuide => "api/voice/guide.rs",
            Endpoint::VoiceCheck => "api/voice/check.rs",
            Endpoint::Generate => "api/generate.rs",
            Endpoint::Generations => "api/generations.rs",
            Endpoint::Generation => "api/generations/[id].rs",
        }
    }

    /// This endpoint as a Vercel function. Evaluated in a `const` (as every `api/*.rs` does), the
    /// result names only this endpoint's handlers, so a function binary links those alone: a
    /// runtime `match` here would link every handler into every binary.
    pub const fn function(self) -> Function {
        let method_router: fn() -> MethodRouter<App> = match self {
            Endpoint::Health => || get(handlers::health::get_health),
            Endpoint::OrganizationsCurrent => || get(handlers::organizations::get_current),
            Endpoint::OrganizationsUsers => || get(handlers::organizations::list_users),
            Endpoint::OrganizationsUsage => || get(handlers::organizations::get_usage),
            Endpoint::OrganizationsUser => || get(handlers::organizations::get_user),
            Endpoint::Templates => {
                || get(handlers::templates::list_templates).post(handlers::templates::create_template)
            }
            Endpoint::Template => || {
                get(handlers::templates::get_template)
                    .patch(handlers::templates::patch_template)
                    .delete(handlers::templates::delete_template)
            },
            Endpoint::Voice => || get(handlers::voice::get_voice),
            Endpoint::VoiceGuide => || get(handlers::voice::get_guide).put(handlers::voice::put_guide),
            Endpoint::VoiceCheck => || post(handlers::voice::check_voice),
            Endpoint::Generate => || post(handlers::generations::post_generate),
            Endpoint::Generations => || get(handlers::generations::list_generations),
            Endpoint::Generation => || get(handlers::generations::get_generation),
            Endpoint::Crawls => || get(handlers::crawls::list_crawls).post(handlers::crawls::post_crawl),
            Endpoint::CrawlsSchedule => || get(handlers::crawls::get_schedule).put(handlers::crawls::put_schedule),
            Endpoint::Crawl => || get(handlers::crawls::get_crawl),
            Endpoint::CrawlPages => || get(handlers::crawls::list_crawl_pages),
            Endpoint::CrawlCancel => || post(handlers::crawls::cancel_crawl),
            Endpoint::CronCrawl => || get(handlers::cron::get_cron_crawl),
            Endpoint::Contents => || get(handlers::contents::list_contents).post(handlers::contents::create_content),
            Endpoint::Content => || {
                get(handlers::contents::get_content)
                    .patch(handlers::contents::update_content)
                    .delete(handlers::contents::delete_content)
            },
            Endpoint::Search => || post(handlers::search::post_search),
            Endpoint::SearchStatus => || get(handlers::search::get_search_status),
            Endpoint::OrganizationsLimits => || patch(handlers::limits::patch_limits),
            Endpoint::WebhooksClerk => || post(handlers::webhooks::post_clerk),
            Endpoint::Audit => || get(handlers::audit::list_audit),
        };
        Function { endpoint: self, method_router }
    }

    /// The handlers of each method on this path.
    pub fn method_router(self) -> MethodRouter<App> {
        (self.function().method_router)()
    }

    /// The rate-limit class of a request to this endpoint. Reads and writes follow the method;
    /// generation and crawl-start endpoints name their own class here.
    pub fn rate_class(self, method: &Method) -> RouteClass {
        match self {
            Endpoint::WebhooksClerk | Endpoint::OrganizationsLimits => RouteClass::Writes,
            Endpoint::Crawls if method == Method::POST => RouteClass::CrawlStarts,
            Endpoint::Generate => RouteClass::Generation,
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
