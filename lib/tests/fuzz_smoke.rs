//! The fuzz targets (fuzz/src/lib.rs) under their stable smoke harness, inside `cargo test`:
//! each target's properties over its checked-in seeds, then over random mutations of them,
//! for `VOICEFORGE_FUZZ_SECONDS` per target (default 2). It shares the workspace's build,
//! so CI pays seconds, not a second dependency build; `scripts/fuzz` runs the same bodies
//! coverage-guided under cargo fuzz for as long as you like.

#[path = "../../fuzz/src/lib.rs"]
mod fuzz;

#[test]
fn every_fuzz_target_keeps_its_properties_over_its_seeds_and_random_inputs() {
    let seconds: f64 = std::env::var("VOICEFORGE_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let seed = std::env::var("VOICEFORGE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let (passed, failed) = fuzz::smoke::run(&root, seconds, None, seed);
    assert_eq!(
        failed, 0,
        "a fuzz target failed a property (VOICEFORGE_FUZZ_SEED={seed} replays it; input under fuzz/artifacts/)"
    );
    assert_eq!(passed, fuzz::TARGETS.len(), "every target ran");
}
