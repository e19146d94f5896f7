//! The runtime library the compiled rhai code calls.
//!
//! Every dialect operator compiles to one of these functions (`__add`,
//! `__eq`, `__m` for members, ...), so rhai's own operator semantics never
//! leak into scripts: arithmetic reads numeric text and drops operands that
//! are not numbers, `=` compares numerically when both sides are numbers,
//! arrays start at 1. Built-in functions are registered as `__f_<name>`.
//!
//! Per-evaluation context (the run's clock reading and its random-number
//! state) lives in a thread-local [`EvalEnv`], set by the evaluator around
//! each call; rhai native functions have no other way to reach the run.

use crate::value::{Str, Value, ValueLimits, format_number, parse_number};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString};
use std::cell::RefCell;

pub(crate) type R<T> = Result<T, Box<EvalAltResult>>;

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

pub(crate) fn err<T>(msg: impl Into<String>) -> R<T> {
    Err(msg.into().into())
}

/// Numeric reading of a rhai value: numbers, numeric text.
#[inline]
pub fn num(d: &Dynamic) -> Option<f64> {
    if let Ok(f) = d.as_float() {
        return Some(f);
    }
    if let Some(s) = d.read_lock::<ImmutableString>() {
        return parse_number(&s);
    }
    if let Ok(i) = d.as_int() {
        return Some(i as f64);
    }
    if let Some(v) = d.read_lock::<Value>() {
        return v.as_number();
    }
    None
}

/// Text form of a rhai value, as the dialect prints it.
#[inline]
pub fn text(d: &Dynamic) -> Str {
    if let Some(s) = d.read_lock::<ImmutableString>() {
        return s.clone();
    }
    if let Ok(f) = d.as_float() {
        return format_number(f).into();
    }
    Value::from_dynamic(d.clone()).to_text()
}

pub(crate) fn value(d: Dynamic) -> Value {
    Value::from_dynamic(d)
}

pub(crate) fn whole(d: &Dynamic, what: &str) -> R<i64> {
    match num(d) {
        Some(n) if n.is_finite() => Ok(n.trunc() as i64),
        _ => err(format!("{what} must be a number, got '{}'", text(d))),
    }
}

fn arith(a: &Dynamic, b: &Dynamic, f: impl Fn(f64, f64) -> R<f64>, left_only: impl Fn(f64) -> f64) -> R<Dynamic> {
    let r = match (num(a), num(b)) {
        (Some(x), Some(y)) => f(x, y)?,
        (Some(x), None) => x,
        (None, Some(y)) => left_only(y),
        (None, None) => 0.0,
    };
    Ok(Dynamic::from_float(r))
}

fn add(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    arith(&a, &b, |x, y| Ok(x + y), |y| y)
}
fn sub(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    arith(&a, &b, |x, y| Ok(x - y), |y| -y)
}
fn mul(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    arith(&a, &b, |x, y| Ok(x * y), |y| y)
}
fn div(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    arith(
        &a,
        &b,
        |x, y| {
            if y == 0.0 { err("division by zero") } else { Ok(x / y) }
        },
        |y| y,
    )
}
fn idiv(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    arith(
        &a,
        &b,
        |x, y| {
            let (x, y) = (x.trunc(), y.trunc());
            if y == 0.0 { err("division by zero") } else { Ok((x / y).trunc()) }
        },
        |y| y,
    )
}
fn modulo(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    arith(
        &a,
        &b,
        |x, y| {
            if y == 0.0 { err("division by zero (% 0)") } else { Ok(x % y) }
        },
        |y| y,
    )
}
fn pow(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    arith(&a, &b, |x, y| Ok(x.powf(y)), |y| y)
}
fn xor(a: Dynamic, b: Dynamic) -> R<Dynamic> {
    match (num(&a), num(&b)) {
        (Some(x), Some(y)) => Ok(Dynamic::from_float(((x.trunc() as i64) ^ (y.trunc() as i64)) as f64)),
        _ => Ok(Dynamic::from_bool(truthy(&a) ^ truthy(&b))),
    }
}
fn neg(a: Dynamic) -> Dynamic {
    Dynamic::from_float(-num(&a).unwrap_or(0.0))
}

/// Truthiness of a rhai value (see [`Value::truthy`]).
#[inline]
pub fn truthy(d: &Dynamic) -> bool {
    if let Ok(b) = d.as_bool() {
        return b;
    }
    if let Ok(f) = d.as_float() {
        return f != 0.0;
    }
    if d.is_unit() {
        return false;
    }
    value(d.clone()).truthy()
}

fn eq(a: Dynamic, b: Dynamic) -> bool {
    if let (Ok(x), Ok(y)) = (a.as_float(), b.as_float()) {
        return x == y;
    }
    value(a).loose_eq(&value(b))
}
fn cmp(a: Dynamic, b: Dynamic) -> std::cmp::Ordering {
    if let (Ok(x), Ok(y)) = (a.as_float(), b.as_float()) {
        return x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
    }
    value(a).loose_cmp(&value(b))
}

/// Member access `o.name`. Missing members read as empty. `size`, `count`
/// and `length` give the element count unless the object has such a member;
/// `$value` gives the value itself.
fn member(o: Dynamic, name: ImmutableString) -> Dynamic {
    if name.as_str() == "$value" {
        return o;
    }
    member_of(&value(o), &name).to_dynamic()
}

/// [`member`] on a value: also read directly, without rhai, for a
/// template that is nothing but a member chain.
pub(crate) fn member_of(v: &Value, name: &str) -> Value {
    if name == "$value" {
        return v.clone();
    }
    if let Some(m) = v.member(name) {
        return m.clone();
    }
    match name.to_ascii_lowercase().as_str() {
        "size" | "count" | "length" => Value::Number(v.count() as f64),
        _ => Value::Null,
    }
}

/// Index access `o[i]`: 1-based for arrays and `|`-delimited text, by name
/// for objects.
fn index(o: Dynamic, i: Dynamic) -> R<Dynamic> {
    let v = value(o);
    if let Value::Object(obj) = &v
        && num(&i).is_none()
    {
        return Ok(obj.get(text(&i).as_str()).map(Value::to_dynamic).unwrap_or(Dynamic::UNIT));
    }
    let n = whole(&i, "an index")?;
    Ok(v.index(n).map(|x| x.to_dynamic()).unwrap_or(Dynamic::UNIT))
}

fn s(d: Dynamic) -> ImmutableString {
    text(&d)
}
fn t(d: Dynamic) -> bool {
    truthy(&d)
}

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

pub use super::builtins::{BUILTINS, builtin, builtin_type};

/// Round half away from zero (the product's `round`), to `digits` decimals.
pub(crate) fn round_half_away(x: f64, digits: i32) -> f64 {
    if !x.is_finite() || digits > 15 {
        // Beyond 15 digits there is nothing left to round in an f64.
        return x;
    }
    let m = 10f64.powi(digits);
    if m == 0.0 {
        // Rounding to 10^309 or coarser: every finite number is 0.
        return 0.0;
    }
    let scaled = x.abs() * m;
    if scaled >= 4_503_599_627_370_496.0 {
        // 2^52: already whole at this scale; rounding would only add error.
        return x;
    }
    // A fraction within a few units in the last place of one half is a
    // decimal half blurred by binary representation (2.675 * 100 is
    // 267.49999999999997): it rounds up as written. Nothing else moves.
    let whole = scaled.floor();
    let tolerance = (8.0 * f64::EPSILON * scaled).min(0.25);
    let r = if scaled - whole >= 0.5 - tolerance { whole + 1.0 } else { whole };
    x.signum() * r / m
}

thread_local! {
    /// Lines written by TRACE statements during the current snippet.
    pub(crate) static TRACES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// Value limits of the current evaluation.
    pub(crate) static VALUE_LIMITS: std::cell::Cell<ValueLimits> = const {
        std::cell::Cell::new(ValueLimits { max_array: 1_000_000, max_object: 100_000, max_depth: crate::value::DEFAULT_MAX_DEPTH })
    };
    /// Bytes the current evaluation may still add to the run's values
    /// (goes below zero when the run's memory budget is spent).
    pub(crate) static MEMORY_LEFT: std::cell::Cell<i64> = const { std::cell::Cell::new(i64::MAX) };
}

/// Set the limits of an evaluation about to start on this thread.
pub(crate) fn enter(limits: &super::Limits) {
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

/// Helpers the statement compiler calls.
fn register_statement_helpers(e: &mut Engine) {
    e.register_fn("__num", |x: Dynamic| num(&x).unwrap_or(0.0));
    e.register_fn("__num", |x: f64| x);
    e.register_fn("__forstep", |step: f64, from: f64, to: f64| -> R<f64> {
        let m = step.abs();
        if m == 0.0 || !m.is_finite() {
            return err("FOR: STEP must be a number other than 0");
        }
        Ok(if to < from { -m } else { m })
    });
    // How many times a FOR body runs: at least once, then while the counter
    // has not passed the bound.
    e.register_fn("__forcount", |from: f64, to: f64, step: f64| -> R<rhai::INT> {
        if !from.is_finite() || !to.is_finite() {
            return err("FOR: the bounds must be numbers");
        }
        let n = ((to - from) / step).floor();
        if n > 1e12 {
            return err("FOR: too many iterations");
        }
        Ok(n.max(0.0) as rhai::INT + 1)
    });
    e.register_fn("__obj", Value::object);
    e.register_fn("__trace", |s: ImmutableString| {
        TRACES.with(|t| t.borrow_mut().push(s.to_string()));
    });
    e.register_fn("__iter", |x: Dynamic| -> rhai::Array {
        match value(x) {
            Value::Null => Vec::new(),
            Value::Array(items) => items.iter().map(Value::to_dynamic).collect(),
            Value::Object(o) => o.values().map(Value::to_dynamic).collect(),
            Value::Text(t) if t.is_empty() => Vec::new(),
            Value::Text(t) => t.split('|').map(|s| Dynamic::from(ImmutableString::from(s))).collect(),
            scalar => vec![scalar.to_dynamic()],
        }
    });
    e.register_fn("__setp", |target: &mut Dynamic, path: rhai::Array, v: Dynamic| -> R<()> {
        let mut segs = Vec::with_capacity(path.len());
        for p in &path {
            if let Some(s) = p.read_lock::<ImmutableString>() {
                match parse_number(&s) {
                    Some(n) if n.fract() == 0.0 && n >= 1.0 => segs.push(crate::value::PathSeg::Index(n as usize)),
                    _ => segs.push(crate::value::PathSeg::Member(s.to_string())),
                }
                continue;
            }
            match num(p) {
                Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= usize::MAX as f64 => {
                    segs.push(crate::value::PathSeg::Index(n as usize))
                }
                Some(n) => return err(format!("array index {} is not a whole number from 1", format_number(n))),
                None => return err("an index must be a number or a member name"),
            }
        }
        let limits = VALUE_LIMITS.with(|c| c.get());
        // Moved out, not cloned: the variable's value is usually its only
        // holder, so the change below needs no copy.
        let mut t = value(std::mem::replace(target, Dynamic::UNIT));
        let before = t.extent().bytes as i64;
        let set = crate::value::set_path(&mut t, &segs, value(v), &limits);
        let after = t.extent().bytes as i64;
        *target = t.to_dynamic();
        set.map_err(|e| -> Box<EvalAltResult> { e.to_string().into() })?;
        grow(after - before)
    });
}

/// Build an engine with the dialect's runtime library. Each worker thread
/// gets its own (a shared engine serialises on its string interner).
pub fn build_engine() -> Engine {
    let mut e = Engine::new();
    e.set_max_strings_interned(0);
    e.set_max_expr_depths(128, 64);
    e.set_max_call_levels(64);
    e.disable_symbol("eval");
    e.on_print(|_| {});
    e.on_debug(|_, _, _| {});
    e.register_type_with_name::<Value>("Object");
    e.register_fn("__s", s);
    e.register_fn("__t", t);
    e.register_fn("__add", add);
    e.register_fn("__sub", sub);
    e.register_fn("__mul", mul);
    e.register_fn("__div", div);
    e.register_fn("__idiv", idiv);
    e.register_fn("__mod", modulo);
    e.register_fn("__pow", pow);
    e.register_fn("__xor", xor);
    e.register_fn("__neg", neg);
    e.register_fn("__eq", eq);
    e.register_fn("__ne", |a: Dynamic, b: Dynamic| !eq(a, b));
    e.register_fn("__lt", |a: Dynamic, b: Dynamic| cmp(a, b).is_lt());
    e.register_fn("__le", |a: Dynamic, b: Dynamic| cmp(a, b).is_le());
    e.register_fn("__gt", |a: Dynamic, b: Dynamic| cmp(a, b).is_gt());
    e.register_fn("__ge", |a: Dynamic, b: Dynamic| cmp(a, b).is_ge());
    // Exact-type overloads for the common all-number case: rhai finds them
    // on its first lookup instead of searching the `Dynamic` fallbacks.
    // They compute exactly what the general versions compute for numbers.
    e.register_fn("__add", |a: f64, b: f64| a + b);
    e.register_fn("__sub", |a: f64, b: f64| a - b);
    e.register_fn("__mul", |a: f64, b: f64| a * b);
    e.register_fn("__eq", |a: f64, b: f64| a == b);
    e.register_fn("__ne", |a: f64, b: f64| a != b);
    e.register_fn("__lt", |a: f64, b: f64| a < b);
    e.register_fn("__le", |a: f64, b: f64| a <= b);
    e.register_fn("__gt", |a: f64, b: f64| a > b);
    e.register_fn("__ge", |a: f64, b: f64| a >= b);
    e.register_fn("__t", |b: bool| b);
    e.register_fn("__div", |a: f64, b: f64| -> R<f64> {
        if b == 0.0 { err("division by zero") } else { Ok(a / b) }
    });
    e.register_fn("__mod", |a: f64, b: f64| -> R<f64> {
        if b == 0.0 { err("division by zero (% 0)") } else { Ok(a % b) }
    });
    e.register_fn("__idiv", |a: f64, b: f64| -> R<f64> {
        let (a, b) = (a.trunc(), b.trunc());
        if b == 0.0 { err("division by zero") } else { Ok((a / b).trunc()) }
    });
    e.register_fn("__pow", |a: f64, b: f64| a.powf(b));
    e.register_fn("__s", |x: f64| -> ImmutableString { format_number(x).into() });
    e.register_fn("__s", |x: ImmutableString| x);
    e.register_fn("__m", member);
    e.register_fn("__ix", index);
    register_statement_helpers(&mut e);
    super::builtins::register(&mut e);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_half_away(2.5, 0), 3.0);
        assert_eq!(round_half_away(-2.5, 0), -3.0);
        assert_eq!(round_half_away(2.4, 0), 2.0);
        assert_eq!(round_half_away(2.675, 2), 2.68);
        assert_eq!(round_half_away(1.234, 1), 1.2);
        assert_eq!(round_half_away(1.5, 100_000_000), 1.5, "round_with_huge_digits_is_not_inexact");
        assert_eq!(round_half_away(1.5, 10), 1.5);
        assert_eq!(round_half_away(-1234.5, -2), -1200.0);
        assert_eq!(round_half_away(1234.5, i32::MIN), 0.0);
    }
}
