//! `prospero addressbook ...` through the real binary, on an SQLite file
//! and on PostgreSQL (127.0.0.1:5432, database `test`; fails when it
//! cannot be reached): an import with its refused lines and exit codes, a
//! user without the coordinator's permission refused with nothing written,
//! statuses, edit, delete, export read back by another import, and unit
//! isolation.

mod common;

use common::{dump_unit, prospero};
use serde_json::Value as Json;
use std::sync::atomic::{AtomicU32, Ordering};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// `prospero addressbook ARGS --db DB --unit UNIT`.
fn run(db: &str, unit: &str, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["addressbook"];
    all.extend_from_slice(args);
    all.extend(["--db", db, "--unit", unit]);
    prospero(&all)
}

/// Like [`run`] with `--json`, expecting exit 0; stdout as JSON.
fn json(db: &str, unit: &str, args: &[&str]) -> Json {
    let mut all = args.to_vec();
    all.push("--json");
    let (c, out, err) = run(db, unit, &all);
    assert_eq!(c, 0, "{args:?}: stdout {out} stderr {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

const BOOK: &str = "Civility,First name,Last name,Email,Department,Phone,Address,City
Mme,Ada,Lovelace,Ada@Example.org,Analyse,0110203040,12 rue des Lilas,Paris
M.,Jean,Dupont,jean@example.org,Ventes,0110203040,,Lyon
Mlle,Julie,Martin,julie@example.org,,0033110203040,,
Dr,Who,Ever,who@example.org,,,,
M.,Too,Many,many@example.org,,,,,extra
,Paul,Durand,,,,,
M.,Bad,Phone,bad@example.org,,01X0203040,,
M.,Jean,Dupont,JEAN@example.org,Achats,0110203041,3 place,Nantes
";

fn cli(db: &str) {
    let unit = unique("abook-cli");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("book.csv");
    std::fs::write(&file, BOOK).expect("write");
    let file = file.to_str().expect("UTF-8");

    // A user without the coordinator's permission: refused, nothing written.
    let (c, _, err) = prospero(&["users", "add", "ann", "--role", "agent", "--db", db, "--unit", &unit]);
    assert_eq!(c, 0, "{err}");
    let (c, _, err) = prospero(&["users", "add", "cory", "--role", "coordinator", "--db", db, "--unit", &unit]);
    assert_eq!(c, 0, "{err}");
    let before = dump(db, &unit);
    let (c, out, err) = run(db, &unit, &["import", file, "--name", "march", "--user", "ann"]);
    assert_eq!(c, 2, "{db}: {out} {err}");
    assert!(err.contains("addressBook:recipient:import"), "{db}: {err}");
    assert_eq!(dump(db, &unit), before, "{db}: nothing written");
    let (c, _, err) = run(db, &unit, &["import", file, "--name", "march", "--user", "nobody"]);
    assert_eq!(c, 2, "{db}: {err}");

    // The coordinator imports: every refused line with its number and code.
    let report = json(db, &unit, &["import", file, "--name", "march", "--user", "cory"]);
    assert_eq!((report["created"].as_u64(), report["updated"].as_u64()), (Some(3), Some(1)), "{db}: {report}");
    assert_eq!(report["rejected"], 4, "{db}");
    assert_eq!(report["headerSkipped"], true, "{db}");
    let refused: Vec<(u64, String)> = report["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["line"].as_u64().unwrap_or(0), e["reason"].as_str().unwrap_or("").to_string()))
        .collect();
    let want = [(5, "invalid-civility"), (6, "field-count"), (7, "missing-email"), (8, "invalid-phone")];
    assert_eq!(refused, want.map(|(l, r)| (l, r.to_string())), "{db}");
    let jean = json(db, &unit, &["show", "jean@EXAMPLE.org"]);
    assert_eq!((jean["email"].as_str(), jean["city"].as_str()), (Some("JEAN@example.org"), Some("Nantes")), "{db}");
    assert_eq!(jean["statuses"], serde_json::json!(["Expert", "Copy"]), "{db}");
    assert_eq!(jean["importName"], "march", "{db}");

    // Text output lists every refused line too.
    let (c, out, _) = run(db, &unit, &["import", file, "--name", "again"]);
    assert_eq!(c, 0, "{db}");
    assert!(out.contains("line 6: field-count:"), "{db}: {out}");
    assert!(out.contains("0 created, 4 updated, 4 rejected"), "{db}: {out}");

    // Statuses, edit, delete and their exit codes.
    let s = json(db, &unit, &["status", "ada@example.org", "--set", "Expert,Transfer"]);
    assert_eq!(s["statuses"], serde_json::json!(["Expert", "Transfer"]), "{db}");
    assert_eq!(run(db, &unit, &["status", "x@example.org", "--set", "Copy"]).0, 1, "{db}");
    assert_eq!(run(db, &unit, &["status", "ada@example.org", "--set", "Boss"]).0, 2, "{db}");
    let e = json(db, &unit, &["edit", "ADA@example.org", "--city", "Londres", "--civility", "Mlle"]);
    assert_eq!((e["city"].as_str(), e["civility"].as_str()), (Some("Londres"), Some("Mlle")), "{db}");
    assert_eq!(e["statuses"], serde_json::json!(["Expert", "Transfer"]), "{db}: an edit keeps statuses");
    assert_eq!(run(db, &unit, &["edit", "ada@example.org", "--phone", "01 02"]).0, 2, "{db}");
    let listed = json(db, &unit, &["list", "--status", "transfer"]);
    assert_eq!(listed["count"], 1, "{db}: {listed}");
    assert_eq!(
        json(db, &unit, &["add", "--email", "new@example.org", "--last-name", "Neuf"])["importName"],
        Json::Null
    );
    assert_eq!(run(db, &unit, &["add", "--email", "NEW@example.org"]).0, 2, "{db}: the email is taken");
    assert_eq!(run(db, &unit, &["delete", "new@example.org"]).0, 0, "{db}");
    assert_eq!(run(db, &unit, &["delete", "new@example.org"]).0, 1, "{db}");
    assert_eq!(run(db, &unit, &["show", "new@example.org"]).0, 1, "{db}");

    // Refused names and files: exit 2, nothing written.
    let before = dump(db, &unit);
    let (c, _, err) = run(db, &unit, &["import", file, "--name", "march 2026"]);
    assert!(c == 2 && err.contains("space"), "{db}: {err}");
    let latin = dir.path().join("latin1.csv");
    std::fs::write(&latin, b"M.,A,B,ok@example.org,,,,\nM.,J\xe9r\xf4me,X,j@example.org,,,,\n").expect("write");
    let (c, _, err) = run(db, &unit, &["import", latin.to_str().expect("UTF-8"), "--name", "latin"]);
    assert!(c == 2 && err.contains(":2: not UTF-8"), "{db}: {err}");
    assert_eq!(dump(db, &unit), before, "{db}: nothing written");

    // Export reads back: another unit imports it and lists the same book.
    let exported = dir.path().join("export.csv");
    assert_eq!(run(db, &unit, &["export", exported.to_str().expect("UTF-8")]).0, 0, "{db}");
    let other = unique("abook-other");
    assert_eq!(run(db, &other, &["list"]).0, 2, "{db}: no such unit yet");
    let r = json(db, &other, &["import", exported.to_str().expect("UTF-8"), "--name", "copy"]);
    assert_eq!((r["created"].as_u64(), r["rejected"].as_u64()), (Some(3), Some(0)), "{db}: {r}");
    let fields = |v: &Json| -> Vec<String> {
        v["recipients"].as_array().expect("list").iter().map(|r| format!("{}|{}", r["email"], r["city"])).collect()
    };
    assert_eq!(fields(&json(db, &other, &["list"])), fields(&json(db, &unit, &["list"])), "{db}");
    // Nothing crosses units: a status set in one unit is not the other's.
    assert_eq!(json(db, &other, &["list", "--status", "transfer"])["count"], 0, "{db}");
}

fn dump(db: &str, unit: &str) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(dump_unit(db, unit, &[]))
}

#[test]
fn the_addressbook_commands_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    cli(dir.path().join("a.db").to_str().expect("UTF-8"));
}

#[test]
fn the_addressbook_commands_on_postgres() {
    cli(PG_URL);
}
