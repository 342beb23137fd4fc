//! Hosted services misbehaving on loopback, beyond what the api tests cover (429 without
//! `Retry-After`, 503 to the LLM, 401s, connection refused, a broken stream): `Retry-After`
//! honoured by Pinecone and LLM clients, answers stalled past the client's timeout, 200s
//! with malformed JSON, and a vector store outage during search and generation. Callers get
//! problem+json with stable codes, and the outbox converges once the services are healthy.

use std::{sync::Arc, time::Duration};

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use uuid::Uuid;
use voiceforge::{
    auth::Role,
    config::Secret,
    content::{DrainBudget, DrainReport, drain_outbox},
    embed::{openai::OpenAiEmbedder, retry::Backoff},
    search::Retrieval,
    tenancy::{System, Tenant},
    vector::{VectorRecord, VectorStore, pinecone::PineconeStore},
};

use crate::{
    fakes::{self, DIMENSIONS},
    fault_server::{Fault, FaultServer, Upstream},
    harness::{TestApp, TestResponse},
    vector_fake_pinecone::{API_KEY, API_VERSION, FakePinecone},
};

/// The clients' own timeout in these tests; stalls last longer.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(300);
const STALL: Duration = Duration::from_millis(1500);
/// Short pauses between retries, so a `Retry-After` of 1 s stands out.
const BACKOFF: Backoff = Backoff { attempts: 4, base: Duration::from_millis(20) };

fn http_with_timeout() -> reqwest::Client {
    voiceforge::http::install_crypto_provider();
    reqwest::Client::builder().no_proxy().timeout(CLIENT_TIMEOUT).build().unwrap()
}

fn pinecone_through(proxy: &FaultServer) -> PineconeStore {
    PineconeStore::new(http_with_timeout(), &proxy.url, Secret::new(API_KEY), API_VERSION.into())
        .unwrap()
        .with_backoff(BACKOFF)
}

async fn send_json(t: &TestApp, method: &str, path: &str, token: &str, body: Value) -> TestResponse {
    t.request(
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

async fn org_tenant(t: &TestApp, org: &str) -> Tenant {
    let org_id = voiceforge::tenancy::ensure_organization(&t.app.db, org).await.unwrap();
    Tenant::for_system(&t.app.db, org_id, "test: hosted faults").await.unwrap().unwrap()
}

/// Seconds between the server's receipt of request `i` and of request `i + 1`.
fn gap(server: &FaultServer, i: usize) -> Duration {
    let log = server.log();
    log[i + 1].at - log[i].at
}

#[tokio::test]
async fn pinecone_retries_429_after_its_retry_after_then_503_then_a_stall_and_reports_what_failed() {
    let pinecone = FakePinecone::start(8).await;
    let proxy = FaultServer::start(Upstream::Proxy(pinecone.url.clone())).await;
    let store = pinecone_through(&proxy);
    let t = TestApp::spawn().await;
    let mut tenant = org_tenant(&t, "org_pc").await;
    let record = VectorRecord { chunk_id: Uuid::new_v4(), content_id: Uuid::new_v4(), values: vec![0.5; 8] };

    // A 503, a stall past the timeout, a 429 with Retry-After: 1, then the write goes through.
    proxy.plan([Fault::Status(503, None), Fault::Stall(STALL), Fault::Status(429, Some(1))], None);
    store.upsert(&mut tenant, std::slice::from_ref(&record)).await.unwrap();
    assert_eq!(proxy.count("/vectors/upsert"), 4);
    assert!(gap(&proxy, 0) < Duration::from_millis(900), "a 503 backs off briefly: {:?}", gap(&proxy, 0));
    let stalled = gap(&proxy, 1);
    assert!(stalled >= CLIENT_TIMEOUT && stalled < STALL, "the stall was cut at the client's timeout: {stalled:?}");
    assert!(gap(&proxy, 2) >= Duration::from_millis(950), "Retry-After ignored: {:?}", gap(&proxy, 2));
    assert_eq!(pinecone.index.lock().unwrap().namespaces.values().map(|n| n.len()).sum::<usize>(), 1);

    // Failing on every attempt: a clear error naming the status or the timeout, no secret.
    proxy.plan([], Some(Fault::Status(503, None)));
    let err = store.upsert(&mut tenant, std::slice::from_ref(&record)).await.unwrap_err().to_string();
    assert!(err.contains("503") && !err.contains(API_KEY), "{err}");
    assert_eq!(proxy.count("/vectors/upsert"), 4 + 4, "four attempts");
    proxy.plan([], Some(Fault::Stall(STALL)));
    let err = store.query(&mut tenant, &[0.5; 8], 3, None).await.unwrap_err().to_string();
    assert!(err.contains("timed out"), "{err}");
    // A 200 with malformed JSON is not retried: the answer itself is wrong.
    proxy.plan([], Some(Fault::Malformed));
    let before = proxy.count("/query");
    let err = store.query(&mut tenant, &[0.5; 8], 3, None).await.unwrap_err().to_string();
    assert!(err.contains("unexpected response"), "{err}");
    assert_eq!(proxy.count("/query"), before + 1);
    proxy.heal();
    assert_eq!(store.query(&mut tenant, &[0.5; 8], 3, None).await.unwrap()[0].chunk_id, record.chunk_id);
    tenant.commit().await.unwrap();
    assert!(pinecone.violations().is_empty(), "{:?}", pinecone.violations());
}

/// Makes every backed-off outbox row due now.
async fn due_now(t: &TestApp) -> String {
    let mut sys = System::begin(&t.app.db, "test: retry now").await.unwrap();
    let error: Option<String> =
        sqlx::query_scalar("SELECT max(last_error) FROM vector_outbox").fetch_one(sys.conn()).await.unwrap();
    sqlx::query("UPDATE vector_outbox SET available_at = now()").execute(sys.conn()).await.unwrap();
    sys.commit().await.unwrap();
    error.unwrap_or_default()
}

async fn drain(t: &TestApp, retrieval: &Retrieval) -> DrainReport {
    drain_outbox(&t.app.db, retrieval, DrainBudget::default()).await.unwrap()
}

#[tokio::test]
async fn the_outbox_backs_off_through_malformed_stalled_and_failing_services_and_converges_after() {
    let embedder = FaultServer::start(Upstream::Handler(fakes::embeddings())).await;
    let pinecone = FakePinecone::start(DIMENSIONS).await;
    let proxy = FaultServer::start(Upstream::Proxy(pinecone.url.clone())).await;
    let openai = OpenAiEmbedder::new(
        http_with_timeout(),
        &format!("{}/v1", embedder.url),
        Secret::new("sk-test"),
        "text-embedding-3-small".into(),
        DIMENSIONS,
    )
    .unwrap()
    .with_backoff(BACKOFF);
    let retrieval = Retrieval::new(Some(Arc::new(openai)), Arc::new(pinecone_through(&proxy)));
    let t = TestApp::spawn().await;
    let token = t.token("org_box", "user_b", Role::Admin);
    for (title, text) in [("Beans", "Our beans are roasted on Mondays."), ("Kettles", "Kettles ship in two days.")] {
        let res = send_json(&t, "POST", "/api/contents", &token, json!({"title": title, "text": text})).await;
        assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    }
    retrieval.ensure_compatible(&t.app.db).await.unwrap();

    let faults: [(&FaultServer, Fault, &str); 4] = [
        (&embedder, Fault::Malformed, "unexpected response"),
        (&embedder, Fault::Stall(STALL), "timed out"),
        (&proxy, Fault::Status(503, None), "503"),
        (&proxy, Fault::Status(429, Some(0)), "429"),
    ];
    for (server, fault, expected) in faults {
        server.plan([], Some(fault.clone()));
        let report = drain(&t, &retrieval).await;
        assert_eq!((report.upserted, report.failed), (0, 2), "{fault:?}: {report:?}");
        assert_eq!(t.count_all("vector_outbox").await, 2, "{fault:?}: rows stay queued");
        let error = due_now(&t).await;
        assert!(error.contains(expected), "{fault:?}: last_error {error:?}");
        server.heal();
    }
    let attempts: i32 = {
        let mut sys = System::begin(&t.app.db, "test: attempts").await.unwrap();
        let n = sqlx::query_scalar("SELECT min(attempts) FROM vector_outbox").fetch_one(sys.conn()).await.unwrap();
        sys.commit().await.unwrap();
        n
    };
    assert_eq!(attempts, 4, "each failed drain counted an attempt (the backoff grows with it)");

    // Healthy again: one drain converges, each chunk has its vector.
    let report = drain(&t, &retrieval).await;
    assert_eq!((report.upserted, report.failed), (2, 0), "{report:?}");
    assert_eq!(t.count_all("vector_outbox").await, 0);
    let vectors: usize = pinecone.index.lock().unwrap().namespaces.values().map(|n| n.len()).sum();
    assert_eq!(vectors as i64, t.count_all("content_chunks").await);
    assert!(pinecone.violations().is_empty(), "{:?}", pinecone.violations());
}

async fn search(t: &TestApp, token: &str) -> TestResponse {
    send_json(t, "POST", "/api/search", token, json!({"query": "pricing per month"})).await
}

#[tokio::test]
async fn search_and_generation_fall_back_to_full_text_while_pinecone_fails() {
    let embedder = FaultServer::start(Upstream::Handler(fakes::embeddings())).await;
    let pinecone = FakePinecone::start(DIMENSIONS).await;
    let proxy = FaultServer::start(Upstream::Proxy(pinecone.url.clone())).await;
    let embedder_url = format!("{}/v1", embedder.url);
    let dims = DIMENSIONS.to_string();
    let t = TestApp::spawn_with(&[
        ("EMBEDDING_PROVIDER", "openai"),
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &embedder_url),
        ("EMBEDDING_DIMENSIONS", &dims),
        ("LLM_PROVIDER", "extractive"),
        ("VECTOR_STORE", "pinecone"),
        ("PINECONE_API_KEY", API_KEY),
        ("PINECONE_INDEX_HOST", &proxy.url),
        ("PINECONE_API_VERSION", API_VERSION),
    ])
    .await;
    let token = t.token("org_search", "user_s", Role::Admin);
    let text = "Our pricing is simple: one plan costs ten dollars per month for every team.";
    let res = send_json(&t, "POST", "/api/contents", &token, json!({"title": "Pricing", "text": text})).await;
    assert_eq!(res.status, 201);
    let report = drain_outbox(&t.app.db, &t.app.retrieval, DrainBudget::default()).await.unwrap();
    assert_eq!(report.upserted, 1);
    assert_eq!(search(&t, &token).await.json()["mode"], "hybrid");

    // Pinecone answers garbage, then fails after retries: search still answers, in full text.
    for fault in [Fault::Malformed, Fault::Status(503, None)] {
        proxy.plan([], Some(fault.clone()));
        let res = search(&t, &token).await;
        assert_eq!(res.status, 200, "{fault:?}: {}", String::from_utf8_lossy(&res.body));
        let body = res.json();
        assert_eq!(body["mode"], "full_text", "{fault:?}: {body}");
        assert_eq!(body["results"][0]["title"], "Pricing", "{fault:?}: {body}");
    }
    // Generation rests on the same search: it still cites the library.
    let list = t.get("/api/templates", &token).await.json();
    let email = list["items"].as_array().unwrap().iter().find(|i| i["builtin"] == "email").unwrap()["id"].clone();
    let body = json!({"template_id": email, "inputs": {"topic": "pricing plans", "call_to_action": "Start a trial"}});
    let res = send_json(&t, "POST", "/api/generate", &token, body).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["sources"][0]["title"], "Pricing");
    proxy.heal();
    assert_eq!(search(&t, &token).await.json()["mode"], "hybrid", "back to hybrid once Pinecone answers");
}

#[tokio::test]
async fn llm_retry_after_stalls_and_malformed_answers_give_stable_problems_and_recover() {
    let llm = FaultServer::start(Upstream::Handler(fakes::chat("A fresh draft about our pricing [1]."))).await;
    let base = format!("{}/v1", llm.url);
    let t = TestApp::spawn_with(&[
        ("LLM_PROVIDER", "openai"),
        ("OPENAI_API_KEY", "sk-llm-secret"),
        ("OPENAI_BASE_URL", &base),
        ("LLM_RETRY_BASE_MS", "1"),
        ("LLM_MAX_RETRIES", "2"),
        ("LLM_TIMEOUT_MS", "300"),
        ("EMBEDDING_PROVIDER", "none"),
    ])
    .await;
    let token = t.token("org_llm", "user_l", Role::Admin);
    let text = "Our pricing is simple: one plan costs ten dollars per month for every team.";
    assert_eq!(
        send_json(&t, "POST", "/api/contents", &token, json!({"title": "Pricing", "text": text})).await.status,
        201
    );
    let list = t.get("/api/templates", &token).await.json();
    let email = list["items"].as_array().unwrap().iter().find(|i| i["builtin"] == "email").unwrap()["id"].clone();
    let body = json!({"template_id": email, "inputs": {"topic": "pricing plans", "call_to_action": "Start a trial"}});

    // 429 with Retry-After: 1 waits that second (the backoff alone would be 1 ms), then succeeds.
    llm.plan([Fault::Status(429, Some(1))], None);
    let res = send_json(&t, "POST", "/api/generate", &token, body.clone()).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    assert!(gap(&llm, 0) >= Duration::from_millis(950), "Retry-After ignored: {:?}", gap(&llm, 0));

    // Stalled past LLM_TIMEOUT_MS on every attempt, or a 200 that is not JSON: 503
    // provider_unavailable with Retry-After; nothing stored, no key in the detail.
    for (fault, calls, says) in [(Fault::Stall(STALL), 3, "timed out"), (Fault::Malformed, 1, "unreadable")] {
        let before = llm.log().len();
        llm.plan([], Some(fault.clone()));
        let res = send_json(&t, "POST", "/api/generate", &token, body.clone()).await;
        res.assert_problem(503, "provider_unavailable");
        assert!(res.headers.contains_key("retry-after"), "{fault:?}");
        let detail = res.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("unavailable") && !detail.contains("sk-llm"), "{fault:?}: {detail}");
        assert!(!detail.contains(says), "{fault:?}: what went wrong upstream is logged, not sent: {detail}");
        assert_eq!(llm.log().len() - before, calls, "{fault:?}: attempts");
        assert_eq!(t.count_all("generations").await, 1, "{fault:?}: nothing stored");
    }
    llm.heal();
    let res = send_json(&t, "POST", "/api/generate", &token, body.clone()).await;
    assert_eq!(res.status, 201, "recovers once the provider does");
    assert_eq!(t.count_all("generations").await, 2);
}
