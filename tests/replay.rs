//! Replay on the real binary (studio-runtime.md §7): every shipped script
//! replays identically from its own trace, a changed IF is the first
//! divergence, a replayed prospect load writes nothing, and unusable traces
//! exit 2.

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
            if p.file_name().is_some_and(|n| n != "malformed" && n != "data") {
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
    // Only the fixture written to be full of problems may be refused.
    assert_eq!(refused.keys().collect::<Vec<_>>(), ["tests/fixtures/check/many_problems.json"], "{refused:#?}");
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
