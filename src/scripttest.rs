//! Script tests (`prospero test`): files that give a script's parameters,
//! the clock, canned answers for chosen actions, and the expected path,
//! branches, variables, status and return value.
//!
//! This module owns the test-file format (TOML, `*.test.toml`), running its
//! tests, and judging each run. A test file looks like:
//!
//! ```toml
//! script = "greeting.json"          # relative to this file; or a list of
//!                                   # files (one script in several formats)
//! now = "2026-11-21T15:00:00Z"      # the clock for every test (optional)
//!
//! [[test]]
//! name = "a known caller is greeted by name"
//! params = { caller = "Ann", queue = "Sales" }
//! [test.expect]
//! status = "completed"
//! path = ["start", "name:True", "personal", "count", "done"]
//! return = "Hello Ann, you are through to Sales."
//! variables = { text = "Hello Ann, you are through to Sales." }
//!
//! [[test.mock]]                     # one answer per visit; the last repeats
//! action = "checkout"
//! result = "NoLeads"
//! outputs = { LeadCount = "0" }
//! ```
//!
//! A path entry is an action id, or `id:branch` to check the branch taken
//! too. Mocked actions are not run; actions that are not mocked run for real
//! on a fresh in-memory store per test.

use crate::engine::replay::{Canned, Mocks};
use crate::{RunOptions, RunReport, Runtime, Value};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A test file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestFileError {
    /// Unreadable.
    #[error("{file}: cannot read: {message}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// Not valid TOML, or not the test-file shape.
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// What the TOML reader said (with line and column).
        message: String,
    },
}

/// A test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The script under test, relative to the test file; several files
    /// (the same script in several formats) run the same tests.
    pub script: OneOrMany,
    /// Default clock (RFC 3339) for every test.
    #[serde(default)]
    pub now: Option<String>,
    /// The tests.
    #[serde(default, rename = "test")]
    pub tests: Vec<TestCase>,
    /// Where the file is (set after reading).
    #[serde(skip)]
    pub path: PathBuf,
}

/// One text or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl OneOrMany {
    fn all(&self) -> &[String] {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s),
            OneOrMany::Many(v) => v,
        }
    }
}

/// One test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What it shows.
    pub name: String,
    /// Parameters by name (or `p1`..).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// Clock (RFC 3339), overriding the file's.
    #[serde(default)]
    pub now: Option<String>,
    /// Random seed (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Canned answers.
    #[serde(default, rename = "mock")]
    pub mocks: Vec<MockSpec>,
    /// What must hold.
    #[serde(default)]
    pub expect: Expect,
}

/// A canned answer for one visit of an action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockSpec {
    /// Action id.
    pub action: String,
    /// Result (branch) name; default `Default`.
    #[serde(default)]
    pub result: Option<String>,
    /// Outputs by property name.
    #[serde(default)]
    pub outputs: BTreeMap<String, toml::Value>,
    /// A failure: the action takes OnError with this `_ERR`.
    #[serde(default)]
    pub error: Option<String>,
}

/// The expectations; each one given must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `completed`, `failed` or `budget_exceeded`.
    #[serde(default)]
    pub status: Option<String>,
    /// Executed actions in order: `id` or `id:branch`.
    #[serde(default)]
    pub path: Option<Vec<String>>,
    /// Root-scope variables at the end.
    #[serde(default)]
    pub variables: BTreeMap<String, toml::Value>,
    /// The return value.
    #[serde(default, rename = "return")]
    pub return_value: Option<toml::Value>,
    /// Text the run's error must contain.
    #[serde(default)]
    pub error: Option<String>,
}

/// One test's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The test file.
    pub file: String,
    /// The test's name.
    pub name: String,
    /// Every expectation that failed (empty: passed).
    pub failures: Vec<String>,
}

impl TestResult {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Read a test file.
pub fn load(path: &Path) -> Result<TestFile, TestFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| TestFileError::Read { file: file.clone(), message: e.to_string() })?;
    let mut t: TestFile =
        toml::from_str(&text).map_err(|e| TestFileError::Format { file: file.clone(), message: e.to_string() })?;
    t.path = path.to_path_buf();
    Ok(t)
}

/// Test files under `path`: the file itself, or every `*.test.toml` below
/// a folder, sorted.
pub fn discover(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".test.toml")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn toml_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::text(s.as_str()),
        other => Value::from_json(&toml_json(other)),
    }
}

fn toml_json(v: &toml::Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| format!("now '{text}': {e}"))
}

/// Run every test of `file`.
pub async fn run_file(file: &TestFile) -> Vec<TestResult> {
    let file_name = file.path.display().to_string();
    let dir = file.path.parent().unwrap_or(Path::new("."));
    let scripts = file.script.all();
    let mut results = Vec::with_capacity(file.tests.len() * scripts.len());
    for script in scripts {
        for case in &file.tests {
            let failures = match run_case(&dir.join(script), file.now.as_deref(), case).await {
                Ok(f) => f,
                Err(e) => vec![e],
            };
            let name = if scripts.len() > 1 { format!("{} [{script}]", case.name) } else { case.name.clone() };
            results.push(TestResult { file: file_name.clone(), name, failures });
        }
    }
    results
}

async fn run_case(script: &Path, file_now: Option<&str>, case: &TestCase) -> Result<Vec<String>, String> {
    // A fresh runtime and in-memory store per test: tests never share state.
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = runtime.load(script).map_err(|e| format!("{}: {}", script.display(), e.lines().join("; ")))?;
    let mut opts = RunOptions::new();
    for (k, v) in &case.params {
        opts = opts.param(k.clone(), toml_value(v));
    }
    if let Some(now) = case.now.as_deref().or(file_now) {
        opts = opts.at(instant(now)?);
    }
    opts.seed = Some(case.seed.unwrap_or(1));
    let mut by_action: BTreeMap<&str, Vec<Canned>> = BTreeMap::new();
    for m in &case.mocks {
        by_action.entry(m.action.as_str()).or_default().push(Canned {
            outputs: m.outputs.iter().map(|(k, v)| (k.clone(), toml_value(v))).collect(),
            result: if m.error.is_some() { "OnError".into() } else { m.result.clone().unwrap_or("Default".into()) },
            error: m.error.clone(),
        });
    }
    // An id the script does not have is a typo, unless sub scripts (whose
    // actions may be mocked too) are in play.
    // (The catalog marks the inputs that name a script.)
    let calls_subs = program.steps.iter().any(|s| s.manifest.inputs.iter().any(|i| i.script_ref));
    let mut mocks = Mocks::new();
    for (id, answers) in by_action {
        let step = program.steps.iter().find(|s| &*s.id == id);
        if step.is_none() && !calls_subs {
            return Err(format!("mock for '{id}': {} has no such action", program.script.name));
        }
        if let Some(step) = step {
            for (name, _) in answers.iter().flat_map(|c| &c.outputs) {
                if step.manifest.output(name).is_none() {
                    let has: Vec<&str> = step.manifest.outputs.iter().map(|o| o.name.as_str()).collect();
                    return Err(format!(
                        "mock for '{id}': {} has no output '{name}' (it has: {})",
                        step.manifest.name,
                        if has.is_empty() { "none".to_string() } else { has.join(", ") }
                    ));
                }
            }
        }
        mocks = mocks.answer(id, answers);
    }
    let report = runtime.run(&program, opts.mocks(mocks)).await.map_err(|e| e.to_string())?;
    runtime.wait_spawned().await;
    Ok(judge(&case.expect, &report))
}

/// Every expectation of `expect` that `report` does not meet.
pub fn judge(expect: &Expect, report: &RunReport) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(s) = &expect.status
        && s != report.status.name()
    {
        let why = report.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
        failures.push(format!("status: expected {s}, got {}{why}", report.status.name()));
    }
    if let Some(want) = &expect.path {
        let got: Vec<String> = report.path.iter().map(|p| format!("{}:{}", p.id, p.branch)).collect();
        let matches = want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|(w, g)| if w.contains(':') { w == g } else { g.split(':').next() == Some(w) });
        if !matches {
            failures.push(format!("path: expected [{}], got [{}]", want.join(", "), got.join(", ")));
        }
    }
    for (name, want) in &expect.variables {
        let got = report.var(name).cloned().unwrap_or_default();
        if !same(want, &got) {
            failures.push(format!("variable {name}: expected {}, got {}", toml_json(want), got.to_report_json()));
        }
    }
    if let Some(want) = &expect.return_value {
        let got = report.return_value.clone().unwrap_or_default();
        if !same(want, &got) {
            failures.push(format!("return: expected {}, got {}", toml_json(want), got.to_report_json()));
        }
    }
    if let Some(want) = &expect.error {
        let got = report.error.as_deref().unwrap_or("");
        if !got.contains(want.as_str()) {
            failures.push(format!("error: expected one containing '{want}', got '{got}'"));
        }
    }
    failures
}

/// A string expectation compares with the value's text; anything else with
/// its JSON form.
fn same(want: &toml::Value, got: &Value) -> bool {
    match want {
        toml::Value::String(s) => got.to_text() == s.as_str(),
        other => toml_json(other) == got.to_report_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_shape_and_refuses_unknown_keys() {
        let good = r#"
script = "greeting.json"
now = "2026-11-21T15:00:00Z"
[[test]]
name = "one"
params = { caller = "Ann" }
[test.expect]
path = ["start", "name:True"]
[[test.mock]]
action = "checkout"
result = "NoLeads"
"#;
        let t: TestFile = toml::from_str(good).expect("parses");
        assert_eq!(t.tests.len(), 1);
        assert_eq!(t.tests[0].mocks[0].result.as_deref(), Some("NoLeads"));
        let bad = "script = \"x.json\"\n[[test]]\nname = \"t\"\nexpcet = {}\n";
        let e = toml::from_str::<TestFile>(bad).expect_err("typo refused");
        assert!(e.to_string().contains("expcet"), "{e}");
    }

    #[test]
    fn string_expectations_compare_text_others_json() {
        assert!(same(&toml::Value::String("5".into()), &Value::Number(5.0)));
        assert!(!same(&toml::Value::String("5".into()), &Value::text("6")));
        let arr = toml::Value::Array(vec![toml::Value::String("a".into())]);
        assert!(same(&arr, &Value::from_json(&serde_json::json!(["a"]))));
    }
}
