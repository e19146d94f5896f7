//! Reading rhai values the way the dialect reads them: as numbers (numeric
//! text counts), as text (numbers print in the dialect's form), as truth
//! values, as whole numbers for arguments; and the product's rounding.
//!
//! A leaf: the runtime library, the built-ins and the date functions all
//! read their operands through it, and it imports none of them.

use crate::value::{Str, Value, format_number, parse_number};
use rhai::{Dynamic, EvalAltResult, ImmutableString};

/// What a runtime-library function returns: a value or a rhai failure.
pub(crate) type R<T> = Result<T, Box<EvalAltResult>>;

/// A runtime failure with `msg` (the dialect's message, shown to the user).
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

/// The dialect value a rhai value carries.
pub(crate) fn value(d: Dynamic) -> Value {
    Value::from_dynamic(d)
}

/// A whole-number argument (truncated); `what` names it in the error.
pub(crate) fn whole(d: &Dynamic, what: &str) -> R<i64> {
    match num(d) {
        Some(n) if n.is_finite() => Ok(n.trunc() as i64),
        _ => err(format!("{what} must be a number, got '{}'", text(d))),
    }
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
