//! The long fuzz run: the generators and targets of `tests/fuzz.rs`
//! (`tests/fuzz_gen/mod.rs`) for many more cases, each under
//! `catch_unwind`, with a watchdog for inputs that hang.
//!
//! `PROSPERO_FUZZ_CASES` cases per target (default 25,000: 100,000 inputs
//! across the three script loaders and the snippet compiler, plus the CSV
//! reader); `PROSPERO_FUZZ_SEED` picks the random stream (default fixed, so
//! a run is repeatable); `PROSPERO_FUZZ_HANG_SECS` (default 30) is how long
//! one input may run before it counts as a hang. Prints cases, accepted
//! inputs, panics and time per target; a panicking input is saved under
//! `target/fuzz-failures/` and the run exits 1 (3 on a hang).
//!
//! `cargo bench --profile fastrel --bench fuzz` builds it quickly
//! optimised; plain `cargo bench --bench fuzz` works too.

#[path = "../tests/fuzz_gen/mod.rs"]
mod fuzz_gen;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The input being run: target, case number, bytes (for the watchdog).
static CURRENT: Mutex<(&str, usize, Vec<u8>)> = Mutex::new(("", 0, Vec::new()));
/// Cases finished so far, all targets.
static DONE: AtomicU64 = AtomicU64::new(0);
/// The last panic's message and place, from the panic hook.
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().replace('_', "").parse().unwrap_or_else(|_| panic!("{name}={v}: not a number")),
        Err(_) => default,
    }
}

fn failures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("fuzz-failures")
}

struct Tally {
    target: &'static str,
    cases: usize,
    accepted: usize,
    panics: usize,
    time: Duration,
}

/// Run `cases` inputs from `strategy` through `run`.
fn fuzz<S: Strategy>(
    target: &'static str,
    cases: usize,
    seed: u64,
    strategy: S,
    bytes: impl Fn(&S::Value) -> Vec<u8>,
    run: impl Fn(&[u8]) -> bool,
) -> Tally {
    let mut seed32 = [0u8; 32];
    seed32[..8].copy_from_slice(&seed.to_le_bytes());
    seed32[8..8 + target.len().min(24)].copy_from_slice(&target.as_bytes()[..target.len().min(24)]);
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed32));
    let mut t = Tally { target, cases, accepted: 0, panics: 0, time: Duration::ZERO };
    let start = Instant::now();
    for n in 0..cases {
        let value = strategy.new_tree(&mut runner).expect("a generator never rejects").current();
        let input = bytes(&value);
        *CURRENT.lock().expect("current input") = (target, n, input.clone());
        match std::panic::catch_unwind(AssertUnwindSafe(|| run(&input))) {
            Ok(accepted) => t.accepted += usize::from(accepted),
            Err(_) => {
                t.panics += 1;
                let saved = fuzz_gen::save_failure(&failures_dir(), target, n, &input);
                if t.panics <= 5 {
                    let why = LAST_PANIC.lock().expect("panic text").clone();
                    println!("PANIC {target} case {n} (input saved to {}):\n  {why}", saved.display());
                }
            }
        }
        DONE.fetch_add(1, Ordering::Relaxed);
    }
    t.time = start.elapsed();
    t
}

/// Exit 3 when one input runs longer than `limit`, saving it.
fn watchdog(limit: Duration) {
    std::thread::spawn(move || {
        let mut last = DONE.load(Ordering::Relaxed);
        let mut since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let now = DONE.load(Ordering::Relaxed);
            if now != last {
                (last, since) = (now, Instant::now());
            } else if since.elapsed() > limit {
                let (target, n, input) = CURRENT.lock().map(|c| c.clone()).unwrap_or(("?", 0, Vec::new()));
                let saved = fuzz_gen::save_failure(&failures_dir(), &format!("hang-{target}"), n, &input);
                println!("HANG {target} case {n}: over {limit:?} (input saved to {})", saved.display());
                std::process::exit(3);
            }
        }
    });
}

fn main() {
    let cases = env_num("PROSPERO_FUZZ_CASES", 25_000) as usize;
    let seed = env_num("PROSPERO_FUZZ_SEED", 0x5052_4f53_5045_524f);
    watchdog(Duration::from_secs(env_num("PROSPERO_FUZZ_HANG_SECS", 30)));
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let msg: String = msg.chars().take(400).collect();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = format!("{msg}{place}");
    }));
    let corpus = fuzz_gen::corpus();
    println!(
        "fuzz: {cases} cases per target, seed {seed:#x}; seeds: {} native, {} studio JSON, {} studio XML, {} CSV, {} snippets; nesting <= {}",
        corpus.native.len(),
        corpus.studio_json.len(),
        corpus.studio_xml.len(),
        corpus.csv.len(),
        corpus.snippets.len(),
        fuzz_gen::MAX_NEST
    );
    let mut tallies = Vec::new();
    for target in ["native", "studio_json", "studio_xml"] {
        let seeds = fuzz_gen::script_seeds(target);
        tallies.push(fuzz(target, cases, seed, fuzz_gen::mutated(), |m| m.bytes(seeds), fuzz_gen::script_target));
    }
    tallies.push(fuzz(
        "snippet",
        cases,
        seed,
        fuzz_gen::snippet_input(),
        |s| s.text().into_bytes(),
        |b| fuzz_gen::snippet_target(&String::from_utf8_lossy(b)),
    ));
    let csv = fuzz_gen::script_seeds("csv");
    tallies.push(fuzz("csv", cases, seed, fuzz_gen::mutated(), |m| m.bytes(csv), fuzz_gen::csv_target));

    println!("{:<12} {:>9} {:>9} {:>7} {:>9} {:>10}", "target", "cases", "accepted", "panics", "seconds", "cases/s");
    let (mut total, mut panics, mut time) = (0, 0, Duration::ZERO);
    for t in &tallies {
        println!(
            "{:<12} {:>9} {:>9} {:>7} {:>9.1} {:>10.0}",
            t.target,
            t.cases,
            t.accepted,
            t.panics,
            t.time.as_secs_f64(),
            t.cases as f64 / t.time.as_secs_f64().max(1e-9)
        );
        total += t.cases;
        panics += t.panics;
        time += t.time;
    }
    println!("{:<12} {:>9} {:>9} {:>7} {:>9.1}", "total", total, "", panics, time.as_secs_f64());
    if panics > 0 {
        println!("{panics} panicking input(s) saved under {}", failures_dir().display());
        std::process::exit(1);
    }
}
