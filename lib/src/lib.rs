//! VoiceForge: a multi-tenant brand-voice content platform.
//!
//! One crate serves both runtimes: the Vercel function binaries under `api/` (one endpoint
//! each, see [`routes`]) and the local server and CLI (`voiceforge serve`, feature `cli`).
//! Each module is named for its noun and owns its tables and tests.
#![warn(missing_docs)]

pub mod audit;
pub mod auth;
pub mod config;
pub mod content;
pub mod crawl;
pub mod db;
pub mod embed;
pub mod error;
pub mod generate;
pub mod handlers;
pub mod http;
pub mod legacy;
pub mod pagination;
pub mod ratelimit;
pub mod routes;
pub mod search;
#[cfg(feature = "cli")]
pub mod server;
pub mod telemetry;
pub mod tenancy;
pub mod text;
pub mod usage;
pub mod vector;
pub mod webhooks;
