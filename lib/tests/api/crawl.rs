//! The crawler end to end against real HTTP servers on loopback.

use std::time::Duration;

use axum::{body::Body, http::Request, response::IntoResponse};
use serde_json::{Value, json};
use voiceforge::{
    auth::Role,
    crawl::{
        self, Crawler,
        engine::{Advance, Deadline, EngineConfig},
        fetch::{FetchError, FetchSettings, Fetcher, Validators, Want},
        guard::Policy,
    },
    tenancy::System,
};

use crate::{
    crawl_site::{self, DOCS, ORPHANS},
    harness::{TestApp, TestResponse},
};

const LOCAL: &[(&str, &str)] = &[
    ("CRAWL_ALLOW_PRIVATE_NETWORKS", "true"),
    ("CRAWL_MIN_DELAY_MS", "0"),
    ("CRAWL_CONCURRENCY", "8"),
    ("CRAWL_REQUEST_TIMEOUT_MS", "5000"),
    ("CRON_SECRET", "cron-test-secret"),
];

pub async fn spawn_local() -> TestApp {
    TestApp::spawn_with(LOCAL).await
}

pub async fn send_json(t: &TestApp, method: &str, path: &str, token: &str, body: Value) -> TestResponse {
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

/// Polls the crawl until it leaves queued/running.
pub async fn wait_finished(t: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..1200 {
        let res = t.get(&format!("/api/crawls/{id}"), token).await;
        if res.status == 429 {
            // Polling a long crawl can outrun the read bucket: wait as the API asks.
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let crawl = res.json();
        if !matches!(crawl["status"].as_str(), Some("queued" | "running")) {
            return crawl;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("crawl {id} did not finish");
}

async fn all_pages(t: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/crawls/{id}/pages?limit=100&cursor={c}"),
            None => format!("/api/crawls/{id}/pages?limit=100"),
        };
        let body = t.get(&path, token).await.json();
        out.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn page<'a>(pages: &'a [Value], url: &str) -> &'a Value {
    pages.iter().find(|p| p["url"] == url).unwrap_or_else(|| panic!("no page {url}"))
}

async fn contents(t: &TestApp) -> Vec<(String, String, Option<String>)> {
    let mut tx = t.db.pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
    sqlx::query_as("SELECT url, markdown, crawl_id::text FROM contents ORDER BY url").fetch_all(&mut *tx).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_site_is_crawled_with_robots_sitemaps_redirects_and_every_outcome_recorded() {
    let site = crawl_site::spawn().await;
    let t = spawn_local().await;
    let token = t.token("org_crawl", "user_a", Role::Member);
    let res =
        send_json(&t, "POST", "/api/crawls", &token, json!({"url": site.url("/"), "max_pages": 400, "max_depth": 30}))
            .await;
    assert_eq!(res.status, 202, "{}", String::from_utf8_lossy(&res.body));
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let crawl = wait_finished(&t, &token, &id).await;
    assert_eq!(crawl["status"], "completed", "{crawl}");
    let pages = all_pages(&t, &token, &id).await;
    let url = |p: &str| site.url(p);

    // Every reachable doc, the home page, sitemap-only orphans and the extras are stored.
    let stored: Vec<&Value> = pages.iter().filter(|p| p["status"] == "stored").collect();
    let not_calendar = stored.iter().filter(|p| !p["url"].as_str().unwrap().contains("/calendar")).count();
    assert_eq!(not_calendar, DOCS + ORPHANS + 6, "{crawl}");
    assert_eq!(page(&pages, &url("/orphan/3.html"))["status"], "stored");
    assert_eq!(crawl["pages"]["stored"], stored.len());

    // robots.txt: the private page is recorded and never requested.
    assert_eq!(page(&pages, &url("/private/secret.html"))["reason"], "robots_disallowed");
    assert_eq!(site.counts.get("/private/secret.html"), 0);
    // Redirects: the old URL points at its target, which is stored under its own URL.
    let old = page(&pages, &url("/old"));
    assert_eq!(
        (old["status"].as_str(), old["detail"].as_str()),
        (Some("redirected"), Some(url("/moved.html").as_str()))
    );
    assert_eq!(page(&pages, &url("/moved.html"))["status"], "stored");
    assert_eq!(page(&pages, &url("/loop/0"))["reason"], "too_many_redirects");
    assert!(site.counts.total_with_prefix("/loop/") <= 6, "{:?}", site.counts.snapshot());
    // Non-HTML, latin-1, huge, noindex, duplicate, 404, flaky.
    assert_eq!(page(&pages, &url("/files/report.pdf"))["reason"], "not_html");
    assert_eq!(page(&pages, &url("/huge.html"))["reason"], "too_large");
    assert_eq!(page(&pages, &url("/noindex.html"))["reason"], "noindex");
    assert_eq!(page(&pages, &url("/dup.html"))["status"], "duplicate");
    assert_eq!(page(&pages, &url("/missing"))["reason"], "http_404");
    let flaky = page(&pages, &url("/flaky"));
    assert_eq!((flaky["status"].as_str(), flaky["attempts"].as_i64()), (Some("stored"), Some(2)));
    assert_eq!(crawl["errors_by_kind"]["http_404"], 1);
    // The trap calendar is cut off.
    let calendar = site.counts.total_with_prefix("/calendar");
    assert!(calendar <= 30, "calendar requested {calendar} times");
    assert!(pages.iter().any(|p| p["reason"] == "trap"));
    // Normalization: the tracked, fragmented link is the same page; nothing is fetched twice.
    for (path, n) in site.counts.snapshot() {
        let expected = if path == "/flaky" { 2 } else { 1 };
        assert!(n <= expected, "{path} requested {n} times");
    }
    assert_eq!(site.counts.get("/docs/0.html"), 1);

    // The library holds exactly the stored pages, tagged with the crawl.
    let items = contents(&t).await;
    assert_eq!(items.len(), stored.len());
    assert!(items.iter().all(|(_, _, crawl_id)| crawl_id.as_deref() == Some(id.as_str())));
    let latin = items.iter().find(|(u, _, _)| u == &url("/latin1.html")).expect("latin-1 page stored");
    assert!(latin.1.contains("crème brûlée"), "{}", latin.1);
    let doc = items.iter().find(|(u, _, _)| u == &url("/docs/7.html")).unwrap();
    assert!(doc.1.contains("Document 7 part 0"), "{}", doc.1);
    assert!(!doc.1.contains("Generated site"), "the footer is not main content: {}", doc.1);

    // Every fetched page that reached the store step counts as a page crawled this month.
    let reached_store = pages
        .iter()
        .filter(|p| ["stored", "updated", "unchanged", "duplicate"].contains(&p["status"].as_str().unwrap()))
        .count();
    let mut sys = System::begin(&t.app.db, "test: read").await.unwrap();
    let counted: i64 = sqlx::query_scalar("SELECT value FROM usage_counters WHERE metric = 'pages_crawled'")
        .fetch_one(sys.conn())
        .await
        .unwrap();
    sys.commit().await.unwrap();
    assert_eq!(counted, reached_store as i64);

    // A crawl is listed newest first, and a member of another organization sees nothing.
    let list = t.get("/api/crawls", &token).await.json();
    assert_eq!(list["items"][0]["id"], id.as_str());
    let other = t.token("org_other", "user_o", Role::Admin);
    t.get(&format!("/api/crawls/{id}"), &other).await.assert_problem(404, "not_found");
    t.get(&format!("/api/crawls/{id}/pages"), &other).await.assert_problem(404, "not_found");
    send_json(&t, "POST", &format!("/api/crawls/{id}/cancel"), &other, json!({}))
        .await
        .assert_problem(404, "not_found");
    send_json(&t, "POST", &format!("/api/crawls/{id}/cancel"), &token, json!({}))
        .await
        .assert_problem(409, "crawl_finished");
    t.get("/api/crawls/not-a-uuid", &token).await.assert_problem(404, "not_found");

    // A re-crawl sends validators and skips unchanged pages.
    let res =
        send_json(&t, "POST", "/api/crawls", &token, json!({"url": site.url("/"), "max_pages": 400, "max_depth": 30}))
            .await;
    let again = res.json()["id"].as_str().unwrap().to_owned();
    let crawl = wait_finished(&t, &token, &again).await;
    assert_eq!(crawl["status"], "completed", "{crawl}");
    let not_modified = *site.not_modified.lock().unwrap();
    assert!(not_modified >= DOCS, "validators were not sent: {not_modified} 304s; {crawl}");
    // Only calendar months the trap guard cut differently can be new.
    let new: Vec<Value> = all_pages(&t, &token, &again)
        .await
        .into_iter()
        .filter(|p| p["status"] == "stored" && !p["url"].as_str().unwrap().contains("/calendar"))
        .collect();
    assert!(new.is_empty(), "{new:?}");
    assert!(crawl["pages"]["unchanged"].as_i64().unwrap() >= (DOCS + ORPHANS) as i64, "{crawl}");
    let calendar_new = crawl["pages"]["stored"].as_u64().unwrap() as usize;
    assert_eq!(contents(&t).await.len(), items.len() + calendar_new);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_starts_with_a_limit_of_ten_make_exactly_ten_crawls() {
    let site = crawl_site::spawn_with_robots("User-agent: *\nDisallow: /\n").await;
    let t = spawn_local().await;
    let token = t.token("org_lim", "user_l", Role::Member);
    assert_eq!(t.get("/api/crawls", &token).await.status, 200);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (router, token, url) = (t.router.clone(), token.clone(), site.url("/"));
            tokio::spawn(async move {
                let req = Request::post("/api/crawls")
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Body::from(json!({"url": url, "use_sitemap": false}).to_string()))
                    .unwrap();
                crate::harness::call(&router, req).await
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        let res = task.await.unwrap();
        if res.status == 202 {
            accepted += 1;
        } else {
            res.assert_problem(403, "crawl_limit_reached");
            assert!(res.json()["detail"].as_str().unwrap().contains("10 crawls"));
        }
    }
    assert_eq!(accepted, 10);
    assert_eq!(t.count_all("crawls").await, 10);
    assert_eq!(t.count_all("crawl_pages").await, 10);
    let mut sys = System::begin(&t.app.db, "test: read").await.unwrap();
    let started: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events WHERE action = 'crawl.started'")
        .fetch_one(sys.conn())
        .await
        .unwrap();
    let counter: i64 = sqlx::query_scalar("SELECT value FROM usage_counters WHERE metric = 'crawls'")
        .fetch_one(sys.conn())
        .await
        .unwrap();
    sys.commit().await.unwrap();
    assert_eq!((started, counter), (10, 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_stops_at_the_content_limit_and_keeps_what_it_stored() {
    let site = crawl_site::spawn().await;
    let t = spawn_local().await;
    let token = t.token("org_full", "user_f", Role::Admin);
    assert_eq!(t.get("/api/crawls", &token).await.status, 200);
    let mut sys = System::begin(&t.app.db, "test: limit").await.unwrap();
    sqlx::query("UPDATE organizations SET max_content_items = 7").execute(sys.conn()).await.unwrap();
    sys.commit().await.unwrap();
    let res =
        send_json(&t, "POST", "/api/crawls", &token, json!({"url": site.url("/docs/0.html"), "use_sitemap": false}))
            .await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let crawl = wait_finished(&t, &token, &id).await;
    assert_eq!(crawl["status"], "content_limit_reached", "{crawl}");
    assert!(crawl["status_reason"].as_str().unwrap().contains("limit of 7"));
    assert_eq!(crawl["pages"]["stored"], 7);
    assert_eq!(crawl["pages"]["queued"], 0);
    assert_eq!(t.count_all("contents").await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_no_page_and_duplicates_no_fetch() {
    let site = crawl_site::spawn().await;
    let t = spawn_local().await;
    let token = t.token("org_kill", "user_k", Role::Admin);
    assert_eq!(t.get("/api/crawls", &token).await.status, 200);
    // Three workers share the crawl, one after another.
    let (org, started) = start_without_worker(&t, "org_kill", &site.url("/")).await;
    let crawler = test_crawler("test", Duration::from_millis(1500));
    let db = &t.app.db;
    // Worker A runs out of time mid-crawl, between batches: it claims for half a second, and
    // every batch it claims can still finish.
    let now = tokio::time::Instant::now();
    let soon = Deadline { claim_until: now + Duration::from_millis(500), finish_by: now + Duration::from_secs(60) };
    assert_eq!(crawler.advance(db, org, started.id, soon).await.unwrap(), Advance::OutOfTime);
    // Worker B is killed right after claiming: its rows stay leased, nothing was fetched.
    let abandoned = crawler.claim(db, org, started.id, 6, uuid::Uuid::new_v4()).await.unwrap();
    assert_eq!(abandoned.len(), 6);
    for claimed in &abandoned {
        let key = match claimed.url.query() {
            Some(q) => format!("{}?{q}", claimed.url.path()),
            None => claimed.url.path().to_owned(),
        };
        // A first attempt was never fetched (a retry, like /flaky's, was fetched before).
        if claimed.attempts == 1 {
            assert_eq!(site.counts.get(&key), 0, "{} fetched before the kill", claimed.url);
        }
    }
    // Worker C resumes; the abandoned rows come back once their lease expires.
    let later = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut outcome = crawler.advance(db, org, started.id, later).await.unwrap();
    while outcome == Advance::Waiting {
        tokio::time::sleep(Duration::from_millis(200)).await;
        outcome = crawler.advance(db, org, started.id, later).await.unwrap();
    }
    assert_eq!(outcome, Advance::Finished(crawl::CrawlStatus::Completed));
    for (path, n) in site.counts.snapshot() {
        let expected = if path == "/flaky" { 2 } else { 1 };
        assert!(n <= expected, "{path} fetched {n} times");
    }

    // The same crawl in one go, on a fresh copy of the site, stores the same set of pages.
    let reference = crawl_site::spawn().await;
    let other_token = t.token("org_ref", "user_r", Role::Admin);
    let res =
        send_json(&t, "POST", "/api/crawls", &other_token, json!({"url": reference.url("/"), "max_pages": 400})).await;
    let reference_id = res.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(wait_finished(&t, &other_token, &reference_id).await["status"], "completed");
    // /dup.html repeats /docs/0.html: whichever of the two is written first is stored and the
    // other is its duplicate, and the kill above decides which that is.
    let paths = |items: Vec<(String, String, Option<String>)>, crawl: &str| -> std::collections::BTreeSet<String> {
        items
            .into_iter()
            .filter(|(_, _, c)| c.as_deref() == Some(crawl))
            .map(|(u, _, _)| url::Url::parse(&u).unwrap().path().replace("/dup.html", "/docs/0.html"))
            .collect()
    };
    let all = contents(&t).await;
    let resumed = paths(all.clone(), &started.id.to_string());
    assert!(resumed.len() > 50, "{}", resumed.len());
    assert_eq!(resumed, paths(all, &reference_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_invocations_advancing_one_crawl_at_once_fetch_every_page_once() {
    let site = crawl_site::spawn().await;
    let t = spawn_local().await;
    let token = t.token("org_pair", "user_p", Role::Admin);
    assert_eq!(t.get("/api/crawls", &token).await.status, 200);
    let (org, started) = start_without_worker(&t, "org_pair", &site.url("/")).await;

    // Two function invocations: each its own crawler (fetcher, pacing, leases), told apart by
    // User-Agent, both advancing the same crawl from the start until it is over.
    let invocation = |agent: &str| {
        let (crawler, app, id) = (test_crawler(agent, Duration::from_secs(60)), t.app.clone(), started.id);
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
            loop {
                match crawler.advance(&app.db, org, id, deadline).await.unwrap() {
                    Advance::Finished(status) => return status,
                    Advance::Waiting => tokio::time::sleep(Duration::from_millis(20)).await,
                    Advance::OutOfTime => panic!("the crawl did not finish in time"),
                }
            }
        })
    };
    let (a, b) = (invocation("invocation-a"), invocation("invocation-b"));
    assert_eq!(a.await.unwrap(), crawl::CrawlStatus::Completed);
    assert_eq!(b.await.unwrap(), crawl::CrawlStatus::Completed);

    let (by_a, by_b) = (site.agents.get("invocation-a"), site.agents.get("invocation-b"));
    assert!(by_a > 10 && by_b > 10, "both invocations fetched pages: {by_a} and {by_b}");
    for (path, n) in site.counts.snapshot() {
        // /flaky answers 503 first, so its retry is a second fetch by design.
        let expected = if path == "/flaky" { 2 } else { 1 };
        assert!(n <= expected, "{path} fetched {n} times");
    }
    let stored = contents(&t).await.into_iter().filter(|(_, _, c)| c.as_deref() == Some(&*started.id.to_string()));
    let urls: Vec<String> = stored.map(|(u, _, _)| u).collect();
    let unique: std::collections::BTreeSet<&String> = urls.iter().collect();
    assert!(urls.len() > 200, "{} pages stored", urls.len());
    assert_eq!(unique.len(), urls.len(), "a page was stored twice");
}

/// Starts a crawl of `url` (400 pages at most) through the domain, so no background worker
/// runs: only the crawlers a test drives advance it. Returns the org's and the crawl's ids.
async fn start_without_worker(t: &TestApp, clerk_org: &str, url: &str) -> (uuid::Uuid, crawl::Crawl) {
    let org = org_id(t, clerk_org).await;
    let mut tenant = voiceforge::tenancy::Tenant::for_system(&t.app.db, org, "test").await.unwrap().unwrap();
    let request = crawl::CrawlRequest { url: url.to_owned(), max_pages: Some(400), ..Default::default() };
    let (url, options) = request.validate().unwrap();
    let started = crawl::start(&mut tenant, &url, &options, None).await.unwrap();
    tenant.commit().await.unwrap();
    (org, started)
}

/// A crawler as one function invocation has it, on loopback, sending `user_agent`.
fn test_crawler(user_agent: &str, lease: Duration) -> Crawler {
    let fetcher = Fetcher::new(FetchSettings {
        policy: Policy { allow_private_networks: true, exempt: vec![] },
        max_body_bytes: 5 * 1024 * 1024,
        timeout: Duration::from_secs(5),
        user_agent: user_agent.into(),
    })
    .unwrap();
    let config =
        EngineConfig { concurrency: 4, min_delay: Duration::ZERO, lease, invocation_budget: Duration::from_secs(60) };
    Crawler::new(fetcher, config)
}

async fn org_id(t: &TestApp, clerk: &str) -> uuid::Uuid {
    let mut sys = System::begin(&t.app.db, "test: org id").await.unwrap();
    let id = sqlx::query_scalar("SELECT id FROM organizations WHERE clerk_org_id = $1")
        .bind(clerk)
        .fetch_one(sys.conn())
        .await
        .unwrap();
    sys.commit().await.unwrap();
    id
}

#[tokio::test]
async fn with_private_networks_off_every_internal_target_is_refused_as_ssrf_blocked() {
    let site = crawl_site::spawn().await;
    let t = TestApp::spawn().await;
    let token = t.token("org_ssrf", "user_s", Role::Admin);
    let port = site.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::1]:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
    ] {
        let res = send_json(&t, "POST", "/api/crawls", &token, json!({"url": url})).await;
        res.assert_problem(400, "ssrf_blocked");
        // The refusal says what, not where: no resolved address or range for a prober to map.
        let detail = res.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("address not allowed"), "{detail}");
        for leak in ["127.", "::1", "169.254", "10.0", "loopback", "private", "link-local"] {
            assert!(!detail.contains(leak), "{url}: {detail}");
        }
    }
    assert_eq!(t.count_all("crawls").await, 0, "a refused start writes nothing");

    // The fetcher itself: the exempt first hop may be fetched, but its redirect to another
    // loopback address, and a name resolving to loopback, are refused before connecting.
    let redirector = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let exempt = redirector.local_addr().unwrap();
    let target = format!("http://127.0.0.1:{port}/docs/1.html");
    let app = axum::Router::new().fallback(move || {
        let target = target.clone();
        async move { (axum::http::StatusCode::FOUND, [(axum::http::header::LOCATION, target)]) }
    });
    tokio::spawn(async move { axum::serve(redirector, app).await.unwrap() });
    let fetcher = Fetcher::new(FetchSettings {
        policy: Policy { allow_private_networks: false, exempt: vec![exempt] },
        max_body_bytes: 1024 * 1024,
        timeout: Duration::from_secs(5),
        user_agent: "test".into(),
    })
    .unwrap();
    let go = |u: String| {
        let fetcher = fetcher.clone();
        async move { fetcher.fetch(&url::Url::parse(&u).unwrap(), Want::Html, &Validators::default(), &|_| true).await }
    };
    assert!(matches!(go(format!("http://{exempt}/")).await, Err(FetchError::Ssrf(_))), "redirect to loopback");
    assert!(matches!(go(format!("http://localhost:{port}/")).await, Err(FetchError::Ssrf(_))), "name to loopback");
    assert!(matches!(
        crawl::fetch_and_extract(&fetcher, &format!("http://[::ffff:7f00:1]:{port}/")).await,
        Err(crawl::FetchPageError::Fetch(FetchError::Ssrf(_)))
    ));
    assert!(site.counts.snapshot().is_empty(), "no request reached the site: {:?}", site.counts.snapshot());
}

#[tokio::test]
async fn fetch_and_extract_returns_one_page_as_markdown() {
    let site = crawl_site::spawn().await;
    let t = spawn_local().await;
    let page = crawl::fetch_and_extract(t.app.crawler.fetcher(), &site.url("/latin1.html")).await.unwrap();
    assert!(page.markdown.contains("crème brûlée"), "{}", page.markdown);
    assert!(page.title.contains("Café"), "{}", page.title);
    let err = crawl::fetch_and_extract(t.app.crawler.fetcher(), &site.url("/files/report.pdf")).await.unwrap_err();
    assert!(matches!(err, crawl::FetchPageError::NotHtml(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_a_running_crawl_and_keeps_what_it_stored() {
    let site = crawl_site::spawn().await;
    let t = TestApp::spawn_with(&[
        ("CRAWL_ALLOW_PRIVATE_NETWORKS", "true"),
        ("CRAWL_MIN_DELAY_MS", "200"),
        ("CRAWL_CONCURRENCY", "1"),
    ])
    .await;
    let token = t.token("org_cancel", "user_c", Role::Member);
    let res = send_json(&t, "POST", "/api/crawls", &token, json!({"url": site.url("/"), "use_sitemap": false})).await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let res = send_json(&t, "POST", &format!("/api/crawls/{id}/cancel"), &token, json!({})).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let crawl = res.json();
    assert_eq!(crawl["status"], "cancelled");
    assert_eq!(crawl["pages"]["queued"], 0);
    // The batch in flight may finish; after that no request is made.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let requests = site.counts.snapshot().values().sum::<usize>();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let after = site.counts.snapshot().values().sum::<usize>();
    assert_eq!(after, requests, "requests continued after cancelling");
    let crawl = t.get(&format!("/api/crawls/{id}"), &token).await.json();
    assert_eq!(crawl["status"], "cancelled");
    let stored = crawl["pages"]["stored"].as_i64().unwrap();
    assert!(stored > 0, "{crawl}");
    assert_eq!(t.count_all("contents").await, stored, "stored items stay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_needs_its_secret_advances_crawls_and_runs_due_schedules_within_the_limit() {
    let site = crawl_site::spawn().await;
    let t = spawn_local().await;
    let cron = |secret: Option<&str>| {
        let mut req = Request::get("/api/cron/crawl");
        if let Some(s) = secret {
            req = req.header("authorization", format!("Bearer {s}"));
        }
        t.request(req.body(Body::empty()).unwrap())
    };
    cron(None).await.assert_problem(401, "invalid_cron_secret");
    cron(Some("wrong")).await.assert_problem(401, "invalid_cron_secret");

    let admin = t.token("org_sched", "user_admin", Role::Admin);
    let member = t.token("org_sched", "user_member", Role::Member);
    let body = json!({"url": site.url("/docs/0.html"), "frequency": "weekly", "max_pages": 5, "use_sitemap": false});
    send_json(&t, "PUT", "/api/crawls/schedule", &member, body.clone()).await.assert_problem(403, "admin_required");
    let res = send_json(&t, "PUT", "/api/crawls/schedule", &admin, body).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["schedule"]["frequency"], "weekly");
    assert_eq!(t.get("/api/crawls/schedule", &member).await.json()["schedule"]["url"], site.url("/docs/0.html"));

    let make_due = || async {
        let mut sys = System::begin(&t.app.db, "test: due").await.unwrap();
        sqlx::query("UPDATE crawl_schedules SET next_run_at = now() - interval '1 minute'")
            .execute(sys.conn())
            .await
            .unwrap();
        sys.commit().await.unwrap();
    };
    make_due().await;
    let res = cron(Some("cron-test-secret")).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let sweep = res.json();
    assert_eq!(sweep["scheduled_started"], 1, "{sweep}");
    assert_eq!(sweep["crawls_finished"], 1, "{sweep}");
    let list = t.get("/api/crawls", &admin).await.json();
    assert_eq!(list["items"][0]["scheduled"], true);
    assert_eq!(list["items"][0]["status"], "completed");
    assert_eq!(list["items"][0]["pages"]["stored"], 5);

    // At the monthly limit, the next run is skipped with its reason recorded.
    let mut sys = System::begin(&t.app.db, "test: limit").await.unwrap();
    sqlx::query("UPDATE organizations SET max_crawls_per_month = 1").execute(sys.conn()).await.unwrap();
    sys.commit().await.unwrap();
    make_due().await;
    let sweep = cron(Some("cron-test-secret")).await.json();
    assert_eq!(sweep["scheduled_skipped"], 1, "{sweep}");
    let schedule = t.get("/api/crawls/schedule", &admin).await.json();
    assert!(schedule["schedule"]["last_skip_reason"].as_str().unwrap().contains("1 crawls"), "{schedule}");
    assert_eq!(t.count_all("crawls").await, 1);
}

#[tokio::test]
async fn crawl_requests_are_validated_with_clear_errors() {
    let t = spawn_local().await;
    let token = t.token("org_val", "user_v", Role::Member);
    for (body, code) in [
        (json!({"url": "ftp://example.com/"}), "invalid_url"),
        (json!({"url": "not a url"}), "invalid_url"),
        (json!({"url": "http://127.0.0.1:1/", "max_pages": 0}), "invalid_crawl_options"),
        (json!({"url": "http://127.0.0.1:1/", "max_depth": 99}), "invalid_crawl_options"),
        (json!({"url": "http://127.0.0.1:1/", "include_paths": ["no-slash"]}), "invalid_crawl_options"),
        (json!({"url": "http://127.0.0.1:1/", "surprise": true}), "invalid_body"),
    ] {
        send_json(&t, "POST", "/api/crawls", &token, body).await.assert_problem(400, code);
    }
    assert_eq!(t.count_all("crawls").await, 0);
}

/// Debian's python3-doc HTML root. Under CI its absence fails the calling test (scripts/test
/// installs it); elsewhere the test is told to skip, with how to install it.
pub fn python_docs() -> Option<std::path::PathBuf> {
    let found = ["/usr/share/doc/python3/html", "/usr/share/doc/python3-doc/html"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|d| d.join("library/index.html").is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3-doc is not installed: scripts/test installs it (apt-get install python3-doc)"
        );
        eprintln!("skipping outside CI: python3-doc is not installed (apt-get install python3-doc; scripts/test does)");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_documentation_site_is_crawled_end_to_end() {
    let Some(dir) = python_docs() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(&dir));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = spawn_local().await;
    let token = t.token("org_docs", "user_d", Role::Member);
    let res = send_json(
        &t,
        "POST",
        "/api/crawls",
        &token,
        json!({"url": format!("http://{addr}/index.html"), "max_pages": 150}),
    )
    .await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let crawl = wait_finished(&t, &token, &id).await;
    assert_eq!(crawl["status"], "completed", "{crawl}");
    let stored = crawl["pages"]["stored"].as_i64().unwrap();
    assert!(stored >= 100, "{crawl}");
    let items = contents(&t).await;
    let tutorial = items.iter().find(|(u, _, _)| u.contains("/tutorial/index.html"));
    let (_, markdown, _) = tutorial.expect("the tutorial's index page is stored");
    assert!(markdown.contains("Python"), "{markdown}");
    assert!(items.iter().all(|(_, m, _)| !m.trim().is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robots_txt_answering_5xx_defers_the_crawl_until_it_recovers() {
    let robots_calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let calls = robots_calls.clone();
    let app = axum::Router::new()
        .route(
            "/robots.txt",
            axum::routing::get(move || {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    if n == 0 {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
                    } else {
                        "User-agent: *\nDisallow: /nothing/\n".into_response()
                    }
                }
            }),
        )
        .fallback(|| async {
            axum::response::Html(format!(
                "<html><body><article><p>{}</p></article></body></html>",
                crawl_site::prose(1).join(" ")
            ))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = spawn_local().await;
    let token = t.token("org_robots", "user_r", Role::Member);
    let res =
        send_json(&t, "POST", "/api/crawls", &token, json!({"url": format!("http://{addr}/"), "use_sitemap": false}))
            .await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let crawl = t.get(&format!("/api/crawls/{id}"), &token).await.json();
    assert_eq!(crawl["status"], "queued", "deferred, not failed: {crawl}");
    assert_eq!(crawl["pages"]["fetched"], 0);
    // Cron retries seeding once the pause is over, and the crawl then runs.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let cron = Request::get("/api/cron/crawl").header("authorization", "Bearer cron-test-secret");
    assert_eq!(t.request(cron.body(Body::empty()).unwrap()).await.status, 200);
    let crawl = wait_finished(&t, &token, &id).await;
    assert_eq!(crawl["status"], "completed", "{crawl}");
    assert_eq!(robots_calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}
