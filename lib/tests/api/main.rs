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
mod hostile;
mod http;
mod isolation;
mod legacy;
mod organizations;
mod pooler;
mod ratelimit;
mod schema;
mod templates;
mod tenancy;

mod content_api;
mod search_embedders;
mod search_isolation;
mod search_quality;
mod usage;
mod vector_conformance;
mod vector_fake_pinecone;
mod voice;
mod webhooks;
