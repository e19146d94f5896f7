//! `prospero check`: the typo checks, the exit codes, `--strict` and the
//! SARIF report, on the real binary with the files in `scripts/` and
//! `tests/fixtures/`.

mod common;

use common::{prospero, prospero_in, root};
use serde_json::Value as J;

/// The diagnostic lines of a `check` output with code `code`.
fn lines_with<'a>(out: &'a str, code: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.contains(&format!("[{code}]"))).collect()
}

/// Regression: `cd scripts && prospero check hello.json` reported its sub
/// script `greeting` missing (a bare file name's parent is empty), while
/// `check ./hello.json` and `run hello.json` found it.
#[test]
fn check_finds_bare_file_subscripts_from_its_folder() {
    let scripts = root().join("scripts");
    let (code, out, err) = prospero_in(&scripts, &["check", "hello.json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("missing-script"), "{out}");
    assert!(out.contains("0 errors, 0 warnings in 1 file"), "{out}");
    // The same answer as with a folder in the path.
    let (code, dotted, _) = prospero_in(&scripts, &["check", "./hello.json"]);
    assert_eq!((code, dotted.lines().last()), (0, out.lines().last()));
}

/// Regression: `prospero check nosuch.json` exited 1 (a script with
/// errors) where the contract says 2 (a file that cannot be used).
#[test]
fn check_nosuch_file_exits_2() {
    let (code, out, err) = prospero(&["check", "nosuch.json"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("nosuch.json: no such file"), "{err}");
    // A folder is not a script file either.
    let (code, _, err) = prospero(&["check", "scripts"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("scripts: a folder, not a script file"), "{err}");
    // The readable files are still checked and reported.
    let (code, out, err) = prospero(&["check", "scripts/hello.json", "nosuch.json", "--json"]);
    assert_eq!(code, 2, "{err}");
    let json: J = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["files"][0]["errors"], 0);
    assert_eq!(json["files"][1]["diagnostics"][0]["code"], "unreadable");
    // A file that is there but broken is still a check with errors.
    let (code, _, _) = prospero(&["check", "tests/fixtures/malformed/native_truncated.json"]);
    assert_eq!(code, 1);
}

/// Regression: `ReturnVar` for RUNSUB's `ReturnVariable` in a native
/// script was a warning, and the run silently returned nothing.
#[test]
fn check_unknown_property_in_native_is_an_error_with_suggestion() {
    let file = "tests/fixtures/check/misspelt_property.json";
    let (code, out, err) = prospero(&["check", file, "--library", "scripts"]);
    assert_eq!(code, 1, "{out}{err}");
    let found = lines_with(&out, "unknown-property");
    assert_eq!(found.len(), 1, "{out}");
    assert!(found[0].starts_with(&format!("{file}:15:58: error[unknown-property]: action greet (Build greeting): ")));
    assert!(found[0].ends_with("RUNSUB has no property 'ReturnVar'; did you mean `ReturnVariable`?"), "{}", found[0]);
    // The run refuses the script instead of losing the return value.
    let (code, _, err) =
        prospero(&["run", file, "--scripts", "scripts", "--db", "sqlite::memory:", "--param", "caller=Ada"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("did you mean `ReturnVariable`?"), "{err}");
}

/// In Studio exports, properties the runtime does not use are common:
/// a warning, with a suggestion only when a known name is close.
#[test]
fn check_unknown_property_in_studio_json_is_a_warning() {
    let file = "tests/fixtures/check/studio_extra_properties.json";
    let (code, out, err) = prospero(&["check", file]);
    assert_eq!(code, 0, "{out}{err}");
    let found = lines_with(&out, "unknown-property");
    assert_eq!(found.len(), 4, "{out}");
    assert!(found.iter().all(|l| l.contains(": warning[unknown-property]: ")), "{out}");
    let line = |name: &str| *found.iter().find(|l| l.contains(&format!("'{name}'"))).expect(name);
    assert!(
        line("ReturnVal").ends_with("RETURN has no property 'ReturnVal'; it is ignored; did you mean `ReturnValue`?")
    );
    for far in ["RootFolder", "Application", "ParamCount"] {
        assert!(line(far).ends_with(&format!("BEGIN has no property '{far}'; it is ignored")), "{}", line(far));
    }
    // Desktop Studio XML: the same.
    let file = "tests/fixtures/check/studio_extra_properties.xml";
    let (code, out, err) = prospero(&["check", file]);
    assert_eq!(code, 0, "{out}{err}");
    let found = lines_with(&out, "unknown-property");
    assert_eq!(found.len(), 2, "{out}");
    assert!(found[0].contains(": warning[unknown-property]: ") && found[0].ends_with("'RootFolder'; it is ignored"));
    assert!(found[1].ends_with("'ReturnVal'; it is ignored; did you mean `ReturnValue`?"), "{}", found[1]);
}

/// Regression: `lower(teir)` for `lower(tier)` passed the check and routed
/// silently to Default.
#[test]
fn check_unassigned_variable_read_is_a_warning_with_suggestion() {
    let file = "tests/fixtures/check/misspelt_variable.json";
    let (code, out, err) = prospero(&["check", file]);
    assert_eq!(code, 0, "a warning only: {out}{err}");
    let found = lines_with(&out, "unassigned-variable");
    assert_eq!(found.len(), 1, "{out}");
    assert_eq!(
        found[0],
        format!(
            "{file}:9:79: warning[unassigned-variable]: action route (Queue by tier): property 'Variable': \
             variable `teir` is read but nothing in the script assigns it (it reads as empty); did you mean `tier`?"
        )
    );
}

#[test]
fn check_strict_fails_on_warnings() {
    let file = "tests/fixtures/check/misspelt_variable.json";
    let (code, out, _) = prospero(&["check", file, "--strict"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[unassigned-variable]"), "{out}");
    assert!(out.contains("1 error, 0 warnings in 1 file (--strict: warnings count as errors)"), "{out}");
    // A clean script stays clean.
    let (code, out, _) = prospero(&["check", "scripts/hello.json", "--strict"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn check_sarif_output_is_valid() {
    let files = ["tests/fixtures/check/many_problems.json", "tests/fixtures/check/misspelt_variable.json"];
    let (code, out, err) = prospero(&["check", files[0], files[1], "--format", "sarif"]);
    assert_eq!(code, 1, "{err}");
    let log: J = serde_json::from_str(&out).expect("SARIF is one JSON object");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().is_some_and(|s| s.contains("sarif-2.1.0")), "{}", log["$schema"]);
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "prospero");
    let rules: Vec<&str> = driver["rules"].as_array().expect("rules").iter().filter_map(|r| r["id"].as_str()).collect();
    let results = runs[0]["results"].as_array().expect("results");
    // The same findings as the text report.
    let (_, text, _) = prospero(&["check", files[0], files[1]]);
    let text_lines = text.lines().filter(|l| l.contains("error[") || l.contains("warning[")).count();
    assert_eq!(results.len(), text_lines);
    for r in results {
        let rule = r["ruleId"].as_str().expect("ruleId");
        assert!(rules.contains(&rule), "{rule} is not among the rules {rules:?}");
        assert_eq!(rules[r["ruleIndex"].as_u64().expect("ruleIndex") as usize], rule);
        assert!(matches!(r["level"].as_str(), Some("error" | "warning")), "{r}");
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{r}");
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(files.contains(&uri), "{uri}");
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1), "{r}");
        assert!(loc["region"]["startColumn"].as_u64().is_some_and(|c| c >= 1), "{r}");
    }
    let teir = results.iter().find(|r| r["ruleId"] == "unassigned-variable").expect("the typo is a result");
    assert_eq!(teir["level"], "warning");
    assert_eq!(teir["locations"][0]["physicalLocation"]["region"]["startLine"], 9);
    // --json keeps working, and the two machine forms cannot be mixed.
    let (code, out, _) = prospero(&["check", files[1], "--json"]);
    assert_eq!(code, 0, "a warning only");
    let json: J = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(json["warnings"], 1, "{json}");
    let (code, _, err) = prospero(&["check", files[1], "--json", "--format", "sarif"]);
    assert_eq!(code, 2, "{err}");
}

/// Every shipped script and every fixture not broken on purpose gets none
/// of the typo diagnostics: a false warning would teach authors to ignore
/// them.
#[test]
fn shipped_scripts_and_fixtures_get_no_typo_warnings() {
    let mut files = Vec::new();
    for dir in ["scripts", "scripts/studio", "tests/fixtures", "tests/fixtures/runs", "tests/fixtures/hostile"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("folder exists") {
            let path = entry.expect("entry").path();
            if path.is_file() && path.extension().is_some_and(|e| e == "json" || e == "xml") {
                files.push(path.strip_prefix(root()).expect("under root").display().to_string());
            }
        }
    }
    assert!(files.len() >= 20, "{files:?}");
    let mut args = vec!["check", "--json"];
    args.extend(files.iter().map(String::as_str));
    let (_, out, err) = prospero(&args);
    let json: J = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let mut found = Vec::new();
    for file in json["files"].as_array().expect("files") {
        for d in file["diagnostics"].as_array().expect("diagnostics") {
            if d["code"] == "unknown-property" || d["code"] == "unassigned-variable" {
                found.push(format!("{}: {d}", file["file"]));
            }
        }
    }
    assert_eq!(json["files"].as_array().map(Vec::len), Some(files.len()));
    // Two run fixtures read a variable nothing assigns on purpose (a dead
    // end, a failing action): those warnings are right, and must be there.
    for (file, name) in [("tests/fixtures/runs/dead_end.json", "`x`"), ("tests/fixtures/runs/unhandled.json", "`zone`")]
    {
        let before = found.len();
        found.retain(|f| {
            !(f.starts_with(&format!("\"{file}\"")) && f.contains("unassigned-variable") && f.contains(name))
        });
        assert_eq!(before - found.len(), 1, "{file}: one unassigned {name}");
    }
    assert!(found.is_empty(), "false typo diagnostics:\n{}", found.join("\n"));
}
