//! Replay and canned answers.
//!
//! This module owns reading a trace back ([`Trace::parse`], through the
//! trace reader [`super::trace::events`]), the state a replaying run keeps
//! (the recorded steps it walks in step with, and the first
//! [`Divergence`]), and the canned answers script tests give chosen
//! actions ([`Mocks`]). The checks a replaying run makes at each step are
//! in `compare.rs`.
//!
//! A replaying run re-executes the script's own logic and compares each
//! step with the recorded one: the action reached, its resolved inputs, its
//! outputs, its branch, the variables it changed and the random numbers it
//! drew. Actions whose manifest says `external` (store, network, other
//! runs) are not executed: they give back their recorded outputs and
//! result, so a replay reads and writes nothing outside the script. The
//! clock reads what the trace recorded at each step.

use super::trace::{Event, ReadError};
use crate::value::Value;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as J};
use std::collections::HashMap;
use std::fmt;

/// A trace that cannot be replayed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceError {
    /// A line is not JSON.
    #[error("line {line}, column {column}: not a JSON object: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// No `run` event.
    #[error("no run event: this is not a Prospero trace")]
    NoRun,
    /// A member replay needs is missing or has the wrong type.
    #[error("line {line}: {what}")]
    Field {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        what: String,
    },
}

/// The script a trace was recorded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracedScript {
    /// Script name.
    pub name: String,
    /// The file it was loaded from, when it came from a file.
    pub file: Option<String>,
    /// Hash of the file's bytes.
    pub hash: String,
}

/// One recorded step.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedStep {
    /// Script the action belongs to.
    pub script: String,
    /// Action id.
    pub id: String,
    /// Action caption.
    pub caption: String,
    /// Resolved inputs (as traced).
    pub inputs: J,
    /// Outputs written.
    pub outputs: Map<String, J>,
    /// The result the action reported (older traces: the branch).
    pub result: String,
    /// The branch taken.
    pub branch: String,
    /// Error text when the action failed.
    pub error: Option<String>,
    /// Variables changed.
    pub changed: Map<String, J>,
    /// Random numbers drawn.
    pub random: J,
    /// Clock reading at the step.
    pub clock: DateTime<Utc>,
}

/// A trace read back: the first run in the file (runs it spawned are not
/// replayed; their SPAWN steps give back the recorded run ids).
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Run id.
    pub run_id: String,
    /// The script.
    pub script: TracedScript,
    /// Parameters by name, as given.
    pub params: Vec<(String, J)>,
    /// Whether the run was on the real clock.
    pub real_clock: bool,
    /// Clock at the start.
    pub clock_start: DateTime<Utc>,
    /// The run's zone at the start.
    pub timezone: String,
    /// Random seed.
    pub seed: u64,
    /// Budgets as traced.
    pub budgets: J,
    /// Catalog and reference-data versions.
    pub versions: J,
    /// Who the run acted for (absent in traces written before principals:
    /// the default, every permission).
    pub principal: Option<crate::engine::Principal>,
    /// The steps, in order.
    pub steps: Vec<RecordedStep>,
    /// End status, return value and step count, when the run finished.
    pub end: Option<(String, J, u64)>,
}

fn field<'a>(line: usize, o: &'a Map<String, J>, name: &str) -> Result<&'a J, TraceError> {
    o.get(name).ok_or_else(|| TraceError::Field { line, what: format!("missing '{name}'") })
}

fn text(line: usize, o: &Map<String, J>, name: &str) -> Result<String, TraceError> {
    match field(line, o, name)? {
        J::String(s) => Ok(s.clone()),
        _ => Err(TraceError::Field { line, what: format!("'{name}' is not text") }),
    }
}

fn instant(line: usize, s: &str) -> Result<DateTime<Utc>, TraceError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| TraceError::Field { line, what: format!("clock '{s}': {e}") })
}

impl Trace {
    /// Read a JSON Lines trace.
    pub fn parse(src: &str) -> Result<Trace, TraceError> {
        let mut trace: Option<Trace> = None;
        for e in super::trace::events(src) {
            let Event { line, members: o } = e.map_err(|e| match e {
                ReadError::Json { line, column, message } | ReadError::NotObject { line, column, message } => {
                    TraceError::Json { line, column, message }
                }
            })?;
            let event = text(line, &o, "event")?;
            let run = text(line, &o, "run")?;
            match (&mut trace, event.as_str()) {
                (None, "run") => trace = Some(Trace::start(line, &o, run)?),
                (None, _) => {}
                (Some(t), _) if t.run_id != run => {}
                (Some(t), "step") => {
                    // A step without `clock` kept the previous step's reading.
                    let before = t.steps.last().map_or(t.clock_start, |s| s.clock);
                    t.steps.push(RecordedStep::read(line, &o, before)?);
                }
                (Some(t), "end") => {
                    let steps = o.get("steps").and_then(J::as_u64).unwrap_or(0);
                    t.end = Some((text(line, &o, "status")?, o.get("return").cloned().unwrap_or(J::Null), steps));
                }
                (Some(_), _) => {}
            }
        }
        trace.ok_or(TraceError::NoRun)
    }

    fn start(line: usize, o: &Map<String, J>, run_id: String) -> Result<Trace, TraceError> {
        let script = field(line, o, "script")?
            .as_object()
            .ok_or_else(|| TraceError::Field { line, what: "'script' is not an object".into() })?;
        let clock = field(line, o, "clock")?
            .as_object()
            .ok_or_else(|| TraceError::Field { line, what: "'clock' is not an object".into() })?;
        let params = match o.get("params") {
            Some(J::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Vec::new(),
        };
        Ok(Trace {
            run_id,
            script: TracedScript {
                name: text(line, script, "name")?,
                file: script.get("file").and_then(J::as_str).map(str::to_string),
                hash: script.get("hash").and_then(J::as_str).unwrap_or_default().to_string(),
            },
            params,
            real_clock: clock.get("mode").and_then(J::as_str) == Some("real"),
            clock_start: instant(line, &text(line, clock, "start")?)?,
            timezone: o.get("timezone").and_then(J::as_str).unwrap_or("UTC").to_string(),
            seed: field(line, o, "seed")?
                .as_u64()
                .ok_or_else(|| TraceError::Field { line, what: "'seed' is not a whole number".into() })?,
            budgets: o.get("budgets").cloned().unwrap_or(J::Null),
            versions: o.get("versions").cloned().unwrap_or(J::Null),
            principal: match o.get("principal") {
                Some(p) if !p.is_null() => Some(
                    crate::engine::Principal::from_json(p)
                        .map_err(|e| TraceError::Field { line, what: format!("'principal': {e}") })?,
                ),
                _ => None,
            },
            steps: Vec::new(),
            end: None,
        })
    }

    /// The parameters as a run takes them.
    pub fn run_params(&self) -> Vec<(String, Value)> {
        self.params.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()
    }
}

impl RecordedStep {
    fn read(line: usize, o: &Map<String, J>, clock_before: DateTime<Utc>) -> Result<RecordedStep, TraceError> {
        let map = |name: &str| match o.get(name) {
            Some(J::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let branch = o.get("branch").and_then(J::as_str).unwrap_or_default().to_string();
        Ok(RecordedStep {
            script: text(line, o, "script")?,
            id: text(line, o, "id")?,
            caption: o.get("caption").and_then(J::as_str).unwrap_or_default().to_string(),
            inputs: o.get("inputs").cloned().unwrap_or(J::Null),
            outputs: map("outputs"),
            result: o.get("result").and_then(J::as_str).map_or_else(|| branch.clone(), str::to_string),
            branch,
            error: o.get("error").and_then(J::as_str).map(str::to_string),
            changed: map("changed"),
            random: o.get("random").cloned().unwrap_or(J::Array(Vec::new())),
            clock: match o.get("clock") {
                None => clock_before,
                Some(_) => instant(line, &text(line, o, "clock")?)?,
            },
        })
    }
}

/// The first place a replay differs from its trace.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Divergence {
    /// 1-based step number of the run.
    pub step: u64,
    /// Script of the action.
    pub script: String,
    /// Action id.
    pub action: String,
    /// Its caption.
    pub caption: String,
    /// What differed: `action`, `branch`, `input NAME`, `output NAME`,
    /// `variable NAME`, `random`, `end`, `status`, `return`.
    pub what: String,
    /// What the trace recorded.
    pub expected: J,
    /// What the replay did.
    pub actual: J,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}: action {} ({}) in {}: {} differs: expected {}, actual {}",
            self.step, self.action, self.caption, self.script, self.what, self.expected, self.actual
        )
    }
}

/// A replaying run's position in its trace.
pub(crate) struct ReplayState {
    /// The trace, shared with the caller (its steps are not copied).
    pub trace: std::sync::Arc<Trace>,
    pub cursor: usize,
    pub divergence: Option<Divergence>,
    /// An input of the current step that differs; reported only when its
    /// branch, outputs and variables agree (a changed IF condition is a
    /// different branch first).
    pub input: Option<Divergence>,
}

impl ReplayState {
    pub fn new(trace: std::sync::Arc<Trace>) -> ReplayState {
        ReplayState { trace, cursor: 0, divergence: None, input: None }
    }

    /// The recorded step the run is at, if the trace goes on.
    pub fn expected(&self) -> Option<&RecordedStep> {
        self.trace.steps.get(self.cursor)
    }

    /// Keep the first divergence only.
    pub fn diverge(&mut self, d: Divergence) {
        self.divergence.get_or_insert(d);
    }
}

/// What a canned action gives back.
#[derive(Clone, Debug, PartialEq)]
pub struct Canned {
    /// Outputs by property name.
    pub outputs: Vec<(String, Value)>,
    /// The result (branch) name.
    pub result: String,
    /// A failure message (the result is then OnError and `_ERR` is set).
    pub error: Option<String>,
}

impl Canned {
    /// From a recorded step.
    pub(crate) fn recorded(s: &RecordedStep) -> Canned {
        Canned {
            outputs: s.outputs.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect(),
            result: s.result.clone(),
            error: s.error.clone().filter(|_| s.result == "OnError"),
        }
    }
}

/// Canned answers by action id: each visit takes the next answer, and the
/// last one repeats.
#[derive(Clone, Debug, Default)]
pub struct Mocks {
    answers: HashMap<String, Vec<Canned>>,
    visits: HashMap<String, usize>,
}

impl Mocks {
    /// No mocks.
    pub fn new() -> Mocks {
        Mocks::default()
    }

    /// Answer the action `id` with `answers`, one per visit.
    pub fn answer(mut self, id: impl Into<String>, answers: Vec<Canned>) -> Mocks {
        self.answers.insert(id.into(), answers);
        self
    }

    /// Whether any action is mocked.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    pub(crate) fn next(&mut self, id: &str) -> Option<Canned> {
        let list = self.answers.get(id)?;
        let n = self.visits.entry(id.to_string()).or_insert(0);
        let c = list.get(*n).or_else(|| list.last())?.clone();
        *n += 1;
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = r#"{"event":"run","run":"r1","seq":0,"script":{"name":"s","file":"s.json","hash":"h"},"params":{"p1":"5"},"clock":{"mode":"virtual","start":"2026-11-21T10:00:00+00:00"},"timezone":"UTC","seed":7,"budgets":{},"versions":{}}
{"event":"run","run":"r2","seq":0,"script":{"name":"child"},"clock":{"mode":"virtual","start":"2026-11-21T10:00:00+00:00"},"seed":1}
{"event":"step","run":"r2","seq":1,"script":"child","id":"X","clock":"2026-11-21T10:00:00+00:00"}
{"event":"step","run":"r1","seq":1,"script":"s","id":"A1","caption":"Start","inputs":{},"outputs":{},"branch":"Default","next":"A2","changed":{"p1":"5"},"clock":"2026-11-21T10:00:00+00:00"}
{"event":"step","run":"r1","seq":2,"script":"s","id":"A2","caption":"Load","inputs":{"SkillNo":"4"},"outputs":{"Results":{"n":"1"}},"result":"OnError","branch":"OnError","error":"boom","next":null,"changed":{},"clock":"2026-11-21T10:00:01+00:00"}
{"event":"end","run":"r1","seq":3,"status":"completed","return":null,"steps":2}
"#;

    #[test]
    fn reads_the_first_run_only() {
        let t = Trace::parse(TRACE).expect("trace");
        assert_eq!(t.run_id, "r1");
        assert_eq!(t.script.name, "s");
        assert_eq!(t.seed, 7);
        assert!(!t.real_clock);
        assert_eq!(t.params, vec![("p1".to_string(), J::String("5".into()))]);
        assert_eq!(t.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["A1", "A2"]);
        assert_eq!(t.steps[0].result, "Default", "older traces: the branch stands for the result");
        assert_eq!(t.end, Some(("completed".into(), J::Null, 2)));
        let canned = Canned::recorded(&t.steps[1]);
        assert_eq!(canned.result, "OnError");
        assert_eq!(canned.error.as_deref(), Some("boom"));
        assert_eq!(canned.outputs[0].0, "Results");
    }

    #[test]
    fn unusable_traces_say_where() {
        assert_eq!(Trace::parse(""), Err(TraceError::NoRun));
        let bad = "{\"event\":\"run\"\n";
        assert!(matches!(Trace::parse(bad), Err(TraceError::Json { line: 1, .. })));
        let no_seed =
            r#"{"event":"run","run":"r","script":{"name":"s"},"clock":{"mode":"real","start":"2026-11-21T10:00:00Z"}}"#;
        assert_eq!(Trace::parse(no_seed), Err(TraceError::Field { line: 1, what: "missing 'seed'".into() }));
        let bad_clock = TRACE.replace("2026-11-21T10:00:01+00:00", "yesterday");
        assert!(matches!(Trace::parse(&bad_clock), Err(TraceError::Field { line: 5, .. })));
    }

    #[test]
    fn mocks_answer_in_visit_order_and_repeat_the_last() {
        let a = |r: &str| Canned { outputs: Vec::new(), result: r.into(), error: None };
        let mut m = Mocks::new().answer("A3", vec![a("True"), a("False")]);
        assert_eq!(m.next("A3").map(|c| c.result), Some("True".into()));
        assert_eq!(m.next("A3").map(|c| c.result), Some("False".into()));
        assert_eq!(m.next("A3").map(|c| c.result), Some("False".into()));
        assert_eq!(m.next("A4"), None);
    }
}
