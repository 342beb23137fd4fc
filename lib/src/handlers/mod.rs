//! HTTP handlers, one module per endpoint group. Each parses, authorizes, calls the domain
//! and responds; none holds business logic.

pub mod audit;
pub mod contents;
pub mod crawls;
pub mod cron;
pub mod generations;
pub mod health;
pub mod limits;
pub mod organizations;
pub mod search;
pub mod templates;
pub mod voice;
pub mod webhooks;

#[cfg(feature = "cli")]
pub mod dev;
