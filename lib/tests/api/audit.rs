//! `GET /api/audit`: admins read their organization's log, filtered and paginated; nobody
//! changes it through the API.

use axum::{body::Body, http::Request};
use serde_json::Value;
use voiceforge::auth::Role;

use crate::{
    harness::TestApp,
    webhooks::{ADMIN_TOKEN, deliver, membership, ms, spawn},
};

async fn patch_limits(t: &TestApp, bearer: &str, body: &str) -> crate::harness::TestResponse {
    t.request(
        Request::patch("/api/organizations/limits")
            .header("authorization", format!("Bearer {bearer}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

/// org_a: two webhook memberships, a role change, a limit change; org_b: one membership.
async fn history(t: &TestApp) {
    let at = ms();
    deliver(t, &membership("organizationMembership.created", "org_a", "user_admin", "org:admin", at)).await;
    deliver(t, &membership("organizationMembership.created", "org_a", "user_m", "org:member", at + 1)).await;
    deliver(t, &membership("organizationMembership.updated", "org_a", "user_m", "org:admin", at + 2)).await;
    deliver(t, &membership("organizationMembership.created", "org_b", "user_b", "org:admin", at)).await;
    let res = patch_limits(t, ADMIN_TOKEN, r#"{"organization": "org_a", "max_crawls_per_month": 20}"#).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
}

#[tokio::test]
async fn admins_page_through_the_log_newest_first_and_filter_by_action_and_actor() {
    let t = spawn().await;
    history(&t).await;
    let admin = t.token("org_a", "user_admin", Role::Admin);
    let all = t.get("/api/audit", &admin).await.json();
    assert_eq!(actions(&all), ["limits.updated", "membership.updated", "membership.created", "membership.created"]);
    let limits = &all["items"][0];
    assert_eq!(limits["target_type"], "organization");
    assert_eq!(limits["target_id"], "org_a");
    assert_eq!(limits["system"], true);
    assert!(limits["actor"].as_str().unwrap().starts_with("system: operator"), "{limits}");
    assert_eq!(limits["details"]["before"]["max_crawls_per_month"], 10);
    assert_eq!(limits["details"]["after"]["max_crawls_per_month"], 20);
    assert!(limits["request_id"].as_str().is_some_and(|r| !r.is_empty()), "{limits}");
    assert!(limits["occurred_at"].as_str().unwrap().ends_with('Z'));

    let first = t.get("/api/audit?limit=3", &admin).await.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = t.get(&format!("/api/audit?limit=3&cursor={cursor}"), &admin).await.json();
    assert_eq!(actions(&second), ["membership.created"]);
    assert!(second["next_cursor"].is_null());

    let created = t.get("/api/audit?action=membership.created", &admin).await.json();
    assert_eq!(actions(&created), ["membership.created", "membership.created"]);
    let memberships = t.get("/api/audit?action=membership.*", &admin).await.json();
    assert_eq!(memberships["items"].as_array().unwrap().len(), 3);
    let system = t.get("/api/audit?actor=system", &admin).await.json();
    assert_eq!(system["items"].as_array().unwrap().len(), 4);
    let by_user = t.get("/api/audit?actor=user_admin", &admin).await.json();
    assert!(by_user["items"].as_array().unwrap().is_empty());

    for bad in ["action=crawl%25", "action=*", "actor=a%20b", "limit=0", "cursor=nope"] {
        let res = t.get(&format!("/api/audit?{bad}"), &admin).await;
        assert_eq!(res.status, 400, "{bad}");
    }
    // Another organization sees only its own.
    let other = t.get("/api/audit", &t.token("org_b", "user_b", Role::Admin)).await.json();
    assert_eq!(actions(&other), ["membership.created"]);
}

#[tokio::test]
async fn members_get_403_on_admin_endpoints() {
    let t = spawn().await;
    history(&t).await;
    let member = t.token("org_a", "user_plain", Role::Member);
    t.get("/api/audit", &member).await.assert_problem(403, "admin_required");
    let body = r#"{"organization": "org_a", "max_users": 50}"#;
    patch_limits(&t, &member, body).await.assert_problem(403, "operator_required");
    patch_limits(&t, &member, "not even json").await.assert_problem(403, "operator_required");
    let org_admin = t.token("org_a", "user_admin", Role::Admin);
    patch_limits(&t, &org_admin, body).await.assert_problem(403, "operator_required");
    patch_limits(&t, "not-the-operator-token", body).await.assert_problem(401, "malformed_token");
    let anonymous = t
        .request(
            Request::patch("/api/organizations/limits")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    anonymous.assert_problem(401, "missing_token");
    let current = t.get("/api/organizations/current", &org_admin).await.json();
    assert_eq!(current["organization"]["limits"]["max_users"], 5, "nothing changed");
}

#[tokio::test]
async fn audit_entries_cannot_be_changed_through_the_api() {
    let t = spawn().await;
    history(&t).await;
    let admin = t.token("org_a", "user_admin", Role::Admin);
    let before = t.get("/api/audit", &admin).await.json();
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let res = t
            .request(
                Request::builder()
                    .method(method)
                    .uri("/api/audit")
                    .header("authorization", format!("Bearer {admin}"))
                    .header("content-type", "application/json")
                    .body(Body::from(r#"{"action": "forged"}"#))
                    .unwrap(),
            )
            .await;
        res.assert_problem(405, "method_not_allowed");
    }
    assert_eq!(t.get("/api/audit", &admin).await.json()["items"], before["items"]);
}
