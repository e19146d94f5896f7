//! Hostile scripts end on documented limits: each case below runs the real
//! binary and must exit 0 or 1 with the documented status or branch, never
//! by a signal, and peak under 512 MiB as the OS measures it. Wall times
//! are measured by `cargo bench --bench hostile`, not asserted here.

mod common;
mod hostile_cases;

use hostile_cases::{Measured, measure, outcome_text, run_cases};

const PEAK_LIMIT_KIB: u64 = 512 * 1024;

fn check(name: &str, m: &Measured, code: i32, status: Option<&str>, says: &str) {
    assert_eq!(m.signal, None, "{name}: ended by signal {:?}\nstderr: {}", m.signal, m.stderr);
    assert_eq!(m.code, Some(code), "{name}: exit code\nstdout: {:.2000}\nstderr: {}", m.stdout, m.stderr);
    assert!(m.peak_kib < PEAK_LIMIT_KIB, "{name}: peak {} MiB", m.peak_kib / 1024);
    if let Some(s) = status {
        assert_eq!(m.json()["status"], s, "{name}: status");
    }
    let text = outcome_text(m);
    assert!(text.contains(says), "{name}: expected {says:?} in the outcome:\n{:.3000}", text);
}

#[test]
fn every_hostile_run_ends_on_its_documented_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_prospero"));
    for case in run_cases(&common::root(), tmp.path()) {
        let m = measure(bin, &common::root(), &case.args);
        check(case.name, &m, case.code, case.status, case.says);
    }
}

#[test]
fn every_hostile_load_and_unit_name_is_refused_or_linear() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_prospero"));
    for case in hostile_cases::load_cases(tmp.path()).into_iter().chain(hostile_cases::unit_cases(tmp.path())) {
        let m = measure(bin, &common::root(), &case.args);
        check(case.name, &m, case.code, case.status, case.says);
    }
}

#[test]
fn a_runaway_trace_stops_at_its_budget_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.jsonl");
    let script = hostile_cases::fixtures(&common::root()).join("trace_flood.json");
    let args: Vec<String> = ["run", &script.display().to_string(), "--db", "sqlite::memory:", "--trace"]
        .iter()
        .map(|s| s.to_string())
        .chain([trace.display().to_string(), "--max-trace-mb".into(), "2".into()])
        .collect();
    let m = measure(std::path::Path::new(env!("CARGO_BIN_EXE_prospero")), &common::root(), &args);
    assert_eq!(m.code, Some(1), "{}", m.stderr);
    let size = std::fs::metadata(&trace).unwrap().len();
    // The budget is checked after each step: one more step (64 KiB) and
    // the closing event may pass it.
    assert!(size > 2 << 20 && size < (2 << 20) + (256 << 10), "trace of {size} bytes");
    let text = std::fs::read_to_string(&trace).unwrap();
    let end: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(end["event"], "end");
    assert_eq!(end["status"], "budget_exceeded");
}

#[test]
fn a_memory_budget_given_on_the_command_line_is_the_one_applied() {
    let script = hostile_cases::fixtures(&common::root()).join("memory_strings.json");
    let (code, out, err) = common::prospero(&[
        "run",
        &script.display().to_string(),
        "--db",
        "sqlite::memory:",
        "--json",
        "--max-memory-mb",
        "16",
    ]);
    assert_eq!(code, 1, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["error"], "memory budget exceeded: the run's values hold about 16 MiB (limit 16 MiB)");
    // About 16 MiB of 512 KiB strings: the object holds some 30, not 5,000.
    let members = j["variables"]["o"].as_object().map(|o| o.len()).unwrap_or(0);
    assert!((20..=40).contains(&members), "{members} members");
}

#[test]
fn budget_flags_that_cannot_work_are_refused() {
    for (flag, value) in
        [("--max-depth", "0"), ("--max-depth", "5000"), ("--max-seconds", "-1"), ("--max-concurrent-runs", "0")]
    {
        let arg = format!("{flag}={value}");
        let (code, _, err) = common::prospero(&["run", "scripts/hello.json", "--db", "sqlite::memory:", &arg]);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains(flag), "{flag} {value}: {err}");
    }
}

/// The same nesting on a tokio worker thread (2 MiB stack), through the
/// library as a platform embeds it: the snippet takes OnError.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting_on_a_tokio_worker_takes_on_error() {
    let runtime = prospero::Runtime::builder().db("sqlite::memory:").build();
    for script in ["deep_objects.json", "deep_rhai_arrays.json"] {
        let program = runtime.load(&hostile_cases::fixtures(&common::root()).join(script)).unwrap();
        let report = runtime.run(&program, prospero::RunOptions::new()).await.unwrap();
        assert_eq!(report.status, prospero::RunStatus::Completed, "{script}: {:?}", report.error);
        let ret = report.return_value.map(|v| v.to_string()).unwrap_or_default();
        assert!(ret.starts_with("caught: line") && ret.contains("nesting"), "{script}: {ret}");
    }
}

/// Regression: a trace holding a value nested to the limit (deeper than
/// serde_json's default of 128) could not be read back by replay.
#[test]
fn a_trace_holding_a_value_nested_to_the_limit_replays_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("deep.trace");
    let script = hostile_cases::fixtures(&common::root()).join("deep_objects.json");
    let (code, _, err) = common::prospero(&[
        "run",
        &script.display().to_string(),
        "--db",
        "sqlite::memory:",
        "--now",
        "2026-11-21T15:00:00Z",
        "--trace",
        &trace.display().to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = common::prospero(&["replay", &trace.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("identical"), "{out}");
    let (code, out, err) =
        common::prospero(&["graph", &script.display().to_string(), "--trace", &trace.display().to_string()]);
    assert_eq!(code, 0, "{out}{err}");
}
