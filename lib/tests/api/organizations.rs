//! The organization endpoints: current org, members and seats, usage against limits.

use voiceforge::{auth::Role, tenancy::System};

use crate::harness::TestApp;

#[tokio::test]
async fn current_shows_the_org_by_its_clerk_id_with_default_limits() {
    let t = TestApp::spawn().await;
    let body = t.get("/api/organizations/current", &t.token("org_acme", "user_alice", Role::Admin)).await.json();
    assert_eq!(body["organization"]["id"], "org_acme");
    assert_eq!(body["organization"]["slug"], "acme");
    assert_eq!(body["user"]["id"], "user_alice");
    assert_eq!(body["role"], "admin");
    assert_eq!(
        body["organization"]["limits"],
        serde_json::json!({"max_users": 5, "max_content_items": 1000, "max_crawls_per_month": 10})
    );
}

#[tokio::test]
async fn members_are_listed_in_seat_order_with_pages_and_seat_counts() {
    let t = TestApp::spawn().await;
    for user in ["user_1", "user_2", "user_3"] {
        t.get("/api/organizations/current", &t.token("org_a", user, Role::Member)).await;
    }
    t.get("/api/organizations/current", &t.token("org_b", "user_other", Role::Member)).await;
    let token = t.token("org_a", "user_1", Role::Admin);
    let first = t.get("/api/organizations/users?limit=2", &token).await.json();
    assert_eq!(first["seats"], serde_json::json!({"used": 3, "limit": 5}));
    let ids: Vec<&str> = first["items"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["user_1", "user_2"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = t.get(&format!("/api/organizations/users?limit=2&cursor={cursor}"), &token).await.json();
    assert_eq!(second["items"][0]["user_id"], "user_3");
    assert!(second["next_cursor"].is_null());

    t.get("/api/organizations/users?limit=0", &token).await.assert_problem(400, "invalid_limit");
    t.get("/api/organizations/users?cursor=garbage", &token).await.assert_problem(400, "invalid_cursor");
}

#[tokio::test]
async fn members_beyond_a_lowered_seat_limit_are_marked_and_locked_out() {
    let t = TestApp::spawn().await;
    for user in ["user_1", "user_2", "user_3"] {
        t.get("/api/organizations/current", &t.token("org_a", user, Role::Member)).await;
    }
    let mut sys = System::begin(&t.app.db, "test: lower seats").await.unwrap();
    sqlx::query("UPDATE organizations SET max_users = 2 WHERE clerk_org_id = 'org_a'")
        .execute(sys.conn())
        .await
        .unwrap();
    sys.commit().await.unwrap();

    let list = t.get("/api/organizations/users", &t.token("org_a", "user_1", Role::Admin)).await.json();
    let over: Vec<bool> =
        list["items"].as_array().unwrap().iter().map(|m| m["over_limit"].as_bool().unwrap()).collect();
    assert_eq!(over, [false, false, true]);
    t.get("/api/organizations/current", &t.token("org_a", "user_3", Role::Member))
        .await
        .assert_problem(403, "seat_limit_reached");
}

#[tokio::test]
async fn another_organizations_member_is_404_exactly_like_a_missing_one() {
    let t = TestApp::spawn().await;
    t.get("/api/organizations/current", &t.token("org_b", "user_bob", Role::Admin)).await;
    let alice = t.token("org_a", "user_alice", Role::Admin);
    let own = t.get("/api/organizations/users/user_alice", &alice).await;
    assert_eq!(own.json()["user_id"], "user_alice");
    let other = t.get("/api/organizations/users/user_bob", &alice).await;
    let missing = t.get("/api/organizations/users/user_nobody", &alice).await;
    other.assert_problem(404, "not_found");
    missing.assert_problem(404, "not_found");
    assert_eq!(other.json()["detail"], missing.json()["detail"]);
}

#[tokio::test]
async fn usage_counts_members_and_warns_at_eighty_and_a_hundred_percent() {
    let t = TestApp::spawn().await;
    for user in ["user_1", "user_2", "user_3", "user_4"] {
        t.get("/api/organizations/current", &t.token("org_a", user, Role::Member)).await;
    }
    let token = t.token("org_a", "user_1", Role::Admin);
    let report = t.get("/api/organizations/usage", &token).await.json();
    let users = &report["metrics"][0];
    assert_eq!(
        (users["metric"].as_str(), users["used"].as_i64(), users["limit"].as_i64(), users["percent"].as_i64()),
        (Some("users"), Some(4), Some(5), Some(80))
    );
    assert_eq!(report["warnings"].as_array().unwrap().len(), 1);
    assert_eq!(report["warnings"][0]["level"], "warning");

    // Ten crawls recorded this month reach the monthly limit of ten.
    let mut sys = System::begin(&t.app.db, "test: record crawls").await.unwrap();
    sqlx::query(
        "INSERT INTO usage_counters (org_id, metric, period, value)
         SELECT id, 'crawls', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), 10 FROM organizations WHERE clerk_org_id = 'org_a'",
    )
    .execute(sys.conn())
    .await
    .unwrap();
    sys.commit().await.unwrap();
    let report = t.get("/api/organizations/usage", &token).await.json();
    let crawls = report["warnings"].as_array().unwrap().iter().find(|w| w["metric"] == "crawls").unwrap();
    assert_eq!(crawls["level"], "limit_reached");

    // Another organization sees none of it; a past month starts from zero.
    let other = t.get("/api/organizations/usage", &t.token("org_b", "user_b", Role::Admin)).await.json();
    assert!(other["warnings"].as_array().unwrap().is_empty());
    let past = t.get("/api/organizations/usage?period=2020-01", &token).await.json();
    assert_eq!(past["period"], "2020-01");
    assert_eq!(past["metrics"][2]["used"], 0);
    t.get("/api/organizations/usage?period=2020-13", &token).await.assert_problem(400, "invalid_period");
}
