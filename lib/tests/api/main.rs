//! Black-box tests of the API against a real Postgres: each test gets a fresh database,
//! migrated from `migrations/`, and drives the same router the servers use.

mod harness;

mod auth;
mod content;
mod http;
mod organizations;
mod schema;
mod tenancy;

mod content_api;
mod search_embedders;
mod search_isolation;
mod search_quality;
mod vector_conformance;
mod vector_fake_pinecone;
