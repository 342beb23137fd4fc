//! Black-box tests of the API against a real Postgres: each test gets a fresh database,
//! migrated from `migrations/`, and drives the same router the servers use.

mod harness;

mod audit;
mod auth;
mod content;
mod contract;
mod crawl;
mod crawl_site;
mod generate;
mod http;
mod isolation;
mod legacy;
mod organizations;
mod pooler;
mod ratelimit;
mod schema;
mod templates;
mod tenancy;
mod usage;
mod voice;
mod webhooks;
