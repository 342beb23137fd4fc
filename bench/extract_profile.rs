//! The crawler's CPU work per page, without fetching or storing: every HTML page of a local
//! site (by default Debian's python3-doc, bench/crawl's site) decoded, extracted and chunked
//! as the crawler does, on one thread, with each stage's cost. Run by `bench/profile-crawl`,
//! which also records a profile of it.

use std::{path::PathBuf, time::Instant};

use url::Url;
use voiceforge::crawl::{dom, extract, fetch};

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "/usr/share/doc/python3/html".into()));
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut pages = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable site folder").flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() && !name.starts_with('_') {
                stack.push(path);
            } else if name.ends_with(".html") {
                pages.push((
                    path.strip_prefix(&root).expect("under root").to_string_lossy().into_owned(),
                    std::fs::read(&path).expect("readable page"),
                ));
            }
        }
    }
    pages.sort();
    let bytes: usize = pages.iter().map(|(_, b)| b.len()).sum();
    let (mut parse, mut total, mut chunking) = (0.0f64, 0.0f64, 0.0f64);
    let mut chunks = 0usize;
    let (mut over, mut largest) = (0usize, 0i32);
    let mut slowest: Vec<(f64, &str)> = Vec::new();
    for _ in 0..rounds {
        for (path, body) in &pages {
            let url = Url::parse(&format!("http://127.0.0.1/{path}")).expect("page URL");
            let started = Instant::now();
            let html = fetch::decode_html(body, Some("text/html"));
            let parsed = Instant::now();
            let _ = dom::parse(&html, extract::MAX_ELEMENTS, extract::MAX_DEPTH);
            parse += parsed.elapsed().as_secs_f64();
            let again = Instant::now();
            let page = extract::extract(&html, &url);
            let took = again.elapsed().as_secs_f64() + (parsed - started).as_secs_f64();
            total += took;
            slowest.push((took, path));
            if let Ok(page) = page {
                let chunked = Instant::now();
                let made = voiceforge::content::chunking::chunk(&page.markdown);
                chunking += chunked.elapsed().as_secs_f64();
                chunks += made.len();
                let max = voiceforge::content::chunking::MAX_TOKENS as i32;
                over += made.iter().filter(|c| c.token_count > max).count();
                largest = made.iter().map(|c| c.token_count).max().unwrap_or(0).max(largest);
            }
        }
    }
    let n = (pages.len() * rounds) as f64;
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("{} pages, {:.1} MB; one thread", pages.len(), bytes as f64 / 1e6);
    println!(
        "extract (decode + parse + readability + markdown + links): {:.2} ms/page, {:.1} pages/s",
        total / n * 1e3,
        n / total
    );
    println!("of which the bounded parse alone: {:.2} ms/page ({:.0} %)", parse / n * 1e3, parse / total * 100.0);
    println!("chunking the markdown (cl100k-sized chunks): {:.2} ms/page, {chunks} chunks", chunking / n * 1e3);
    println!("  {over} chunks over {} tokens; largest {largest}", voiceforge::content::chunking::MAX_TOKENS);
    for (t, p) in slowest.iter().take(5) {
        println!("  slowest: {p} {:.1} ms", t * 1e3);
    }
}
