//! Test coverage: per script file, which actions the cases executed and
//! which wired branches they took.
//!
//! This module owns what counts (an action of the script; a wired branch,
//! an (action, branch name) pair whose target is an action of the same
//! script), how runs are credited (a step in a sub script reached through
//! RUNSUB, RUNSCRIPT or SPAWN counts for that sub script's own file), the
//! coverage report (text lines and the JSON `prospero test --coverage-out`
//! writes), and reading that JSON back for `prospero graph --coverage`.

use crate::engine::program::Program;
use crate::graph::CoverageMarks;
use crate::script::check::PropPlan;
use crate::{RunReport, Runtime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the cases run so far exercised, per script file.
#[derive(Debug, Default)]
pub struct Coverage {
    /// By canonical file path: one tally per file however it was named.
    scripts: BTreeMap<PathBuf, Tally>,
}

/// One script file's actions and wired branches, and which were hit.
#[derive(Debug)]
struct Tally {
    file: String,
    name: String,
    actions: Vec<String>,
    action_index: HashMap<String, usize>,
    branches: Vec<WiredBranch>,
    branch_index: HashMap<(String, String), usize>,
    hit_actions: Vec<bool>,
    hit_branches: Vec<bool>,
}

impl Tally {
    fn new(file: String, program: &Program) -> Tally {
        let mut actions = Vec::with_capacity(program.steps.len());
        let mut branches = Vec::new();
        // Steps are the script's actions, one to one and in file order;
        // branches are listed as the file lists them, named as the
        // manifest names them (the names a run's path reports).
        for (step, action) in program.steps.iter().zip(&program.script.actions) {
            actions.push(step.id.to_string());
            for b in &action.branches {
                let wired = match step.manifest.branch(&b.name) {
                    Some(i) => step.linked.next.get(i).copied().flatten().map(|t| (&step.manifest.branches[i].name, t)),
                    None => step.linked.custom.iter().find(|(n, _)| *n == b.name).map(|(n, t)| (n, *t)),
                };
                let Some((branch, to)) = wired.and_then(|(n, t)| Some((n, program.steps.get(t)?))) else { continue };
                branches.push(WiredBranch {
                    action: step.id.to_string(),
                    branch: branch.clone(),
                    target: to.id.to_string(),
                });
            }
        }
        let action_index = actions.iter().enumerate().map(|(i, a)| (a.clone(), i)).collect();
        let branch_index =
            branches.iter().enumerate().map(|(i, b)| ((b.action.clone(), b.branch.clone()), i)).collect();
        Tally {
            file,
            name: program.script.name.clone(),
            hit_actions: vec![false; actions.len()],
            hit_branches: vec![false; branches.len()],
            actions,
            action_index,
            branches,
            branch_index,
        }
    }

    fn hit(&mut self, id: &str, branch: &str) {
        if let Some(&i) = self.action_index.get(id) {
            self.hit_actions[i] = true;
        }
        // Allocation-free lookups would need a borrowed pair key; a path
        // has at most a budget's worth of steps, so two small strings each
        // are cheap next to the run itself.
        if let Some(&i) = self.branch_index.get(&(id.to_string(), branch.to_string())) {
            self.hit_branches[i] = true;
        }
    }

    fn summary(&self) -> ScriptCoverage {
        let pick = |hit: &[bool], want: bool| -> Vec<usize> { (0..hit.len()).filter(|&i| hit[i] == want).collect() };
        let covered_actions: Vec<String> =
            pick(&self.hit_actions, true).into_iter().map(|i| self.actions[i].clone()).collect();
        let missed_actions: Vec<String> =
            pick(&self.hit_actions, false).into_iter().map(|i| self.actions[i].clone()).collect();
        let covered_branches: Vec<WiredBranch> =
            pick(&self.hit_branches, true).into_iter().map(|i| self.branches[i].clone()).collect();
        let missed_branches: Vec<WiredBranch> =
            pick(&self.hit_branches, false).into_iter().map(|i| self.branches[i].clone()).collect();
        ScriptCoverage {
            file: self.file.clone(),
            script: self.name.clone(),
            actions: Share::new(covered_actions.len(), self.actions.len()),
            branches: Share::new(covered_branches.len(), self.branches.len()),
            covered_actions,
            missed_actions,
            covered_branches,
            missed_branches,
        }
    }
}

impl Coverage {
    /// No script yet.
    pub fn new() -> Coverage {
        Coverage::default()
    }

    /// Put `program`'s file under test (nothing hit yet), and every script
    /// it names literally in RUNSUB, RUNSCRIPT or SPAWN, and theirs.
    pub fn add_with_subs(&mut self, runtime: &Runtime, program: &Arc<Program>) {
        let mut seen: Vec<*const Program> = Vec::new();
        let mut queue = vec![program.clone()];
        while let Some(p) = queue.pop() {
            if seen.contains(&Arc::as_ptr(&p)) {
                continue;
            }
            seen.push(Arc::as_ptr(&p));
            self.register(&p);
            for step in &p.steps {
                for (spec, plan) in step.manifest.inputs.iter().zip(&step.linked.inputs) {
                    if let (true, PropPlan::Literal(name, _)) = (spec.script_ref, plan)
                        && let Ok(sub) = runtime.program(name.trim())
                    {
                        queue.push(sub);
                    }
                }
            }
        }
    }

    /// Credit the steps of `report`, a run of `program` on `runtime`: root
    /// steps to `program`'s file, sub-script steps to their own files.
    pub fn record(&mut self, runtime: &Runtime, program: &Program, report: &RunReport) {
        let root = self.register(program);
        let mut subs: HashMap<&str, Option<PathBuf>> = HashMap::new();
        for step in report.path.iter() {
            let key = match step.script {
                None => root.clone(),
                Some(name) => subs
                    .entry(name)
                    .or_insert_with(|| runtime.program(name).ok().and_then(|p| self.register(&p)))
                    .clone(),
            };
            if let Some(tally) = key.and_then(|k| self.scripts.get_mut(&k)) {
                tally.hit(step.id, step.branch);
            }
        }
    }

    /// The tally key of `program`'s file, adding the file when new. A
    /// script built in memory has no file and is not counted.
    fn register(&mut self, program: &Program) -> Option<PathBuf> {
        let path = program.script.origin.path.as_deref()?;
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.scripts.entry(key.clone()).or_insert_with(|| Tally::new(path.display().to_string(), program));
        Some(key)
    }

    /// Every script file's coverage, by file path.
    pub fn report(&self) -> CoverageReport {
        let mut scripts: Vec<ScriptCoverage> = self.scripts.values().map(Tally::summary).collect();
        scripts.sort_by(|a, b| a.file.cmp(&b.file));
        CoverageReport { scripts }
    }
}

/// The coverage of every script file under test: the `coverage` member of
/// `prospero test --json`, and the whole of a `--coverage-out` file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoverageReport {
    /// Per script file, sorted by path.
    pub scripts: Vec<ScriptCoverage>,
}

/// One script file's coverage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptCoverage {
    /// The file, as the test file (or the library search) named it.
    pub file: String,
    /// The script's name.
    pub script: String,
    /// Actions executed at least once.
    pub actions: Share,
    /// Wired branches taken at least once.
    pub branches: Share,
    /// Ids of the actions executed, in file order.
    pub covered_actions: Vec<String>,
    /// Ids of the actions never executed, in file order.
    pub missed_actions: Vec<String>,
    /// The wired branches taken.
    pub covered_branches: Vec<WiredBranch>,
    /// The wired branches never taken.
    pub missed_branches: Vec<WiredBranch>,
}

/// A count out of a total.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// How many were exercised.
    pub covered: usize,
    /// How many there are.
    pub total: usize,
    /// `covered` out of `total` in percent, rounded down to one decimal (100
    /// when there are none: nothing was missed).
    pub percent: f64,
}

impl Share {
    fn new(covered: usize, total: usize) -> Share {
        // Rounded down, so that 100 means "all" and a threshold is never
        // met by rounding.
        let percent = (covered * 1000).checked_div(total).map_or(100.0, |tenths| tenths as f64 / 10.0);
        Share { covered, total, percent }
    }

    /// `9/10 (90%)`: the percent rounded to a whole number, but below 100
    /// while anything is missed.
    fn text(&self) -> String {
        let mut whole = (self.covered * 100 + self.total / 2).checked_div(self.total).unwrap_or(100);
        if self.covered < self.total {
            whole = whole.min(99);
        }
        format!("{}/{} ({whole}%)", self.covered, self.total)
    }
}

/// A wired branch: `action` goes to `target` on result `branch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WiredBranch {
    /// The action id.
    pub action: String,
    /// The branch (result) name, as the action's manifest spells it.
    pub branch: String,
    /// The id of the action it goes to.
    pub target: String,
}

impl std::fmt::Display for WiredBranch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} -> {}", self.action, self.branch, self.target)
    }
}

impl ScriptCoverage {
    /// `FILE: actions 9/10 (90%), branches 12/14 (86%)`, then the missed
    /// actions and branches, one indented line each kind.
    pub fn text_lines(&self) -> Vec<String> {
        let mut lines =
            vec![format!("{}: actions {}, branches {}", self.file, self.actions.text(), self.branches.text())];
        if !self.missed_actions.is_empty() {
            lines.push(format!("  missed actions: {}", self.missed_actions.join(", ")));
        }
        if !self.missed_branches.is_empty() {
            let missed: Vec<String> = self.missed_branches.iter().map(WiredBranch::to_string).collect();
            lines.push(format!("  missed branches: {}", missed.join(", ")));
        }
        lines
    }

    /// What `prospero graph --coverage` marks as covered.
    pub fn marks(&self) -> CoverageMarks {
        CoverageMarks {
            actions: self.covered_actions.iter().cloned().collect(),
            edges: self
                .covered_branches
                .iter()
                .map(|b| (b.action.clone(), b.branch.clone(), b.target.clone()))
                .collect(),
        }
    }
}

/// A coverage file that cannot be used for a script.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoverageFileError {
    /// Not JSON, or not the shape `prospero test --coverage-out` writes.
    #[error(
        "not a coverage report ({reason}); write one with `prospero test PATH --coverage-out FILE` or use the output of `prospero test PATH --coverage --json`"
    )]
    Shape {
        /// What the JSON reader said.
        reason: String,
    },
    /// No entry for the script.
    #[error("no coverage for {script}; the report covers: {}", if .have.is_empty() { "no script".to_string() } else { .have.join(", ") })]
    NoEntry {
        /// The script asked for.
        script: String,
        /// The files the report has.
        have: Vec<String>,
    },
}

/// The entry for the script file `path` (named `name`) in a coverage
/// report's text: the `--coverage-out` object, or a whole `prospero test
/// --json --coverage` object. Entries match by file (compared as canonical
/// paths, relative ones from the working folder), else by script name when
/// only one entry has it.
pub fn entry_for(text: &str, path: &Path, name: &str) -> Result<ScriptCoverage, CoverageFileError> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Report(CoverageReport),
        TestJson { coverage: CoverageReport },
    }
    let report = match serde_json::from_str::<Either>(text) {
        Ok(Either::Report(r)) | Ok(Either::TestJson { coverage: r }) => r,
        Err(e) => {
            // The untagged enum's own message says nothing; the plain
            // shape's says where it went wrong.
            let reason = serde_json::from_str::<CoverageReport>(text).err().unwrap_or(e).to_string();
            return Err(CoverageFileError::Shape { reason });
        }
    };
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    let wanted = canonical(path);
    let mut scripts = report.scripts;
    if let Some(i) = scripts.iter().position(|s| wanted.is_some() && canonical(Path::new(&s.file)) == wanted) {
        return Ok(scripts.swap_remove(i));
    }
    let named: Vec<usize> = (0..scripts.len()).filter(|&i| scripts[i].script.eq_ignore_ascii_case(name)).collect();
    if let [i] = named[..] {
        return Ok(scripts.swap_remove(i));
    }
    Err(CoverageFileError::NoEntry {
        script: path.display().to_string(),
        have: scripts.iter().map(|s| s.file.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_down_in_json_and_never_show_100_while_missing_in_text() {
        let s = Share::new(199, 200);
        assert_eq!(s.percent, 99.5);
        assert_eq!(s.text(), "199/200 (99%)");
        assert_eq!(Share::new(12, 14).text(), "12/14 (86%)");
        assert_eq!(Share::new(2, 3).percent, 66.6);
        assert_eq!(Share::new(0, 0).text(), "0/0 (100%)");
    }

    #[test]
    fn a_script_counts_its_wired_branches_and_credits_taken_ones() {
        let runtime = Runtime::builder().without_store("not needed").build();
        let script = crate::script::load_text(
            r#"{"name": "t", "actions": [
              {"id": "b", "action": "BEGIN", "next": "i"},
              {"id": "i", "action": "IF", "Expression": "1 = 1", "branches": {"True": "e", "False": "e"}},
              {"id": "e", "action": "END"},
              {"id": "lost", "action": "END"}
            ]}"#,
            None,
        )
        .expect("loads");
        let program = runtime.load_script(script).expect("checks");
        let tally = Tally::new("t.json".into(), &program);
        assert_eq!(tally.actions, ["b", "i", "e", "lost"]);
        let names: Vec<String> = tally.branches.iter().map(WiredBranch::to_string).collect();
        assert_eq!(names, ["b:Default -> i", "i:True -> e", "i:False -> e"]);
        let mut tally = tally;
        tally.hit("b", "Default");
        tally.hit("i", "True");
        tally.hit("i", "NoSuchBranch");
        let s = tally.summary();
        assert_eq!((s.actions.covered, s.actions.total), (2, 4));
        assert_eq!((s.branches.covered, s.branches.total), (2, 3));
        assert_eq!(s.missed_actions, ["e", "lost"]);
        assert_eq!(s.missed_branches[0].to_string(), "i:False -> e");
        assert_eq!(s.text_lines()[0], "t.json: actions 2/4 (50%), branches 2/3 (67%)");
    }

    #[test]
    fn a_coverage_file_is_found_by_name_when_its_paths_do_not_resolve() {
        let report = CoverageReport {
            scripts: vec![ScriptCoverage {
                file: "elsewhere/t.json".into(),
                script: "t".into(),
                actions: Share::new(1, 1),
                branches: Share::new(0, 0),
                covered_actions: vec!["b".into()],
                missed_actions: vec![],
                covered_branches: vec![],
                missed_branches: vec![],
            }],
        };
        let text = serde_json::to_string(&report).expect("json");
        let found = entry_for(&text, Path::new("no/such/t.json"), "T").expect("by name");
        assert_eq!(found.covered_actions, ["b"]);
        let wrapped = format!("{{\"cases\": [], \"coverage\": {text}}}");
        assert!(entry_for(&wrapped, Path::new("x.json"), "t").is_ok());
        let e = entry_for(&text, Path::new("u.json"), "u").expect_err("no entry");
        assert!(e.to_string().contains("elsewhere/t.json"), "{e}");
        let e = entry_for("{\"scripts\": 3}", Path::new("u.json"), "u").expect_err("shape");
        assert!(e.to_string().contains("not a coverage report"), "{e}");
    }
}
