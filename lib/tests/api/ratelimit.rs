//! Rate limits at the edge: token buckets per member and per organization, shared through
//! Postgres, never overdrawn by a concurrent burst.

use std::time::Instant;

use voiceforge::auth::Role;

use crate::harness::{TestApp, TestResponse, call, get_with_token};

async fn burst(t: &TestApp, requests: Vec<(String, String)>) -> Vec<TestResponse> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(path, token)| {
            let router = t.router.clone();
            tokio::spawn(async move { call(&router, get_with_token(&path, &token)).await })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_concurrent_burst_never_passes_more_than_the_bucket_holds() {
    let t = TestApp::spawn_with(&[("RATE_LIMIT_READS", "5,1000")]).await;
    let token = t.token("org_burst", "user_b", Role::Member);
    let started = Instant::now();
    let responses =
        burst(&t, (0..50).map(|_| ("/api/organizations/current".to_owned(), token.clone())).collect()).await;
    // The bucket refills 5 a minute: a slow machine may earn a token during the burst.
    let earned = (started.elapsed().as_secs_f64() * 5.0 / 60.0).floor() as usize;
    let passed = responses.iter().filter(|r| r.status == 200).count();
    assert!((5..=5 + earned).contains(&passed), "{passed} passed (earned {earned})");
    for refused in responses.iter().filter(|r| r.status != 200) {
        refused.assert_problem(429, "rate_limited");
        let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=12).contains(&retry), "Retry-After {retry}");
    }
    // Refused calls are not counted as API calls; the passed ones are.
    let calls: i64 = crate::webhooks::system_scalar(
        &t,
        "SELECT value FROM usage_counters c JOIN organizations o ON o.id = c.org_id
          WHERE o.clerk_org_id = $1 AND c.metric = 'api_calls'",
        "org_burst",
    )
    .await;
    assert_eq!(calls as usize, passed);
}

#[tokio::test]
async fn the_organization_bucket_limits_all_members_together() {
    let t = TestApp::spawn_with(&[("RATE_LIMIT_READS", "100,4")]).await;
    let mut requests = Vec::new();
    for user in ["user_1", "user_2", "user_3"] {
        let token = t.token("org_shared", user, Role::Member);
        requests.extend((0..3).map(|_| ("/api/organizations/current".to_owned(), token.clone())));
    }
    let responses = burst(&t, requests).await;
    assert_eq!(responses.iter().filter(|r| r.status == 200).count(), 4);
    let statuses: Vec<_> =
        responses.iter().map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned())).collect();
    let refused = responses.iter().find(|r| r.status == 429).unwrap_or_else(|| panic!("{statuses:?}"));
    assert!(refused.json()["detail"].as_str().unwrap().contains("organization"), "{}", refused.json());
    // Another organization has buckets of its own.
    assert_eq!(t.get("/api/organizations/current", &t.token("org_other", "user_1", Role::Member)).await.status, 200);
}

#[tokio::test]
async fn a_request_refused_by_the_organization_gives_the_members_token_back() {
    let t = TestApp::spawn_with(&[("RATE_LIMIT_READS", "3,1")]).await;
    let token = t.token("org_rb", "user_rb", Role::Member);
    assert_eq!(t.get("/api/organizations/current", &token).await.status, 200);
    t.get("/api/organizations/current", &token).await.assert_problem(429, "rate_limited");
    // Full bucket of 3, one taken by the request that passed; the refused one took nothing.
    let left: f64 = crate::webhooks::system_scalar(
        &t,
        "SELECT b.tokens FROM rate_limit_buckets b JOIN organizations o ON o.id = b.org_id
          WHERE o.clerk_org_id = $1 AND b.bucket LIKE 'user:%:reads'",
        "org_rb",
    )
    .await;
    assert!((2.0..2.5).contains(&left), "{left}");
}

#[tokio::test]
async fn a_zero_budget_turns_the_limit_off() {
    let t = TestApp::spawn_with(&[("RATE_LIMIT_READS", "0,0")]).await;
    let token = t.token("org_free", "user_f", Role::Member);
    let responses =
        burst(&t, (0..10).map(|_| ("/api/organizations/current".to_owned(), token.clone())).collect()).await;
    assert!(responses.iter().all(|r| r.status == 200));
    assert_eq!(t.count_all("rate_limit_buckets").await, 0);
}

#[tokio::test]
async fn reads_and_writes_draw_from_buckets_of_their_own() {
    use axum::{Router, body::Body, http::Request, routing::get};
    use voiceforge::{error::ApiError, http::extract::InTenant};

    async fn touch(InTenant(tenant): InTenant) -> Result<&'static str, ApiError> {
        tenant.commit().await?;
        Ok("ok")
    }
    let t = TestApp::spawn_with(&[("RATE_LIMIT_READS", "2,100"), ("RATE_LIMIT_WRITES", "1,100")]).await;
    // A route outside the table takes its class from the method: GET reads, POST writes.
    let router = voiceforge::http::with_middleware(
        Router::new().route("/api/test/touch", get(touch).post(touch)).with_state(t.app.clone()),
        &t.app.settings,
    );
    let token = t.token("org_cls", "user_c", Role::Member);
    let send = |method: &str| {
        Request::builder()
            .method(method)
            .uri("/api/test/touch")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let mut statuses = Vec::new();
    for method in ["GET", "GET", "POST", "GET", "POST"] {
        statuses.push(call(&router, send(method)).await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}
