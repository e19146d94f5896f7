//! One run's loop: how it walks the graph (its state is in `state.rs`).
//!
//! For each action: resolve its inputs (substitute `{expr}`, check types),
//! execute it, write its outputs, pick the next action. The action reports a
//! result name; if that branch is wired the run follows it, otherwise it
//! follows Default; if Default is not wired either, the script ends there
//! (normally, with a trace note) — unless the result was a failure, in which
//! case the script fails. RUNSUB pushes a frame with a fresh variable scope;
//! RETURN pops it and hands its value to the caller.
//!
//! The loop hands each step to the trace writer ([`super::trace`]) and,
//! when replaying, to the replay comparison ([`super::compare`]); what a
//! step can reach of the run (variables, evaluation, SPAWN, input
//! resolution) is in `services.rs`, branch choice in `branch.rs`.

use super::Principal;
use super::action::{ActionError, Control, Exec, Inputs, Outcome};
use super::branch::{Taken, branch_name, choose, default_ref};
use super::compare::{At, Reached};
use super::context::Context;
use super::path::BranchRef;
use super::program::{Program, Step};
use super::replay::Canned;
use super::report::{ActionAt, Cause, Failure};
use super::state::{CallSite, Frame, RunCore, seed_params};
use super::trace::{Gathered, NO_BRANCH, RunEnd, RunHeader, StepEnd, StepTrace, Tail, call_marker, transfer_marker};
use super::vars::Vars;
use super::{RunReport, RunStatus};
use crate::value::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

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

impl RunCore {
    /// Whether steps are recorded: for a trace, or to compare with one.
    fn tracing(&self) -> bool {
        self.trace.is_some() || self.replay.is_some()
    }

    /// A run-level budget that has run out, if any.
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

    /// Execute the current action and move on.
    async fn step(&mut self, program: &Arc<Program>) -> Flow {
        let pc = self.frame().pc;
        let step = &program.steps[pc];
        self.steps += 1;
        self.step_now = self.clock.now();
        let mut trace: Option<StepTrace> = self.tracing().then(|| self.events.begin());
        let mut canned = None;
        if let Some(r) = self.replay.as_deref_mut() {
            match r.reach(at(self.steps, &program.script.name, step), step.manifest.external) {
                Some(Reached { clock, canned: c }) => {
                    self.step_now = clock;
                    canned = c;
                }
                None => return Flow::End(End::Diverged),
            }
        }
        if canned.is_none()
            && let Some(m) = &mut self.mocks
        {
            canned = m.next(&step.id);
        }

        // A permission the principal lacks: the action is neither resolved
        // nor executed, and takes OnError.
        let resolved = match self.principal.missing(&step.manifest.permissions, self.runtime.business_unit()) {
            Some(p) => Err(ActionError::Permission(Principal::denial(p))),
            None => self.resolve(step),
        };
        let result = match resolved {
            Err(e) => Err(e),
            Ok(values) => {
                let inputs = Inputs { manifest: &step.manifest, plans: &step.linked.inputs, values };
                if let Some(t) = &mut trace {
                    t.resolved = true;
                    // A replay compares the inputs before the action runs;
                    // a trace writes them with the event, from `spare`.
                    if let Some(r) = self.replay.as_deref_mut() {
                        let actual = self.events.inputs_now(&step.trace.inputs, &inputs.values);
                        r.check_inputs(at(self.steps, &program.script.name, step), &actual);
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
        result: Result<Outcome, ActionError>,
        mut trace: Option<StepTrace>,
    ) -> Flow {
        let (mut result_name, mut failure, control) = match result {
            Ok(outcome) => match self.write_outputs(step, outcome.outputs, trace.is_some()) {
                Ok(()) => (outcome.branch, None, outcome.control),
                Err(f) => ("OnError".into(), Some(Cause::from(f)), None),
            },
            Err(ActionError::Budget(msg)) => {
                self.record(step, NO_BRANCH, None, trace);
                return Flow::End(End::Budget(msg));
            }
            // Every other cause is the script's to handle.
            Err(e) => ("OnError".into(), Some(Cause::from(e)), None),
        };
        if let Some(cause) = &failure {
            self.frame_mut().vars.set("_ERR", Value::text(cause.message.as_str()));
        }
        if let Some(t) = &mut trace {
            t.result = result_name.clone();
        }
        if let Some(control) = control {
            match self.carry_out(*control, step, &mut trace) {
                Ok(flow) => return flow,
                // The sub script or the script to continue in cannot be
                // had: the step fails (its event keeps the result).
                Err(msg) => {
                    self.frame_mut().vars.set("_ERR", Value::text(msg.as_str()));
                    failure = Some(Cause::from(msg));
                    result_name = "OnError".into();
                }
            }
        }
        self.follow(program, step, &result_name, failure, trace)
    }

    /// Assign the outputs an action wrote (noting them for the trace when
    /// `traced`); the failure that stops them.
    fn write_outputs(
        &mut self,
        step: &Step,
        outputs: Vec<(Cow<'static, str>, Value)>,
        traced: bool,
    ) -> Result<(), String> {
        for (name, v) in outputs {
            let Some((oi, _)) = step.manifest.output(&name) else {
                return Err(format!("internal: {} wrote unknown output {name}", step.manifest.name));
            };
            if traced {
                self.events.output(&name, &v);
            }
            let target = step.linked.outputs[oi].clone();
            self.assign(&target, v).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Carry out a control request of `step`: enter a sub script (its
    /// branch settles on return), continue in another script, end the run
    /// or return from the script. The step's event is written when the
    /// request is carried out; a script that cannot be had is the error.
    fn carry_out(&mut self, control: Control, step: &Step, trace: &mut Option<StepTrace>) -> Result<Flow, String> {
        match control {
            Control::Call { script, params, return_var } => {
                let sub = self.enter(&script)?;
                let path_index = self.path.len();
                self.push_path(default_ref(step));
                let next = call_marker(&sub.script.name);
                self.record(step, Tail::Parts { branch: "Default", next: &next }, None, trace.take());
                let mut vars = Vars::new();
                if self.tracing() {
                    vars.record_changes();
                }
                let frame = Frame {
                    program_index: self.path.program_index(&sub),
                    pc: sub.begin,
                    program: sub,
                    vars: seed_params(vars, params),
                    state: HashMap::default(),
                    call: Some(CallSite { return_var, path_index }),
                };
                self.frames.push(frame);
            }
            Control::Transfer { script } => {
                let p = self.runtime.program(&script)?;
                self.push_path(default_ref(step));
                let next = transfer_marker(&p.script.name);
                self.record(step, Tail::Parts { branch: "Default", next: &next }, None, trace.take());
                let program_index = self.path.program_index(&p);
                let frame = self.frame_mut();
                frame.pc = p.begin;
                frame.program = p;
                frame.program_index = program_index;
                frame.state.clear();
            }
            Control::End => {
                self.push_path(BranchRef::None);
                self.record(step, NO_BRANCH, None, trace.take());
                return Ok(Flow::End(End::Completed(None)));
            }
            Control::Return(v) => {
                self.push_path(BranchRef::None);
                self.record(step, NO_BRANCH, None, trace.take());
                return Ok(self.script_ended(Some(v)));
            }
        }
        self.frame_changes += 1;
        Ok(Flow::Next)
    }

    /// Branch choice: the result's branch if wired, else Default; the
    /// script ends (or fails) when neither is.
    fn follow(
        &mut self,
        program: &Program,
        step: &Step,
        result_name: &str,
        failure: Option<Cause>,
        trace: Option<StepTrace>,
    ) -> Flow {
        let (taken, next) = self.choose(step, result_name);
        self.push_path(taken);
        // A wired manifest branch named as the result has its members
        // rendered already; other cases write them at this visit.
        let rendered = match taken {
            BranchRef::Manifest(i) if trace.is_some() => step
                .trace
                .tail(i as usize)
                .filter(|_| step.manifest.branches.get(i as usize).is_some_and(|b| b.name == result_name)),
            _ => None,
        };
        let next_id = next.map(|i| program.script.actions[i].id.as_str()).unwrap_or("");
        let tail = match rendered {
            Some(t) => Tail::Rendered(t),
            None => Tail::Parts { branch: branch_name(step, taken, result_name), next: next_id },
        };
        let error = failure.as_ref().map(|c| c.message.as_str());
        if let Some(n) = next {
            self.record(step, tail, error, trace);
            if let Some(cause) = &failure {
                let f = self.failure_here(cause);
                self.note_handled(f);
            }
            self.frame_mut().pc = n;
            return Flow::Next;
        }
        let note = format!(
            "action {} ({}): result '{}' has no wired branch and Default is not wired; the script ends here",
            step.id, step.caption, result_name
        );
        self.step_notes.push(note.clone());
        self.record(step, tail, error, trace);
        match failure {
            Some(cause) => self.script_failed(cause),
            None => {
                self.notes.push(note);
                self.script_ended(None)
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
        let end = StepEnd {
            text: &step.trace,
            trace: &trace,
            tail,
            error,
            values: &self.spare,
            depth: self.frames.len() - 1,
            now: self.step_now,
        };
        let (root, rest) = self.frames.split_first_mut().expect("a run always has a frame");
        let gathered = Gathered {
            current: rest.last_mut().map(|f| &mut f.vars),
            root: &mut root.vars,
            drawn: &mut self.drawn,
            answers: &mut self.step_answers,
            notes: &mut self.step_notes,
        };
        let Some(r) = self.replay.as_deref_mut() else {
            if let Some(rec) = &mut self.trace {
                let mut b = rec.begin_step();
                self.events.write(&mut b, end, gathered);
                rec.end_step(b);
            }
            return;
        };
        let fields = self.events.write_line(end, gathered);
        let script = &self.frames.last().expect("a run always has a frame").program.script.name;
        r.check_step(at(self.steps, script, step), &fields);
        if let Some(t) = &mut self.trace {
            t.raw_event("step", self.events.members());
        }
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
            return self.script_failed(Cause::from(e));
        }
        if let Some(t) = &mut self.trace {
            let to = self.frames.last().map(|f| f.program.script.actions[f.pc].id.as_str());
            t.returned(&frame.program.script.name, value.as_ref(), to);
        }
        self.resume_caller(call.path_index, "Default", None)
    }

    /// The current script failed. Its caller's RUNSUB takes OnError, or the
    /// run fails. The failure is kept where it happened (the current
    /// action) until a branch handles it or the run ends with it.
    fn script_failed(&mut self, cause: Cause) -> Flow {
        if self.pending.is_none() {
            self.pending = Some(self.failure_here(&cause));
        }
        if self.frames.len() == 1 {
            return Flow::End(End::Failed(cause.message));
        }
        let frame = self.frames.pop().expect("checked above");
        self.frame_changes += 1;
        let call = frame.call.expect("a sub frame has a call site");
        let msg = format!("sub script {} failed: {}", frame.program.script.name, cause.message);
        self.frame_mut().vars.set("_ERR", Value::text(msg.as_str()));
        self.resume_caller(call.path_index, "OnError", Some(msg))
    }

    /// Continue the caller after its RUNSUB, taking `result`.
    fn resume_caller(&mut self, path_index: usize, result: &str, failure: Option<String>) -> Flow {
        let program = self.frame().program.clone();
        let pc = self.frame().pc;
        let step = &program.steps[pc];
        let (taken, next) = self.choose(step, result);
        self.path.set_branch(path_index, taken);
        if let Some(t) = &mut self.trace {
            // The RUNSUB's step event was written when the sub script was
            // entered; the branch it takes now completes its path.
            let branch = self.path.branch_name(&program, pc, taken);
            let next = next.map(|n| program.script.actions[n].id.as_str());
            t.resumed(&program.script.name, &step.id, result, branch, next, self.frames.len() - 1);
        }
        match next {
            Some(n) => {
                if failure.is_some()
                    && let Some(f) = self.pending.take()
                {
                    self.note_handled(f);
                }
                self.frame_mut().pc = n;
                Flow::Next
            }
            None => match failure {
                Some(msg) => {
                    let caller = ActionAt::of(&program, pc);
                    if let Some(f) = &mut self.pending {
                        f.via.push(caller);
                    }
                    self.script_failed(Cause::from(msg))
                }
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

    /// The branch `step` takes for `result` (a result no branch matches
    /// joins the path's names) and the action it leads to.
    fn choose(&mut self, step: &Step, result: &str) -> (BranchRef, Option<usize>) {
        match choose(step, result) {
            (Taken::Ref(b), next) => (b, next),
            (Taken::Unmatched, next) => (self.path.other(result), next),
        }
    }

    /// The failure `cause` at the current action.
    fn failure_here(&self, cause: &Cause) -> Failure {
        let f = self.frame();
        Failure::of_step(&f.program, f.pc, cause)
    }

    /// Keep a failure a branch handled (the first few).
    fn note_handled(&mut self, f: Failure) {
        if self.handled.len() < RunReport::HANDLED_KEPT {
            self.handled.push(f);
        }
    }

    fn finish(mut self, end: End) -> RunReport {
        let failure = if matches!(end, End::Failed(_)) { self.pending.take() } else { None };
        let (status, ret, error) = match end {
            End::Completed(v) => (RunStatus::Completed, v, None),
            End::Failed(m) => (RunStatus::Failed, None, Some(failure.as_ref().map_or(m, Failure::to_string))),
            End::Budget(m) => (RunStatus::BudgetExceeded, None, Some(m)),
            End::Diverged => (RunStatus::Failed, None, Some("the replay diverged from its trace".to_string())),
        };
        if let Some(r) = self.replay.as_deref_mut() {
            // Where the run stopped: the current action of the last frame.
            let f = self.frames.last().expect("a run always has a frame");
            let a = &f.program.script.actions[f.pc.min(f.program.script.actions.len().saturating_sub(1))];
            let last = At { step: self.steps, script: &f.program.script.name, id: &a.id, caption: &a.caption };
            r.check_end(last, status.name(), ret.as_ref());
        }
        let divergence = self.replay.as_mut().and_then(|r| r.divergence.take());
        if let Some(t) = &mut self.trace {
            let written = t.end(RunEnd {
                status: status.name(),
                ret: ret.as_ref(),
                steps: self.steps,
                error: error.as_deref(),
                failure: failure.as_ref(),
                clock: self.clock.now(),
                notes: &self.notes,
            });
            self.notes.extend(written);
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
            failure,
            handled: self.handled,
            notes: self.notes,
            divergence,
        }
    }

    /// Write the `run` event; step durations count from here.
    fn start_trace(&mut self) {
        let Some(t) = &mut self.trace else { return };
        let program = &self.frames[0].program;
        t.run(RunHeader {
            script: &program.script,
            hash: &program.hash,
            params: &self.params_json,
            clock: &self.clock,
            tz: self.tz,
            seed: self.seed,
            budgets: &self.budgets,
            catalog: self.runtime.catalog_fingerprint(),
            principal: &self.principal,
        });
        self.events.mark_now();
    }
}

/// The outcome a canned answer stands for.
fn canned_outcome(c: Canned) -> Result<Outcome, ActionError> {
    if let Some(msg) = c.error {
        return Err(ActionError::Failed(msg));
    }
    let mut o = Outcome::branch(c.result);
    for (name, v) in c.outputs {
        o = o.output(name, v);
    }
    Ok(o)
}

/// Step `n` of a run, at `step` of `script`, as the replay comparison
/// names it.
fn at<'a>(n: u64, script: &'a str, step: &'a Step) -> At<'a> {
    At { step: n, script, id: &step.id, caption: &step.caption }
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
