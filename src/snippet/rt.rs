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

use crate::value::{Str, Value, format_number, parse_number};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString};
use std::cell::RefCell;
use std::sync::Arc;

type R<T> = Result<T, Box<EvalAltResult>>;

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

fn err<T>(msg: impl Into<String>) -> R<T> {
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

fn value(d: Dynamic) -> Value {
    Value::from_dynamic(d)
}

fn whole(d: &Dynamic, what: &str) -> R<i64> {
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
    let v = value(o);
    if let Some(m) = v.member(&name) {
        return m.to_dynamic();
    }
    match name.to_ascii_lowercase().as_str() {
        "size" | "count" | "length" => Dynamic::from_float(v.count() as f64),
        _ => Dynamic::UNIT,
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

/// Names and arities of the built-in functions (`name`, least and most
/// arguments).
pub const BUILTINS: &[(&str, usize, usize)] = &[
    ("len", 1, 1),
    ("left", 2, 2),
    ("right", 2, 2),
    ("mid", 2, 3),
    ("upper", 1, 1),
    ("lower", 1, 1),
    ("trim", 1, 1),
    ("replace", 3, 3),
    ("indexof", 2, 2),
    ("contains", 2, 2),
    ("abs", 1, 1),
    ("round", 1, 2),
    ("floor", 1, 1),
    ("ceiling", 1, 1),
    ("random", 1, 2),
    ("isnumeric", 1, 1),
    ("now", 0, 0),
    ("asjson", 1, 1),
    ("parsejson", 1, 1),
    ("count", 1, 1),
    ("append", 2, 2),
];

/// Whether `name` is a built-in function, and its arity range.
pub fn builtin(name: &str) -> Option<(usize, usize)> {
    let lower = name.to_ascii_lowercase();
    BUILTINS.iter().find(|(n, _, _)| *n == lower).map(|(_, a, b)| (*a, *b))
}

fn chars_of(d: &Dynamic) -> Vec<char> {
    text(d).chars().collect()
}

fn register_builtins(e: &mut Engine) {
    e.register_fn("__f_len", |x: Dynamic| Dynamic::from_float(text(&x).chars().count() as f64));
    e.register_fn("__f_left", |x: Dynamic, n: Dynamic| -> R<ImmutableString> {
        let n = whole(&n, "left(): the length")?.max(0) as usize;
        Ok(chars_of(&x).into_iter().take(n).collect::<String>().into())
    });
    e.register_fn("__f_right", |x: Dynamic, n: Dynamic| -> R<ImmutableString> {
        let n = whole(&n, "right(): the length")?.max(0) as usize;
        let c = chars_of(&x);
        Ok(c[c.len().saturating_sub(n)..].iter().collect::<String>().into())
    });
    fn mid(x: &Dynamic, start: &Dynamic, len: Option<&Dynamic>) -> R<ImmutableString> {
        let start = whole(start, "mid(): the start")?;
        if start < 1 {
            return err("mid(): the start counts from 1");
        }
        let c = chars_of(x);
        let from = ((start - 1) as usize).min(c.len());
        let to = match len {
            Some(l) => from.saturating_add(whole(l, "mid(): the length")?.max(0) as usize).min(c.len()),
            None => c.len(),
        };
        Ok(c[from..to].iter().collect::<String>().into())
    }
    e.register_fn("__f_mid", |x: Dynamic, a: Dynamic| mid(&x, &a, None));
    e.register_fn("__f_mid", |x: Dynamic, a: Dynamic, l: Dynamic| mid(&x, &a, Some(&l)));
    e.register_fn("__f_upper", |x: Dynamic| ImmutableString::from(text(&x).to_uppercase()));
    e.register_fn("__f_lower", |x: Dynamic| ImmutableString::from(text(&x).to_lowercase()));
    e.register_fn("__f_trim", |x: Dynamic| ImmutableString::from(text(&x).trim()));
    e.register_fn("__f_replace", |x: Dynamic, a: Dynamic, b: Dynamic| -> ImmutableString {
        let from = text(&a);
        if from.is_empty() {
            return text(&x);
        }
        text(&x).replace(from.as_str(), text(&b).as_str()).into()
    });
    e.register_fn("__f_indexof", |x: Dynamic, a: Dynamic| -> Dynamic {
        let hay = text(&x);
        let needle = text(&a);
        let pos = hay.find(needle.as_str()).map(|byte| hay[..byte].chars().count() + 1).unwrap_or(0);
        Dynamic::from_float(pos as f64)
    });
    e.register_fn("__f_contains", |x: Dynamic, a: Dynamic| -> bool {
        match value(x) {
            Value::Array(items) => {
                let probe = value(a);
                items.iter().any(|v| v.loose_eq(&probe))
            }
            other => other.to_text().contains(text(&a).as_str()),
        }
    });
    e.register_fn("__f_abs", |x: Dynamic| Dynamic::from_float(num(&x).unwrap_or(0.0).abs()));
    e.register_fn("__f_round", |x: Dynamic| Dynamic::from_float(round_half_away(num(&x).unwrap_or(0.0), 0)));
    e.register_fn("__f_round", |x: Dynamic, d: Dynamic| -> R<Dynamic> {
        let digits = whole(&d, "round(): the number of digits")?.clamp(0, 15) as i32;
        Ok(Dynamic::from_float(round_half_away(num(&x).unwrap_or(0.0), digits)))
    });
    e.register_fn("__f_floor", |x: Dynamic| Dynamic::from_float(num(&x).unwrap_or(0.0).floor()));
    e.register_fn("__f_ceiling", |x: Dynamic| Dynamic::from_float(num(&x).unwrap_or(0.0).ceil()));
    e.register_fn("__f_random", |max: Dynamic| -> R<Dynamic> {
        let max = whole(&max, "random(): the limit")?;
        if max < 1 {
            return err("random(): the limit must be at least 1");
        }
        let f = ENV.with(|env| draw(&mut env.borrow_mut()));
        Ok(Dynamic::from_float((f * max as f64).floor()))
    });
    e.register_fn("__f_random", |lo: Dynamic, hi: Dynamic| -> R<Dynamic> {
        let lo = whole(&lo, "random(): the lower bound")?;
        let hi = whole(&hi, "random(): the upper bound")?;
        if hi < lo {
            return err("random(): the upper bound is below the lower bound");
        }
        let f = ENV.with(|env| draw(&mut env.borrow_mut()));
        Ok(Dynamic::from_float(lo as f64 + (f * (hi - lo + 1) as f64).floor()))
    });
    e.register_fn("__f_isnumeric", |x: Dynamic| num(&x).is_some());
    e.register_fn("__f_now", || -> ImmutableString {
        ENV.with(|env| {
            let env = env.borrow();
            crate::snippet::dates::format_datetime(&env.now.with_timezone(&env.tz).naive_local()).into()
        })
    });
    e.register_fn("__f_asjson", |x: Dynamic| -> ImmutableString {
        let v = value(x);
        match v {
            Value::Object(_) | Value::Array(_) => serde_json::to_string(&v.to_studio_json()).unwrap_or_default().into(),
            scalar => serde_json::to_string(&scalar.to_text().as_str()).unwrap_or_default().into(),
        }
    });
    e.register_fn("__f_parsejson", |x: Dynamic| -> R<Dynamic> {
        let t = text(&x);
        match serde_json::from_str::<serde_json::Value>(&t) {
            Ok(j) => Ok(Value::from_json(&j).to_dynamic()),
            Err(e) => err(format!("parsejson(): not valid JSON ({e})")),
        }
    });
    e.register_fn("__f_count", |x: Dynamic| Dynamic::from_float(value(x).count() as f64));
    e.register_fn("__f_append", |x: Dynamic, item: Dynamic| -> Dynamic {
        match value(x) {
            Value::Array(items) => {
                let mut items = Arc::unwrap_or_clone(items);
                items.push(value(item));
                Value::Array(Arc::new(items)).to_dynamic()
            }
            Value::Null => Dynamic::from(text(&item)),
            other => {
                let t = other.to_text();
                if t.is_empty() {
                    Dynamic::from(text(&item))
                } else {
                    Dynamic::from(ImmutableString::from(format!("{t}|{}", text(&item))))
                }
            }
        }
    });
}

/// Round half away from zero (the product's `round`), to `digits` decimals.
fn round_half_away(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    let scaled = x.abs() * m;
    // The small nudge absorbs binary representation error (2.675 * 100 is
    // 267.49999999999997), so decimal halves round up as written.
    let r = (scaled + 0.5 + 1e-9 * scaled.max(1.0)).floor();
    x.signum() * r / m
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
    e.register_fn("__m", member);
    e.register_fn("__ix", index);
    register_builtins(&mut e);
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
    }
}
