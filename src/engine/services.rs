//! What a run offers its actions (through [`super::context::Context`])
//! and its own loop: variables, expression, template and snippet
//! evaluation, the clock, random numbers, SPAWN, input resolution and the
//! memory estimate.
//!
//! These are [`RunCore`] methods kept apart from the loop in `run.rs`:
//! the loop decides what runs next, this file what one step can reach.

use super::action::{ActionError, SnippetFault};
use super::program::Step;
use super::state::{RunCore, Start};
use crate::script::check::{DynamicPlan, PropPlan, type_value};
use crate::snippet::compile::VarSlot;
use crate::snippet::{self, CompiledExpr, EvalEnv, SnippetError, Template, VarSource};
use crate::value::{Value, VarTarget, set_path};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

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

impl RunCore {
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

    pub(super) fn env(&self) -> EvalEnv {
        EvalEnv { now: self.step_now, tz: self.tz, rng: self.rng, drawn: Vec::new() }
    }

    pub(super) fn after_eval(&mut self, env: EvalEnv) {
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
            // The line is the snippet's own; the column would be where the
            // generated code failed, which the author never wrote.
            Some(e) => Err(ActionError::Snippet(
                SnippetFault::new(format!("line {}: {}", e.pos.line, e.message)).at(e.pos.line, None),
            )),
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
            principal: self.principal.clone(),
            spawn_depth: self.spawn_depth + 1,
            spawn_total: self.spawn_total.clone(),
        };
        let mut core = RunCore::new(self.runtime.clone(), start);
        core.slot = Some(slot);
        self.runtime.spawn_core(core).map_err(ActionError::failed)?;
        Ok(id)
    }

    pub(super) fn wall_message(&self) -> String {
        format!("wall-clock budget exceeded ({} s)", self.budgets.wall_clock.as_secs_f64())
    }

    /// Resolve an action's inputs according to their types.
    pub(super) fn resolve(&mut self, step: &Step) -> Result<Vec<Value>, ActionError> {
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

    pub(super) fn memory_message(&self) -> String {
        format!(
            "memory budget exceeded: the run's values hold about {} MiB (limit {} MiB)",
            self.held_bytes().max(self.budgets.max_memory) >> 20,
            self.budgets.max_memory >> 20
        )
    }
}

fn input_error(name: &str, e: SnippetError) -> ActionError {
    let fault = SnippetFault::new(format!("property {name}: {}", e.message)).in_property(name);
    // Only a syntax error knows its place inside the text (a runtime
    // error's position is where the expression starts).
    ActionError::Snippet(match e.kind {
        snippet::SnippetErrorKind::Syntax => fault.at(e.pos.line, Some(e.pos.column)),
        _ => fault,
    })
}
