//! The application and database walls between organizations.

use voiceforge::{
    auth::{Identity, Role},
    tenancy::{System, Tenant},
};

use crate::harness::TestApp;

fn identity(org: &str, user: &str, role: Role) -> Identity {
    Identity {
        user_id: user.into(),
        session_id: "sess_test".into(),
        org_id: org.into(),
        org_slug: None,
        org_name: None,
        role,
        // The organizations of these tests are made through the API with dev tokens.
        issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
    }
}

/// Two organizations with two members each, created through the API.
async fn two_orgs(t: &TestApp) {
    for (org, user) in [("org_a", "user_a1"), ("org_a", "user_a2"), ("org_b", "user_b1"), ("org_b", "user_b2")] {
        let res = t.get("/api/organizations/current", &t.token(org, user, Role::Member)).await;
        assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    }
}

#[tokio::test]
async fn a_query_that_forgets_where_org_id_still_sees_only_its_own_organization() {
    let t = TestApp::spawn().await;
    two_orgs(&t).await;
    assert_eq!(t.count_all("memberships").await, 4);

    let mut tenant = Tenant::begin(&t.app.db, &identity("org_a", "user_a1", Role::Member)).await.unwrap();
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM memberships").fetch_one(tenant.conn()).await.unwrap();
    let orgs: Vec<String> =
        sqlx::query_scalar("SELECT clerk_org_id FROM organizations").fetch_all(tenant.conn()).await.unwrap();
    let users: Vec<String> =
        sqlx::query_scalar("SELECT clerk_user_id FROM users ORDER BY 1").fetch_all(tenant.conn()).await.unwrap();
    assert_eq!(members, 2);
    assert_eq!(orgs, ["org_a"]);
    assert_eq!(users, ["user_a1", "user_a2"]);
}

#[tokio::test]
async fn without_a_tenant_context_every_tenant_table_reads_empty() {
    let t = TestApp::spawn().await;
    two_orgs(&t).await;
    for table in
        ["organizations", "users", "memberships", "usage_counters", "usage_events", "audit_events", "system_events"]
    {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&t.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} leaked rows without a tenant context");
    }
}

#[tokio::test]
async fn writing_another_organizations_rows_is_rejected_by_the_database() {
    let t = TestApp::spawn().await;
    two_orgs(&t).await;
    let org_b: uuid::Uuid = {
        let mut sys = System::begin(&t.app.db, "test: look up org_b").await.unwrap();
        sqlx::query_scalar("SELECT id FROM organizations WHERE clerk_org_id = 'org_b'")
            .fetch_one(sys.conn())
            .await
            .unwrap()
    };

    let mut tenant = Tenant::begin(&t.app.db, &identity("org_a", "user_a1", Role::Admin)).await.unwrap();
    let user_id = tenant.user_id().unwrap();
    let insert = sqlx::query("INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'admin')")
        .bind(org_b)
        .bind(user_id)
        .execute(tenant.conn())
        .await
        .unwrap_err();
    assert!(insert.to_string().contains("row-level security"), "{insert}");

    let mut tenant = Tenant::begin(&t.app.db, &identity("org_a", "user_a1", Role::Admin)).await.unwrap();
    let updated = sqlx::query("UPDATE memberships SET role = 'admin' WHERE org_id = $1")
        .bind(org_b)
        .execute(tenant.conn())
        .await
        .unwrap();
    let deleted =
        sqlx::query("DELETE FROM organizations WHERE id = $1").bind(org_b).execute(tenant.conn()).await.unwrap();
    assert_eq!((updated.rows_affected(), deleted.rows_affected()), (0, 0));
}

#[tokio::test]
async fn audit_rows_cannot_be_changed_even_by_their_own_organization() {
    let t = TestApp::spawn().await;
    let mut tenant = Tenant::begin(&t.app.db, &identity("org_a", "user_a1", Role::Admin)).await.unwrap();
    let org_id = tenant.org().id;
    sqlx::query("INSERT INTO audit_events (org_id, actor_label, action) VALUES ($1, 'user_a1', 'test.action')")
        .bind(org_id)
        .execute(tenant.conn())
        .await
        .unwrap();
    let updated = sqlx::query("UPDATE audit_events SET action = 'forged'").execute(tenant.conn()).await.unwrap();
    let deleted = sqlx::query("DELETE FROM audit_events").execute(tenant.conn()).await.unwrap();
    assert_eq!((updated.rows_affected(), deleted.rows_affected()), (0, 0));
    let action: String = sqlx::query_scalar("SELECT action FROM audit_events").fetch_one(tenant.conn()).await.unwrap();
    assert_eq!(action, "test.action");
}

#[tokio::test]
async fn the_system_path_sees_every_organization_and_leaves_a_trace() {
    let t = TestApp::spawn().await;
    two_orgs(&t).await;
    let mut sys = System::begin(&t.app.db, "test: count organizations").await.unwrap();
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations").fetch_one(sys.conn()).await.unwrap();
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT reason FROM system_events").fetch_all(sys.conn()).await.unwrap();
    sys.commit().await.unwrap();
    assert_eq!(orgs, 2);
    assert_eq!(reasons, ["test: count organizations"]);
}

#[tokio::test]
async fn the_sixth_member_is_refused_and_nothing_of_theirs_is_stored() {
    let t = TestApp::spawn().await;
    for i in 1..=5 {
        let res = t.get("/api/organizations/current", &t.token("org_a", &format!("user_{i}"), Role::Member)).await;
        assert_eq!(res.status, 200);
    }
    let res = t.get("/api/organizations/current", &t.token("org_a", "user_6", Role::Member)).await;
    res.assert_problem(403, "seat_limit_reached");
    assert_eq!(t.count_all("memberships").await, 5);
    assert_eq!(t.count_all("users").await, 5, "the refused user must not be stored");
    // Existing members keep working.
    assert_eq!(t.get("/api/organizations/current", &t.token("org_a", "user_1", Role::Member)).await.status, 200);
}

#[tokio::test]
async fn concurrent_first_requests_fill_exactly_five_seats() {
    let t = TestApp::spawn().await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let router = t.router.clone();
            let token = t.token("org_race", &format!("user_{i}"), Role::Member);
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::get("/api/organizations/current")
                    .header("authorization", format!("Bearer {token}"))
                    .body(axum::body::Body::empty())
                    .unwrap();
                router.oneshot(req).await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [[200; 5].as_slice(), [403; 45].as_slice()].concat());
    assert_eq!(t.count_all("memberships").await, 5);
    assert_eq!(t.count_all("organizations").await, 1);
}

#[tokio::test]
async fn a_role_change_in_the_token_updates_the_membership() {
    let t = TestApp::spawn().await;
    let res = t.get("/api/organizations/current", &t.token("org_a", "user_a1", Role::Member)).await;
    assert_eq!(res.json()["role"], "member");
    let res = t.get("/api/organizations/current", &t.token("org_a", "user_a1", Role::Admin)).await;
    assert_eq!(res.json()["role"], "admin");
    let res = t.get("/api/organizations/users", &t.token("org_a", "user_a1", Role::Admin)).await;
    assert_eq!(res.json()["items"][0]["role"], "admin");
}
