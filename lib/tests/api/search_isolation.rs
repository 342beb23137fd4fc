//! Search answers only from the caller's organization, whichever vector store holds the
//! vectors, even when two organizations hold near-identical content.

use serde_json::json;
use voiceforge::auth::Role;

use crate::{
    harness::TestApp,
    vector_conformance::{add_text, drain, json_request},
    vector_fake_pinecone::FakePinecone,
};

const PAGES: [(&str, &str); 3] = [
    ("Refund policy", "Customers may return any product within thirty days for a full refund of the purchase price."),
    ("Shipping", "Orders ship from our warehouse within two business days; tracking numbers arrive by email."),
    ("Support hours", "Our support team answers phone calls on weekdays from nine in the morning until five."),
];

async fn isolation(t: &TestApp) {
    let a = t.token("org_iso_a", "user_a", Role::Member);
    let b = t.token("org_iso_b", "user_b", Role::Member);
    for (title, text) in PAGES {
        assert_eq!(add_text(t, &a, title, &format!("{text} (Alpha Corp)")).await.status, 201);
        assert_eq!(add_text(t, &b, title, &format!("{text} (Beta Inc)")).await.status, 201);
    }
    let report = drain(t).await;
    assert_eq!(report.upserted, 6, "{report:?}");
    let ids_of = |token: &str| {
        let token = token.to_owned();
        async move {
            let list = t.get("/api/contents", &token).await.json();
            list["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    let (own_a, own_b) = (ids_of(&a).await, ids_of(&b).await);
    for query in ["how long do I have to send something back", "refund", "when can I call", "Beta Inc", "Alpha Corp"] {
        for (token, own) in [(&a, &own_a), (&b, &own_b)] {
            let res = t.request(json_request("POST", "/api/search", token, json!({"query": query, "k": 10}))).await;
            assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
            let body = res.json();
            assert_eq!(body["mode"], "hybrid");
            for hit in body["results"].as_array().unwrap() {
                assert!(own.contains(&hit["content_id"].as_str().unwrap().to_owned()), "{query}: foreign hit {hit}");
            }
        }
    }
    // Filtering by another organization's item ids finds nothing.
    let res =
        t.request(json_request("POST", "/api/search", &a, json!({"query": "refund", "content_ids": own_b}))).await;
    assert_eq!(res.json()["results"], json!([]));
    let res =
        t.request(json_request("POST", "/api/search", &a, json!({"query": "return a product", "k": 1}))).await.json();
    assert_eq!(res["results"][0]["title"], "Refund policy", "{res}");
    assert!(res["results"][0]["snippet"].as_str().unwrap().contains("Alpha Corp"));
}

#[tokio::test]
async fn search_never_returns_another_organizations_chunks_with_pgvector() {
    let t = TestApp::spawn().await;
    isolation(&t).await;
}

#[tokio::test]
async fn search_never_returns_another_organizations_chunks_with_pinecone() {
    let pinecone = FakePinecone::start(384).await;
    let vars = pinecone.settings();
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = TestApp::spawn_with(&extra).await;
    isolation(&t).await;
    assert!(pinecone.violations().is_empty(), "{:?}", pinecone.violations());
    // Each organization's vectors sit in its own namespace.
    let namespaces: Vec<String> = pinecone.index.lock().unwrap().namespaces.keys().cloned().collect();
    assert_eq!(namespaces.len(), 2, "{namespaces:?}");
    assert!(namespaces.iter().all(|ns| pinecone.namespace_len(ns) == 3));
}

#[tokio::test]
async fn search_input_is_bounded() {
    let t = TestApp::spawn().await;
    let token = t.token("org_q", "user_q", Role::Member);
    let search = |body: serde_json::Value| json_request("POST", "/api/search", &token, body);
    t.request(search(json!({"query": "  "}))).await.assert_problem(400, "invalid_query");
    t.request(search(json!({"query": "x".repeat(1001)}))).await.assert_problem(400, "invalid_query");
    // Counted as sent: blanks that trimming would drop do not bring a query under the bound.
    t.request(search(json!({"query": format!("  {}", "x".repeat(999))}))).await.assert_problem(400, "invalid_query");
    t.request(search(json!({"query": "x", "k": 0}))).await.assert_problem(400, "invalid_k");
    t.request(search(json!({"query": "x", "k": 51}))).await.assert_problem(400, "invalid_k");
    t.request(search(json!({"query": "x", "content_ids": []}))).await.assert_problem(400, "invalid_content_ids");
    t.request(search(json!({"query": "x", "content_ids": ["nope"]}))).await.assert_problem(400, "invalid_body");
    t.request(search(json!({"query": "x", "extra": 1}))).await.assert_problem(400, "invalid_body");
    let empty = t.request(search(json!({"query": "anything at all"}))).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json()["results"], json!([]));
}
