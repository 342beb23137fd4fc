//! Benchmark: session-token verifications per second through `TokenVerifier` with a cached
//! JWKS (served once from loopback), against the baseline of a bare `jsonwebtoken::decode`
//! with the same key. Run with `bench/tokens`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::{Json, Router, routing::get};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Value, json};
use voiceforge::auth::{IssuerConfig, JwksSource, KeySource, TokenVerifier};

const PRIVATE_KEY: &str = include_str!("../src/auth/testdata/test-key-a.pem");
const PUBLIC_KEY: &str = include_str!("../src/auth/testdata/test-key-a.pub.pem");
const ISSUER: &str = "https://clerk.bench.test";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Runs `f` repeatedly for `period` and returns calls per second.
async fn rate<F, Fut>(period: Duration, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < period {
        for _ in 0..100 {
            f().await;
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    voiceforge::http::install_crypto_provider();
    let jwks: Value = {
        use rsa::{PublicKey, pkcs8::DecodePublicKey, traits::PublicKeyParts};
        let key = PublicKey::from_public_key_pem(PUBLIC_KEY).expect("test key");
        json!({"keys": [{"kty": "RSA", "kid": "ins_bench", "use": "sig", "alg": "RS256",
            "n": b64(&key.n().to_be_bytes()), "e": b64(&key.e().to_be_bytes())}]})
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(listener, Router::new().route("/jwks.json", get(move || async move { Json(jwks) }))).await
    });

    let iat = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let claims = json!({"exp": iat + 600, "iat": iat, "nbf": iat - 10, "iss": ISSUER, "sid": "sess_b",
                        "sub": "user_b", "org_id": "org_b", "org_role": "org:admin"});
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("ins_bench".into());
    let token =
        encode(&header, &claims, &EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).expect("key")).expect("sign");

    let verifier = TokenVerifier::new(
        vec![IssuerConfig {
            issuer: ISSUER.into(),
            keys: KeySource::Jwks(JwksSource { url: url.parse().expect("url"), bearer_secret: None }),
            authorized_parties: vec![],
        }],
        voiceforge::http::http_client().expect("client"),
    );
    verifier.verify(&token).await.expect("first verification fetches the JWKS");

    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    let period = Duration::from_secs(3);
    let baseline = rate(period, || async {
        decode::<Value>(&token, &key, &validation).expect("baseline verifies");
    })
    .await;
    let ours = rate(period, || async {
        verifier.verify(&token).await.expect("verifies");
    })
    .await;
    println!("token verification (1 thread, cached JWKS)");
    println!("  baseline jsonwebtoken::decode  {baseline:>10.0} /s");
    println!("  TokenVerifier::verify          {ours:>10.0} /s");
    println!("  ratio (ours / baseline)        {:>10.2}", ours / baseline);
}
