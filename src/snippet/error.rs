//! The dialect's errors and limits: what went wrong in a snippet (with
//! its position), the budgets one evaluation runs under, the nesting the
//! parser accepts, and how a rhai failure reads as a dialect error.
//!
//! Every stage (parser, compiler, evaluator) reports through these, so the
//! module sits below all of them and imports none.

use crate::base::Pos;
use rhai::EvalAltResult;
use std::fmt;

/// Deepest nesting of snippet blocks (`IF`, loops) the parser accepts.
pub const MAX_DEPTH: usize = 48;

/// Deepest nesting the parser accepts in one expression or template:
/// parentheses, brackets, unary operators, operator chains (`1+1+1` nests
/// to the left), member and index chains, and `{}` substitutions with the
/// strings inside them, counted together across nested templates. Every
/// later recursion over the syntax tree (typing, compiling, evaluating,
/// dropping) is bounded by it, so no input can overflow the native stack,
/// and loading stays linear (a template re-reads each nested group once per
/// level). The compiled rhai form accepts less (64 levels), so real scripts
/// are far below this.
pub const MAX_NESTING: usize = 256;

/// What went wrong in a snippet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnippetErrorKind {
    /// The text does not parse or uses something unknown.
    Syntax,
    /// Evaluation failed (division by zero, bad JSON, ...).
    Runtime,
    /// A budget was hit (operations, string size, array size, call depth,
    /// nesting depth): the action takes `OnError`.
    Limit,
    /// A run-level budget ran out inside the evaluation (the run's
    /// memory): the run ends `budget_exceeded`.
    RunBudget,
    /// The text nests deeper than the parser allows: an error even where
    /// text that does not parse would otherwise stay literal.
    TooDeep,
}

/// An error in snippet text, with its position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct SnippetError {
    /// Kind of error.
    pub kind: SnippetErrorKind,
    /// Line and column in the snippet (or property) text.
    pub pos: Pos,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SnippetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.pos.line, self.pos.column, self.message)
    }
}

impl SnippetError {
    /// A syntax error.
    pub fn syntax(pos: Pos, message: impl Into<String>) -> SnippetError {
        SnippetError { kind: SnippetErrorKind::Syntax, pos, message: message.into() }
    }

    /// A runtime error.
    pub fn runtime(pos: Pos, message: impl Into<String>) -> SnippetError {
        SnippetError { kind: SnippetErrorKind::Runtime, pos, message: message.into() }
    }
}

/// Limits for one evaluation, taken from the run's budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most rhai operations per evaluation.
    pub operations: u64,
    /// Longest string, in bytes.
    pub string_size: usize,
    /// Most array elements.
    pub array_size: usize,
    /// Most object members.
    pub object_size: usize,
    /// Deepest function-call nesting.
    pub call_depth: usize,
    /// Deepest nesting of objects and arrays in a value.
    pub max_depth: u32,
    /// Bytes the evaluation's values may add to what the run already holds
    /// (the run's memory budget less what it holds when the snippet starts).
    pub memory: u64,
}

impl Limits {
    /// The value limits these imply.
    pub fn value_limits(&self) -> crate::value::ValueLimits {
        crate::value::ValueLimits {
            max_array: self.array_size,
            max_object: self.object_size,
            max_depth: self.max_depth.min(crate::value::HARD_DEPTH),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            operations: 1_000_000,
            string_size: 1 << 20,
            array_size: 1_000_000,
            object_size: 100_000,
            call_depth: 64,
            max_depth: crate::value::DEFAULT_MAX_DEPTH,
            memory: 256 << 20,
        }
    }
}

/// Translate a rhai failure into a dialect error at `pos`.
pub fn runtime_error(e: &EvalAltResult, pos: Pos, limits: &Limits) -> SnippetError {
    let limit = |message: String| SnippetError { kind: SnippetErrorKind::Limit, pos, message };
    match e {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => runtime_error(inner, pos, limits),
        EvalAltResult::ErrorRuntime(msg, _) => SnippetError::runtime(pos, msg.to_string()),
        EvalAltResult::ErrorTooManyOperations(_) => {
            limit(format!("snippet operations budget exceeded ({} operations)", limits.operations))
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let (name, n) = if what.contains("Array") {
                ("array size", limits.array_size)
            } else if what.contains("Map") || what.contains("Object") {
                ("object size", limits.object_size)
            } else {
                ("string size", limits.string_size)
            };
            limit(format!("{name} budget exceeded (limit {n})"))
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            limit(format!("call depth budget exceeded (limit {})", limits.call_depth))
        }
        EvalAltResult::ErrorTerminated(token, _) if token.is_string() => {
            SnippetError { kind: SnippetErrorKind::RunBudget, pos, message: token.to_string() }
        }
        EvalAltResult::ErrorTerminated(..) => limit("the run's wall-clock budget ran out".into()),
        other => SnippetError::runtime(pos, other.to_string()),
    }
}
