//! `voiceforge serve` killed (SIGKILL) in the middle of a crawl, with page requests in
//! flight, then started again: the crawl finishes with every page stored exactly once.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;
use voiceforge::auth::Role;

use crate::{
    fault_server::{Fault, FaultServer, Upstream},
    harness::TestDb,
    support::{Serve, client, eventually, get, post, system_count, system_rows, token},
};

/// Pages linked from the home page.
const PAGES: usize = 60;
/// Requests answered before the site starts holding every request (robots.txt, the home
/// page and some pages).
const ANSWERED_BEFORE_KILL: usize = 24;
/// Pages one worker claims per batch (`CRAWL_CONCURRENCY` × 2). `serve` runs two workers on
/// a new crawl (the start request's and the background loop), so at most two batches were
/// claimed and unrecorded when the server died, and only those may be fetched again.
const BATCH: usize = 8;

const WORDS: &[&str] = &["espresso", "kettle", "grinder", "filter", "roast", "crema", "aroma", "brew", "beans"];

/// A small site: `/` links to `/p/0` … `/p/59`, each with text of its own.
fn site(_: &Method, path: &str, _: &HeaderMap, _: &axum::body::Bytes) -> Response {
    let body = |title: String, text: String, links: String| {
        format!(
            "<!doctype html><html lang=\"en\"><head><title>{title}</title></head><body>\
             <main><article><h1>{title}</h1>{text}<ul>{links}</ul></article></main></body></html>"
        )
    };
    let prose = |n: usize| -> String {
        (0..3)
            .map(|p| {
                let words: Vec<&str> = (0..40).map(|w| WORDS[(n * 7 + p * 3 + w) % WORDS.len()]).collect();
                format!("<p>Page {n} paragraph {p} tells how we {}.</p>", words.join(" "))
            })
            .collect()
    };
    let html = |s: String| ([("content-type", "text/html; charset=utf-8")], s).into_response();
    match path {
        "/" => {
            let links: String = (0..PAGES).map(|i| format!("<li><a href=\"/p/{i}\">Page {i}</a></li>")).collect();
            html(body("Home".into(), prose(1000), links))
        }
        p => match p.strip_prefix("/p/").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n < PAGES => html(body(format!("Page {n}"), prose(n), String::new())),
            _ => StatusCode::NOT_FOUND.into_response(),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_serve_mid_crawl_loses_no_page_and_stores_each_page_once() {
    let site = FaultServer::start(Upstream::Handler(Arc::new(site))).await;
    site.plan(std::iter::repeat_n(Fault::Pass, ANSWERED_BEFORE_KILL), Some(Fault::Hold));
    let db = TestDb::new().await;
    let env = [
        ("CRAWL_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
        ("CRAWL_MIN_DELAY_MS", "0".to_owned()),
        ("CRAWL_CONCURRENCY", (BATCH / 2).to_string()),
        ("CRAWL_REQUEST_TIMEOUT_MS", "5000".to_owned()),
        // A killed server's leases come back after 2 s instead of 2 minutes.
        ("CRAWL_LEASE_SECONDS", "2".to_owned()),
    ];
    let http = client();
    let token = token("org_crawlkill", "user_k", Role::Admin);

    let mut first = Serve::start(&db.url, &env).await;
    let (status, _, crawl) = post(
        &http,
        &first.url("/api/crawls"),
        &token,
        &json!({"url": format!("{}/", site.url), "max_pages": 500, "use_sitemap": false}),
    )
    .await;
    assert_eq!(status, 202, "{crawl}");
    let id = crawl["id"].as_str().unwrap().to_owned();

    // Kill it while page requests hang in flight: rows are claimed, nothing of them written.
    eventually(Duration::from_secs(30), "a page request held in flight", || {
        let held = site.held();
        async move { (held > 0).then_some(()) }
    })
    .await;
    first.process.kill().await;
    let stored_before: Vec<(String,)> =
        system_rows(&db.pool, "SELECT url FROM crawl_pages WHERE status = 'stored'").await;
    assert!(
        !stored_before.is_empty() && stored_before.len() < PAGES,
        "the kill must land mid-crawl: {} pages stored",
        stored_before.len()
    );
    let requested_before = site.log().len();

    // The site recovers; a new server resumes the crawl once the dead server's leases expire.
    site.heal();
    let second = Serve::start(&db.url, &env).await;
    let crawl = eventually(Duration::from_secs(60), "the crawl to finish after the restart", || {
        let (http, url, token) = (http.clone(), second.url(&format!("/api/crawls/{id}")), token.clone());
        async move {
            let (_, _, crawl) = get(&http, &url, &token).await;
            (!matches!(crawl["status"].as_str(), Some("queued" | "running"))).then_some(crawl)
        }
    })
    .await;
    assert_eq!(crawl["status"], "completed", "{crawl}");
    assert_eq!(crawl["pages"]["stored"], PAGES + 1, "{crawl}");
    assert_eq!((crawl["pages"]["failed"].as_i64(), crawl["pages"]["queued"].as_i64()), (Some(0), Some(0)), "{crawl}");

    // The library holds each page once: one item per URL, no two items with the same text.
    let items = system_count(&db.pool, "SELECT count(*) FROM contents").await;
    let urls = system_count(&db.pool, "SELECT count(DISTINCT url) FROM contents").await;
    let texts = system_count(&db.pool, "SELECT count(DISTINCT content_hash) FROM contents").await;
    assert_eq!((items, urls, texts), ((PAGES + 1) as i64, (PAGES + 1) as i64, (PAGES + 1) as i64));
    let rows = system_count(&db.pool, "SELECT count(*) FROM crawl_pages").await;
    assert_eq!(rows, (PAGES + 1) as i64, "one frontier row per page");

    // Fetches: each page at least once; again only if the dead server had claimed it and not
    // recorded it (the lease retry), never a page whose result was already written.
    let mut fetches: HashMap<String, usize> = HashMap::new();
    for seen in site.log() {
        *fetches.entry(seen.path).or_default() += 1;
    }
    let paths: Vec<String> = std::iter::once("/".to_owned()).chain((0..PAGES).map(|i| format!("/p/{i}"))).collect();
    let stored_before: Vec<String> =
        stored_before.into_iter().map(|(u,)| url::Url::parse(&u).unwrap().path().to_owned()).collect();
    let mut again = Vec::new();
    for path in &paths {
        let n = fetches.get(path).copied().unwrap_or(0);
        assert!((1..=2).contains(&n), "{path} fetched {n} times");
        if n == 2 {
            assert!(!stored_before.contains(path), "{path} was stored before the kill and fetched again");
            again.push(path.clone());
        }
    }
    assert!(!again.is_empty(), "the requests held at the kill are fetched again after the restart");
    assert!(again.len() <= 2 * BATCH, "only the dead server's claimed batches are fetched again: {again:?}");
    assert!(site.log().len() > requested_before, "the second server did the rest");
}
