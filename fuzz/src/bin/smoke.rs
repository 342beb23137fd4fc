//! The stable smoke harness from the command line (`scripts/fuzz --smoke`):
//! `smoke [SECONDS_PER_TARGET] [--target NAME] [--seed N]`. It exits non-zero on a finding;
//! the seed is printed, and the same seed replays the same inputs.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut seconds = 2.0f64;
    let mut only: Option<String> = None;
    let mut seed: u64 =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--target" => only = args.next(),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).expect("--seed takes a number"),
            s => seconds = s.parse().expect("usage: smoke [SECONDS_PER_TARGET] [--target NAME] [--seed N]"),
        }
    }
    // Panics are findings, reported with their input; a backtrace line per panic would only
    // repeat them.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (passed, failed) = voiceforge_fuzz::smoke::run(&root, seconds, only.as_deref(), seed);
    println!("smoke: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
