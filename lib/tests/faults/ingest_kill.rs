//! `voiceforge serve` killed while its background loop drains the vector outbox: once while
//! an embedding request hangs, once after Pinecone took an upsert but before the answer came
//! back. After the last restart every chunk has exactly one vector, the outbox is empty and
//! embedding tokens are metered once.

use std::{collections::BTreeSet, time::Duration};

use uuid::Uuid;
use voiceforge::{
    content::{self, NewContent, Source},
    db::Database,
    tenancy::{self, Tenant},
};

use crate::{
    fakes::{self, DIMENSIONS, TOKENS_PER_INPUT},
    fault_server::{Fault, FaultServer, Upstream},
    harness::TestDb,
    support::{Serve, eventually, system_count, system_rows},
    vector_fake_pinecone::{API_KEY, API_VERSION, FakePinecone},
};

/// Items in the library, one chunk each: two drain rounds of 64 and 36.
const ITEMS: usize = 100;

async fn fill_library(db: &TestDb) -> Uuid {
    let database = Database::from_pool(db.pool.clone());
    let org_id = tenancy::ensure_organization(&database, "org_ingest").await.unwrap();
    let mut tenant = Tenant::for_system(&database, org_id, "test: fill the library").await.unwrap().unwrap();
    for i in 0..ITEMS {
        let new = NewContent {
            source: Source::Manual,
            crawl_id: None,
            url: None,
            title: format!("Note {i}"),
            description: None,
            language: Some("en".into()),
            markdown: format!("Note {i}: our roastery ships beans number {i} on Tuesdays."),
        };
        content::store(&mut tenant, new).await.unwrap();
    }
    tenant.commit().await.unwrap();
    org_id
}

async fn outbox_len(db: &TestDb) -> i64 {
    system_count(&db.pool, "SELECT count(*) FROM vector_outbox").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_serve_mid_drain_converges_to_one_vector_per_chunk_after_restart() {
    let db = TestDb::new().await;
    let org_id = fill_library(&db).await;
    let chunks = system_count(&db.pool, "SELECT count(*) FROM content_chunks").await;
    assert_eq!(chunks, ITEMS as i64, "one chunk per note");

    let embedder = FaultServer::start(Upstream::Handler(fakes::embeddings())).await;
    let pinecone = FakePinecone::start(DIMENSIONS).await;
    let proxy = FaultServer::start(Upstream::Proxy(pinecone.url.clone())).await;
    let env = [
        ("EMBEDDING_PROVIDER", "openai".to_owned()),
        ("OPENAI_API_KEY", "sk-test".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", embedder.url)),
        ("EMBEDDING_DIMENSIONS", DIMENSIONS.to_string()),
        ("VECTOR_STORE", "pinecone".to_owned()),
        ("PINECONE_API_KEY", API_KEY.to_owned()),
        ("PINECONE_INDEX_HOST", proxy.url.clone()),
        ("PINECONE_API_VERSION", API_VERSION.to_owned()),
        // A killed drain's rows come back after 2 s instead of 5 minutes.
        ("VECTOR_OUTBOX_LEASE_SECONDS", "2".to_owned()),
    ];

    // 1. The first round is embedded and written; the second round's embedding hangs: kill.
    embedder.plan([Fault::Pass], Some(Fault::Hold));
    let mut first = Serve::start(&db.url, &env).await;
    eventually(Duration::from_secs(30), "the second embedding request to hang", || {
        let held = embedder.held();
        async move { (held > 0).then_some(()) }
    })
    .await;
    first.process.kill().await;
    let pending = outbox_len(&db).await;
    assert!(pending > 0 && pending < chunks, "killed mid-drain: {pending} of {chunks} rows left");
    let ns = voiceforge::vector::pinecone::namespace(org_id);
    assert_eq!(pinecone.namespace_len(&ns) as i64, chunks - pending, "the first round's vectors landed");
    embedder.heal();

    // 2. The next server re-claims the rows once their lease expires; Pinecone stores the
    //    upsert but the answer never reaches the server: kill again.
    proxy.plan([Fault::Pass, Fault::HoldAnswer], None);
    let mut second = Serve::start(&db.url, &env).await;
    eventually(Duration::from_secs(30), "an upsert answer held back", || {
        let held = proxy.held();
        async move { (held > 0).then_some(()) }
    })
    .await;
    second.process.kill().await;
    assert_eq!(pinecone.namespace_len(&ns) as i64, chunks, "the upsert landed in Pinecone");
    assert_eq!(outbox_len(&db).await, pending, "but the outbox rows were not completed");
    proxy.heal();

    // 3. A healthy restart converges: no row left, every chunk embedded, one vector each.
    let _third = Serve::start(&db.url, &env).await;
    eventually(Duration::from_secs(60), "the outbox to drain after the restart", || {
        let db = &db;
        async move { (outbox_len(db).await == 0).then_some(()) }
    })
    .await;
    let unembedded = "SELECT count(*) FROM content_chunks WHERE embedding_state <> 'embedded'";
    assert_eq!(system_count(&db.pool, unembedded).await, 0);
    let chunk_ids: BTreeSet<String> = system_rows::<(Uuid,)>(&db.pool, "SELECT id FROM content_chunks")
        .await
        .into_iter()
        .map(|(id,)| id.to_string())
        .collect();
    let vector_ids: BTreeSet<String> =
        pinecone.index.lock().unwrap().namespaces.get(&ns).map(|s| s.keys().cloned().collect()).unwrap_or_default();
    assert_eq!(vector_ids, chunk_ids, "exactly one vector per chunk, no orphans");
    assert!(pinecone.violations().is_empty(), "{:?}", pinecone.violations());

    // Each text was embedded once, plus once per killed round it was in (the lease retry), and tokens
    // are metered only for the rounds that committed: once per chunk.
    let mut embedded: std::collections::HashMap<String, usize> = Default::default();
    for seen in embedder.log() {
        for text in fakes::embedding_inputs(&seen.body) {
            *embedded.entry(text).or_default() += 1;
        }
    }
    assert_eq!(embedded.len(), ITEMS);
    assert!(embedded.values().all(|n| (1..=3).contains(n)), "{embedded:?}");
    let metered = system_count(
        &db.pool,
        "SELECT coalesce(sum(value), 0)::bigint FROM usage_counters WHERE metric = 'embedding_tokens'",
    )
    .await;
    assert_eq!(metered, (TOKENS_PER_INPUT * ITEMS) as i64, "tokens of uncommitted rounds are not metered");
}
