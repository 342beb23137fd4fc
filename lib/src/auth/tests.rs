//! Verifier tests: every hostile token gets its own test asserting the exact error code, and
//! the JWKS cache is exercised against real loopback HTTP servers.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, EncodingKey, Header,
    jwk::{Jwk, JwkSet, PublicKeyUse},
};
use serde_json::{Value, json};
use url::Url;

use super::{AuthError, IssuerConfig, JwksSource, KeySource, Role, TokenVerifier, jwks::Timing};

// Test-only fixture keys (see testdata/README.md).
const KEY_A: &str = include_str!("testdata/test-key-a.pem");
const KEY_A_PUB: &str = include_str!("testdata/test-key-a.pub.pem");
const KEY_B: &str = include_str!("testdata/test-key-b.pem");

const ISS: &str = "https://clean-mole-12.clerk.accounts.dev";
const KID_A: &str = "ins_test_kid_a";
const KID_B: &str = "ins_test_kid_b";

/// reqwest is built without a rustls provider; install ring's once per test process.
pub(crate) fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
    });
}

fn http() -> reqwest::Client {
    install_crypto_provider();
    reqwest::Client::builder().no_proxy().build().expect("client")
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn jwk(private_pem: &str, kid: &str) -> Jwk {
    let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("fixture key");
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("jwk");
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk
}

fn jwks_json(keys: &[(&str, &str)]) -> String {
    let set = JwkSet { keys: keys.iter().map(|(pem, kid)| jwk(pem, kid)).collect() };
    serde_json::to_string(&set).expect("jwks json")
}

/// Claims of a typical Clerk v1 session token, issued now, valid for 60 s.
fn v1_claims() -> Value {
    let iat = now();
    json!({
        "azp": "http://localhost:5173",
        "exp": iat + 60,
        "fva": [0, -1],
        "iat": iat,
        "iss": ISS,
        "nbf": iat - 10,
        "org_id": "org_2abcDEF",
        "org_permissions": [],
        "org_role": "org:admin",
        "org_slug": "acme",
        "sid": "sess_2xyz",
        "sub": "user_2alice",
    })
}

/// Claims of a Clerk v2 session token (`o.rol` without the `org:` prefix, no `per`/`fpm`).
fn v2_claims() -> Value {
    let iat = now();
    json!({
        "azp": "http://localhost:5173",
        "exp": iat + 60,
        "fva": [0, -1],
        "iat": iat,
        "iss": ISS,
        "nbf": iat - 10,
        "o": { "id": "org_2v2org", "rol": "admin", "slg": "acme-v2" },
        "sid": "sess_2v2",
        "sts": "active",
        "sub": "user_2v2",
        "v": 2,
    })
}

fn clerk_header(kid: &str) -> Header {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    header.typ = Some("JWT".to_owned());
    header.extras.insert("cat", "cl_B7d4PD111AAA");
    header
}

fn sign_with(claims: &Value, header: &Header, private_pem: &str) -> String {
    let key = EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("fixture key");
    jsonwebtoken::encode(header, claims, &key).expect("sign")
}

/// Signs `claims` with key A under `kid` A, as Clerk would.
fn sign(claims: &Value) -> String {
    sign_with(claims, &clerk_header(KID_A), KEY_A)
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().expect("object").clone() {
        if value.is_null() {
            claims.as_object_mut().expect("object").remove(&name);
        } else {
            claims[name] = value;
        }
    }
    claims
}

fn static_issuer(authorized_parties: &[&str]) -> IssuerConfig {
    let set: JwkSet = serde_json::from_str(&jwks_json(&[(KEY_A, KID_A)])).expect("set");
    IssuerConfig {
        issuer: ISS.to_owned(),
        keys: KeySource::Static(set),
        authorized_parties: authorized_parties.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// A verifier trusting [`ISS`] with key A in memory: no network.
fn verifier() -> TokenVerifier {
    TokenVerifier::new(vec![static_issuer(&[])], http())
}

async fn verify(claims: &Value) -> Result<super::Identity, AuthError> {
    verifier().verify(&sign(claims)).await
}

fn b64(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(value)
}

// ---- claims ----------------------------------------------------------------------------------

#[tokio::test]
async fn v1_claims_are_parsed() {
    let identity = verify(&v1_claims()).await.expect("valid v1 token");
    assert_eq!(identity.user_id, "user_2alice");
    assert_eq!(identity.session_id, "sess_2xyz");
    assert_eq!(identity.org_id, "org_2abcDEF");
    assert_eq!(identity.org_slug.as_deref(), Some("acme"));
    assert_eq!(identity.org_name, None);
    assert_eq!(identity.role, Role::Admin);
    assert_eq!(identity.issuer, ISS);
}

#[tokio::test]
async fn v1_member_role_is_member() {
    let identity = verify(&with(v1_claims(), json!({"org_role": "org:member"}))).await.expect("valid");
    assert_eq!(identity.role, Role::Member);
}

#[tokio::test]
async fn v2_claims_are_parsed_with_admin_role_and_no_permissions() {
    let identity = verify(&v2_claims()).await.expect("valid v2 token");
    assert_eq!(identity.user_id, "user_2v2");
    assert_eq!(identity.session_id, "sess_2v2");
    assert_eq!(identity.org_id, "org_2v2org");
    assert_eq!(identity.org_slug.as_deref(), Some("acme-v2"));
    assert_eq!(identity.role, Role::Admin);
}

#[tokio::test]
async fn v2_claims_with_permissions_and_member_role_are_parsed() {
    let claims = with(
        v2_claims(),
        json!({"o": {"id": "org_2v2org", "rol": "member", "slg": "acme", "per": "read,manage", "fpm": "3"}}),
    );
    assert_eq!(verify(&claims).await.map(|i| i.role), Ok(Role::Member));
}

#[tokio::test]
async fn legacy_roles_map_to_admin_and_member() {
    let basic = verify(&with(v1_claims(), json!({"org_role": "basic_member"}))).await;
    assert_eq!(basic.map(|i| i.role), Ok(Role::Member));
    let guest = verify(&with(v1_claims(), json!({"org_role": "guest_member"}))).await;
    assert_eq!(guest.map(|i| i.role), Ok(Role::Member));
    let admin = verify(&with(v1_claims(), json!({"org_role": "admin"}))).await;
    assert_eq!(admin.map(|i| i.role), Ok(Role::Admin));
}

#[tokio::test]
async fn dev_org_name_claim_is_read() {
    let identity = verify(&with(v1_claims(), json!({"org_name": "Acme Inc."}))).await.expect("valid");
    assert_eq!(identity.org_name.as_deref(), Some("Acme Inc."));
}

#[tokio::test]
async fn clerk_header_field_cat_is_ignored() {
    let mut header = clerk_header(KID_A);
    header.extras.insert("cat", "cl_B7d4PD111AAA");
    header.extras.insert("something_new", json!({"nested": true}));
    assert!(verifier().verify(&sign_with(&v1_claims(), &header, KEY_A)).await.is_ok());
}

#[tokio::test]
async fn missing_sid_is_not_a_session_token() {
    let result = verify(&with(v1_claims(), json!({"sid": null}))).await;
    assert_eq!(result, Err(AuthError::NotASessionToken));
    assert_eq!(AuthError::NotASessionToken.code(), "not_a_session_token");
}

#[tokio::test]
async fn missing_sub_is_not_a_session_token() {
    assert_eq!(verify(&with(v1_claims(), json!({"sub": null}))).await, Err(AuthError::NotASessionToken));
}

#[tokio::test]
async fn pending_session_has_no_active_organization() {
    let result = verify(&with(v1_claims(), json!({"sts": "pending"}))).await;
    assert_eq!(result, Err(AuthError::NoActiveOrganization));
    assert!(AuthError::NoActiveOrganization.is_forbidden());
    assert_eq!(AuthError::NoActiveOrganization.code(), "no_active_organization");
}

#[tokio::test]
async fn token_without_org_claims_has_no_active_organization() {
    let no_org =
        with(v1_claims(), json!({"org_id": null, "org_role": null, "org_slug": null, "org_permissions": null}));
    assert_eq!(verify(&no_org).await, Err(AuthError::NoActiveOrganization));
    let v2_no_org = with(v2_claims(), json!({"o": null}));
    assert_eq!(verify(&v2_no_org).await, Err(AuthError::NoActiveOrganization));
    let empty_org_id = with(v1_claims(), json!({"org_id": ""}));
    assert_eq!(verify(&empty_org_id).await, Err(AuthError::NoActiveOrganization));
}

#[tokio::test]
async fn claim_of_the_wrong_type_is_malformed() {
    assert_eq!(verify(&with(v1_claims(), json!({"sid": 42}))).await, Err(AuthError::MalformedToken));
}

// ---- time ------------------------------------------------------------------------------------

#[tokio::test]
async fn expired_token_is_rejected() {
    let claims = with(v1_claims(), json!({"exp": now() - 30, "iat": now() - 90, "nbf": now() - 100}));
    assert_eq!(verify(&claims).await, Err(AuthError::TokenExpired));
    assert_eq!(AuthError::TokenExpired.code(), "token_expired");
}

#[tokio::test]
async fn token_with_nbf_beyond_the_leeway_is_not_yet_valid() {
    let claims = with(v1_claims(), json!({"nbf": now() + 30}));
    assert_eq!(verify(&claims).await, Err(AuthError::TokenNotYetValid));
}

#[tokio::test]
async fn token_with_iat_beyond_the_leeway_is_not_yet_valid() {
    let claims = with(v1_claims(), json!({"iat": now() + 30, "nbf": null}));
    assert_eq!(verify(&claims).await, Err(AuthError::TokenNotYetValid));
}

#[tokio::test]
async fn exp_nbf_and_iat_within_the_five_second_leeway_are_accepted() {
    // A clock 3 s off either way must not matter (jsonwebtoken's default would skip nbf).
    let expired_3s_ago = with(v1_claims(), json!({"exp": now() - 3}));
    assert!(verify(&expired_3s_ago).await.is_ok());
    let issued_3s_ahead = with(v1_claims(), json!({"iat": now() + 3, "nbf": now() + 3}));
    assert!(verify(&issued_3s_ahead).await.is_ok());
}

#[tokio::test]
async fn token_without_exp_is_malformed() {
    assert_eq!(verify(&with(v1_claims(), json!({"exp": null}))).await, Err(AuthError::MalformedToken));
}

// ---- issuer and party -----------------------------------------------------------------------

#[tokio::test]
async fn token_from_another_issuer_is_rejected() {
    let other = with(v1_claims(), json!({"iss": "https://evil.clerk.accounts.dev"}));
    assert_eq!(verify(&other).await, Err(AuthError::InvalidIssuer));
    let none = with(v1_claims(), json!({"iss": null}));
    assert_eq!(verify(&none).await, Err(AuthError::InvalidIssuer));
    let prefix = with(v1_claims(), json!({"iss": format!("{ISS}.evil.com")}));
    assert_eq!(verify(&prefix).await, Err(AuthError::InvalidIssuer));
}

#[tokio::test]
async fn wrong_azp_is_an_unauthorized_party() {
    let verifier = TokenVerifier::new(vec![static_issuer(&["https://app.voiceforge.dev"])], http());
    let wrong = sign(&with(v1_claims(), json!({"azp": "https://evil.example"})));
    assert_eq!(verifier.verify(&wrong).await, Err(AuthError::UnauthorizedParty));
    let absent = sign(&with(v1_claims(), json!({"azp": null})));
    assert_eq!(verifier.verify(&absent).await, Err(AuthError::UnauthorizedParty));
}

#[tokio::test]
async fn allowed_azp_is_accepted_and_azp_is_unchecked_without_a_list() {
    let verifier = TokenVerifier::new(vec![static_issuer(&["http://localhost:3000", "http://localhost:5173"])], http());
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());
    let anything = sign(&with(v1_claims(), json!({"azp": "https://anything.example"})));
    assert!(self::verifier().verify(&anything).await.is_ok());
}

// ---- algorithm, signature, keys --------------------------------------------------------------

#[tokio::test]
async fn alg_none_is_an_unsupported_algorithm() {
    let header = b64(&format!(r#"{{"alg":"none","kid":"{KID_A}","typ":"JWT"}}"#));
    let token = format!("{header}.{}.", b64(&v1_claims().to_string()));
    assert_eq!(verifier().verify(&token).await, Err(AuthError::UnsupportedAlgorithm));
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_an_unsupported_algorithm() {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID_A.to_owned());
    let token =
        jsonwebtoken::encode(&header, &v1_claims(), &EncodingKey::from_secret(KEY_A_PUB.as_bytes()).expect("hmac key"))
            .expect("sign with HMAC");
    assert_eq!(verifier().verify(&token).await, Err(AuthError::UnsupportedAlgorithm));
}

#[tokio::test]
async fn other_rsa_algorithms_are_unsupported() {
    let mut header = clerk_header(KID_A);
    header.alg = Algorithm::RS512;
    let token = sign_with(&v1_claims(), &header, KEY_A);
    assert_eq!(verifier().verify(&token).await, Err(AuthError::UnsupportedAlgorithm));
}

#[tokio::test]
async fn unknown_kid_is_an_unknown_key() {
    let token = sign_with(&v1_claims(), &clerk_header("ins_someone_else"), KEY_A);
    assert_eq!(verifier().verify(&token).await, Err(AuthError::UnknownKey));
    let mut no_kid = clerk_header(KID_A);
    no_kid.kid = None;
    assert_eq!(verifier().verify(&sign_with(&v1_claims(), &no_kid, KEY_A)).await, Err(AuthError::UnknownKey));
}

#[tokio::test]
async fn tampered_payload_fails_the_signature() {
    let token = sign(&v1_claims());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let forged = with(v1_claims(), json!({"org_id": "org_victim"}));
    parts[1] = b64(&forged.to_string());
    assert_eq!(verifier().verify(&parts.join(".")).await, Err(AuthError::InvalidSignature));
}

#[tokio::test]
async fn token_signed_by_another_key_fails_the_signature() {
    let token = sign_with(&v1_claims(), &clerk_header(KID_A), KEY_B);
    assert_eq!(verifier().verify(&token).await, Err(AuthError::InvalidSignature));
}

#[tokio::test]
async fn malformed_tokens_are_rejected_before_any_key_lookup() {
    let good = sign(&v1_claims());
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        ("empty", String::new()),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        ("four segments", format!("{good}.xyz")),
        ("header not base64", format!("!!!.{}.{}", parts[1], parts[2])),
        ("header not JSON", format!("{}.{}.{}", b64("not json"), parts[1], parts[2])),
        ("header without alg", format!("{}.{}.{}", b64(r#"{"kid":"x"}"#), parts[1], parts[2])),
        ("payload not base64", format!("{}.%%%.{}", parts[0], parts[2])),
        ("payload not JSON", format!("{}.{}.{}", parts[0], b64("[1,2"), parts[2])),
        ("signature not base64", format!("{}.{}.***", parts[0], parts[1])),
        ("oversized", "a".repeat(super::MAX_TOKEN_LEN + 1)),
    ];
    for (what, token) in cases {
        assert_eq!(verifier().verify(&token).await, Err(AuthError::MalformedToken), "{what}");
    }
}

#[tokio::test]
async fn pem_key_source_works_without_network() {
    let pem_issuer =
        |pem: String| IssuerConfig { issuer: ISS.to_owned(), keys: KeySource::Pem(pem), authorized_parties: vec![] };
    let flattened = KEY_A_PUB.trim().replace('\n', "\\n");
    let bare_body: String = KEY_A_PUB.lines().filter(|l| !l.starts_with("-----")).collect();
    for pem in [KEY_A_PUB.to_owned(), flattened, bare_body] {
        let verifier = TokenVerifier::new(vec![pem_issuer(pem.clone())], http());
        // A PEM key accepts any kid, as Clerk's networkless verification does.
        let token = sign_with(&v1_claims(), &clerk_header("ins_any_kid"), KEY_A);
        assert!(verifier.verify(&token).await.is_ok(), "{pem}");
        let forged = sign_with(&v1_claims(), &clerk_header("ins_any_kid"), KEY_B);
        assert_eq!(verifier.verify(&forged).await, Err(AuthError::InvalidSignature));
    }
    let broken = TokenVerifier::new(
        vec![pem_issuer("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----".into())],
        http(),
    );
    assert_eq!(broken.verify(&sign(&v1_claims())).await, Err(AuthError::KeysUnavailable));
}

#[tokio::test]
async fn authenticate_reads_the_authorization_header() {
    let token = sign(&v1_claims());
    let identity = verifier().authenticate(Some(&format!("Bearer {token}"))).await.expect("valid");
    assert_eq!(identity.org_id, "org_2abcDEF");
    assert_eq!(verifier().authenticate(None).await, Err(AuthError::MissingToken));
}

#[test]
fn error_messages_never_echo_input() {
    let all = [
        AuthError::MissingToken,
        AuthError::MalformedToken,
        AuthError::UnsupportedAlgorithm,
        AuthError::InvalidSignature,
        AuthError::TokenExpired,
        AuthError::TokenNotYetValid,
        AuthError::InvalidIssuer,
        AuthError::UnauthorizedParty,
        AuthError::UnknownKey,
        AuthError::NotASessionToken,
        AuthError::NoActiveOrganization,
        AuthError::KeysUnavailable,
    ];
    let codes: std::collections::HashSet<&str> = all.iter().map(AuthError::code).collect();
    assert_eq!(codes.len(), all.len(), "codes are distinct");
    for err in all {
        assert!(!err.to_string().is_empty());
        assert_eq!(err.is_forbidden(), err == AuthError::NoActiveOrganization);
    }
}

// ---- remote JWKS -----------------------------------------------------------------------------

/// A loopback JWKS endpoint that counts requests and can change its answer mid-test.
struct JwksServer {
    url: Url,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

struct ServerState {
    hits: AtomicUsize,
    body: Mutex<String>,
    status: AtomicU16,
    delay_ms: AtomicU64,
    authorization: Mutex<Option<String>>,
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl JwksServer {
    async fn start(body: String) -> JwksServer {
        async fn serve_jwks(State(state): State<Arc<ServerState>>, headers: HeaderMap) -> (StatusCode, String) {
            state.hits.fetch_add(1, Ordering::SeqCst);
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
            *state.authorization.lock().expect("lock") = auth;
            let delay = state.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let status = StatusCode::from_u16(state.status.load(Ordering::SeqCst)).expect("status");
            (status, state.body.lock().expect("lock").clone())
        }
        let state = Arc::new(ServerState {
            hits: AtomicUsize::new(0),
            body: Mutex::new(body),
            status: AtomicU16::new(200),
            delay_ms: AtomicU64::new(0),
            authorization: Mutex::new(None),
        });
        let app = Router::new().route("/v1/jwks", get(serve_jwks)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _stopped = axum::serve(listener, app).await;
        });
        let url = Url::parse(&format!("http://{addr}/v1/jwks")).expect("url");
        JwksServer { url, state, task }
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    fn issuer(&self, issuer: &str, bearer_secret: Option<&str>) -> IssuerConfig {
        IssuerConfig {
            issuer: issuer.to_owned(),
            keys: KeySource::Jwks(JwksSource {
                url: self.url.clone(),
                bearer_secret: bearer_secret.map(str::to_owned),
            }),
            authorized_parties: vec![],
        }
    }
}

/// Stands in for the 30 s refetch interval; long enough that two back-to-back calls never
/// straddle it, short enough to wait out in a test.
const QUICK_INTERVAL: Duration = Duration::from_secs(1);

fn quick_timing() -> Timing {
    Timing {
        ttl: Duration::from_secs(300),
        min_refetch: QUICK_INTERVAL,
        failure_backoff: QUICK_INTERVAL,
        fetch_timeout: Duration::from_secs(2),
    }
}

#[tokio::test]
async fn jwks_is_fetched_once_for_two_verifications_with_the_bearer_secret() {
    let server = JwksServer::start(jwks_json(&[(KEY_A, KID_A)])).await;
    let verifier = TokenVerifier::new(vec![server.issuer(ISS, Some("sk_test_secret"))], http());
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());
    assert!(verifier.verify(&sign(&v2_claims())).await.is_ok());
    assert_eq!(server.hits(), 1);
    assert_eq!(server.state.authorization.lock().expect("lock").as_deref(), Some("Bearer sk_test_secret"));
}

#[tokio::test]
async fn burst_of_unknown_kids_triggers_at_most_one_refetch() {
    let server = JwksServer::start(jwks_json(&[(KEY_A, KID_A)])).await;
    let verifier = TokenVerifier::new(vec![server.issuer(ISS, None)], http());
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());
    assert_eq!(server.hits(), 1);

    let forged: Vec<String> =
        (0..50).map(|i| sign_with(&v1_claims(), &clerk_header(&format!("ins_forged_{i}")), KEY_B)).collect();
    let results = futures_join_all(forged.iter().map(|t| verifier.verify(t))).await;
    assert!(results.iter().all(|r| *r == Err(AuthError::UnknownKey)), "{results:?}");
    assert!(server.hits() <= 2, "{} fetches for 50 unknown kids", server.hits());
    // Sequential ones too: still within 30 s of the last fetch.
    for token in &forged {
        assert_eq!(verifier.verify(token).await, Err(AuthError::UnknownKey));
    }
    assert!(server.hits() <= 2, "{} fetches", server.hits());
}

#[tokio::test]
async fn cold_burst_of_unknown_kids_shares_one_fetch() {
    let server = JwksServer::start(jwks_json(&[(KEY_A, KID_A)])).await;
    server.state.delay_ms.store(100, Ordering::SeqCst);
    let verifier = TokenVerifier::new(vec![server.issuer(ISS, None)], http());
    let forged: Vec<String> =
        (0..50).map(|i| sign_with(&v1_claims(), &clerk_header(&format!("ins_forged_{i}")), KEY_B)).collect();
    let results = futures_join_all(forged.iter().map(|t| verifier.verify(t))).await;
    assert!(results.iter().all(|r| *r == Err(AuthError::UnknownKey)), "{results:?}");
    assert_eq!(server.hits(), 1);
    // The keys fetched by that one request serve the real kid without another fetch.
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn concurrent_verifications_share_one_in_flight_fetch() {
    let server = JwksServer::start(jwks_json(&[(KEY_A, KID_A)])).await;
    server.state.delay_ms.store(200, Ordering::SeqCst);
    let verifier = TokenVerifier::new(vec![server.issuer(ISS, None)], http());
    let tokens: Vec<String> = (0..20).map(|_| sign(&v1_claims())).collect();
    let results = futures_join_all(tokens.iter().map(|t| verifier.verify(t))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn unknown_kid_refetches_after_the_interval_and_finds_a_rotated_key() {
    let server = JwksServer::start(jwks_json(&[(KEY_A, KID_A)])).await;
    let verifier = TokenVerifier::with_timing(vec![server.issuer(ISS, None)], http(), quick_timing());
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());

    // Clerk rotates: the JWKS now also holds key B. Right away the new kid is unknown (rate limit) …
    *server.state.body.lock().expect("lock") = jwks_json(&[(KEY_A, KID_A), (KEY_B, KID_B)]);
    let rotated = sign_with(&v1_claims(), &clerk_header(KID_B), KEY_B);
    assert_eq!(verifier.verify(&rotated).await, Err(AuthError::UnknownKey));
    assert_eq!(server.hits(), 1);

    // … and once the interval has passed, one refetch serves a whole burst.
    tokio::time::sleep(QUICK_INTERVAL + Duration::from_millis(200)).await;
    let burst: Vec<String> = (0..50).map(|_| rotated.clone()).collect();
    let results = futures_join_all(burst.iter().map(|t| verifier.verify(t))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn unreachable_jwks_without_cached_keys_is_keys_unavailable() {
    let server = JwksServer::start(jwks_json(&[(KEY_A, KID_A)])).await;
    server.state.status.store(503, Ordering::SeqCst);
    let verifier = TokenVerifier::with_timing(vec![server.issuer(ISS, None)], http(), quick_timing());
    assert_eq!(verifier.verify(&sign(&v1_claims())).await, Err(AuthError::KeysUnavailable));
    // Within the back-off no new request is made, and the answer stays the same.
    assert_eq!(verifier.verify(&sign(&v1_claims())).await, Err(AuthError::KeysUnavailable));
    assert_eq!(server.hits(), 1);
    // After it, a recovered endpoint is used.
    server.state.status.store(200, Ordering::SeqCst);
    tokio::time::sleep(QUICK_INTERVAL + Duration::from_millis(200)).await;
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());
    assert_eq!(server.hits(), 2);

    // Nothing listening at all.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let dead = IssuerConfig {
        issuer: ISS.to_owned(),
        keys: KeySource::Jwks(JwksSource {
            url: Url::parse(&format!("http://127.0.0.1:{closed_port}/jwks")).expect("url"),
            bearer_secret: None,
        }),
        authorized_parties: vec![],
    };
    let verifier = TokenVerifier::new(vec![dead], http());
    assert_eq!(verifier.verify(&sign(&v1_claims())).await, Err(AuthError::KeysUnavailable));
}

#[tokio::test]
async fn stale_keys_are_used_when_the_refresh_fails() {
    let server = JwksServer::start(jwks_json(&[(KEY_A, KID_A)])).await;
    let timing = Timing { ttl: Duration::from_millis(100), ..quick_timing() };
    let verifier = TokenVerifier::with_timing(vec![server.issuer(ISS, None)], http(), timing);
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());
    server.state.status.store(500, Ordering::SeqCst);
    tokio::time::sleep(QUICK_INTERVAL + Duration::from_millis(200)).await;
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok());
    assert_eq!(server.hits(), 2, "the expired cache was refreshed (and the refresh failed)");
}

#[tokio::test]
async fn oversized_jwks_response_is_refused() {
    let padding = "x".repeat(70 * 1024);
    let body = format!(
        r#"{{"keys":{},"padding":"{padding}"}}"#,
        serde_json::to_value(serde_json::from_str::<JwkSet>(&jwks_json(&[(KEY_A, KID_A)])).expect("set"),)
            .expect("json")["keys"]
    );
    let server = JwksServer::start(body).await;
    let verifier = TokenVerifier::new(vec![server.issuer(ISS, None)], http());
    assert_eq!(verifier.verify(&sign(&v1_claims())).await, Err(AuthError::KeysUnavailable));
}

#[tokio::test]
async fn only_rsa_signature_keys_from_the_jwks_are_used() {
    let mut enc = jwk(KEY_B, "ins_enc_key");
    enc.common.public_key_use = Some(PublicKeyUse::Encryption);
    let mut keys: Vec<Value> =
        vec![serde_json::to_value(jwk(KEY_A, KID_A)).expect("jwk"), serde_json::to_value(enc).expect("jwk")];
    keys.push(json!({"kty": "EC", "crv": "P-256", "kid": "ins_ec", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRjcHRkxqLo1Ro9aMvBm_3Ce5FSeR6Kh8CEaj3o"}));
    keys.push(json!({"kty": "future-kind", "kid": "ins_future"}));
    let server = JwksServer::start(json!({ "keys": keys }).to_string()).await;
    let verifier = TokenVerifier::new(vec![server.issuer(ISS, None)], http());
    assert!(verifier.verify(&sign(&v1_claims())).await.is_ok(), "the usable key survives its odd neighbours");
    let with_enc_key = sign_with(&v1_claims(), &clerk_header("ins_enc_key"), KEY_B);
    assert_eq!(verifier.verify(&with_enc_key).await, Err(AuthError::UnknownKey));
}

#[tokio::test]
async fn keys_are_scoped_to_their_issuer_even_when_kids_collide() {
    // Two Clerk instances publish the same kid with different keys.
    let first = JwksServer::start(jwks_json(&[(KEY_A, "shared_kid")])).await;
    let second = JwksServer::start(jwks_json(&[(KEY_B, "shared_kid")])).await;
    let other_iss = "https://other-instance.clerk.accounts.dev";
    let verifier = TokenVerifier::new(vec![first.issuer(ISS, None), second.issuer(other_iss, None)], http());

    let for_first = sign_with(&v1_claims(), &clerk_header("shared_kid"), KEY_A);
    assert!(verifier.verify(&for_first).await.is_ok());
    // Key A's cached "shared_kid" must not verify a token claiming the second issuer.
    let claims_second = sign_with(&with(v1_claims(), json!({"iss": other_iss})), &clerk_header("shared_kid"), KEY_A);
    assert_eq!(verifier.verify(&claims_second).await, Err(AuthError::InvalidSignature));
    let genuine_second = sign_with(&with(v1_claims(), json!({"iss": other_iss})), &clerk_header("shared_kid"), KEY_B);
    let identity = verifier.verify(&genuine_second).await.expect("valid for the second issuer");
    assert_eq!(identity.issuer, other_iss);
}

#[test]
fn jwks_source_debug_redacts_the_secret() {
    let source = JwksSource::clerk_backend_api("sk_live_very_secret");
    let debug = format!("{source:?}");
    assert!(!debug.contains("sk_live_very_secret"), "{debug}");
    assert_eq!(
        JwksSource::frontend_api("https://x.clerk.accounts.dev/").map(|s| s.url.to_string()).ok().as_deref(),
        Some("https://x.clerk.accounts.dev/.well-known/jwks.json")
    );
}

/// Polls all futures concurrently on this task (the crate has no `futures` dependency).
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[test]
fn verifier_is_shareable_and_its_futures_are_send() {
    fn assert_shareable<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_shareable::<TokenVerifier>();
    let verifier = verifier();
    assert_send(&verifier.verify("a.b.c"));
    assert_send(&verifier.authenticate(None));
}
