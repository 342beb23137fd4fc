//! What the root package's tests share: the `[[bin]]`s of Cargo.toml, Clerk-shaped session
//! tokens signed with the test keys, and a fresh migrated database per test.

#![allow(dead_code, reason = "each test binary uses its own part of this module, so `expect` would fail in some")]

use std::{
    path::PathBuf,
    time::{SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;
use sqlx::Connection;

/// The issuer the functions are configured with (`CLERK_ISSUER`).
pub const ISSUER: &str = "https://clerk.voiceforge.test";
/// The test key tokens are signed with.
pub const PRIVATE_KEY: &str = include_str!("../../lib/src/auth/testdata/test-key-a.pem");
/// Its public half, given to the functions as `CLERK_JWT_KEY`.
pub const PUBLIC_KEY: &str = include_str!("../../lib/src/auth/testdata/test-key-a.pub.pem");

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(name, path)` of every `[[bin]]` in the root Cargo.toml.
pub fn cargo_bins() -> Vec<(String, String)> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let mut bins = Vec::new();
    let lines: Vec<&str> = manifest.lines().map(str::trim).collect();
    for (at, _) in lines.iter().enumerate().filter(|(_, l)| **l == "[[bin]]") {
        let block: Vec<&str> = lines[at + 1..].iter().copied().take_while(|l| !l.starts_with('[')).collect();
        let field = |key: &str| {
            block.iter().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
            })
        };
        bins.push((field("name").expect("bin name"), field("path").expect("bin path")));
    }
    bins
}

/// A Clerk session token (v1 claims) for `user`, an admin of `org`, valid for a minute.
pub fn clerk_token(org: &str, user: &str) -> String {
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({"exp": iat + 60, "iat": iat, "nbf": iat - 10, "iss": ISSUER, "sid": "sess_f",
                        "sub": user, "org_id": org, "org_role": "org:admin"});
    encode(&Header::new(Algorithm::RS256), &claims, &EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).unwrap())
        .unwrap()
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A new database beside `DATABASE_URL`'s, migrated; returns its URL.
pub async fn fresh_database() -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL (run scripts/test)");
    let name = format!("vf_t_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    voiceforge::db::migrate(url.as_str()).await.unwrap();
    url.to_string()
}

/// Drops a test database. FORCE cannot end an autovacuum worker that happens to be in it (it
/// runs as the bootstrap superuser), so a refusal is tried again; a database still left over
/// is removed by scripts/test's next run, and is no failure of the test.
pub async fn drop_database(url: &str) {
    let name = url::Url::parse(url).unwrap().path().trim_start_matches('/').to_owned();
    let mut admin = sqlx::PgConnection::connect(&std::env::var("DATABASE_URL").unwrap()).await.unwrap();
    for attempt in 1..=10 {
        match sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await
        {
            Ok(_) => return,
            Err(err) if attempt == 10 => eprintln!("leaving database {name} behind: {err}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}
