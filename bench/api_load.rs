//! Open-loop load generator for `bench/api`: sends GET requests at a fixed rate (as wrk2
//! does, which Debian's wrk cannot), each with the next token of a file, and measures every
//! latency from the moment the request was due, so a slow server cannot hide its queueing
//! (no coordinated omission). Prints one line of figures.
//!
//!   api_load <url> <tokens file> <requests per second> <seconds>

use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, tokens, rate, seconds] = &args[..] else {
        eprintln!("usage: api_load <url> <tokens file> <requests per second> <seconds>");
        std::process::exit(2);
    };
    let tokens: Vec<String> = std::fs::read_to_string(tokens).expect("tokens file").lines().map(String::from).collect();
    let rate: f64 = rate.parse().expect("rate");
    let seconds: f64 = seconds.parse().expect("seconds");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("http client");

    let total = (rate * seconds) as usize;
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let request = client.get(url.as_str()).bearer_auth(&tokens[i % tokens.len()]);
        tasks.push(tokio::spawn(async move {
            let ok = match request.send().await {
                Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
                Err(_) => false,
            };
            (ok, due.elapsed())
        }));
    }
    let sent_for = start.elapsed();
    let (mut latencies, mut errors) = (Vec::with_capacity(total), 0usize);
    for task in tasks {
        let (ok, latency) = task.await.expect("request task");
        if ok { latencies.push(latency) } else { errors += 1 }
    }
    latencies.sort();
    println!(
        "target {rate:.0} req/s, sent {total} in {:.1} s ({:.0} req/s), ok {}, errors {errors}, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sent_for.as_secs_f64(),
        total as f64 / sent_for.as_secs_f64(),
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
}
