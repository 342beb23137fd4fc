//! Retrieval quality on real documentation text (CPython's standard-library docstrings,
//! fixtures/python-docs): for paraphrased questions that share few words with the page,
//! the local model ranks the relevant page first where plain full-text search mostly does
//! not, and hybrid search keeps the model's answer.

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
    for (question, page) in QUESTIONS {
        let res =
            t.request(json_request("POST", "/api/search", &token, json!({"query": question, "k": 5}))).await.json();
        assert_eq!(res["mode"], "hybrid");
        let vector_first =
            res["results"].as_array().unwrap().iter().find(|h| h["vector_rank"] == 1).map(|h| h["title"].clone());
        assert_eq!(vector_first, Some(json!(page)), "{question}: {res:#}");
        assert_eq!(res["results"][0]["title"], page, "{question}: hybrid lost the model's answer: {res:#}");

        let mut tx = tenant(&t, "org_docs", "user_d", Role::Member).await;
        let text = search::full_text(&mut tx, question, 5, None).await.unwrap();
        let text_first = match text.first() {
            Some(chunk) => {
                let content: uuid::Uuid = sqlx::query_scalar("SELECT content_id FROM content_chunks WHERE id = $1")
                    .bind(chunk)
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
        "retrieval quality: local model {}/{} first, full-text alone {text_right}/{}",
        QUESTIONS.len(),
        QUESTIONS.len(),
        QUESTIONS.len()
    );
    assert!(text_right * 2 < QUESTIONS.len(), "full text alone found {text_right} of {}", QUESTIONS.len());
}
