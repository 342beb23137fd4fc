//! The stable smoke harness: every target's body (the same functions `cargo fuzz` drives)
//! over its checked-in seeds and any local corpus, then over random mutations of them for a
//! time budget. Not coverage-guided — that is `scripts/fuzz` — but it needs only the stable
//! toolchain, so it runs in `cargo test` (lib/tests/fuzz_smoke.rs) and `src/bin/smoke.rs`.
//! The same seed replays the same inputs; a failing input is saved under
//! `<root>/artifacts/<target>/`.

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use super::{TARGETS, Target};

/// One execution longer than this is reported as a hang (the crawler's extraction has no
/// business taking seconds on a 64 KiB input).
const HANG: Duration = Duration::from_secs(20);
/// The stack of a tokio worker thread, where the crawler runs these parsers.
const STACK: usize = 2 * 1024 * 1024;

/// xorshift64*: small, fast, and reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>], target: &Target) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next_u64() as u8;
            }
            2 => {
                let at = rng.below(len + 1);
                let byte = [0u8, 0xff, b'<', b'>', b'{', b'}', b'.', b'/', b'%', b' ', b'\n'][rng.below(11)];
                input.insert(at, if rng.below(2) == 0 { byte } else { rng.next_u64() as u8 });
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at..end);
            }
            4 if len > 0 => {
                // Repeat a slice: nesting, long runs, many tiny elements.
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                let chunk = input[at..end].to_vec();
                let cap = if rng.below(8) == 0 { 512 } else { 8 };
                let times = 1 + rng.below(cap);
                let insert: Vec<u8> = chunk.iter().copied().cycle().take(chunk.len() * times).collect();
                input.splice(end..end, insert);
            }
            5 | 6 if !target.dictionary.is_empty() => {
                let token = target.dictionary[rng.below(target.dictionary.len())].as_bytes();
                let at = rng.below(len + 1);
                input.splice(at..at, token.iter().copied());
            }
            7 if !pool.is_empty() => {
                // Splice: the head of this input, the tail of another.
                let other = &pool[rng.below(pool.len())];
                let (cut, from) = (rng.below(len + 1), rng.below(other.len() + 1));
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            8 if len > 1 => input.truncate(rng.below(len)),
            _ => {}
        }
    }
    input.truncate(target.max_len);
}

fn load_inputs(dirs: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

struct Finding {
    input: Vec<u8>,
    message: String,
}

/// Runs one target for `budget`; returns the executions done or the first failure.
fn run_target(root: &Path, target: &'static Target, budget: Duration, seed: u64) -> Result<u64, Finding> {
    let seeds = load_inputs(&[root.join("seeds").join(target.name), root.join("corpus").join(target.name)]);
    let current = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    // The watchdog: an execution that never returns is a finding too.
    let started = Arc::new(Mutex::new(Instant::now()));
    {
        let (current, done, started) = (current.clone(), done.clone(), started.clone());
        let name = target.name;
        let artifacts = root.join("artifacts").join(name);
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let since = started.lock().map(|s| s.elapsed()).unwrap_or_default();
                if since > HANG && !done.load(Ordering::Relaxed) {
                    let input = current.lock().map(|c| c.clone()).unwrap_or_default();
                    let path = save(&artifacts, &format!("hang-{seed}"), &input);
                    eprintln!("{name}: one execution ran over {HANG:?}; input saved to {}", path.display());
                    std::process::exit(1);
                }
            }
        });
    }
    let (current_in_worker, started_in_worker) = (current.clone(), started.clone());
    let worker = std::thread::Builder::new().stack_size(STACK).spawn(move || {
        let (current, started) = (current_in_worker, started_in_worker);
        let mut rng = Rng(seed | 1);
        let deadline = Instant::now() + budget;
        let mut pool = seeds.clone();
        let mut execs = 0u64;
        let mut next = 0usize;
        loop {
            let input = if next < seeds.len() {
                next += 1;
                seeds[next - 1].clone()
            } else {
                if Instant::now() >= deadline {
                    break;
                }
                let mut input = if pool.is_empty() { Vec::new() } else { pool[rng.below(pool.len())].clone() };
                mutate(&mut rng, &mut input, &pool, target);
                input
            };
            if let Ok(mut c) = current.lock() {
                c.clone_from(&input);
            }
            if let Ok(mut s) = started.lock() {
                *s = Instant::now();
            }
            let outcome = std::panic::catch_unwind(|| (target.run)(&input));
            execs += 1;
            if let Err(panic) = outcome {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "panic".into());
                return Err(Finding { input, message });
            }
            // Keep some mutants as parents: random walks reach deeper than one step.
            if execs.is_multiple_of(16) && pool.len() < 4096 {
                pool.push(input);
            }
        }
        Ok(execs)
    });
    let result = worker.expect("spawn the fuzz thread").join().unwrap_or_else(|_| {
        Err(Finding { input: current.lock().map(|c| c.clone()).unwrap_or_default(), message: "crashed".into() })
    });
    done.store(true, Ordering::Relaxed);
    result
}

fn save(dir: &Path, name: &str, input: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("smoke-{name}"));
    let _ = std::fs::write(&path, input);
    path
}

/// Runs the targets (all, or the one named `only`) for `seconds` each from `seed`, with
/// `root` the fuzz folder (seeds, corpus, artifacts); returns (passed, failed).
pub fn run(root: &Path, seconds: f64, only: Option<&str>, seed: u64) -> (usize, usize) {
    let budget = Duration::from_secs_f64(seconds);
    let targets: Vec<&'static Target> = TARGETS.iter().filter(|t| only.is_none_or(|o| o == t.name)).collect();
    assert!(!targets.is_empty(), "no target named {only:?}");
    let (mut passed, mut failed) = (0, 0);
    for target in targets {
        eprintln!("fuzz smoke: {} for {seconds}s, --seed {seed}", target.name);
        match run_target(root, target, budget, seed) {
            Ok(execs) => {
                passed += 1;
                eprintln!("fuzz smoke: {}: {execs} inputs, no property failed", target.name);
            }
            Err(finding) => {
                failed += 1;
                let path = save(&root.join("artifacts").join(target.name), &seed.to_string(), &finding.input);
                eprintln!(
                    "fuzz smoke: {} FAILED: {}\n  input saved to {}",
                    target.name,
                    finding.message,
                    path.display()
                );
            }
        }
    }
    (passed, failed)
}
