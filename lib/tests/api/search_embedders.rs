//! The hosted embedders against loopback servers that check their wire format, retries on
//! 429/5xx, token accounting, and the start-up check of model and dimension.

use std::sync::{Arc, Mutex};

use axum::{Json, Router, http::HeaderMap, http::StatusCode, response::IntoResponse, routing::post};
use serde_json::{Value, json};
use voiceforge::{
    auth::Role,
    config::Secret,
    embed::{Embedder, InputKind, embed_all, openai::OpenAiEmbedder, pinecone::PineconeEmbedder, retry::Backoff},
    search::Retrieval,
    vector::pgvector::PgVectorStore,
};

use crate::{
    harness::TestApp,
    vector_conformance::{add_text, drain, json_request},
    vector_fake_pinecone::FakePinecone,
};

#[derive(Default)]
struct Seen {
    bodies: Vec<Value>,
    violations: Vec<String>,
    fail_next: usize,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

fn vector_for(text: &str, dims: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; dims];
    for (i, b) in text.bytes().enumerate() {
        v[(i + b as usize) % dims] += 1.0;
    }
    v
}

/// An OpenAI-compatible `/v1/embeddings` that answers in reverse index order.
async fn fake_openai(seen: Arc<Mutex<Seen>>) -> String {
    let handler = move |headers: HeaderMap, Json(body): Json<Value>| {
        let seen = seen.clone();
        async move {
            let mut s = seen.lock().unwrap();
            if s.fail_next > 0 {
                s.fail_next -= 1;
                return (StatusCode::TOO_MANY_REQUESTS, Json(json!({"error": {"message": "slow down"}})))
                    .into_response();
            }
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sk-test") {
                s.violations.push("missing bearer key".into());
            }
            if body["model"] != "text-embedding-3-small"
                || body["encoding_format"] != "float"
                || body["dimensions"] != 384
            {
                s.violations.push(format!("bad body {body}"));
            }
            let inputs: Vec<String> =
                body["input"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
            s.bodies.push(body.clone());
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .rev()
                .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector_for(t, 384)}))
                .collect();
            Json(json!({"object": "list", "data": data, "model": "text-embedding-3-small",
                        "usage": {"prompt_tokens": 7 * inputs.len(), "total_tokens": 7 * inputs.len()}}))
            .into_response()
        }
    };
    serve(Router::new().route("/v1/embeddings", post(handler))).await
}

#[tokio::test]
async fn the_openai_embedder_speaks_its_wire_format_keeps_input_order_and_retries_429() {
    voiceforge::http::install_crypto_provider();
    let seen = Arc::new(Mutex::new(Seen { fail_next: 1, ..Default::default() }));
    let base = fake_openai(seen.clone()).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let embedder =
        OpenAiEmbedder::new(http, &format!("{base}/v1"), Secret::new("sk-test"), "text-embedding-3-small".into(), 384)
            .unwrap()
            .with_backoff(Backoff { attempts: 3, base: std::time::Duration::from_millis(10) });
    let texts: Vec<String> = (0..200).map(|i| format!("text number {i}")).collect();
    let out = embed_all(&embedder, &texts, InputKind::Passage).await.unwrap();
    assert_eq!(out.vectors.len(), 200);
    let mut expected = vector_for(&texts[150], 384);
    voiceforge::embed::normalize(&mut expected);
    assert_eq!(out.vectors[150], expected, "vectors follow `index`, not response order");
    assert_eq!(out.tokens, 7 * 200);
    let s = seen.lock().unwrap();
    assert!(s.violations.is_empty(), "{:?}", s.violations);
    assert_eq!(s.bodies.len(), 2, "batches of at most 128");
}

#[tokio::test]
async fn a_final_error_is_not_retried_and_names_the_status() {
    voiceforge::http::install_crypto_provider();
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let base = serve(Router::new().route(
        "/v1/embeddings",
        post(move || {
            let counter = counter.clone();
            async move {
                *counter.lock().unwrap() += 1;
                (StatusCode::UNAUTHORIZED, "{\"error\":{\"message\":\"bad key\"}}")
            }
        }),
    ))
    .await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let embedder = OpenAiEmbedder::new(http, &format!("{base}/v1"), Secret::new("sk-wrong"), "m".into(), 8).unwrap();
    let err = embedder.embed(&["x".into()], InputKind::Query).await.unwrap_err().to_string();
    assert!(err.contains("401") && !err.contains("sk-wrong"), "{err}");
    assert_eq!(*calls.lock().unwrap(), 1);
}

#[tokio::test]
async fn the_pinecone_embedder_sends_input_type_dimension_and_pinned_version() {
    voiceforge::http::install_crypto_provider();
    let seen = Arc::new(Mutex::new(Seen { fail_next: 1, ..Default::default() }));
    let state = seen.clone();
    let handler = move |headers: HeaderMap, Json(body): Json<Value>| {
        let seen = state.clone();
        async move {
            let mut s = seen.lock().unwrap();
            if s.fail_next > 0 {
                s.fail_next -= 1;
                return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
            }
            if headers.get("api-key").and_then(|v| v.to_str().ok()) != Some("pc-key")
                || headers.get("x-pinecone-api-version").and_then(|v| v.to_str().ok()) != Some("2025-10")
            {
                s.violations.push("headers".into());
            }
            let inputs = body["inputs"].as_array().unwrap().clone();
            if body["model"] != "llama-text-embed-v2"
                || body["parameters"]["truncate"] != "END"
                || body["parameters"]["dimension"] != 384
                || inputs.len() > 96
            {
                s.violations.push(format!("bad body {body}"));
            }
            s.bodies.push(body.clone());
            let data: Vec<Value> = inputs
                .iter()
                .map(|i| json!({"values": vector_for(i["text"].as_str().unwrap(), 384), "vector_type": "dense"}))
                .collect();
            Json(json!({"model": "llama-text-embed-v2", "vector_type": "dense", "data": data, "usage": {"total_tokens": 5 * inputs.len()}})).into_response()
        }
    };
    let base = serve(Router::new().route("/embed", post(handler))).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let embedder =
        PineconeEmbedder::new(http, &base, Secret::new("pc-key"), "2025-10".into(), "llama-text-embed-v2".into(), 384)
            .unwrap()
            .with_backoff(Backoff { attempts: 3, base: std::time::Duration::from_millis(10) });
    let texts: Vec<String> = (0..100).map(|i| format!("passage {i}")).collect();
    let out = embed_all(&embedder, &texts, InputKind::Passage).await.unwrap();
    assert_eq!((out.vectors.len(), out.tokens), (100, 500));
    embedder.embed(&["a question".into()], InputKind::Query).await.unwrap();
    let s = seen.lock().unwrap();
    assert!(s.violations.is_empty(), "{:?}", s.violations);
    let types: Vec<&str> = s.bodies.iter().map(|b| b["parameters"]["input_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["passage", "passage", "query"]);
}

#[tokio::test]
async fn embedding_tokens_are_metered_and_a_changed_model_is_refused_at_start() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let base = fake_openai(seen.clone()).await;
    let url = format!("{base}/v1");
    let t = TestApp::spawn_with(&[
        ("EMBEDDING_PROVIDER", "openai"),
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &url),
        ("EMBEDDING_DIMENSIONS", "384"),
    ])
    .await;
    let token = t.token("org_emb", "user_e", Role::Admin);
    assert_eq!(add_text(&t, &token, "Doc", "Some words to embed.").await.status, 201);
    assert_eq!(drain(&t).await.upserted, 1);
    let res = t.request(json_request("POST", "/api/search", &token, json!({"query": "words"}))).await;
    assert_eq!(res.json()["mode"], "hybrid");
    let usage = t.get("/api/organizations/usage", &token).await.json();
    let metered =
        usage["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "embedding_tokens").unwrap().clone();
    assert_eq!(metered["used"], 14, "{usage}");

    // The store now holds text-embedding-3-small vectors: the local model may not write there.
    let local = Retrieval::new(
        Some(Arc::new(voiceforge::embed::local::LocalEmbedder::new(crate::harness::model_dir()))),
        Arc::new(PgVectorStore::new()),
    );
    let err = local.ensure_compatible(&t.app.db).await.unwrap_err().to_string();
    assert!(err.contains("text-embedding-3-small") && err.contains("all-MiniLM-L6-v2"), "{err}");
}

#[tokio::test]
async fn a_pinecone_index_of_another_dimension_is_refused_at_start() {
    let pinecone = FakePinecone::start(1024).await;
    let vars = pinecone.settings();
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let t = TestApp::spawn_with(&extra).await;
    let err = t.app.retrieval.ensure_compatible(&t.app.db).await.unwrap_err().to_string();
    assert!(err.contains("1024") && err.contains("384"), "{err}");
}

#[tokio::test]
async fn a_missing_local_model_is_an_error_naming_the_fetch_command() {
    let t = TestApp::spawn_with(&[("VOICEFORGE_MODEL_DIR", "/nonexistent/model")]).await;
    let err = t.app.retrieval.ensure_compatible(&t.app.db).await.unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("scripts/model") && text.contains("/nonexistent/model"), "{text}");
}
