//! HTTP handlers, one module per endpoint group. Each parses, authorizes, calls the domain
//! and responds; none holds business logic.

pub mod contents;
pub mod health;
pub mod organizations;
pub mod search;

#[cfg(feature = "cli")]
pub mod dev;
