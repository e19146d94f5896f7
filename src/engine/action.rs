//! The contract between the engine and every action, built-in or host-made.
//!
//! An action is one type implementing [`Action`]: its manifest name, and an
//! `execute` that receives resolved, typed [`Inputs`] and a [`Context`] (the
//! run's variables, clock, store, budgets and trace) and returns an
//! [`Outcome`]: the result branch to take and the outputs to write. A branch
//! such as `InvalidSource` is a normal outcome; an [`ActionError`] is a
//! failure, which the engine turns into the `OnError` branch with `_ERR`.

// `Action::execute` names the context, and actions import it from here.
pub use super::context::Context;
use crate::catalog::Manifest;
use crate::script::check::PropPlan;
use crate::snippet::{CompiledExpr, SnippetError, Template};
use crate::value::{Str, Value, VarTarget};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// A boxed future returned by asynchronous actions.
pub type ActionFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, ActionError>> + Send + 'a>>;

/// What `execute` returns: a finished result (most actions) or a future
/// (actions that wait or talk to the store).
#[non_exhaustive]
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
    /// A snippet failed while it ran: an expression, a `{}` substitution
    /// or SNIPPET code. Its text is the message; the rest says where.
    #[error("{}", .0.message)]
    Snippet(SnippetFault),
}

/// Where a snippet failure happened, as far as the snippet knows: the
/// property, and the line and column inside its text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnippetFault {
    /// The failing property, when known.
    pub property: Option<String>,
    /// Line inside the property's text, when known.
    pub line: Option<u32>,
    /// Column inside the property's text, when known.
    pub column: Option<u32>,
    /// The failure as `_ERR` holds it.
    pub message: String,
}

impl SnippetFault {
    /// A failure with `message` and no place yet.
    pub fn new(message: impl Into<String>) -> SnippetFault {
        SnippetFault { property: None, line: None, column: None, message: message.into() }
    }

    /// At `line` (and `column`, when known) inside the property's text.
    pub fn at(mut self, line: u32, column: Option<u32>) -> SnippetFault {
        self.line = Some(line);
        self.column = column;
        self
    }

    /// In property `name`.
    pub fn in_property(mut self, name: impl Into<String>) -> SnippetFault {
        self.property = Some(name.into());
        self
    }
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
            SnippetErrorKind::Syntax => ActionError::Snippet(
                SnippetFault::new(format!("column {}: {}", e.pos.column, e.message)).at(e.pos.line, Some(e.pos.column)),
            ),
            SnippetErrorKind::RunBudget => ActionError::Budget(e.message),
            // A runtime error's position is where its expression starts,
            // not where it failed inside it: no place is better than a
            // wrong one.
            _ => ActionError::Snippet(SnippetFault::new(e.message)),
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
