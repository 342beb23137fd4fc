//! The built `voiceforge` binary as a child process, tokens its dev issuer accepts, polling
//! with deadlines, and reads of a test database through the audited system path.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use once_cell::sync::Lazy;
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    time::Instant,
};
use voiceforge::auth::{Role, dev::DevIssuer};

/// The binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_voiceforge");

/// One data folder (dev issuer key) for every process this test binary starts: key
/// generation is slow in debug builds.
static DATA_DIR: Lazy<(PathBuf, DevIssuer)> = Lazy::new(|| {
    let dir = std::env::temp_dir().join(format!("voiceforge-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp data dir");
    let issuer = DevIssuer::load_or_create(&dir).expect("dev issuer key");
    (dir, issuer)
});

/// The shared data folder.
pub fn data_dir() -> &'static Path {
    &DATA_DIR.0
}

/// A session token `voiceforge serve` (same data folder) accepts.
pub fn token(org: &str, user: &str, role: Role) -> String {
    DATA_DIR.1.mint(org, user, role, None, Duration::from_secs(3600)).expect("mint")
}

/// An HTTP client for talking to the server under test.
pub fn client() -> reqwest::Client {
    voiceforge::http::install_crypto_provider();
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap()
}

/// Polls `check` every 50 ms until it yields a value; panics naming `what` at the deadline.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Variables every child process gets, on top of a cleared environment.
fn base_env(database_url: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
        ("NO_COLOR".to_owned(), "1".to_owned()),
        ("RUST_LOG".to_owned(), "info,sqlx=warn".to_owned()),
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("VOICEFORGE_DATA_DIR".to_owned(), data_dir().display().to_string()),
        ("EMBEDDING_PROVIDER".to_owned(), "none".to_owned()),
        ("LLM_PROVIDER".to_owned(), "extractive".to_owned()),
        ("RATE_LIMIT_READS".to_owned(), "0,0".to_owned()),
        ("RATE_LIMIT_WRITES".to_owned(), "0,0".to_owned()),
        ("RATE_LIMIT_CRAWL_STARTS".to_owned(), "0,0".to_owned()),
    ];
    if let Ok(dir) = std::env::var("VOICEFORGE_MODEL_DIR") {
        env.push(("VOICEFORGE_MODEL_DIR".to_owned(), dir));
    }
    env
}

/// A child process with its stderr collected line by line.
pub struct Process {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Process {
    fn spawn(args: &[&str], database_url: &str, extra: &[(&str, String)]) -> Self {
        let mut command = Command::new(BIN);
        command.args(args).env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command.kill_on_drop(true);
        for (k, v) in base_env(database_url) {
            command.env(k, v);
        }
        for (k, v) in extra {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("start the voiceforge binary");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let sink = lines.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    sink.lock().unwrap().push(line);
                }
            });
        }
        Self { child, lines }
    }

    /// Everything it printed so far (stderr and stdout interleaved by arrival).
    pub fn output(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Kills it with SIGKILL (no shutdown code runs) and reaps it.
    pub async fn kill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("reap");
    }

    /// Its process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for it to exit on its own within `within`; returns whether it succeeded.
    pub async fn wait(&mut self, within: Duration) -> bool {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => status.expect("wait").success(),
            Err(_) => panic!("the process did not exit within {within:?}:\n{}", self.output().join("\n")),
        }
    }
}

/// `voiceforge import-legacy` with its arguments.
pub fn import_legacy(database_url: &str, args: &[&str]) -> Process {
    let mut all = vec!["import-legacy"];
    all.extend_from_slice(args);
    Process::spawn(&all, database_url, &[])
}

/// `voiceforge serve` on a free loopback port.
pub struct Serve {
    /// The process.
    pub process: Process,
    /// `http://127.0.0.1:port`.
    pub base: String,
}

impl Serve {
    /// Starts the server on `database_url` with `extra` variables and waits until it listens.
    pub async fn start(database_url: &str, extra: &[(&str, String)]) -> Self {
        let process = Process::spawn(
            &["serve", "--host", "127.0.0.1", "--port", "0", "--frontend-dir", "/nonexistent"],
            database_url,
            extra,
        );
        let mut serve = Self { process, base: String::new() };
        serve.base = eventually(Duration::from_secs(30), "voiceforge serve to listen", || {
            let lines = serve.process.output();
            let running = serve.process.running();
            async move {
                assert!(running, "voiceforge serve exited:\n{}", lines.join("\n"));
                lines.iter().find_map(|l| {
                    let at = l.find("listening on http://")? + "listening on ".len();
                    Some(l[at..].split_whitespace().next()?.to_owned())
                })
            }
        })
        .await;
        serve
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A GET with a bearer token: status, content type and JSON body (`Null` when not JSON).
pub async fn get(http: &reqwest::Client, url: &str, token: &str) -> (u16, String, Value) {
    let res = http.get(url).bearer_auth(token).send().await.expect("request");
    answer(res).await
}

/// A JSON POST with a bearer token.
pub async fn post(http: &reqwest::Client, url: &str, token: &str, body: &Value) -> (u16, String, Value) {
    let res = http.post(url).bearer_auth(token).json(body).send().await.expect("request");
    answer(res).await
}

async fn answer(res: reqwest::Response) -> (u16, String, Value) {
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = res.bytes().await.unwrap_or_default();
    (status, ct, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Runs `sql` on `pool` as the system path (every organization's rows visible).
pub async fn system_rows<T>(pool: &sqlx::PgPool, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.system', 'on', true)").execute(&mut *tx).await.unwrap();
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    rows
}

/// One number from `sql` (e.g. a count), as the system path.
pub async fn system_count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    system_rows::<(i64,)>(pool, sql).await[0].0
}
