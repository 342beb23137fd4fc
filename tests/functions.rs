//! The Vercel side: the route table, `api/` and `[[bin]]`s agree, `vercel.json` is sound, and
//! each function binary, started as Vercel starts it, serves exactly its endpoint and links
//! no other endpoint's handlers.

mod support;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::json;
use support::{
    ISSUER, PRIVATE_KEY, PUBLIC_KEY, cargo_bins, clerk_token, drop_database, free_port, fresh_database, root,
};
use voiceforge::routes::Endpoint;

fn api_files(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        // Vercel skips paths containing /_ or /.: they are not functions.
        if rel.contains("/_") || rel.contains("/.") {
            continue;
        }
        if path.is_dir() {
            api_files(&path, out);
        } else if rel.ends_with(".rs") {
            out.insert(rel);
        }
    }
}

#[test]
fn every_route_has_exactly_one_function_file_and_bin_and_the_reverse() {
    let from_routes: BTreeSet<String> = Endpoint::ALL.iter().map(|e| e.function_file().to_owned()).collect();
    assert_eq!(from_routes.len(), Endpoint::ALL.len(), "two endpoints share a function file");
    let mut files = BTreeSet::new();
    api_files(&root().join("api"), &mut files);
    let bins = cargo_bins();
    let bin_paths: BTreeSet<String> = bins.iter().map(|(_, p)| p.clone()).collect();
    assert_eq!(bin_paths.len(), bins.len(), "two [[bin]]s share a path");
    assert_eq!(from_routes, files, "route table vs api/ files");
    assert_eq!(from_routes, bin_paths, "route table vs [[bin]] paths");
    for endpoint in Endpoint::ALL {
        let source = std::fs::read_to_string(root().join(endpoint.function_file())).unwrap();
        assert!(
            source.contains(&format!("const {{ voiceforge::routes::Endpoint::{endpoint:?}.function() }}")),
            "{} does not serve {endpoint:?}",
            endpoint.function_file()
        );
        assert!(source.lines().count() <= 10, "{} should stay a few lines", endpoint.function_file());
    }
}

#[test]
fn vercel_json_declares_functions_frontend_rewrite_and_crons_without_a_legacy_runtime() {
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("vercel.json")).unwrap()).unwrap();
    let text = config.to_string();
    assert!(!text.contains("\"runtime\""), "a runtime key selects the legacy community builder");
    assert!(config["functions"]["api/**/*.rs"]["maxDuration"].as_u64().is_some());
    assert_eq!(config["outputDirectory"], "frontend/dist");
    let rewrite = &config["rewrites"][0];
    assert_eq!(rewrite["destination"], "/index.html");
    assert!(rewrite["source"].as_str().unwrap().contains("(?!api/)"));
    for cron in config["crons"].as_array().unwrap() {
        let path = cron["path"].as_str().unwrap();
        assert!(Endpoint::ALL.iter().any(|e| e.path() == path), "cron {path} has no endpoint");
    }
}

struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A function binary of this package, built beside `health` for the tests.
fn function_exe(bin: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_health")).with_file_name(bin)
}

/// Starts a function binary as `vercel dev` does, on `VERCEL_DEV_PORT` without the IPC socket
/// (tests/deploy.rs starts the deployed ones as the platform does), and waits for it.
async fn start(bin: &str, database_url: &str) -> (Function, String) {
    let exe = function_exe(bin);
    let port = free_port();
    let function = Function(
        Command::new(&exe)
            .env_clear()
            .env("VERCEL_DEV_PORT", port.to_string())
            .env("DATABASE_URL", database_url)
            .env("CLERK_ISSUER", ISSUER)
            .env("CLERK_JWT_KEY", PUBLIC_KEY)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", exe.display())),
    );
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (function, base);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{bin} did not listen on {port}");
}

#[tokio::test]
async fn each_function_binary_serves_its_own_endpoint_and_nothing_else() {
    voiceforge::http::install_crypto_provider();
    let db = fresh_database().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = clerk_token("org_fn", "user_fn");
    for (name, path) in cargo_bins() {
        let endpoint = Endpoint::ALL.iter().find(|e| e.function_file() == path).unwrap();
        let (_function, base) = start(&name, &db).await;
        let url = format!("{base}{}", endpoint.path().replace("{id}", "user_fn"));
        let res = client.get(&url).bearer_auth(&token).send().await.unwrap();
        // Served by its own handler: anything but the router's "no such endpoint" and a 5xx
        // (an `{id}` that names nothing is a handler's 404; a POST-only route answers 405).
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(status.as_u16() < 500 && !body.contains("no such endpoint"), "{name} on {url}: {status} {body}");
        let other = if *endpoint == Endpoint::Health { "/api/organizations/current" } else { "/api/health" };
        let res = client.get(format!("{base}{other}")).send().await.unwrap();
        assert_eq!(res.status(), 404, "{name} must not serve {other}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    drop_database(&db).await;
}

/// The handler functions each endpoint's method router names (`handlers::module::function`),
/// read from the route table's source, `Endpoint::function`.
fn handlers_by_endpoint() -> Vec<(String, Vec<String>)> {
    let source = std::fs::read_to_string(root().join("lib/src/routes.rs")).unwrap();
    let start = source.find("pub const fn function").expect("Endpoint::function");
    let body = &source[start..start + source[start..].find("Function { endpoint").expect("its end")];
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    body.split("Endpoint::")
        .skip(1)
        .map(|arm| {
            let handlers = arm
                .split("handlers::")
                .skip(1)
                .map(|h| {
                    let module = ident(h);
                    format!("{module}::{}", ident(&h[module.len() + 2..]))
                })
                .collect();
            (ident(arm), handlers)
        })
        .collect()
}

#[test]
fn each_function_binary_links_its_own_handlers_and_no_other_endpoints() {
    let by_endpoint = handlers_by_endpoint();
    assert_eq!(by_endpoint.len(), Endpoint::ALL.len(), "every arm of Endpoint::function is read");
    for (name, path) in cargo_bins() {
        let endpoint = Endpoint::ALL.iter().find(|e| e.function_file() == path).unwrap();
        let nm =
            Command::new("nm").args(["-C", "--defined-only"]).arg(function_exe(&name)).output().expect("nm (binutils)");
        assert!(nm.status.success(), "nm {name}: {}", String::from_utf8_lossy(&nm.stderr));
        // `module::function` of every symbol defined under `voiceforge::handlers` (the handler
        // itself, its future, its closures).
        let linked: BTreeSet<String> = String::from_utf8_lossy(&nm.stdout)
            .lines()
            .filter_map(|l| l.splitn(3, ' ').nth(2)?.strip_prefix("voiceforge::handlers::"))
            .filter_map(|rest| {
                let mut path = rest.split("::");
                Some(format!("{}::{}", path.next()?, path.next()?))
            })
            .collect();
        let own = &by_endpoint.iter().find(|(e, _)| *e == format!("{endpoint:?}")).unwrap().1;
        assert!(!own.is_empty(), "{endpoint:?} names its handlers");
        for handler in own {
            assert!(linked.contains(handler), "{name} lacks its own handler {handler}");
        }
        for handler in by_endpoint.iter().flat_map(|(_, h)| h).filter(|h| !own.contains(h)) {
            assert!(!linked.contains(handler), "{name} links {handler}, another endpoint's handler");
        }
    }
}

#[tokio::test]
async fn a_dynamic_route_reads_its_id_from_the_path_or_from_vercels_query() {
    voiceforge::http::install_crypto_provider();
    let db = fresh_database().await;
    let (_function, base) = start("organizations-user", &db).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = clerk_token("org_dyn", "user_dyn");
    for path in ["/api/organizations/users/user_dyn?id=user_dyn", "/api/organizations/users/[id]?id=user_dyn"] {
        let res = client.get(format!("{base}{path}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["user_id"], "user_dyn");
    }
    drop_database(&db).await;
}

#[tokio::test]
async fn dev_sign_in_cannot_be_reached_from_a_function() {
    voiceforge::http::install_crypto_provider();
    let db = fresh_database().await;
    let (_function, base) = start("organizations-current", &db).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let res = client
        .post(format!("{base}/api/dev/token"))
        .json(&json!({"org": "org_x", "user": "user_x", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A token from a dev issuer (any key, iss "voiceforge-dev") is not accepted here.
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({"exp": iat + 60, "iat": iat, "nbf": iat - 10, "iss": "voiceforge-dev", "sid": "sess_d",
                        "sub": "user_x", "org_id": "org_x", "org_role": "org:admin"});
    let dev =
        encode(&Header::new(Algorithm::RS256), &claims, &EncodingKey::from_rsa_pem(PRIVATE_KEY.as_bytes()).unwrap())
            .unwrap();
    let res = client.get(format!("{base}/api/organizations/current")).bearer_auth(dev).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "invalid_issuer");
    drop_database(&db).await;
}

/// Every variable the settings read: each `"NAME"` literal in the non-test code of config.rs
/// and ratelimit.rs, plus the LLM variables built from a provider prefix.
fn settings_variables() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in ["lib/src/config.rs", "lib/src/ratelimit.rs"] {
        let source = std::fs::read_to_string(root().join(file)).unwrap();
        let code = &source[..source.find("#[cfg(test)]").unwrap_or(source.len())];
        for piece in code.split('"').skip(1).step_by(2) {
            let is_name = piece.contains('_')
                && piece.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !piece.starts_with("CARGO_")
                && !piece.starts_with("VOICEFORGE_MAX_DURATION");
            if is_name {
                names.insert(piece.to_owned());
            }
        }
    }
    for prefix in ["OPENAI", "ANTHROPIC"] {
        for suffix in ["API_KEY", "BASE_URL", "MODEL"] {
            names.insert(format!("{prefix}_{suffix}"));
        }
    }
    names
}

#[test]
fn the_readme_lists_each_setting_once_and_the_deploy_guide_names_every_one() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let guide = std::fs::read_to_string(root().join("docs/DEPLOY.md")).unwrap();
    let names = settings_variables();
    assert!(names.len() > 40 && names.contains("DATABASE_URL") && names.contains("OPENAI_MODEL"), "{names:?}");
    for name in &names {
        let rows = readme.lines().filter(|l| l.starts_with(&format!("| `{name}` |"))).count();
        assert_eq!(rows, 1, "README's configuration table lists {name} {rows} times");
        assert!(guide.contains(&format!("`{name}`")), "docs/DEPLOY.md does not name {name}");
    }
    assert!(readme.contains("(docs/DEPLOY.md)"), "the README links the deployment guide");
}
