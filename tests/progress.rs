//! Progress and machine output of the long commands (issue 16): a bar on
//! a terminal only, never in a pipe or with `--quiet`; one JSON object with
//! `--json` for `leads import` and `demo`.

mod common;

use common::{prospero, root};
use serde_json::Value as J;
use std::process::Command;

fn db_in(dir: &tempfile::TempDir) -> String {
    dir.path().join("p.db").to_str().expect("utf-8 path").to_string()
}

/// Run the binary under a pseudo-terminal (util-linux `script`), so its
/// stderr is a terminal: everything it drew, stdout and stderr together.
fn on_a_terminal(args: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_prospero");
    let out = Command::new("script")
        .args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .current_dir(root())
        .output()
        .expect("util-linux `script` runs (Debian package bsdutils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn leads_import_draws_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_in(&dir);
    let drawn = on_a_terminal(&format!("leads import scripts/data/leads.csv --lead-source crm --db {db}"));
    assert!(drawn.contains("reading ["), "a bar with its rate on a terminal: {drawn:?}");
    assert!(drawn.contains("/s"), "{drawn:?}");
    assert!(drawn.contains("1200 record(s)"), "{drawn:?}");
    let quiet = on_a_terminal(&format!("leads import scripts/data/leads.csv --lead-source crm --quiet --db {db}"));
    assert!(!quiet.contains("reading"), "--quiet draws nothing: {quiet:?}");
    let (code, out, err) =
        prospero(&["leads", "import", "scripts/data/leads.csv", "--lead-source", "crm", "--db", &db]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("reading") && !err.contains('\u{1b}'), "nothing drawn into a pipe: {err:?}");
    assert!(out.contains("1200 record(s)"), "{out}");
}

#[test]
fn leads_import_json_is_one_summary_object() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_in(&dir);
    let (code, out, err) = prospero(&[
        "leads",
        "import",
        "scripts/data/leads.csv",
        "--lead-source",
        " CRM ",
        "--key",
        "Account Number",
        "--json",
        "--unit",
        "Acme",
        "--db",
        &db,
    ]);
    assert_eq!(code, 0, "{err}");
    let v: J = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["records"], 1200);
    assert_eq!(v["lead_source"], "CRM");
    assert_eq!(v["unit"], "acme");
    assert_eq!(v["file"], "scripts/data/leads.csv");
}

#[test]
fn demo_json_is_one_summary_object_with_codes_and_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_in(&dir);
    let (code, out, err) = prospero(&["demo", "--json", "--now", "2026-11-21T15:00:00Z", "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let v: J = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["received"], 1200);
    assert_eq!(v["lead_source"]["records"], 1200);
    let codes = v["codes"].as_array().expect("codes");
    let counted: i64 = codes.iter().map(|c| c["count"].as_i64().expect("count")).sum();
    assert_eq!(counted, v["failed"].as_i64().expect("failed"), "every failed record has its code");
    assert_eq!(v["created"].as_i64().expect("created") + v["updated"].as_i64().expect("updated") + counted, 1200);
    assert_eq!(v["reasons"], serde_json::json!([]));
    // A failing demo says so in its JSON too, with the reasons: every
    // checkout of this copy of the sub script is refused.
    let scripts = dir.path().join("scripts");
    std::fs::create_dir_all(scripts.join("data")).expect("folders");
    for f in ["brain.json", "source_setup.json", "data/leads.csv"] {
        std::fs::copy(root().join("scripts").join(f), scripts.join(f)).expect("copy");
    }
    let sub = std::fs::read_to_string(root().join("scripts/create_prospects.json")).expect("script");
    let broken = sub.replace(r#""MaxRecords": "{batchSize}","#, r#""MaxRecords": "{batchSize}", "LeaseSeconds": "0","#);
    assert_ne!(broken, sub, "the sub script changed");
    std::fs::write(scripts.join("create_prospects.json"), broken).expect("write");
    let scripts = scripts.to_str().expect("utf-8").to_string();
    let args = ["demo", "--json", "--cycles", "2", "--now", "2026-11-21T15:00:00Z", "--scripts", &scripts, "--db", &db];
    let (code, out, _) = prospero(&args);
    assert_eq!(code, 1, "{out}");
    let v: J = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["status"], "failed");
    assert_eq!(v["brain"]["errors"], 2);
    let reason = &v["reasons"][0];
    assert_eq!(reason["count"], 2);
    assert!(reason["error"].as_str().expect("text").contains("LeaseSeconds must be"), "{reason}");
}
