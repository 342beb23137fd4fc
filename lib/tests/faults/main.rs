//! Fault injection against the real thing: the built `voiceforge` binary killed mid-crawl,
//! mid-drain and mid-import and started again; a private Postgres restarted under load; and
//! hosted services (Pinecone, embeddings, LLMs) on loopback that throttle, fail, stall past
//! the client's timeout or answer garbage. Every scenario ends by checking that the work
//! converged: nothing lost, nothing stored twice.

#[path = "../api/harness.rs"]
mod harness;
#[path = "../api/vector_fake_pinecone.rs"]
#[expect(dead_code, reason = "shared with the api test binary, which uses more of it")]
mod vector_fake_pinecone;

mod fakes;
mod fault_server;
mod support;

mod crawl_kill;
mod hosted;
mod import_kill;
mod ingest_kill;
mod postgres_restart;
