//! Script tests (`prospero test`): files that give a script's parameters,
//! the clock, canned answers for chosen actions, and the expected path,
//! branches, variables, status and return value.
//!
//! This module owns the test-file format (TOML, `*.test.toml`; every key is
//! described with examples in `docs/testing.md`), finding test files,
//! running their cases and judging each run. Its submodules own what is
//! made of the results: [`report`] (the JSON report), [`junit`] (the JUnit
//! XML report) and [`coverage`] (which actions and wired branches the
//! cases exercised, and the coverage file `prospero graph` reads).

pub mod coverage;
pub mod junit;
pub mod report;

use crate::engine::replay::{Canned, Mocks};
use crate::{RunOptions, RunReport, Runtime, Value};
use chrono::{DateTime, Utc};
use coverage::Coverage;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    /// The script file the case ran on (none when the test file itself was
    /// unusable).
    pub script: Option<String>,
    /// The test's name (with the script file in brackets when the test
    /// file names several).
    pub name: String,
    /// Every expectation that failed, or why the case could not run (empty:
    /// passed).
    pub failures: Vec<String>,
    /// The case could not run at all (an unusable test file, script, mock
    /// or clock) rather than running and missing an expectation.
    pub error: bool,
    /// How long the case took, loading its script included.
    pub duration: Duration,
}

impl TestResult {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// A test file that could not be used, as one failed (error) result, so
    /// that every report shows it.
    pub fn unusable(e: &TestFileError) -> TestResult {
        let file = match e {
            TestFileError::Read { file, .. } | TestFileError::Format { file, .. } => file.clone(),
        };
        TestResult {
            file,
            script: None,
            name: UNUSABLE_FILE.to_string(),
            failures: vec![e.to_string()],
            error: true,
            duration: Duration::ZERO,
        }
    }
}

/// The name an unusable test file's result carries.
pub const UNUSABLE_FILE: &str = "(test file)";

/// A command-line PATH that gives no test files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FindError {
    /// Neither a file nor a folder.
    #[error("{0}: no such file or folder")]
    Missing(String),
    /// A file whose name does not end in `.test.toml` (a script, most
    /// likely): running it as a test file would only give a TOML error.
    #[error("not a test file: {0} (test files end in .test.toml)")]
    NotATestFile(String),
    /// A folder with no `*.test.toml` file anywhere below it.
    #[error("no tests found under {0}")]
    NoTests(String),
}

/// Whether `path` is named like a test file.
pub fn is_test_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".test.toml"))
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
            // The entry's own type: a symbolic link to a folder is not
            // followed, so a link loop cannot make the search endless.
            let Ok(kind) = e.file_type() else { continue };
            let p = e.path();
            if kind.is_dir() {
                stack.push(p);
            } else if is_test_file(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The test files a command-line PATH stands for: a test file, or the test
/// files below a folder (at least one).
pub fn find(path: &Path) -> Result<Vec<PathBuf>, FindError> {
    let shown = path.display().to_string();
    if path.is_dir() {
        let files = discover(path);
        return if files.is_empty() { Err(FindError::NoTests(shown)) } else { Ok(files) };
    }
    if !path.exists() {
        return Err(FindError::Missing(shown));
    }
    if !is_test_file(path) {
        return Err(FindError::NotATestFile(shown));
    }
    Ok(vec![path.to_path_buf()])
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

/// Which cases to run and what to collect while running them.
#[derive(Debug, Default)]
pub struct Selection<'a> {
    /// Run only the cases whose name or test-file path contains this text.
    pub filter: Option<&'a str>,
    /// Collect the actions and branches the cases exercise.
    pub coverage: Option<&'a mut Coverage>,
    /// Run every case for this principal (default: every permission).
    pub principal: Option<crate::Principal>,
}

impl Selection<'_> {
    /// Whether the case `name` (shown as `shown`) of the test file `file`
    /// is selected.
    fn selects(&self, file: &str, name: &str, shown: &str) -> bool {
        self.filter.is_none_or(|t| name.contains(t) || shown.contains(t) || file.contains(t))
    }
}

/// Run every test of `file`.
pub async fn run_file(file: &TestFile) -> Vec<TestResult> {
    run_selected(file, Selection::default()).await
}

/// Run the tests of `file` that `selection` selects, in file order (each
/// case once per script file the test file names).
pub async fn run_selected(file: &TestFile, mut selection: Selection<'_>) -> Vec<TestResult> {
    let file_name = file.path.display().to_string();
    let dir = file.path.parent().unwrap_or(Path::new("."));
    let scripts = file.script.all();
    let mut results = Vec::with_capacity(file.tests.len() * scripts.len());
    for script in scripts {
        for case in &file.tests {
            let name = if scripts.len() > 1 { format!("{} [{script}]", case.name) } else { case.name.clone() };
            if !selection.selects(&file_name, &case.name, &name) {
                continue;
            }
            let path = dir.join(script);
            let started = Instant::now();
            let cov = selection.coverage.as_deref_mut();
            let outcome = run_case(&path, file.now.as_deref(), case, cov, selection.principal.clone()).await;
            let (failures, error) = match outcome {
                Ok(f) => (f, false),
                Err(e) => (vec![e], true),
            };
            results.push(TestResult {
                file: file_name.clone(),
                script: Some(path.display().to_string()),
                name,
                failures,
                error,
                duration: started.elapsed(),
            });
        }
    }
    results
}

async fn run_case(
    script: &Path,
    file_now: Option<&str>,
    case: &TestCase,
    mut coverage: Option<&mut Coverage>,
    principal: Option<crate::Principal>,
) -> Result<Vec<String>, String> {
    // A fresh runtime and in-memory store per test: tests never share state.
    let runtime = Runtime::builder().db("sqlite::memory:").build();
    let program = runtime.load(script).map_err(|e| format!("{}: {}", script.display(), e.lines().join("; ")))?;
    // The script and the sub scripts it names are under test from here on,
    // whether or not this case gets to run them.
    if let Some(c) = coverage.as_deref_mut() {
        c.add_with_subs(&runtime, &program);
    }
    let mut opts = RunOptions { principal, ..RunOptions::new() };
    for (k, v) in &case.params {
        opts = opts.param(k.clone(), toml_value(v));
    }
    if let Some(now) = case.now.as_deref().or(file_now) {
        opts = opts.at(instant(now)?);
    }
    opts.seed = Some(case.seed.unwrap_or(1));
    let mocks = mocks(&program, &case.mocks)?;
    let report = runtime.run(&program, opts.mocks(mocks)).await.map_err(|e| e.to_string())?;
    let spawned = runtime.wait_spawned().await;
    if let Some(c) = coverage {
        c.record(&runtime, &program, &report);
        for r in &spawned {
            if let Ok(p) = runtime.program(&r.script) {
                c.record(&runtime, &p, r);
            }
        }
    }
    Ok(judge(&case.expect, &report))
}

/// The canned answers of `specs`, checked against the script: an action id
/// it does not have (unless sub scripts, whose actions may be mocked too,
/// are in play) or an output the action does not have is refused.
fn mocks(program: &crate::Program, specs: &[MockSpec]) -> Result<Mocks, String> {
    let mut by_action: BTreeMap<&str, Vec<Canned>> = BTreeMap::new();
    for m in specs {
        by_action.entry(m.action.as_str()).or_default().push(Canned {
            outputs: m.outputs.iter().map(|(k, v)| (k.clone(), toml_value(v))).collect(),
            result: if m.error.is_some() { "OnError".into() } else { m.result.clone().unwrap_or("Default".into()) },
            error: m.error.clone(),
        });
    }
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
    Ok(mocks)
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
