//! What one evaluation may read and spend beyond its variables: the run's
//! clock and random-number state ([`EvalEnv`]), the TRACE lines it writes,
//! its value limits and what is left of the run's memory budget.
//!
//! All of it lives in thread-locals set by the evaluator around each call:
//! rhai native functions have no other way to reach the run. The module
//! sits below the runtime library and the built-ins, which read it.

use super::coerce::{R, err};
use super::error::Limits;
use crate::value::ValueLimits;
use rhai::{Dynamic, EvalAltResult, ImmutableString};
use std::cell::{Cell, RefCell};

/// Context a snippet evaluation may read: the run's local time and its
/// random-number generator state.
#[derive(Clone, Debug)]
pub struct EvalEnv {
    /// The run's clock reading.
    pub now: chrono::DateTime<chrono::Utc>,
    /// The run's time zone (for local-time functions).
    pub tz: chrono_tz::Tz,
    /// State of the run's random-number generator.
    pub rng: u64,
    /// Random numbers drawn during the evaluation (for the trace).
    pub drawn: Vec<f64>,
}

impl Default for EvalEnv {
    fn default() -> Self {
        EvalEnv { now: chrono::DateTime::default(), tz: chrono_tz::UTC, rng: 0x9E37_79B9_7F4A_7C15, drawn: Vec::new() }
    }
}

thread_local! {
    pub(crate) static ENV: RefCell<EvalEnv> = RefCell::new(EvalEnv::default());
}

/// Generated names of the functions that read [`EvalEnv`]; expressions
/// that call none of them skip setting it up.
pub const ENV_FUNCTIONS: [&str; 2] = ["__f_now(", "__f_random("];

/// Draw a random number in [0, 1) from `env`'s generator (recorded in
/// `env.drawn` for the trace).
pub fn draw(env: &mut EvalEnv) -> f64 {
    // splitmix64: small, seedable, and good enough for dialing demos.
    env.rng = env.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = env.rng;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let f = (z >> 11) as f64 / (1u64 << 53) as f64;
    env.drawn.push(f);
    f
}

thread_local! {
    /// Lines written by TRACE statements during the current snippet.
    pub(crate) static TRACES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Value limits of the current evaluation.
    pub(crate) static VALUE_LIMITS: Cell<ValueLimits> = const {
        Cell::new(ValueLimits { max_array: 1_000_000, max_object: 100_000, max_depth: crate::value::DEFAULT_MAX_DEPTH })
    };
    /// Bytes the current evaluation may still add to the run's values
    /// (goes below zero when the run's memory budget is spent).
    pub(crate) static MEMORY_LEFT: Cell<i64> = const { Cell::new(i64::MAX) };
}

/// Set the limits of an evaluation about to start on this thread.
pub(crate) fn enter(limits: &Limits) {
    VALUE_LIMITS.with(|c| c.set(limits.value_limits()));
    MEMORY_LEFT.with(|c| c.set(i64::try_from(limits.memory).unwrap_or(i64::MAX)));
}

/// Refuse a value that would nest deeper than the current limit.
pub(crate) fn check_depth(depth: u32) -> R<()> {
    let max = VALUE_LIMITS.with(|c| c.get()).max_depth;
    if depth > max {
        return err(crate::value::PathError::TooDeep(max).to_string());
    }
    Ok(())
}

/// Count `delta` bytes the evaluation added to the run's values; past the
/// run's memory budget the evaluation stops and the run ends
/// `budget_exceeded` (a run-level budget, not the action's).
pub(crate) fn grow(delta: i64) -> R<()> {
    let left = MEMORY_LEFT.with(|c| {
        let left = c.get().saturating_sub(delta);
        c.set(left);
        left
    });
    if left < 0 {
        return Err(Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from(ImmutableString::from(MEMORY_MESSAGE)),
            rhai::Position::NONE,
        )));
    }
    Ok(())
}

/// What a snippet that spent the run's memory budget reports.
pub const MEMORY_MESSAGE: &str = "memory budget exceeded: the run's values grew past its limit";
