//! The runtime library the compiled rhai code calls.
//!
//! Every dialect operator compiles to one of these functions (`__add`,
//! `__eq`, `__m` for members, ...), so rhai's own operator semantics never
//! leak into scripts: arithmetic reads numeric text and drops operands that
//! are not numbers, `=` compares numerically when both sides are numbers,
//! arrays start at 1. Built-in functions are registered as `__f_<name>`.
//!
//! The per-evaluation context (clock, random numbers, traces, memory
//! budget) is in `context.rs`; the built-in functions are in
//! [`super::builtins`], which [`build_engine`] registers after the
//! operators.

use super::builtins;
use super::coerce::{R, err, value, whole};
use super::context::{TRACES, VALUE_LIMITS, grow};
use crate::value::{Value, format_number, parse_number};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString};

// The runtime library's helpers, at their long-standing paths.
pub use super::coerce::{num, text, truthy};
pub use super::context::draw;

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
    // The arithmetic operators on any values (numbers, text, dates).
    type Op = fn(Dynamic, Dynamic) -> R<Dynamic>;
    let ops: [(&str, Op); 8] = [
        ("__add", add),
        ("__sub", sub),
        ("__mul", mul),
        ("__div", div),
        ("__idiv", idiv),
        ("__mod", modulo),
        ("__pow", pow),
        ("__xor", xor),
    ];
    for (name, f) in ops {
        e.register_fn(name, f);
    }
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
    builtins::register(&mut e);
    e
}
