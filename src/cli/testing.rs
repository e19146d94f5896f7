//! `prospero test`: find the test files, run the selected cases, print one
//! line per case (or one JSON object), and write the JUnit and coverage
//! reports asked for.

use crate::usage;
use anyhow::{Context as _, Result};
use prospero::scripttest::{self, FindError, Selection, TestResult, coverage, junit, report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The arguments of `prospero test`.
#[derive(clap::Args, Debug)]
pub(crate) struct TestArgs {
    /// Test files (`*.test.toml`), or folders searched for them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run only the cases whose name or test-file path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print exactly one JSON object: totals, every case, and the coverage
    /// with --coverage.
    #[arg(long)]
    json: bool,
    /// Report, per script, the actions executed and the wired branches taken.
    #[arg(long)]
    coverage: bool,
    /// Write the coverage as JSON to FILE (for `prospero graph --coverage`);
    /// implies --coverage.
    #[arg(long, value_name = "FILE")]
    coverage_out: Option<PathBuf>,
    /// Run every case for this principal: a file with `permissions = [...]`
    /// (as `run --principal` takes it; a test's store has no users).
    #[arg(long, value_name = "FILE")]
    principal: Option<PathBuf>,
}

/// Create `path` for a report now, so that a path that cannot be written
/// is refused (exit 2) before any test runs.
fn report_file(flag: &str, path: Option<&Path>) -> Result<Option<(PathBuf, std::fs::File)>> {
    let Some(path) = path else { return Ok(None) };
    let file =
        std::fs::File::create(path).map_err(|e| usage(format!("{flag} {}: cannot write: {e}", path.display())))?;
    Ok(Some((path.to_path_buf(), file)))
}

pub(crate) fn script_tests(args: &TestArgs) -> Result<ExitCode> {
    // Every PATH is checked before anything runs: a typo in one of several
    // should not cost the whole run's time to discover.
    let mut files = Vec::new();
    for p in &args.paths {
        match scripttest::find(p) {
            Ok(found) => files.extend(found),
            Err(e @ FindError::NoTests(_)) => {
                eprintln!("prospero: {e}");
                return Ok(ExitCode::from(1));
            }
            Err(e) => return Err(usage(e.to_string())),
        }
    }
    if args.filter.as_deref() == Some("") {
        return Err(usage("--filter: give the text test names should contain"));
    }
    let junit_out = report_file("--junit", args.junit.as_deref())?;
    let coverage_out = report_file("--coverage-out", args.coverage_out.as_deref())?;
    let want_coverage = args.coverage || coverage_out.is_some();
    let principal = args.principal.as_deref().map(super::users::read_test_principal).transpose()?;

    let started = chrono::Utc::now();
    let clock = std::time::Instant::now();
    let mut coverage = coverage::Coverage::new();
    let mut results: Vec<TestResult> = Vec::new();
    let rt = crate::tokio_rt()?;
    for f in &files {
        let file = match scripttest::load(f) {
            Ok(file) => file,
            Err(e) => {
                let r = TestResult::unusable(&e);
                print_result(args.json, &r);
                results.push(r);
                continue;
            }
        };
        let selection = Selection {
            filter: args.filter.as_deref(),
            coverage: if want_coverage { Some(&mut coverage) } else { None },
            principal: principal.clone(),
        };
        for r in rt.block_on(scripttest::run_selected(&file, selection)) {
            print_result(args.json, &r);
            results.push(r);
        }
    }
    let elapsed = clock.elapsed();
    // No case ran: nothing was tested, which is never a success. Unusable
    // test files are still reported below (and fail the run).
    if !results.iter().any(|r| r.script.is_some()) {
        let paths: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        match &args.filter {
            Some(t) => eprintln!("prospero: no test matched --filter {t:?} under {}", paths.join(", ")),
            None => eprintln!("prospero: no tests found under {} (no [[test]] cases)", paths.join(", ")),
        }
        if results.is_empty() {
            // No report is better than an empty file a CI server would
            // read as "no tests, all well".
            for (path, file) in junit_out.into_iter().chain(coverage_out) {
                drop(file);
                let _ = std::fs::remove_file(path);
            }
            return Ok(ExitCode::from(1));
        }
    }
    let cov = want_coverage.then(|| coverage.report());
    finish(args, &results, elapsed, started, cov.as_ref(), junit_out, coverage_out)
}

/// One case's `ok`/`FAIL` line and the lines saying why (none with --json).
fn print_result(json: bool, r: &TestResult) {
    if json {
        return;
    }
    if r.passed() {
        outln!("ok   {}: {}", r.file, r.name);
        return;
    }
    if r.name == scripttest::UNUSABLE_FILE {
        // The message names the file already.
        outln!("FAIL {}", r.failures.join("; "));
        return;
    }
    outln!("FAIL {}: {}", r.file, r.name);
    for why in &r.failures {
        outln!("     {why}");
    }
}

/// The reports, the closing line and the exit code.
fn finish(
    args: &TestArgs,
    results: &[TestResult],
    elapsed: std::time::Duration,
    started: chrono::DateTime<chrono::Utc>,
    cov: Option<&coverage::CoverageReport>,
    junit_out: Option<(PathBuf, std::fs::File)>,
    coverage_out: Option<(PathBuf, std::fs::File)>,
) -> Result<ExitCode> {
    use std::io::Write as _;
    let totals = report::Totals::of(results);
    if let Some((path, file)) = junit_out {
        let hostname = gethostname::gethostname().to_string_lossy().into_owned();
        let info = junit::RunInfo { started, hostname, elapsed };
        let mut out = std::io::BufWriter::new(file);
        junit::write(results, &info, &mut out)
            .and_then(|_| out.flush())
            .map_err(|e| usage(format!("--junit {}: cannot write: {e}", path.display())))?;
    }
    if let (Some((path, file)), Some(cov)) = (coverage_out, cov) {
        let mut out = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut out, cov)
            .map_err(std::io::Error::from)
            .and_then(|_| out.write_all(b"\n"))
            .and_then(|_| out.flush())
            .map_err(|e| usage(format!("--coverage-out {}: cannot write: {e}", path.display())))?;
    }
    if args.json {
        let json = report::json(results, elapsed, cov);
        outln!("{}", serde_json::to_string_pretty(&json).context("writing the JSON report")?);
    } else {
        if let Some(cov) = cov {
            outln!("coverage:");
            for s in &cov.scripts {
                for line in s.text_lines() {
                    outln!("{line}");
                }
            }
        }
        outln!("{} passed, {} failed", totals.passed, totals.failed);
    }
    Ok(if totals.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
