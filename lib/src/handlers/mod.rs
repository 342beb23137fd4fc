//! HTTP handlers, one module per endpoint group. Each parses, authorizes, calls the domain
//! and responds; none holds business logic.

pub mod generations;
pub mod health;
pub mod organizations;
pub mod templates;
pub mod voice;

#[cfg(feature = "cli")]
pub mod dev;
