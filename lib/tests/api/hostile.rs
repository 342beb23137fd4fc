//! Hostile input at the edges: request bodies built to exhaust the JSON parser or the body
//! cap, on every operation of the contract that takes a body; and HTML bombs served to the
//! crawler, which must end each page with a recorded reason, within its caps.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use voiceforge::auth::Role;

use crate::harness::{TestApp, TestResponse};

/// The body cap of these tests (small, so oversized bodies are cheap to send).
const CAP: usize = 64 * 1024;

/// Every operation of docs/openapi.yaml with a request body: (path, method, credential).
fn operations_with_bodies() -> Vec<(String, &'static str, String)> {
    let spec: Value = serde_norway::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch"] {
            let Some(op) = item.get(method) else { continue };
            if op.get("requestBody").is_none() {
                continue;
            }
            let credential = match op.get("security").and_then(Value::as_array) {
                Some(reqs) if reqs.iter().any(|r| r.get("operator").is_some()) => "operator",
                Some(reqs) if reqs.is_empty() => "none",
                _ => "session",
            };
            out.push((path.clone(), method, credential.to_owned()));
        }
    }
    out
}

/// A request for `path`, authorized as `credential` asks; the webhook route gets a valid
/// Svix signature of exactly `body`, so the body itself is what is judged.
fn request(
    t: &TestApp,
    method: &str,
    path: &str,
    credential: &str,
    body: Body,
    signed: Option<&[u8]>,
) -> Request<Body> {
    let mut req =
        Request::builder().method(method.to_uppercase().as_str()).uri(path).header("content-type", "application/json");
    match credential {
        "operator" => req = req.header("authorization", format!("Bearer {}", crate::webhooks::ADMIN_TOKEN)),
        "session" => {
            req = req.header("authorization", format!("Bearer {}", t.token("org_hostile", "user_hostile", Role::Admin)))
        }
        _ => {}
    }
    if let Some(bytes) = signed {
        let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
        let ts = crate::webhooks::now();
        req = req
            .header("svix-id", &id)
            .header("svix-timestamp", ts.to_string())
            .header("svix-signature", crate::webhooks::sign(&id, ts, bytes));
    }
    req.body(body).unwrap()
}

async fn send(t: &TestApp, method: &str, path: &str, credential: &str, body: Vec<u8>) -> TestResponse {
    let signed = (credential == "none").then_some(body.as_slice());
    let req = request(t, method, path, credential, Body::from(body.clone()), signed);
    t.request(req).await
}

/// Objects of org_hostile's own for the `{id}` routes: another org's or a missing id is a
/// 404 whatever the body holds (no existence oracle), so the body is judged only on ours.
async fn own_ids(t: &TestApp) -> Vec<(&'static str, String)> {
    let token = t.token("org_hostile", "user_hostile", Role::Admin);
    let create = |path: &str, body: Value| {
        Request::post(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let item = t.request(create("/api/contents", json!({"title": "Ours", "text": "An item of our own."}))).await;
    assert_eq!(item.status, 201, "{}", String::from_utf8_lossy(&item.body));
    let template = t
        .request(create(
            "/api/templates",
            json!({"name": "Ours", "kind": "custom", "instructions": "Write.", "fields": []}),
        ))
        .await;
    assert_eq!(template.status, 201, "{}", String::from_utf8_lossy(&template.body));
    vec![
        ("/api/contents/{id}", item.json()["id"].as_str().unwrap().to_owned()),
        ("/api/templates/{id}", template.json()["id"].as_str().unwrap().to_owned()),
    ]
}

/// The route with our own object's id in place of `{id}`.
fn concrete(path: &str, ids: &[(&str, String)]) -> String {
    if !path.contains("{id}") {
        return path.to_owned();
    }
    let id = ids.iter().find(|(p, _)| *p == path).unwrap_or_else(|| panic!("no object of ours for {path}: add one"));
    path.replace("{id}", &id.1)
}

/// The app with a small body cap, the webhook secret and the operator token, and the
/// organization whose objects the routes are aimed at.
async fn hostile_app() -> TestApp {
    let t = TestApp::spawn_with(&[
        ("MAX_BODY_BYTES", &CAP.to_string()),
        ("CLERK_WEBHOOK_SIGNING_SECRET", crate::webhooks::SECRET),
        ("VOICEFORGE_ADMIN_TOKEN", crate::webhooks::ADMIN_TOKEN),
    ])
    .await;
    assert_eq!(
        t.get("/api/organizations/current", &t.token("org_hostile", "user_hostile", Role::Admin)).await.status,
        200
    );
    t
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_with_a_stable_code_on_every_route_with_a_body() {
    let t = hostile_app().await;
    let depth = 10_000;
    let bombs: [(&str, Vec<u8>); 4] = [
        ("10k-deep arrays", format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()),
        ("10k-deep objects", format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)).into_bytes()),
        ("10k-deep unclosed", "[{\"a\":".repeat(depth).into_bytes()),
        // Deep inside a field the routes know, so it is the value that is judged.
        (
            "a deep value in a known field",
            format!(
                r#"{{"url":{d0}1{d1},"name":{d0}1{d1},"text":{d0}1{d1},"template_id":{d0}1{d1},"max_users":{d0}1{d1},"query":{d0}1{d1}}}"#,
                d0 = "[".repeat(2000),
                d1 = "]".repeat(2000)
            )
            .into_bytes(),
        ),
    ];
    let ids = own_ids(&t).await;
    let ops = operations_with_bodies();
    assert!(ops.len() >= 8, "the contract lists only {} operations with bodies", ops.len());
    for (path, method, credential) in &ops {
        for (name, bomb) in &bombs {
            let res = send(&t, method, &concrete(path, &ids), credential, bomb.clone()).await;
            // The webhook route names what failed in its own terms.
            let code = if path == "/api/webhooks/clerk" { "invalid_event" } else { "invalid_body" };
            assert_eq!(res.status, 400, "{method} {path} with {name}: {}", String::from_utf8_lossy(&res.body));
            res.assert_problem(400, code);
        }
    }
}

#[tokio::test]
async fn oversized_bodies_are_a_413_on_every_route_with_a_body_declared_or_streamed() {
    let t = hostile_app().await;
    // Valid JSON all the way, so only its size can be the reason: one long string.
    let big = |len: usize| format!(r#"{{"name":"{}"}}"#, "x".repeat(len)).into_bytes();
    // The webhook's own cap (256 KiB) is above CAP: the deployment's cap must still apply.
    let ids = own_ids(&t).await;
    for (path, method, credential) in operations_with_bodies() {
        let path = concrete(&path, &ids);
        let body = big(CAP + 1);
        // Declared: refused before any handler.
        let signed = (credential == "none").then_some(body.as_slice());
        let mut req = request(&t, method, &path, &credential, Body::from(body.clone()), signed);
        req.headers_mut().insert("content-length", body.len().into());
        t.request(req).await.assert_problem(413, "payload_too_large");
        // Streamed without a length: refused while reading.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = body.chunks(4096).map(|c| Ok(c.to_vec())).collect();
        let req = request(&t, method, &path, &credential, Body::from_stream(tokio_stream::iter(chunks)), signed);
        let res = t.request(req).await;
        res.assert_problem(413, "payload_too_large");
    }
    // A body just under the cap is read and judged on its content, not refused for size.
    let fits = big(CAP - 64);
    let res = send(&t, "post", "/api/templates", "session", fits).await;
    assert_eq!(res.status, 400, "{}", String::from_utf8_lossy(&res.body));
    assert_ne!(res.json()["code"], "payload_too_large");
}

/// HTML bombs, each under the crawler's 5 MiB body cap unless it is about the cap itself.
fn bombs() -> Vec<(&'static str, Vec<u8>)> {
    let page =
        |body: String| format!("<!doctype html><html><head><title>bomb</title></head><body>{body}</body></html>");
    let n = 100_000;
    let mut out = vec![
        // 100,000 nested elements.
        ("/deep.html", page(format!("{}deep{}", "<div>".repeat(n), "</div>".repeat(n))).into_bytes()),
        // 100,000 nested and never closed, in the one element that nests by itself.
        ("/deep-unclosed.html", page("<table><tr><td>".repeat(n / 3)).into_bytes()),
        // One element with 400,000 attributes.
        (
            "/attributes.html",
            page(format!("<div {}></div>", (0..400_000).map(|i| format!("a{i}=1 ")).collect::<String>())).into_bytes(),
        ),
        // One attribute value of 4.5 MB.
        ("/giant-attribute.html", page(format!("<a href=\"/{}\"></a>", "x".repeat(4_500_000))).into_bytes()),
        // 700,000 tiny elements.
        ("/tiny.html", page("<i></i>".repeat(700_000)).into_bytes()),
        // 3,000 unclosed formatting elements the parser re-opens after each of 3,000 blocks:
        // nine million elements asked for by 90 KB.
        (
            "/reconstruct.html",
            page(format!(
                "<div>{}</div>{}",
                (0..3000).map(|i| format!("<b id={i}>")).collect::<String>(),
                "<div>x</div>".repeat(3000)
            ))
            .into_bytes(),
        ),
    ];
    out.push(("/streamed-huge.html", Vec::new()));
    out.push(("/gzip-bomb.html", Vec::new()));
    out
}

/// A loopback site whose home page links to every bomb.
async fn bomb_site() -> String {
    use axum::{
        Router,
        extract::Path,
        http::header,
        response::{IntoResponse, Response},
        routing::get,
    };
    let pages: std::sync::Arc<std::collections::HashMap<&'static str, Vec<u8>>> =
        std::sync::Arc::new(bombs().into_iter().collect());
    // 64 MiB of spaces, gzipped to about 64 KiB: the cap applies to what it inflates to.
    let gzip_bomb = {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let chunk = vec![b' '; 1 << 20];
        gz.write_all(b"<html><body>").unwrap();
        for _ in 0..64 {
            gz.write_all(&chunk).unwrap();
        }
        std::sync::Arc::new(gz.finish().unwrap())
    };
    let home = {
        let links: String = bombs().iter().map(|(p, _)| format!("<li><a href=\"{p}\">{p}</a></li>")).collect();
        format!(
            "<html><head><title>Bombs</title></head><body><article><h1>Bombs</h1><p>Every page linked here is \
             built to exhaust a crawler's parser, its memory or its time, and must be skipped with a reason.</p>\
             <ul>{links}</ul></article></body></html>"
        )
    };
    let serve = move |Path(name): Path<String>| {
        let (pages, gzip_bomb) = (pages.clone(), gzip_bomb.clone());
        async move {
            let html = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
            match name.as_str() {
                "streamed-huge.html" => {
                    // 8 MiB in 64 KiB chunks, no Content-Length.
                    let chunks = (0..128).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 64 * 1024]));
                    (html, axum::body::Body::from_stream(tokio_stream::iter(chunks))).into_response()
                }
                "gzip-bomb.html" => (html, [(header::CONTENT_ENCODING, "gzip")], (*gzip_bomb).clone()).into_response(),
                other => match pages.get(format!("/{other}").as_str()) {
                    Some(body) => (html, body.clone()).into_response(),
                    None => Response::builder().status(404).body(axum::body::Body::empty()).unwrap(),
                },
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app =
        Router::new().route("/", get(move || async move { axum::response::Html(home) })).route("/{name}", get(serve));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_bombs_are_skipped_with_a_recorded_reason_within_the_caps() {
    let site = bomb_site().await;
    let t = crate::crawl::spawn_local().await;
    let token = t.token("org_bombs", "user_bombs", Role::Admin);
    let res = crate::crawl::send_json(
        &t,
        "POST",
        "/api/crawls",
        &token,
        json!({"url": format!("{site}/"), "max_pages": 50, "use_sitemap": false}),
    )
    .await;
    assert_eq!(res.status, 202, "{}", String::from_utf8_lossy(&res.body));
    let id = res.json()["id"].as_str().unwrap().to_owned();
    // A hang guard, not a speed test: unbounded parsing of these pages takes far longer
    // (or never ends, or runs out of memory first).
    let crawl = tokio::time::timeout(std::time::Duration::from_secs(300), crate::crawl::wait_finished(&t, &token, &id))
        .await
        .expect("the crawl of the bombs finished");
    assert_eq!(crawl["status"], "completed", "{crawl}");
    let pages = t.get(&format!("/api/crawls/{id}/pages?limit=100"), &token).await.json();
    let outcome = |path: &str| {
        let url = format!("{site}{path}");
        let page = pages["items"].as_array().unwrap().iter().find(|p| p["url"] == url.as_str());
        let page = page.unwrap_or_else(|| panic!("{path} was not crawled: {pages}"));
        (page["status"].as_str().unwrap().to_owned(), page["reason"].as_str().unwrap_or_default().to_owned())
    };
    let expected = [
        ("/deep.html", "too_complex"),
        ("/deep-unclosed.html", "too_complex"),
        ("/attributes.html", "too_complex"),
        ("/giant-attribute.html", "empty_content"),
        ("/tiny.html", "too_complex"),
        ("/reconstruct.html", "too_complex"),
        ("/streamed-huge.html", "too_large"),
        ("/gzip-bomb.html", "too_large"),
    ];
    for (path, reason) in expected {
        assert_eq!(outcome(path), ("skipped".to_owned(), reason.to_owned()), "{path}");
    }
    assert_eq!(outcome("/"), ("stored".to_owned(), String::new()), "the home page is an ordinary page");
}
