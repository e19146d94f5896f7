//! Trace writing: the [`Recorder`] that buffers one run's events and hands
//! them to the sink in blocks, the events a run writes at its start and
//! end and around sub scripts, and the [`StepWriter`] that writes each
//! step event as text into reused buffers, so a traced step allocates
//! nothing and builds no JSON tree.

use super::read::parse_line;
use super::sink::{BLOCK, FLUSH_AT, TraceSink};
use super::step::{ClockText, InputsJson, StepText, write_outputs, write_result};
use crate::base::json::write_json_str;
use crate::engine::budget::Budgets;
use crate::engine::clock::{ClockMode, RunClock};
use crate::engine::vars::Vars;
use crate::script::Script;
use crate::value::Value;
use chrono::{DateTime, Utc};
use serde_json::{Value as J, json};
use std::borrow::Cow;
use std::time::Instant;

/// Buffers one run's events and writes them to the sink in blocks, so
/// concurrent runs do not interleave mid-line.
pub(crate) struct Recorder {
    sink: TraceSink,
    buf: Vec<u8>,
    seq: u64,
    /// `,"run":<run id>,"seq":`, the same in every event of the run.
    run_part: Vec<u8>,
    /// `{"event":"step"` and `run_part`: the start of every step event.
    step_head: Vec<u8>,
    /// First write error, reported once in the run's notes.
    pub error: Option<String>,
    /// Bytes handed to the sink so far (the trace-size budget).
    handed: u64,
}
impl Recorder {
    pub fn new(sink: TraceSink, run: &str) -> Recorder {
        let mut run_part = b",\"run\":".to_vec();
        write_json_str(&mut run_part, run);
        run_part.extend_from_slice(b",\"seq\":");
        let step_head = [b"{\"event\":\"step\"".as_slice(), &run_part].concat();
        let buf = sink.block();
        Recorder { sink, buf, seq: 0, run_part, step_head, error: None, handed: 0 }
    }

    /// Start a step event in place: the block is handed out with the
    /// event's start (`event`, `run`, `seq`) and a comma written, for the
    /// members to follow; [`Recorder::end_step`] takes it back. Writing
    /// into the block saves copying each line from a buffer of its own.
    pub fn begin_step(&mut self) -> Vec<u8> {
        let mut b = std::mem::take(&mut self.buf);
        b.extend_from_slice(&self.step_head);
        b.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        b.push(b',');
        self.seq += 1;
        b
    }

    /// Close the step event begun with [`Recorder::begin_step`].
    pub fn end_step(&mut self, mut block: Vec<u8>) {
        block.extend_from_slice(b"}\n");
        self.buf = block;
        if self.buf.len() > FLUSH_AT {
            self.hand_off(true);
        }
    }

    /// Append an event; `event` is its kind and `fields` its members.
    pub fn event(&mut self, event: &str, fields: J) {
        // The members' text without the object's braces.
        let body = match &fields {
            J::Object(m) if !m.is_empty() => serde_json::to_vec(&fields).unwrap_or_default(),
            _ => b"{}".to_vec(),
        };
        self.raw_event(event, body.get(1..body.len().saturating_sub(1)).unwrap_or_default());
    }

    /// Append an event whose members (after `event`, `run` and `seq`) are
    /// already JSON text: `body` is `"name":value,...` without braces. Step
    /// events go this way, so tracing does not build a JSON tree per step.
    pub fn raw_event(&mut self, event: &str, body: &[u8]) {
        self.buf.extend_from_slice(b"{\"event\":");
        write_json_str(&mut self.buf, event);
        self.buf.extend_from_slice(&self.run_part);
        self.buf.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        if !body.is_empty() {
            self.buf.push(b',');
        }
        self.seq += 1;
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(b"}\n");
        if self.buf.len() > FLUSH_AT {
            self.hand_off(true);
        }
    }

    /// Hand the buffered events to the sink; `more`: events will follow.
    fn hand_off(&mut self, more: bool) {
        if self.buf.is_empty() {
            return;
        }
        self.handed += self.buf.len() as u64;
        match self.sink.write_block(std::mem::take(&mut self.buf), more) {
            Ok(empty) => self.buf = empty,
            Err(e) => {
                self.error.get_or_insert_with(|| format!("trace not written: {e}"));
                self.buf = Vec::with_capacity(BLOCK);
            }
        }
    }

    /// Bytes of trace this run has written or buffered.
    pub fn bytes(&self) -> u64 {
        self.handed + self.buf.len() as u64
    }

    /// Write everything buffered and wait until it is written.
    pub fn flush(&mut self) {
        // The block goes back to the writer's spares for the sink's next run.
        self.hand_off(false);
        if let Err(e) = self.sink.sync() {
            self.error.get_or_insert_with(|| format!("trace not written: {e}"));
        }
    }

    pub fn sink(&self) -> TraceSink {
        self.sink.clone()
    }
}

/// What a run's `run` event says: enough to replay the run.
pub(crate) struct RunHeader<'a> {
    pub script: &'a Script,
    /// Hash of the script's file (or model).
    pub hash: &'a str,
    /// The parameters by name, as given.
    pub params: &'a J,
    pub clock: &'a RunClock,
    pub tz: chrono_tz::Tz,
    pub seed: u64,
    pub budgets: &'a Budgets,
    /// The catalog's fingerprint.
    pub catalog: &'a str,
    /// Who the run acts for.
    pub principal: &'a crate::engine::Principal,
}

/// What a run's `end` event says.
pub(crate) struct RunEnd<'a> {
    /// The run status's name.
    pub status: &'a str,
    pub ret: Option<&'a Value>,
    pub steps: u64,
    pub error: Option<&'a str>,
    /// Where a failed run failed (the `failure` member, when it did).
    pub failure: Option<&'a crate::engine::Failure>,
    pub clock: DateTime<Utc>,
    pub notes: &'a [String],
}

impl Recorder {
    /// The `run` event, first of every run.
    pub fn run(&mut self, h: RunHeader<'_>) {
        let start = match h.clock.mode() {
            ClockMode::Real => json!({"mode": "real", "start": h.clock.now().to_rfc3339()}),
            ClockMode::Virtual(t) => json!({"mode": "virtual", "start": t.to_rfc3339()}),
        };
        let fields = json!({
            "script": {
                "name": h.script.name,
                "file": h.script.origin.path.as_ref().map(|p| p.display().to_string()),
                "format": h.script.origin.format.map(|f| f.name()),
                "hash": h.hash,
            },
            "params": h.params,
            "clock": start,
            "timezone": h.tz.name(),
            "seed": h.seed,
            "budgets": h.budgets.to_json(),
            "principal": h.principal.to_json(),
            "versions": {
                "prospero": env!("CARGO_PKG_VERSION"),
                "catalog": h.catalog,
                "tzdata": chrono_tz::IANA_TZDB_VERSION,
            },
        });
        self.event("run", fields);
    }

    /// A `return` event: sub script `script` handed back `value`; the run
    /// goes on in its caller at action `to`.
    pub fn returned(&mut self, script: &str, value: Option<&Value>, to: Option<&str>) {
        let value = value.map(Value::to_report_json);
        self.event("return", json!({ "script": script, "value": value, "to": to }));
    }

    /// A `resume` event: the RUNSUB `id` of `script`, whose step event was
    /// written when the sub script was entered, takes `branch` for
    /// `result` now that the sub script is over.
    pub fn resumed(&mut self, script: &str, id: &str, result: &str, branch: &str, next: Option<&str>, depth: usize) {
        let fields = json!({
            "script": script,
            "id": id,
            "result": result,
            "branch": branch,
            "next": next,
            "depth": depth,
        });
        self.event("resume", fields);
    }

    /// The `end` event, last of every run; waits until the whole trace is
    /// written. Gives back the first write error, if any.
    pub fn end(&mut self, e: RunEnd<'_>) -> Option<String> {
        let mut fields = json!({
            "status": e.status,
            "return": e.ret.map(Value::to_report_json),
            "steps": e.steps,
            "error": e.error,
            "clock": e.clock.to_rfc3339(),
            "notes": e.notes,
        });
        if let Some(f) = e.failure {
            fields["failure"] = f.to_json();
        }
        self.event("end", fields);
        self.flush();
        self.error.take()
    }
}

/// What a traced step collects on its way (absent when not tracing).
pub(crate) struct StepTrace {
    /// The result the action reported (the branch taken may differ when
    /// that result is not wired).
    pub result: Cow<'static, str>,
    t0: Instant,
    /// The inputs resolved: their values are handed to the writer (otherwise
    /// the event says `"inputs":null`).
    pub resolved: bool,
}

/// What a step event says after its inputs: `outputs`, `result`,
/// `branch`, `next`, up to the value of `depth`.
pub(crate) enum Tail<'a> {
    /// Rendered when the program was built ([`StepText::tail`]).
    Rendered(&'a [u8]),
    /// Written at the visit; `next` is empty when nothing follows.
    Parts { branch: &'a str, next: &'a str },
}

/// The members of a step event for a terminating action, or one that
/// stopped the run: no branch, nothing next.
pub(crate) const NO_BRANCH: Tail<'static> = Tail::Parts { branch: "", next: "" };

/// The step an event is written for.
pub(crate) struct StepEnd<'a> {
    /// What the step's events hold at every visit.
    pub text: &'a StepText,
    pub trace: &'a StepTrace,
    pub tail: Tail<'a>,
    /// The failure that sent the step to OnError.
    pub error: Option<&'a str>,
    /// The resolved input values (by input index).
    pub values: &'a [Value],
    /// How deep in sub scripts the step ran (0: the root script).
    pub depth: usize,
    /// The step's clock reading.
    pub now: DateTime<Utc>,
}

/// What the run gathered during the step; the event takes it (the
/// variables' change lists are drained).
pub(crate) struct Gathered<'a> {
    /// The root scope's variables.
    pub root: &'a mut Vars,
    /// The current scope's, inside a sub script (its changes are written
    /// as they are, the root's with `global:`).
    pub current: Option<&'a mut Vars>,
    /// Random numbers drawn.
    pub drawn: &'a mut Vec<f64>,
    /// Answers from outside the script.
    pub answers: &'a mut Vec<J>,
    pub notes: &'a mut Vec<String>,
}

/// Writes a run's step events as text, into buffers reused from step to
/// step: a JSON tree per step would cost several times the step itself.
///
/// A step event's members come in [`StepText`]'s order, then `changed`,
/// `clock` (only when it differs from the previous step's), `duration_us`
/// (since the previous step event, so a traced step reads the clock once)
/// and the optional `error`, `random`, `answers` and `notes`.
pub(crate) struct StepWriter {
    /// A step event written on its own, for a replay to compare.
    line: Vec<u8>,
    /// The current step's resolved inputs (a JSON object), when a replay
    /// wrote them before the action ran.
    inputs: Vec<u8>,
    inputs_written: bool,
    /// The current step's outputs: `"name":value,...`.
    outputs: Vec<u8>,
    /// The clock last written.
    clock_written: Option<DateTime<Utc>>,
    clock_text: ClockText,
    /// When the last step event was written (or the run began).
    mark: Instant,
}

impl StepWriter {
    pub fn new() -> StepWriter {
        StepWriter {
            line: Vec::new(),
            inputs: Vec::new(),
            inputs_written: false,
            outputs: Vec::new(),
            clock_written: None,
            clock_text: ClockText::default(),
            mark: Instant::now(),
        }
    }

    /// The next step's duration runs from now.
    pub fn mark_now(&mut self) {
        self.mark = Instant::now();
    }

    /// Start a traced step.
    pub fn begin(&mut self) -> StepTrace {
        self.inputs.clear();
        self.inputs_written = false;
        self.outputs.clear();
        StepTrace { result: Cow::Borrowed(""), t0: self.mark, resolved: false }
    }

    /// Note an output the step wrote.
    pub fn output(&mut self, name: &str, v: &Value) {
        let out = &mut self.outputs;
        if !out.is_empty() {
            out.push(b',');
        }
        write_json_str(out, name);
        out.push(b':');
        v.write_report_json(out);
    }

    /// Write the step's resolved inputs now, as the event will hold them,
    /// and read them back for a replay to compare.
    pub fn inputs_now(&mut self, inputs: &InputsJson, values: &[Value]) -> J {
        inputs.write(&mut self.inputs, values);
        self.inputs_written = true;
        std::str::from_utf8(&self.inputs).ok().and_then(|s| parse_line(s).ok()).unwrap_or_default()
    }

    /// Write the step event's members (after `event`, `run` and `seq`)
    /// into `b`, a block begun with [`Recorder::begin_step`].
    pub fn write(&mut self, b: &mut Vec<u8>, end: StepEnd<'_>, g: Gathered<'_>) {
        let text = end.text;
        b.extend_from_slice(text.head(end.trace.resolved && !self.inputs_written));
        if !end.trace.resolved {
            b.extend_from_slice(b"null");
        } else if self.inputs_written {
            b.extend_from_slice(&self.inputs);
        } else if !text.has_inputs() {
            text.inputs.write(b, end.values);
        }
        match end.tail {
            Tail::Rendered(t) => StepText::write_tail(b, &self.outputs, t),
            Tail::Parts { branch, next } => {
                write_outputs(b, &self.outputs);
                write_result(b, &end.trace.result, branch, next);
            }
        }
        if end.depth < 10 {
            b.push(b'0' + end.depth as u8);
        } else {
            b.extend_from_slice(itoa::Buffer::new().format(end.depth).as_bytes());
        }
        b.extend_from_slice(b",\"changed\":");
        write_changed(b, g.root, g.current);
        if self.clock_written != Some(end.now) {
            b.extend_from_slice(b",\"clock\":");
            self.clock_text.write(b, end.now);
            self.clock_written = Some(end.now);
        }
        b.extend_from_slice(b",\"duration_us\":");
        let now = Instant::now();
        // Most steps take less than 10 µs.
        match now.duration_since(end.trace.t0).as_micros() as u64 {
            us @ 0..10 => b.push(b'0' + us as u8),
            us => b.extend_from_slice(itoa::Buffer::new().format(us).as_bytes()),
        }
        self.mark = now;
        if let Some(e) = end.error {
            b.extend_from_slice(b",\"error\":");
            write_json_str(b, e);
        }
        if !g.drawn.is_empty() {
            b.extend_from_slice(b",\"random\":");
            let _ = serde_json::to_writer(&mut *b, &std::mem::take(g.drawn));
        }
        if !g.answers.is_empty() {
            b.extend_from_slice(b",\"answers\":");
            let _ = serde_json::to_writer(&mut *b, &std::mem::take(g.answers));
        }
        if !g.notes.is_empty() {
            b.extend_from_slice(b",\"notes\":");
            let _ = serde_json::to_writer(&mut *b, &std::mem::take(g.notes));
        }
    }

    /// Write the step event as an object of its own and read it back, for
    /// a replay to compare with the trace's; [`StepWriter::members`] is
    /// then its text for the trace.
    pub fn write_line(&mut self, end: StepEnd<'_>, g: Gathered<'_>) -> J {
        let mut b = std::mem::take(&mut self.line);
        b.clear();
        b.push(b'{');
        self.write(&mut b, end, g);
        b.push(b'}');
        self.line = b;
        std::str::from_utf8(&self.line).ok().and_then(|s| parse_line(s).ok()).unwrap_or_default()
    }

    /// The members of the event [`StepWriter::write_line`] wrote last.
    pub fn members(&self) -> &[u8] {
        self.line.get(1..self.line.len().saturating_sub(1)).unwrap_or_default()
    }
}

/// Write the variables changed since the last step as a JSON object.
fn write_changed(out: &mut Vec<u8>, root: &mut Vars, current: Option<&mut Vars>) {
    out.push(b'{');
    let mut first = true;
    let mut member = |json_name: &[u8], v: &Value, global: bool| {
        if !first {
            out.push(b',');
        }
        first = false;
        if global {
            // `global:` needs no escaping: it goes inside the quotes.
            out.extend_from_slice(b"\"global:");
            out.extend_from_slice(&json_name[1..]);
        } else {
            out.extend_from_slice(json_name);
        }
        out.push(b':');
        v.write_report_json(out);
    };
    let global = current.is_some();
    root.drain_changes(|name, v| member(name, v, global));
    if let Some(vars) = current {
        vars.drain_changes(|name, v| member(name, v, false));
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use chrono::TimeZone;

    fn lines(text: &str) -> Vec<J> {
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    #[test]
    fn events_carry_the_run_and_a_sequence_number() {
        let (sink, buf) = TraceSink::memory();
        let mut rec = Recorder::new(sink, "r\"1");
        rec.event("run", json!({"seed": 7}));
        let mut b = rec.begin_step();
        b.extend_from_slice(b"\"id\":\"A1\"");
        rec.end_step(b);
        rec.returned("sub", None, Some("A2"));
        let error = rec.end(RunEnd {
            status: "completed",
            ret: Some(&Value::text("ok")),
            steps: 1,
            error: None,
            failure: None,
            clock: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap(),
            notes: &["a note".to_string()],
        });
        assert_eq!(error, None);
        let events = lines(&buf.contents());
        let kinds: Vec<_> = events.iter().map(|e| (e["event"].as_str().unwrap(), e["seq"].as_u64().unwrap())).collect();
        assert_eq!(kinds, [("run", 0), ("step", 1), ("return", 2), ("end", 3)]);
        assert!(events.iter().all(|e| e["run"] == "r\"1"), "{events:?}");
        assert_eq!(events[1]["id"], "A1");
        assert_eq!(
            events[2],
            json!({"event": "return", "run": "r\"1", "seq": 2, "script": "sub", "value": null, "to": "A2"})
        );
        assert_eq!((&events[3]["return"], &events[3]["notes"]), (&json!("ok"), &json!(["a note"])));
        assert_eq!(rec.bytes(), buf.contents().len() as u64);
    }

    /// A step event of an IF, written on its own and read back.
    fn if_step(w: &mut StepWriter, tail: Tail<'_>, g: Gathered<'_>, now: DateTime<Utc>, depth: usize) -> J {
        let catalog = Catalog::builtin();
        let manifest = catalog.get("IF", 1).unwrap();
        let text = StepText::new("main", "i1", "Is it?", manifest, &[], &[Some("yes"), None]);
        let mut trace = w.begin();
        trace.resolved = true;
        trace.result = "True".into();
        let end = StepEnd { text: &text, trace: &trace, tail, error: None, values: &[], depth, now };
        let fields = w.write_line(end, g);
        assert_eq!(serde_json::from_slice::<J>(&[b"{", w.members(), b"}"].concat()).unwrap(), fields);
        fields
    }

    #[test]
    fn a_step_event_holds_what_the_step_did_and_takes_what_it_gathered() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let (mut root, mut sub) = (Vars::new(), Vars::new());
        root.record_changes();
        sub.record_changes();
        root.set("Total", Value::text("3"));
        sub.set("n", Value::text("1"));
        let (mut drawn, mut answers, mut notes) = (vec![0.5], vec![json!({"what": "w"})], vec!["note".to_string()]);
        let mut w = StepWriter::new();
        let g = Gathered {
            root: &mut root,
            current: Some(&mut sub),
            drawn: &mut drawn,
            answers: &mut answers,
            notes: &mut notes,
        };
        let fields = if_step(&mut w, Tail::Parts { branch: "Default", next: "" }, g, now, 1);
        assert_eq!(fields["script"], "main");
        assert_eq!(fields["action"], "IF");
        assert_eq!(
            (&fields["result"], &fields["branch"], &fields["next"]),
            (&json!("True"), &json!("Default"), &J::Null)
        );
        assert_eq!(fields["depth"], 1);
        // The root's changes are named `global:` inside a sub script.
        assert_eq!(fields["changed"], json!({"global:Total": "3", "n": "1"}));
        assert_eq!(fields["clock"], "2026-11-21T10:00:00+00:00");
        assert_eq!(
            (&fields["random"], &fields["answers"], &fields["notes"]),
            (&json!([0.5]), &json!([{"what": "w"}]), &json!(["note"]))
        );
        assert!(drawn.is_empty() && answers.is_empty() && notes.is_empty(), "the event took them");

        // The next step at the same clock reading: no clock, no changes.
        let g =
            Gathered { root: &mut root, current: None, drawn: &mut drawn, answers: &mut answers, notes: &mut notes };
        let text = StepText::new("main", "i1", "Is it?", Catalog::builtin().get("IF", 1).unwrap(), &[], &[Some("yes")]);
        let tail = text.tail(0).map(Tail::Rendered).unwrap();
        let fields = if_step(&mut w, tail, g, now, 0);
        assert_eq!(fields.get("clock"), None, "{fields}");
        assert_eq!(fields["changed"], json!({}));
        assert_eq!((&fields["branch"], &fields["next"], &fields["depth"]), (&json!("True"), &json!("yes"), &json!(0)));
        assert_eq!(fields.get("notes"), None);
    }

    #[test]
    fn outputs_are_written_in_the_order_the_action_gave_them() {
        let mut w = StepWriter::new();
        let (mut root, mut drawn, mut answers, mut notes) = (Vars::new(), vec![], vec![], vec![]);
        let g =
            Gathered { root: &mut root, current: None, drawn: &mut drawn, answers: &mut answers, notes: &mut notes };
        let catalog = Catalog::builtin();
        let text = StepText::new("main", "i1", "", catalog.get("IF", 1).unwrap(), &[], &[]);
        let trace = w.begin();
        w.output("B", &Value::text("2"));
        w.output("a\"", &Value::Null);
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap();
        let end =
            StepEnd { text: &text, trace: &trace, tail: NO_BRANCH, error: Some("boom"), values: &[], depth: 0, now };
        let fields = w.write_line(end, g);
        assert_eq!(fields["inputs"], J::Null, "the inputs were not resolved");
        assert_eq!(serde_json::to_string(&fields["outputs"]).unwrap(), r#"{"B":"2","a\"":null}"#);
        assert_eq!((&fields["branch"], &fields["error"]), (&json!(""), &json!("boom")));
    }
}
