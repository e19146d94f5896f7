//! The store against real backends: SQLite (a file and `sqlite::memory:`)
//! and PostgreSQL at 127.0.0.1:5432 (database `test`).
//!
//! The PostgreSQL database is shared between test runs, so every business
//! unit gets a unique name. The PostgreSQL tests fail when the server cannot
//! be reached: they are part of the suite, not optional.

use prospero::store::{self, RunRecord, Store, StoreError};
use prospero::{RunOptions, RunStatus, Runtime};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_HINT: &str = "is PostgreSQL running on 127.0.0.1:5432 (database `test`, user `postgres`)?";

/// A name no other test, in this process or an earlier run, has used.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

async fn open(url: &str) -> Arc<dyn Store> {
    store::open(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"))
}

async fn open_pg() -> Arc<dyn Store> {
    store::open(PG_URL).await.unwrap_or_else(|e| panic!("opening {PG_URL}: {e}\nhint: {PG_HINT}"))
}

fn sqlite_file(dir: &tempfile::TempDir) -> String {
    dir.path().join("prospero.db").to_str().expect("temp path is UTF-8").to_string()
}

fn record(run_id: &str, n: i64, error: Option<&str>) -> RunRecord {
    RunRecord {
        run_id: run_id.to_string(),
        script: "order_flow".into(),
        script_hash: format!("{n:064x}"),
        status: if error.is_some() { "failed".into() } else { "completed".into() },
        steps: n * 10,
        error: error.map(str::to_string),
        return_value: if error.is_some() { None } else { Some(format!("\"total {n}\"")) },
        finished_at: format!("2026-03-08T06:30:0{n}+00:00"),
    }
}

/// Same name, same id; different names, different ids.
async fn check_business_units(s: &dyn Store) {
    let (a, b) = (unique("unit-a"), unique("unit-b"));
    let id_a = s.business_unit(&a).await.expect("create unit a");
    assert_eq!(s.business_unit(&a).await.expect("look up unit a"), id_a, "same name, same id");
    let id_b = s.business_unit(&b).await.expect("create unit b");
    assert_ne!(id_a, id_b, "different names, different ids");
    assert_eq!(s.business_unit(&b).await.expect("look up unit b"), id_b);
    assert_eq!(s.business_unit(&a).await.expect("look up unit a again"), id_a);
}

/// Spellings that differ in case or surrounding spaces are one unit; it is
/// created once (and says so once), found without being created, and a name
/// outside the pattern is refused by every method without writing anything.
async fn check_unit_name_normalisation(s: &dyn Store) {
    let base = unique("norm");
    let upper = base.to_uppercase();
    assert_eq!(s.find_business_unit(&base).await.expect("find before"), None, "finding creates nothing");
    assert_eq!(s.find_business_unit(&base).await.expect("find again"), None, "still nothing after a find");
    let first = s.ensure_business_unit(&format!(" {upper}\t")).await.expect("create via odd spelling");
    assert!(first.created, "the first write creates the unit");
    assert_eq!(first.name, base, "the stored name is trimmed and lowercased");
    for spelling in [base.clone(), upper.clone(), format!("  {base}"), format!("{base}\t"), format!("\n{upper} ")] {
        let again = s.ensure_business_unit(&spelling).await.expect("ensure again");
        assert_eq!(again.id, first.id, "{spelling:?} is the same unit");
        assert!(!again.created, "{spelling:?} does not create the unit again");
        assert_eq!(s.business_unit(&spelling).await.expect("business_unit"), first.id, "{spelling:?}");
        assert_eq!(s.find_business_unit(&spelling).await.expect("find"), Some(first.id), "{spelling:?}");
    }
    for bad in ["", "   ", "\t", "-acme", ".acme", "ac me", "acme!", "ünit", &"x".repeat(65)] {
        for result in [s.business_unit(bad).await, s.ensure_business_unit(bad).await.map(|u| u.id)] {
            assert!(matches!(result, Err(StoreError::UnitName(_))), "{bad:?} was accepted: {result:?}");
        }
        let found = s.find_business_unit(bad).await;
        assert!(matches!(found, Err(StoreError::UnitName(_))), "{bad:?} was looked up: {found:?}");
    }
}

/// Runs come back newest first, limited, and only for their own unit.
async fn check_recent_runs(s: &dyn Store) {
    let unit_a = s.business_unit(&unique("runs-a")).await.expect("unit a");
    let unit_b = s.business_unit(&unique("runs-b")).await.expect("unit b");
    let unit_empty = s.business_unit(&unique("runs-empty")).await.expect("empty unit");

    let a_runs = [record("a1", 1, None), record("a2", 2, Some("budget ran out")), record("a3", 3, None)];
    let b_run = record("b1", 4, None);
    // B's run lands between A's, so a query ignoring the unit would mix them.
    s.record_run(unit_a, &a_runs[0]).await.expect("record a1");
    s.record_run(unit_a, &a_runs[1]).await.expect("record a2");
    s.record_run(unit_b, &b_run).await.expect("record b1");
    s.record_run(unit_a, &a_runs[2]).await.expect("record a3");

    let newest_first: Vec<RunRecord> = a_runs.iter().rev().cloned().collect();
    assert_eq!(s.recent_runs(unit_a, 10).await.expect("runs of a"), newest_first);
    assert_eq!(s.recent_runs(unit_a, 2).await.expect("2 runs of a"), newest_first[..2]);
    assert_eq!(s.recent_runs(unit_b, 10).await.expect("runs of b"), vec![b_run]);
    assert!(s.recent_runs(unit_empty, 10).await.expect("runs of empty unit").is_empty());
}

// ---- SQLite file ----

#[tokio::test]
async fn sqlite_file_is_created_on_first_use_and_reopens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sqlite_file(&dir);
    assert!(!std::path::Path::new(&path).exists());

    let first = open(&path).await;
    assert_eq!(first.backend(), "sqlite");
    assert!(std::path::Path::new(&path).is_file(), "open() did not create {path}");
    let unit = first.business_unit("north").await.expect("unit");
    first.record_run(unit, &record("r1", 1, None)).await.expect("record");

    // A second store on the same file while the first is open (migrations
    // already applied), then a third after both are gone, via a sqlite: URL.
    let second = open(&path).await;
    assert_eq!(second.business_unit("north").await.expect("unit again"), unit);
    drop((first, second));
    let third = open(&format!("sqlite:{path}")).await;
    assert_eq!(third.business_unit("north").await.expect("unit after reopen"), unit);
    assert_eq!(third.recent_runs(unit, 10).await.expect("runs after reopen"), vec![record("r1", 1, None)]);
}

#[tokio::test]
async fn sqlite_file_business_units() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_business_units(&*open(&sqlite_file(&dir)).await).await;
}

#[tokio::test]
async fn sqlite_file_unit_names_differing_in_case_or_spaces_are_one_unit() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_unit_name_normalisation(&*open(&sqlite_file(&dir)).await).await;
}

#[tokio::test]
async fn sqlite_file_recent_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    check_recent_runs(&*open(&sqlite_file(&dir)).await).await;
}

// ---- SQLite in memory ----

#[tokio::test]
async fn sqlite_memory_opens_twice() {
    let first = open("sqlite::memory:").await;
    let second = open("sqlite::memory:").await;
    assert_eq!(first.backend(), "sqlite");
    // Each is its own migrated database.
    first.business_unit("only-in-first").await.expect("unit in first");
    let other = second.business_unit("only-in-second").await.expect("unit in second");
    assert!(second.recent_runs(other, 10).await.expect("runs").is_empty());
}

#[tokio::test]
async fn sqlite_memory_business_units() {
    check_business_units(&*open("sqlite::memory:").await).await;
}

#[tokio::test]
async fn sqlite_memory_unit_names_differing_in_case_or_spaces_are_one_unit() {
    check_unit_name_normalisation(&*open("sqlite::memory:").await).await;
}

#[tokio::test]
async fn sqlite_memory_recent_runs() {
    check_recent_runs(&*open("sqlite::memory:").await).await;
}

#[tokio::test]
async fn unknown_url_scheme_is_rejected() {
    match store::open("mysql://root@127.0.0.1/test").await {
        Err(StoreError::BadUrl(_)) => {}
        Err(e) => panic!("expected BadUrl, got {e}"),
        Ok(_) => panic!("a mysql:// URL opened a store"),
    }
}

// ---- PostgreSQL ----

#[tokio::test]
async fn postgres_opens_twice() {
    let first = open_pg().await;
    assert_eq!(first.backend(), "postgres");
    let second = open_pg().await;
    // Two processes starting at once: sqlx's advisory lock serialises them.
    let (third, fourth) = tokio::join!(store::open(PG_URL), store::open(PG_URL));
    third.unwrap_or_else(|e| panic!("concurrent open: {e}\nhint: {PG_HINT}"));
    fourth.unwrap_or_else(|e| panic!("concurrent open: {e}\nhint: {PG_HINT}"));
    let name = unique("pg-open");
    let id = first.business_unit(&name).await.expect("unit via first");
    assert_eq!(second.business_unit(&name).await.expect("unit via second"), id);
}

#[tokio::test]
async fn postgres_business_units() {
    check_business_units(&*open_pg().await).await;
}

#[tokio::test]
async fn postgres_unit_names_differing_in_case_or_spaces_are_one_unit() {
    check_unit_name_normalisation(&*open_pg().await).await;
}

#[test]
fn the_unit_name_pattern() {
    for (raw, want) in [
        ("default", "default"),
        ("acme", "acme"),
        (" VICTIM", "victim"),
        ("victim\t", "victim"),
        ("Acme.EU_2-b", "acme.eu_2-b"),
        ("9lives", "9lives"),
    ] {
        assert_eq!(store::unit_name(raw).as_deref(), Ok(want), "{raw:?}");
    }
    assert_eq!(store::unit_name(&"a".repeat(64)).map(|n| n.len()), Ok(64));
    assert!(matches!(store::unit_name(&"a".repeat(65)), Err(store::UnitNameError::TooLong(_))));
    assert!(matches!(store::unit_name(" \t "), Err(store::UnitNameError::Blank(_))));
    for bad in ["_x", "-x", ".x", "a b", "a/b", "a:b", "é", "K\u{212a}"] {
        let err = store::unit_name(bad).expect_err(bad);
        assert!(matches!(err, store::UnitNameError::Pattern(_)), "{bad:?}: {err:?}");
        assert!(err.to_string().contains(store::UNIT_NAME_PATTERN), "the message names the pattern: {err}");
    }
}

/// A runtime normalises its unit name; runs under differently spelled names
/// land in one unit, and only the first run creates it.
#[tokio::test]
async fn runtimes_with_differently_spelled_units_share_one() {
    let shared = open("sqlite::memory:").await;
    let name = unique("rt");
    let first = Runtime::builder().store(shared.clone()).business_unit(format!("  {}", name.to_uppercase())).build();
    assert_eq!(first.business_unit(), name);
    let id = first.unit_id().await.expect("unit");
    assert!(first.created_unit(), "the first runtime created the unit");
    let second = Runtime::builder().store(shared.clone()).business_unit(format!("{name}\t")).build();
    assert_eq!(second.unit_id().await.expect("unit again"), id);
    assert!(!second.created_unit(), "the second runtime found it");
    let bad = Runtime::builder().store(shared).business_unit("no spaces inside").build();
    assert!(matches!(bad.unit_id().await, Err(StoreError::UnitName(_))));
}

#[tokio::test]
async fn postgres_recent_runs() {
    check_recent_runs(&*open_pg().await).await;
}

// ---- Runtime::record on each backend ----

const TINY: &str = r#"{
  "name": "tiny",
  "actions": [
    {"id": "b", "action": "BEGIN", "Parameters": ["who"], "next": "r"},
    {"id": "r", "action": "RETURN", "ReturnValue": "Hello, {who}!"}
  ]
}"#;

/// Run the tiny script twice through a runtime on `url`, log both runs with
/// `Runtime::record`, and read them back from the runtime's store.
async fn check_runtime_record(url: &str, hint: &str) {
    let unit = unique("record");
    let runtime = Runtime::builder().db(url).business_unit(&unit).build();
    let script = prospero::script::load_text(TINY, None).expect("script loads");
    let program = runtime.load_script(script).expect("script checks");

    let mut reports = Vec::new();
    for who in ["Ada", "Bob"] {
        let opts = RunOptions::new().param("who", who).at("2026-03-08T06:30:00Z".parse().expect("time"));
        let report = runtime.run(&program, opts).await.expect("params");
        assert_eq!(report.status, RunStatus::Completed, "{:?}", report.error);
        runtime.record(&program, &report).await.unwrap_or_else(|e| panic!("record on {url}: {e}{hint}"));
        reports.push(report);
    }

    let store = runtime.store().await.unwrap_or_else(|e| panic!("store on {url}: {e}{hint}"));
    let id = store.business_unit(&unit).await.expect("unit");
    let runs = store.recent_runs(id, 10).await.expect("runs");
    assert_eq!(runs.len(), 2, "{runs:#?}");
    for (run, (report, who)) in runs.iter().zip(reports.iter().rev().zip(["Bob", "Ada"])) {
        assert_eq!(run.run_id, report.run_id, "newest first");
        assert_eq!(run.script, "tiny");
        assert_eq!(run.script_hash, program.hash);
        assert_eq!(run.status, "completed");
        assert_eq!(run.steps, report.steps as i64);
        assert_eq!(run.error, None);
        assert_eq!(run.return_value.as_deref(), Some(format!("\"Hello, {who}!\"").as_str()));
        assert!(chrono::DateTime::parse_from_rfc3339(&run.finished_at).is_ok(), "{}", run.finished_at);
    }
    assert_ne!(runs[0].run_id, runs[1].run_id);
}

#[tokio::test]
async fn runtime_record_sqlite_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = sqlite_file(&dir);
    check_runtime_record(&path, "").await;
    assert!(std::path::Path::new(&path).is_file(), "the runtime did not create {path}");
}

#[tokio::test]
async fn runtime_record_sqlite_memory() {
    check_runtime_record("sqlite::memory:", "").await;
}

#[tokio::test]
async fn runtime_record_postgres() {
    check_runtime_record(PG_URL, &format!("\nhint: {PG_HINT}")).await;
}

/// Regression: `lookups_reprepared_at_every_bind`. SQLite (3.46+) treats a
/// bare bound LIMIT as an input of the query plan and re-prepares the
/// statement whenever it is bound again; every query in `src/` passes its
/// limit through a CAST instead.
#[test]
fn lookups_reprepared_at_every_bind_no_query_binds_a_bare_limit() {
    fn walk(dir: &std::path::Path, hits: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("src readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, hits);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("utf-8 source");
                for (n, line) in text.lines().enumerate() {
                    let upper = line.to_ascii_uppercase();
                    if upper.contains("LIMIT $") || upper.contains("LIMIT ?") {
                        hits.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    let mut hits = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut hits);
    assert!(hits.is_empty(), "bare bound LIMITs:\n{}", hits.join("\n"));
}
