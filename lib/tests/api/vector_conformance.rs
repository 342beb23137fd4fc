//! One conformance suite for every vector store, run against pgvector and against Pinecone's
//! wire format on loopback: upsert, nearest-first query, content filter, delete by id,
//! organization isolation, namespace deletion.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use uuid::Uuid;
use voiceforge::{
    auth::{Identity, Role},
    content::{DrainBudget, DrainReport},
    tenancy::Tenant,
    vector::{VectorMatch, VectorRecord},
};

use crate::{harness::TestApp, vector_fake_pinecone::FakePinecone};

/// A tenant transaction for `org` as `user`.
pub async fn tenant(t: &TestApp, org: &str, user: &str, role: Role) -> Tenant {
    let identity = Identity {
        user_id: user.into(),
        session_id: "sess".into(),
        org_id: org.into(),
        org_slug: None,
        org_name: None,
        role,
        issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
    };
    Tenant::begin(&t.app.db, &identity).await.unwrap()
}

/// `POST /api/contents` with a text; returns the response.
pub async fn add_text(t: &TestApp, token: &str, title: &str, text: &str) -> crate::harness::TestResponse {
    let body = json!({"title": title, "text": text}).to_string();
    t.request(
        Request::post("/api/contents")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

/// A JSON request with a token.
pub fn json_request(method: &str, path: &str, token: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Drains the whole outbox.
pub async fn drain(t: &TestApp) -> DrainReport {
    voiceforge::content::drain_outbox(&t.app.db, &t.app.retrieval, DrainBudget::default()).await.unwrap()
}

/// A unit vector of `dims` pointing mostly along axis `axis`, a little along `axis + 1`.
fn direction(dims: usize, axis: usize, lean: f32) -> Vec<f32> {
    let mut v = vec![0.0; dims];
    v[axis] = 1.0;
    v[(axis + 1) % dims] = lean;
    voiceforge::embed::normalize(&mut v);
    v
}

/// Chunk ids (with their item) of a fresh item in `org`.
async fn seed(t: &TestApp, org: &str, text: &str) -> (Uuid, Vec<Uuid>) {
    let mut tx = tenant(t, org, "user_v", Role::Admin).await;
    let stored = voiceforge::content::store(
        &mut tx,
        voiceforge::content::NewContent {
            source: voiceforge::content::Source::Manual,
            crawl_id: None,
            url: None,
            title: "Seed".into(),
            description: None,
            language: None,
            markdown: text.into(),
        },
    )
    .await
    .unwrap();
    let voiceforge::content::Stored::Created(item) = stored else { panic!("{stored:?}") };
    let chunks: Vec<Uuid> =
        voiceforge::content::chunks::list(&mut tx, item.id).await.unwrap().into_iter().map(|c| c.id).collect();
    tx.commit().await.unwrap();
    (item.id, chunks)
}

async fn query(t: &TestApp, org: &str, v: &[f32], k: usize, filter: Option<&[Uuid]>) -> Vec<VectorMatch> {
    let mut tx = tenant(t, org, "user_v", Role::Admin).await;
    let found = t.app.retrieval.store().query(&mut tx, v, k, filter).await.unwrap();
    tx.commit().await.unwrap();
    found
}

/// The suite: every backend must pass it unchanged.
async fn conformance(t: &TestApp) {
    const D: usize = 384;
    let store = t.app.retrieval.store().clone();
    let (item_a, chunks_a) = seed(t, "org_va", "First item, about apples.").await;
    let (item_b, chunks_b) = seed(t, "org_va", "Second item, about pears.").await;
    let (_, chunks_other) = seed(t, "org_vb", "First item, about apples.").await;
    let (a, b, other) = (chunks_a[0], chunks_b[0], chunks_other[0]);

    let mut tx = tenant(t, "org_va", "user_v", Role::Admin).await;
    let records = vec![
        VectorRecord { chunk_id: a, content_id: item_a, values: direction(D, 0, 0.1) },
        VectorRecord { chunk_id: b, content_id: item_b, values: direction(D, 5, 0.0) },
    ];
    store.upsert(&mut tx, &records).await.unwrap();
    // Upserting again replaces, never duplicates.
    store.upsert(&mut tx, &records[..1]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = tenant(t, "org_vb", "user_v", Role::Admin).await;
    // The other organization's vector is the exact query direction: it must never show up.
    store
        .upsert(&mut tx, &[VectorRecord { chunk_id: other, content_id: Uuid::nil(), values: direction(D, 0, 0.0) }])
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let found = query(t, "org_va", &direction(D, 0, 0.0), 10, None).await;
    assert_eq!(found.iter().map(|m| m.chunk_id).collect::<Vec<_>>(), [a, b], "{found:?}");
    assert!(found[0].score > 0.99 && found[1].score.abs() < 0.01, "{found:?}");
    let filtered = query(t, "org_va", &direction(D, 0, 0.0), 10, Some(&[item_b])).await;
    assert_eq!(filtered.iter().map(|m| m.chunk_id).collect::<Vec<_>>(), [b]);
    assert_eq!(query(t, "org_va", &direction(D, 0, 0.0), 1, None).await.len(), 1);

    let mut tx = tenant(t, "org_va", "user_v", Role::Admin).await;
    // Deleting another organization's id through this tenant does nothing to it.
    store.delete(&mut tx, &[a, other]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        query(t, "org_va", &direction(D, 0, 0.0), 10, None).await.iter().map(|m| m.chunk_id).collect::<Vec<_>>(),
        [b]
    );
    assert_eq!(
        query(t, "org_vb", &direction(D, 0, 0.0), 10, None).await.iter().map(|m| m.chunk_id).collect::<Vec<_>>(),
        [other]
    );

    let org_a: Uuid = {
        let tx = tenant(t, "org_va", "user_v", Role::Admin).await;
        tx.org().id
    };
    store.delete_namespace(&t.app.db, org_a).await.unwrap();
    store.delete_namespace(&t.app.db, org_a).await.unwrap();
    assert!(query(t, "org_va", &direction(D, 5, 0.0), 10, None).await.is_empty());
    assert_eq!(query(t, "org_vb", &direction(D, 0, 0.0), 10, None).await.len(), 1);
}

#[tokio::test]
async fn pgvector_passes_the_vector_store_conformance_suite() {
    let t = TestApp::spawn_with(&[("EMBEDDING_PROVIDER", "none")]).await;
    conformance(&t).await;
}

#[tokio::test]
async fn pinecone_passes_the_vector_store_conformance_suite_on_its_wire_format() {
    let pinecone = FakePinecone::start(384).await;
    let vars = pinecone.settings();
    let mut extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    extra.push(("EMBEDDING_PROVIDER", "none"));
    let t = TestApp::spawn_with(&extra).await;
    // Throttled first: the client backs off and retries.
    pinecone.index.lock().unwrap().throttle = 2;
    conformance(&t).await;
    assert!(pinecone.violations().is_empty(), "{:?}", pinecone.violations());
    let requests = pinecone.index.lock().unwrap().requests.clone();
    assert!(requests.iter().filter(|r| r.1 == "/vectors/upsert").count() >= 3, "{requests:?}");
    assert!(requests.iter().any(|r| r.0 == "DELETE" && r.1.starts_with("/namespaces/org_")), "{requests:?}");
}

#[tokio::test]
async fn the_outbox_converges_after_a_vector_store_outage_and_deletes_leave_no_orphans() {
    let pinecone = FakePinecone::start(384).await;
    let vars = pinecone.settings();
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = TestApp::spawn_with(&extra).await;
    let token = t.token("org_out", "user_o", Role::Admin);
    let first = add_text(&t, &token, "One", "A page about gardening tools.").await.json();
    add_text(&t, &token, "Two", "A page about kitchen knives.").await;
    t.app.retrieval.ensure_compatible(&t.app.db).await.unwrap();

    // Pinecone answers 429 to everything: the rows stay queued, with the error, backed off.
    pinecone.index.lock().unwrap().throttle = usize::MAX;
    let report = drain(&t).await;
    assert_eq!((report.upserted, report.failed), (0, 2), "{report:?}");
    assert_eq!(t.count_all("vector_outbox").await, 2);
    assert_eq!(drain(&t).await.failed, 0, "backed-off rows are not due yet");
    let mut sys = voiceforge::tenancy::System::begin(&t.app.db, "test: outage").await.unwrap();
    let error: String =
        sqlx::query_scalar("SELECT last_error FROM vector_outbox LIMIT 1").fetch_one(sys.conn()).await.unwrap();
    assert!(error.contains("429"), "{error}");
    sqlx::query("UPDATE vector_outbox SET available_at = now()").execute(sys.conn()).await.unwrap();
    sys.commit().await.unwrap();

    // The outage ends: the next drain converges.
    pinecone.index.lock().unwrap().throttle = 0;
    assert_eq!(drain(&t).await.upserted, 2);
    assert_eq!(t.count_all("vector_outbox").await, 0);
    let ns: Vec<String> = pinecone.index.lock().unwrap().namespaces.keys().cloned().collect();
    assert_eq!(pinecone.namespace_len(&ns[0]), 2);

    // Deleting an item removes its vector from Pinecone through the outbox.
    let id = first["id"].as_str().unwrap();
    let res = t.request(json_request("DELETE", &format!("/api/contents/{id}"), &token, json!({}))).await;
    assert_eq!(res.status, 204);
    assert_eq!(drain(&t).await.deleted, 1);
    assert_eq!(pinecone.namespace_len(&ns[0]), 1);
    let chunk_ids: Vec<String> = pinecone.index.lock().unwrap().namespaces[&ns[0]].keys().cloned().collect();
    let mut tx = tenant(&t, "org_out", "user_o", Role::Admin).await;
    let live: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM content_chunks").fetch_all(tx.conn()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(chunk_ids, live.iter().map(Uuid::to_string).collect::<Vec<_>>(), "no orphan vectors");
    assert!(pinecone.violations().is_empty(), "{:?}", pinecone.violations());
}
