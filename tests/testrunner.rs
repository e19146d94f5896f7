//! `prospero test` as CI runs it, on the real binary: exits when nothing
//! is tested, `--filter`, the JUnit report (validated against the Jenkins
//! schema with xmllint), the JSON report, coverage in text and JSON, the
//! shipped scripts' coverage threshold, and coverage drawn by `graph`.

mod common;

use common::{prospero, root};
use serde_json::Value as J;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROUTE_TESTS: &str = "tests/fixtures/testrunner/route.test.toml";
const FAILING: &str = "tests/fixtures/testrunner/failing";
const XSD: &str = "tests/fixtures/junit/junit-10.xsd";

fn json_of(out: &str, err: &str) -> J {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{out}\n{err}"))
}

/// `xmllint --noout --schema junit-10.xsd FILE`: Ok, or xmllint's complaint.
/// Missing xmllint fails the test: the check must not pass by not running.
fn validate_junit(file: &Path) -> Result<(), String> {
    let out =
        Command::new("xmllint").args(["--noout", "--schema"]).arg(root().join(XSD)).arg(file).output().unwrap_or_else(
            |e| {
                panic!(
                    "xmllint is needed to validate JUnit reports ({e}): install it with \
                 `apt-get install -y libxml2-utils` (Debian, Ubuntu; .ci/run does) or `brew install libxml2`"
                )
            },
        );
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }
}

#[test]
fn test_on_empty_folder_exits_1() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().to_str().expect("utf-8");
    let (code, out, err) = prospero(&["test", dir]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(&format!("no tests found under {dir}")), "{err}");
    assert!(!out.contains("passed"), "nothing ran, nothing passed: {out}");

    // A folder whose test files hold no cases tested nothing either.
    std::fs::write(tmp.path().join("none.test.toml"), "script = \"x.json\"\n").expect("write");
    let (code, out, err) = prospero(&["test", dir]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("no tests found under") && err.contains("no [[test]] cases"), "{err}");
}

#[test]
fn test_on_non_test_file_says_not_a_test_file() {
    let (code, out, err) = prospero(&["test", "scripts/hello.json"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("not a test file: scripts/hello.json (test files end in .test.toml)"),
        "no TOML error, a plain answer: {err}"
    );
    assert!(out.is_empty(), "{out}");

    // Checked before anything runs, as is a path that does not exist.
    let (code, out, err) = prospero(&["test", "scripts", "no/such.test.toml"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("no/such.test.toml: no such file or folder"), "{err}");
    assert!(!out.contains("ok "), "{out}");
}

#[test]
fn test_filter_runs_only_matching_cases() {
    let wrong = "tests/fixtures/testrunner/failing/wrong.test.toml";
    let ran = |out: &str| -> Vec<String> {
        out.lines().filter(|l| l.starts_with("ok ") || l.starts_with("FAIL ")).map(str::to_string).collect()
    };
    // By case name: one case of wrong.test.toml, none of route's.
    let (code, out, err) = prospero(&["test", ROUTE_TESTS, wrong, "--filter", "silver"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(ran(&out), [format!("ok   {wrong}: silver <is> \"preferred\" & 'kept' \u{7}")], "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed"), "{out}");
    // By test-file path: route's two cases, none of wrong.test.toml's.
    let (code, out, err) = prospero(&["test", ROUTE_TESTS, wrong, "--filter", "route.test"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        ran(&out),
        [
            format!("ok   {ROUTE_TESTS}: gold goes to the priority queue"),
            format!("ok   {ROUTE_TESTS}: no tier goes to the general queue"),
        ],
        "{out}"
    );

    let (code, out, err) = prospero(&["test", ROUTE_TESTS, "--filter", "no case is called this"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("no test matched --filter \"no case is called this\""), "{err}");
    assert!(!out.contains("passed"), "{out}");
}

#[test]
fn test_junit_report_validates_against_jenkins_xsd() {
    let tmp = tempfile::tempdir().expect("tmp");

    // The validator really validates: a suite without its required counts
    // is refused.
    let bad = tmp.path().join("bad.xml");
    std::fs::write(&bad, "<testsuites><testsuite name=\"x\"/></testsuites>\n").expect("write");
    assert!(validate_junit(&bad).is_err(), "xmllint accepted a suite without tests/failures/errors");

    // All passing: the shipped tests.
    let passing = tmp.path().join("passing.xml");
    let (code, out, err) = prospero(&["test", "scripts", "--junit", passing.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{out}{err}");
    validate_junit(&passing).unwrap_or_else(|e| panic!("{e}"));
    let xml = std::fs::read_to_string(&passing).expect("report");
    let passed: usize = out.lines().last().and_then(|l| l.split(' ').next()?.parse().ok()).expect("count");
    assert!(
        xml.contains(&format!("<testsuites name=\"prospero test\" tests=\"{passed}\" failures=\"0\" errors=\"0\""))
    );
    let files = std::fs::read_dir(common::root().join("scripts"))
        .expect("scripts")
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".test.toml")))
        .count();
    assert!(files >= 5, "the shipped test files: {files}");
    assert_eq!(xml.matches("<testsuite ").count(), files, "one suite per test file: {xml}");
    assert_eq!(xml.matches("<testcase ").count(), passed, "{xml}");
    assert!(xml.contains("classname=\"scripts/hello.studio.json\""), "{xml}");
    assert!(!xml.contains("<failure") && !xml.contains("<error"), "{xml}");

    // Failing: a missed expectation, a case that cannot run, an unusable
    // test file, and a name full of markup and a control character.
    let failing = tmp.path().join("failing.xml");
    let (code, out, err) = prospero(&["test", FAILING, "--junit", failing.to_str().expect("utf-8")]);
    assert_eq!(code, 1, "{out}{err}");
    validate_junit(&failing).unwrap_or_else(|e| panic!("{e}"));
    let xml = std::fs::read_to_string(&failing).expect("report");
    assert!(xml.contains("tests=\"4\" failures=\"1\" errors=\"2\""), "{xml}");
    assert!(xml.contains("name=\"silver &lt;is&gt; &quot;preferred&quot; &amp; &apos;kept&apos; \\u{7}\""), "{xml}");
    assert!(xml.contains("<failure message=\"path: expected [start, pick:silver, silver, done], got"), "{xml}");
    assert!(
        xml.contains("return: expected &quot;General &amp; &lt;nothing&gt;&quot;, got &quot;Priority&quot;</failure>"),
        "{xml}"
    );
    assert!(xml.contains("type=\"unusable\">mock for &apos;nosuch&apos;"), "{xml}");
    assert!(xml.contains("broken.test.toml") && xml.contains("nme"), "{xml}");
    // A message is one line, even for the TOML reader's several.
    let message = xml.split("<error message=\"").nth(1).and_then(|m| m.split('"').next()).unwrap_or("");
    assert!(message.contains("unknown field `nme`") && !message.contains('\n'), "{message}");
}

#[test]
fn test_json_report_lists_every_case() {
    let (code, out, err) = prospero(&["test", ROUTE_TESTS, FAILING, "--json"]);
    assert_eq!(code, 1, "{out}{err}");
    let j = json_of(&out, &err);
    assert_eq!(j["totals"], serde_json::json!({"tests": 6, "passed": 3, "failed": 3, "errors": 2}), "{j}");
    assert!(j["duration_ms"].is_u64(), "{j}");
    assert!(j.get("coverage").is_none(), "coverage only with --coverage: {j}");
    let cases = j["cases"].as_array().expect("cases");
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().expect("name")).collect();
    assert_eq!(
        names,
        [
            "gold goes to the priority queue",
            "no tier goes to the general queue",
            "(test file)",
            "silver <is> \"preferred\" & 'kept' \u{7}",
            "expects the wrong queue",
            "mocks an action the script does not have",
        ]
    );
    for c in cases {
        for key in ["file", "script", "name", "passed", "error", "failures", "duration_ms"] {
            assert!(c.get(key).is_some(), "{key} missing: {c}");
        }
        assert_eq!(c["passed"], c["failures"].as_array().expect("list").is_empty(), "{c}");
    }
    assert_eq!(cases[0]["file"], ROUTE_TESTS);
    assert_eq!(cases[0]["script"], "tests/fixtures/testrunner/route.json");
    assert_eq!(cases[2]["file"], "tests/fixtures/testrunner/failing/broken.test.toml");
    assert_eq!(cases[2]["script"], J::Null);
    assert_eq!(cases[4]["error"], false);
    assert_eq!(cases[4]["failures"].as_array().map(Vec::len), Some(2), "path and return: {}", cases[4]);
    assert_eq!(cases[5]["error"], true);
}

#[test]
fn test_coverage_reports_actions_and_branches() {
    let (code, out, err) = prospero(&["test", ROUTE_TESTS, "--coverage"]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| *l == "coverage:").unwrap_or_else(|| panic!("no coverage section: {out}"));
    assert_eq!(
        &lines[at + 1..],
        [
            "tests/fixtures/testrunner/route.json: actions 5/6 (83%), branches 5/8 (63%)",
            "  missed actions: silver",
            "  missed branches: pick:silver -> silver, pick:OnError -> standard, silver:Default -> done",
            "2 passed, 0 failed",
        ]
    );

    let (code, out, err) = prospero(&["test", ROUTE_TESTS, "--coverage", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let j = json_of(&out, &err);
    let scripts = j["coverage"]["scripts"].as_array().expect("scripts");
    assert_eq!(scripts.len(), 1, "{j}");
    let s = &scripts[0];
    assert_eq!(s["script"], "route");
    assert_eq!(s["actions"], serde_json::json!({"covered": 5, "total": 6, "percent": 83.3}));
    assert_eq!(s["branches"], serde_json::json!({"covered": 5, "total": 8, "percent": 62.5}));
    assert_eq!(
        s["missed_branches"][1],
        serde_json::json!({"action": "pick", "branch": "OnError", "target": "standard"})
    );
    assert_eq!(s["covered_branches"].as_array().map(Vec::len), Some(5));

    // A sub script's steps count for its own file: hello's tests reach
    // greeting.json through RUNSUB (only hello.test.toml runs here).
    let (code, out, err) = prospero(&["test", "scripts/hello.test.toml", "--coverage", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let j = json_of(&out, &err);
    let greeting = j["coverage"]["scripts"]
        .as_array()
        .expect("scripts")
        .iter()
        .find(|s| s["file"] == "scripts/greeting.json")
        .unwrap_or_else(|| panic!("greeting.json is covered through hello.json: {j}"));
    assert!(greeting["covered_actions"].as_array().is_some_and(|a| a.contains(&J::from("personal"))), "{greeting}");
}

/// Script files (`.json`, `.xml`) directly in `dir`.
fn scripts_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json" || e == "xml"))
        .collect();
    out.sort();
    out
}

#[test]
fn shipped_script_tests_cover_90_percent_of_wired_branches() {
    let (code, out, err) = prospero(&["test", "scripts", "--coverage", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let j = json_of(&out, &err);
    let scripts = j["coverage"]["scripts"].as_array().expect("scripts");
    let mut covered_files = BTreeSet::new();
    let mut short = Vec::new();
    for s in scripts {
        let file = s["file"].as_str().expect("file");
        covered_files.insert(std::fs::canonicalize(root().join(file)).expect("the file exists"));
        let (c, t) = (s["branches"]["covered"].as_u64().expect("n"), s["branches"]["total"].as_u64().expect("n"));
        if c * 10 < t * 9 {
            short.push(format!("{file}: {c}/{t} wired branches; missed {}", s["missed_branches"]));
        }
    }
    assert!(short.is_empty(), "below 90%:\n{}", short.join("\n"));
    // Every shipped script is under test (none escapes the threshold by
    // having no tests).
    for f in scripts_in(&root().join("scripts")).into_iter().chain(scripts_in(&root().join("scripts/studio"))) {
        let canonical = std::fs::canonicalize(&f).expect("canonical");
        assert!(covered_files.contains(&canonical), "{} has no tests", f.display());
    }
}

#[test]
fn graph_coverage_marks_uncovered_branches() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cov = tmp.path().join("coverage.json");
    let cov = cov.to_str().expect("utf-8");
    let (code, out, err) = prospero(&["test", ROUTE_TESTS, "--coverage-out", cov]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("route.json: actions 5/6"), "--coverage-out implies --coverage: {out}");
    let report: J = serde_json::from_str(&std::fs::read_to_string(cov).expect("written")).expect("JSON");
    let missed: BTreeSet<String> = report["scripts"][0]["missed_branches"]
        .as_array()
        .expect("missed")
        .iter()
        .map(|b| {
            let text = |k: &str| b[k].as_str().expect("text").to_string();
            format!("\"{}\" -> \"{}\" [label=\"{}\"", text("action"), text("target"), text("branch"))
        })
        .collect();
    assert_eq!(missed.len(), 3, "{report}");

    let script = "tests/fixtures/testrunner/route.json";
    let (code, dot, err) = prospero(&["graph", script, "--coverage", cov, "--format", "dot"]);
    assert_eq!(code, 0, "{err}");
    let edges = |class: &str| -> BTreeSet<String> {
        dot.lines()
            .filter(|l| l.contains(" -> ") && l.contains(&format!("class=\"{class}\"")))
            .map(|l| l.trim().split(", ").next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(edges("uncovered"), missed, "{dot}");
    assert_eq!(edges("covered").len(), 5, "{dot}");
    assert!(dot.lines().any(|l| l.starts_with("  \"silver\" [") && l.contains("class=\"uncovered\"")), "{dot}");
    assert!(dot.lines().any(|l| l.starts_with("  \"gold\" [") && l.contains("class=\"covered\"")), "{dot}");
    // Graphviz still draws it.
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("Graphviz `dot` is needed (apt-get install -y graphviz): {e}"));
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), dot.as_bytes()).expect("write");
    let svg = child.wait_with_output().expect("dot runs");
    assert!(svg.status.success() && String::from_utf8_lossy(&svg.stdout).contains("<svg"));

    // Mermaid: silver (node 3) is uncovered, and so are its link and the
    // CASE's silver and OnError links (links 2 and 4 in file order).
    let (code, mermaid, err) = prospero(&["graph", script, "--coverage", cov]);
    assert_eq!(code, 0, "{err}");
    assert!(mermaid.contains("    class n3 uncovered;"), "{mermaid}");
    for i in [2, 4, 6] {
        assert!(mermaid.contains(&format!("    linkStyle {i} stroke:#e03131,stroke-dasharray:5 5;")), "{i}: {mermaid}");
    }

    // A coverage file that does not cover the script is refused (exit 2).
    let (code, _, err) = prospero(&["graph", "scripts/hello.json", "--coverage", cov]);
    assert_eq!(code, 2);
    assert!(err.contains("no coverage for scripts/hello.json") && err.contains("route.json"), "{err}");
}
