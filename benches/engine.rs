//! Interpreter speed: a 1,000-step ASSIGN/IF loop script run by Prospero,
//! against the same logic written directly in rhai, in the same process.
//!
//! Targets (issue 2): at least 300,000 actions per second, and no more than
//! 3× the direct-rhai time. Run with `cargo bench --bench engine`.

use prospero::{RunOptions, Runtime};
use std::time::{Duration, Instant};

/// The loop runs 332 times; with BEGIN, two initial ASSIGNs, the last IF
/// and END the run takes 1,001 steps.
const N: u32 = 332;

fn script() -> String {
    format!(
        r#"{{"name": "loop_bench", "actions": [
        {{"id": "b", "action": "BEGIN", "next": "init_i"}},
        {{"id": "init_i", "action": "ASSIGN", "Variable": "i", "Value": "0", "Type": "Numeric", "next": "init_t"}},
        {{"id": "init_t", "action": "ASSIGN", "Variable": "total", "Value": "0", "Type": "Numeric", "next": "test"}},
        {{"id": "test", "action": "IF", "Expression": "i < {N}", "branches": {{"True": "add", "False": "end"}}}},
        {{"id": "add", "action": "ASSIGN", "Variable": "total", "Value": "total + i * 2", "Type": "Numeric", "next": "inc"}},
        {{"id": "inc", "action": "ASSIGN", "Variable": "i", "Value": "i + 1", "Type": "Numeric", "next": "test"}},
        {{"id": "end", "action": "END"}}]}}"#
    )
}

fn direct_rhai() -> String {
    format!("let i = 0; let total = 0; while i < {N} {{ total = total + i * 2; i = i + 1; }} total")
}

fn time<F: FnMut()>(min: Duration, mut f: F) -> (u64, Duration) {
    // Warm up, then run for at least `min`.
    for _ in 0..3 {
        f();
    }
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < min {
        f();
        n += 1;
    }
    (n, start.elapsed())
}

/// The fastest and slowest slice.
fn spread(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[0], v[v.len() - 1])
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = runtime
        .load_script(prospero::script::load_text(&script(), None).expect("bench script parses"))
        .expect("bench script checks");
    let at = "2026-01-01T00:00:00Z".parse().expect("time");

    // Check once that both compute the same total.
    let report = rt.block_on(runtime.run(&program, RunOptions::new().at(at))).expect("run");
    let steps = report.steps;
    let ours_total = report.var("total").map(|v| v.to_text().to_string()).unwrap_or_default();

    let mut engine = rhai::Engine::new();
    engine.set_max_strings_interned(0);
    engine.set_max_operations(1_000_000);
    let ast = engine.compile(direct_rhai()).expect("direct rhai compiles");
    let direct_total: i64 = engine.eval_ast(&ast).expect("direct rhai runs");
    assert_eq!(ours_total, direct_total.to_string(), "both versions must compute the same total");

    let min = Duration::from_secs(3);
    if std::env::var("BENCH_ONLY").as_deref() == Ok("prospero") {
        // For profiling the interpreter alone.
        let (n, t) = time(min, || {
            let r = rt.block_on(runtime.run(&program, RunOptions::new().at(at))).expect("run");
            std::hint::black_box(r.steps);
        });
        println!("prospero only: {:.1} µs/run", t.as_secs_f64() / n as f64 * 1e6);
        return;
    }
    // Alternate short slices of each side so that drift in the machine's
    // speed (shared cores) affects both alike, and compare the medians of
    // the per-slice times, which a burst of noise in one slice cannot move.
    let slice = Duration::from_millis(100);
    let (mut ours, mut direct) = (Vec::new(), Vec::new());
    let (mut n_ours, mut n_rhai) = (0u64, 0u64);
    let started = Instant::now();
    while started.elapsed() < min * 2 {
        let (n, t) = time(slice, || {
            let r = rt.block_on(runtime.run(&program, RunOptions::new().at(at))).expect("run");
            std::hint::black_box(r.steps);
        });
        n_ours += n;
        ours.push(t.as_secs_f64() / n as f64);
        let (n, t) = time(slice, || {
            let v: i64 = engine.eval_ast(&ast).expect("runs");
            std::hint::black_box(v);
        });
        n_rhai += n;
        direct.push(t.as_secs_f64() / n as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (lo_ours, hi_ours) = spread(&mut ours.clone());
    let (lo_rhai, hi_rhai) = spread(&mut direct.clone());
    let per_run_ours = median(&mut ours);
    let per_run_rhai = median(&mut direct);
    let actions_per_sec = steps as f64 / per_run_ours;
    let ratio = per_run_ours / per_run_rhai;
    println!("engine benchmark: {steps}-step ASSIGN/IF loop ({N} iterations)");
    println!(
        "  prospero     {:>8.1} µs/run  median of {} slices ({:.1} to {:.1})  {:>10.0} actions/s  ({n_ours} runs)",
        per_run_ours * 1e6,
        ours.len(),
        lo_ours * 1e6,
        hi_ours * 1e6,
        actions_per_sec
    );
    println!(
        "  direct rhai  {:>8.1} µs/run  median of {} slices ({:.1} to {:.1})  ({n_rhai} runs)",
        per_run_rhai * 1e6,
        direct.len(),
        lo_rhai * 1e6,
        hi_rhai * 1e6
    );
    println!("  ratio        {ratio:>10.2}× (target ≤ 3×)");
    println!(
        "  targets: ≥300,000 actions/s {}, ≤3× direct rhai {}",
        if actions_per_sec >= 300_000.0 { "MET" } else { "MISSED" },
        if ratio <= 3.0 { "MET" } else { "MISSED" }
    );
}
