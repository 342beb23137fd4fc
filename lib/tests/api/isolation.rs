//! The isolation attack matrix, generated from the contract (docs/openapi.yaml, itself kept
//! equal to the route table): for every route and method, a member of org A aims at org B
//! with B's ids, forged `org_id` fields in the query and body, and B's names, and must get
//! nothing of B's back and change nothing of B's.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use voiceforge::{auth::Role, tenancy::System};

use crate::harness::TestApp;

const VICTIM_ORG: &str = "org_victim";
const VICTIM_USER: &str = "user_victim";

/// Everything of org B's: a marker string per row, found nowhere in A's answers.
async fn seed_victim(t: &TestApp) {
    let token = t.token(VICTIM_ORG, VICTIM_USER, Role::Admin);
    assert_eq!(t.get("/api/organizations/current", &token).await.status, 200);
    for i in 0..3 {
        t.get("/api/organizations/current", &t.token(VICTIM_ORG, &format!("user_victim_{i}"), Role::Member)).await;
    }
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

#[tokio::test]
async fn no_route_gives_org_a_anything_of_org_b() {
    let t = TestApp::spawn().await;
    seed_victim(&t).await;
    let attacker = t.token("org_attacker", "user_attacker", Role::Admin);
    t.get("/api/organizations/current", &attacker).await;
    let before = victim_fingerprint(&t).await;

    let spec: Value = serde_norway::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml")).unwrap(),
    )
    .unwrap();
    let mut probes = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let path_with_id =
            if path.contains("{id}") { path.replace("{id}", &victim_id(&t, path).await) } else { path.clone() };
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let uri = format!("{path_with_id}?org_id={VICTIM_ORG}&org={VICTIM_ORG}&organization_id={VICTIM_ORG}");
            let body =
                json!({"org_id": VICTIM_ORG, "org": VICTIM_ORG, "organization_id": VICTIM_ORG, "user_id": VICTIM_USER});
            let mut req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header("authorization", format!("Bearer {attacker}"));
            let req = if method == "get" || method == "delete" {
                req.body(Body::empty()).unwrap()
            } else {
                req = req.header("content-type", "application/json");
                req.body(Body::from(body.to_string())).unwrap()
            };
            let res = t.request(req).await;
            let text = String::from_utf8_lossy(&res.body).to_lowercase();
            assert!(!text.contains("victim"), "{method} {uri} leaked org B's data ({}): {text}", res.status);
            if path.contains("{id}") {
                assert_eq!(res.status, 404, "{method} {uri} must answer 404 for org B's object");
            }
            probes += 1;
        }
    }
    assert!(probes >= 5, "the matrix probed only {probes} operations");
    assert_eq!(victim_fingerprint(&t).await, before, "org A's requests changed org B's rows");
}

#[tokio::test]
async fn a_member_of_one_org_presenting_a_token_for_another_is_that_org_only() {
    // The organization comes only from the verified token: a user of both orgs sees each
    // org only with that org's token.
    let t = TestApp::spawn().await;
    seed_victim(&t).await;
    let both_a = t.token("org_attacker", "user_victim_0", Role::Member);
    let res = t.get("/api/organizations/users", &both_a).await.json();
    let ids: Vec<&str> = res["items"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["user_victim_0"], "org_attacker lists only its own member");
}
