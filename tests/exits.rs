//! Exit codes that never lie, failures that name their place, the demo
//! from any folder and SQLite files that stand alone (issue 16), on the
//! real binary.

mod common;

use common::{prospero, prospero_in, root};
use serde_json::Value as J;
use std::path::{Path, PathBuf};

/// A store path no one can open: its folder does not exist.
fn unopenable(dir: &tempfile::TempDir) -> String {
    dir.path().join("no/such/dir/x.db").to_str().expect("UTF-8 path").to_string()
}

fn path_text(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The `-wal` and `-shm` files beside `db` that exist.
fn wal_files(db: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm"].iter().map(|s| PathBuf::from(format!("{}{s}", db.display()))).filter(|p| p.exists()).collect()
}

#[test]
fn run_with_unopenable_db_exits_2_before_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = unopenable(&dir);
    let trace = dir.path().join("run.jsonl");
    for script in ["scripts/hello.json", "scripts/brain.json"] {
        let (code, out, err) =
            prospero(&["run", script, "--param", "p1=Ada", "--db", &db, "--trace", path_text(&trace)]);
        assert_eq!(code, 2, "{script}: {out}{err}");
        assert!(!out.contains("completed"), "{script}: nothing ran: {out}");
        assert!(err.contains("cannot open the store at") && err.contains(&db), "{script}: names the store: {err}");
        assert!(!trace.exists(), "{script}: the run started (its trace was written)");
    }
}

#[test]
fn every_command_with_unopenable_db_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = unopenable(&dir);
    let commands: [&[&str]; 4] = [
        &["demo", "--now", "2026-11-21T15:00:00Z"],
        &["skills", "add", "4100", "--name", "A"],
        &["skills", "list"],
        &["leads", "import", "scripts/data/leads.csv", "--lead-source", "crm"],
    ];
    for args in commands {
        let mut args = args.to_vec();
        args.extend(["--db", &db]);
        let (code, out, err) = prospero(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(&db), "{args:?}: the message names the store: {err}");
    }
}

#[test]
fn unopenable_postgres_url_is_refused_with_its_password_hidden() {
    // Port 1: nothing listens there, so the connection is refused at once.
    let url = "postgres://prospero:hunter2@127.0.0.1:1/nowhere";
    let (code, out, err) = prospero(&["run", "scripts/hello.json", "--param", "p1=Ada", "--db", url]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(!err.contains("hunter2"), "the password is hidden: {err}");
    assert!(err.contains("prospero:***@127.0.0.1:1"), "the URL is named: {err}");
}

#[test]
fn handled_on_error_stays_a_completed_run_with_exit_0() {
    let (code, out, err) = prospero(&["run", "tests/fixtures/runs/errors.json", "--json", "--db", "sqlite::memory:"]);
    assert_eq!(code, 0, "{out}{err}");
    let json: J = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["status"], "completed");
    assert!(json["error"].is_null() && json["failure"].is_null(), "{json}");
}

#[test]
fn unhandled_failure_names_action_caption_and_location() {
    let file = "tests/fixtures/runs/unhandled.json";
    let (code, out, _) = prospero(&["run", file, "--db", "sqlite::memory:"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("error: {file}:5:5: action zone (Set zone) in script unhandled: unknown time zone ''")),
        "the text names file, line, column, action, caption and script:\n{out}"
    );

    let (code, out, _) = prospero(&["run", file, "--json", "--db", "sqlite::memory:"]);
    assert_eq!(code, 1, "{out}");
    let json: J = serde_json::from_str(&out).expect("one JSON object");
    let f = &json["failure"];
    assert_eq!((f["action"].as_str(), f["caption"].as_str()), (Some("zone"), Some("Set zone")), "{json}");
    assert_eq!((f["script"].as_str(), f["kind"].as_str()), (Some("unhandled"), Some("TIMEZONE")));
    assert_eq!((f["file"].as_str(), f["line"].as_u64(), f["column"].as_u64()), (Some(file), Some(5), Some(5)));
    assert_eq!(f["message"], "unknown time zone ''");
    assert_eq!(
        json["error"].as_str(),
        Some(&*format!("{file}:5:5: action zone (Set zone) in script unhandled: unknown time zone ''"))
    );
}

#[test]
fn snippet_failure_names_its_property_and_line_inside_it() {
    let file = "tests/fixtures/runs/snippet_failure.json";
    let (code, out, _) = prospero(&["run", file, "--json", "--db", "sqlite::memory:"]);
    assert_eq!(code, 1, "{out}");
    let json: J = serde_json::from_str(&out).expect("one JSON object");
    let f = &json["failure"];
    assert_eq!((f["action"].as_str(), f["caption"].as_str()), (Some("calc"), Some("Crunch numbers")), "{json}");
    assert_eq!(f["property"], "Code", "{json}");
    assert_eq!(f["snippet_line"], 2, "the second line of the code failed: {json}");
    assert_eq!(f["line"], 6, "the file line where Code is written: {json}");
    assert!(f["message"].as_str().unwrap_or_default().starts_with("line 2: "), "{json}");
    let error = json["error"].as_str().unwrap_or_default();
    assert!(error.starts_with(&format!("{file}:6:")), "{error}");
    assert!(error.contains("action calc (Crunch numbers) in script snippet_failure: line 2: "), "{error}");
}

#[test]
fn sub_script_failure_names_where_it_happened_and_the_caller() {
    let (code, out, _) =
        prospero(&["run", "tests/fixtures/runs/calls_unhandled.json", "--json", "--db", "sqlite::memory:"]);
    assert_eq!(code, 1, "{out}");
    let json: J = serde_json::from_str(&out).expect("one JSON object");
    let f = &json["failure"];
    assert_eq!((f["script"].as_str(), f["action"].as_str()), (Some("unhandled"), Some("zone")), "{json}");
    assert_eq!(f["via"][0]["action"], "call", "{json}");
    assert_eq!(f["via"][0]["script"], "calls_unhandled", "{json}");
    assert!(
        json["error"].as_str().unwrap_or_default().ends_with(
            "unknown time zone '' (called by action call (Set the zone elsewhere) in script calls_unhandled)"
        ),
        "{json}"
    );
}

#[test]
fn a_failed_run_traces_its_failure_and_replays_identically() {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("run.jsonl");
    let (code, _, err) = prospero(&[
        "run",
        "tests/fixtures/runs/unhandled.json",
        "--db",
        "sqlite::memory:",
        "--trace",
        path_text(&trace),
    ]);
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(&trace).expect("trace");
    let end: J = text
        .lines()
        .filter_map(|l| serde_json::from_str::<J>(l).ok())
        .find(|e| e["event"] == "end")
        .expect("an end event");
    assert_eq!(end["failure"]["action"], "zone", "{end}");
    assert_eq!(end["failure"]["line"], 5, "{end}");
    let (code, out, err) = prospero(&["replay", path_text(&trace)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("identical"), "{out}");
}

#[test]
fn demo_batch_0_is_refused_with_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("demo.db");
    for batch in ["0", "10001"] {
        let (code, out, err) = prospero(&["demo", "--db", path_text(&db), "--batch", batch]);
        assert_eq!(code, 2, "--batch {batch}: {out}{err}");
        assert!(err.contains("--batch") && err.contains("1..=10000"), "names the allowed range: {err}");
    }
    assert!(!db.exists(), "a refused demo opened the store");
}

#[test]
fn demo_cycles_0_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("demo.db");
    for cycles in ["0", "1001"] {
        let (code, out, err) = prospero(&["demo", "--db", path_text(&db), "--cycles", cycles]);
        assert_eq!(code, 2, "--cycles {cycles}: {out}{err}");
        assert!(err.contains("--cycles") && err.contains("1..=1000"), "names the allowed range: {err}");
    }
    assert!(!db.exists(), "a refused demo opened the store");
}

#[test]
fn demo_prints_each_failure_reason_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scripts = dir.path().join("scripts");
    std::fs::create_dir_all(scripts.join("data")).expect("folders");
    for f in ["brain.json", "source_setup.json", "data/leads.csv"] {
        std::fs::copy(root().join("scripts").join(f), scripts.join(f)).expect("copy");
    }
    // Every checkout fails: the sub script reports it, the brain counts it.
    let sub = std::fs::read_to_string(root().join("scripts/create_prospects.json")).expect("script");
    let broken = sub.replace(r#""MaxRecords": "{batchSize}","#, r#""MaxRecords": "{batchSize}", "LeaseSeconds": "0","#);
    assert_ne!(broken, sub, "the sub script changed");
    std::fs::write(scripts.join("create_prospects.json"), broken).expect("write");
    let db = dir.path().join("demo.db");
    let (code, out, err) = prospero(&[
        "demo",
        "--db",
        path_text(&db),
        "--scripts",
        path_text(&scripts),
        "--cycles",
        "2",
        "--now",
        "2026-11-21T15:00:00Z",
    ]);
    assert_eq!(code, 1, "a script failed:\n{out}{err}");
    assert!(out.contains("2 errors"), "{out}");
    assert!(
        out.contains("error (2 times): ")
            && out.contains("action checkout (Check out leads) in script create_prospects: LeaseSeconds must be"),
        "each reason, with the action and script:\n{out}"
    );
    assert!(err.contains("failed"), "{err}");
}

#[test]
fn demo_runs_from_any_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, out, err) = prospero_in(dir.path(), &["demo", "--db", "x.db", "--now", "2026-11-21T15:00:00Z"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("received   1200"), "the built-in leads went through the built-in scripts:\n{out}");
    assert!(out.contains("0 errors"), "{out}");
    assert!(out.contains("builtin:scripts/data/leads.csv"), "{out}");
    let db = dir.path().join("x.db");
    assert!(db.exists(), "the store is in the working folder");
    assert_eq!(wal_files(&db), Vec::<PathBuf>::new(), "the demo left its write-ahead log behind");
}

#[test]
fn an_explicit_scripts_folder_wins_over_the_built_in_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nothing-here");
    let (code, out, err) = prospero(&["demo", "--db", "sqlite::memory:", "--scripts", path_text(&missing)]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("nothing-here"), "{err}");
}

/// Count rows of `table` in the SQLite file `db`, opened read-only and
/// without running migrations (a file missing its tables fails here).
/// `table` is one of the tests' own names.
fn count_rows(db: &Path, table: &str) -> i64 {
    use sqlx::ConnectOptions as _;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
    rt.block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(db).read_only(true);
        let mut conn = opts.connect().await.expect("the file opens on its own");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{table} in {}: {e}", db.display()));
        n
    })
}

#[test]
fn leads_import_leaves_a_db_that_stands_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("leads.csv");
    let mut text = String::from("Account Number,First,Home Phone\n");
    for i in 0..5000 {
        text.push_str(&format!("A{i:05},Name {i},2125550{:03}\n", i % 1000));
    }
    std::fs::write(&csv, text).expect("write");
    let db = dir.path().join("leads.db");
    let (code, out, err) = prospero(&[
        "leads",
        "import",
        path_text(&csv),
        "--lead-source",
        "crm",
        "--key",
        "Account Number",
        "--db",
        path_text(&db),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("5000 record(s)"), "{out}");
    assert_eq!(wal_files(&db), Vec::<PathBuf>::new(), "the import left its write-ahead log behind");

    // Only the .db file, somewhere else: every row is in it.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let copy = elsewhere.path().join("copy.db");
    std::fs::copy(&db, &copy).expect("copy");
    assert_eq!(count_rows(&copy, "lead_records"), 5000);
    assert_eq!(count_rows(&copy, "business_units"), 1);
}

#[test]
fn commands_leave_no_write_ahead_log_behind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("units.db");
    let db_text = path_text(&db);
    let commands: [&[&str]; 3] = [
        &["skills", "add", "4100", "--name", "A", "--db", db_text],
        &["skills", "list", "--db", db_text],
        &["run", "scripts/hello.json", "--param", "caller=Ada", "--db", db_text],
    ];
    for args in commands {
        let (code, out, err) = prospero(args);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        assert_eq!(wal_files(&db), Vec::<PathBuf>::new(), "{args:?} left its write-ahead log behind");
    }
    // A failed run closes the store too.
    let (code, out, _) = prospero(&["run", "tests/fixtures/runs/unhandled.json", "--db", db_text]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(wal_files(&db), Vec::<PathBuf>::new(), "a failed run left its write-ahead log behind");
    assert_eq!(count_rows(&db, "runs"), 2, "both runs are logged in the file itself");
}

/// Regression (issue 16): the README's brain run after a failed lead
/// import, or without its source, "quietly loaded nothing": it completed
/// (the script handles its failures) and said nothing of them. A completed
/// run now names the failures its script handled, on stderr.
#[test]
fn brain_run_without_its_source_says_what_it_handled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("brain.db");
    let db_text = path_text(&db);
    let (code, out, err) = prospero(&["skills", "add", "4100", "--name", "R", "--threshold", "500", "--db", db_text]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = prospero(&[
        "leads",
        "import",
        "scripts/data/leads.csv",
        "--lead-source",
        "crm",
        "--key",
        "Account Number",
        "--db",
        db_text,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = prospero(&[
        "run",
        "scripts/brain.json",
        "--param",
        "skill=4100",
        "--param",
        "sourceName=Nowhere",
        "--param",
        "leadSource=crm",
        "--param",
        "cycles=1",
        "--now",
        "2026-11-21T15:00:00Z",
        "--db",
        db_text,
    ]);
    assert_eq!(code, 0, "the script handled its failures: {out}{err}");
    assert!(err.contains("the script handled"), "{err}");
    assert!(err.contains("source 'Nowhere' does not exist"), "{err}");
    // A run with nothing to handle says nothing of the kind.
    let (code, out, err) = prospero(&["run", "scripts/hello.json", "--param", "caller=Ada", "--db", db_text]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("handled"), "{err}");
}
