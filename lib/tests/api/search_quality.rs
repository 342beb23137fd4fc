//! Retrieval quality on real documentation text (CPython's standard-library docstrings,
//! fixtures/python-docs): for paraphrased questions that share few words with the page,
//! the local model ranks the relevant page first where plain full-text search mostly does
//! not, and hybrid search keeps the model's answer near the top.

use std::collections::HashMap;

use serde_json::json;
use voiceforge::{auth::Role, search};

use crate::{
    harness::TestApp,
    vector_conformance::{add_text, drain, json_request, tenant},
};

/// (question, the module page that answers it)
const QUESTIONS: [(&str, &str); 10] = [
    ("always take out the lowest value first from a collection", "heapq"),
    ("copy an entire folder with all of its subfolders elsewhere", "shutil"),
    ("scratch space that vanishes by itself once you are done", "tempfile"),
    ("turn binary bytes into printable ASCII characters", "base64"),
    ("show what changed between two versions of a document", "difflib"),
    ("does February get a 29th day this year", "calendar"),
    ("prompt someone for their login without echoing what they type", "getpass"),
    ("average and middle value of some numbers", "statistics"),
    ("run callbacks at chosen moments later on", "sched"),
    ("keep a list in order while adding new entries", "bisect"),
];

#[tokio::test]
async fn the_local_model_finds_the_right_page_for_paraphrased_questions_where_full_text_does_not() {
    let t = TestApp::spawn().await;
    let token = t.token("org_docs", "user_d", Role::Member);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/python-docs");
    let mut titles = HashMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") || path.file_name().is_some_and(|n| n == "README.md") {
            continue;
        }
        let module = path.file_stem().unwrap().to_string_lossy().into_owned();
        let res = add_text(&t, &token, &module, &std::fs::read_to_string(&path).unwrap()).await;
        assert_eq!(res.status, 201, "{module}");
        titles.insert(res.json()["id"].as_str().unwrap().to_owned(), module);
    }
    assert!(titles.len() >= 12);
    drain(&t).await;
    assert_eq!(t.count_all("vector_outbox").await, 0);

    let mut text_right = 0;
    let mut hybrid_first = 0;
    for (question, page) in QUESTIONS {
        let search = |mode: &'static str| {
            t.request(json_request("POST", "/api/search", &token, json!({"query": question, "k": 5, "mode": mode})))
        };
        let vector = search("vector").await.json();
        assert_eq!(vector["results"][0]["title"], page, "{question}: the model's first page: {vector:#}");
        // Hybrid keeps the model's answer among its first three pages (words reorder the
        // close calls; the labelled set in bench/search-quality measures by how much).
        let res = search("hybrid").await.json();
        assert_eq!(res["mode"], "hybrid");
        let pages: Vec<&str> =
            res["results"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap()).collect();
        let mut distinct = pages.clone();
        distinct.dedup();
        assert!(distinct.iter().take(3).any(|p| *p == page), "{question}: hybrid lost the model's answer: {res:#}");
        hybrid_first += usize::from(pages.first() == Some(&page));

        let mut tx = tenant(&t, "org_docs", "user_d", Role::Member).await;
        let text = search::lexical::search(&mut tx, question, 5, None).await.unwrap();
        let text_first = match text.first() {
            Some(hit) => {
                let content: uuid::Uuid = sqlx::query_scalar("SELECT content_id FROM content_chunks WHERE id = $1")
                    .bind(hit.chunk_id)
                    .fetch_one(tx.conn())
                    .await
                    .unwrap();
                titles.get(&content.to_string()).cloned()
            }
            None => None,
        };
        tx.commit().await.unwrap();
        eprintln!("{question:?}: model → {page}, full text → {text_first:?}");
        text_right += usize::from(text_first.as_deref() == Some(page));
    }
    println!(
        "retrieval quality: local model {n}/{n} first, hybrid {hybrid_first}/{n} first, full-text alone {text_right}/{n}",
        n = QUESTIONS.len()
    );
}

/// Pages of the CI slice: answers to the questions below and two hub pages that link to or
/// name every module, so the test also sees hubs not crowding out the answers.
const SLICE_PAGES: [&str; 13] = [
    "library/index.html",
    "library/audit_events.html",
    "library/csv.html",
    "library/glob.html",
    "library/hashlib.html",
    "library/pdb.html",
    "library/random.html",
    "library/secrets.html",
    "library/shutil.html",
    "library/statistics.html",
    "library/tempfile.html",
    "library/time.html",
    "library/timeit.html",
];

/// The questions of the labelled set (bench/search-quality-data/questions.json) whose answers
/// are among [`SLICE_PAGES`], with the pages that answer them there.
fn slice_questions() -> Vec<(String, Vec<String>)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/search-quality-data/questions.json");
    let set: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    set["questions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|q| {
            let pages: Vec<String> = q["pages"]
                .as_array()?
                .iter()
                .filter_map(|p| p.as_str())
                .filter(|p| SLICE_PAGES.contains(p) && !p.ends_with("index.html") && !p.ends_with("audit_events.html"))
                .map(str::to_owned)
                .collect();
            (!pages.is_empty()).then(|| (q["question"].as_str().unwrap().to_owned(), pages))
        })
        .collect()
}

/// Page-level hits@10 of `mode` over `questions`, and in how many a hub crowded the answer
/// out of the first three pages (a hub ranked above it, and the answer not among the first 3).
async fn hits_at_10(t: &TestApp, token: &str, mode: &str, questions: &[(String, Vec<String>)]) -> (usize, usize) {
    let (mut hits, mut hub_first) = (0, 0);
    for (question, pages) in questions {
        let res = t
            .request(json_request("POST", "/api/search", token, json!({"query": question, "k": 10, "mode": mode})))
            .await
            .json();
        let found: Vec<String> = res["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["url"].as_str().unwrap().split_once("/library/").map(|(_, p)| format!("library/{p}")).unwrap())
            .collect();
        let answer = found.iter().position(|p| pages.contains(p));
        hits += usize::from(answer.is_some());
        let hub = found.iter().position(|p| p.ends_with("/index.html") || p.ends_with("audit_events.html"));
        hub_first += usize::from(hub.is_some_and(|h| answer.is_none_or(|a| h < a && a >= 3)));
        eprintln!("{mode} {question:?}: answer at {answer:?}, first hub at {hub:?}");
    }
    (hits, hub_first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labelled_questions_are_answered_by_words_after_the_crawl_and_by_hybrid_once_embedded() {
    let Some(root) = crate::crawl::python_docs() else { return };
    let questions = slice_questions();
    assert!(questions.len() >= 10, "the labelled set has {} questions on the slice", questions.len());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(&root));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let t = crate::crawl::spawn_local().await;
    let token = t.token("org_slice", "user_s", Role::Member);
    let include: Vec<String> = SLICE_PAGES.iter().map(|p| format!("/{p}")).collect();
    let res = crate::crawl::send_json(
        &t,
        "POST",
        "/api/crawls",
        &token,
        json!({"url": format!("http://{addr}/library/index.html"), "include_paths": include, "use_sitemap": false}),
    )
    .await;
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let crawl = crate::crawl::wait_finished(&t, &token, &id).await;
    assert_eq!(crawl["status"], "completed", "{crawl}");
    assert_eq!(crawl["pages"]["stored"], SLICE_PAGES.len(), "{crawl}");

    // Right after the crawl: no vector yet, and the index says so.
    let status = t.get("/api/search/status", &token).await.json();
    assert_eq!((status["mode"].as_str(), status["embedded"].as_i64()), (Some("full_text"), Some(0)), "{status}");
    assert!(status["passages"].as_i64().unwrap() > 300, "{status}");
    let (words, words_hubs) = hits_at_10(&t, &token, "hybrid", &questions).await;
    let (full_text, _) = hits_at_10(&t, &token, "full_text", &questions).await;
    assert_eq!(words, full_text, "before embedding a hybrid search is a full-text one");

    while drain(&t).await.upserted > 0 {}
    let status = t.get("/api/search/status", &token).await.json();
    assert_eq!((status["mode"].as_str(), status["pending"].as_i64()), (Some("hybrid"), Some(0)), "{status}");
    assert_eq!(status["searchable_share"], 1.0, "{status}");
    let (hybrid, hybrid_hubs) = hits_at_10(&t, &token, "hybrid", &questions).await;
    let n = questions.len();
    println!(
        "labelled slice, hits@10 of {n}: full text {full_text} (a hub crowding out the answer {words_hubs}), \
         hybrid {hybrid} ({hybrid_hubs})"
    );
    // Measured on 2026-12-03: full text 14 of 14, hybrid 14 of 14; a hub ranked above the
    // answer in 0 and 5 of 14, never pushing it past the third page (bench/README.md has the
    // whole set, where hubs came first in 7 of 118 with hybrid).
    assert!(full_text + 1 >= n, "full text answered {full_text} of {n}");
    assert!(hybrid + 1 >= n && hybrid >= full_text.saturating_sub(1), "hybrid answered {hybrid} of {n}");
    assert!(hybrid_hubs * 10 <= n && words_hubs * 10 <= n, "hubs crowded out the answer in {hybrid_hubs} of {n}");
}
