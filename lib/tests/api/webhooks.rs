//! `POST /api/webhooks/clerk`: Svix signatures at the HTTP edge, once-only processing, and
//! every Clerk event in and out of order.

use axum::{body::Body, http::Request};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use voiceforge::{
    auth::{Identity, Role},
    content::{self, NewContent, Source},
    tenancy::Tenant,
};

use crate::harness::{TestApp, TestResponse};

/// The endpoint secret of these tests (Svix's documentation example).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const ADMIN_TOKEN: &str = "operator-token-for-tests-0123456789";

pub async fn spawn() -> TestApp {
    TestApp::spawn_with(&[("CLERK_WEBHOOK_SIGNING_SECRET", SECRET), ("VOICEFORGE_ADMIN_TOKEN", ADMIN_TOKEN)]).await
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `v1,<base64 HMAC-SHA256>` of `id.ts.body` (the tests' own signer; the Python one is below).
pub fn sign(id: &str, ts: i64, body: &[u8]) -> String {
    let key = STANDARD.decode(SECRET.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

pub async fn post_signed(t: &TestApp, id: &str, ts: i64, body: &[u8], signature: &str) -> TestResponse {
    t.request(
        Request::post("/api/webhooks/clerk")
            .header("content-type", "application/json")
            .header("svix-id", id)
            .header("svix-timestamp", ts.to_string())
            .header("svix-signature", signature)
            .body(Body::from(body.to_vec()))
            .unwrap(),
    )
    .await
}

/// Delivers `event` under a fresh svix-id, signed now; asserts 200 and returns the status.
pub async fn deliver(t: &TestApp, event: &Value) -> String {
    let body = serde_json::to_vec(event).unwrap();
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let ts = now();
    let res = post_signed(t, &id, ts, &body, &sign(&id, ts, &body)).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    res.json()["status"].as_str().unwrap().to_owned()
}

/// A Clerk envelope; `at_ms` is the event's time.
pub fn envelope(kind: &str, data: Value, at_ms: i64) -> Value {
    json!({"data": data, "object": "event", "type": kind, "timestamp": at_ms, "instance_id": "ins_test"})
}

pub fn membership(kind: &str, org: &str, user: &str, role: &str, at_ms: i64) -> Value {
    envelope(
        kind,
        json!({
            "id": format!("orgmem_{org}_{user}"), "object": "organization_membership", "role": role,
            "permissions": ["org:sys_profile:read"], "public_metadata": {}, "private_metadata": {},
            "created_at": at_ms, "updated_at": at_ms,
            "organization": {"id": org, "object": "organization", "name": format!("Org {org}"), "slug": org.replace('_', "-"),
                              "image_url": "", "has_image": false, "max_allowed_memberships": 5, "admin_delete_enabled": true,
                              "public_metadata": {}, "created_at": at_ms, "updated_at": at_ms},
            "public_user_data": {"user_id": user, "identifier": format!("{user}@example.test"), "first_name": "Pat",
                                 "last_name": user, "image_url": "", "has_image": false}
        }),
        at_ms,
    )
}

pub fn ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() * 1000
}

/// Scalar query through the system path.
pub async fn system_scalar<T>(t: &TestApp, sql: &str, bind: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut tx = t.db.pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).bind(bind).fetch_one(&mut *tx).await.unwrap()
}

async fn audit_actions(t: &TestApp, clerk_org: &str) -> Vec<String> {
    let mut tx = t.db.pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
    sqlx::query_scalar(
        "SELECT a.action FROM audit_events a JOIN organizations o ON o.id = a.org_id
          WHERE o.clerk_org_id = $1 ORDER BY a.occurred_at, a.action",
    )
    .bind(clerk_org)
    .fetch_all(&mut *tx)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_full_clerk_payload_signed_with_pythons_hmac_is_accepted_and_applied() {
    let t = spawn().await;
    let ts = now();
    let id = "msg_2pyKnownAnswer0000000000001";
    let body =
        serde_json::to_vec(&membership("organizationMembership.created", "org_py", "user_py", "org:admin", ts * 1000))
            .unwrap();
    // Computed by Python's standard library, independently of this crate's code.
    let script = "import base64,hashlib,hmac,sys\n\
                  key = base64.b64decode(sys.argv[1].split('_', 1)[1])\n\
                  msg = (sys.argv[2] + '.' + sys.argv[3] + '.').encode() + sys.stdin.buffer.read()\n\
                  print('v1,' + base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode())";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, SECRET, id, &ts.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is required by the test suite (README)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let signature = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(signature, sign(id, ts, &body), "the test signer agrees with Python");

    let res = post_signed(&t, id, ts, &body, &signature).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["status"], "processed");
    let list = t.get("/api/organizations/users", &t.token("org_py", "user_py", Role::Admin)).await.json();
    assert_eq!(list["items"][0]["user_id"], "user_py");
    assert_eq!(list["items"][0]["email"], "user_py@example.test");
    assert_eq!(list["items"][0]["name"], "Pat user_py");
    assert_eq!(list["items"][0]["role"], "admin");
    assert_eq!(audit_actions(&t, "org_py").await, ["membership.created"]);
}

#[tokio::test]
async fn a_one_bit_change_or_a_wrong_secret_is_401_and_changes_nothing() {
    let t = spawn().await;
    let ts = now();
    let body =
        serde_json::to_vec(&membership("organizationMembership.created", "org_x", "user_x", "org:admin", ts * 1000))
            .unwrap();
    let signature = sign("msg_bit", ts, &body);
    let mut flipped = body.clone();
    flipped[20] ^= 0x01;
    post_signed(&t, "msg_bit", ts, &flipped, &signature).await.assert_problem(401, "invalid_signature");
    post_signed(&t, "msg_bit2", ts, &body, &signature).await.assert_problem(401, "invalid_signature");
    let mut sig_bytes = STANDARD.decode(&signature[3..]).unwrap();
    sig_bytes[0] ^= 0x80;
    let bad_sig = format!("v1,{}", STANDARD.encode(sig_bytes));
    post_signed(&t, "msg_bit", ts, &body, &bad_sig).await.assert_problem(401, "invalid_signature");
    let unsigned = t
        .request(
            Request::post("/api/webhooks/clerk")
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    unsigned.assert_problem(401, "missing_signature_headers");
    for table in ["organizations", "users", "memberships", "webhook_events", "audit_events"] {
        assert_eq!(t.count_all(table).await, 0, "{table} changed");
    }
    // The untouched delivery still goes through afterwards.
    assert_eq!(post_signed(&t, "msg_bit", ts, &body, &signature).await.status, 200);
}

#[tokio::test]
async fn several_signatures_in_one_header_pass_when_one_matches() {
    let t = spawn().await;
    let ts = now();
    let body = serde_json::to_vec(&envelope("user.created", json!({"id": "user_multi"}), ts * 1000)).unwrap();
    let good = sign("msg_multi", ts, &body);
    let header = format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,{} {good} v1,bm90LXRoaXM=", &good[3..]);
    let res = post_signed(&t, "msg_multi", ts, &body, &header).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let only_wrong = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1,bm90LXRoaXM=";
    post_signed(&t, "msg_multi2", ts, &body, only_wrong).await.assert_problem(401, "invalid_signature");
}

#[tokio::test]
async fn timestamps_within_five_minutes_pass_and_beyond_are_401() {
    let t = spawn().await;
    for (offset, ok) in [(-290, true), (290, true), (-310, false), (310, false), (-86_400, false)] {
        let ts = now() + offset;
        let id = format!("msg_tol_{}", offset.abs() + if offset < 0 { 0 } else { 1 });
        let body =
            serde_json::to_vec(&envelope("user.created", json!({"id": format!("user_{}", offset.abs())}), ts * 1000))
                .unwrap();
        let res = post_signed(&t, &id, ts, &body, &sign(&id, ts, &body)).await;
        if ok {
            assert_eq!(res.status, 200, "offset {offset}: {}", String::from_utf8_lossy(&res.body));
        } else {
            res.assert_problem(401, "timestamp_out_of_tolerance");
        }
    }
    assert_eq!(t.count_all("webhook_events").await, 2);
}

#[tokio::test]
async fn a_redelivery_is_acknowledged_without_repeating_its_effects_even_concurrently() {
    let t = spawn().await;
    let ts = now();
    let body =
        serde_json::to_vec(&membership("organizationMembership.created", "org_r", "user_r", "org:member", ts * 1000))
            .unwrap();
    let signature = sign("msg_replay", ts, &body);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (router, body, signature) = (t.router.clone(), body.clone(), signature.clone());
            tokio::spawn(async move {
                let req = Request::post("/api/webhooks/clerk")
                    .header("svix-id", "msg_replay")
                    .header("svix-timestamp", ts.to_string())
                    .header("svix-signature", signature)
                    .body(Body::from(body))
                    .unwrap();
                let res = crate::harness::call(&router, req).await;
                assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
                res.json()["status"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| *s == "processed").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 7, "{statuses:?}");
    // Later redelivery too.
    let again = post_signed(&t, "msg_replay", ts, &body, &signature).await;
    assert_eq!(again.json()["status"], "duplicate");
    assert_eq!(t.count_all("memberships").await, 1);
    assert_eq!(audit_actions(&t, "org_r").await, ["membership.created"]);
}

#[tokio::test]
async fn a_membership_before_its_user_and_org_creates_both_and_later_events_fill_them_in() {
    let t = spawn().await;
    let at = ms();
    assert_eq!(
        deliver(&t, &membership("organizationMembership.created", "org_o", "user_o", "admin", at)).await,
        "processed"
    );
    let user = json!({"id": "user_o", "object": "user", "first_name": "Olga", "last_name": "Ode", "username": null,
                      "primary_email_address_id": "idn_2",
                      "email_addresses": [{"id": "idn_1", "object": "email_address", "email_address": "old@o.test"},
                                          {"id": "idn_2", "object": "email_address", "email_address": "olga@o.test"}]});
    assert_eq!(deliver(&t, &envelope("user.created", user, at + 1)).await, "processed");
    let org = json!({"id": "org_o", "object": "organization", "name": "Oranges Inc", "slug": "oranges"});
    assert_eq!(deliver(&t, &envelope("organization.created", org, at + 2)).await, "processed");

    // The user signs in only now: the membership is already there, with the webhook's role.
    let token = t.token("org_o", "user_o", Role::Admin);
    let current = t.get("/api/organizations/current", &token).await.json();
    assert_eq!(
        (current["organization"]["name"].as_str(), current["role"].as_str()),
        (Some("Oranges Inc"), Some("admin"))
    );
    let me = t.get("/api/organizations/users/user_o", &token).await.json();
    assert_eq!((me["email"].as_str(), me["name"].as_str()), (Some("olga@o.test"), Some("Olga Ode")));
    assert_eq!(audit_actions(&t, "org_o").await, ["membership.created", "organization.updated"]);

    // A role change and a legacy role name.
    deliver(&t, &membership("organizationMembership.updated", "org_o", "user_o", "basic_member", at + 3)).await;
    let me = t.get("/api/organizations/users/user_o", &t.token("org_o", "user_o", Role::Member)).await.json();
    assert_eq!(me["role"], "member");
    assert!(audit_actions(&t, "org_o").await.contains(&"membership.updated".to_owned()));
}

#[tokio::test]
async fn deletions_delivered_before_creations_are_not_undone() {
    let t = spawn().await;
    let at = ms();
    // Organization: deleted, then the stale created arrives.
    deliver(
        &t,
        &envelope("organization.deleted", json!({"id": "org_gone", "object": "organization", "deleted": true}), at),
    )
    .await;
    let late = envelope("organization.created", json!({"id": "org_gone", "name": "Gone"}), at - 1000);
    assert_eq!(deliver(&t, &late).await, "ignored");
    let late_member = membership("organizationMembership.created", "org_gone", "user_g", "org:admin", at - 500);
    assert_eq!(deliver(&t, &late_member).await, "ignored");
    assert_eq!(t.count_all("organizations").await, 0);
    t.get("/api/organizations/current", &t.token("org_gone", "user_g", Role::Admin))
        .await
        .assert_problem(403, "organization_deleted");

    // User: deleted, then a stale created; their still-valid token is refused.
    deliver(&t, &envelope("user.deleted", json!({"id": "user_del", "object": "user", "deleted": true}), at)).await;
    assert_eq!(
        deliver(&t, &envelope("user.created", json!({"id": "user_del", "first_name": "Zed"}), at - 1000)).await,
        "ignored"
    );
    t.get("/api/organizations/current", &t.token("org_k", "user_del", Role::Admin))
        .await
        .assert_problem(403, "user_deleted");

    // Membership: removed, then the older created arrives late; a newer created re-adds.
    deliver(&t, &membership("organizationMembership.deleted", "org_k", "user_m", "org:member", at)).await;
    assert_eq!(
        deliver(&t, &membership("organizationMembership.created", "org_k", "user_m", "org:member", at - 1000)).await,
        "ignored"
    );
    assert_eq!(t.count_all("memberships").await, 0);
    assert_eq!(
        deliver(&t, &membership("organizationMembership.created", "org_k", "user_m", "org:member", at + 1000)).await,
        "processed"
    );
    assert_eq!(t.count_all("memberships").await, 1);
}

#[tokio::test]
async fn webhook_members_beyond_the_seat_limit_are_marked_and_refused() {
    let t = spawn().await;
    let at = ms();
    for i in 1..=6 {
        deliver(&t, &membership("organizationMembership.created", "org_s", &format!("user_{i}"), "org:member", at + i))
            .await;
    }
    let list = t.get("/api/organizations/users", &t.token("org_s", "user_1", Role::Admin)).await.json();
    let over: Vec<bool> =
        list["items"].as_array().unwrap().iter().map(|m| m["over_limit"].as_bool().unwrap()).collect();
    assert_eq!(over, [false, false, false, false, false, true]);
    assert_eq!(list["seats"], json!({"used": 6, "limit": 5}));
    t.get("/api/organizations/current", &t.token("org_s", "user_6", Role::Member))
        .await
        .assert_problem(403, "seat_limit_reached");
    assert_eq!(t.get("/api/organizations/current", &t.token("org_s", "user_5", Role::Member)).await.status, 200);

    // Removing an earlier member frees a seat for the sixth; the removed member's token,
    // minted before the removal, does not bring them back.
    deliver(&t, &membership("organizationMembership.deleted", "org_s", "user_2", "org:member", at + 10)).await;
    t.get("/api/organizations/current", &t.token("org_s", "user_2", Role::Member))
        .await
        .assert_problem(403, "membership_removed");
    assert_eq!(t.get("/api/organizations/current", &t.token("org_s", "user_6", Role::Member)).await.status, 200);
    let actions = audit_actions(&t, "org_s").await;
    assert_eq!(actions.iter().filter(|a| *a == "membership.created").count(), 6);
    assert_eq!(actions.iter().filter(|a| *a == "membership.deleted").count(), 1);
}

#[tokio::test]
async fn a_deleted_user_loses_every_membership_and_keeps_their_items() {
    let t = spawn().await;
    let at = ms();
    for org in ["org_u1", "org_u2"] {
        deliver(&t, &membership("organizationMembership.created", org, "user_leaving", "org:admin", at)).await;
    }
    let identity = Identity {
        user_id: "user_leaving".into(),
        session_id: "sess".into(),
        org_id: "org_u1".into(),
        org_slug: None,
        org_name: None,
        role: Role::Admin,
        issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
    };
    let mut tenant = Tenant::begin(&t.app.db, &identity).await.unwrap();
    let page = NewContent {
        source: Source::Manual,
        crawl_id: None,
        url: None,
        title: "Kept".into(),
        description: None,
        language: None,
        markdown: "Written by someone who leaves".into(),
    };
    content::store(&mut tenant, page).await.unwrap();
    tenant.commit().await.unwrap();

    deliver(&t, &envelope("user.deleted", json!({"id": "user_leaving", "object": "user", "deleted": true}), at + 1))
        .await;
    assert_eq!(t.count_all("memberships").await, 0);
    assert_eq!(t.count_all("contents").await, 1, "authored items stay");
    let author_deleted: bool = system_scalar(
        &t,
        "SELECT u.deleted_at IS NOT NULL AND u.email IS NULL FROM contents c JOIN users u ON u.id = c.created_by
          WHERE u.clerk_user_id = $1",
        "user_leaving",
    )
    .await;
    assert!(author_deleted, "the item stays attributed to the deleted user");
    for org in ["org_u1", "org_u2"] {
        assert_eq!(audit_actions(&t, org).await, ["membership.created", "membership.deleted"]);
    }
}

#[tokio::test]
async fn organization_deletion_leaves_no_row_of_it_in_any_table() {
    let t = spawn().await;
    let at = ms();
    // Data of every kind for org_del (and a neighbour that must keep its own).
    for org in ["org_del", "org_keep"] {
        deliver(&t, &membership("organizationMembership.created", org, "user_owner", "org:admin", at)).await;
        deliver(&t, &membership("organizationMembership.deleted", org, "user_left", "org:member", at)).await;
        let token = t.token(org, "user_owner", Role::Admin);
        assert_eq!(t.get("/api/organizations/usage", &token).await.status, 200);
        let identity = Identity {
            user_id: "user_owner".into(),
            session_id: "sess".into(),
            org_id: org.into(),
            org_slug: None,
            org_name: None,
            role: Role::Admin,
            issuer: voiceforge::auth::dev::DEV_ISSUER.into(),
        };
        let mut tenant = Tenant::begin(&t.app.db, &identity).await.unwrap();
        let page = NewContent {
            source: Source::Crawl,
            crawl_id: None,
            url: Some(format!("https://{org}.test/")),
            title: "Home".into(),
            description: None,
            language: None,
            markdown: format!("Home of {org}"),
        };
        content::store(&mut tenant, page).await.unwrap();
        tenant.commit().await.unwrap();
    }
    let org_id: uuid::Uuid = system_scalar(&t, "SELECT id FROM organizations WHERE clerk_org_id = $1", "org_del").await;

    let deleted =
        envelope("organization.deleted", json!({"id": "org_del", "object": "organization", "deleted": true}), at + 5);
    assert_eq!(deliver(&t, &deleted).await, "processed");

    let mut tx = t.db.pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let populated = [
        "audit_events",
        "contents",
        "membership_removals",
        "memberships",
        "rate_limit_buckets",
        "usage_counters",
        "usage_events",
    ];
    for expected in populated {
        assert!(tables.iter().any(|t| t == expected), "{expected} not among {tables:?}");
    }
    for table in &tables {
        let sql = format!("SELECT count(*) FROM {table} WHERE org_id = $1");
        let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_one(&mut *tx).await.unwrap();
        assert_eq!(left, 0, "{table} keeps rows of the deleted organization");
    }
    for table in populated {
        let sql = format!("SELECT count(*) FROM {table} WHERE org_id <> $1");
        let others: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(org_id).fetch_one(&mut *tx).await.unwrap();
        assert!(others > 0, "{table}: the neighbour's rows must stay");
    }
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(orgs, 0);
    drop(tx);
    t.get("/api/organizations/current", &t.token("org_del", "user_owner", Role::Admin))
        .await
        .assert_problem(403, "organization_deleted");
}

#[tokio::test]
async fn unknown_event_types_are_acknowledged_and_ignored() {
    let t = spawn().await;
    let event = envelope("session.created", json!({"id": "sess_1", "user_id": "user_1"}), ms());
    assert_eq!(deliver(&t, &event).await, "ignored");
    assert_eq!(t.count_all("users").await, 0);
    assert_eq!(t.count_all("webhook_events").await, 1);
}

#[tokio::test]
async fn malformed_events_oversized_bodies_and_an_unconfigured_secret_are_refused() {
    let t = spawn().await;
    let ts = now();
    let body = br#"{"type":"user.created","data":{"id":42}}"#;
    post_signed(&t, "msg_bad", ts, body, &sign("msg_bad", ts, body)).await.assert_problem(400, "invalid_event");
    assert_eq!(t.count_all("webhook_events").await, 0, "a refused event is not marked processed");
    let big = vec![b' '; voiceforge::webhooks::MAX_BODY_BYTES + 1];
    post_signed(&t, "msg_big", ts, &big, &sign("msg_big", ts, &big)).await.assert_problem(413, "payload_too_large");

    let unconfigured = TestApp::spawn().await;
    let body = serde_json::to_vec(&envelope("user.created", json!({"id": "user_1"}), ts * 1000)).unwrap();
    post_signed(&unconfigured, "msg_1", ts, &body, &sign("msg_1", ts, &body))
        .await
        .assert_problem(503, "webhooks_not_configured");
}

#[tokio::test]
async fn an_older_update_delivered_late_does_not_undo_a_newer_one() {
    let t = spawn().await;
    let at = ms();
    let org = |name: &str| json!({"id": "org_late", "object": "organization", "name": name, "slug": "late"});
    assert_eq!(deliver(&t, &envelope("organization.created", org("First"), at)).await, "processed");
    deliver(&t, &membership("organizationMembership.created", "org_late", "user_l", "org:member", at)).await;
    deliver(&t, &membership("organizationMembership.updated", "org_late", "user_l", "org:admin", at + 2000)).await;
    deliver(&t, &envelope("organization.updated", org("Newest"), at + 2000)).await;
    // Delivered last, happened in between: ignored for the membership, no effect on the name.
    let stale = membership("organizationMembership.updated", "org_late", "user_l", "org:member", at + 1000);
    assert_eq!(deliver(&t, &stale).await, "ignored");
    assert_eq!(deliver(&t, &envelope("organization.updated", org("Middle"), at + 1000)).await, "ignored");

    let token = t.token("org_late", "user_l", Role::Admin);
    let current = t.get("/api/organizations/current", &token).await.json();
    assert_eq!(current["organization"]["name"], "Newest");
    let me = t.get("/api/organizations/users/user_l", &token).await.json();
    assert_eq!(me["role"], "admin");
    assert_eq!(
        audit_actions(&t, "org_late").await,
        ["organization.created", "membership.created", "membership.updated", "organization.updated"]
    );
}
