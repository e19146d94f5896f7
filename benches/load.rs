//! Load + check time of hostile scripts at 1x, 10x and 100x sizes, with the
//! ratio to the 1x time, so that linear growth (ratios near 10 and 100) or a
//! refusal is visible: a chain of actions, `{}` substitutions nested inside
//! each other, and a flat expression `1+1+...+1`. Each case is written to a
//! file and loaded with `Runtime::load` (read, parse, check, link, compile),
//! as `prospero check`/`run` do. Run with `cargo bench --bench load` (or
//! `cargo run --profile fastrel --bench load` for a quicker build).

use prospero::Runtime;

// The allocator the `prospero` binary uses, so these figures are the ones a
// user of `prospero check` / `run` sees.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::time::{Duration, Instant};

#[path = "../tests/hostile_cases/mod.rs"]
mod hostile_cases;

use hostile_cases::{chain, one_value};

fn nested(n: usize) -> String {
    one_value(&hostile_cases::nested(n))
}

fn flat(n: usize) -> String {
    one_value(&vec!["1"; n].join("+")).replace(r#""Variable":"x","#, r#""Variable":"x","Type":"Numeric","#)
}

/// Best of a few loads (at least one, more while under a second).
fn time_load(text: &str) -> (Duration, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("case.json");
    std::fs::write(&path, text).expect("write");
    let mut best = Duration::MAX;
    let mut outcome = String::new();
    let started = Instant::now();
    while best == Duration::MAX || (started.elapsed() < Duration::from_secs(1) && best < Duration::from_millis(200)) {
        // A fresh runtime each time: the library caches loaded programs.
        let runtime = Runtime::builder().without_store("bench").build();
        let t = Instant::now();
        let result = runtime.load(&path);
        best = best.min(t.elapsed());
        outcome = match result {
            Ok(_) => "loaded".into(),
            Err(e) => {
                let line = e.lines().join("; ");
                let refusal = line.split("error[").nth(1).unwrap_or(&line).to_string();
                format!("refused: {}", refusal.chars().take(70).collect::<String>())
            }
        };
    }
    (best, outcome)
}

/// A case: its name, how to build it at a size, and the 1x/10x/100x sizes.
type Case = (&'static str, fn(usize) -> String, [usize; 3]);

fn main() {
    println!("| case | size | bytes | load+check | ratio to 1x | outcome |");
    println!("|---|---|---|---|---|---|");
    let cases: [Case; 3] = [
        ("chain (actions)", chain, [2_000, 20_000, 200_000]),
        ("nested {} (levels)", nested, [1_000, 10_000, 100_000]),
        ("flat 1+1+... (terms)", flat, [10_000, 100_000, 1_000_000]),
    ];
    for (name, make, sizes) in cases {
        let mut base = None;
        for n in sizes {
            let text = make(n);
            let (t, outcome) = time_load(&text);
            let base = *base.get_or_insert(t);
            println!(
                "| {name} | {n} | {} | {:.2} ms | {:.1} | {outcome} |",
                text.len(),
                t.as_secs_f64() * 1e3,
                t.as_secs_f64() / base.as_secs_f64()
            );
        }
    }
}
