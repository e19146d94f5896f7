//! One run: its state and the loop that walks the graph.
//!
//! For each action: resolve its inputs (substitute `{expr}`, check types),
//! execute it, write its outputs, pick the next action. The action reports a
//! result name; if that branch is wired the run follows it, otherwise it
//! follows Default; if Default is not wired either, the script ends there
//! (normally, with a trace note) — unless the result was a failure, in which
//! case the script fails. RUNSUB pushes a frame with a fresh variable scope;
//! RETURN pops it and hands its value to the caller.

use super::action::{ActionError, Context, Control, Exec, Inputs};
use super::budget::Budgets;
use super::clock::RunClock;
use super::path::{BranchRef, RunPath};
use super::program::{Program, Step};
use super::replay::{Canned, Divergence, Mocks, ReplayState};
use super::trace::Recorder;
use super::vars::Vars;
use super::{RunReport, RunStatus, Runtime};
use crate::script::check::{DynamicPlan, PropPlan, type_value};
use crate::snippet::compile::VarSlot;
use crate::snippet::{self, CompiledExpr, EvalEnv, Limits, SnippetError, Template, VarSource};
use crate::value::{Value, VarTarget, set_path};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a traced step collects on its way (absent when not tracing).
struct StepTrace {
    /// The result the action reported (the branch taken may differ when
    /// that result is not wired).
    result: Cow<'static, str>,
    t0: Instant,
    /// The inputs resolved: their values are in `RunCore::spare` when the
    /// event is written (otherwise the event says `"inputs":null`).
    resolved: bool,
}

/// What a step event says after its inputs: `outputs`, `result`,
/// `branch`, `next`, up to the value of `depth`.
enum Tail<'a> {
    /// Rendered when the program was built ([`super::trace::StepText::tail`]).
    Rendered(&'a [u8]),
    /// Written at the visit; `next` is empty when nothing follows.
    Parts { branch: &'a str, next: &'a str },
}

/// A RUNSUB waiting for its sub script.
pub(crate) struct CallSite {
    return_var: Option<VarTarget>,
    /// Index in the path of the RUNSUB entry (its branch is settled on return).
    path_index: usize,
}

/// One script's activation.
pub(crate) struct Frame {
    pub program: Arc<Program>,
    /// Index of `program` in the run's path.
    program_index: u32,
    pub pc: usize,
    pub vars: Vars,
    /// Per-action state (LOOP and FOR counters), by action index.
    pub state: HashMap<usize, Option<Value>, foldhash::fast::FixedState>,
    call: Option<CallSite>,
}

/// How a run ended.
pub(crate) enum End {
    Completed(Option<Value>),
    Failed(String),
    Budget(String),
    /// A replay differed from its trace (the divergence is in the core).
    Diverged,
}

enum Flow {
    Next,
    End(End),
}

/// The state of one run.
pub(crate) struct RunCore {
    pub id: String,
    pub runtime: Runtime,
    pub frames: Vec<Frame>,
    pub clock: RunClock,
    pub step_now: DateTime<Utc>,
    pub tz: chrono_tz::Tz,
    pub rng: u64,
    pub seed: u64,
    pub budgets: Budgets,
    pub limits: Limits,
    started: Instant,
    pub steps: u64,
    path: RunPath,
    notes: Vec<String>,
    pub trace: Option<Recorder>,
    pub step_notes: Vec<String>,
    pub step_answers: Vec<serde_json::Value>,
    drawn: Vec<f64>,
    expr_cache: HashMap<String, Arc<CompiledExpr>>,
    /// The input buffer, reused from step to step.
    spare: Vec<Value>,
    /// Counts frame pushes, pops and transfers, so the run loop knows when
    /// to pick up the current program again.
    frame_changes: u64,
    spawned: u64,
    spawn_depth: u32,
    spawn_total: Arc<std::sync::atomic::AtomicU64>,
    /// This run's place among the process's concurrent runs.
    pub(crate) slot: Option<super::admission::RunSlot>,
    root_name: Arc<str>,
    params_json: serde_json::Value,
    /// Replaying: the trace's steps and the first divergence.
    replay: Option<Box<ReplayState>>,
    /// Canned answers for chosen actions.
    mocks: Option<Mocks>,
    /// The step event being written, and the current step's resolved
    /// inputs (a JSON object) and outputs (`"name":value,...`), reused from
    /// step to step so tracing allocates nothing per step.
    line: Vec<u8>,
    step_inputs: Vec<u8>,
    step_outputs: Vec<u8>,
    /// The clock last written to the trace: a step event carries `clock`
    /// only when it differs from the previous step's.
    clock_written: Option<DateTime<Utc>>,
    /// Writes those readings.
    clock_text: super::trace::ClockText,
    /// When the last step event was written: the next step's duration
    /// runs from here, so a traced step reads the clock once.
    trace_mark: Instant,
}

impl VarSource for RunCore {
    fn get(&self, slot: &VarSlot) -> Option<&Value> {
        let frame = if slot.global { self.frames.first() } else { self.frames.last() };
        frame.and_then(|f| f.vars.get_hinted(&slot.key, &slot.hint))
    }
}

/// The run's variables as a snippet sees them.
struct SnippetScope<'a> {
    core: &'a mut RunCore,
}

impl crate::snippet::SnippetVars for SnippetScope<'_> {
    fn get(&self, slot: &VarSlot) -> Option<&Value> {
        VarSource::get(&*self.core, slot)
    }

    fn set(&mut self, slot: &VarSlot, value: Value) {
        let frame = if slot.global { self.core.frames.first_mut() } else { self.core.frames.last_mut() };
        if let Some(f) = frame {
            f.vars.set_hinted(&slot.key, &slot.name, value, &slot.hint);
        }
    }

    fn all(&self) -> Vec<(String, Value)> {
        self.core.frame().vars.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
    }

    fn set_named(&mut self, name: &str, value: Value) {
        self.core.frame_mut().vars.set(name, value);
    }
}

/// Settings a run starts with.
pub(crate) struct Start {
    pub id: String,
    pub program: Arc<Program>,
    pub params: Vec<Value>,
    pub clock: RunClock,
    pub tz: chrono_tz::Tz,
    pub seed: u64,
    pub budgets: Budgets,
    pub trace: Option<super::trace::TraceSink>,
    pub params_json: serde_json::Value,
    pub replay: Option<ReplayState>,
    pub mocks: Option<Mocks>,
    /// How many SPAWNs led to this run (0 for a root run).
    pub spawn_depth: u32,
    /// Runs spawned so far from this run's root, all generations.
    pub spawn_total: Arc<std::sync::atomic::AtomicU64>,
}

impl RunCore {
    pub fn new(runtime: Runtime, s: Start) -> RunCore {
        let mut vars = Vars::new();
        if s.trace.is_some() || s.replay.is_some() {
            vars.record_changes();
        }
        for (i, v) in s.params.into_iter().enumerate() {
            vars.set(&format!("p{}", i + 1), v);
        }
        let begin = s.program.begin;
        let root_name = s.program.name.clone();
        let limits = s.budgets.limits();
        let now = s.clock.now();
        let mut path = RunPath::default();
        let root_index = path.program_index(&s.program);
        RunCore {
            trace: s.trace.map(|sink| Recorder::new(sink, &s.id)),
            id: s.id,
            runtime,
            frames: vec![Frame {
                program: s.program,
                program_index: root_index,
                pc: begin,
                vars,
                state: HashMap::default(),
                call: None,
            }],
            clock: s.clock,
            step_now: now,
            tz: s.tz,
            rng: s.seed,
            seed: s.seed,
            budgets: s.budgets,
            limits,
            started: Instant::now(),
            steps: 0,
            path,
            notes: Vec::new(),
            step_notes: Vec::new(),
            step_answers: Vec::new(),
            drawn: Vec::new(),
            expr_cache: HashMap::new(),
            spare: Vec::new(),
            frame_changes: 0,
            spawned: 0,
            spawn_depth: s.spawn_depth,
            spawn_total: s.spawn_total,
            slot: None,
            root_name,
            params_json: s.params_json,
            replay: s.replay.map(Box::new),
            mocks: s.mocks,
            line: Vec::new(),
            step_inputs: Vec::new(),
            step_outputs: Vec::new(),
            clock_written: None,
            clock_text: Default::default(),
            trace_mark: Instant::now(),
        }
    }

    pub fn frame(&self) -> &Frame {
        self.frames.last().expect("a run always has a frame")
    }

    pub fn frame_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a run always has a frame")
    }

    /// Whether steps are recorded: for a trace, or to compare with one.
    fn tracing(&self) -> bool {
        self.trace.is_some() || self.replay.is_some()
    }

    pub fn read_var(&self, name: &str) -> Value {
        match VarTarget::parse(name) {
            Ok(t) if t.path.is_empty() => {
                let frame = if t.global { self.frames.first() } else { self.frames.last() };
                frame.and_then(|f| f.vars.get_key(&t.key)).cloned().unwrap_or_default()
            }
            Ok(t) => {
                let frame = if t.global { self.frames.first() } else { self.frames.last() };
                let mut v = frame.and_then(|f| f.vars.get_key(&t.key)).cloned().unwrap_or_default();
                for seg in &t.path {
                    v = match seg {
                        crate::value::PathSeg::Member(m) => v.member(m).cloned().unwrap_or_default(),
                        crate::value::PathSeg::Index(i) => v.index(*i as i64).unwrap_or_default(),
                    };
                }
                v
            }
            Err(_) => Value::Null,
        }
    }

    pub fn assign(&mut self, target: &VarTarget, value: Value) -> Result<(), ActionError> {
        let limits = self.budgets.value_limits();
        let frame = if target.global { self.frames.first_mut() } else { self.frames.last_mut() };
        let Some(frame) = frame else { return Ok(()) };
        if target.path.is_empty() {
            frame.vars.set_key(&target.key, &target.name, value);
            return Ok(());
        }
        frame
            .vars
            .update(&target.key, &target.name, |slot| set_path(slot, &target.path, value, &limits))
            .map_err(|e| ActionError::failed(format!("cannot assign {target}: {e}")))
    }

    fn env(&self) -> EvalEnv {
        EvalEnv { now: self.step_now, tz: self.tz, rng: self.rng, drawn: Vec::new() }
    }

    fn after_eval(&mut self, env: EvalEnv) {
        self.rng = env.rng;
        if !env.drawn.is_empty() {
            self.drawn.extend(env.drawn);
        }
    }

    pub fn eval_expr(&mut self, e: &CompiledExpr) -> Result<Value, SnippetError> {
        let mut env = self.env();
        let limits = self.limits;
        let r = e.eval(&*self, &mut env, &limits);
        self.after_eval(env);
        r
    }

    pub fn eval_template(&mut self, t: &Template) -> Result<Value, SnippetError> {
        if let Template::Literal(s) = t {
            return Ok(Value::Text(s.clone()));
        }
        let mut env = self.env();
        let limits = self.limits;
        let r = t.eval(&*self, &mut env, &limits);
        self.after_eval(env);
        r
    }

    /// Run a compiled snippet in the current scope; TRACE lines become
    /// trace notes, and a failure comes back as `line N: reason`.
    pub fn run_snippet(
        &mut self,
        s: &crate::snippet::CompiledSnippet,
        max_string: Option<usize>,
    ) -> Result<(), ActionError> {
        let mut env = self.env();
        let mut limits = self.limits;
        if let Some(m) = max_string {
            limits.string_size = limits.string_size.min(m);
        }
        limits.memory = self.budgets.max_memory.saturating_sub(self.held_bytes());
        let run = s.run(&mut SnippetScope { core: self }, &mut env, &limits);
        self.after_eval(env);
        self.step_notes.extend(run.traces);
        match run.error {
            None => Ok(()),
            Some(e) if e.kind == snippet::SnippetErrorKind::RunBudget => {
                Err(ActionError::Budget(self.memory_message()))
            }
            Some(e) => Err(ActionError::failed(format!("line {}: {}", e.pos.line, e.message))),
        }
    }

    pub fn compile_cached(&mut self, src: &str) -> Result<Arc<CompiledExpr>, SnippetError> {
        if let Some(e) = self.expr_cache.get(src) {
            return Ok(e.clone());
        }
        let e = Arc::new(snippet::compile_expression(src, crate::base::Pos::new(1, 1))?);
        self.expr_cache.insert(src.to_string(), e.clone());
        Ok(e)
    }

    pub async fn sleep(&mut self, d: Duration) -> Result<(), ActionError> {
        if self.clock.is_virtual() {
            self.clock.sleep(d).await;
            return Ok(());
        }
        let left = self.budgets.wall_clock.saturating_sub(self.started.elapsed());
        if d > left {
            self.clock.sleep(left).await;
            return Err(ActionError::Budget(self.wall_message()));
        }
        self.clock.sleep(d).await;
        Ok(())
    }

    pub fn random(&mut self) -> f64 {
        let mut env = self.env();
        let f = snippet::rt::draw(&mut env);
        self.after_eval(env);
        f
    }

    pub fn spawn(&mut self, script: &str, params: Vec<Value>) -> Result<String, ActionError> {
        if params.len() > 20 {
            return Err(ActionError::failed(format!("SPAWN takes at most 20 parameters, got {}", params.len())));
        }
        let program = self.runtime.program(script).map_err(ActionError::failed)?;
        // Spawn limits are run-level budgets: a script that spawns itself
        // would otherwise grow until the machine runs out of memory.
        if self.spawn_depth >= self.budgets.max_spawn_depth {
            return Err(ActionError::Budget(format!(
                "SPAWN depth budget exceeded: this run is {} SPAWNs from its root (limit {})",
                self.spawn_depth, self.budgets.max_spawn_depth
            )));
        }
        let total = self.spawn_total.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if total > self.budgets.max_spawns {
            return Err(ActionError::Budget(format!(
                "spawn budget exceeded: more than {} runs spawned from one root run",
                self.budgets.max_spawns
            )));
        }
        let Some(slot) = super::admission::admit() else {
            return Err(ActionError::Budget(super::admission::busy_message()));
        };
        self.spawned += 1;
        let id = format!("{}.{}", self.id, self.spawned);
        let seed = self.rng ^ self.spawned.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let params_json = match &self.trace {
            Some(_) => json!(params.iter().map(Value::to_report_json).collect::<Vec<_>>()),
            None => serde_json::Value::Null,
        };
        let start = Start {
            id: id.clone(),
            program,
            params,
            clock: self.clock.child(),
            tz: self.tz,
            seed,
            budgets: self.budgets.clone(),
            trace: self.trace.as_ref().map(|t| t.sink()),
            params_json,
            replay: None,
            mocks: None,
            spawn_depth: self.spawn_depth + 1,
            spawn_total: self.spawn_total.clone(),
        };
        let mut core = RunCore::new(self.runtime.clone(), start);
        core.slot = Some(slot);
        self.runtime.spawn_core(core).map_err(ActionError::failed)?;
        Ok(id)
    }

    fn wall_message(&self) -> String {
        format!("wall-clock budget exceeded ({} s)", self.budgets.wall_clock.as_secs_f64())
    }

    /// Resolve an action's inputs according to their types.
    fn resolve(&mut self, step: &Step) -> Result<Vec<Value>, ActionError> {
        // Reuse one buffer for every step's inputs.
        let mut values = std::mem::take(&mut self.spare);
        values.clear();
        for (spec, plan) in step.manifest.inputs.iter().zip(&step.linked.inputs) {
            let v = match plan {
                PropPlan::Absent | PropPlan::Variable(_) | PropPlan::Snippet(_) | PropPlan::Lazy(..) => Value::Null,
                _ if spec.lazy => Value::Null,
                // Read in place by `Inputs::get`.
                PropPlan::Literal(..) => Value::Null,
                PropPlan::Template(t) => {
                    let v = self.eval_template(t).map_err(|e| input_error(&spec.name, e))?;
                    type_value(spec.ty, &spec.name, &spec.values, v).map_err(ActionError::Failed)?
                }
                PropPlan::Expression(e) => self.eval_expr(e).map_err(|e| input_error(&spec.name, e))?,
                PropPlan::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for t in items {
                        out.push(self.eval_template(t).map_err(|e| input_error(&spec.name, e))?);
                    }
                    Value::array(out)
                }
                PropPlan::Dynamic(d) => {
                    let v = match d {
                        DynamicPlan::Json(v) => v.clone(),
                        DynamicPlan::Var(t) => self.read_var(&t.to_string()),
                        DynamicPlan::Template(t) => self.eval_template(t).map_err(|e| input_error(&spec.name, e))?,
                    };
                    match v {
                        Value::Text(s) if s.trim_start().starts_with(['{', '[']) => {
                            serde_json::from_str::<serde_json::Value>(&s).map(|j| Value::from_json(&j)).map_err(
                                |e| ActionError::failed(format!("property {}: not valid JSON: {e}", spec.name)),
                            )?
                        }
                        other => other,
                    }
                }
            };
            values.push(v);
        }
        Ok(values)
    }

    /// Estimated bytes held by the run's variables, in every frame.
    pub fn held_bytes(&self) -> u64 {
        self.frames.iter().map(|f| f.vars.bytes()).sum()
    }

    fn memory_message(&self) -> String {
        format!(
            "memory budget exceeded: the run's values hold about {} MiB (limit {} MiB)",
            self.held_bytes().max(self.budgets.max_memory) >> 20,
            self.budgets.max_memory >> 20
        )
    }

    fn check_budgets(&self) -> Option<End> {
        if self.steps >= self.budgets.max_steps {
            return Some(End::Budget(format!("step budget exceeded ({} steps)", self.budgets.max_steps)));
        }
        if self.held_bytes() > self.budgets.max_memory {
            return Some(End::Budget(self.memory_message()));
        }
        if let Some(t) = &self.trace
            && t.bytes() > self.budgets.max_trace_bytes
        {
            return Some(End::Budget(format!(
                "trace budget exceeded: the run wrote {} MiB of trace (limit {} MiB)",
                t.bytes() >> 20,
                self.budgets.max_trace_bytes >> 20
            )));
        }
        if self.steps.is_multiple_of(64) && self.started.elapsed() > self.budgets.wall_clock {
            return Some(End::Budget(self.wall_message()));
        }
        None
    }

    fn start_trace(&mut self) {
        let Some(_) = &self.trace else { return };
        let program = self.frame().program.clone();
        let clock = match self.clock.mode() {
            super::clock::ClockMode::Real => {
                json!({"mode": "real", "start": self.clock.now().to_rfc3339()})
            }
            super::clock::ClockMode::Virtual(t) => {
                json!({"mode": "virtual", "start": t.to_rfc3339()})
            }
        };
        let fields = json!({
            "script": {
                "name": program.script.name,
                "file": program.script.origin.path.as_ref().map(|p| p.display().to_string()),
                "format": program.script.origin.format.map(|f| f.name()),
                "hash": program.hash,
            },
            "params": self.params_json,
            "clock": clock,
            "timezone": self.tz.name(),
            "seed": self.seed,
            "budgets": self.budgets.to_json(),
            "versions": {
                "prospero": env!("CARGO_PKG_VERSION"),
                "catalog": self.runtime.catalog_fingerprint(),
                "tzdata": chrono_tz::IANA_TZDB_VERSION,
            },
        });
        if let Some(t) = &mut self.trace {
            t.event("run", fields);
        }
        self.trace_mark = Instant::now();
    }

    /// Write the variables changed since the last step as a JSON object.
    fn write_changed(&mut self, out: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        let depth = self.frames.len();
        for (fi, frame) in self.frames.iter_mut().enumerate() {
            if fi != 0 && fi != depth - 1 {
                continue;
            }
            let global = fi == 0 && depth > 1;
            frame.vars.drain_changes(|json_name, v| {
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
            });
        }
        out.push(b'}');
    }

    /// Execute the current action and move on.
    async fn step(&mut self, program: &Arc<Program>) -> Flow {
        let pc = self.frame().pc;
        let step = &program.steps[pc];
        self.steps += 1;
        self.step_now = self.clock.now();
        let mut trace: Option<StepTrace> =
            self.tracing().then_some(StepTrace { result: Cow::Borrowed(""), t0: self.trace_mark, resolved: false });
        if trace.is_some() {
            self.step_inputs.clear();
            self.step_outputs.clear();
        }
        let mut canned = None;
        if self.replay.is_some() {
            match self.replay_reach(program, step) {
                Ok(c) => canned = c,
                Err(flow) => return flow,
            }
        }
        if canned.is_none()
            && let Some(m) = &mut self.mocks
        {
            canned = m.next(&step.id);
        }

        let result = match self.resolve(step) {
            Err(e) => Err(e),
            Ok(values) => {
                let inputs = Inputs { manifest: &step.manifest, plans: &step.linked.inputs, values };
                if let Some(t) = &mut trace {
                    t.resolved = true;
                    // A replay compares the inputs before the action runs;
                    // a trace writes them with the event, from `spare`.
                    if self.replay.is_some() {
                        step.trace.inputs.write(&mut self.step_inputs, &inputs.values);
                        let actual = std::str::from_utf8(&self.step_inputs)
                            .ok()
                            .and_then(|s| super::trace::parse_line(s).ok())
                            .unwrap_or_default();
                        self.replay_inputs(program, step, &actual);
                    }
                }
                let r = match canned {
                    Some(c) => canned_outcome(c),
                    None => {
                        let mut ctx = Context { core: self };
                        match step.action.execute(&mut ctx, &inputs) {
                            Exec::Ready(r) => r,
                            Exec::Pending(f) => f.await,
                        }
                    }
                };
                self.spare = inputs.values;
                r
            }
        };

        self.conclude(program, step, result, trace)
    }

    /// Write outputs, settle `_ERR`, carry out control requests and pick the
    /// next action. Kept out of the async `step` so the per-step future
    /// stays small.
    fn conclude(
        &mut self,
        program: &Program,
        step: &Step,
        result: Result<super::action::Outcome, ActionError>,
        mut trace: Option<StepTrace>,
    ) -> Flow {
        let (result_name, failure, control): (Cow<'static, str>, Option<String>, Option<Box<Control>>) = match result {
            Ok(outcome) => {
                let mut failure = None;
                for (name, v) in outcome.outputs {
                    let Some((oi, _)) = step.manifest.output(&name) else {
                        failure = Some(format!("internal: {} wrote unknown output {name}", step.manifest.name));
                        break;
                    };
                    if trace.is_some() {
                        let out = &mut self.step_outputs;
                        if !out.is_empty() {
                            out.push(b',');
                        }
                        crate::value::write_json_str(out, &name);
                        out.push(b':');
                        v.write_report_json(out);
                    }
                    let target = step.linked.outputs[oi].clone();
                    if let Err(e) = self.assign(&target, v) {
                        failure = Some(e.to_string());
                        break;
                    }
                }
                match failure {
                    Some(f) => ("OnError".into(), Some(f), None),
                    None => (outcome.branch, None, outcome.control),
                }
            }
            Err(ActionError::Budget(msg)) => {
                self.record(step, NO_BRANCH, None, trace);
                return Flow::End(End::Budget(msg));
            }
            // Every other cause is the script's to handle.
            Err(e) => ("OnError".into(), Some(e.to_string()), None),
        };
        if let Some(msg) = &failure {
            self.frame_mut().vars.set("_ERR", Value::text(msg.as_str()));
        }
        if let Some(t) = &mut trace {
            t.result = result_name.clone();
        }

        // RUNSUB: enter the sub script now; its branch settles on return.
        let mut failure = failure;
        let mut result_name = result_name;
        match control.map(|c| *c) {
            Some(Control::Call { script, params, return_var }) => match self.enter(&script) {
                Ok(program_sub) => {
                    let path_index = self.path.len();
                    self.push_path(default_ref(step));
                    let callee = program_sub.script.name.clone();
                    self.record(
                        step,
                        Tail::Parts { branch: "Default", next: &super::trace::call_marker(&callee) },
                        None,
                        trace,
                    );
                    let mut vars = Vars::new();
                    if self.tracing() {
                        vars.record_changes();
                    }
                    let begin = program_sub.begin;
                    let program_index = self.path.program_index(&program_sub);
                    let frame = Frame {
                        program: program_sub,
                        program_index,
                        pc: begin,
                        vars: seed_params(vars, params),
                        state: HashMap::default(),
                        call: Some(CallSite { return_var, path_index }),
                    };
                    self.frames.push(frame);
                    self.frame_changes += 1;
                    return Flow::Next;
                }
                Err(msg) => {
                    self.frame_mut().vars.set("_ERR", Value::text(msg.as_str()));
                    failure = Some(msg);
                    result_name = "OnError".into();
                }
            },
            Some(Control::Transfer { script }) => match self.runtime.program(&script) {
                Ok(p) => {
                    self.push_path(default_ref(step));
                    let target = p.script.name.clone();
                    self.record(
                        step,
                        Tail::Parts { branch: "Default", next: &super::trace::transfer_marker(&target) },
                        None,
                        trace,
                    );
                    let program_index = self.path.program_index(&p);
                    let frame = self.frame_mut();
                    frame.pc = p.begin;
                    frame.program = p;
                    frame.program_index = program_index;
                    frame.state.clear();
                    self.frame_changes += 1;
                    return Flow::Next;
                }
                Err(msg) => {
                    self.frame_mut().vars.set("_ERR", Value::text(msg.as_str()));
                    failure = Some(msg);
                    result_name = "OnError".into();
                }
            },
            Some(Control::End) => {
                self.push_path(BranchRef::None);
                self.record(step, NO_BRANCH, None, trace);
                return Flow::End(End::Completed(None));
            }
            Some(Control::Return(v)) => {
                self.push_path(BranchRef::None);
                self.record(step, NO_BRANCH, None, trace);
                return self.script_ended(Some(v));
            }
            None => {}
        }

        // Branch choice: the result's branch if wired, else Default.
        let (taken, next) = choose(step, &result_name);
        let taken = match taken {
            Taken::Ref(b) => b,
            Taken::Unmatched => self.path.other(&result_name),
        };
        self.push_path(taken);
        // A wired manifest branch named as the result has its members
        // rendered already; other cases write them at this visit.
        let rendered = match taken {
            BranchRef::Manifest(i) if trace.is_some() => step
                .trace
                .tail(i as usize)
                .filter(|_| step.manifest.branches.get(i as usize).is_some_and(|b| b.name == *result_name)),
            _ => None,
        };
        let next_id = next.map(|i| program.script.actions[i].id.as_str()).unwrap_or("");
        let tail = match rendered {
            Some(t) => Tail::Rendered(t),
            None => Tail::Parts { branch: branch_name(step, taken, &result_name), next: next_id },
        };
        match next {
            Some(n) => {
                self.record(step, tail, failure.as_deref(), trace);
                self.frame_mut().pc = n;
                Flow::Next
            }
            None => {
                let note = format!(
                    "action {} ({}): result '{}' has no wired branch and Default is not wired; the script ends here",
                    step.id, step.caption, result_name
                );
                self.step_notes.push(note.clone());
                self.record(step, tail, failure.as_deref(), trace);
                match failure {
                    Some(msg) => self.script_failed(msg),
                    None => {
                        self.notes.push(note);
                        self.script_ended(None)
                    }
                }
            }
        }
    }

    fn enter(&mut self, script: &str) -> Result<Arc<Program>, String> {
        if self.frames.len() > self.budgets.max_call_depth {
            return Err(format!("RUNSUB depth limit reached ({} nested sub scripts)", self.budgets.max_call_depth));
        }
        self.runtime.program(script)
    }

    fn push_path(&mut self, branch: BranchRef) {
        let frame = self.frames.last().expect("a run always has a frame");
        let nested = self.frames.len() > 1 || frame.program_index != 0;
        self.path.push(frame.program_index, frame.pc, branch, nested);
    }

    /// Write the step event: straight into the trace's block when only
    /// tracing; through a line of its own when replaying, to compare it
    /// with the trace's.
    fn record(&mut self, step: &Step, tail: Tail<'_>, error: Option<&str>, trace: Option<StepTrace>) {
        let Some(trace) = trace else { return };
        if self.replay.is_none() {
            let Some(rec) = &mut self.trace else { return };
            let mut b = rec.begin_step();
            self.write_step(&mut b, step, &trace, tail, error);
            if let Some(rec) = &mut self.trace {
                rec.end_step(b);
            }
            return;
        }
        let mut b = std::mem::take(&mut self.line);
        b.clear();
        b.push(b'{');
        self.write_step(&mut b, step, &trace, tail, error);
        b.push(b'}');
        let fields: serde_json::Value =
            std::str::from_utf8(&b).ok().and_then(|s| super::trace::parse_line(s).ok()).unwrap_or_default();
        self.replay_compare(step, &fields);
        if let Some(t) = &mut self.trace {
            t.raw_event("step", b.get(1..b.len() - 1).unwrap_or_default());
        }
        self.line = b;
    }

    /// A step event's members (after `event`, `run` and `seq`). The event
    /// is written as text into a reused buffer: a JSON tree per step would
    /// cost several times the step itself. A replay has written the
    /// inputs to `step_inputs` already, to compare them.
    fn write_step(&mut self, b: &mut Vec<u8>, step: &Step, trace: &StepTrace, tail: Tail<'_>, error: Option<&str>) {
        use crate::value::write_json_str;
        let written_inputs = self.replay.is_some();
        let text = &step.trace;
        b.extend_from_slice(text.head(trace.resolved && !written_inputs));
        if !trace.resolved {
            b.extend_from_slice(b"null");
        } else if written_inputs {
            b.extend_from_slice(&self.step_inputs);
        } else if !text.has_inputs() {
            text.inputs.write(b, &self.spare);
        }
        match tail {
            Tail::Rendered(t) => super::trace::StepText::write_tail(b, &self.step_outputs, t),
            Tail::Parts { branch, next } => {
                super::trace::write_outputs(b, &self.step_outputs);
                super::trace::write_result(b, &trace.result, branch, next);
            }
        }
        let depth = self.frames.len() - 1;
        if depth < 10 {
            b.push(b'0' + depth as u8);
        } else {
            b.extend_from_slice(itoa::Buffer::new().format(depth).as_bytes());
        }
        b.extend_from_slice(b",\"changed\":");
        self.write_changed(b);
        if self.clock_written != Some(self.step_now) {
            b.extend_from_slice(b",\"clock\":");
            self.clock_text.write(b, self.step_now);
            self.clock_written = Some(self.step_now);
        }
        b.extend_from_slice(b",\"duration_us\":");
        let now = Instant::now();
        // Most steps take less than 10 µs.
        match now.duration_since(trace.t0).as_micros() as u64 {
            us @ 0..10 => b.push(b'0' + us as u8),
            us => b.extend_from_slice(itoa::Buffer::new().format(us).as_bytes()),
        }
        self.trace_mark = now;
        if let Some(e) = error {
            b.extend_from_slice(b",\"error\":");
            write_json_str(b, e);
        }
        if !self.drawn.is_empty() {
            b.extend_from_slice(b",\"random\":");
            let _ = serde_json::to_writer(&mut *b, &std::mem::take(&mut self.drawn));
        }
        if !self.step_answers.is_empty() {
            b.extend_from_slice(b",\"answers\":");
            let _ = serde_json::to_writer(&mut *b, &std::mem::take(&mut self.step_answers));
        }
        if !self.step_notes.is_empty() {
            b.extend_from_slice(b",\"notes\":");
            let _ = serde_json::to_writer(&mut *b, &std::mem::take(&mut self.step_notes));
        }
    }

    /// Replay: the run reached `step`; it must be the trace's next one.
    /// Gives the recorded answer when the action is external.
    fn replay_reach(&mut self, program: &Program, step: &Step) -> Result<Option<Canned>, Flow> {
        let n = self.steps;
        let Some(r) = self.replay.as_deref_mut() else { return Ok(None) };
        let (expected, actual) = match r.expected() {
            Some(e) if *e.id == *step.id && e.script.eq_ignore_ascii_case(&program.script.name) => {
                self.step_now = e.clock;
                return Ok(step.manifest.external.then(|| Canned::recorded(e)));
            }
            Some(e) => (json!(format!("{} ({}) in {}", e.id, e.caption, e.script)), json!(*step.id)),
            None => (json!("the end of the run"), json!(*step.id)),
        };
        r.diverge(divergence(n, &program.script.name, step, "action".into(), Some(expected), Some(actual)));
        Err(Flow::End(End::Diverged))
    }

    /// Replay: compare the resolved inputs; a difference is kept for
    /// [`RunCore::replay_compare`] to report if nothing weightier differs.
    fn replay_inputs(&mut self, program: &Program, step: &Step, actual: &serde_json::Value) {
        let n = self.steps;
        let Some(r) = self.replay.as_deref_mut() else { return };
        let Some(e) = r.expected() else { return };
        let empty = serde_json::Map::new();
        let (want, got) = (e.inputs.as_object().unwrap_or(&empty), actual.as_object().unwrap_or(&empty));
        let Some(name) = first_difference(want, got) else { return };
        let (expected, actual) = (want.get(&name).cloned(), got.get(&name).cloned());
        let d = divergence(n, &program.script.name, step, format!("input {name}"), expected, actual);
        r.input = Some(d);
    }

    /// Replay: compare a finished step with the recorded one (branch,
    /// outputs, variables, inputs, random numbers, in that order of
    /// precedence) and move on in the trace.
    fn replay_compare(&mut self, step: &Step, fields: &serde_json::Value) {
        let n = self.steps;
        let Some(r) = self.replay.as_deref_mut() else { return };
        let trace = r.trace.clone();
        let Some(e) = trace.steps.get(r.cursor) else { return };
        r.cursor += 1;
        let empty = serde_json::Map::new();
        let obj = |name: &str| fields.get(name).and_then(|v| v.as_object()).unwrap_or(&empty);
        let branch = fields.get("branch").cloned().unwrap_or_default();
        let random = fields.get("random").cloned().unwrap_or_else(|| json!([]));
        let input = r.input.take();
        let found = if branch != json!(e.branch) {
            Some(("branch".to_string(), Some(json!(e.branch)), Some(branch)))
        } else if let Some(name) = first_difference(&e.outputs, obj("outputs")) {
            Some((format!("output {name}"), e.outputs.get(&name).cloned(), obj("outputs").get(&name).cloned()))
        } else if let Some(name) = first_difference(&e.changed, obj("changed")) {
            Some((format!("variable {name}"), e.changed.get(&name).cloned(), obj("changed").get(&name).cloned()))
        } else if let Some(d) = input {
            r.diverge(d);
            return;
        } else if random != e.random {
            Some(("random".to_string(), Some(e.random.clone()), Some(random)))
        } else {
            None
        };
        if let Some((what, expected, actual)) = found {
            let d = divergence(n, &self.frame().program.script.name, step, what, expected, actual);
            if let Some(r) = self.replay.as_deref_mut() {
                r.diverge(d);
            }
        }
    }

    /// Replay: after the run ended, the trace must have ended too, with the
    /// same status and return value.
    fn replay_end(&mut self, status: RunStatus, ret: &Option<Value>) {
        if self.replay.as_ref().is_none_or(|r| r.divergence.is_some()) {
            return;
        }
        let n = self.steps;
        let last = self.frames.last().map(|f| {
            let a = &f.program.script.actions[f.pc.min(f.program.script.actions.len().saturating_sub(1))];
            (f.program.script.name.clone(), a.id.clone(), a.caption.clone())
        });
        let Some(r) = self.replay.as_deref_mut() else { return };
        let (script, action, caption) = last.unwrap_or_default();
        let mut d = Divergence {
            step: n,
            script,
            action,
            caption,
            what: String::new(),
            expected: json!(null),
            actual: json!(null),
        };
        if let Some(e) = r.expected() {
            d.what = "end".into();
            d.expected = json!(format!("{} ({}) in {}", e.id, e.caption, e.script));
            d.actual = json!(format!("the run ended ({})", status.name()));
        } else if let Some((want_status, want_ret, _)) = &r.trace.end {
            let got_ret = ret.as_ref().map(Value::to_report_json).unwrap_or_default();
            if want_status != status.name() {
                d.what = "status".into();
                d.expected = json!(want_status);
                d.actual = json!(status.name());
            } else if *want_ret != got_ret {
                d.what = "return".into();
                d.expected = want_ret.clone();
                d.actual = got_ret;
            } else {
                return;
            }
        } else {
            return;
        }
        r.diverge(d);
    }

    /// The current script ended (RETURN, or flow ran out). Back to the
    /// caller, or the run completes.
    fn script_ended(&mut self, value: Option<Value>) -> Flow {
        if self.frames.len() == 1 {
            return Flow::End(End::Completed(value));
        }
        let frame = self.frames.pop().expect("checked above");
        self.frame_changes += 1;
        let call = frame.call.expect("a sub frame has a call site");
        if let Some(target) = &call.return_var
            && let Err(e) = self.assign(target, value.clone().unwrap_or_default())
        {
            return self.script_failed(e.to_string());
        }
        if let Some(t) = &mut self.trace {
            t.event(
                "return",
                json!({
                    "script": frame.program.script.name,
                    "value": value.as_ref().map(Value::to_report_json),
                    "to": self.frames.last().map(|f| f.program.script.actions[f.pc].id.clone()),
                }),
            );
        }
        self.resume_caller(call.path_index, "Default", None)
    }

    /// The current script failed. Its caller's RUNSUB takes OnError, or the
    /// run fails.
    fn script_failed(&mut self, msg: String) -> Flow {
        if self.frames.len() == 1 {
            return Flow::End(End::Failed(msg));
        }
        let frame = self.frames.pop().expect("checked above");
        self.frame_changes += 1;
        let call = frame.call.expect("a sub frame has a call site");
        let msg = format!("sub script {} failed: {msg}", frame.program.script.name);
        self.frame_mut().vars.set("_ERR", Value::text(msg.as_str()));
        self.resume_caller(call.path_index, "OnError", Some(msg))
    }

    /// Continue the caller after its RUNSUB, taking `result`.
    fn resume_caller(&mut self, path_index: usize, result: &str, failure: Option<String>) -> Flow {
        let program = self.frame().program.clone();
        let pc = self.frame().pc;
        let step = &program.steps[pc];
        let (taken, next) = choose(step, result);
        let taken = match taken {
            Taken::Ref(b) => b,
            Taken::Unmatched => self.path.other(result),
        };
        self.path.set_branch(path_index, taken);
        if self.trace.is_some() {
            // The RUNSUB's step event was written when the sub script was
            // entered; the branch it takes now completes its path.
            let fields = json!({
                "script": program.script.name,
                "id": step.id.as_ref(),
                "result": result,
                "branch": self.path.branch_name(&program, pc, taken),
                "next": next.map(|n| program.script.actions[n].id.as_str()),
                "depth": self.frames.len() - 1,
            });
            if let Some(t) = &mut self.trace {
                t.event("resume", fields);
            }
        }
        match next {
            Some(n) => {
                self.frame_mut().pc = n;
                Flow::Next
            }
            None => match failure {
                Some(msg) => self.script_failed(msg),
                None => {
                    self.notes.push(format!(
                        "action {} ({}): Default is not wired after the sub script returned; the script ends here",
                        step.id, step.caption
                    ));
                    self.script_ended(None)
                }
            },
        }
    }

    fn finish(mut self, end: End) -> RunReport {
        let (status, ret, error) = match end {
            End::Completed(v) => (RunStatus::Completed, v, None),
            End::Failed(m) => (RunStatus::Failed, None, Some(m)),
            End::Budget(m) => (RunStatus::BudgetExceeded, None, Some(m)),
            End::Diverged => (RunStatus::Failed, None, Some("the replay diverged from its trace".to_string())),
        };
        self.replay_end(status, &ret);
        let divergence = self.replay.as_mut().and_then(|r| r.divergence.take());
        if let Some(t) = &mut self.trace {
            t.event(
                "end",
                json!({
                    "status": status.name(),
                    "return": ret.as_ref().map(Value::to_report_json),
                    "steps": self.steps,
                    "error": error,
                    "clock": self.clock.now().to_rfc3339(),
                    "notes": self.notes,
                }),
            );
            t.flush();
            if let Some(e) = t.error.take() {
                self.notes.push(e);
            }
        }
        let root = self.frames.swap_remove(0);
        RunReport {
            run_id: self.id,
            status,
            script: self.root_name.to_string(),
            return_value: ret,
            variables: root.vars,
            path: self.path,
            steps: self.steps,
            error,
            notes: self.notes,
            divergence,
        }
    }
}

fn seed_params(mut vars: Vars, params: Vec<Value>) -> Vars {
    for (i, v) in params.into_iter().enumerate() {
        vars.set(&format!("p{}", i + 1), v);
    }
    vars
}

/// The branch a choice settled on.
enum Taken {
    Ref(BranchRef),
    /// Nothing wired and the result names no branch of the action.
    Unmatched,
}

fn default_ref(step: &Step) -> BranchRef {
    step.manifest.default_branch().map(|d| BranchRef::Manifest(d as u32)).unwrap_or(BranchRef::None)
}

/// The name of branch `taken` of `step`, for a result named `result`
/// (a result no branch matched goes by its own name).
fn branch_name<'a>(step: &'a Step, taken: BranchRef, result: &'a str) -> &'a str {
    match taken {
        BranchRef::None => "",
        BranchRef::Manifest(i) => step.manifest.branches.get(i as usize).map_or("", |b| b.name.as_str()),
        BranchRef::Custom(i) => step.linked.custom.get(i as usize).map_or("", |c| c.0.as_str()),
        BranchRef::Other(_) => result,
    }
}

/// The members of a step event for a terminating action, or one that
/// stopped the run: no branch, nothing next.
const NO_BRANCH: Tail<'static> = Tail::Parts { branch: "", next: "" };

/// Pick the branch for `result`: the wired branch of that name, else
/// Default. Returns the branch taken and the next action.
fn choose(step: &Step, result: &str) -> (Taken, Option<usize>) {
    let m = &step.manifest;
    let named = m.branch(result);
    if let Some(i) = named {
        if let Some(n) = step.linked.next.get(i).copied().flatten() {
            return (Taken::Ref(BranchRef::Manifest(i as u32)), Some(n));
        }
    } else if m.custom_branches {
        let custom = &step.linked.custom;
        let probe = Value::text(result);
        let numeric = |name: &str| {
            let v = Value::text(name);
            v.as_number().is_some() && v.loose_eq(&probe)
        };
        let found = custom
            .iter()
            .position(|(name, _)| name == result)
            .or_else(|| custom.iter().position(|(name, _)| name.eq_ignore_ascii_case(result)))
            .or_else(|| custom.iter().position(|(name, _)| numeric(name)));
        if let Some(k) = found {
            return (Taken::Ref(BranchRef::Custom(k as u32)), Some(custom[k].1));
        }
    }
    let default = m.default_branch().and_then(|d| step.linked.next.get(d).copied().flatten().map(|n| (d, n)));
    match (default, named) {
        (Some((d, n)), _) => (Taken::Ref(BranchRef::Manifest(d as u32)), Some(n)),
        (None, Some(i)) => (Taken::Ref(BranchRef::Manifest(i as u32)), None),
        (None, None) => (Taken::Unmatched, None),
    }
}

fn input_error(name: &str, e: SnippetError) -> ActionError {
    ActionError::failed(format!("property {name}: {}", e.message))
}

/// Run to the end.
pub(crate) async fn drive(mut core: RunCore) -> RunReport {
    core.start_trace();
    let mut program = core.frame().program.clone();
    let mut seen = core.frame_changes;
    let end = loop {
        if let Some(end) = core.check_budgets() {
            break end;
        }
        if core.frame_changes != seen {
            program = core.frame().program.clone();
            seen = core.frame_changes;
        }
        match core.step(&program).await {
            Flow::Next => {}
            Flow::End(e) => break e,
        }
        if core.replay.as_ref().is_some_and(|r| r.divergence.is_some()) {
            break End::Diverged;
        }
        // Long runs of synchronous actions must not starve other runs.
        if core.steps.is_multiple_of(1024) {
            tokio::task::yield_now().await;
        }
    };
    core.finish(end)
}

/// The outcome a canned answer stands for.
fn canned_outcome(c: Canned) -> Result<super::action::Outcome, ActionError> {
    if let Some(msg) = c.error {
        return Err(ActionError::Failed(msg));
    }
    let mut o = super::action::Outcome::branch(c.result);
    for (name, v) in c.outputs {
        o = o.output(name, v);
    }
    Ok(o)
}

/// The first member (in `want`'s order, then `got`'s) whose values differ.
fn first_difference(
    want: &serde_json::Map<String, serde_json::Value>,
    got: &serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    want.iter()
        .find(|(k, v)| got.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .or_else(|| got.keys().find(|k| !want.contains_key(*k)).cloned())
}

/// A divergence at step `n` (action `step` of `script`).
fn divergence(
    n: u64,
    script: &str,
    step: &Step,
    what: String,
    expected: Option<serde_json::Value>,
    actual: Option<serde_json::Value>,
) -> Divergence {
    Divergence {
        step: n,
        script: script.to_string(),
        action: step.id.to_string(),
        caption: step.caption.clone(),
        what,
        expected: expected.unwrap_or_default(),
        actual: actual.unwrap_or_default(),
    }
}
