//! Build-time inputs of the lib:
//! - rebuild when a migration changes: `sqlx::migrate!` embeds migrations/ at compile time,
//!   and cargo does not watch that folder on its own;
//! - the shortest `maxDuration` vercel.json gives a function, as
//!   `VOICEFORGE_MAX_DURATION_SECONDS`: Vercel ends an invocation there (background work
//!   included), and crawl and cron deadlines are derived from it (`config::FUNCTION_MAX_DURATION`).
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=../vercel.json");
    let seconds = match std::fs::read_to_string("../vercel.json") {
        Ok(text) => shortest_max_duration(&text).unwrap_or_else(|| {
            println!("cargo:warning=vercel.json sets no maxDuration; assuming Vercel's 300 s");
            300
        }),
        Err(err) => {
            println!("cargo:warning=reading ../vercel.json: {err}; assuming a maxDuration of 300 s");
            300
        }
    };
    println!("cargo:rustc-env=VOICEFORGE_MAX_DURATION_SECONDS={seconds}");
}

/// The smallest number after any `"maxDuration":` key (vercel.json sets it per function glob).
fn shortest_max_duration(json: &str) -> Option<u64> {
    json.match_indices("\"maxDuration\"")
        .filter_map(|(at, key)| {
            let rest = json[at + key.len()..].trim_start().strip_prefix(':')?.trim_start();
            rest[..rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())].parse().ok()
        })
        .min()
}
