//! Tracing cost: a 10,000-step ASSIGN/IF/SNIPPET loop run untraced and
//! traced to a file, in the same process, alternating, and the size of the
//! trace it writes; then the trace replayed.
//!
//! Targets (issue 6): a 10,000-step run's trace stays under 5 MB, and
//! tracing costs at most 30% of the run's time. Run with
//! `cargo bench --bench trace` (`BENCH_REPS`, default 15, median reported;
//! `BENCH_ONLY=traced` runs only traced runs, for profiling).

use prospero::engine::replay::Trace;
use prospero::{RunOptions, Runtime, TraceSink};
use std::sync::Arc;
use std::time::Instant;

/// Loop passes: BEGIN, two ASSIGNs, then 3 actions per pass, the last IF
/// and END make 3 × 3,332 + 5 = 10,001 steps.
const N: u32 = 3332;

fn script() -> String {
    format!(
        r#"{{"name": "trace_bench", "actions": [
        {{"id": "b", "action": "BEGIN", "caption": "Start", "next": "init_i"}},
        {{"id": "init_i", "action": "ASSIGN", "caption": "Counter", "Variable": "i", "Value": "0", "Type": "Numeric", "next": "init_t"}},
        {{"id": "init_t", "action": "ASSIGN", "caption": "Total", "Variable": "total", "Value": "0", "Type": "Numeric", "next": "test"}},
        {{"id": "test", "action": "IF", "caption": "More to do?", "Expression": "i < {N}", "branches": {{"True": "add", "False": "end"}}}},
        {{"id": "add", "action": "SNIPPET", "caption": "Add and label", "next": "inc",
          "Code": ["total = total + i * 2", "label = \"item {{i}} of {N}\""]}},
        {{"id": "inc", "action": "ASSIGN", "caption": "Next", "Variable": "i", "Value": "i + 1", "Type": "Numeric", "next": "test"}},
        {{"id": "end", "action": "END", "caption": "Done"}}]}}"#
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let reps: usize = std::env::var("BENCH_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(15).max(1);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = runtime
        .load_script(prospero::script::load_text(&script(), None).expect("bench script parses"))
        .expect("bench script checks");
    let at = "2026-11-21T15:00:00Z".parse().expect("time");
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("run.trace");

    if std::env::var("BENCH_ONLY").as_deref() == Ok("traced") {
        for _ in 0..reps {
            let sink = TraceSink::file(&file).expect("trace file");
            rt.block_on(runtime.run(&program, RunOptions::new().at(at).trace(sink))).expect("traced run");
        }
        return;
    }
    let mut plain = Vec::with_capacity(reps);
    let mut traced = Vec::with_capacity(reps);
    let mut steps = 0;
    for i in 0..reps + 1 {
        let t = Instant::now();
        let r = rt.block_on(runtime.run(&program, RunOptions::new().at(at))).expect("run");
        let p = t.elapsed().as_secs_f64();
        steps = r.steps;
        let sink = TraceSink::file(&file).expect("trace file");
        let t = Instant::now();
        let r = rt.block_on(runtime.run(&program, RunOptions::new().at(at).trace(sink))).expect("traced run");
        let q = t.elapsed().as_secs_f64();
        assert_eq!(r.steps, steps);
        if i > 0 {
            // The first pair warms caches and the allocator.
            plain.push(p);
            traced.push(q);
        }
    }
    let size = std::fs::metadata(&file).expect("trace written").len();
    let (p, q) = (median(&mut plain), median(&mut traced));
    let cost = (q - p) / p * 100.0;

    // Replay the last trace: the engine re-runs it and compares every step.
    let trace = Trace::parse(&std::fs::read_to_string(&file).expect("trace")).expect("trace reads back");
    let t = Instant::now();
    let r = rt.block_on(runtime.run(&program, RunOptions::new().replay(Arc::new(trace)))).expect("replay");
    let replay = t.elapsed().as_secs_f64();
    assert!(r.divergence.is_none(), "{:?}", r.divergence);

    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("trace bench: {steps} steps, {reps} pairs, median");
    println!("| measure | value | target |");
    println!("|---|---|---|");
    println!("| untraced run | {:.2} ms ({:.0} steps/s) | |", p * 1e3, steps as f64 / p);
    println!("| traced run (file) | {:.2} ms | |", q * 1e3);
    println!("| tracing cost | {cost:.1}% | ≤ 30%: {} |", verdict(cost <= 30.0));
    println!(
        "| trace size | {:.2} MB ({} bytes/step) | < 5 MB: {} |",
        size as f64 / 1e6,
        size / steps,
        verdict(size < 5_000_000)
    );
    println!("| replay of the trace | {:.2} ms, identical | |", replay * 1e3);
}
