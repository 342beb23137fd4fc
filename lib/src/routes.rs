//! The route table: every API endpoint, its path, and the Vercel function file serving it.
//! The local server mounts all of them; each `api/*.rs` binary mounts exactly one. A test
//! keeps this table, the `api/` folder and the `[[bin]]`s of Cargo.toml in step.

use axum::routing::{MethodRouter, get, post};

use crate::{handlers, http::App};

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

impl Endpoint {
    /// Every endpoint.
    pub const ALL: &'static [Endpoint] = &[
        Endpoint::Health,
        Endpoint::OrganizationsCurrent,
        Endpoint::OrganizationsUsers,
        Endpoint::OrganizationsUsage,
        Endpoint::OrganizationsUser,
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

    /// The handlers of each method on this path.
    pub fn method_router(self) -> MethodRouter<App> {
        match self {
            Endpoint::Health => get(handlers::health::get_health),
            Endpoint::OrganizationsCurrent => get(handlers::organizations::get_current),
            Endpoint::OrganizationsUsers => get(handlers::organizations::list_users),
            Endpoint::OrganizationsUsage => get(handlers::organizations::get_usage),
            Endpoint::OrganizationsUser => get(handlers::organizations::get_user),
            Endpoint::Templates => get(handlers::templates::list_templates).post(handlers::templates::create_template),
            Endpoint::Template => get(handlers::templates::get_template)
                .patch(handlers::templates::patch_template)
                .delete(handlers::templates::delete_template),
            Endpoint::Voice => get(handlers::voice::get_voice),
            Endpoint::VoiceGuide => get(handlers::voice::get_guide).put(handlers::voice::put_guide),
            Endpoint::VoiceCheck => post(handlers::voice::check_voice),
            Endpoint::Generate => post(handlers::generations::post_generate),
            Endpoint::Generations => get(handlers::generations::list_generations),
            Endpoint::Generation => get(handlers::generations::get_generation),
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
