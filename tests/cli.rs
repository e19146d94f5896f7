//! The command-line contract, tested on the real binary with the script
//! files in `scripts/` and `tests/fixtures/`.

mod common;

use common::{prospero, prospero_in, root};
use serde_json::Value as J;
use std::path::Path;

/// `prospero run FILE --json` with the given parameters on a virtual clock.
fn run_json(file: &str, params: &[&str]) -> (i32, J) {
    let mut args = vec!["run", file, "--json", "--db", "sqlite::memory:", "--now", "2026-11-21T10:00:00Z"];
    for p in params {
        args.push("--param");
        args.push(p);
    }
    let (code, out, err) = prospero(&args);
    let json: J = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{file}: stdout is not one JSON object ({e}):\n{out}\n{err}"));
    (code, json)
}

#[test]
fn the_three_formats_give_identical_variables_and_path() {
    for params in [["customer=Ada", "tier=gold"], ["customer=Bo", "tier=bronze"]] {
        let runs: Vec<(String, J)> = ["order_flow.json", "order_flow.studio.json", "order_flow.xml"]
            .iter()
            .map(|f| {
                let file = format!("tests/fixtures/{f}");
                let (code, json) = run_json(&file, &params);
                assert_eq!(code, 0, "{file}: {json}");
                (file, json)
            })
            .collect();
        let (first_file, first) = &runs[0];
        assert_eq!(first["status"], "completed");
        for (file, json) in &runs[1..] {
            assert_eq!(json["variables"], first["variables"], "{file} vs {first_file}");
            assert_eq!(json["path"], first["path"], "{file} vs {first_file}");
        }
        // The values the script computes, so "identical" cannot mean
        // "identically wrong".
        let vars = &first["variables"];
        assert_eq!(vars["total"], "60");
        assert_eq!(vars["size"], "large");
        assert_eq!(vars["taxed_runs"], "1");
        if params[1] == "tier=gold" {
            assert_eq!(vars["discount"], "20");
            assert_eq!(vars["final"], "48");
            assert_eq!(vars["summary"], "Ada: 48 (large, 1 taxed)");
        } else {
            // bronze has no branch: CASE falls to Default.
            assert_eq!(vars["discount"], "0");
            assert_eq!(vars["final"], "72");
        }
        let path = first["path"].as_array().expect("path is a list");
        assert!(path.iter().any(|p| p["script"] == "add_tax"), "the sub script's steps are in the path");
    }
}

#[test]
fn json_report_has_exactly_the_contract_fields() {
    let (code, json) = run_json("tests/fixtures/order_flow.json", &["customer=Ada", "tier=gold"]);
    assert_eq!(code, 0);
    let mut keys: Vec<&str> = json.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["error", "failure", "path", "return", "script", "status", "steps", "variables"]);
    assert_eq!(json["script"], "order_flow");
    assert_eq!(json["steps"].as_u64(), Some(json["path"].as_array().map(Vec::len).unwrap_or(0) as u64));
    for step in json["path"].as_array().expect("path") {
        assert!(step["id"].is_string() && step["action"].is_string() && step["branch"].is_string(), "{step}");
    }
}

#[test]
fn check_reports_every_problem_with_locations() {
    let (code, out, _) = prospero(&["check", "tests/fixtures/check/many_problems.json"]);
    assert_eq!(code, 1, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.contains(": error[")).collect();
    let mut codes: Vec<&str> =
        errors.iter().filter_map(|l| l.split("error[").nth(1)).filter_map(|r| r.split(']').next()).collect();
    codes.sort();
    codes.dedup();
    for want in [
        "unknown-action",
        "missing-property",
        "bad-literal",
        "bad-expression",
        "branch-target-missing",
        "unknown-branch",
        "several-begins",
        "missing-script",
        "bad-snippet",
    ] {
        assert!(codes.contains(&want), "no {want} in:\n{out}");
    }
    assert!(codes.len() >= 8, "{codes:?}");
    for line in &errors {
        // file:line:col: error[code]: action ID (Caption): ...
        let rest = line.strip_prefix("tests/fixtures/check/many_problems.json:").expect("names the file");
        let mut parts = rest.splitn(3, ':');
        let line_no: u32 = parts.next().and_then(|p| p.parse().ok()).expect("a line number");
        let col: u32 = parts.next().and_then(|p| p.parse().ok()).expect("a column");
        assert!(line_no > 1 && col >= 1, "{line}");
        assert!(line.contains(": action "), "names the action: {line}");
    }
    let snippet = errors.iter().find(|l| l.contains("bad-snippet")).expect("a snippet error");
    assert!(snippet.contains("action code (Compute)") && snippet.contains("line 2, column 34"), "{snippet}");
    for want in ["unreachable", "unwired-error", "unwired-default"] {
        assert!(out.contains(&format!("warning[{want}]")), "no {want} warning in:\n{out}");
    }
    // The JSON form carries the same findings.
    let (code, out, _) = prospero(&["check", "--json", "tests/fixtures/check/many_problems.json"]);
    assert_eq!(code, 1);
    let json: J = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["errors"].as_u64(), Some(errors.len() as u64));
    let first = &json["files"][0]["diagnostics"][0];
    assert!(first["line"].as_u64().is_some() && first["column"].as_u64().is_some() && first["caption"].is_string());
}

#[test]
fn every_shipped_script_and_fixture_checks_clean() {
    let mut files = Vec::new();
    for dir in ["scripts", "scripts/studio", "tests/fixtures"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("folder exists") {
            let path = entry.expect("entry").path();
            if path.is_file() && path.extension().is_some_and(|e| e == "json" || e == "xml") {
                files.push(path.strip_prefix(root()).expect("under root").display().to_string());
            }
        }
    }
    assert!(files.iter().any(|f| f.starts_with("scripts/")), "scripts/ holds scripts");
    for file in files {
        let (code, out, err) = prospero(&["check", &file]);
        assert_eq!(code, 0, "{file}:\n{out}{err}");
        assert!(!out.contains("error["), "{file}:\n{out}");
        if file.starts_with("scripts/") {
            assert!(!out.contains("warning["), "shipped samples are warning-free: {file}:\n{out}");
        }
    }
}

#[test]
fn a_script_that_loops_forever_ends_over_budget_with_exit_1() {
    let (code, json) = run_json("tests/fixtures/runs/forever.json", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["status"], "budget_exceeded");
    assert_eq!(json["steps"], 100_000);
    assert!(json["error"].as_str().unwrap_or_default().contains("step budget"), "{}", json["error"]);
}

#[test]
fn unwired_default_ends_the_run_as_completed_with_a_trace_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("trace.jsonl");
    let trace_arg = trace.display().to_string();
    let (code, out, err) = prospero(&[
        "run",
        "tests/fixtures/runs/dead_end.json",
        "--json",
        "--db",
        "sqlite::memory:",
        "--trace",
        &trace_arg,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let json: J = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["status"], "completed");
    let path = json["path"].as_array().expect("path");
    assert_eq!(path.last().map(|p| p["id"].clone()), Some(J::from("check")));
    let events: Vec<J> = std::fs::read_to_string(&trace)
        .expect("trace written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let step = events.iter().find(|e| e["event"] == "step" && e["id"] == "check").expect("a step event for check");
    let notes = step["notes"].as_array().expect("the step carries a note");
    assert!(notes[0].as_str().unwrap_or_default().contains("Default is not wired"), "{notes:?}");
    assert_eq!(events.last().map(|e| e["status"].clone()), Some(J::from("completed")));
}

#[test]
fn on_error_sets_err_and_the_error_alias_is_followed() {
    let (code, json) = run_json("tests/fixtures/runs/errors.json", &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["variables"]["why"], "property Expression: division by zero");
    assert_eq!(json["variables"]["_ERR"], json["variables"]["why"]);
    assert_eq!(json["path"][2]["branch"], "OnError", "the script wrote `Error`, the canonical name is OnError");
}

#[test]
fn an_unhandled_failure_fails_the_run_with_exit_1() {
    let (code, json) = run_json("tests/fixtures/runs/unhandled.json", &["p1=Nowhere/Land"]);
    assert_eq!(code, 1);
    assert_eq!(json["status"], "failed");
    assert!(json["error"].as_str().unwrap_or_default().contains("time zone"), "{json}");
}

#[test]
fn wait_under_now_advances_virtual_time_without_sleeping() {
    let (code, json) = run_json("tests/fixtures/runs/sleepy.json", &["seconds=7200"]);
    assert_eq!(code, 0, "{json}");
    // Two hours after --now (10:00 UTC), read in the run's zone (UTC): the
    // clock moved two hours while the test (far shorter than that) ran.
    assert_eq!(json["variables"]["woke"], "2026-11-21 12:00:00");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        vec!["run", "tests/fixtures/order_flow.json", "--param", "nonsense"],
        vec!["run", "tests/fixtures/order_flow.json", "--param", "nosuch=1", "--db", "sqlite::memory:"],
        vec!["run", "tests/fixtures/order_flow.json", "--now", "yesterday", "--db", "sqlite::memory:"],
        vec!["run", "tests/fixtures/does_not_exist.json"],
        vec!["run", "tests/fixtures/order_flow.json", "--db", "mysql://x"],
        vec!["actions", "NO_SUCH_ACTION"],
    ] {
        let (code, out, err) = prospero(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.trim().is_empty(), "{args:?}: says why");
    }
}

#[test]
fn actions_lists_the_catalog_and_describes_one() {
    let (code, out, _) = prospero(&["actions"]);
    assert_eq!(code, 0);
    for name in [
        "BEGIN",
        "ASSIGN",
        "IF",
        "CASE",
        "LOOP",
        "FOR",
        "WAIT",
        "RUNSUB",
        "RETURN",
        "RUNSCRIPT",
        "SPAWN",
        "TRACE",
        "TIMEZONE",
    ] {
        assert!(out.contains(name), "{name} missing from:\n{out}");
    }
    let (code, out, _) = prospero(&["actions", "runsub"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("ScriptName") && out.contains("ReturnVariable") && out.contains("OnError (also Error)"),
        "{out}"
    );
    let (code, out, _) = prospero(&["actions", "IF", "--json"]);
    assert_eq!(code, 0);
    let json: J = serde_json::from_str(&out).expect("JSON");
    assert_eq!(json["name"], "IF");
    assert_eq!(json["input"][0]["name"], "Expression");
}

#[test]
fn runs_are_logged_in_the_default_sqlite_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = root().join("tests/fixtures/order_flow.json");
    let script = script.display().to_string();
    let (code, _, err) = prospero_in(dir.path(), &["run", &script, "--param", "customer=Ada", "--param", "tier=gold"]);
    assert_eq!(code, 0, "{err}");
    assert!(Path::new(&dir.path().join("prospero.db")).exists(), "prospero.db is created in the working directory");
}

/// The main job: the demo sets up everything on an SQLite file, loads the
/// sample leads through the brain script, and a second run updates.
#[test]
fn the_outbound_demo_creates_then_updates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("demo.db");
    let db = db.to_str().expect("UTF-8 path");
    let args = ["demo", "--db", db, "--now", "2026-11-21T15:00:00Z"];
    let (code, first, err) = prospero(&args);
    assert_eq!(code, 0, "{first}\n{err}");
    let count = |out: &str, label: &str| -> usize {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(label).map(|rest| rest.trim().parse::<usize>().expect("a count")))
            .unwrap_or_else(|| panic!("no '{label}' line in:\n{out}"))
    };
    assert_eq!(count(&first, "received"), 1200);
    let created = count(&first, "created");
    assert!(created > 900, "{first}");
    assert!(first.contains("map stored"), "{first}");
    for code in ["MissingExternalID", "DuplicateExternalID", "InvalidPhoneNumber", "TimeZoneNotFound", "Expired"] {
        assert!(first.contains(code), "the summary counts {code}:\n{first}");
    }
    let (code, second, err) = prospero(&args);
    assert_eq!(code, 0, "{second}\n{err}");
    assert!(second.contains("map unchanged"), "{second}");
    assert_eq!(count(&second, "created"), 0, "a rerun updates instead of duplicating:\n{second}");
    assert_eq!(count(&second, "updated"), created + count(&first, "updated"));
    assert_eq!(count(&second, "dialable prospects on skill 4001:"), created);
}

/// A fresh SQLite file in a temp dir (the dir must outlive the path).
fn temp_db(dir: &tempfile::TempDir) -> String {
    dir.path().join("units.db").to_str().expect("UTF-8 path").to_string()
}

const CREATED: &str = "created business unit";

#[test]
fn unit_names_differing_in_case_or_spaces_are_one_unit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = temp_db(&dir);
    let (code, out, err) = prospero(&["skills", "add", "4100", "--name", "A", "--db", &db, "--unit", "VICTIM"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("created business unit 'victim'"), "the first write says it created the unit: {err}");
    assert!(out.contains("business unit 'victim'"), "{out}");
    for (n, unit) in [("4200", " victim"), ("4300", "victim\t"), ("4400", "Victim")] {
        let (code, out, err) = prospero(&["skills", "add", n, "--name", "B", "--db", &db, "--unit", unit]);
        assert_eq!(code, 0, "{unit:?}: {out}{err}");
        assert!(!err.contains(CREATED), "{unit:?} created another unit: {err}");
    }
    let leads = root().join("scripts/data/leads.csv");
    let leads = leads.to_str().expect("UTF-8 path");
    let (code, out, err) =
        prospero(&["leads", "import", leads, "--lead-source", "crm", "--db", &db, "--unit", " VICTIM "]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains(CREATED), "leads import created another unit: {err}");
    for unit in ["victim", "  VICTIM\t"] {
        let (code, out, err) = prospero(&["skills", "list", "--json", "--db", &db, "--unit", unit]);
        assert_eq!(code, 0, "{unit:?}: {err}");
        let list: J = serde_json::from_str(&out).expect("JSON");
        let numbers: Vec<i64> = list.as_array().expect("list").iter().filter_map(|s| s["number"].as_i64()).collect();
        assert_eq!(numbers, [4100, 4200, 4300, 4400], "{unit:?}: all four skills are in the one unit");
    }
}

#[test]
fn a_unit_name_without_a_word_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = temp_db(&dir);
    for unit in ["", "   ", "\t", "-", "..", "a b", "acme/eu", "\u{212a}elvin", &"x".repeat(65)] {
        for args in [
            vec!["skills", "add", "4100", "--name", "A", "--db", &db, "--unit", unit],
            vec!["skills", "list", "--db", &db, "--unit", unit],
            vec!["run", "scripts/hello.json", "--param", "caller=Ada", "--db", &db, "--unit", unit],
        ] {
            let (code, out, err) = prospero(&args);
            assert_eq!(code, 2, "{args:?} was accepted: {out}{err}");
            assert!(err.contains(prospero::store::UNIT_NAME_PATTERN), "{args:?}: the message names the pattern: {err}");
            assert!(!err.contains(CREATED), "{args:?}: {err}");
        }
    }
    assert!(!Path::new(&db).exists(), "a refused name opened (and so created) the store");
}

#[test]
fn listing_a_unit_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = temp_db(&dir);
    // The default unit exists once something wrote to the store.
    let (code, _, err) = prospero(&["skills", "add", "4100", "--name", "A", "--db", &db]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("created business unit 'default'"), "{err}");
    for _ in 0..2 {
        let (code, out, err) = prospero(&["skills", "list", "--db", &db, "--unit", "ACME"]);
        assert_eq!(code, 2, "listing a unit nobody wrote to: {out}{err}");
        assert!(out.is_empty(), "no empty answer on stdout: {out}");
        assert!(err.contains("no business unit 'acme'"), "the message names the unit: {err}");
        assert!(err.contains("created by the first command that writes"), "{err}");
    }
    // Listing did not create it: the first write still does, and says so once.
    let (code, _, err) = prospero(&["skills", "add", "4200", "--name", "B", "--db", &db, "--unit", "acme"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("created business unit 'acme'"), "{err}");
    let (code, out, err) = prospero(&["skills", "list", "--json", "--db", &db, "--unit", "acme"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(CREATED), "{err}");
    let list: J = serde_json::from_str(&out).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{out}");
}

#[test]
fn a_run_creates_its_unit_once_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = temp_db(&dir);
    let run = |unit: &str| {
        prospero(&["run", "scripts/hello.json", "--param", "caller=Ada", "--db", &db, "--unit", unit, "--json"])
    };
    let (code, out, err) = run("Acme ");
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(err.matches(CREATED).count(), 1, "{err}");
    assert!(err.contains("created business unit 'acme'"), "{err}");
    let (code, out, err) = run("ACME");
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains(CREATED), "the second run found the unit: {err}");
    // The unit exists now, so a read finds it.
    let (code, _, err) = prospero(&["skills", "list", "--db", &db, "--unit", "acme"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn skills_and_leads_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("skills.db");
    let db = db.to_str().expect("UTF-8 path");
    let (code, out, err) = prospero(&[
        "skills",
        "add",
        "4100",
        "--name",
        "Renewals",
        "--max-destinations",
        "3",
        "--threshold",
        "250",
        "--db",
        db,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("skill 4100 'Renewals'"), "{out}");
    prospero(&["skills", "add", "4200", "--name", "Win-back", "--db", db, "--unit", "other"]);
    let (code, out, _) = prospero(&["skills", "list", "--db", db, "--json"]);
    assert_eq!(code, 0);
    let list: J = serde_json::from_str(&out).expect("JSON");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "only this unit's skills: {out}");
    assert_eq!(list[0]["number"], 4100);
    assert_eq!(list[0]["max_destinations"], 3);
    assert_eq!(list[0]["threshold"], 250);
    assert_eq!(list[0]["dialable"], 0);
    // Changing a skill keeps what is not given.
    prospero(&["skills", "add", "4100", "--name", "Renewals 2027", "--db", db]);
    let (_, out, _) = prospero(&["skills", "list", "--db", db]);
    assert!(out.contains("Renewals 2027") && out.contains("250"), "{out}");
    let (code, _, err) = prospero(&["skills", "add", "0", "--name", "x", "--db", db]);
    assert_eq!(code, 2, "{err}");

    let (code, out, err) = prospero(&[
        "leads",
        "import",
        "scripts/data/leads.csv",
        "--lead-source",
        "crm",
        "--db",
        db,
        "--key",
        "Account Number",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("1200 record(s)"), "{out}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Id,Phone\n1,2\n3\n").expect("write");
    let (code, _, err) =
        prospero(&["leads", "import", bad.to_str().expect("path"), "--lead-source", "crm", "--db", db]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.csv:3"), "the error names file and line: {err}");
}
