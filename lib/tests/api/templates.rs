//! Templates: CRUD, who may change what, built-ins, placeholder validation, isolation.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};
use voiceforge::auth::Role;

use crate::harness::{TestApp, TestResponse};

/// Sends `method path` with a bearer token and an optional JSON body.
pub async fn send(t: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> TestResponse {
    let builder = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {token}"));
    let request = match body {
        Some(b) => builder.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => builder.body(Body::empty()),
    };
    t.request(request.unwrap()).await
}

fn email_template(name: &str) -> Value {
    json!({
        "name": name, "kind": "email", "description": "Launch news",
        "instructions": "Announce {{product}} to {{ audience }}.",
        "fields": [{"name": "product", "label": "Product", "required": true, "max_length": 100},
                   {"name": "audience", "label": "Audience"}],
        "target_length": 120, "tone": "upbeat"
    })
}

#[tokio::test]
async fn members_create_templates_and_only_the_creator_or_an_admin_changes_them() {
    let t = TestApp::spawn().await;
    let (alice, bob, admin) = (
        t.token("org_t", "user_alice", Role::Member),
        t.token("org_t", "user_bob", Role::Member),
        t.token("org_t", "user_admin", Role::Admin),
    );
    let res = send(&t, "POST", "/api/templates", &alice, Some(email_template("Launch"))).await;
    assert_eq!(res.status, 201, "{}", String::from_utf8_lossy(&res.body));
    let created = res.json();
    assert_eq!((created["kind"].as_str(), created["created_by"].as_str()), (Some("email"), Some("user_alice")));
    assert_eq!(created["fields"][1]["max_length"], 2000);
    assert_eq!(created["fields"][1]["required"], false);
    let path = format!("/api/templates/{}", created["id"].as_str().unwrap());

    send(&t, "PATCH", &path, &bob, Some(json!({"name": "Bob's"}))).await.assert_problem(403, "not_template_owner");
    send(&t, "DELETE", &path, &bob, None).await.assert_problem(403, "not_template_owner");
    let res = send(&t, "PATCH", &path, &alice, Some(json!({"description": "Edited", "tone": null}))).await;
    assert_eq!(res.status, 200);
    assert_eq!((res.json()["description"].as_str(), res.json()["tone"].is_null()), (Some("Edited"), true));
    assert_eq!(res.json()["name"], "Launch");
    let res = send(&t, "PATCH", &path, &admin, Some(json!({"target_length": 200}))).await;
    assert_eq!(res.json()["target_length"], 200);

    send(&t, "POST", "/api/templates", &bob, Some(email_template("Launch")))
        .await
        .assert_problem(409, "template_name_taken");
    let other = send(&t, "POST", "/api/templates", &bob, Some(email_template("Other"))).await.json();
    let res = send(&t, "PATCH", &path, &alice, Some(json!({"name": "Other"}))).await;
    res.assert_problem(409, "template_name_taken");
    assert!(other["id"].is_string());

    assert_eq!(send(&t, "DELETE", &path, &admin, None).await.status, 204);
    send(&t, "GET", &path, &alice, None).await.assert_problem(404, "not_found");
    let audit: i64 = t.count_all("audit_events WHERE action LIKE 'template.%'").await;
    assert_eq!(audit, 5, "created ×2, updated ×2, deleted");
}

#[tokio::test]
async fn every_org_starts_with_the_builtins_and_can_copy_them() {
    let t = TestApp::spawn().await;
    let (member, admin) = (t.token("org_b", "user_m", Role::Member), t.token("org_b", "user_a", Role::Admin));
    let list = send(&t, "GET", "/api/templates", &member, None).await.json();
    let items = list["items"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    assert!(items.iter().all(|i| i["builtin"].is_string() && i["created_by"].is_null()));
    let blog = items.iter().find(|i| i["builtin"] == "blog_post").unwrap();
    let blog_path = format!("/api/templates/{}", blog["id"].as_str().unwrap());

    // A member cannot change a built-in but can copy it and edit the copy.
    send(&t, "PATCH", &blog_path, &member, Some(json!({"tone": "dry"})))
        .await
        .assert_problem(403, "not_template_owner");
    let copy = send(&t, "POST", "/api/templates", &member, Some(json!({"copy_of": blog["id"], "tone": "dry"}))).await;
    assert_eq!(copy.status, 201);
    let copy = copy.json();
    assert_eq!((copy["name"].as_str(), copy["tone"].as_str()), (Some("Blog post (copy)"), Some("dry")));
    assert_eq!(copy["instructions"], blog["instructions"]);
    assert!(copy["builtin"].is_null());
    assert_eq!(copy["created_by"], "user_m");

    // A built-in an admin deleted does not come back; listing twice does not seed twice.
    assert_eq!(send(&t, "DELETE", &blog_path, &admin, None).await.status, 204);
    let again = send(&t, "GET", "/api/templates?limit=100", &member, None).await.json();
    assert_eq!(again["items"].as_array().unwrap().len(), 6, "5 built-ins + the copy");
    assert!(!again["items"].as_array().unwrap().iter().any(|i| i["builtin"] == "blog_post"));
    let page = send(&t, "GET", "/api/templates?limit=4", &member, None).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = send(&t, "GET", &format!("/api/templates?limit=4&cursor={cursor}"), &member, None).await.json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn placeholder_and_field_errors_are_400s_that_name_the_field() {
    let t = TestApp::spawn().await;
    let token = t.token("org_v", "user_v", Role::Member);
    let mut bad = email_template("Bad");
    bad["instructions"] = json!("Announce {{prodcut}}.");
    let res = send(&t, "POST", "/api/templates", &token, Some(bad)).await;
    res.assert_problem(400, "unknown_placeholder");
    assert!(res.json()["detail"].as_str().unwrap().contains("{{prodcut}}"));

    let mut unclosed = email_template("Bad");
    unclosed["instructions"] = json!("Announce {{product");
    send(&t, "POST", "/api/templates", &token, Some(unclosed)).await.assert_problem(400, "invalid_placeholder");

    let mut fields = email_template("Bad");
    fields["fields"][1]["name"] = json!("Audience!");
    let res = send(&t, "POST", "/api/templates", &token, Some(fields)).await;
    res.assert_problem(400, "invalid_template");
    assert!(res.json()["detail"].as_str().unwrap().starts_with("fields[1].name"));

    let mut kind = email_template("Bad");
    kind["kind"] = json!("poem");
    let res = send(&t, "POST", "/api/templates", &token, Some(kind)).await;
    res.assert_problem(400, "invalid_body");
    assert!(res.json()["detail"].as_str().unwrap().contains("kind"));

    let mut long = email_template("x");
    long["name"] = json!("n".repeat(101));
    send(&t, "POST", "/api/templates", &token, Some(long)).await.assert_problem(400, "invalid_template");
    let mut huge = email_template("Huge");
    huge["instructions"] = json!("{{product}}".repeat(1000));
    send(&t, "POST", "/api/templates", &token, Some(huge)).await.assert_problem(400, "invalid_template");
    assert_eq!(t.count_all("marketing_templates").await, 0);
}

#[tokio::test]
async fn another_orgs_template_is_404_for_every_method() {
    let t = TestApp::spawn().await;
    let (a, b) = (t.token("org_one", "user_1", Role::Admin), t.token("org_two", "user_2", Role::Admin));
    let created = send(&t, "POST", "/api/templates", &a, Some(email_template("Mine"))).await.json();
    let path = format!("/api/templates/{}", created["id"].as_str().unwrap());
    send(&t, "GET", &path, &b, None).await.assert_problem(404, "not_found");
    send(&t, "PATCH", &path, &b, Some(json!({"name": "Stolen"}))).await.assert_problem(404, "not_found");
    send(&t, "DELETE", &path, &b, None).await.assert_problem(404, "not_found");
    send(&t, "POST", "/api/templates", &b, Some(json!({"copy_of": created["id"]})))
        .await
        .assert_problem(404, "not_found");
    let listed = send(&t, "GET", "/api/templates?limit=100", &b, None).await.json();
    assert!(!listed["items"].as_array().unwrap().iter().any(|i| i["id"] == created["id"]));
    assert_eq!(send(&t, "GET", &path, &a, None).await.status, 200);
    send(&t, "GET", "/api/templates/not-a-uuid", &a, None).await.assert_problem(404, "not_found");
}
