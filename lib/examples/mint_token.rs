//! Prints a Clerk-shaped session token signed with the test key, for benchmarks that start
//! function binaries configured with `CLERK_ISSUER=https://clerk.bench.test` and the test
//! public key (never a production key).

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};

const PRIVATE_KEY: &str = include_str!("../src/auth/testdata/test-key-a.pem");

fn main() {
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let claims = serde_json::json!({"exp": iat + 3600, "iat": iat, "nbf": iat - 10, "iss": "https://clerk.bench.test",
        "sid": "sess_bench", "sub": "user_bench", "org_id": "org_bench", "org_role": "org:admin"});
    let key = EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).expect("test key");
    println!("{}", encode(&Header::new(Algorithm::RS256), &claims, &key).expect("sign"));
}
