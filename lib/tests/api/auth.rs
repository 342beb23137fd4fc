//! Session tokens at the HTTP edge: a Clerk instance configured by PEM and by JWKS, hostile
//! tokens refused with their code, and nothing written for a refused request.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::{Json, Router, routing::get};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::harness::TestApp;

const ISSUER: &str = "https://clerk.voiceforge.test";
const PARTY: &str = "http://localhost:5173";
const PRIVATE_KEY: &str = include_str!("../../src/auth/testdata/test-key-a.pem");
const PUBLIC_KEY: &str = include_str!("../../src/auth/testdata/test-key-a.pub.pem");
const OTHER_PRIVATE_KEY: &str = include_str!("../../src/auth/testdata/test-key-b.pem");

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A Clerk v1 session token's claims, valid now.
fn v1_claims() -> Value {
    let iat = now();
    json!({
        "azp": PARTY, "exp": iat + 60, "iat": iat, "nbf": iat - 10, "iss": ISSUER,
        "sid": "sess_2abc", "sub": "user_clerk1",
        "org_id": "org_clerk", "org_role": "org:admin", "org_slug": "clerk-co", "org_permissions": []
    })
}

fn sign_with(claims: &Value, key: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    encode(&header, claims, &EncodingKey::from_rsa_pem(key.as_bytes()).unwrap()).unwrap()
}

fn sign(claims: &Value) -> String {
    sign_with(claims, PRIVATE_KEY, "ins_test")
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn clerk_app() -> TestApp {
    TestApp::spawn_with(&[("CLERK_ISSUER", ISSUER), ("CLERK_JWT_KEY", PUBLIC_KEY), ("CLERK_AUTHORIZED_PARTIES", PARTY)])
        .await
}

#[tokio::test]
async fn a_clerk_v1_token_verified_by_pem_creates_the_org_and_reports_the_role() {
    let t = clerk_app().await;
    let res = t.get("/api/organizations/current", &sign(&v1_claims())).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    let body = res.json();
    assert_eq!(body["organization"]["id"], "org_clerk");
    assert_eq!(body["organization"]["slug"], "clerk-co");
    assert_eq!(body["user"]["id"], "user_clerk1");
    assert_eq!(body["role"], "admin");
}

#[tokio::test]
async fn a_clerk_v2_token_from_a_loopback_jwks_is_accepted() {
    let jwks: Value = {
        use rsa::{PublicKey, pkcs8::DecodePublicKey, traits::PublicKeyParts};
        let key = PublicKey::from_public_key_pem(PUBLIC_KEY).unwrap();
        json!({"keys": [{"kty": "RSA", "kid": "ins_test", "use": "sig", "alg": "RS256",
            "n": b64(&key.n().to_be_bytes()), "e": b64(&key.e().to_be_bytes())}]})
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    let server = Router::new().route("/.well-known/jwks.json", get(move || async move { Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, server).await });

    let t = TestApp::spawn_with(&[("CLERK_ISSUER", ISSUER), ("CLERK_JWKS_URL", &jwks_url)]).await;
    let iat = now();
    let claims = json!({
        "v": 2, "azp": PARTY, "exp": iat + 60, "iat": iat, "nbf": iat - 10, "iss": ISSUER,
        "sid": "sess_v2", "sub": "user_v2", "fva": [0, -1],
        "o": {"id": "org_v2", "rol": "member", "slg": "v2-co"}
    });
    let res = t.get("/api/organizations/current", &sign(&claims)).await;
    assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    assert_eq!(res.json()["organization"]["id"], "org_v2");
    assert_eq!(res.json()["role"], "member");

    let unknown_kid = sign_with(&claims, OTHER_PRIVATE_KEY, "ins_other");
    t.get("/api/organizations/current", &unknown_kid).await.assert_problem(401, "unknown_key");
}

#[tokio::test]
async fn hostile_tokens_are_refused_with_their_code_and_write_nothing() {
    let t = clerk_app().await;
    let with = |patch: Value| {
        let mut claims = v1_claims();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let valid = sign(&v1_claims());
    let (head, rest) = valid.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let mut tampered = v1_claims();
    tampered["org_role"] = json!("org:admin");
    tampered["org_id"] = json!("org_victim");
    let hs256 =
        encode(&Header::new(Algorithm::HS256), &v1_claims(), &EncodingKey::from_secret(PUBLIC_KEY.as_bytes()).unwrap())
            .unwrap();
    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(v1_claims().to_string().as_bytes()));

    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "expired",
            sign(&with(json!({"exp": now() - 30, "iat": now() - 90, "nbf": now() - 100}))),
            401,
            "token_expired",
        ),
        (
            "not yet valid",
            sign(&with(json!({"nbf": now() + 60, "iat": now() + 60, "exp": now() + 120}))),
            401,
            "token_not_yet_valid",
        ),
        ("wrong issuer", sign(&with(json!({"iss": "https://evil.clerk.accounts.dev"}))), 401, "invalid_issuer"),
        ("wrong azp", sign(&with(json!({"azp": "https://evil.example"}))), 401, "unauthorized_party"),
        ("alg none", none, 401, "unsupported_algorithm"),
        ("HS256 with the public key", hs256, 401, "unsupported_algorithm"),
        ("signed by another key", sign_with(&v1_claims(), OTHER_PRIVATE_KEY, "ins_test"), 401, "invalid_signature"),
        (
            "tampered payload",
            format!("{head}.{}.{sig}", b64(tampered.to_string().as_bytes())),
            401,
            "invalid_signature",
        ),
        ("missing sid", sign(&with(json!({"sid": null}))), 401, "not_a_session_token"),
        (
            "no active org",
            sign(&with(json!({"org_id": null, "org_role": null, "org_slug": null}))),
            403,
            "no_active_organization",
        ),
        (
            "pending session",
            sign(&with(json!({"sts": "pending", "org_id": null, "org_role": null}))),
            403,
            "no_active_organization",
        ),
        ("malformed header", format!("{}.{}.{sig}", b64(b"not json"), b64(b"{}")), 401, "malformed_token"),
        ("two segments", format!("{head}.{sig}"), 401, "malformed_token"),
        ("garbage", "definitely-not-a-jwt".into(), 401, "malformed_token"),
    ];
    for (name, token, status, code) in cases {
        let res = t.get("/api/organizations/current", &token).await;
        assert_eq!(res.status, status, "{name}: {}", String::from_utf8_lossy(&res.body));
        res.assert_problem(status, code);
        let detail = res.json()["detail"].as_str().unwrap().to_owned();
        assert!(!detail.contains(&token), "{name}: the token leaked into the error");
    }
    let missing = t
        .request(axum::http::Request::get("/api/organizations/current").body(axum::body::Body::empty()).unwrap())
        .await;
    missing.assert_problem(401, "missing_token");
    let basic = t
        .request(
            axum::http::Request::get("/api/organizations/current")
                .header("authorization", "Basic dXNlcjpwYXNz")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(basic.status, 401);

    for table in ["organizations", "users", "memberships"] {
        assert_eq!(t.count_all(table).await, 0, "{table} was written by a refused request");
    }
}

#[tokio::test]
async fn tokens_within_five_seconds_of_their_bounds_are_accepted() {
    let t = clerk_app().await;
    let claims = json!({
        "azp": PARTY, "exp": now() - 3, "iat": now() - 63, "nbf": now() - 73, "iss": ISSUER,
        "sid": "sess_edge", "sub": "user_edge", "org_id": "org_edge", "org_role": "org:member"
    });
    assert_eq!(t.get("/api/organizations/current", &sign(&claims)).await.status, 200);
}

#[tokio::test]
async fn an_organization_answers_only_tokens_of_the_issuer_it_belongs_to() {
    let t = TestApp::spawn_with(&[
        ("CLERK_ISSUER", ISSUER),
        ("CLERK_JWT_KEY", PUBLIC_KEY),
        ("CLERK_AUTHORIZED_PARTIES", PARTY),
        ("CLERK_WEBHOOK_SIGNING_SECRET", crate::webhooks::SECRET),
    ])
    .await;
    let footprint =
        || async { (t.count_all("organizations").await, t.count_all("users").await, t.count_all("memberships").await) };
    // Clerk's organization: a dev token naming its id is refused and writes nothing.
    assert_eq!(t.get("/api/organizations/current", &sign(&v1_claims())).await.status, 200);
    let before = footprint().await;
    let dev = t.token("org_clerk", "user_intruder", voiceforge::auth::Role::Admin);
    t.get("/api/organizations/current", &dev).await.assert_problem(403, "issuer_mismatch");
    assert_eq!(footprint().await, before, "a refused issuer leaves no user or membership");

    // The reverse: an organization the dev issuer made refuses Clerk's tokens for its id.
    let local = t.token("org_local", "user_dev", voiceforge::auth::Role::Admin);
    assert_eq!(t.get("/api/organizations/current", &local).await.status, 200);
    let mut claims = v1_claims();
    claims["org_id"] = json!("org_local");
    claims["sub"] = json!("user_clerk2");
    let before = footprint().await;
    t.get("/api/organizations/current", &sign(&claims)).await.assert_problem(403, "issuer_mismatch");
    assert_eq!(footprint().await, before);

    // An organization a Clerk webhook reported belongs to the first issuer whose token reaches
    // it: Clerk's here, and the dev issuer is refused from then on.
    let created = crate::webhooks::envelope(
        "organization.created",
        json!({"id": "org_hooked", "object": "organization", "name": "Hooked", "slug": "hooked"}),
        crate::webhooks::ms(),
    );
    crate::webhooks::deliver(&t, &created).await;
    let mut claims = v1_claims();
    claims["org_id"] = json!("org_hooked");
    assert_eq!(t.get("/api/organizations/current", &sign(&claims)).await.status, 200);
    let dev = t.token("org_hooked", "user_intruder", voiceforge::auth::Role::Admin);
    t.get("/api/organizations/current", &dev).await.assert_problem(403, "issuer_mismatch");
}
