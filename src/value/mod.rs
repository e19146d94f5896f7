//! The value model shared by scripts, snippets, actions and traces.
//!
//! Studio values are *text first*: a scalar keeps the text it was given and is
//! read as a number only when arithmetic or a numeric comparison needs it.
//! Results of arithmetic are numbers, which print without a trailing `.0`
//! when whole and with at most 15 significant digits (so `0.1 + 0.2` prints
//! `0.3`, as the .NET-based product does). Dynamic objects keep their members
//! in insertion order and arrays are addressed from 1.
//!
//! Inside rhai, scalars travel as rhai's own types (`ImmutableString`, `f64`,
//! `bool`, `()`) so that operators stay cheap; objects and arrays travel as
//! this [`Value`] type registered as a custom rhai type.
//!
//! This file holds the [`Value`] type and its reading rules; the rest is
//! split along what callers do with a value: `container` holds objects and
//! arrays with their size accounting, `json` every JSON form (trace and
//! report text, `asjson()`, preview, reading JSON in), `scalar` how text
//! reads as numbers and booleans and how numbers print, and `path`
//! assignment targets (`global:order.items[2]`) and [`set_path`].

mod container;
mod json;
mod path;
mod scalar;

pub use container::{Array, Extent, Object};
pub use path::{DEFAULT_MAX_DEPTH, Hint, PathError, PathSeg, ValueLimits, VarTarget, set_path, var_key};
pub use scalar::{format_number, parse_bool, parse_number};

use rhai::{Dynamic, ImmutableString};
use std::fmt;
use std::sync::Arc;

/// Shared, cheaply cloned text (the same type rhai uses for strings).
pub type Str = ImmutableString;

/// A Studio value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// A variable or member that was never set. Reads as empty text.
    #[default]
    Null,
    /// Text, the normal form of every scalar.
    Text(Str),
    /// The result of arithmetic.
    Number(f64),
    /// The result of a comparison or logical operator.
    Bool(bool),
    /// A dynamic object with ordered members.
    Object(Arc<Object>),
    /// An array; index 1 is the first element.
    Array(Arc<Array>),
}

impl Value {
    /// Text value from anything string-like.
    pub fn text(s: impl Into<Str>) -> Value {
        Value::Text(s.into())
    }

    /// An empty dynamic object.
    pub fn object() -> Value {
        Value::Object(Arc::new(Object::new()))
    }

    /// An array of these elements.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(Array::from(items)))
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True for objects and arrays.
    pub fn is_composite(&self) -> bool {
        matches!(self, Value::Object(_) | Value::Array(_))
    }

    /// The value as Studio prints it: text unchanged, numbers without a
    /// trailing `.0`, booleans as `True`/`False`, objects and arrays as JSON.
    pub fn to_text(&self) -> Str {
        match self {
            Value::Text(s) => s.clone(),
            Value::Null => Str::new(),
            other => other.to_string().into(),
        }
    }

    /// Read the value as a number, if it is one (numeric text included).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Text(s) => parse_number(s),
            _ => None,
        }
    }

    /// Truthiness used by IF, `&`, `|` and `!`: booleans as they are, numbers
    /// when non-zero, text unless empty or one of `false`, `no`, `off`, `0`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0,
            Value::Text(s) => text_truthy(s),
            Value::Object(o) => !o.is_empty(),
            Value::Array(a) => !a.is_empty(),
        }
    }

    /// Member of an object by exact (case-sensitive) name.
    pub fn member(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(o) => o.get(name),
            _ => None,
        }
    }

    /// Number of elements: array length, object member count, or the number
    /// of `|`-separated items in text (0 for empty text).
    pub fn count(&self) -> usize {
        match self {
            Value::Null => 0,
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            Value::Text(s) if s.is_empty() => 0,
            Value::Text(s) => s.split('|').count(),
            _ => 1,
        }
    }

    /// Element `index` (1-based) of an array or of a `|`-delimited text.
    pub fn index(&self, index: i64) -> Option<Value> {
        if index < 1 {
            return None;
        }
        let i = (index - 1) as usize;
        match self {
            Value::Array(a) => a.get(i).cloned(),
            Value::Text(s) => s.split('|').nth(i).map(Value::text),
            Value::Number(_) | Value::Bool(_) if i == 0 => Some(self.clone()),
            _ => None,
        }
    }

    /// Hand the value to rhai: scalars as native rhai types, composites as
    /// the custom `Value` type.
    pub fn to_dynamic(&self) -> Dynamic {
        match self {
            Value::Null => Dynamic::UNIT,
            Value::Text(s) => Dynamic::from(s.clone()),
            Value::Number(n) => Dynamic::from_float(*n),
            Value::Bool(b) => Dynamic::from_bool(*b),
            composite => Dynamic::from(composite.clone()),
        }
    }

    /// Take a value back from rhai. Nesting beyond [`HARD_DEPTH`] levels
    /// (which the snippet runtime refuses long before) comes back as `Null`
    /// rather than recursing further.
    pub fn from_dynamic(d: Dynamic) -> Value {
        Value::from_dynamic_at(d, 0)
    }

    fn from_dynamic_at(d: Dynamic, level: u32) -> Value {
        // Most results are numbers or booleans: test those first.
        if let Ok(f) = d.as_float() {
            return Value::Number(f);
        }
        if let Ok(b) = d.as_bool() {
            return Value::Bool(b);
        }
        if d.is_unit() {
            return Value::Null;
        }
        if d.is_string() {
            return match d.into_immutable_string() {
                Ok(s) => Value::Text(s),
                Err(_) => Value::Null,
            };
        }
        if let Ok(f) = d.as_float() {
            return Value::Number(f);
        }
        if let Ok(i) = d.as_int() {
            return Value::Number(i as f64);
        }
        if let Ok(b) = d.as_bool() {
            return Value::Bool(b);
        }
        if let Ok(c) = d.as_char() {
            return Value::text(c.to_string());
        }
        if d.is::<Value>() {
            return d.cast::<Value>();
        }
        if (d.is_array() || d.is_map()) && level >= HARD_DEPTH {
            return Value::Null;
        }
        if d.is_array() {
            let arr = d.cast::<rhai::Array>();
            return Value::Array(Arc::new(arr.into_iter().map(|v| Value::from_dynamic_at(v, level + 1)).collect()));
        }
        if d.is_map() {
            let map = d.cast::<rhai::Map>();
            return Value::Object(Arc::new(
                map.into_iter().map(|(k, v)| (Str::from(k.as_str()), Value::from_dynamic_at(v, level + 1))).collect(),
            ));
        }
        Value::text(d.to_string())
    }

    /// Studio equality (`=`): numeric when both sides read as numbers,
    /// truthiness when either side is a boolean, otherwise exact text.
    pub fn loose_eq(&self, other: &Value) -> bool {
        if let (Some(a), Some(b)) = (self.as_number(), other.as_number()) {
            return a == b;
        }
        if (matches!(self, Value::Bool(_)) || matches!(other, Value::Bool(_)))
            && let (Some(a), Some(b)) = (bool_reading(self), bool_reading(other))
        {
            return a == b;
        }
        self.to_text() == other.to_text()
    }

    /// Studio ordering: numeric when both sides read as numbers, otherwise
    /// ordinal comparison of the texts.
    pub fn loose_cmp(&self, other: &Value) -> std::cmp::Ordering {
        if let (Some(a), Some(b)) = (self.as_number(), other.as_number()) {
            return a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal);
        }
        self.to_text().as_str().cmp(other.to_text().as_str())
    }
}

/// A boolean reading of a value, if it has one (`True`/`False`, `yes`/`no`,
/// numbers).
fn bool_reading(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(*n != 0.0),
        Value::Text(s) => parse_bool(s),
        _ => None,
    }
}

fn text_truthy(s: &str) -> bool {
    match parse_bool(s) {
        Some(b) => b,
        None => !s.trim().is_empty(),
    }
}

/// Longest text an object or array is printed to (64 MiB).
pub const TEXT_CAP: usize = 64 << 20;

/// Deepest nesting any conversion into a [`Value`] follows, whatever the
/// configured limit: a guard for the native stack, not a budget.
pub const HARD_DEPTH: u32 = 1024;

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Text(s) => f.write_str(s),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            composite => {
                // Past TEXT_CAP the text is cut: every string budget is far
                // smaller, so such a text is refused wherever it lands.
                let mut out = Vec::new();
                composite.write_json(&mut out, true, TEXT_CAP);
                f.write_str(&String::from_utf8_lossy(&out))
            }
        }
    }
}

impl PartialEq for Value {
    /// Structural equality: same kind and same content (texts compare
    /// exactly, numbers numerically). Use [`Value::loose_eq`] for the
    /// script language's `=`.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Text(a), Value::Text(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| ka == kb && va == vb)
            }
            (Value::Array(a), Value::Array(b)) => a == b,
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::text(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::text(s)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n as f64)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

pub use crate::base::json::write_json_str;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_text_indexes_from_one() {
        let v = Value::text("a|b|c");
        assert_eq!(v.index(1), Some(Value::text("a")));
        assert_eq!(v.index(3), Some(Value::text("c")));
        assert_eq!(v.index(4), None);
        assert_eq!(v.index(0), None);
        assert_eq!(v.count(), 3);
    }

    #[test]
    fn loose_equality_and_order() {
        assert!(Value::text("1.0").loose_eq(&Value::Number(1.0)));
        assert!(!Value::text("abc").loose_eq(&Value::text("ABC")));
        assert!(Value::Bool(true).loose_eq(&Value::text("yes")));
        assert_eq!(Value::text("10").loose_cmp(&Value::text("9")), std::cmp::Ordering::Greater);
        assert_eq!(Value::text("b").loose_cmp(&Value::text("a10")), std::cmp::Ordering::Greater);
    }

    #[test]
    fn dynamic_round_trip_keeps_kinds() {
        for v in [Value::Null, Value::text("x"), Value::Number(2.5), Value::Bool(true), Value::object()] {
            assert_eq!(Value::from_dynamic(v.to_dynamic()), v);
        }
    }
}
