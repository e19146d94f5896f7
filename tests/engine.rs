//! Run semantics through the library API: concurrency, host actions and
//! branch aliases, crash isolation, traces.

use prospero::{Action, Context, Exec, Inputs, Manifest, RunOptions, RunStatus, Runtime, TraceSink, Value};
use std::sync::Arc;

fn load(runtime: &Runtime, json: &str) -> Arc<prospero::Program> {
    let script = prospero::script::load_text(json, None).unwrap_or_else(|e| panic!("{e}"));
    runtime.load_script(script).unwrap_or_else(|e| panic!("{e}"))
}

const WAITER: &str = r#"{"name": "waiter", "actions": [
    {"id": "b", "action": "BEGIN", "Parameters": ["n"], "next": "w1"},
    {"id": "w1", "action": "WAIT", "Seconds": "0.05", "next": "a1"},
    {"id": "a1", "action": "ASSIGN", "Variable": "square", "Value": "n * n", "Type": "Numeric", "next": "w2"},
    {"id": "w2", "action": "WAIT", "Seconds": "0,05", "next": "a2"},
    {"id": "a2", "action": "ASSIGN", "Variable": "label", "Value": "run {n} -> {square}", "next": "r"},
    {"id": "r", "action": "RETURN", "ReturnValue": "{square + 1}"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_runs_with_waits_all_complete_correctly() {
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = load(&runtime, WAITER);
    let mut tasks = Vec::new();
    for n in 1..=100 {
        let (rt, p) = (runtime.clone(), program.clone());
        // Real clock: the WAITs really sleep, concurrently.
        tasks.push(tokio::spawn(
            async move { (n, rt.run(&p, RunOptions::new().param("n", Value::from(n as i64))).await) },
        ));
    }
    let mut completed = 0;
    for t in tasks {
        let (n, report) = t.await.expect("task joins");
        let report = report.expect("parameters accepted");
        assert_eq!(report.status, RunStatus::Completed, "run {n}: {:?}", report.error);
        assert_eq!(report.var("square").map(|v| v.to_text().to_string()), Some((n * n).to_string()));
        assert_eq!(report.var("label").map(|v| v.to_text().to_string()), Some(format!("run {n} -> {}", n * n)));
        assert_eq!(report.return_value.map(|v| v.to_text().to_string()), Some((n * n + 1).to_string()));
        completed += 1;
    }
    assert_eq!(completed, 100);
}

/// A host action with a named result branch, for the alias test.
struct CheckSource;

impl Action for CheckSource {
    fn name(&self) -> &str {
        "CHECKSOURCE"
    }
    fn execute<'a>(&'a self, _ctx: &'a mut Context<'_>, inputs: &'a Inputs<'_>) -> Exec<'a> {
        match inputs.text("SourceName").as_str() {
            "" => Exec::fail("no source named"),
            "known" => Exec::branch("Default"),
            _ => Exec::branch("InvalidSource"),
        }
    }
}

const CHECKSOURCE_MANIFEST: &str = r#"
name = "CHECKSOURCE"
summary = "Test action with an InvalidSource branch."
[[input]]
name = "SourceName"
type = "text"
[[branch]]
name = "Default"
[[branch]]
name = "InvalidSource"
[[branch]]
name = "OnError"
aliases = ["Error"]
"#;

#[tokio::test]
async fn on_prefixed_and_unprefixed_branch_names_are_one_branch() {
    let runtime = Runtime::builder()
        .db("sqlite::memory:")
        .action(Manifest::from_toml(CHECKSOURCE_MANIFEST, "test").expect("manifest"), CheckSource)
        .build();
    for (wired, source, want_end) in [
        ("OnInvalidSource", "mystery", "bad"),
        ("InvalidSource", "mystery", "bad"),
        ("OnInvalidSource", "known", "good"),
        ("InvalidSource", "", "err"),
    ] {
        let json = format!(
            r#"{{"name": "alias_{wired}", "actions": [
            {{"id": "b", "action": "BEGIN", "next": "c"}},
            {{"id": "c", "action": "CHECKSOURCE", "SourceName": "{source}",
              "branches": {{"Default": "good", "{wired}": "bad", "Error": "err"}}}},
            {{"id": "good", "action": "END"}}, {{"id": "bad", "action": "END"}}, {{"id": "err", "action": "END"}}]}}"#
        );
        let program = load(&runtime, &json);
        let report = runtime.run(&program, RunOptions::new()).await.expect("run");
        let last = report.path.get(report.path.len() - 1).expect("a path").id.to_string();
        assert_eq!(last, want_end, "{wired} with source {source:?}");
        if want_end == "err" {
            assert_eq!(report.var("_ERR").map(|v| v.to_text().to_string()), Some("no source named".into()));
            assert_eq!(report.path.get(1).map(|p| p.branch), Some("OnError"));
        }
    }
}

struct Panicky;

impl Action for Panicky {
    fn name(&self) -> &str {
        "PANICKY"
    }
    fn execute<'a>(&'a self, _ctx: &'a mut Context<'_>, _inputs: &'a Inputs<'_>) -> Exec<'a> {
        panic!("a host bug");
    }
}

#[tokio::test]
async fn a_panicking_host_action_fails_its_run_not_the_host() {
    let manifest =
        Manifest::from_toml("name = \"PANICKY\"\nsummary = \"s\"\n[[branch]]\nname = \"Default\"\n", "t").unwrap();
    let runtime = Runtime::builder().db("sqlite::memory:").action(manifest, Panicky).build();
    let program = load(
        &runtime,
        r#"{"name": "p", "actions": [{"id": "b", "action": "BEGIN", "next": "x"},
            {"id": "x", "action": "PANICKY", "next": "e"}, {"id": "e", "action": "END"}]}"#,
    );
    let report = runtime.run(&program, RunOptions::new()).await.expect("run");
    assert_eq!(report.status, RunStatus::Failed);
    assert!(report.error.unwrap_or_default().contains("panicked"));
    // The runtime still works afterwards.
    let ok = load(
        &runtime,
        r#"{"name": "ok", "actions": [{"id": "b", "action": "BEGIN", "next": "e"}, {"id": "e", "action": "END"}]}"#,
    );
    assert_eq!(runtime.run(&ok, RunOptions::new()).await.expect("run").status, RunStatus::Completed);
}

#[tokio::test]
async fn the_trace_records_what_replay_needs() {
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = load(
        &runtime,
        r#"{"name": "traced", "actions": [
        {"id": "b", "action": "BEGIN", "Parameters": ["who"], "next": "r"},
        {"id": "r", "action": "ASSIGN", "caption": "Roll", "Variable": "roll", "Value": "random(6) + 1", "Type": "Numeric", "next": "w"},
        {"id": "w", "action": "WAIT", "Seconds": "30", "next": "t"},
        {"id": "t", "action": "ASSIGN", "Variable": "at", "Value": "{now()}", "next": "e"},
        {"id": "e", "action": "END"}]}"#,
    );
    let (sink, buf) = TraceSink::memory();
    let opts = RunOptions::new().param("who", "Ada").at("2026-11-21T10:00:00Z".parse().unwrap()).trace(sink);
    let report = runtime.run(&program, RunOptions { seed: Some(42), ..opts }).await.expect("run");
    assert_eq!(report.status, RunStatus::Completed);
    let events: Vec<serde_json::Value> =
        buf.contents().lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let run = &events[0];
    assert_eq!(run["event"], "run");
    assert_eq!(run["script"]["name"], "traced");
    assert_eq!(run["script"]["hash"].as_str().map(str::len), Some(64));
    assert_eq!(run["params"]["who"], "Ada");
    assert_eq!(run["clock"]["mode"], "virtual");
    assert_eq!(run["seed"], 42);
    assert!(run["budgets"]["max_steps"].is_u64() && run["versions"]["tzdata"].is_string());
    let roll = events.iter().find(|e| e["id"] == "r").expect("roll step");
    assert_eq!(roll["caption"], "Roll");
    assert_eq!(roll["random"].as_array().map(Vec::len), Some(1), "the random number drawn is recorded");
    assert_eq!(roll["changed"]["roll"], report.var("roll").map(|v| v.to_report_json()).unwrap());
    assert_eq!(roll["branch"], "Default");
    assert_eq!(roll["next"], "w");
    let at = events.iter().find(|e| e["id"] == "t").expect("time step");
    assert_eq!(at["clock"], "2026-11-21T10:00:30+00:00");
    assert_eq!(events.last().map(|e| e["event"].clone()), Some("end".into()));
    // The same seed gives the same roll.
    let (sink2, _) = TraceSink::memory();
    let again = runtime
        .run(
            &program,
            RunOptions {
                seed: Some(42),
                ..RunOptions::new().param("who", "Ada").at("2026-01-01T00:00:00Z".parse().unwrap()).trace(sink2)
            },
        )
        .await
        .expect("run");
    assert_eq!(again.var("roll"), report.var("roll"));
}

#[tokio::test]
async fn steps_and_wall_clock_budgets_end_the_run() {
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = load(
        &runtime,
        r#"{"name": "spin", "actions": [{"id": "b", "action": "BEGIN", "next": "s"},
        {"id": "s", "action": "ASSIGN", "Variable": "n", "Value": "n + 1", "Type": "Numeric", "next": "s"}]}"#,
    );
    let budgets = prospero::Budgets { max_steps: 500, ..Default::default() };
    let report = runtime.run(&program, RunOptions::new().budgets(budgets)).await.expect("run");
    assert_eq!(report.status, RunStatus::BudgetExceeded);
    assert_eq!(report.steps, 500);
    assert_eq!(report.var("n").map(|v| v.to_text().to_string()), Some("499".into()));

    let sleeper = load(
        &runtime,
        r#"{"name": "sleeper", "actions": [{"id": "b", "action": "BEGIN", "next": "w"},
        {"id": "w", "action": "WAIT", "Seconds": "30", "next": "e"}, {"id": "e", "action": "END"}]}"#,
    );
    let budgets = prospero::Budgets { wall_clock: std::time::Duration::from_millis(50), ..Default::default() };
    let report = runtime.run(&sleeper, RunOptions::new().budgets(budgets)).await.expect("run");
    assert_eq!(report.status, RunStatus::BudgetExceeded);
    assert!(report.error.unwrap_or_default().contains("wall-clock"));
}

#[tokio::test]
async fn array_and_object_budgets_stop_a_snippet() {
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = load(
        &runtime,
        r#"{"name": "grow", "actions": [{"id": "b", "action": "BEGIN", "next": "s"},
        {"id": "s", "action": "SNIPPET", "Code": "o.list[5] = 1\no.list[11] = 1", "branches": {"Default": "e", "OnError": "e"}},
        {"id": "e", "action": "END"}]}"#,
    );
    let budgets = prospero::Budgets { max_array: 10, ..Default::default() };
    let report = runtime.run(&program, RunOptions::new().budgets(budgets)).await.expect("run");
    let err = report.var("_ERR").map(|v| v.to_text().to_string()).unwrap_or_default();
    assert_eq!(err, "line 2: array size budget exceeded (limit 10)");
    assert_eq!(report.var("o").map(|v| v.to_text().to_string()), Some(r#"{"list":["","","","","1"]}"#.into()));
}

/// A runtime built without a store: a store action takes OnError with the
/// reason in `_ERR`, and nothing is opened (no `prospero.db` appears).
#[tokio::test]
async fn a_runtime_without_a_store_fails_store_actions_and_opens_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("prospero.db");
    let runtime = Runtime::builder().db(db.to_str().expect("utf-8")).without_store("this run writes nothing").build();
    let program = load(
        &runtime,
        r#"{"name": "s", "actions": [
        {"id": "b", "action": "BEGIN", "next": "c"},
        {"id": "c", "action": "CREATESOURCE", "Name": "x", "branches": {"Default": "e", "OnError": "e"}},
        {"id": "e", "action": "END"}]}"#,
    );
    let report = runtime.run(&program, RunOptions::new()).await.expect("runs");
    let err = report.var("_ERR").map(|v| v.to_text().to_string()).unwrap_or_default();
    assert!(err.contains("this run writes nothing"), "{err}");
    assert_eq!(report.path.get(1).map(|s| s.branch), Some("OnError"));
    assert!(!db.exists(), "nothing was opened");
}
