//! The [`Context`] an action receives: what it can see and do of its run.
//!
//! It lends the action the run's state (`RunCore`) for one execution;
//! every method is a narrow door onto it (variables, evaluation, clock,
//! random numbers, trace notes, SPAWN, the store).

use super::action::ActionError;
use super::state::RunCore;
use crate::snippet::{CompiledExpr, Template};
use crate::value::{Value, VarTarget};
use std::time::Duration;

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

    /// A domain store and the run's business unit id, which scopes every
    /// read and write through it (what each pack's `ctx.<pack>()` gives).
    pub async fn unit_domain<T: ?Sized + Send + Sync + 'static>(
        &self,
    ) -> Result<(std::sync::Arc<T>, i64), ActionError> {
        let store = self.domain::<T>().await?;
        Ok((store, self.unit_id().await?))
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
