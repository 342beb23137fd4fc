//! The HTTP edge: problem+json everywhere, CORS, body caps, request ids, health, dev sign-in,
//! and the local server over real TCP.

use axum::{body::Body, http::Request};
use serde_json::json;
use voiceforge::auth::Role;

use crate::harness::{TestApp, TestDb, call, get_with_token, settings};

fn post_json(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path).header("content-type", "application/json").body(body.into()).unwrap()
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_problem_json() {
    let t = TestApp::spawn().await;
    t.request(Request::get("/api/nope").body(Body::empty()).unwrap()).await.assert_problem(404, "not_found");
    let res = t.request(Request::delete("/api/health").body(Body::empty()).unwrap()).await;
    res.assert_problem(405, "method_not_allowed");
    assert!(res.headers.contains_key("allow"));
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let t = TestApp::spawn_with(&[("CORS_ALLOWED_ORIGINS", "https://app.voiceforge.test")]).await;
    let preflight = |origin: &str| {
        Request::options("/api/organizations/current")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = t.request(preflight("https://app.voiceforge.test")).await;
    assert_eq!(allowed.headers["access-control-allow-origin"], "https://app.voiceforge.test");
    assert!(allowed.headers["access-control-allow-headers"].to_str().unwrap().contains("authorization"));

    let denied = t.request(preflight("https://evil.example")).await;
    assert!(!denied.headers.contains_key("access-control-allow-origin"));

    let simple = t
        .request(Request::get("/api/health").header("origin", "https://evil.example").body(Body::empty()).unwrap())
        .await;
    assert!(!simple.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn bodies_over_the_cap_get_413_whether_declared_or_streamed() {
    let t = TestApp::spawn_with(&[("MAX_BODY_BYTES", "1024")]).await;
    let big = format!(r#"{{"org":"org_a","user":"user_a","role":"admin","org_name":"{}"}}"#, "x".repeat(4096));
    // Declared by Content-Length: refused before any handler runs.
    let declared = post_json("/api/dev/token", big.clone());
    let mut declared = declared;
    declared.headers_mut().insert("content-length", big.len().into());
    t.request(declared).await.assert_problem(413, "payload_too_large");
    // Streamed without a length: refused while reading.
    let stream = futures_stream(big.into_bytes());
    t.request(post_json("/api/dev/token", Body::from_stream(stream))).await.assert_problem(413, "payload_too_large");
}

fn futures_stream(
    bytes: Vec<u8>,
) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    tokio_stream::iter(bytes.chunks(256).map(|c| Ok(c.to_vec())).collect::<Vec<_>>())
}

#[tokio::test]
async fn malformed_json_and_wrong_content_types_are_clear_400s() {
    let t = TestApp::spawn().await;
    t.request(post_json("/api/dev/token", "{not json")).await.assert_problem(400, "invalid_body");
    let res = t.request(post_json("/api/dev/token", r#"{"org":"org_a","user":"user_a","role":"owner"}"#)).await;
    res.assert_problem(400, "invalid_body");
    assert!(res.json()["detail"].as_str().unwrap().contains("role"), "{}", res.json());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    t.request(post_json("/api/dev/token", deep)).await.assert_problem(400, "invalid_body");
    let text = Request::post("/api/dev/token").header("content-type", "text/plain").body(Body::from("{}")).unwrap();
    t.request(text).await.assert_problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn dev_sign_in_mints_tokens_for_valid_ids_only() {
    let t = TestApp::spawn().await;
    for (org, user) in [("acme", "user_a"), ("org_a", "alice"), ("org_<script>", "user_a"), ("org_a", "user_a b")] {
        let res = t
            .request(post_json("/api/dev/token", json!({"org": org, "user": user, "role": "admin"}).to_string()))
            .await;
        assert_eq!(res.status, 400, "{org} {user}");
    }
    let res = t
        .request(post_json(
            "/api/dev/token",
            json!({"org": "org_acme", "user": "user_alice", "role": "admin", "org_name": "Acme Inc"}).to_string(),
        ))
        .await;
    assert_eq!(res.status, 200);
    let token = res.json()["token"].as_str().unwrap().to_owned();
    let current = t.get("/api/organizations/current", &token).await.json();
    assert_eq!(current["organization"]["id"], "org_acme");
    assert_eq!(current["organization"]["name"], "Acme Inc");
    assert_eq!(current["user"]["id"], "user_alice");

    let jwks = t.request(Request::get("/api/dev/jwks.json").body(Body::empty()).unwrap()).await.json();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
}

#[tokio::test]
async fn the_server_names_each_request_and_a_clients_id_is_kept_apart() {
    let t = TestApp::spawn().await;
    // A client's id never becomes the request's id: the server makes its own.
    let res = t.request(Request::get("/api/nope").header("x-request-id", "req-123").body(Body::empty()).unwrap()).await;
    let id = res.headers["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(res.json()["request_id"], id.as_str());
    // Vercel's own id is the request's id in a deployment.
    let res =
        t.request(Request::get("/api/nope").header("x-vercel-id", "iad1::abc-123").body(Body::empty()).unwrap()).await;
    assert_eq!(res.headers["x-request-id"], "iad1::abc-123");

    // In the audit log: the server's id, and the client's (bounded, sane) beside it.
    let admin = t.token("org_rid", "user_admin", Role::Admin);
    let create = |client_id: String| {
        Request::post("/api/templates")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .header("x-request-id", client_id.clone())
            .body(Body::from(
                json!({"name": format!("T {}", client_id.len()), "kind": "email", "instructions": "Write.", "fields": []})
                    .to_string(),
            ))
            .unwrap()
    };
    let res = t.request(create("my-trace-1".into())).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let server_id = res.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(t.request(create("x".repeat(129))).await.status, 201);
    let log = t.get("/api/audit?action=template.created", &admin).await.json();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    let traced = items.iter().find(|e| e["client_request_id"] == "my-trace-1").expect("the client's id is kept");
    assert_eq!(traced["request_id"], server_id.as_str());
    let long = items.iter().find(|e| e["client_request_id"] != "my-trace-1").unwrap();
    assert!(long["client_request_id"].is_null(), "an over-long id is not kept: {long}");
    assert!(uuid::Uuid::parse_str(long["request_id"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn health_reports_the_database() {
    let t = TestApp::spawn().await;
    let res = t.request(Request::get("/api/health").body(Body::empty()).unwrap()).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["database"], "ok");

    // A database nobody listens on: degraded, and authenticated endpoints answer 503.
    let port = { std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port() };
    let down = format!("postgres://voiceforge:voiceforge@127.0.0.1:{port}/none");
    let app = voiceforge::server::build_app(settings(&down, &[("DATABASE_ACQUIRE_TIMEOUT_MS", "500")]), true).unwrap();
    let token = app
        .dev_issuer
        .as_ref()
        .unwrap()
        .mint("org_a", "user_a", Role::Admin, None, std::time::Duration::from_secs(60))
        .unwrap();
    let router = voiceforge::server::router(app, std::path::Path::new("/nonexistent"));
    let res = call(&router, Request::get("/api/health").body(Body::empty()).unwrap()).await;
    assert_eq!((res.status, res.json()["database"].as_str()), (503, Some("unreachable")));
    call(&router, get_with_token("/api/organizations/current", &token))
        .await
        .assert_problem(503, "database_unavailable");
}

/// A loopback TCP proxy to `target` counting the bytes clients send through it.
async fn counting_proxy(target: std::net::SocketAddr) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = tokio::net::TcpStream::connect(target).await.unwrap();
            let counter = counter.clone();
            let ((mut cr, mut cw), (mut sr, mut sw)) = (client.into_split(), server.into_split());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n @ 1..) = cr.read(&mut buf).await {
                    counter.fetch_add(n, Ordering::SeqCst);
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move { tokio::io::copy(&mut sr, &mut cw).await });
        }
    });
    (port, sent)
}

#[tokio::test]
async fn health_checks_the_database_once_for_many_calls_and_limits_each_address() {
    use std::sync::atomic::Ordering;
    let db = TestDb::new().await;
    let mut url = url::Url::parse(&db.url).unwrap();
    let target = std::net::SocketAddr::new("127.0.0.1".parse().unwrap(), url.port().unwrap_or(5432));
    let (port, sent) = counting_proxy(target).await;
    url.set_port(Some(port)).unwrap();
    let app = voiceforge::server::build_app(settings(url.as_str(), &[]), true).unwrap();
    let router = voiceforge::server::router(app, std::path::Path::new("/nonexistent"));
    let health = |ip: &str| Request::get("/api/health").header("x-forwarded-for", ip).body(Body::empty()).unwrap();

    assert_eq!(call(&router, health("203.0.113.1")).await.status, 200);
    let before = sent.load(Ordering::SeqCst);
    assert!(before > 0, "the first call checked the database through the proxy");
    // 40 concurrent calls from several addresses while the check is fresh: not one byte more
    // to the database.
    let calls = (0..40).map(|i| call(&router, health(&format!("203.0.113.{}", 10 + i % 4))));
    let answers = futures_util::future::join_all(calls).await;
    assert!(answers.iter().all(|r| r.status == 200 && r.json()["database"] == "ok"));
    assert_eq!(sent.load(Ordering::SeqCst), before, "health calls inside the cache's lifetime reached the database");

    // One address past its budget gets 429 with Retry-After; another still gets its answer.
    let budget = voiceforge::handlers::health::PER_CLIENT as usize;
    for _ in 0..budget {
        assert_eq!(call(&router, health("198.51.100.7")).await.status, 200);
    }
    let over = call(&router, health("198.51.100.7")).await;
    over.assert_problem(429, "rate_limited");
    assert!(over.headers.contains_key("retry-after"));
    assert_eq!(call(&router, health("198.51.100.8")).await.status, 200);
}

#[tokio::test]
async fn the_local_server_answers_over_tcp_and_serves_the_frontend() {
    let db = TestDb::new().await;
    let frontend = std::env::temp_dir().join(format!("vf-frontend-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&frontend).unwrap();
    std::fs::write(frontend.join("index.html"), "<!doctype html><title>VoiceForge</title>").unwrap();
    let app = voiceforge::server::build_app(settings(&db.url, &[]), true).unwrap();
    let token = app
        .dev_issuer
        .as_ref()
        .unwrap()
        .mint("org_tcp", "user_tcp", Role::Admin, None, std::time::Duration::from_secs(60))
        .unwrap();
    let router = voiceforge::server::router(app, &frontend);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let res = client.get(format!("{base}/api/organizations/current")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["organization"]["id"], "org_tcp");
    // Client-side routes fall back to the app's index.html; API paths never do.
    let page = client.get(format!("{base}/team")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("VoiceForge"));
    let api = client.get(format!("{base}/api/missing")).send().await.unwrap();
    assert_eq!(api.status(), 404);
    std::fs::remove_dir_all(&frontend).unwrap();
}
