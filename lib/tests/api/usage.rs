//! Usage metering: the report's figures match the actions performed; operators change limits.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use voiceforge::{
    auth::{Identity, Role},
    content::{self, NewContent, Source},
    tenancy::Tenant,
    usage::{self, Metric},
};

use crate::{
    harness::{TestApp, TestResponse},
    webhooks::{ADMIN_TOKEN, spawn},
};

fn used(report: &Value, metric: &str) -> i64 {
    let m = report["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == metric).unwrap();
    m["used"].as_i64().unwrap()
}

fn daily_total(report: &Value, metric: &str) -> i64 {
    report["daily"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["metric"] == metric)
        .map(|d| d["value"].as_i64().unwrap())
        .sum()
}

async fn operator_patch(t: &TestApp, body: Value) -> TestResponse {
    t.request(
        Request::patch("/api/organizations/limits")
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn usage_figures_match_the_actions_performed() {
    let t = TestApp::spawn().await;
    let token = t.token("org_u", "user_u", Role::Admin);
    for _ in 0..4 {
        assert_eq!(t.get("/api/organizations/current", &token).await.status, 200);
    }
    let identity = Identity {
        user_id: "user_u".into(),
        session_id: "sess".into(),
        org_id: "org_u".into(),
        org_slug: None,
        org_name: None,
        role: Role::Admin,
        issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
    };
    let mut tenant = Tenant::begin(&t.app.db, &identity).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let page = NewContent {
            source: Source::Manual,
            crawl_id: None,
            url: None,
            title: format!("Item {i}"),
            description: None,
            language: None,
            markdown: format!("Body number {i}"),
        };
        let content::Stored::Created(item) = content::store(&mut tenant, page).await.unwrap() else { panic!() };
        ids.push(item.id);
    }
    assert!(content::delete(&mut tenant, ids[0]).await.unwrap());
    usage::record(&mut tenant, Metric::Crawls, 1).await.unwrap();
    usage::record(&mut tenant, Metric::PagesCrawled, 7).await.unwrap();
    usage::record(&mut tenant, Metric::Generations, 2).await.unwrap();
    usage::record_tokens(&mut tenant, 120, 30).await.unwrap();
    usage::record(&mut tenant, Metric::EmbeddingTokens, 900).await.unwrap();
    tenant.commit().await.unwrap();

    // The report's own call is the fifth API call: it is counted before the report is read.
    let report = t.get("/api/organizations/usage", &token).await.json();
    let expected = [
        ("users", 1),
        ("content_items", 2),
        ("crawls", 1),
        ("pages_crawled", 7),
        ("generations", 2),
        ("tokens", 150),
        ("input_tokens", 120),
        ("output_tokens", 30),
        ("embedding_tokens", 900),
        ("api_calls", 5),
    ];
    for (metric, value) in expected {
        assert_eq!(used(&report, metric), value, "{metric}");
        if metric != "users" {
            assert_eq!(daily_total(&report, metric), value, "daily {metric}");
        }
    }
    let crawls = report["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "crawls").unwrap();
    assert_eq!((crawls["limit"].as_i64(), crawls["percent"].as_i64()), (Some(10), Some(10)));
    // Another organization's figures are its own.
    let other = t.get("/api/organizations/usage", &t.token("org_v", "user_v", Role::Admin)).await.json();
    assert_eq!((used(&other, "api_calls"), used(&other, "content_items")), (1, 0));
}

#[tokio::test]
async fn operators_change_limits_which_apply_at_once_and_are_validated() {
    let t = spawn().await;
    for user in ["user_1", "user_2", "user_3"] {
        t.get("/api/organizations/current", &t.token("org_l", user, Role::Admin)).await;
    }
    let res = operator_patch(&t, json!({"organization": "org_l", "max_users": 2, "max_content_items": 50})).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(
        res.json(),
        json!({"organization": "org_l", "limits": {"max_users": 2, "max_content_items": 50, "max_crawls_per_month": 10}})
    );
    let admin = t.token("org_l", "user_1", Role::Admin);
    let report = t.get("/api/organizations/usage", &admin).await.json();
    let users = report["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == "users").unwrap();
    assert_eq!(
        (users["used"].as_i64(), users["limit"].as_i64(), users["percent"].as_i64()),
        (Some(3), Some(2), Some(150))
    );
    assert!(
        report["warnings"].as_array().unwrap().iter().any(|w| w["metric"] == "users" && w["level"] == "limit_reached")
    );
    t.get("/api/organizations/current", &t.token("org_l", "user_3", Role::Admin))
        .await
        .assert_problem(403, "seat_limit_reached");

    for (body, status, code) in [
        (json!({"organization": "org_l"}), 400, "invalid_limits"),
        (json!({"organization": "org_l", "max_users": -1}), 400, "invalid_limits"),
        (json!({"organization": "org_l", "max_users": 1_000_001}), 400, "invalid_limits"),
        (json!({"organization": "org_l", "max_users": "ten"}), 400, "invalid_body"),
        (json!({"organization": "org_l", "max_seats": 3}), 400, "invalid_body"),
        (json!({"organization": "org_nobody", "max_users": 3}), 404, "not_found"),
    ] {
        operator_patch(&t, body.clone()).await.assert_problem(status, code);
    }
    let audit = t.get("/api/audit?action=limits.updated", &admin).await.json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "only the applied change is audited");
}
