//! The QA tools on the real binary (studio-runtime.md §7–8): replay (every
//! shipped script replays identically from its own trace, a changed IF is
//! the first divergence, a replayed prospect load writes nothing, unusable
//! traces exit 2), `prospero test` on the shipped script tests, and graph
//! export with the traced path highlighted.

mod common;

use common::{prospero, prospero_in, root};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const NOW: &str = "2026-11-21T15:00:00Z";

/// Script files under `dir` (not descending into `malformed/`, whose files
/// exist to be refused).
fn script_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("folder").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            // Hostile scripts run to their limits (hundreds of megabytes);
            // tests/hostile.rs covers them, their replay included.
            if p.file_name().is_some_and(|n| n != "malformed" && n != "data" && n != "hostile") {
                script_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "json" || e == "xml") {
            out.push(p);
        }
    }
}

fn replay_json(dir: &Path, args: &[&str]) -> (i32, J, String) {
    let mut all = vec!["replay", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = prospero_in(dir, &all);
    let j = serde_json::from_str(&out).unwrap_or(J::Null);
    (code, j, err)
}

#[test]
fn every_shipped_script_replays_identically_from_its_own_trace() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut files = Vec::new();
    script_files(&root().join("scripts"), &mut files);
    script_files(&root().join("tests/fixtures"), &mut files);
    let mut replayed = 0;
    let mut refused = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        let rel = file.strip_prefix(root()).expect("under the root").display().to_string();
        let trace = tmp.path().join(format!("{i}.trace"));
        let db = tmp.path().join(format!("{i}.db"));
        let (code, _, err) = prospero(&[
            "run",
            &rel,
            "--now",
            NOW,
            "--seed",
            "11",
            "--db",
            db.to_str().expect("utf-8"),
            "--trace",
            trace.to_str().expect("utf-8"),
        ]);
        if code == 2 {
            // The script cannot be loaded: no run, no trace.
            refused.insert(rel, err);
            continue;
        }
        let (code, j, err) = replay_json(&root(), &[trace.to_str().expect("utf-8")]);
        assert_eq!(code, 0, "{rel}: {j} {err}");
        assert_eq!(j["identical"], true, "{rel}: {j}");
        assert_eq!(j["script_changed"], false, "{rel}");
        replayed += 1;
    }
    // Only the fixtures written to have errors may be refused: the one full
    // of problems, and the native script with a misspelt property.
    assert_eq!(
        refused.keys().collect::<Vec<_>>(),
        ["tests/fixtures/check/many_problems.json", "tests/fixtures/check/misspelt_property.json"],
        "{refused:#?}"
    );
    assert!(replayed >= 14, "only {replayed} scripts replayed");
}

#[test]
fn a_changed_if_is_the_first_divergence_with_both_branches() {
    let tmp = tempfile::tempdir().expect("tmp");
    let trace = tmp.path().join("greeting.trace");
    let (code, _, err) = prospero(&[
        "run",
        "scripts/greeting.json",
        "--param",
        "caller=Ann",
        "--param",
        "queue=Sales",
        "--now",
        NOW,
        "--db",
        "sqlite::memory:",
        "--trace",
        trace.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    let original = std::fs::read_to_string(root().join("scripts/greeting.json")).expect("script");
    let changed = original.replace("len(trim(caller)) > 0", "len(trim(caller)) > 5");
    assert_ne!(changed, original, "the IF expression is in the script");
    let script = tmp.path().join("greeting.json");
    std::fs::write(&script, changed).expect("write");

    let (code, j, err) =
        replay_json(&root(), &[trace.to_str().expect("utf-8"), "--script", script.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{j} {err}");
    assert_eq!(j["identical"], false);
    assert_eq!(j["script_changed"], true);
    let d = &j["divergence"];
    assert_eq!(d["action"], "name", "{d}");
    assert_eq!(d["caption"], "Know the caller?");
    assert_eq!(d["what"], "branch");
    assert_eq!(d["expected"], "True");
    assert_eq!(d["actual"], "False");
    assert_eq!(d["step"], 2);

    // The text form names the same action.
    let (code, out, _) =
        prospero(&["replay", trace.to_str().expect("utf-8"), "--script", script.to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    assert!(out.contains("action name (Know the caller?)") && out.contains("branch differs"), "{out}");

    // The unchanged script is identical.
    let (code, out, _) = prospero(&["replay", trace.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("identical"), "{out}");
}

/// Every file of a folder with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| {
            let p = e.expect("entry").path();
            (p.file_name().expect("name").to_string_lossy().into_owned(), std::fs::read(&p).unwrap_or_default())
        })
        .collect()
}

#[test]
fn replaying_a_run_that_created_prospects_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let store_dir = tmp.path().join("store");
    std::fs::create_dir(&store_dir).expect("mkdir");
    let db = store_dir.join("outbound.db");
    let db = db.to_str().expect("utf-8");
    let trace = tmp.path().join("brain.trace");
    let trace = trace.to_str().expect("utf-8");
    let ok = |(code, out, err): (i32, String, String)| assert_eq!(code, 0, "{out}\n{err}");
    ok(prospero(&["skills", "add", "4001", "--name", "Replay", "--threshold", "5000", "--db", db]));
    ok(prospero(&["leads", "import", "scripts/data/leads.csv", "--lead-source", "crm", "--db", db]));
    ok(prospero(&["run", "scripts/source_setup.json", "--param", "sourceName=Replay Leads", "--now", NOW, "--db", db]));
    let (code, out, err) = prospero(&[
        "run",
        "scripts/brain.json",
        "--param",
        "skill=4001",
        "--param",
        "sourceName=Replay Leads",
        "--param",
        "leadSource=crm",
        "--param",
        "cycles=2",
        "--param",
        "batchSize=100",
        "--param",
        "pause=60",
        "--now",
        NOW,
        "--db",
        db,
        "--trace",
        trace,
        "--json",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let text = std::fs::read_to_string(trace).expect("trace");
    assert!(text.contains("\"action\":\"CREATEPROSPECTS\""), "the run loaded prospects");
    assert!(text.contains("\"Created\":\""), "and created some");

    let before = snapshot(&store_dir);
    let cwd = tmp.path().join("elsewhere");
    std::fs::create_dir(&cwd).expect("mkdir");
    let (code, j, err) =
        replay_json(&cwd, &[trace, "--script", &root().join("scripts/brain.json").display().to_string()]);
    assert_eq!(code, 0, "{j} {err}");
    assert_eq!(j["identical"], true, "{j}");
    assert_eq!(snapshot(&store_dir), before, "the store's files are untouched");
    assert!(snapshot(&cwd).is_empty(), "no store was created where the replay ran");
}

#[test]
fn unusable_traces_exit_2_and_say_why() {
    let tmp = tempfile::tempdir().expect("tmp");
    let bad = tmp.path().join("bad.trace");
    std::fs::write(&bad, "{\"event\":\"run\",\n").expect("write");
    let (code, _, err) = prospero(&["replay", bad.to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.trace") && err.contains("line 1"), "{err}");

    let (code, _, err) = prospero(&["replay", "no/such.trace"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such.trace"), "{err}");

    // A trace whose script file is gone.
    let t = tmp.path().join("gone.trace");
    std::fs::write(
        &t,
        r#"{"event":"run","run":"r1","seq":0,"script":{"name":"gone","file":"gone/script.json","hash":"x"},"clock":{"mode":"virtual","start":"2026-11-21T10:00:00Z"},"seed":1}"#,
    )
    .expect("write");
    let (code, _, err) = prospero(&["replay", t.to_str().expect("utf-8")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("gone/script.json"), "{err}");
}

#[test]
fn the_shipped_script_tests_pass_and_a_wrong_expectation_fails() {
    let (code, out, err) = prospero(&["test", "scripts"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let last = out.lines().last().unwrap_or("");
    let passed: usize = last.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed >= 20 && last.ends_with(" passed, 0 failed"), "{last}");
    assert_eq!(out.lines().filter(|l| l.starts_with("ok   ")).count(), passed);

    // A test whose expectation is wrong fails, says why, and exits 1.
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("wrong.test.toml");
    let script = root().join("scripts/greeting.json");
    std::fs::write(
        &file,
        format!(
            "script = {:?}\n[[test]]\nname = \"expects the wrong branch\"\nparams = {{ caller = \"Ann\" }}\n\
             [test.expect]\npath = [\"start\", \"name:False\", \"anonymous\", \"count\", \"done\"]\n",
            script.display().to_string()
        ),
    )
    .expect("write");
    let broken = tmp.path().join("broken.test.toml");
    std::fs::write(&broken, "script = \"x.json\"\n[[test]]\nnme = \"typo\"\n").expect("write");
    let (code, out, _) = prospero(&["test", tmp.path().to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("expects the wrong branch"), "{out}");
    assert!(out.contains("path: expected [start, name:False"), "{out}");
    assert!(out.contains("broken.test.toml") && out.contains("nme"), "{out}");
    assert!(out.trim_end().ends_with("0 passed, 2 failed"), "{out}");
}

#[test]
fn dot_export_highlights_exactly_the_traced_path_and_graphviz_renders_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let trace = tmp.path().join("hello.trace");
    let trace = trace.to_str().expect("utf-8");
    let (code, _, err) = prospero(&[
        "run",
        "scripts/hello.json",
        "--param",
        "caller=Bo",
        "--param",
        "tier=silver",
        "--now",
        NOW,
        "--db",
        "sqlite::memory:",
        "--trace",
        trace,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, dot, err) = prospero(&["graph", "scripts/hello.json", "--trace", trace, "--format", "dot"]);
    assert_eq!(code, 0, "{err}");

    // What the trace says hello.json executed: its steps' ids and the
    // (from, branch, to) edges between its own actions, the RUNSUB's from
    // the `resume` event written when its sub script returned.
    let mut ids = std::collections::BTreeSet::new();
    let mut edges = std::collections::BTreeSet::new();
    for line in std::fs::read_to_string(trace).expect("trace").lines() {
        let e: J = serde_json::from_str(line).expect("JSON line");
        if (e["event"] == "step" || e["event"] == "resume") && e["script"] == "hello" {
            let id = e["id"].as_str().expect("id").to_string();
            if let Some(next) = e["next"].as_str().filter(|n| !n.starts_with('(')) {
                edges.insert(format!("\"{id}\" -> \"{next}\" [label=\"{}\"", e["branch"].as_str().unwrap_or("")));
            }
            if e["event"] == "step" {
                ids.insert(id);
            }
        }
    }
    assert!(ids.contains("silver_queue") && !ids.contains("gold_queue"), "{ids:?}");
    assert!(edges.contains("\"greet\" -> \"note\" [label=\"Default\""), "the RUNSUB's way on: {edges:?}");
    let marked: std::collections::BTreeSet<String> = dot
        .lines()
        .filter(|l| l.contains("class=\"executed\"") && !l.contains("->"))
        .map(|l| l.trim().split('"').nth(1).unwrap_or("").to_string())
        .collect();
    assert_eq!(marked, ids, "highlighted nodes are the traced ones");
    let marked_edges: std::collections::BTreeSet<String> = dot
        .lines()
        .filter(|l| l.contains("class=\"executed\"") && l.contains("->"))
        .map(|l| l.trim().split(", color=").next().unwrap_or("").to_string())
        .collect();
    assert_eq!(marked_edges, edges, "highlighted edges are the traced ones");

    // Graphviz accepts it.
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` is installed (.ci/run installs it)");
    use std::io::Write as _;
    child.stdin.take().expect("stdin").write_all(dot.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("dot runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"), "an SVG comes out");

    // Mermaid works too; a bad format is a usage error.
    let (code, mermaid, _) = prospero(&["graph", "scripts/hello.json", "--trace", trace]);
    assert_eq!(code, 0);
    assert!(mermaid.starts_with("flowchart TD") && mermaid.contains("executed"), "{mermaid}");
    let (code, _, err) = prospero(&["graph", "scripts/hello.json", "--format", "svg"]);
    assert_eq!(code, 2);
    assert!(err.contains("svg"), "{err}");
}
