//! The deployment as Vercel builds and runs it. `.vercel/output` comes from `vercel build`
//! (scripts/vercel-build); its routes are applied as Vercel applies them, and every function's
//! executable from the bundle is started as Vercel's platform starts it: with the runtime's IPC
//! socket at `VERCEL_IPC_PATH`, requests carrying the invocation and request ids, and the
//! socket reading `server-started`, `log` and `end` messages.
//!
//! Run after the build (scripts/test does both):
//! `scripts/vercel-build --check && cargo test -p voiceforge-api --features deploy-test --test deploy`.
//! Without the build output every test fails and says so: it never passes by skipping.

mod support;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use base64::Engine;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};
use support::{PUBLIC_KEY, cargo_bins, clerk_token, drop_database, free_port, fresh_database, root};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    sync::mpsc,
    time::Instant,
};
use voiceforge::routes::Endpoint;

// ---------------------------------------------------------------------------------------------
// The build output
// ---------------------------------------------------------------------------------------------

/// `.vercel/output` as read once: config.json, functions by URL path, static files.
struct Output {
    dir: PathBuf,
    config: Value,
    /// `/api/crawls/[id]` → its `.func` folder.
    functions: BTreeMap<String, PathBuf>,
    /// `/index.html`, `/assets/…`.
    statics: BTreeSet<String>,
}

fn output() -> &'static Output {
    static OUTPUT: OnceLock<Output> = OnceLock::new();
    OUTPUT.get_or_init(|| {
        let dir = root().join(".vercel/output");
        let config = dir.join("config.json");
        let text = std::fs::read_to_string(&config).unwrap_or_else(|err| {
            panic!(
                "{} is missing ({err}): build the deployment first with scripts/vercel-build --check \
                 (scripts/test runs it before this test)",
                config.display()
            )
        });
        let mut functions = BTreeMap::new();
        let mut statics = BTreeSet::new();
        walk(&dir.join("functions"), &mut |path, is_dir| {
            let rel = path.strip_prefix(dir.join("functions")).unwrap().to_string_lossy().into_owned();
            if let Some(route) = rel.strip_suffix(".func").filter(|_| is_dir) {
                functions.insert(format!("/{route}"), path.to_owned());
                return false;
            }
            true
        });
        walk(&dir.join("static"), &mut |path, is_dir| {
            if !is_dir {
                statics.insert(format!("/{}", path.strip_prefix(dir.join("static")).unwrap().to_string_lossy()));
            }
            true
        });
        Output { config: serde_json::from_str(&text).unwrap(), dir, functions, statics }
    })
}

/// Visits `dir` recursively; `visit` returns whether to descend into a folder.
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path, bool) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        let is_dir = path.is_dir();
        if visit(&path, is_dir) && is_dir {
            walk(&path, visit);
        }
    }
}

fn vercel_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("vercel.json")).unwrap()).unwrap()
}

/// `/api/crawls/[id]`: the URL path of the function built from an endpoint's file.
fn function_route(endpoint: Endpoint) -> String {
    format!("/{}", endpoint.function_file().strip_suffix(".rs").unwrap())
}

/// The executable a `.func` runs: the bundle's own file, or the file its `filePathMap` names
/// (`vercel build` references the cargo output; `vercel deploy --prebuilt` uploads it).
fn executable(func: &Path) -> PathBuf {
    let config: Value = serde_json::from_str(&std::fs::read_to_string(func.join(".vc-config.json")).unwrap()).unwrap();
    let handler = config["handler"].as_str().expect("handler");
    let inside = func.join(handler);
    if inside.is_file() {
        return inside;
    }
    let mapped = config["filePathMap"][handler].as_str().unwrap_or_else(|| panic!("{}: no {handler}", func.display()));
    root().join(mapped)
}

// ---------------------------------------------------------------------------------------------
// Vercel's routing, as the CLI's own router applies config.json (phases: the routes before
// `filesystem`, a filesystem check, the routes after `filesystem` with `check` rewrites that
// re-check the filesystem, and `miss` routes when nothing is found)
// ---------------------------------------------------------------------------------------------

/// What a request resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Served {
    /// A function, by its route, with the query it receives.
    Function { route: String, query: Vec<(String, String)> },
    /// A static file.
    Static(String),
    /// Nothing (Vercel's 404).
    NotFound,
}

#[derive(Debug)]
struct RouteResult {
    found: bool,
    dest: String,
    query: Vec<(String, String)>,
    continues: bool,
    status: Option<u64>,
}

fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let pairs = url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    (if path.is_empty() { "/".to_owned() } else { path.to_owned() }, pairs)
}

/// `dest` with `$1`, `$name` replaced by the match's groups.
fn resolve_parameters(dest: &str, captures: &fancy_regex::Captures<'_, str>, names: &[Option<&str>]) -> String {
    let mut out = String::new();
    let mut rest = dest;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let len = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let key = &tail[..len];
        let value = match key.parse::<usize>() {
            Ok(n) => captures.get(n).map(|m| m.as_str()),
            Err(_) => names.iter().position(|n| *n == Some(key)).and_then(|i| captures.get(i)).map(|m| m.as_str()),
        };
        out.push_str(value.unwrap_or(""));
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

struct Router<'a> {
    output: &'a Output,
    phases: HashMap<Option<String>, Vec<Value>>,
}

impl<'a> Router<'a> {
    fn new(output: &'a Output) -> Self {
        let mut phases: HashMap<Option<String>, Vec<Value>> = HashMap::new();
        let mut phase: Option<String> = None;
        for route in output.config["routes"].as_array().expect("config.json routes") {
            if let Some(handle) = route["handle"].as_str() {
                phase = Some(handle.to_owned());
                phases.entry(phase.clone()).or_default();
            } else {
                phases.entry(phase.clone()).or_default().push(route.clone());
            }
        }
        Self { output, phases }
    }

    fn lookup(&self, path: &str) -> Option<Served> {
        if self.output.functions.contains_key(path) {
            return Some(Served::Function { route: path.to_owned(), query: vec![] });
        }
        let file = if path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
        self.output.statics.contains(&file).then_some(Served::Static(file))
    }

    fn phase(&self, name: &str) -> &[Value] {
        self.phases.get(&Some(name.to_owned())).map(Vec::as_slice).unwrap_or_default()
    }

    /// One phase's routes over `url` (the CLI's `devRouter`).
    fn run_phase(&self, url: &str, method: &str, routes: &[Value], miss: &[Value], phase: Option<&str>) -> RouteResult {
        let (mut path, query) = split_url(url);
        let mut continues = false;
        let mut status = None;
        for route in routes {
            continues = false;
            if let Some(methods) = route["methods"].as_array()
                && !methods.iter().any(|m| m.as_str() == Some(method))
            {
                continue;
            }
            let Some(src) = route["src"].as_str() else { continue };
            let regex = fancy_regex::Regex::new(&format!("(?i){src}")).unwrap_or_else(|e| panic!("route {src}: {e}"));
            let captures = match regex.captures(path.as_str()).unwrap() {
                Some(c) => Some(c),
                None => regex.captures(&path[1..]).unwrap(),
            };
            let Some(captures) = captures else { continue };
            let names: Vec<Option<&str>> = regex.capture_names().collect();
            let dest =
                route["dest"].as_str().map_or_else(|| path.clone(), |d| resolve_parameters(d, &captures, &names));
            if route["continue"].as_bool() == Some(true) {
                status = route["status"].as_u64().or(status);
                path = dest;
                continues = true;
                continue;
            }
            let route_status = route["status"].as_u64();
            if route["check"].as_bool() == Some(true) && phase != Some("hit") {
                let (dest_path, _) = split_url(&dest);
                if self.lookup(&dest_path).is_none() && !(route_status.is_some() && phase != Some("miss")) {
                    if !miss.is_empty() {
                        let result = self.run_phase(&dest, method, miss, &[], Some("miss"));
                        if result.found {
                            return result;
                        }
                    }
                    path = dest;
                    continue;
                }
            }
            let dest = if dest.starts_with('/') { dest } else { format!("/{dest}") };
            let (dest_path, mut dest_query) = split_url(&dest);
            // The request's own parameters win over the rewrite's.
            for (k, v) in &query {
                dest_query.retain(|(dk, _)| dk != k);
                dest_query.push((k.clone(), v.clone()));
            }
            return RouteResult {
                found: true,
                dest: dest_path,
                query: dest_query,
                continues,
                status: route_status.or(status),
            };
        }
        RouteResult { found: false, dest: path, query, continues, status }
    }

    /// Where `method url` lands.
    fn resolve(&self, method: &str, url: &str) -> Served {
        let miss = self.phase("miss");
        let mut previous = url.to_owned();
        for phase in [None, Some("filesystem")] {
            let routes = self.phases.get(&phase.map(str::to_owned)).map(Vec::as_slice).unwrap_or_default();
            let mut result = self.run_phase(&previous, method, routes, miss, phase);
            if result.continues {
                previous = with_query(&result.dest, &result.query);
            }
            let mut found = self.lookup(&result.dest);
            if found.is_none() && !miss.is_empty() {
                result = self.run_phase(&with_query(&result.dest, &result.query), method, miss, &[], Some("miss"));
                found = self.lookup(&result.dest);
            }
            if let Some(served) = found {
                return match served {
                    Served::Function { route, .. } => Served::Function { route, query: result.query },
                    other => other,
                };
            }
            if result.status.is_some() || (phase.is_none() && !self.phases.contains_key(&Some("filesystem".into()))) {
                break;
            }
        }
        Served::NotFound
    }
}

fn with_query(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let encoded: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
    format!("{path}?{encoded}")
}

/// Every path and method of docs/openapi.yaml, `{id}`s as written.
fn openapi_operations() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("docs/openapi.yaml")).unwrap();
    let spec: Value = serde_norway::from_str(&text).unwrap();
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("openapi paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.push((path.clone(), method.to_ascii_uppercase()));
            }
        }
    }
    assert!(!operations.is_empty());
    operations
}

const SAMPLE_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

#[test]
fn every_openapi_operation_reaches_the_function_owning_its_endpoint_dynamic_segments_included() {
    let router = Router::new(output());
    for (path, method) in openapi_operations() {
        let endpoint =
            *Endpoint::ALL.iter().find(|e| e.path() == path).unwrap_or_else(|| panic!("{path} is in no route"));
        let url = path.replace("{id}", SAMPLE_ID);
        let served = router.resolve(&method, &url);
        let Served::Function { route, query } = &served else { panic!("{method} {url} reaches {served:?}") };
        assert_eq!(*route, function_route(endpoint), "{method} {url}");
        if path.contains("{id}") {
            assert!(query.contains(&("id".to_owned(), SAMPLE_ID.to_owned())), "{method} {url}: the id in {query:?}");
        }
    }
}

#[test]
fn the_output_has_one_function_per_endpoint_and_nothing_else_answers_under_api() {
    let out = output();
    let expected: BTreeSet<String> = Endpoint::ALL.iter().map(|e| function_route(*e)).collect();
    let built: BTreeSet<String> = out.functions.keys().cloned().collect();
    assert_eq!(built, expected, "functions in .vercel/output vs the route table");
    assert!(!out.statics.iter().any(|s| s.starts_with("/api/")), "static files under /api/");
    let router = Router::new(out);
    let mut probes = vec![
        "/api/unknown".to_owned(),
        "/api/unknown/deeper".into(),
        "/api/health/extra".into(),
        "/api/dev/token".into(),
        "/api/dev/jwks.json".into(),
        "/api/organizations".into(),
        format!("/api/crawls/{SAMPLE_ID}/unknown"),
        format!("/api/crawls/{SAMPLE_ID}/pages/extra"),
        "/api/".into(),
    ];
    // Every endpoint's path with one more segment.
    probes.extend(Endpoint::ALL.iter().map(|e| format!("{}/nothing-here", e.path().replace("{id}", SAMPLE_ID))));
    // A probe that fits a documented path (`/api/organizations/users/nothing-here` is a user
    // id) is that endpoint's, not an unknown path.
    let documented: BTreeSet<String> = openapi_operations().into_iter().map(|(p, _)| p).collect();
    let fits = |probe: &str, template: &str| {
        let (a, b): (Vec<&str>, Vec<&str>) = (probe.split('/').collect(), template.split('/').collect());
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || (*y == "{id}" && !x.is_empty()))
    };
    for probe in probes.iter().filter(|p| !documented.iter().any(|t| fits(p, t))) {
        for method in ["GET", "POST"] {
            assert_eq!(router.resolve(method, probe), Served::NotFound, "{method} {probe} must answer 404");
        }
    }
    // Vercel's `miss` route hands `/api/x.rs` to function x, whose router knows only its own
    // paths (tests/functions.rs) and answers 404: the source file name reaches no handler.
    let served = router.resolve("GET", "/api/health.rs");
    assert_eq!(served, Served::Function { route: "/api/health".into(), query: vec![] });
}

#[test]
fn deep_links_reach_the_single_page_app_and_unknown_api_paths_do_not() {
    let router = Router::new(output());
    for link in ["/", "/crawls", &format!("/crawls/{SAMPLE_ID}"), &format!("/library/{SAMPLE_ID}"), "/templates/new"] {
        assert_eq!(router.resolve("GET", link), Served::Static("/index.html".into()), "{link}");
    }
    let asset = output().statics.iter().find(|s| s.starts_with("/assets/")).expect("the frontend's assets");
    assert_eq!(router.resolve("GET", asset), Served::Static(asset.clone()));
    assert_eq!(router.resolve("GET", "/api/unknown"), Served::NotFound);
    let index = std::fs::read_to_string(output().dir.join("static/index.html")).unwrap();
    assert!(index.contains("<div id=\"root\">"), "static/index.html is the frontend's");
}

#[test]
fn config_json_carries_the_cron_and_each_function_the_max_duration_of_vercel_json() {
    let out = output();
    let vercel = vercel_json();
    assert_eq!(out.config["version"], 3);
    assert_eq!(out.config["crons"], vercel["crons"], "crons of config.json vs vercel.json");
    let crons = out.config["crons"].as_array().unwrap();
    assert!(crons.iter().any(|c| c["path"] == "/api/cron/crawl"), "{crons:?}");
    let max_duration = vercel["functions"]["api/**/*.rs"]["maxDuration"].as_u64().unwrap();
    for (route, func) in &out.functions {
        let config: Value =
            serde_json::from_str(&std::fs::read_to_string(func.join(".vc-config.json")).unwrap()).unwrap();
        assert_eq!(config["maxDuration"].as_u64(), Some(max_duration), "{route}");
        assert_eq!(config["runtime"], "executable", "{route}");
        assert_eq!(config["runtimeLanguage"], "rust", "{route}");
        assert_eq!(config["supportsResponseStreaming"], true, "{route}");
        assert!(executable(func).is_file(), "{route}: {} is missing", executable(func).display());
    }
}

// ---------------------------------------------------------------------------------------------
// Functions started as Vercel's platform starts them
// ---------------------------------------------------------------------------------------------

/// The platform's side of one function instance: the process and its IPC socket.
struct Instance {
    child: Child,
    port: u16,
    messages: mpsc::UnboundedReceiver<Value>,
    stderr: PathBuf,
    next_request: u64,
    socket: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// An answer and what the socket said about its request.
struct Invocation {
    status: u16,
    body: Value,
    /// When the response had arrived.
    answered: Instant,
    /// When the `end` message arrived.
    ended: Instant,
    /// The request's `log` lines, decoded, with their levels.
    logs: Vec<(String, String)>,
}

const CRON_SECRET: &str = "deploy-cron-secret";
const ADMIN_TOKEN: &str = "deploy-admin-token";
const ORG: &str = "org_deploy";
const USER: &str = "user_deploy";

fn webhook_secret() -> String {
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(b"deploy-webhook-secret"))
}

/// The environment a deployment sets, plus `extra`.
fn environment(database_url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("DATABASE_URL", database_url),
        ("CLERK_ISSUER", support::ISSUER),
        ("CLERK_JWT_KEY", PUBLIC_KEY),
        ("CRON_SECRET", CRON_SECRET),
        ("VOICEFORGE_ADMIN_TOKEN", ADMIN_TOKEN),
        ("RATE_LIMIT_READS", "1000000,1000000"),
        ("RATE_LIMIT_WRITES", "1000000,1000000"),
        ("RATE_LIMIT_GENERATION", "1000000,1000000"),
        ("RATE_LIMIT_CRAWL_STARTS", "1000000,1000000"),
        ("RUST_LOG", "info"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.push(("CLERK_WEBHOOK_SIGNING_SECRET".into(), webhook_secret()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// Starts the function at `route` from the bundle as the platform does: its IPC socket at
/// `VERCEL_IPC_PATH`, read until `server-started` names the HTTP port.
async fn start(route: &str, env: &[(String, String)]) -> Instance {
    let func = output().functions.get(route).unwrap_or_else(|| panic!("no function {route} in .vercel/output"));
    let exe = executable(func);
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let socket = std::env::temp_dir().join(format!("vf-ipc-{}.sock", &tag[..12]));
    let stderr = std::env::temp_dir().join(format!("vf-fn-{}.log", &tag[..12]));
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let child = Command::new(&exe)
        .env_clear()
        .envs(env.iter().cloned())
        .env("VERCEL_IPC_PATH", &socket)
        // The platform's port is 3000; a free one keeps parallel tests apart. The test uses the
        // port `server-started` reports, as the platform does.
        .env("VERCEL_DEV_PORT", free_port().to_string())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", exe.display()));
    let (stream, _) = tokio::time::timeout(Duration::from_secs(15), listener.accept())
        .await
        .unwrap_or_else(|_| panic!("{route} never connected to VERCEL_IPC_PATH"))
        .unwrap();
    let (tx, mut messages) = mpsc::unbounded_channel();
    tokio::spawn(read_messages(stream, tx));
    let started = tokio::time::timeout(Duration::from_secs(15), messages.recv())
        .await
        .unwrap_or_else(|_| panic!("{route}: no server-started message"))
        .expect("IPC message");
    assert_eq!(started["type"], "server-started", "{route}: first message {started}");
    let port = started["payload"]["httpPort"].as_u64().expect("httpPort") as u16;
    Instance { child, port, messages, stderr, next_request: 1, socket }
}

/// Reads the runtime's NUL-terminated JSON messages.
async fn read_messages(mut stream: tokio::net::UnixStream, tx: mpsc::UnboundedSender<Value>) {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        let Ok(n) = stream.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..n]);
        while let Some(end) = buffer.iter().position(|b| *b == 0) {
            let message: Value = serde_json::from_slice(&buffer[..end]).expect("an IPC message is JSON");
            buffer.drain(..=end);
            let _ = tx.send(message);
        }
    }
}

/// A credential a request carries.
#[derive(Clone, Copy)]
enum Credential {
    Member,
    Operator,
    Cron,
    Svix,
}

impl Instance {
    /// Sends one request with Vercel's internal ids and waits for its `end` message.
    async fn call(&mut self, method: &str, url: &str, body: Option<&Value>, credential: Credential) -> Invocation {
        let id = self.next_request;
        self.next_request += 1;
        let invocation = format!("inv-deploy-{id}");
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut request = client
            .request(method.parse().unwrap(), format!("http://127.0.0.1:{}{url}", self.port))
            .header("x-vercel-internal-invocation-id", &invocation)
            .header("x-vercel-internal-request-id", id.to_string());
        let raw = body.map(|b| b.to_string());
        if let Some(raw) = &raw {
            request = request.header("content-type", "application/json").body(raw.clone());
        }
        request = match credential {
            Credential::Member => request.bearer_auth(clerk_token(ORG, USER)),
            Credential::Operator => request.bearer_auth(ADMIN_TOKEN),
            Credential::Cron => request.bearer_auth(CRON_SECRET),
            Credential::Svix => svix_headers(request, raw.as_deref().unwrap_or_default()),
        };
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let answered = Instant::now();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let mut logs = Vec::new();
        let ended = loop {
            let message = tokio::time::timeout(Duration::from_secs(120), self.messages.recv())
                .await
                .unwrap_or_else(|_| panic!("{method} {url}: no end message"))
                .unwrap_or_else(|| panic!("{method} {url}: the IPC socket closed before end"));
            let context = &message["payload"]["context"];
            assert_eq!(context["invocationId"], invocation.as_str(), "{method} {url}: {message}");
            assert_eq!(context["requestId"], id, "{method} {url}: {message}");
            match message["type"].as_str() {
                Some("log") => {
                    let encoded = message["payload"]["message"].as_str().expect("log message");
                    let line = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap())
                        .expect("a log line is UTF-8");
                    let level = message["payload"]["level"].as_str().unwrap_or("stream").to_owned();
                    logs.push((level, line));
                }
                Some("end") => {
                    assert_eq!(message["payload"]["error"], Value::Null, "{method} {url}: {message}");
                    break Instant::now();
                }
                other => panic!("{method} {url}: unexpected IPC message {other:?}: {message}"),
            }
        };
        for (_, line) in &logs {
            assert!(!line.contains('\u{1b}'), "{method} {url}: ANSI codes in a function log line: {line:?}");
        }
        Invocation { status, body, answered, ended, logs }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

/// Clerk's webhook signature (Svix): HMAC-SHA256 over `id.timestamp.body`.
fn svix_headers(request: reqwest::RequestBuilder, body: &str) -> reqwest::RequestBuilder {
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let key = base64::engine::general_purpose::STANDARD.decode(webhook_secret().trim_start_matches("whsec_")).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    request
        .header("svix-id", id)
        .header("svix-timestamp", timestamp)
        .header("svix-signature", format!("v1,{signature}"))
}

/// What each function is sent (as bench/functions sends it) and the status it must answer:
/// unknown ids answer the handler's 404 after authentication and the tenant transaction.
/// Functions not listed (new endpoints) get a member's GET of their path and must answer
/// from their handler with anything but a 5xx.
fn own_request(bin: &str) -> Option<(&'static str, Option<Value>, Credential, u16)> {
    Some(match bin {
        "health"
        | "organizations-current"
        | "organizations-users"
        | "organizations-usage"
        | "organizations-user"
        | "contents"
        | "audit"
        | "crawls"
        | "crawls-schedule"
        | "templates"
        | "voice"
        | "voice-guide"
        | "search-status"
        | "generations" => ("GET", None, Credential::Member, 200),
        "content" | "crawls-crawl" | "crawls-pages" | "templates-item" | "generations-item" => {
            ("GET", None, Credential::Member, 404)
        }
        "search" => ("POST", Some(json!({"query": "deployment check", "k": 5})), Credential::Member, 200),
        "voice-check" => {
            ("POST", Some(json!({"text": "A short text to score against the brand voice."})), Credential::Member, 200)
        }
        "generate" => ("POST", Some(json!({"template_id": SAMPLE_ID})), Credential::Member, 404),
        "crawls-cancel" => ("POST", None, Credential::Member, 404),
        "organizations-limits" => {
            ("PATCH", Some(json!({"organization": ORG, "max_users": 5})), Credential::Operator, 200)
        }
        "cron-crawl" => ("GET", None, Credential::Cron, 200),
        "webhooks-clerk" => {
            ("POST", Some(json!({"type": "session.created", "data": {"id": "sess_deploy"}})), Credential::Svix, 200)
        }
        _ => return None,
    })
}

/// Whether a response came from the router rather than a handler: an unknown path or method.
fn from_the_router(status: u16, body: &Value) -> bool {
    status == 405 || (status == 404 && body["detail"] == "no such endpoint")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_from_the_bundle_answers_its_own_requests_over_the_platforms_ipc() {
    voiceforge::http::install_crypto_provider();
    let db = fresh_database().await;
    let env = environment(&db, &[]);
    let operations = openapi_operations();
    // organizations-current first: the organization exists before operators change its limits.
    let mut bins = cargo_bins();
    bins.sort_by_key(|(name, _)| name != "organizations-current");
    for (bin, file) in bins {
        let endpoint = *Endpoint::ALL.iter().find(|e| e.function_file() == file).unwrap();
        let route = function_route(endpoint);
        let mut instance = start(&route, &env).await;
        let id = if endpoint == Endpoint::OrganizationsUser { USER } else { SAMPLE_ID };
        let url = endpoint.path().replace("{id}", id);
        let (method, body, credential, expected) = own_request(&bin).unwrap_or(("GET", None, Credential::Member, 0));
        let first = instance.call(method, &url, body.as_ref(), credential).await;
        if expected == 0 {
            assert!(first.status < 500, "{bin}: {method} {url} answered {} {}", first.status, first.body);
        } else {
            assert_eq!(first.status, expected, "{bin}: {method} {url}: {}", first.body);
        }
        assert!(!from_the_router(first.status, &first.body), "{bin}: {method} {url}: {}", first.body);
        if first.status == 404 {
            assert!(first.body["detail"].as_str().unwrap().ends_with("was not found"), "{bin}: {}", first.body);
        }
        // Started without EMBEDDING_PROVIDER: one warning, on the first request, over IPC.
        let warned = |i: &Invocation| i.logs.iter().any(|(level, l)| level == "warn" && l.contains("full-text only"));
        assert!(warned(&first), "{bin}: no full-text warning among {:?}", first.logs);

        // Every documented method of its path reaches its handler (never the router's 404/405).
        for (path, method) in operations.iter().filter(|(p, _)| *p == endpoint.path()) {
            let url = path.replace("{id}", id);
            let answer = instance.call(method, &url, None, Credential::Member).await;
            assert!(!from_the_router(answer.status, &answer.body), "{bin}: {method} {url}: {}", answer.body);
            assert!(answer.status < 500, "{bin}: {method} {url}: {} {}", answer.status, answer.body);
            assert!(!warned(&answer), "{bin}: the full-text warning is logged once");
        }
        // A path of another endpoint is not this function's.
        let other = if endpoint == Endpoint::Health { "/api/organizations/current" } else { "/api/health" };
        let answer = instance.call("GET", other, None, Credential::Member).await;
        assert_eq!(answer.status, 404, "{bin} must not serve {other}");
        assert!(!instance.stderr().contains("full-text only"), "{bin}: the warning went to stderr, not the socket");
    }
    drop_database(&db).await;
}

// ---------------------------------------------------------------------------------------------
// Crawls under the platform: wait_until, and the invocation's deadline
// ---------------------------------------------------------------------------------------------

/// A website on loopback: `/` links to `/p/0` … `/p/{pages - 1}`; every page is a readable
/// article sent in ten parts over `drip`. robots.txt and sitemaps are 404s.
struct Site {
    port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Site {
    async fn spawn(pages: usize, drip: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let counted = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut chunk = [0_u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_owned();
                    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                    *counted.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let page = match path.as_str() {
                        "/" => Some(article("Home", &(0..pages).map(|i| format!("/p/{i}")).collect::<Vec<_>>())),
                        p => p
                            .strip_prefix("/p/")
                            .and_then(|n| n.parse::<usize>().ok())
                            .filter(|n| *n < pages)
                            .map(|n| article(&format!("Page {n}"), &[])),
                    };
                    let Some(body) = page else {
                        let _ = socket
                            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                            .await;
                        return;
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    if socket.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    for part in body.as_bytes().chunks(body.len().div_ceil(10)) {
                        tokio::time::sleep(drip / 10).await;
                        if socket.write_all(part).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { port, hits }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn most_fetches_of_one_page(&self) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.starts_with("/p/") || *p == "/")
            .map(|(_, n)| *n)
            .max()
            .unwrap_or(0)
    }
}

/// A readable article whose words are its own, so no two pages are duplicates.
fn article(title: &str, links: &[String]) -> String {
    let words = ["harbor", "lantern", "meadow", "copper", "orchard", "signal", "granite", "willow", "ember", "compass"];
    let salt: usize = title.bytes().map(usize::from).sum();
    let paragraphs: String = (0..5)
        .map(|p| {
            let sentence: Vec<&str> = (0..40).map(|w| words[(salt * 7 + p * 13 + w * (p + 3)) % words.len()]).collect();
            format!("<p>{title}, part {p}: {}.</p>", sentence.join(" "))
        })
        .collect();
    let nav: String = links.iter().map(|l| format!("<li><a href=\"{l}\">{l}</a></li>")).collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><title>{title}</title></head><body><nav><ul>{nav}</ul></nav>\
         <main><article><h1>{title}</h1>{paragraphs}</article></main></body></html>"
    )
}

/// The crawl as `GET /api/crawls/{id}` shows it, through its own function.
async fn crawl_state(instance: &mut Instance, id: &str) -> Value {
    let answer = instance.call("GET", &format!("/api/crawls/{id}"), None, Credential::Member).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_crawl_answers_at_once_and_its_end_waits_for_the_advance_that_stored_pages() {
    voiceforge::http::install_crypto_provider();
    let db = fresh_database().await;
    let site = Site::spawn(5, Duration::from_millis(300)).await;
    let env = environment(&db, &[("CRAWL_ALLOW_PRIVATE_NETWORKS", "true"), ("CRAWL_MIN_DELAY_MS", "0")]);
    let mut crawls = start("/api/crawls", &env).await;
    let sent = Instant::now();
    let started = crawls.call("POST", "/api/crawls", Some(&json!({"url": site.url()})), Credential::Member).await;
    assert_eq!(started.status, 202, "{}", started.body);
    // Six pages at 300 ms, four at a time: the advance outlasts the response by far.
    assert!(started.answered - sent < Duration::from_millis(1500), "answered after {:?}", started.answered - sent);
    assert!(started.ended - started.answered > Duration::from_millis(400), "end came with the response");

    // By the time `end` arrived, the advance had finished the crawl and stored every page.
    let id = started.body["id"].as_str().unwrap().to_owned();
    let mut reader = start("/api/crawls/[id]", &env).await;
    let crawl = crawl_state(&mut reader, &id).await;
    assert_eq!(crawl["status"], "completed", "{crawl}");
    assert_eq!(crawl["pages"]["stored"], 6, "{crawl}");
    assert_eq!(site.most_fetches_of_one_page(), 1);
    drop_database(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advance_after_a_start_and_the_cron_end_inside_their_deadline_and_lose_no_page() {
    voiceforge::http::install_crypto_provider();
    let db = fresh_database().await;
    // Pages drip over 1.5 s, just inside a 3 s page timeout: an invocation that claimed
    // batches until its deadline would overrun it by a batch.
    let site = Site::spawn(20, Duration::from_millis(1500)).await;
    let budget = Duration::from_secs(8);
    let margin = Duration::from_secs(2);
    let slow = [
        ("CRAWL_ALLOW_PRIVATE_NETWORKS", "true"),
        ("CRAWL_MIN_DELAY_MS", "0"),
        ("CRAWL_CONCURRENCY", "2"),
        ("CRAWL_REQUEST_TIMEOUT_MS", "3000"),
        ("CRAWL_INVOCATION_SECONDS", "8"),
    ];
    let env = environment(&db, &slow);

    let mut crawls = start("/api/crawls", &env).await;
    let sent = Instant::now();
    let started = crawls.call("POST", "/api/crawls", Some(&json!({"url": site.url()})), Credential::Member).await;
    assert_eq!(started.status, 202, "{}", started.body);
    assert!(started.ended - sent < budget + margin, "the advance ended {:?} after the request", started.ended - sent);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let mut reader = start("/api/crawls/[id]", &env).await;
    let after_start = crawl_state(&mut reader, &id).await;
    let stored_first = after_start["pages"]["stored"].as_i64().unwrap();
    eprintln!(
        "start: answered after {:?}, ended after {:?}, {stored_first} pages stored",
        started.answered - sent,
        started.ended - sent
    );
    assert!(stored_first >= 1, "the advance stored pages: {after_start}");
    assert!(after_start["pages"]["queued"].as_i64().unwrap() > 0, "work is left for later: {after_start}");

    let mut cron = start("/api/cron/crawl", &env).await;
    let sent = Instant::now();
    let swept = cron.call("GET", "/api/cron/crawl", None, Credential::Cron).await;
    assert_eq!(swept.status, 200, "{}", swept.body);
    assert!(swept.answered - sent < budget + margin, "the cron answered after {:?}", swept.answered - sent);
    assert!(swept.ended - sent < budget + margin, "the cron ended after {:?}", swept.ended - sent);
    assert_eq!(swept.body["stopped_at_deadline"], false, "{}", swept.body);
    assert_eq!(swept.body["crawls_advanced"], 1, "{}", swept.body);
    let after_cron = crawl_state(&mut reader, &id).await;
    eprintln!("cron: answered after {:?}, pages {}", swept.answered - sent, after_cron["pages"]);
    let pages = &after_cron["pages"];
    assert!(pages["stored"].as_i64().unwrap() > stored_first, "the cron stored more: {after_cron}");
    assert_eq!(after_cron["status"], "running", "{after_cron}");
    // Nothing in between was lost: every discovered page is stored or back in the queue.
    assert_eq!(pages["discovered"], 21, "{after_cron}");
    assert_eq!(
        pages["stored"].as_i64().unwrap() + pages["queued"].as_i64().unwrap(),
        21,
        "stored + queued (leases returned) cover the site: {after_cron}"
    );

    // A longer invocation finishes the crawl: every page stored once, none fetched twice.
    let finish = environment(&db, &[slow[0], slow[1], ("CRAWL_CONCURRENCY", "8"), slow[3]]);
    let mut cron = start("/api/cron/crawl", &finish).await;
    let swept = cron.call("GET", "/api/cron/crawl", None, Credential::Cron).await;
    assert_eq!(swept.status, 200, "{}", swept.body);
    let done = crawl_state(&mut reader, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["pages"]["stored"], 21, "{done}");
    assert_eq!(site.most_fetches_of_one_page(), 1, "a page was fetched twice");
    drop_database(&db).await;
}

#[test]
fn a_production_frontend_build_without_a_clerk_key_fails_and_says_why() {
    let frontend = root().join("frontend");
    assert!(frontend.join("node_modules/.bin/vite").is_file(), "frontend/node_modules is missing (npm ci in frontend)");
    let out_dir = std::env::temp_dir().join(format!("vf-vite-{}", uuid::Uuid::new_v4().simple()));
    let build = Command::new("node_modules/.bin/vite")
        .args(["build", "--logLevel", "error", "--outDir"])
        .arg(&out_dir)
        .current_dir(&frontend)
        .env_remove("VITE_CLERK_PUBLISHABLE_KEY")
        .env_remove("VITE_DEV_SIGN_IN")
        .output()
        .expect("running vite");
    let _ = std::fs::remove_dir_all(&out_dir);
    let said = String::from_utf8_lossy(&build.stderr);
    assert!(!build.status.success(), "the build succeeded without a key");
    assert!(said.contains("VITE_CLERK_PUBLISHABLE_KEY is not set"), "{said}");
}
