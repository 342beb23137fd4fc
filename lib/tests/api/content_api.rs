//! The library endpoints: add, list, read with chunks, edit (re-chunks), delete (no orphan
//! vectors), limits, validation, and other organizations' items answering 404.

use axum::{body::Body, http::Request};
use serde_json::json;
use voiceforge::auth::Role;

use crate::{
    harness::TestApp,
    vector_conformance::{add_text, drain, json_request},
};

const GUIDE: &str = "# Setup guide\n\n## Install\n\nDownload the installer and run it on your laptop.\n\n## Configure\n\nOpen the settings page and enter your API key.";

#[tokio::test]
async fn a_manual_item_is_chunked_embedded_listed_edited_and_deleted_without_orphan_vectors() {
    let t = TestApp::spawn().await;
    let token = t.token("org_lib", "user_a", Role::Member);
    let created = add_text(&t, &token, "Setup guide", GUIDE).await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let item = created.json();
    let id = item["id"].as_str().unwrap().to_owned();
    assert_eq!(item["source"], "manual");
    assert_eq!(item["markdown"], GUIDE);
    assert!(item["word_count"].as_i64().unwrap() > 10);
    let chunks = item["chunks"].as_array().unwrap();
    assert!(!chunks.is_empty());
    assert!(chunks.iter().all(|c| c["embedding_state"] == "pending"));
    assert_eq!(t.count_all("vector_outbox").await, chunks.len() as i64);

    let report = drain(&t).await;
    assert_eq!(report.upserted, chunks.len(), "{report:?}");
    assert_eq!(t.count_all("vector_outbox").await, 0);
    assert_eq!(t.count_all("chunk_embeddings").await, chunks.len() as i64);
    let read = t.get(&format!("/api/contents/{id}"), &token).await.json();
    assert!(read["chunks"].as_array().unwrap().iter().all(|c| c["embedding_state"] == "embedded"), "{read}");
    // Vercel's form of the dynamic route adds the id as a query.
    assert_eq!(t.get(&format!("/api/contents/{id}?id={id}"), &token).await.json()["id"], id.as_str());

    let list = t.get("/api/contents?source=manual&q=setup", &token).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert!(list["items"][0].get("markdown").is_none());
    assert_eq!(t.get("/api/contents?q=nothing-like-this", &token).await.json()["items"], json!([]));

    let edited = t
        .request(json_request("PATCH", &format!("/api/contents/{id}"), &token, json!({"text": "A new text entirely."})))
        .await;
    assert_eq!(edited.status, 200, "{}", String::from_utf8_lossy(&edited.body));
    assert_eq!(edited.json()["chunks"][0]["text"], "A new text entirely.");
    drain(&t).await;
    assert_eq!(t.count_all("chunk_embeddings").await, 1);
    assert_eq!(t.count_all("content_chunks").await, 1);

    // Another member may neither edit nor delete it, and the refused edit changes nothing.
    let other = t.token("org_lib", "user_b", Role::Member);
    let res =
        t.request(json_request("PATCH", &format!("/api/contents/{id}"), &other, json!({"title": "Taken over"}))).await;
    res.assert_problem(403, "admin_required");
    assert_ne!(t.get(&format!("/api/contents/{id}"), &token).await.json()["title"], "Taken over");
    let res = t.request(json_request("DELETE", &format!("/api/contents/{id}"), &other, json!({}))).await;
    res.assert_problem(403, "admin_required");
    // An admin may edit it.
    let admin = t.token("org_lib", "user_admin", Role::Admin);
    let res =
        t.request(json_request("PATCH", &format!("/api/contents/{id}"), &admin, json!({"title": "Setup guide"}))).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let res = t
        .request(
            Request::delete(format!("/api/contents/{id}"))
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        (t.count_all("contents").await, t.count_all("content_chunks").await, t.count_all("chunk_embeddings").await),
        (0, 0, 0)
    );
    drain(&t).await;
    assert_eq!(t.count_all("vector_outbox").await, 0);
    let audit: Vec<String> = {
        let mut tx = t.db.pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
        sqlx::query_scalar("SELECT action FROM audit_events ORDER BY occurred_at").fetch_all(&mut *tx).await.unwrap()
    };
    assert_eq!(audit, ["content.created", "content.updated", "content.updated", "content.deleted"]);
}

#[tokio::test]
async fn another_organizations_item_is_a_404_for_every_method() {
    let t = TestApp::spawn().await;
    let owner = t.token("org_one", "user_o", Role::Admin);
    let id = add_text(&t, &owner, "Mine", "Private text of org one.").await.json()["id"].as_str().unwrap().to_owned();
    let stranger = t.token("org_two", "user_s", Role::Admin);
    t.get(&format!("/api/contents/{id}"), &stranger).await.assert_problem(404, "not_found");
    t.request(json_request("PATCH", &format!("/api/contents/{id}"), &stranger, json!({"title": "x"})))
        .await
        .assert_problem(404, "not_found");
    t.request(json_request("DELETE", &format!("/api/contents/{id}"), &stranger, json!({})))
        .await
        .assert_problem(404, "not_found");
    t.get("/api/contents/not-a-uuid", &stranger).await.assert_problem(404, "not_found");
    assert_eq!(t.get("/api/contents", &stranger).await.json()["items"], json!([]));
    assert_eq!(t.count_all("contents").await, 1);
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let t = TestApp::spawn().await;
    let token = t.token("org_bad", "user_b", Role::Member);
    let post = |body: serde_json::Value| json_request("POST", "/api/contents", &token, body);
    t.request(post(json!({"title": "", "text": "x"}))).await.assert_problem(400, "invalid_content");
    t.request(post(json!({"title": "T", "text": "   "}))).await.assert_problem(400, "invalid_content");
    t.request(post(json!({"title": "T"}))).await.assert_problem(400, "invalid_body");
    t.request(post(json!({"title": "T", "text": "x", "language": "en; DROP"})))
        .await
        .assert_problem(400, "invalid_content");
    t.request(post(json!({"url": "file:///etc/passwd"}))).await.assert_problem(400, "invalid_url");
    // With private networks off (the default), internal targets never get a connection.
    t.request(post(json!({"url": "http://127.0.0.1:9/page"}))).await.assert_problem(400, "ssrf_blocked");
    // A name is refused by what it resolves to, and the answer does not say what that was.
    let res = t.request(post(json!({"url": "http://localhost:9/page"}))).await;
    res.assert_problem(400, "ssrf_blocked");
    let detail = res.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("address not allowed") && !detail.contains("127.0.0.1") && !detail.contains("loopback"));
    t.get("/api/contents?limit=0", &token).await.assert_problem(400, "invalid_limit");
    t.get("/api/contents?source=web", &token).await.assert_problem(400, "invalid_source");
    t.get("/api/contents?sort=title", &token).await.assert_problem(400, "invalid_sort");
    t.get("/api/contents?crawl_id=nope", &token).await.assert_problem(400, "invalid_crawl_id");
    // The contract's 1,024 characters (not bytes) for a title: over it is refused, not cut.
    let long = "µ".repeat(1025);
    t.request(post(json!({"title": long, "text": "x"}))).await.assert_problem(400, "invalid_content");
    let res = add_text(&t, &token, "A", "Same words here.").await;
    assert_eq!(res.status, 201);
    add_text(&t, &token, "B", "Same   words here.").await.assert_problem(409, "duplicate_content");
    assert_eq!(t.count_all("contents").await, 1);
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/contents/{id}");
    t.request(json_request("PATCH", &path, &token, json!({"title": long})))
        .await
        .assert_problem(400, "invalid_content");
    t.request(json_request("PATCH", &path, &token, json!({"title": " "}))).await.assert_problem(400, "invalid_content");
    let fits = "µ".repeat(1024);
    assert_eq!(t.request(json_request("PATCH", &path, &token, json!({"title": fits}))).await.status, 200);
}

#[tokio::test]
async fn at_the_content_limit_adding_is_refused_and_nothing_is_written() {
    let t = TestApp::spawn().await;
    let token = t.token("org_full", "user_f", Role::Admin);
    assert_eq!(add_text(&t, &token, "One", "First text.").await.status, 201);
    let mut sys = voiceforge::tenancy::System::begin(&t.app.db, "test: limit").await.unwrap();
    sqlx::query("UPDATE organizations SET max_content_items = 1").execute(sys.conn()).await.unwrap();
    sys.commit().await.unwrap();
    let before = (t.count_all("content_chunks").await, t.count_all("vector_outbox").await);
    add_text(&t, &token, "Two", "Second text.").await.assert_problem(403, "content_limit_reached");
    assert_eq!(t.count_all("contents").await, 1);
    assert_eq!((t.count_all("content_chunks").await, t.count_all("vector_outbox").await), before);
}

#[tokio::test]
async fn pages_follow_the_cursor_in_both_orders() {
    let t = TestApp::spawn().await;
    let token = t.token("org_pages", "user_p", Role::Member);
    for i in 0..5 {
        assert_eq!(add_text(&t, &token, &format!("Item {i}"), &format!("Body number {i}.")).await.status, 201);
    }
    for (sort, first) in [("newest", "Item 4"), ("oldest", "Item 0")] {
        let mut titles = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/contents?limit=2&sort={sort}&cursor={c}"),
                None => format!("/api/contents?limit=2&sort={sort}"),
            };
            let page = t.get(&path, &token).await.json();
            titles.extend(page["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(titles.len(), 5, "{titles:?}");
        assert_eq!(titles[0], first);
    }
}

#[tokio::test]
async fn a_url_is_fetched_once_through_the_crawlers_fetcher_and_stored_as_markdown() {
    use axum::{Router, response::Html, routing::get};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let site = Router::new()
        .route("/pricing", get(|| async {
            Html("<html><head><title>Pricing</title></head><body><main><h1>Pricing</h1>\
                  <p>Teams pay ten dollars a month for every seat, billed yearly, with a free trial.</p></main></body></html>")
        }))
        .route("/file.bin", get(|| async { ([("content-type", "application/octet-stream")], vec![0u8; 64]) }))
        .route("/gone", get(|| async { (axum::http::StatusCode::NOT_FOUND, "gone") }));
    tokio::spawn(async move { axum::serve(listener, site).await });

    let t = TestApp::spawn_with(&[("CRAWL_ALLOW_PRIVATE_NETWORKS", "true")]).await;
    let token = t.token("org_url", "user_u", Role::Member);
    let post = |body: serde_json::Value| json_request("POST", "/api/contents", &token, body);
    let res = t.request(post(json!({"url": format!("{base}/pricing")}))).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let item = res.json();
    assert_eq!(item["title"], "Pricing");
    assert_eq!(item["url"], format!("{base}/pricing"));
    assert!(item["markdown"].as_str().unwrap().contains("ten dollars a month"), "{item}");
    t.request(post(json!({"url": format!("{base}/file.bin")}))).await.assert_problem(400, "not_html");
    t.request(post(json!({"url": format!("{base}/gone")}))).await.assert_problem(502, "fetch_failed");
    assert_eq!(t.count_all("contents").await, 1);
}

/// A loopback site answering every request with an HTML page whose body drips out over
/// `drip`, as a slow or hostile site would.
async fn dripping_site(drip: std::time::Duration) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut n = 0u32;
        while let Ok((mut socket, _)) = listener.accept().await {
            n += 1;
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let body = format!(
                    "<html><head><title>Slow page {n}</title></head><body><main><h1>Slow page {n}</h1>\
                     <p>Page {n} of a site that answers slowly, with enough words to be stored as an item.</p>\
                     </main></body></html>"
                );
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let parts = 10;
                for chunk in body.as_bytes().chunks(body.len().div_ceil(parts)) {
                    tokio::time::sleep(drip / parts as u32).await;
                    if socket.write_all(chunk).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_being_fetched_for_the_library_hold_no_database_connection() {
    // The pool at its default size and acquire timeout; each page takes longer to arrive than
    // a request waits for a connection.
    let t = TestApp::spawn_with(&[
        ("DATABASE_MAX_CONNECTIONS", "5"),
        ("DATABASE_ACQUIRE_TIMEOUT_MS", "5000"),
        ("CRAWL_ALLOW_PRIVATE_NETWORKS", "true"),
    ])
    .await;
    let site = dripping_site(std::time::Duration::from_secs(7)).await;
    let adder = t.token("org_slow", "user_adder", Role::Member);
    let adds = (0..10).map(|i| {
        let body = json!({"url": format!("http://{site}/page-{i}")});
        t.request(json_request("POST", "/api/contents", &adder, body))
    });
    let adds = futures_util::future::join_all(adds);
    let others = async {
        // While the ten pages drip, another organization works as usual.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let other = t.token("org_busy", "user_busy", Role::Member);
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(t.get("/api/organizations/current", &other).await.status);
            statuses.push(t.get("/api/contents", &other).await.status);
        }
        statuses
    };
    let (added, statuses) = tokio::join!(adds, others);
    assert!(statuses.iter().all(|s| *s == 200), "another organization's requests while pages dripped: {statuses:?}");
    for res in &added {
        assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    }
    assert_eq!(t.count_all("contents").await, 10);
}
