//! The JSON report of `prospero test --json`: totals, one entry per case,
//! and the coverage when it was collected.

use super::TestResult;
use super::coverage::CoverageReport;
use serde_json::{Value as J, json};
use std::time::Duration;

/// How many cases ran and how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Cases reported (an unusable test file counts as one).
    pub tests: usize,
    /// Cases that met every expectation.
    pub passed: usize,
    /// Cases that did not pass, errors included.
    pub failed: usize,
    /// Of the failed, those that could not run at all.
    pub errors: usize,
}

impl Totals {
    /// The totals of `results`.
    pub fn of(results: &[TestResult]) -> Totals {
        let passed = results.iter().filter(|r| r.passed()).count();
        let errors = results.iter().filter(|r| !r.passed() && r.error).count();
        Totals { tests: results.len(), passed, failed: results.len() - passed, errors }
    }
}

/// Milliseconds, whole (a case of a few microseconds is 0).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The report: `totals` (`tests`, `passed`, `failed`, `errors`),
/// `duration_ms`, `cases` (`file`, `script`, `name`, `passed`, `error`,
/// `failures`, `duration_ms`), and `coverage` when given.
pub fn json(results: &[TestResult], elapsed: Duration, coverage: Option<&CoverageReport>) -> J {
    let t = Totals::of(results);
    let cases: Vec<J> = results
        .iter()
        .map(|r| {
            json!({
                "file": r.file,
                "script": r.script,
                "name": r.name,
                "passed": r.passed(),
                "error": r.error,
                "failures": r.failures,
                "duration_ms": millis(r.duration),
            })
        })
        .collect();
    let mut out = json!({
        "totals": {"tests": t.tests, "passed": t.passed, "failed": t.failed, "errors": t.errors},
        "duration_ms": millis(elapsed),
        "cases": cases,
    });
    if let Some(c) = coverage {
        out["coverage"] = serde_json::to_value(c).unwrap_or(J::Null);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, failures: &[&str], error: bool) -> TestResult {
        TestResult {
            file: "a.test.toml".into(),
            script: Some("a.json".into()),
            name: name.into(),
            failures: failures.iter().map(|s| s.to_string()).collect(),
            error,
            duration: Duration::from_millis(3),
        }
    }

    #[test]
    fn totals_count_errors_among_the_failed() {
        let rs = [result("a", &[], false), result("b", &["path: x"], false), result("c", &["no script"], true)];
        assert_eq!(Totals::of(&rs), Totals { tests: 3, passed: 1, failed: 2, errors: 1 });
        let j = json(&rs, Duration::from_millis(10), None);
        assert_eq!(j["totals"]["failed"], 2);
        assert_eq!(j["cases"][1]["failures"][0], "path: x");
        assert_eq!(j["cases"][0]["duration_ms"], 3);
        assert!(j.get("coverage").is_none());
    }
}
