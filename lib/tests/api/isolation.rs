//! The isolation attack matrix, generated from the contract (docs/openapi.yaml, itself kept
//! equal to the route table): for every route and method, a member of org A aims at org B
//! with B's ids, forged `org_id` fields in the query and body, and B's names, and must get
//! nothing of B's back and change nothing of B's.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use voiceforge::{auth::Role, tenancy::System};

use crate::harness::{TestApp, TestResponse};

const VICTIM_ORG: &str = "org_victim";
const VICTIM_USER: &str = "user_victim";

/// A loopback site of org B's, whose every page says "victim".
async fn victim_site() -> String {
    use axum::{Router, response::Html, routing::get};
    let page = || async {
        Html(
            "<html><head><title>Victim secret</title></head><body><main><h1>Victim secret</h1><p>Victim plans for the victim launch, written at length so extraction keeps them.</p></main></body></html>",
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        async move { axum::serve(listener, Router::new().route("/", get(page)).route("/about", get(page))).await },
    );
    base
}

/// Everything of org B's: a marker string per row, found nowhere in A's answers.
async fn seed_victim(t: &TestApp) {
    let token = t.token(VICTIM_ORG, VICTIM_USER, Role::Admin);
    assert_eq!(t.get("/api/organizations/current", &token).await.status, 200);
    for i in 0..3 {
        t.get("/api/organizations/current", &t.token(VICTIM_ORG, &format!("user_victim_{i}"), Role::Member)).await;
    }
    let site = victim_site().await;
    let start = Request::post("/api/crawls")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({"url": format!("{site}/")}).to_string()))
        .unwrap();
    let res = t.request(start).await;
    assert_eq!(res.status, 202, "{}", String::from_utf8_lossy(&res.body));
    let crawl = res.json()["id"].as_str().unwrap().to_owned();
    // Let the crawl finish so B's library holds the victim's pages.
    for _ in 0..100 {
        let status =
            t.get(&format!("/api/crawls/{crawl}"), &token).await.json()["status"].as_str().unwrap_or("").to_owned();
        if !["queued", "running"].contains(&status.as_str()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(t.count_all("contents").await > 0, "the victim's crawl stored its pages");

    let post = |path: &str, body: Value| {
        Request::post(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let template = t
        .request(post(
            "/api/templates",
            json!({"name": "Victim plan", "kind": "custom", "instructions": "Write about {{topic}} for the victim",
                   "fields": [{"name": "topic", "required": true}]}),
        ))
        .await;
    assert_eq!(template.status, 201, "{}", String::from_utf8_lossy(&template.body));
    let template_id = template.json()["id"].as_str().unwrap().to_owned();
    let generation = t
        .request(post("/api/generate", json!({"template_id": template_id, "inputs": {"topic": "victim launch"}})))
        .await;
    assert_eq!(generation.status, 201, "{}", String::from_utf8_lossy(&generation.body));

    let item = json!({"title": "victim handbook", "text": "The victim organization's private notes."});
    let req = Request::post("/api/contents")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(item.to_string()))
        .unwrap();
    assert_eq!(t.request(req).await.status, 201);
}

/// An id of org B's object for a route's `{id}`, by the table behind the route.
async fn victim_id(t: &TestApp, path: &str) -> String {
    let sql = match path {
        p if p.starts_with("/api/organizations/users/") => {
            "SELECT u.clerk_user_id FROM users u JOIN memberships m ON m.user_id = u.id
              JOIN organizations o ON o.id = m.org_id WHERE o.clerk_org_id = 'org_victim' LIMIT 1"
        }
        p if p.starts_with("/api/crawls/") => {
            "SELECT c.id::text FROM crawls c JOIN organizations o ON o.id = c.org_id WHERE o.clerk_org_id = 'org_victim' LIMIT 1"
        }
        p if p.starts_with("/api/templates/") => {
            "SELECT t.id::text FROM marketing_templates t JOIN organizations o ON o.id = t.org_id
              WHERE o.clerk_org_id = 'org_victim' AND t.name = 'Victim plan'"
        }
        p if p.starts_with("/api/generations/") => {
            "SELECT g.id::text FROM generations g JOIN organizations o ON o.id = g.org_id WHERE o.clerk_org_id = 'org_victim' LIMIT 1"
        }
        p if p.starts_with("/api/contents/") => {
            "SELECT c.id::text FROM contents c JOIN organizations o ON o.id = c.org_id
              WHERE o.clerk_org_id = 'org_victim' LIMIT 1"
        }
        other => panic!("the isolation matrix needs a victim id for {other}: add its table here"),
    };
    let mut sys = System::begin(&t.app.db, "test: victim ids").await.unwrap();
    sqlx::query_scalar(sql).fetch_one(sys.conn()).await.unwrap()
}

/// A fingerprint of org B's rows in every table with org_id, to prove nothing changed.
async fn victim_fingerprint(t: &TestApp) -> Vec<(String, String)> {
    let mut sys = System::begin(&t.app.db, "test: fingerprint").await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id'
          WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1",
    )
    .fetch_all(sys.conn())
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        // usage_events and audit_events legitimately grow with B's own traffic only.
        let sql = format!(
            "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {table} t
              WHERE t.org_id = (SELECT id FROM organizations WHERE clerk_org_id = 'org_victim')"
        );
        out.push((table, sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(sys.conn()).await.unwrap()));
    }
    out
}

/// One operation of the contract, with the credential it asks for.
struct Operation {
    path: String,
    method: &'static str,
    /// Whether it takes a member's session token (the spec's default `security`).
    session: bool,
}

/// Every operation of docs/openapi.yaml.
fn operations() -> Vec<Operation> {
    let spec: Value = serde_norway::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap(),
    )
    .unwrap();
    let default_session = spec["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("session").is_some()));
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let session = match op.get("security").and_then(Value::as_array) {
                Some(reqs) => reqs.iter().any(|r| r.get("session").is_some()),
                None => default_session,
            };
            out.push(Operation { path: path.clone(), method, session });
        }
    }
    assert!(out.len() >= 5, "the contract lists only {} operations", out.len());
    out
}

/// Sends `op` with `token`, aimed at `id` for `{id}` routes, with org B's ids forged into the
/// query and body; returns the URI sent and the answer.
async fn probe(t: &TestApp, op: &Operation, id: Option<&str>, token: &str) -> (String, TestResponse) {
    let target = id.map_or_else(|| op.path.clone(), |id| op.path.replace("{id}", id));
    let uri = format!("{target}?org_id={VICTIM_ORG}&org={VICTIM_ORG}&organization_id={VICTIM_ORG}");
    let body = json!({"org_id": VICTIM_ORG, "org": VICTIM_ORG, "organization_id": VICTIM_ORG, "user_id": VICTIM_USER});
    let req = Request::builder()
        .method(op.method.to_uppercase().as_str())
        .uri(&uri)
        .header("authorization", format!("Bearer {token}"));
    let req = if op.method == "get" || op.method == "delete" {
        req.body(Body::empty()).unwrap()
    } else {
        req.header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()
    };
    (uri, t.request(req).await)
}

#[tokio::test]
async fn no_route_gives_org_a_anything_of_org_b() {
    let t = TestApp::spawn_with(&[("CRAWL_ALLOW_PRIVATE_NETWORKS", "true")]).await;
    seed_victim(&t).await;
    let attacker = t.token("org_attacker", "user_attacker", Role::Admin);
    t.get("/api/organizations/current", &attacker).await;
    let before = victim_fingerprint(&t).await;

    for op in operations() {
        let victim = if op.path.contains("{id}") { Some(victim_id(&t, &op.path).await) } else { None };
        let (uri, res) = probe(&t, &op, victim.as_deref(), &attacker).await;
        let method = op.method;
        let text = String::from_utf8_lossy(&res.body).to_lowercase();
        assert!(!text.contains("victim"), "{method} {uri} leaked org B's data ({}): {text}", res.status);
        if victim.is_some() {
            // B's id answers exactly as an id that exists nowhere: no existence oracle.
            let missing = probe(&t, &op, Some(&uuid::Uuid::new_v4().to_string()), &attacker).await.1;
            assert_eq!(res.status, missing.status, "{method} {uri}: B's object and a missing one answer alike");
            if method == "get" || method == "delete" {
                assert_eq!(res.status, 404, "{method} {uri} must answer 404 for org B's object");
            }
        }
    }
    assert_eq!(victim_fingerprint(&t).await, before, "org A's requests changed org B's rows");
}

#[tokio::test]
async fn a_member_removed_by_webhook_gets_nothing_with_a_token_still_valid_for_the_org() {
    // The same attacker as above, from the inside: an admin of org B whom Clerk removed
    // (`organizationMembership.deleted`), presenting a session token for org B that was
    // minted before the removal and has not expired. The token's claims still name org B;
    // the database's membership record is what must refuse them.
    let t = TestApp::spawn_with(&[
        ("CRAWL_ALLOW_PRIVATE_NETWORKS", "true"),
        ("CLERK_WEBHOOK_SIGNING_SECRET", crate::webhooks::SECRET),
    ])
    .await;
    seed_victim(&t).await;
    let removed = "user_removed_admin";
    let token = t.token(VICTIM_ORG, removed, Role::Admin);
    assert_eq!(t.get("/api/organizations/current", &token).await.status, 200, "a member before the removal");
    let removal = crate::webhooks::membership(
        "organizationMembership.deleted",
        VICTIM_ORG,
        removed,
        "org:admin",
        crate::webhooks::ms(),
    );
    assert_eq!(crate::webhooks::deliver(&t, &removal).await, "processed");
    let before = victim_fingerprint(&t).await;

    let mut session_ops = 0;
    for op in operations() {
        let victim = if op.path.contains("{id}") { Some(victim_id(&t, &op.path).await) } else { None };
        let (uri, res) = probe(&t, &op, victim.as_deref(), &token).await;
        let method = op.method;
        let text = String::from_utf8_lossy(&res.body).to_lowercase();
        assert!(!text.contains("victim"), "{method} {uri} leaked org B's data to a removed member: {text}");
        if op.session {
            session_ops += 1;
            assert!(matches!(res.status, 403 | 404), "{method} {uri} let a removed member in ({}): {text}", res.status);
            if res.status == 403 {
                res.assert_problem(403, "membership_removed");
            }
        } else {
            // Routes on another credential (cron, operators, webhook signatures) or none
            // (health) treat the token like any member's token of an unrelated organization.
            let stranger = t.token("org_stranger", "user_stranger", Role::Admin);
            let anonymous = probe(&t, &op, victim.as_deref(), &stranger).await.1;
            assert_eq!(res.status, anonymous.status, "{method} {uri}: the removed member's token counts for nothing");
        }
    }
    assert!(session_ops >= 5, "the matrix probed only {session_ops} member operations");
    assert_eq!(victim_fingerprint(&t).await, before, "a removed member's requests changed org B's rows");
    let members = t.get("/api/organizations/users", &t.token(VICTIM_ORG, VICTIM_USER, Role::Admin)).await.json();
    let ids: Vec<&str> = members["items"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&removed), "the removed member took no seat back: {ids:?}");
}

#[tokio::test]
async fn a_member_of_one_org_presenting_a_token_for_another_is_that_org_only() {
    // The organization comes only from the verified token: a user of both orgs sees each
    // org only with that org's token.
    let t = TestApp::spawn_with(&[("CRAWL_ALLOW_PRIVATE_NETWORKS", "true")]).await;
    seed_victim(&t).await;
    let both_a = t.token("org_attacker", "user_victim_0", Role::Member);
    let res = t.get("/api/organizations/users", &both_a).await.json();
    let ids: Vec<&str> = res["items"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["user_victim_0"], "org_attacker lists only its own member");
}
