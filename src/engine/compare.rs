//! Replay comparison: checking a replaying run, step by step, against the
//! trace it replays.
//!
//! [`super::replay`] reads the trace and keeps the replaying run's place in
//! it ([`ReplayState`]); this module owns the checks the run loop makes at
//! each step and at the end, and the order in which differences are told:
//! the action reached first, then the branch, outputs, variables, inputs
//! and random numbers of each step, then the end (status and return value).
//! Only the first divergence is kept.

use super::replay::{Canned, Divergence, ReplayState};
use crate::value::Value;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as J, json};

/// Where a replaying run is: its step number and the action it is at.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At<'a> {
    /// 1-based step number of the run.
    pub step: u64,
    /// The script the action belongs to.
    pub script: &'a str,
    /// Action id.
    pub id: &'a str,
    /// Its caption.
    pub caption: &'a str,
}

impl At<'_> {
    /// A divergence here: `what` differed.
    fn divergence(&self, what: String, expected: Option<J>, actual: Option<J>) -> Divergence {
        Divergence {
            step: self.step,
            script: self.script.to_string(),
            action: self.id.to_string(),
            caption: self.caption.to_string(),
            what,
            expected: expected.unwrap_or_default(),
            actual: actual.unwrap_or_default(),
        }
    }
}

/// The run reached an action the trace recorded next.
#[derive(Debug, PartialEq)]
pub(crate) struct Reached {
    /// The clock reading the trace recorded for the step.
    pub clock: DateTime<Utc>,
    /// The recorded answer, when the action is external (not executed).
    pub canned: Option<Canned>,
}

impl ReplayState {
    /// The run reached `at`: it must be the trace's next step. `None` when
    /// it is not (the divergence is kept); an `external` action gets its
    /// recorded answer.
    pub(crate) fn reach(&mut self, at: At<'_>, external: bool) -> Option<Reached> {
        let (expected, actual) = match self.expected() {
            Some(e) if e.id == at.id && e.script.eq_ignore_ascii_case(at.script) => {
                return Some(Reached { clock: e.clock, canned: external.then(|| Canned::recorded(e)) });
            }
            Some(e) => (json!(format!("{} ({}) in {}", e.id, e.caption, e.script)), json!(at.id)),
            None => (json!("the end of the run"), json!(at.id)),
        };
        self.diverge(at.divergence("action".into(), Some(expected), Some(actual)));
        None
    }

    /// Compare the step's resolved inputs (`actual`, a JSON object) with
    /// the recorded ones. A difference is kept aside: [`ReplayState::check_step`]
    /// tells it only if nothing weightier differs (a changed IF condition is
    /// a different branch first).
    pub(crate) fn check_inputs(&mut self, at: At<'_>, actual: &J) {
        let Some(e) = self.expected() else { return };
        let empty = Map::new();
        let (want, got) = (e.inputs.as_object().unwrap_or(&empty), actual.as_object().unwrap_or(&empty));
        let Some(name) = first_difference(want, got) else { return };
        let (expected, actual) = (want.get(&name).cloned(), got.get(&name).cloned());
        self.input = Some(at.divergence(format!("input {name}"), expected, actual));
    }

    /// Compare a finished step's event (`fields`, as traced) with the
    /// recorded one, and move on in the trace: branch, outputs, variables,
    /// inputs, random numbers, in that order of precedence.
    pub(crate) fn check_step(&mut self, at: At<'_>, fields: &J) {
        let Some(e) = self.trace.steps.get(self.cursor) else { return };
        let empty = Map::new();
        let obj = |name: &str| fields.get(name).and_then(J::as_object).unwrap_or(&empty);
        let branch = fields.get("branch").cloned().unwrap_or_default();
        let random = fields.get("random").cloned().unwrap_or_else(|| json!([]));
        let found = if branch != json!(e.branch) {
            Some(("branch".to_string(), Some(json!(e.branch)), Some(branch)))
        } else if let Some(name) = first_difference(&e.outputs, obj("outputs")) {
            Some((format!("output {name}"), e.outputs.get(&name).cloned(), obj("outputs").get(&name).cloned()))
        } else if let Some(name) = first_difference(&e.changed, obj("changed")) {
            Some((format!("variable {name}"), e.changed.get(&name).cloned(), obj("changed").get(&name).cloned()))
        } else if self.input.is_some() {
            None
        } else if random != e.random {
            Some(("random".to_string(), Some(e.random.clone()), Some(random)))
        } else {
            None
        };
        let found = found.map(|(what, expected, actual)| at.divergence(what, expected, actual));
        self.cursor += 1;
        let input = self.input.take();
        if let Some(d) = found.or(input) {
            self.diverge(d);
        }
    }

    /// After the run ended with `status` and `ret`, the trace must have
    /// ended too, the same way. `last` is the action the run stopped at.
    pub(crate) fn check_end(&mut self, last: At<'_>, status: &str, ret: Option<&Value>) {
        if self.divergence.is_some() {
            return;
        }
        let (what, expected, actual) = if let Some(e) = self.expected() {
            let expected = json!(format!("{} ({}) in {}", e.id, e.caption, e.script));
            ("end", expected, json!(format!("the run ended ({status})")))
        } else if let Some((want_status, want_ret, _)) = &self.trace.end {
            let got_ret = ret.map(Value::to_report_json).unwrap_or_default();
            if want_status != status {
                ("status", json!(want_status), json!(status))
            } else if *want_ret != got_ret {
                ("return", want_ret.clone(), got_ret)
            } else {
                return;
            }
        } else {
            return;
        };
        self.diverge(last.divergence(what.into(), Some(expected), Some(actual)));
    }
}

/// The first member (in `want`'s order, then `got`'s) whose values differ.
fn first_difference(want: &Map<String, J>, got: &Map<String, J>) -> Option<String> {
    want.iter()
        .find(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .or_else(|| got.keys().find(|k| !want.contains_key(*k)).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::replay::Trace;
    use std::sync::Arc;

    const TRACE: &str = r#"{"event":"run","run":"r1","seq":0,"script":{"name":"s"},"clock":{"mode":"virtual","start":"2026-11-21T10:00:00+00:00"},"seed":7}
{"event":"step","run":"r1","seq":1,"script":"s","id":"A1","caption":"Start","inputs":{"X":"1"},"outputs":{},"branch":"Default","changed":{"n":"1"},"clock":"2026-11-21T10:00:00+00:00"}
{"event":"step","run":"r1","seq":2,"script":"s","id":"A2","caption":"Load","inputs":{},"outputs":{"Results":"3"},"result":"OnError","branch":"OnError","error":"boom","changed":{},"random":[0.5],"clock":"2026-11-21T10:00:01+00:00"}
{"event":"end","run":"r1","seq":3,"status":"completed","return":"done","steps":2}
"#;

    fn state() -> ReplayState {
        ReplayState::new(Arc::new(Trace::parse(TRACE).unwrap()))
    }

    fn at(step: u64, id: &str) -> At<'_> {
        At { step, script: "S", id, caption: "" }
    }

    /// A finished step's event as the run writes it.
    fn event(branch: &str, outputs: J, changed: J) -> J {
        json!({"branch": branch, "outputs": outputs, "changed": changed})
    }

    #[test]
    fn reaching_the_recorded_action_gives_its_clock_and_an_external_actions_answer() {
        let mut r = state();
        let reached = r.reach(at(1, "A1"), false).unwrap();
        assert_eq!(reached.clock.to_rfc3339(), "2026-11-21T10:00:00+00:00");
        assert_eq!(reached.canned, None, "an action that is not external runs");
        r.cursor = 1;
        let canned = r.reach(at(2, "A2"), true).and_then(|c| c.canned).unwrap();
        assert_eq!((canned.result.as_str(), canned.error.as_deref()), ("OnError", Some("boom")));
        assert_eq!(r.divergence, None);
    }

    #[test]
    fn reaching_another_action_or_going_past_the_end_diverges() {
        let mut r = state();
        assert_eq!(r.reach(at(1, "B7"), false), None);
        let d = r.divergence.clone().unwrap();
        assert_eq!((d.step, d.action.as_str(), d.what.as_str()), (1, "B7", "action"));
        assert_eq!(d.expected, json!("A1 (Start) in s"));

        let mut r = state();
        r.cursor = 2;
        assert_eq!(r.reach(at(3, "A3"), false), None);
        assert_eq!(r.divergence.unwrap().expected, json!("the end of the run"));
    }

    #[test]
    fn a_steps_branch_outweighs_its_outputs_and_a_changed_input_comes_after_both() {
        // Branch and output both differ: the branch is told.
        let mut r = state();
        r.check_step(at(1, "A1"), &event("True", json!({"Y": "2"}), json!({"n": "1"})));
        assert_eq!(r.divergence.as_ref().map(|d| d.what.as_str()), Some("branch"));
        assert_eq!(r.cursor, 1, "the replay moved on in the trace");

        // An input differs, and so does a variable: the variable is told.
        let mut r = state();
        r.check_inputs(at(1, "A1"), &json!({"X": "2"}));
        r.check_step(at(1, "A1"), &event("Default", json!({}), json!({"n": "2"})));
        let d = r.divergence.unwrap();
        assert_eq!((d.what.as_str(), d.expected.clone(), d.actual.clone()), ("variable n", json!("1"), json!("2")));

        // Only the input differs: it is told once the step is over.
        let mut r = state();
        r.check_inputs(at(1, "A1"), &json!({"X": "2"}));
        assert_eq!(r.divergence, None, "kept aside until the step's end");
        r.check_step(at(1, "A1"), &event("Default", json!({}), json!({"n": "1"})));
        assert_eq!(r.divergence.map(|d| d.what), Some("input X".to_string()));
    }

    #[test]
    fn outputs_and_random_numbers_are_compared_member_by_member() {
        let mut r = state();
        r.check_step(at(1, "A1"), &event("Default", json!({}), json!({"n": "1"})));
        assert_eq!(r.divergence, None, "the step is as recorded");
        let mut second = event("OnError", json!({"Results": "3", "Extra": "1"}), json!({}));
        r.check_step(at(2, "A2"), &second);
        assert_eq!(r.divergence.take().map(|d| d.what), Some("output Extra".to_string()));

        let mut r = state();
        r.cursor = 1;
        second = event("OnError", json!({"Results": "3"}), json!({}));
        second["random"] = json!([0.25]);
        r.check_step(at(2, "A2"), &second);
        let d = r.divergence.unwrap();
        assert_eq!((d.what.as_str(), d.expected, d.actual), ("random", json!([0.5]), json!([0.25])));
    }

    #[test]
    fn the_run_must_end_where_and_as_the_trace_did() {
        let done = Value::text("done");
        let mut r = state();
        r.cursor = 2;
        r.check_end(at(2, "A2"), "completed", Some(&done));
        assert_eq!(r.divergence, None);

        r.check_end(at(2, "A2"), "failed", Some(&done));
        let d = r.divergence.take().unwrap();
        assert_eq!((d.what.as_str(), d.expected, d.actual), ("status", json!("completed"), json!("failed")));

        r.check_end(at(2, "A2"), "completed", None);
        assert_eq!(r.divergence.take().map(|d| d.what), Some("return".to_string()));

        // The run ended while the trace goes on.
        r.cursor = 1;
        r.check_end(at(1, "A1"), "completed", Some(&done));
        let d = r.divergence.unwrap();
        assert_eq!((d.what.as_str(), d.expected), ("end", json!("A2 (Load) in s")));
    }

    #[test]
    fn only_the_first_divergence_is_kept() {
        let mut r = state();
        assert_eq!(r.reach(at(1, "B7"), false), None);
        r.check_end(at(1, "B7"), "failed", None);
        assert_eq!(r.divergence.map(|d| d.what), Some("action".to_string()));
    }
}
