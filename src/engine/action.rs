//! The contract between the engine and every action, built-in or host-made.
//!
//! An action is one type implementing [`Action`]: its manifest name, and an
//! `execute` that receives resolved, typed [`Inputs`] and a [`Context`] (the
//! run's variables, clock, store, budgets and trace) and returns an
//! [`Outcome`]: the result branch to take and the outputs to write. A branch
//! such as `InvalidSource` is a normal outcome; an [`ActionError`] is a
//! failure, which the engine turns into the `OnError` branch with `_ERR`.

use super::run::RunCore;
use crate::catalog::Manifest;
use crate::script::check::PropPlan;
use crate::snippet::{CompiledExpr, SnippetError, Template};
use crate::value::{Str, Value, VarTarget};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future returned by asynchronous actions.
pub type ActionFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, ActionError>> + Send + 'a>>;

/// What `execute` returns: a finished result (most actions) or a future
/// (actions that wait or talk to the store).
pub enum Exec<'a> {
    /// Already done.
    Ready(Result<Outcome, ActionError>),
    /// Still running.
    Pending(ActionFuture<'a>),
}

impl<'a> Exec<'a> {
    /// Wrap an async block.
    pub fn pending(f: impl Future<Output = Result<Outcome, ActionError>> + Send + 'a) -> Exec<'a> {
        Exec::Pending(Box::pin(f))
    }

    /// Finish by taking `branch`.
    pub fn branch(name: impl Into<Cow<'static, str>>) -> Exec<'a> {
        Exec::Ready(Ok(Outcome::branch(name)))
    }

    /// Fail with `message` (the engine takes OnError with `_ERR` set).
    pub fn fail(message: impl Into<String>) -> Exec<'a> {
        Exec::Ready(Err(ActionError::Failed(message.into())))
    }
}

impl From<Result<Outcome, ActionError>> for Exec<'_> {
    fn from(r: Result<Outcome, ActionError>) -> Self {
        Exec::Ready(r)
    }
}

/// An action implementation.
pub trait Action: Send + Sync + 'static {
    /// The action type name of its manifest (`ASSIGN`, `CREATEPROSPECTS`).
    fn name(&self) -> &str;

    /// The manifest version it implements.
    fn version(&self) -> u32 {
        1
    }

    /// Run the action once.
    fn execute<'a>(&'a self, ctx: &'a mut Context<'_>, inputs: &'a Inputs<'_>) -> Exec<'a>;
}

/// A failure inside an action. Every cause but [`ActionError::Budget`]
/// makes the engine take `OnError` with the message in `_ERR`; a budget
/// ends the run `budget_exceeded`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The action could not do its job.
    #[error("{0}")]
    Failed(String),
    /// An input the action cannot work with (a value, not a store fault).
    #[error("{0}")]
    Input(String),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The run's principal may not do this.
    #[error("{0}")]
    Permission(String),
    /// A run-level budget ran out: the run ends with `budget_exceeded`.
    #[error("{0}")]
    Budget(String),
}

impl ActionError {
    /// A failure with `message`.
    pub fn failed(message: impl Into<String>) -> ActionError {
        ActionError::Failed(message.into())
    }

    /// An input the action cannot work with.
    pub fn input(message: impl Into<String>) -> ActionError {
        ActionError::Input(message.into())
    }
}

impl From<SnippetError> for ActionError {
    fn from(e: SnippetError) -> ActionError {
        use crate::snippet::SnippetErrorKind;
        match e.kind {
            SnippetErrorKind::Syntax => ActionError::Failed(format!("column {}: {}", e.pos.column, e.message)),
            SnippetErrorKind::RunBudget => ActionError::Budget(e.message),
            _ => ActionError::Failed(e.message),
        }
    }
}

/// Control requests only the engine can carry out (built-in actions only).
#[derive(Clone, Debug)]
pub(crate) enum Control {
    /// End the whole run (END, HANGUP, EXIT).
    End,
    /// Return from the current script (RETURN).
    Return(Value),
    /// Run a sub script and come back (RUNSUB).
    Call { script: String, params: Vec<Value>, return_var: Option<VarTarget> },
    /// Continue in another script, keeping variables (RUNSCRIPT).
    Transfer { script: String },
}

/// The result of one execution: the branch to take and outputs to write.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub(crate) branch: Cow<'static, str>,
    pub(crate) outputs: Vec<(Cow<'static, str>, Value)>,
    // Boxed: most outcomes carry no control request, and a small Outcome
    // is cheap to move through the run loop.
    pub(crate) control: Option<Box<Control>>,
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome::branch("Default")
    }
}

impl Outcome {
    /// Take the branch named `name` (a manifest branch or a custom value).
    pub fn branch(name: impl Into<Cow<'static, str>>) -> Outcome {
        Outcome { branch: name.into(), outputs: Vec::new(), control: None }
    }

    /// Write `value` to the output property `name`.
    pub fn output(mut self, name: impl Into<Cow<'static, str>>, value: Value) -> Outcome {
        self.outputs.push((name.into(), value));
        self
    }

    /// The branch name.
    pub fn branch_name(&self) -> &str {
        &self.branch
    }

    pub(crate) fn with_control(mut self, c: Control) -> Outcome {
        self.control = Some(Box::new(c));
        self
    }
}

/// An action's inputs, resolved and typed according to its manifest.
pub struct Inputs<'p> {
    pub(crate) manifest: &'p Manifest,
    pub(crate) plans: &'p [PropPlan],
    pub(crate) values: Vec<Value>,
}

impl<'p> Inputs<'p> {
    fn index(&self, name: &str) -> Option<usize> {
        // Actions ask by canonical name: an exact comparison finds it first.
        let exact = self.manifest.inputs.iter().position(|p| p.name == name);
        exact.or_else(|| self.manifest.input_index(name)).or_else(|| self.manifest.input(name).map(|(i, _)| i))
    }

    /// The resolved value of input `name` (`Null` when absent).
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        let Some(i) = self.index(name) else { return &NULL };
        // Literals were typed when the script was linked: read them in place.
        match self.plans.get(i) {
            Some(PropPlan::Literal(_, v)) => v,
            _ => self.values.get(i).unwrap_or(&NULL),
        }
    }

    /// Whether the script gave `name` (or the manifest has a default).
    pub fn is_given(&self, name: &str) -> bool {
        self.index(name).is_some_and(|i| !matches!(self.plans.get(i), Some(PropPlan::Absent) | None))
    }

    /// Input as text.
    pub fn text(&self, name: &str) -> Str {
        self.get(name).to_text()
    }

    /// Input as a number (typed inputs are already numbers).
    pub fn number(&self, name: &str) -> Option<f64> {
        self.get(name).as_number()
    }

    /// Input as a boolean.
    pub fn boolean(&self, name: &str) -> bool {
        self.get(name).truthy()
    }

    /// A `variable` input's target.
    pub fn variable(&self, name: &str) -> Option<&'p VarTarget> {
        match self.index(name).and_then(|i| self.plans.get(i)) {
            Some(PropPlan::Variable(t)) => Some(t),
            _ => None,
        }
    }

    /// A `list` input's items.
    pub fn list(&self, name: &str) -> Vec<Value> {
        match self.get(name) {
            Value::Array(a) => a.to_vec(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        }
    }

    /// A lazy input, as the action reads it: its text with `{}` parts, and
    /// the expression it compiles to when it parses as one (ASSIGN decides
    /// which by its `Type`).
    pub fn lazy(&self, name: &str) -> Option<(&'p Template, Option<&'p CompiledExpr>)> {
        match self.index(name).and_then(|i| self.plans.get(i)) {
            Some(PropPlan::Lazy(t, e)) => Some((t, e.as_deref())),
            _ => None,
        }
    }

    /// A `code` input, compiled (SNIPPET).
    pub fn snippet(&self, name: &str) -> Option<&'p crate::snippet::CompiledSnippet> {
        match self.index(name).and_then(|i| self.plans.get(i)) {
            Some(PropPlan::Snippet(code)) => Some(code),
            _ => None,
        }
    }
}

/// How a step's inputs appear in its trace events, rendered once per step:
/// members whose text cannot change between visits (literals, variable
/// targets, code) are kept as text, so a loop neither re-escapes a
/// snippet's code nor walks every input at each pass.
#[derive(Debug)]
pub(crate) struct InputsJson(Box<[InputSeg]>);

#[derive(Debug)]
enum InputSeg {
    /// Consecutive fixed members, each after a comma: `,"a":…,"b":…`.
    Fixed(Box<[u8]>),
    /// Input `index`, written from the value resolved at each visit, after
    /// `member` (`"name":`).
    Dynamic { index: usize, member: Box<[u8]> },
}

impl InputsJson {
    /// The template for a step with this manifest and these plans.
    pub(crate) fn new(manifest: &Manifest, plans: &[PropPlan]) -> InputsJson {
        let mut segs = Vec::new();
        let mut fixed: Vec<u8> = Vec::new();
        for (i, spec) in manifest.inputs.iter().enumerate() {
            match plans.get(i) {
                // These resolve to nothing (`Null`) at every visit, and so
                // does every lazy input (see `RunCore::resolve`).
                p @ (Some(
                    PropPlan::Absent
                    | PropPlan::Literal(..)
                    | PropPlan::Variable(_)
                    | PropPlan::Snippet(_)
                    | PropPlan::Lazy(..),
                )
                | None) => write_fixed(&mut fixed, spec, p),
                p if spec.lazy => write_fixed(&mut fixed, spec, p),
                Some(_) => {
                    if !fixed.is_empty() {
                        segs.push(InputSeg::Fixed(std::mem::take(&mut fixed).into_boxed_slice()));
                    }
                    let mut member = Vec::new();
                    crate::value::write_json_str(&mut member, &spec.name);
                    member.push(b':');
                    segs.push(InputSeg::Dynamic { index: i, member: member.into_boxed_slice() });
                }
            }
        }
        if !fixed.is_empty() {
            segs.push(InputSeg::Fixed(fixed.into_boxed_slice()));
        }
        InputsJson(segs.into_boxed_slice())
    }

    /// Whether every member is the same at every visit.
    pub(crate) fn is_fixed(&self) -> bool {
        !self.0.iter().any(|s| matches!(s, InputSeg::Dynamic { .. }))
    }

    /// Write the inputs as a JSON object: variable targets by name,
    /// literals and resolved `values` as report JSON.
    pub(crate) fn write(&self, out: &mut Vec<u8>, values: &[Value]) {
        out.push(b'{');
        let start = out.len();
        for seg in self.0.iter() {
            match seg {
                // Fixed text starts with a comma, dropped for the first member.
                InputSeg::Fixed(text) => {
                    out.extend_from_slice(if out.len() == start { &text[1..] } else { text });
                }
                InputSeg::Dynamic { index, member } => {
                    if let Some(v) = values.get(*index) {
                        if out.len() > start {
                            out.push(b',');
                        }
                        out.extend_from_slice(member);
                        v.write_report_json(out);
                    }
                }
            }
        }
        out.push(b'}');
    }
}

/// Append `,"name":value` for an input that reads the same at every visit
/// (its resolved value is `Null`): variable targets by name, literals as
/// they are, `null` for the rest, and nothing for absent and lazy inputs.
fn write_fixed(out: &mut Vec<u8>, spec: &crate::catalog::InputSpec, plan: Option<&PropPlan>) {
    use crate::value::write_json_str;
    let member = |out: &mut Vec<u8>| {
        out.push(b',');
        write_json_str(out, &spec.name);
        out.push(b':');
    };
    match plan {
        Some(PropPlan::Absent) | None => {}
        Some(PropPlan::Variable(t)) => {
            member(out);
            write_json_str(out, &t.to_string());
        }
        Some(PropPlan::Literal(_, v)) => {
            member(out);
            v.write_report_json(out);
        }
        _ if spec.lazy => {}
        _ => {
            member(out);
            out.extend_from_slice(b"null");
        }
    }
}

/// What an action can see and do of its run.
pub struct Context<'c> {
    pub(crate) core: &'c mut RunCore,
}

impl Context<'_> {
    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.core.id
    }

    /// The current time on the run's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.core.step_now
    }

    /// The run's time zone (set by TIMEZONE).
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.core.tz
    }

    /// Change the run's time zone.
    pub fn set_timezone(&mut self, tz: chrono_tz::Tz) {
        self.core.tz = tz;
    }

    /// Read a variable of the current scope (`global:` names the root).
    pub fn var(&self, name: &str) -> Value {
        self.core.read_var(name)
    }

    /// Assign to a target (variable, `global:` variable, or member path).
    pub fn assign(&mut self, target: &VarTarget, value: Value) -> Result<(), ActionError> {
        self.core.assign(target, value)
    }

    /// Set a plain variable of the current scope.
    pub fn set_var(&mut self, name: &str, value: Value) {
        self.core.frame_mut().vars.set(name, value);
    }

    /// Evaluate a compiled expression in the run.
    pub fn eval(&mut self, expr: &CompiledExpr) -> Result<Value, ActionError> {
        Ok(self.core.eval_expr(expr)?)
    }

    /// Evaluate a compiled template in the run.
    pub fn eval_template(&mut self, t: &Template) -> Result<Value, ActionError> {
        Ok(self.core.eval_template(t)?)
    }

    /// Run a compiled snippet in the current scope (SNIPPET). `max_string`
    /// lowers the string-size budget for this snippet.
    pub fn run_snippet(
        &mut self,
        s: &crate::snippet::CompiledSnippet,
        max_string: Option<usize>,
    ) -> Result<(), ActionError> {
        self.core.run_snippet(s, max_string)
    }

    /// Compile and evaluate dialect text (cached per run by text).
    pub fn eval_text(&mut self, src: &str) -> Result<Value, ActionError> {
        let expr = self.core.compile_cached(src)?;
        self.eval(&expr)
    }

    /// Wait on the run's clock (virtual time advances without sleeping).
    pub async fn sleep(&mut self, d: Duration) -> Result<(), ActionError> {
        self.core.sleep(d).await
    }

    /// A random number in [0, 1) from the run's seeded generator.
    pub fn random(&mut self) -> f64 {
        self.core.random()
    }

    /// Add a note to this step's trace event.
    pub fn note(&mut self, text: impl Into<String>) {
        self.core.step_notes.push(text.into());
    }

    /// Record an answer from outside the script (store read, REST response)
    /// in the trace, so replay can give it back.
    pub fn record_answer(&mut self, what: &str, answer: serde_json::Value) {
        if self.core.trace.is_some() {
            self.core.step_answers.push(serde_json::json!({ "what": what, "answer": answer }));
        }
    }

    /// Per-action state kept across visits within a run (LOOP counters).
    pub fn state(&mut self) -> &mut Option<Value> {
        let frame = self.core.frame_mut();
        let pc = frame.pc;
        frame.state.entry(pc).or_insert(None)
    }

    /// Start another run of `script` concurrently with parameters p1..pN;
    /// returns its run id.
    pub fn spawn(&mut self, script: &str, params: Vec<Value>) -> Result<String, ActionError> {
        self.core.spawn(script, params)
    }

    /// The runtime's store (run log, business units), opened on first use.
    pub async fn store(&self) -> Result<std::sync::Arc<dyn crate::store::Store>, ActionError> {
        Ok(self.core.runtime.store().await?)
    }

    /// The `T` domain store (`dyn OutboundStore`, say): a host's own, or
    /// the one its pack made for the runtime's store. Packs wrap this in a
    /// typed accessor (`ctx.outbound()`).
    pub async fn domain<T: ?Sized + Send + Sync + 'static>(&self) -> Result<std::sync::Arc<T>, ActionError> {
        Ok(self.core.runtime.domain::<T>().await?)
    }

    /// The store id of the run's business unit: every domain read and
    /// write is scoped to it.
    pub async fn unit_id(&self) -> Result<i64, ActionError> {
        Ok(self.core.runtime.unit_id().await?)
    }

    /// The business unit the run works in.
    pub fn business_unit(&self) -> &str {
        self.core.runtime.business_unit()
    }
}
