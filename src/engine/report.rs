//! What a finished run hands back: its [`RunReport`] (status, return
//! value, variables, path), the [`Failure`] that ended it, where and why,
//! and the report's JSON form (`prospero run --json`).

use super::action::ActionError;
use super::path::RunPath;
use super::program::Program;
use super::replay;
use super::vars::Vars;
use crate::base::Pos;
use crate::script::check::PropPlan;
use crate::value::Value;
use std::fmt;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunStatus {
    /// It reached its end (an OnError branch the script handles still counts).
    Completed,
    /// It failed with an error no branch handled.
    Failed,
    /// A run-level budget (steps, wall clock) stopped it.
    BudgetExceeded,
}

impl RunStatus {
    /// `completed`, `failed` or `budget_exceeded`.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::BudgetExceeded => "budget_exceeded",
        }
    }
}

/// An action named by its script, id and caption.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActionAt {
    /// The script's name.
    pub script: String,
    /// The action id.
    pub action: String,
    /// The caption, or the action type when the caption is blank.
    pub caption: String,
}

impl fmt::Display for ActionAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "action {} ({}) in script {}", self.action, self.caption, self.script)
    }
}

/// A step failure, where it happened and why: the action whose failure no
/// branch handled ([`RunReport::failure`]), or one a branch did handle
/// ([`RunReport::handled`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The failing action.
    pub at: ActionAt,
    /// Its action type (`TIMEZONE`, `ASSIGN`).
    pub kind: String,
    /// The script's file, when it came from one.
    pub file: Option<String>,
    /// Where in the file: the failing property when known, else the
    /// action; `None` when the script has no positions (built in memory).
    pub pos: Option<Pos>,
    /// The property the failure came from, when known (snippet failures:
    /// an expression, a `{}` substitution, SNIPPET code).
    pub property: Option<String>,
    /// For a snippet failure, the line inside the property's text, when
    /// the snippet knows it (SNIPPET code, syntax errors).
    pub snippet_line: Option<u32>,
    /// For a snippet failure, the column inside the property's text, when
    /// the snippet knows it (syntax errors).
    pub snippet_column: Option<u32>,
    /// What went wrong: the step's error, as `_ERR` holds it.
    pub message: String,
    /// The RUNSUBs whose sub script failed with it and that had no branch
    /// for it, innermost first (empty when it failed in the root script or
    /// was handled where it happened).
    pub via: Vec<ActionAt>,
}

impl Failure {
    /// As JSON: the `failure` member of `prospero run --json` and of a
    /// trace's `end` event.
    pub fn to_json(&self) -> serde_json::Value {
        let via: Vec<serde_json::Value> = self
            .via
            .iter()
            .map(|a| serde_json::json!({"script": a.script, "action": a.action, "caption": a.caption}))
            .collect();
        serde_json::json!({
            "script": self.at.script,
            "action": self.at.action,
            "caption": self.at.caption,
            "kind": self.kind,
            "file": self.file,
            "line": self.pos.map(|p| p.line),
            "column": self.pos.map(|p| p.column),
            "property": self.property,
            "snippet_line": self.snippet_line,
            "snippet_column": self.snippet_column,
            "message": self.message,
            "via": via,
        })
    }
}

/// `FILE:LINE:COLUMN: action ID (CAPTION) in script NAME: MESSAGE`, the
/// location as `prospero check` writes it (left out when unknown), then
/// the RUNSUBs it came through: `(called by action ID (CAPTION) in script
/// NAME)`.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.pos) {
            (Some(file), Some(pos)) => write!(f, "{file}:{pos}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        write!(f, "{}: {}", self.at, self.message)?;
        for caller in &self.via {
            write!(f, " (called by {caller})")?;
        }
        Ok(())
    }
}

/// Why a step failed, and where inside a property when a snippet knows:
/// what the run loop carries from the failing step to its branch choice.
#[derive(Clone, Debug)]
pub(crate) struct Cause {
    pub message: String,
    /// A snippet failure (its property may be the step's one snippet).
    snippet: bool,
    property: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
}

impl From<String> for Cause {
    fn from(message: String) -> Cause {
        Cause { message, snippet: false, property: None, line: None, column: None }
    }
}

impl From<ActionError> for Cause {
    fn from(e: ActionError) -> Cause {
        match e {
            ActionError::Snippet(f) => {
                Cause { message: f.message, snippet: true, property: f.property, line: f.line, column: f.column }
            }
            other => Cause::from(other.to_string()),
        }
    }
}

impl Failure {
    /// `cause` at action `pc` of `program`.
    pub(crate) fn of_step(program: &Program, pc: usize, cause: &Cause) -> Failure {
        let action = &program.script.actions[pc];
        let step = &program.steps[pc];
        // An action that evaluates its one lazy or code property itself
        // (ASSIGN's Value, SNIPPET's Code) reports a snippet failure
        // without naming it: it can only be that property.
        let property = cause.property.clone().or_else(|| {
            let mut own = step
                .manifest
                .inputs
                .iter()
                .zip(&step.linked.inputs)
                .filter(|(_, plan)| matches!(plan, PropPlan::Lazy(..) | PropPlan::Snippet(_)));
            match (cause.snippet, own.next(), own.next()) {
                (true, Some((spec, _)), None) => Some(spec.name.clone()),
                _ => None,
            }
        });
        let origin = &program.script.origin;
        let written = property
            .as_deref()
            .and_then(|name| action.properties.iter().find(|p| p.name.eq_ignore_ascii_case(name)).and_then(|p| p.pos));
        Failure {
            at: ActionAt::of(program, pc),
            kind: step.kind.to_string(),
            file: origin.path.as_ref().map(|p| p.display().to_string()),
            pos: written.or_else(|| origin.positions.get(&action.id).copied()),
            property,
            snippet_line: cause.line,
            snippet_column: cause.column,
            message: cause.message.clone(),
            via: Vec::new(),
        }
    }
}

impl ActionAt {
    /// Action `pc` of `program`.
    pub(crate) fn of(program: &Program, pc: usize) -> ActionAt {
        let action = &program.script.actions[pc];
        ActionAt { script: program.script.name.clone(), action: action.id.clone(), caption: action.label().to_string() }
    }
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// Run id.
    pub run_id: String,
    /// How it ended.
    pub status: RunStatus,
    /// The root script's name.
    pub script: String,
    /// The value of the root script's RETURN, if any.
    pub return_value: Option<Value>,
    /// The root scope's variables at the end.
    pub variables: Vars,
    /// Every executed action, in order.
    pub path: RunPath,
    /// Number of actions executed.
    pub steps: u64,
    /// Why it did not complete: for a failed step, [`Failure`]'s text.
    pub error: Option<String>,
    /// The step failure no branch handled, which failed the run.
    pub failure: Option<Failure>,
    /// Step failures the script handled (an OnError branch, or the
    /// Default it falls back to), in order; the first
    /// [`RunReport::HANDLED_KEPT`] of them.
    pub handled: Vec<Failure>,
    /// Notes (unwired branches that ended the script, trace problems).
    pub notes: Vec<String>,
    /// For a replay: the first place the run differed from its trace.
    pub divergence: Option<replay::Divergence>,
}

impl RunReport {
    /// How many handled failures a report keeps (a loop that fails on
    /// every turn would otherwise hold one per turn).
    pub const HANDLED_KEPT: usize = 100;

    /// A report of a run that never executed a step.
    pub(crate) fn without_steps(run_id: String, status: RunStatus, script: String, error: String) -> RunReport {
        RunReport {
            run_id,
            status,
            script,
            return_value: None,
            variables: Vars::new(),
            path: RunPath::default(),
            steps: 0,
            error: Some(error),
            failure: None,
            handled: Vec::new(),
            notes: Vec::new(),
            divergence: None,
        }
    }

    /// The report as `prospero run --json` prints it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut report = self.to_json_without_values();
        report["return"] = self.return_value.as_ref().map(Value::to_report_json).into();
        report["variables"] = self.variables.to_json();
        report
    }

    /// The report with `return` and `variables` left null.
    fn to_json_without_values(&self) -> serde_json::Value {
        let path: Vec<serde_json::Value> = self
            .path
            .iter()
            .map(|p| {
                let mut m = serde_json::Map::new();
                m.insert("id".into(), p.id.into());
                m.insert("action".into(), p.action.into());
                m.insert("branch".into(), p.branch.into());
                if let Some(s) = p.script {
                    m.insert("script".into(), s.into());
                }
                serde_json::Value::Object(m)
            })
            .collect();
        serde_json::json!({
            "status": self.status.name(),
            "script": self.script,
            "return": null,
            "variables": null,
            "path": path,
            "steps": self.steps,
            "error": self.error,
            "failure": self.failure.as_ref().map(Failure::to_json),
        })
    }

    /// Write [`RunReport::to_json`]'s object to `out` without building it:
    /// each value is written as text straight away, so a report holding
    /// hundreds of megabytes of values costs no more than the text.
    /// `extra` members follow the report's own.
    pub fn write_json(&self, out: &mut dyn std::io::Write, extra: &[(&str, serde_json::Value)]) -> std::io::Result<()> {
        let mut buf = Vec::new();
        let text = |v: &serde_json::Value| serde_json::to_string(v).unwrap_or_default();
        writeln!(out, "{{")?;
        writeln!(out, "  \"status\": {},", text(&self.status.name().into()))?;
        writeln!(out, "  \"script\": {},", text(&self.script.as_str().into()))?;
        match &self.return_value {
            Some(v) => {
                write!(out, "  \"return\": ")?;
                stream_json(v, out, &mut buf)?;
                out.write_all(&buf)?;
                writeln!(out, ",")?;
                buf.clear();
            }
            None => writeln!(out, "  \"return\": null,")?,
        }
        write!(out, "  \"variables\": {{")?;
        for (i, (name, v)) in self.variables.iter().enumerate() {
            buf.clear();
            buf.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
            crate::value::write_json_str(&mut buf, name);
            buf.extend_from_slice(b": ");
            stream_json(v, out, &mut buf)?;
            out.write_all(&buf)?;
        }
        writeln!(out, "{}}},", if self.variables.is_empty() { "" } else { "\n  " })?;
        let report = self.to_json_without_values();
        writeln!(out, "  \"path\": {},", text(&report["path"]))?;
        writeln!(out, "  \"steps\": {},", self.steps)?;
        writeln!(out, "  \"error\": {},", text(&report["error"]))?;
        write!(out, "  \"failure\": {}", text(&report["failure"]))?;
        for (name, v) in extra {
            write!(out, ",\n  {}: {}", text(&(*name).into()), text(v))?;
        }
        writeln!(out, "\n}}")
    }

    /// A variable of the root scope.
    pub fn var(&self, name: &str) -> Option<&Value> {
        self.variables.get(name)
    }
}

/// Write `v` as [`Value::write_report_json`] does, through `buf`, handing
/// `buf` to `out` whenever it passes 64 KiB.
fn stream_json(v: &Value, out: &mut dyn std::io::Write, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut failed = None;
    v.stream_report_json(buf, 64 << 10, &mut |b| match out.write_all(b) {
        Ok(()) => {
            b.clear();
            true
        }
        Err(e) => {
            failed = Some(e);
            false
        }
    });
    failed.map_or(Ok(()), Err)
}

/// The report of a run whose task panicked or was cancelled.
pub(crate) fn crash_report(id: String, script: String, e: tokio::task::JoinError) -> RunReport {
    let why = if e.is_panic() { "an action panicked" } else { "the run was cancelled" };
    RunReport::without_steps(id, RunStatus::Failed, script, format!("internal error: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> Failure {
        Failure {
            at: ActionAt { script: "main".into(), action: "tz".into(), caption: "Set zone".into() },
            kind: "TIMEZONE".into(),
            file: Some("main.json".into()),
            pos: Some(Pos::new(5, 7)),
            property: None,
            snippet_line: None,
            snippet_column: None,
            message: "unknown time zone ''".into(),
            via: Vec::new(),
        }
    }

    #[test]
    fn a_failure_reads_like_a_check_diagnostic() {
        assert_eq!(failure().to_string(), "main.json:5:7: action tz (Set zone) in script main: unknown time zone ''");
        let mut f = failure();
        f.file = None;
        f.pos = None;
        f.via.push(ActionAt { script: "outer".into(), action: "call".into(), caption: "Run it".into() });
        assert_eq!(
            f.to_string(),
            "action tz (Set zone) in script main: unknown time zone '' \
             (called by action call (Run it) in script outer)"
        );
    }

    #[test]
    fn a_failure_as_json_names_every_part() {
        let j = failure().to_json();
        assert_eq!(j["action"], "tz");
        assert_eq!(j["caption"], "Set zone");
        assert_eq!(j["script"], "main");
        assert_eq!((j["line"].as_u64(), j["column"].as_u64()), (Some(5), Some(7)));
        assert!(j["snippet_line"].is_null() && j["property"].is_null());
        assert_eq!(j["via"], serde_json::json!([]));
    }
}
