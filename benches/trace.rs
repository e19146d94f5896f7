//! Tracing cost: a 10,000-step ASSIGN/IF/SNIPPET loop run untraced and
//! traced to a file, in the same process, in pairs, and the size of the
//! trace it writes; then the trace replayed.
//!
//! Targets (issue 6): a 10,000-step run's trace stays under 5 MB, and
//! tracing costs at most 30% of the run's time. Run with
//! `cargo bench --bench trace` (`BENCH_REPS`, default 15, median reported;
//! `BENCH_ONLY=traced` or `BENCH_ONLY=plain` runs only traced or only
//! untraced runs, for profiling).

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
    if std::env::var("BENCH_ONLY").as_deref() == Ok("plain") {
        for _ in 0..reps {
            rt.block_on(runtime.run(&program, RunOptions::new().at(at))).expect("run");
        }
        return;
    }
    // Pairs of runs, one untraced and one traced, in alternating order.
    // This machine's speed drifts by tens of percent between seconds (a
    // shared VM), so the cost is the median of each pair's own ratio: two
    // runs a few milliseconds apart see the same machine.
    let pairs = |virtual_clock: bool, reps: usize| {
        let options = || if virtual_clock { RunOptions::new().at(at) } else { RunOptions::new() };
        let mut plain = Vec::with_capacity(reps);
        let mut traced = Vec::with_capacity(reps);
        let mut costs = Vec::with_capacity(reps);
        let mut steps = 0;
        let run_plain = || {
            let t = Instant::now();
            let r = rt.block_on(runtime.run(&program, options())).expect("run");
            (t.elapsed().as_secs_f64(), r.steps)
        };
        let run_traced = || {
            let sink = TraceSink::file(&file).expect("trace file");
            let t = Instant::now();
            let r = rt.block_on(runtime.run(&program, options().trace(sink))).expect("traced run");
            (t.elapsed().as_secs_f64(), r.steps)
        };
        for i in 0..reps + 1 {
            let ((p, n), (q, m)) = if i % 2 == 0 {
                let p = run_plain();
                (p, run_traced())
            } else {
                let q = run_traced();
                (run_plain(), q)
            };
            assert_eq!(n, m);
            steps = n;
            if i > 0 {
                // The first pair warms caches and the allocator.
                plain.push(p);
                traced.push(q);
                costs.push((q - p) / p * 100.0);
            }
        }
        (median(&mut plain), median(&mut traced), median(&mut costs), steps)
    };
    // The real clock's readings differ at every step, so each step event
    // carries one: measured too, on fewer pairs.
    let (p_real, q_real, cost_real, _) = pairs(false, reps.div_ceil(2));
    // The virtual clock (the measure the target is about) runs last: the
    // trace replayed below is its last one.
    let (p, q, cost, steps) = pairs(true, reps);
    let size = std::fs::metadata(&file).expect("trace written").len();

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
    println!("| untraced run, virtual clock | {:.2} ms ({:.0} steps/s) | |", p * 1e3, steps as f64 / p);
    println!("| traced run (file), virtual clock | {:.2} ms | |", q * 1e3);
    println!("| tracing cost (median of the pairs' own) | {cost:.1}% | ≤ 30%: {} |", verdict(cost <= 30.0));
    println!("| cost from the medians | {:.1}% | |", (q - p) / p * 100.0);
    println!(
        "| real clock: untraced, traced, cost | {:.2} ms, {:.2} ms, {cost_real:.1}% ({:.1}% from the medians) | |",
        p_real * 1e3,
        q_real * 1e3,
        (q_real - p_real) / p_real * 100.0
    );
    println!(
        "| trace size | {:.2} MB ({} bytes/step) | < 5 MB: {} |",
        size as f64 / 1e6,
        size / steps,
        verdict(size < 5_000_000)
    );
    println!("| replay of the trace | {:.2} ms, identical | |", replay * 1e3);
}
