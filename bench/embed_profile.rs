//! Query embedding alone (the step that dominates the hybrid search's latency): loads the
//! local model, embeds short search queries one at a time as `POST /api/search` does, and
//! prints the p50. `bench/profile-search` runs it under callgrind, collecting only inside
//! `LocalModel::embed`, to show where the time goes.
//!
//!   embed_profile [queries]

use std::{path::PathBuf, time::Instant};

use voiceforge::embed::local::shared_model;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(40);
    let dir = std::env::var_os("VOICEFORGE_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".voiceforge/models/all-MiniLM-L6-v2"));
    let model = shared_model(&dir).expect("local model (run scripts/model)");
    let questions =
        ["how do I get my money back", "reset a forgotten password", "export a billing report", "invite my team"];
    model.embed(&[questions[0].to_owned()]).unwrap();
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            let t = Instant::now();
            let e = model.embed(&[questions[i % questions.len()].to_owned()]).unwrap();
            assert_eq!(e.vectors[0].len(), 384);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "query embedding alone, {n} queries: p50 {:.2} ms, p99 {:.2} ms",
        times[(times.len() - 1) / 2],
        times[((times.len() - 1) as f64 * 0.99).round() as usize]
    );
}
