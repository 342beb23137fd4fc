//! Generation end to end: the offline composer, OpenAI-compatible and Anthropic providers
//! against loopback servers that check the wire format, streaming, retries and errors,
//! citations confined to the org's own content, usage, and isolation.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use voiceforge::auth::Role;

use crate::{
    harness::{TestApp, TestResponse},
    templates::send,
    voice::add_page,
};

type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// A loopback server answering `path` with `respond(call_index, body)`; records every request.
async fn mock(
    path: &str,
    respond: impl Fn(usize, &Value) -> Response + Clone + Send + Sync + 'static,
) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = Router::new().route(
        path,
        post(move |headers: HeaderMap, body: String| {
            let (log, respond) = (log.clone(), respond.clone());
            async move {
                let body: Value = serde_json::from_str(&body).expect("provider request body is JSON");
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push((headers, body.clone()));
                    log.len() - 1
                };
                respond(n, &body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

/// An org with a guide, two pages, and another org whose page must never be cited.
async fn library(t: &TestApp) -> (String, String) {
    let admin = t.token("org_gen", "user_admin", Role::Admin);
    let guide = json!({"tone": ["friendly"], "banned_words": ["synergy"],
                       "preferred_terms": [{"term": "customers", "replacement": "members"}]});
    assert_eq!(send(t, "PUT", "/api/voice/guide", &admin, Some(guide)).await.status, 200);
    add_page(t, "org_gen", "https://acme.test/pricing", "Pricing",
        "# Pricing\n\nOur pricing is simple: one plan costs ten dollars per month for every team.\n\nAnnual plans save two months of fees for growing teams.").await;
    add_page(t, "org_gen", "https://acme.test/support", "Support",
        "Our support team answers every ticket within one business day.\n\nWe offer live chat for all customers on weekdays.").await;
    add_page(
        t,
        "org_rival",
        "https://rival.test/pricing",
        "Rival pricing",
        "Rival pricing is secret and costs a fortune per month for every team.",
    )
    .await;
    let member = t.token("org_gen", "user_writer", Role::Member);
    let list = send(t, "GET", "/api/templates", &member, None).await.json();
    let email = list["items"].as_array().unwrap().iter().find(|i| i["builtin"] == "email").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (member, email)
}

fn generate_body(template: &str) -> Value {
    json!({"template_id": template, "inputs": {"topic": "pricing plans for teams", "call_to_action": "Start a trial"}})
}

async fn usage(t: &TestApp, token: &str, metric: &str) -> i64 {
    let report = t.get("/api/organizations/usage", token).await.json();
    report["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == metric).unwrap()["used"].as_i64().unwrap()
}

fn assert_citations_are_the_orgs_own(g: &Value) {
    let citations = g["citations"].as_array().unwrap();
    assert!(!citations.is_empty(), "{g}");
    for c in citations {
        let url = c["url"].as_str().unwrap();
        assert!(url.starts_with("https://acme.test/"), "cited {url}");
        let n = c["n"].as_u64().unwrap();
        assert!(g["output"].as_str().unwrap().contains(&format!("[{n}]")));
        assert_eq!(g["sources"][(n - 1) as usize]["content_id"], c["content_id"]);
    }
    for s in g["sources"].as_array().unwrap() {
        assert!(s["url"].as_str().unwrap().starts_with("https://acme.test/"), "{s}");
    }
}

#[tokio::test]
async fn an_empty_library_answers_409_library_empty_with_what_to_do() {
    let t = TestApp::spawn().await;
    let token = t.token("org_new", "user_n", Role::Member);
    let list = send(&t, "GET", "/api/templates", &token, None).await.json();
    let email = list["items"].as_array().unwrap().iter().find(|i| i["builtin"] == "email").unwrap();
    let id = email["id"].as_str().unwrap().to_owned();
    let res =
        send(&t, "POST", "/api/generate", &token, Some(json!({"template_id": id, "inputs": {"topic": "x"}}))).await;
    res.assert_problem(409, "library_empty");
    assert!(res.json()["detail"].as_str().unwrap().contains("crawl your website"));
    assert_eq!(t.count_all("generations").await, 0);
}

#[tokio::test]
async fn offline_generation_cites_the_orgs_own_pages_and_is_stored_and_counted() {
    let t = TestApp::spawn().await;
    let (member, email) = library(&t).await;

    let mut missing = generate_body(&email);
    missing["inputs"] = json!({"call_to_action": "x"});
    send(&t, "POST", "/api/generate", &member, Some(missing)).await.assert_problem(400, "missing_input");
    let mut unknown = generate_body(&email);
    unknown["inputs"]["colour"] = json!("red");
    let res = send(&t, "POST", "/api/generate", &member, Some(unknown)).await;
    res.assert_problem(400, "unknown_input");
    assert!(res.json()["detail"].as_str().unwrap().starts_with("inputs.colour"));
    let mut long = generate_body(&email);
    long["inputs"]["topic"] = json!("x".repeat(301));
    send(&t, "POST", "/api/generate", &member, Some(long)).await.assert_problem(400, "input_too_long");
    let mut k = generate_body(&email);
    k["k"] = json!(21);
    send(&t, "POST", "/api/generate", &member, Some(k)).await.assert_problem(400, "invalid_generation");

    let res = send(&t, "POST", "/api/generate", &member, Some(generate_body(&email))).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let g = res.json();
    assert_eq!((g["provider"].as_str(), g["model"].as_str()), (Some("extractive"), Some("voiceforge-extractive")));
    let output = g["output"].as_str().unwrap();
    assert!(output.starts_with("Subject: Pricing plans for teams"), "{output}");
    assert!(output.contains("Start a trial"), "{output}");
    assert!(output.contains("members"), "the preferred term is applied: {output}");
    assert!(!output.contains("customers"), "{output}");
    assert_citations_are_the_orgs_own(&g);
    assert!(g["voice"]["score"].as_u64().unwrap() <= 100);
    assert_eq!(g["created_by"], "user_writer");

    let id = g["id"].as_str().unwrap();
    let fetched = send(&t, "GET", &format!("/api/generations/{id}"), &member, None).await.json();
    assert_eq!(fetched["output"], g["output"]);
    assert_eq!(fetched["citations"], g["citations"]);
    let list = send(&t, "GET", "/api/generations", &member, None).await.json();
    assert_eq!(list["items"][0]["id"], g["id"]);
    assert_eq!(usage(&t, &member, "generations").await, 1);
    assert_eq!(usage(&t, &member, "tokens").await, 0, "the extractive composer uses no model tokens");
    assert_eq!(t.count_all("audit_events WHERE action = 'generation.created'").await, 1);

    // Isolation: another org sees neither the generation nor the template.
    let rival = t.token("org_rival", "user_r", Role::Admin);
    send(&t, "GET", &format!("/api/generations/{id}"), &rival, None).await.assert_problem(404, "not_found");
    assert_eq!(send(&t, "GET", "/api/generations", &rival, None).await.json()["items"], json!([]));
    send(&t, "POST", "/api/generate", &rival, Some(generate_body(&email))).await.assert_problem(404, "not_found");
    // Restricting to another org's content id finds nothing of it: the draft stays empty-handed.
    let rival_ids: Vec<uuid::Uuid> = {
        let mut tx = t.db.pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
        sqlx::query_scalar("SELECT id FROM contents WHERE url LIKE 'https://rival.test/%'")
            .fetch_all(&mut *tx)
            .await
            .unwrap()
    };
    let mut foreign = generate_body(&email);
    foreign["content_ids"] = json!(rival_ids);
    send(&t, "POST", "/api/generate", &member, Some(foreign)).await.assert_problem(409, "library_empty");
}

fn openai_answer(text: &str) -> Response {
    axum::Json(json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-test-2026",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 17, "total_tokens": 57}
    }))
    .into_response()
}

/// A server-sent-events response of (event name, data) pairs, then `tail` verbatim.
fn sse(events: &[(Option<&str>, Value)], tail: &str) -> Response {
    let mut body = String::new();
    for (name, data) in events {
        if let Some(name) = name {
            body.push_str(&format!("event: {name}\n"));
        }
        body.push_str(&format!("data: {data}\n\n"));
    }
    body.push_str(tail);
    ([("content-type", "text/event-stream")], body).into_response()
}

/// Events of an SSE response body as (event, data).
fn events(res: &TestResponse) -> Vec<(String, Value)> {
    String::from_utf8_lossy(&res.body)
        .split("\n\n")
        .filter_map(|block| {
            let event = block.lines().find_map(|l| l.strip_prefix("event: "))?.to_owned();
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((event, serde_json::from_str(data).unwrap()))
        })
        .collect()
}

#[tokio::test]
async fn openai_compatible_provider_gets_the_real_wire_format_and_its_tokens_are_counted() {
    let (base, seen) = mock("/v1/chat/completions", |_, body: &Value| {
        if body["stream"] == true {
            let chunk = |delta: Value, usage: Value| {
                json!({"id": "c", "object": "chat.completion.chunk", "model": "gpt-test-2026",
                       "choices": if delta.is_null() { json!([]) } else { json!([{"index": 0, "delta": delta, "finish_reason": null}]) },
                       "usage": usage})
            };
            return sse(&[
                (None, chunk(json!({"role": "assistant", "content": ""}), Value::Null)),
                (None, chunk(json!({"content": "Plans are simple [1]."}), Value::Null)),
                (None, chunk(json!({"content": " Support is fast [2]."}), Value::Null)),
                (None, chunk(Value::Null, json!({"prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39}))),
            ], "data: [DONE]\n\n");
        }
        openai_answer("Our plan costs ten dollars a month [1]. Support answers within a day [2]. Invented [9].")
    })
    .await;
    let t = TestApp::spawn_with(&[
        ("OPENAI_API_KEY", "sk-test-123"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("OPENAI_MODEL", "gpt-test"),
    ])
    .await;
    let (member, email) = library(&t).await;

    let res = send(&t, "POST", "/api/generate", &member, Some(generate_body(&email))).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let g = res.json();
    assert_eq!((g["provider"].as_str(), g["model"].as_str()), (Some("openai"), Some("gpt-test-2026")));
    assert_eq!(g["output"], "Our plan costs ten dollars a month [1]. Support answers within a day [2]. Invented.");
    assert_eq!(g["usage"], json!({"input_tokens": 40, "output_tokens": 17, "total_tokens": 57}));
    assert_citations_are_the_orgs_own(&g);

    let (headers, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(headers["authorization"], "Bearer sk-test-123");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["stream"], false);
    assert!(body["max_completion_tokens"].as_u64().is_some());
    assert_eq!(
        (body["messages"][0]["role"].as_str(), body["messages"][1]["role"].as_str()),
        (Some("system"), Some("user"))
    );
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Never use these words: synergy."), "{system}");
    assert!(system.contains("Write \"members\", never \"customers\"."), "{system}");
    assert!(system.contains("Tone: friendly."), "{system}");
    assert!(system.contains("Sentences average"), "the voice profile is in the prompt: {system}");
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("[1] Pricing (https://acme.test/pricing)"), "{user}");
    assert!(user.contains("one plan costs ten dollars per month"), "{user}");
    assert!(
        user.contains("[2] Support (https://acme.test/support)")
            || user.contains("] Support (https://acme.test/support)"),
        "{user}"
    );
    assert!(!user.contains("rival"), "another org's page reached the prompt: {user}");
    assert!(user.contains("Write a marketing email about pricing plans for teams"), "{user}");

    // Streaming, asked for in the body.
    let mut streaming = generate_body(&email);
    streaming["stream"] = json!(true);
    let res = send(&t, "POST", "/api/generate", &member, Some(streaming)).await;
    assert_eq!(res.status, 200);
    assert!(res.headers["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let ev = events(&res);
    assert_eq!(ev[0].0, "sources");
    // The streamed sources name their passage as the stored generation's do.
    let done_sources = &ev.last().unwrap().1["sources"];
    for (streamed, stored) in ev[0].1.as_array().unwrap().iter().zip(done_sources.as_array().unwrap()) {
        assert!(streamed["chunk_id"].is_string(), "{streamed}");
        assert_eq!((&streamed["chunk_id"], &streamed["heading"]), (&stored["chunk_id"], &stored["heading"]));
    }
    let deltas: String = ev.iter().filter(|e| e.0 == "delta").map(|e| e.1["text"].as_str().unwrap()).collect();
    assert_eq!(deltas, "Plans are simple [1]. Support is fast [2].");
    let done = &ev.last().unwrap();
    assert_eq!(done.0, "done");
    assert_eq!(done.1["usage"]["total_tokens"], 39);
    assert_eq!(seen.lock().unwrap()[1].1["stream_options"]["include_usage"], true);

    assert_eq!(usage(&t, &member, "generations").await, 2);
    assert_eq!(usage(&t, &member, "tokens").await, 57 + 39);
}

#[tokio::test]
async fn anthropic_provider_streams_server_sent_events_when_the_client_accepts_them() {
    let (base, seen) = mock("/v1/messages", |_, body: &Value| {
        if body["stream"] != true {
            return axum::Json(json!({
                "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
                "content": [{"type": "text", "text": "Plans cost ten dollars [1]."}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 50, "output_tokens": 8}
            }))
            .into_response();
        }
        sse(&[
            (Some("message_start"), json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                "role": "assistant", "content": [], "model": "claude-test", "stop_reason": null, "stop_sequence": null,
                "usage": {"input_tokens": 52, "output_tokens": 1}}})),
            (Some("content_block_start"), json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
            (Some("ping"), json!({"type": "ping"})),
            (Some("content_block_delta"), json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Plans cost ten dollars [1]."}})),
            (Some("content_block_delta"), json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " Support is quick [2]."}})),
            (Some("content_block_stop"), json!({"type": "content_block_stop", "index": 0})),
            (Some("message_delta"), json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 14}})),
            (Some("message_stop"), json!({"type": "message_stop"})),
        ], "")
    })
    .await;
    let t = TestApp::spawn_with(&[
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("ANTHROPIC_BASE_URL", &base),
        ("ANTHROPIC_MODEL", "claude-test"),
    ])
    .await;
    let (member, email) = library(&t).await;

    let request = Request::post("/api/generate")
        .header("authorization", format!("Bearer {member}"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(Body::from(generate_body(&email).to_string()))
        .unwrap();
    let res = t.request(request).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let ev = events(&res);
    let names: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["sources", "delta", "delta", "done"]);
    assert_eq!(ev[0].1[0]["n"], 1);
    let done = &ev[3].1;
    assert_eq!(done["output"], "Plans cost ten dollars [1]. Support is quick [2].");
    assert_eq!(done["usage"], json!({"input_tokens": 52, "output_tokens": 14, "total_tokens": 66}));
    assert_eq!((done["provider"].as_str(), done["model"].as_str()), (Some("anthropic"), Some("claude-test")));
    assert_citations_are_the_orgs_own(done);
    let stored =
        send(&t, "GET", &format!("/api/generations/{}", done["id"].as_str().unwrap()), &member, None).await.json();
    assert_eq!(stored["output"], done["output"]);

    let (headers, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(headers["x-api-key"], "sk-ant-test");
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert!(headers.get("authorization").is_none());
    assert_eq!((body["model"].as_str(), body["stream"].as_bool()), (Some("claude-test"), Some(true)));
    assert!(body["max_tokens"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(body["messages"][0]["role"], "user");
    let system = body["system"].as_str().unwrap();
    assert!(system.contains("Never use these words: synergy."), "{system}");
    let user = body["messages"][0]["content"].as_str().unwrap();
    assert!(user.contains("[1] ") && user.contains("https://acme.test/"), "{user}");

    // Without the event-stream Accept header the answer is one JSON document.
    let res = send(&t, "POST", "/api/generate", &member, Some(generate_body(&email))).await;
    assert_eq!(res.status, 201);
    assert_eq!(res.json()["usage"]["total_tokens"], 58);
    assert_eq!(usage(&t, &member, "tokens").await, 66 + 58);
    assert_eq!(usage(&t, &member, "generations").await, 2);
}

#[tokio::test]
async fn provider_failures_are_retried_then_reported_as_unavailable_or_rejected() {
    // 429 twice, then success: retried with backoff.
    let (base, seen) = mock("/v1/chat/completions", |n, _: &Value| {
        if n < 2 {
            (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"error": {"message": "Rate limit reached", "type": "rate_limit"}})),
            )
                .into_response()
        } else {
            openai_answer("Fine now [1].")
        }
    })
    .await;
    let t = TestApp::spawn_with(&[
        ("OPENAI_API_KEY", "k"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("LLM_RETRY_BASE_MS", "1"),
    ])
    .await;
    let (member, email) = library(&t).await;
    let res = send(&t, "POST", "/api/generate", &member, Some(generate_body(&email))).await;
    assert_eq!(res.status, 201);
    assert_eq!(seen.lock().unwrap().len(), 3);

    // Always 503: gives up after the retries with provider_unavailable; nothing is stored or counted.
    let (base, seen) =
        mock("/v1/chat/completions", |_, _: &Value| (StatusCode::SERVICE_UNAVAILABLE, "down").into_response()).await;
    let t = TestApp::spawn_with(&[
        ("OPENAI_API_KEY", "k"),
        ("OPENAI_BASE_URL", &format!("{base}/v1")),
        ("LLM_RETRY_BASE_MS", "1"),
    ])
    .await;
    let (member, email) = library(&t).await;
    let res = send(&t, "POST", "/api/generate", &member, Some(generate_body(&email))).await;
    res.assert_problem(503, "provider_unavailable");
    assert!(res.headers.get("retry-after").is_some());
    assert_eq!(seen.lock().unwrap().len(), 3, "one try and two retries");
    assert_eq!(t.count_all("generations").await, 0);
    assert_eq!(usage(&t, &member, "generations").await, 0);

    // 401: not retried, provider_rejected; the provider's message (which may quote the key)
    // stays in the log.
    let (base, seen) = mock("/v1/messages", |_, _: &Value| {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
            ),
        )
            .into_response()
    })
    .await;
    let t = TestApp::spawn_with(&[
        ("ANTHROPIC_API_KEY", "sk-ant-secret"),
        ("ANTHROPIC_BASE_URL", &base),
        ("LLM_RETRY_BASE_MS", "1"),
    ])
    .await;
    let (member, email) = library(&t).await;
    let res = send(&t, "POST", "/api/generate", &member, Some(generate_body(&email))).await;
    res.assert_problem(502, "provider_rejected");
    let detail = res.json()["detail"].as_str().unwrap().to_owned();
    assert!(!detail.contains("invalid x-api-key") && !detail.contains("sk-ant"), "{detail}");
    assert!(detail.contains("refused") && res.json()["request_id"].is_string(), "{detail}");
    assert_eq!(seen.lock().unwrap().len(), 1);

    // Nothing listens: unavailable.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = TestApp::spawn_with(&[
        ("OPENAI_API_KEY", "k"),
        ("OPENAI_BASE_URL", &format!("http://127.0.0.1:{port}/v1")),
        ("LLM_RETRY_BASE_MS", "1"),
    ])
    .await;
    let (member, email) = library(&t).await;
    send(&t, "POST", "/api/generate", &member, Some(generate_body(&email)))
        .await
        .assert_problem(503, "provider_unavailable");
}

#[tokio::test]
async fn a_stream_that_breaks_off_ends_with_an_error_event_and_stores_nothing() {
    let (base, _seen) = mock("/v1/messages", |_, _: &Value| {
        sse(
            &[
                (Some("message_start"), json!({"type": "message_start", "message": {"id": "m", "type": "message",
                    "role": "assistant", "content": [], "model": "claude-test", "usage": {"input_tokens": 5, "output_tokens": 1}}})),
                (Some("content_block_delta"), json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": "Half a sent"}})),
                (Some("error"), json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})),
            ],
            "",
        )
    })
    .await;
    let t = TestApp::spawn_with(&[("ANTHROPIC_API_KEY", "k"), ("ANTHROPIC_BASE_URL", &base)]).await;
    let (member, email) = library(&t).await;
    let mut body = generate_body(&email);
    body["stream"] = json!(true);
    let res = send(&t, "POST", "/api/generate", &member, Some(body)).await;
    let ev = events(&res);
    let names: Vec<&str> = ev.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["sources", "delta", "error"]);
    assert_eq!(ev[2].1["code"], "provider_unavailable");
    let detail = ev[2].1["detail"].as_str().unwrap();
    assert!(
        detail.contains("unavailable") && !detail.contains("Overloaded"),
        "upstream words are logged only: {detail}"
    );
    assert_eq!(t.count_all("generations").await, 0);
    assert_eq!(usage(&t, &member, "generations").await, 0);
}

#[tokio::test]
async fn the_offline_composer_streams_too() {
    let t = TestApp::spawn().await;
    let (member, email) = library(&t).await;
    let request = Request::post("/api/generate")
        .header("authorization", format!("Bearer {member}"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(Body::from(generate_body(&email).to_string()))
        .unwrap();
    let ev = events(&t.request(request).await);
    assert_eq!(ev.first().map(|e| e.0.as_str()), Some("sources"));
    let done = &ev.last().unwrap().1;
    assert_eq!(done["model"], "voiceforge-extractive");
    let deltas: String = ev.iter().filter(|e| e.0 == "delta").map(|e| e.1["text"].as_str().unwrap()).collect();
    assert_eq!(deltas, done["output"].as_str().unwrap());
    assert_citations_are_the_orgs_own(done);
}

/// A small fixed library: a hub page made of links to everything, and pages whose passages
/// carry link markup, one of them long enough to be cut into several chunks.
async fn linked_library(t: &TestApp) -> String {
    let hub: String = (0..12)
        .map(|i| format!("- [Pricing plan {i} for teams](https://acme.test/plans/{i} \"Plan {i}\")\n"))
        .collect();
    add_page(t, "org_src", "https://acme.test/", "All pages", &format!("# All pages\n\n{hub}")).await;
    let long: String = (0..14)
        .map(|i| {
            format!(
                "Teams on the [annual plan](https://acme.test/annual#p{i} \"Annual\") save two months of fees, \
                 and pricing for teams stays simple in year {i}. "
            )
        })
        .collect();
    add_page(
        t,
        "org_src",
        "https://acme.test/pricing",
        "Pricing",
        &format!("# Pricing\n\n{long}\n\n## Discounts\n\n{long}"),
    )
    .await;
    add_page(
        t,
        "org_src",
        "https://acme.test/support",
        "Support",
        "Our [support team](https://acme.test/team) answers every pricing question about teams within one day.",
    )
    .await;
    let member = t.token("org_src", "user_writer", Role::Member);
    let list = send(t, "GET", "/api/templates", &member, None).await.json();
    list["items"].as_array().unwrap().iter().find(|i| i["builtin"] == "blog_post").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_prompt_gets_whole_passages_of_distinct_pages_as_text_within_its_budget() {
    let (base, seen) = mock("/v1/chat/completions", |_, _| openai_answer("Plans are simple [1].")).await;
    let t = TestApp::spawn_with(&[("OPENAI_API_KEY", "sk-test"), ("OPENAI_BASE_URL", &format!("{base}/v1"))]).await;
    let blog = linked_library(&t).await;
    crate::vector_conformance::drain(&t).await;
    let member = t.token("org_src", "user_writer", Role::Member);
    // `key_points` is left blank: its label must not dangle in the prompt.
    let body = json!({"template_id": blog, "inputs": {"topic": "pricing for teams", "audience": "", "key_points": ""}});
    let res = send(&t, "POST", "/api/generate", &member, Some(body)).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let g = res.json();

    let (_, request) = seen.lock().unwrap()[0].clone();
    let user = request["messages"][1]["content"].as_str().unwrap().to_owned();
    assert!(!user.contains("Key points to cover"), "{user}");
    let sources = user.split("\nSources:\n").nth(1).expect("a sources section");
    assert!(!sources.contains("](") && !sources.contains("https://acme.test/annual"), "link markup: {sources}");
    // Each source is one page's passage, whole: the plain text of a stored chunk (and its
    // next one when short), never a cut mid-word.
    let cited: Vec<&Value> = g["sources"].as_array().unwrap().iter().collect();
    let pages: std::collections::BTreeSet<&str> = cited.iter().map(|s| s["content_id"].as_str().unwrap()).collect();
    assert_eq!(pages.len(), cited.len(), "one passage per page: {cited:?}");
    assert!(cited.len() >= 2, "{cited:?}");
    let mut tx = t.db.pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
    let chunks: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, text FROM content_chunks").fetch_all(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let mut total = 0;
    for s in &cited {
        let chunk: uuid::Uuid = s["chunk_id"].as_str().expect("a chunk source names its chunk").parse().unwrap();
        let (_, markdown) = chunks.iter().find(|(id, _)| *id == chunk).unwrap();
        let whole = voiceforge::text::plain_markdown(markdown);
        // The excerpt shows the passage's start: a cut of it, or the whole passage followed by
        // the next chunk's text when the passage was short.
        let excerpt = s["excerpt"].as_str().unwrap().trim_end_matches('…');
        assert!(
            whole.starts_with(excerpt) || excerpt.starts_with(&whole),
            "{excerpt:?} and the passage {whole:?} do not start alike"
        );
        assert!(sources.contains(&whole[..whole.len().min(200)]), "the prompt lacks {whole:?}");
        total += voiceforge::content::chunking::count_tokens(&whole);
    }
    assert!(total <= voiceforge::generate::retrieve::PROMPT_SOURCE_TOKENS, "{total} tokens of sources");

    // The offline composer rests on the same sources: whole sentences, one heading per page.
    let t2 = TestApp::spawn().await;
    let blog = linked_library(&t2).await;
    crate::vector_conformance::drain(&t2).await;
    let member = t2.token("org_src", "user_writer", Role::Member);
    let body = json!({"template_id": blog, "inputs": {"topic": "pricing for teams"}});
    let g = send(&t2, "POST", "/api/generate", &member, Some(body)).await.json();
    let output = g["output"].as_str().unwrap();
    let headings: Vec<&str> = output.lines().filter(|l| l.starts_with("## ")).collect();
    let distinct: std::collections::BTreeSet<&&str> = headings.iter().collect();
    assert_eq!(distinct.len(), headings.len(), "{output}");
    // Every cited sentence ("text [n].") is a whole sentence of a stored passage.
    let mut tx = t2.db.pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
    let texts: Vec<String> = sqlx::query_scalar("SELECT text FROM content_chunks").fetch_all(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let plain: Vec<String> = texts.iter().map(|t| voiceforge::text::plain_markdown(t).replace('\n', " ")).collect();
    let mut rest = output;
    let mut cited_sentences = 0;
    while let Some(at) = rest.find(" [") {
        let close = rest[at..].find(']').unwrap() + at;
        let sentence = format!(
            "{}{}",
            rest[..at].rsplit(['\n', '.', '!', '?']).next().unwrap().trim_start_matches([']', ' ']),
            &rest[close + 1..close + 2]
        );
        let sentence = sentence.trim();
        assert!(
            plain.iter().any(|p| p.contains(sentence)),
            "{sentence:?} is no whole sentence of the library: {output}"
        );
        cited_sentences += 1;
        rest = &rest[close + 2..];
    }
    assert!(cited_sentences >= 2, "{output}");
    assert!(!output.contains("]("), "{output}");
}
