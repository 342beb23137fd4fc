//! Black-box tests of the API against a real Postgres: each test gets a fresh database,
//! migrated from `migrations/`, and drives the same router the servers use.

mod harness;

mod auth;
mod content;
mod generate;
mod http;
mod organizations;
mod schema;
mod templates;
mod tenancy;
mod voice;
