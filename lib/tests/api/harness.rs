//! Test fixtures: a fresh database per test, the app built on it, tokens, requests.

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

use axum::{Router, body::Body, http::Request};
use http_body_util::BodyExt;
use once_cell::sync::Lazy;
use sqlx::{Connection, PgConnection, PgPool, postgres::PgPoolOptions};
use tower::ServiceExt;
use voiceforge::{
    auth::{Role, dev::DevIssuer},
    config::Settings,
    http::App,
    server,
};

/// The server's database URL (scripts/db prints one); tests create databases beside it.
pub fn base_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must point at Postgres with pgvector (run scripts/test)")
}

fn url_for(db: &str) -> String {
    let mut url = url::Url::parse(&base_url()).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{db}"));
    url.to_string()
}

/// One dev issuer key for the whole test process (key generation is the slow part).
static DATA_DIR: Lazy<PathBuf> = Lazy::new(|| {
    let dir = std::env::temp_dir().join(format!("voiceforge-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp data dir");
    DevIssuer::load_or_create(&dir).expect("dev issuer key");
    dir
});

/// A migrated database of its own, dropped when the test ends.
pub struct TestDb {
    /// Its name.
    pub name: String,
    /// Its URL, as the application role.
    pub url: String,
    /// A pool on it.
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> Self {
        let db = Self::empty().await;
        voiceforge::db::migrate(&db.url).await.expect("migrate test database");
        db
    }

    /// A database with no schema (pgvector only, from template1).
    pub async fn empty() -> Self {
        let name = format!("vf_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&base_url()).await.expect("connect to DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = url_for(&name);
        let pool = PgPoolOptions::new().max_connections(20).connect(&url).await.expect("connect test database");
        Self { name, url, pool }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop on a thread of its own: Drop cannot await, and the test's runtime is blocked
        // here. FORCE ends the pool's connections, which belong to that runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&base_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Settings for a test database, with `extra` variables on top.
pub fn settings(db_url: &str, extra: &[(&str, &str)]) -> Settings {
    voiceforge::telemetry::init();
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("DATABASE_URL".into(), db_url.into());
    vars.insert("VOICEFORGE_DATA_DIR".into(), DATA_DIR.display().to_string());
    vars.insert("DATABASE_MAX_CONNECTIONS".into(), "20".into());
    // Tests start many crawls and generations quickly; the rate-limit tests set their own budgets.
    vars.insert("RATE_LIMIT_CRAWL_STARTS".into(), "1000,1000".into());
    vars.insert("RATE_LIMIT_GENERATION".into(), "1000,1000".into());
    vars.insert("VOICEFORGE_MODEL_DIR".into(), model_dir().display().to_string());
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings")
}

/// The local embedding model (scripts/test fetches it with scripts/model).
pub fn model_dir() -> PathBuf {
    std::env::var_os("VOICEFORGE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.voiceforge/models/all-MiniLM-L6-v2"))
}

/// The app on a fresh database, with the dev issuer on.
pub struct TestApp {
    pub db: TestDb,
    pub app: App,
    pub router: Router,
    issuer: Arc<DevIssuer>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts a problem+json answer with `status` and `code`.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.headers["content-type"], "application/problem+json");
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status);
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    }
}

/// Sends one request through a router and reads the whole response.
pub async fn call(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    TestResponse { status: parts.status.as_u16(), headers: parts.headers, body }
}

/// A GET with a bearer token.
pub fn get_with_token(path: &str, token: &str) -> Request<Body> {
    Request::get(path).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap()
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let app = server::build_app(settings(&db.url, extra), true).expect("build app");
        let issuer = app.dev_issuer.clone().expect("dev issuer");
        let router = server::router(app.clone(), std::path::Path::new("/nonexistent"));
        Self { db, app, router, issuer }
    }

    /// A dev session token (same verification path as Clerk's).
    pub fn token(&self, org: &str, user: &str, role: Role) -> String {
        self.issuer.mint(org, user, role, None, Duration::from_secs(600)).expect("mint")
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        call(&self.router, request).await
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.request(get_with_token(path, token)).await
    }

    /// Counts rows of `table` across all organizations, reading as the system path.
    pub async fn count_all(&self, table: &str) -> i64 {
        let mut tx = self.db.pool.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&mut *tx)
            .await
            .unwrap()
    }
}
