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

use indexmap::IndexMap;
use rhai::{Dynamic, ImmutableString};
use std::fmt;
use std::sync::Arc;

/// Shared, cheaply cloned text (the same type rhai uses for strings).
pub type Str = ImmutableString;

/// What a value holds: an estimate of its bytes and its nesting depth.
///
/// Every object and array keeps the extent of its contents up to date as it
/// is built and changed, so the run's memory budget and the nesting limit
/// are checked in constant time, however large the value. A value stored in
/// two places counts twice (shared structure is not discounted): the
/// estimate errs on the side of stopping a run early.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    /// Estimated bytes: a slot per value, the text of strings and member
    /// names, and a fixed overhead per object, array and member.
    pub bytes: u64,
    /// Nesting: 0 for a scalar, 1 for an object or array of scalars.
    pub depth: u32,
}

/// Bytes of one value slot (the size of [`Value`]).
const SLOT: u64 = std::mem::size_of::<Value>() as u64;
/// Fixed cost of an object or array: its shared allocation and header.
const CONTAINER: u64 = 64;
/// Fixed cost of one member beside its name and value: hash index entry,
/// hash and name handle.
const MEMBER: u64 = 24;

/// Account a child's change from `before` to `after` in its container's
/// `bytes` and `depth`. True when the depth must be recomputed from the
/// children: the child that made the container deepest got shallower.
fn account(bytes: &mut u64, depth: &mut u32, before: Extent, after: Extent) -> bool {
    *bytes = (*bytes + after.bytes).saturating_sub(before.bytes);
    *depth = (*depth).max(after.depth + 1);
    before.depth + 1 == *depth && after.depth < before.depth
}

/// An ordered dynamic object: member names are case-sensitive. Reads go
/// through the underlying map ([`Deref`](std::ops::Deref)); changes go
/// through methods that keep the object's [`Extent`] current.
#[derive(Clone, Debug, Default)]
pub struct Object {
    map: IndexMap<Str, Value>,
    bytes: u64,
    depth: u32,
}

impl Object {
    /// An empty object.
    pub fn new() -> Object {
        Object::default()
    }

    /// An empty object with room for `n` members.
    pub fn with_capacity(n: usize) -> Object {
        Object { map: IndexMap::with_capacity(n), bytes: 0, depth: 0 }
    }

    /// Set a member, returning the value it replaced.
    pub fn insert(&mut self, name: Str, value: Value) -> Option<Value> {
        let add = value.extent();
        let name_bytes = name.len() as u64;
        let old = self.map.insert(name, value);
        let before = match &old {
            Some(o) => o.extent(),
            None => {
                self.bytes += MEMBER + name_bytes;
                Extent::default()
            }
        };
        if account(&mut self.bytes, &mut self.depth, before, add) {
            self.recompute_depth();
        }
        old
    }

    /// Remove a member, keeping the others in order.
    pub fn shift_remove(&mut self, name: &str) -> Option<Value> {
        let old = self.map.shift_remove(name)?;
        self.bytes = self.bytes.saturating_sub(MEMBER + name.len() as u64 + old.extent().bytes);
        if old.extent().depth + 1 == self.depth {
            self.recompute_depth();
        }
        Some(old)
    }

    /// Change member `name` (created as `Null` when missing) with `f`,
    /// then bring the extent up to date.
    fn update<R>(&mut self, name: &str, f: impl FnOnce(&mut Value) -> R) -> R {
        let index = match self.map.get_index_of(name) {
            Some(i) => i,
            None => {
                self.bytes += MEMBER + name.len() as u64 + SLOT;
                self.map.insert_full(Str::from(name), Value::Null).0
            }
        };
        let slot = &mut self.map[index];
        let before = slot.extent();
        let r = f(slot);
        if account(&mut self.bytes, &mut self.depth, before, slot.extent()) {
            self.recompute_depth();
        }
        r
    }

    /// Replace the value of the member at `index` (in insertion order);
    /// false when there is no such member.
    pub fn set_index(&mut self, index: usize, value: Value) -> bool {
        if index >= self.map.len() {
            return false;
        }
        let (before, after) = (self.map[index].extent(), value.extent());
        self.map[index] = value;
        if account(&mut self.bytes, &mut self.depth, before, after) {
            self.recompute_depth();
        }
        true
    }

    fn recompute_depth(&mut self) {
        self.depth = self.map.values().map(|v| v.extent().depth + 1).max().unwrap_or(0);
    }

    /// The members' extent (the object's own slot and header not included).
    fn contents(&self) -> Extent {
        Extent { bytes: self.bytes, depth: self.depth }
    }
}

impl std::ops::Deref for Object {
    type Target = IndexMap<Str, Value>;
    fn deref(&self) -> &IndexMap<Str, Value> {
        &self.map
    }
}

impl FromIterator<(Str, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (Str, Value)>>(iter: I) -> Object {
        let iter = iter.into_iter();
        let mut o = Object::with_capacity(iter.size_hint().0);
        for (k, v) in iter {
            o.insert(k, v);
        }
        o
    }
}

impl Extend<(Str, Value)> for Object {
    fn extend<I: IntoIterator<Item = (Str, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for Object {
    type Item = (Str, Value);
    type IntoIter = indexmap::map::IntoIter<Str, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}

/// An array of values (index 1 is the first element in scripts). Reads go
/// through the underlying vector; changes go through methods that keep the
/// array's [`Extent`] current.
#[derive(Clone, Debug, Default)]
pub struct Array {
    items: Vec<Value>,
    bytes: u64,
    depth: u32,
}

impl Array {
    /// An empty array.
    pub fn new() -> Array {
        Array::default()
    }

    /// Add an element at the end.
    pub fn push(&mut self, value: Value) {
        let e = value.extent();
        self.bytes += e.bytes;
        self.depth = self.depth.max(e.depth + 1);
        self.items.push(value);
    }

    /// Change element `i` (from 0) with `f`, then bring the extent up to
    /// date.
    fn update<R>(&mut self, i: usize, f: impl FnOnce(&mut Value) -> R) -> R {
        let slot = &mut self.items[i];
        let before = slot.extent();
        let r = f(slot);
        if account(&mut self.bytes, &mut self.depth, before, slot.extent()) {
            self.depth = self.items.iter().map(|v| v.extent().depth + 1).max().unwrap_or(0);
        }
        r
    }

    fn contents(&self) -> Extent {
        Extent { bytes: self.bytes, depth: self.depth }
    }

    /// The elements.
    pub fn into_vec(self) -> Vec<Value> {
        self.items
    }
}

impl std::ops::Deref for Array {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.items
    }
}

impl From<Vec<Value>> for Array {
    fn from(items: Vec<Value>) -> Array {
        let mut bytes = 0;
        let mut depth = 0;
        for v in &items {
            let e = v.extent();
            bytes += e.bytes;
            depth = depth.max(e.depth + 1);
        }
        Array { items, bytes, depth }
    }
}

impl FromIterator<Value> for Array {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Array {
        Array::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl PartialEq for Array {
    fn eq(&self, other: &Array) -> bool {
        self.items == other.items
    }
}

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

    /// Estimated bytes and nesting depth, in constant time.
    pub fn extent(&self) -> Extent {
        match self {
            Value::Text(s) => Extent { bytes: SLOT + s.len() as u64, depth: 0 },
            Value::Object(o) => {
                let c = o.contents();
                Extent { bytes: SLOT + CONTAINER + c.bytes, depth: c.depth.max(1) }
            }
            Value::Array(a) => {
                let c = a.contents();
                Extent { bytes: SLOT + CONTAINER + c.bytes, depth: c.depth.max(1) }
            }
            _ => Extent { bytes: SLOT, depth: 0 },
        }
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

    /// Convert to JSON the way the product's `asjson()` does: every scalar
    /// becomes a JSON string, `Null` an empty string, order is kept.
    pub fn to_studio_json(&self) -> serde_json::Value {
        self.to_json_with(true)
    }

    /// Convert to JSON for reports: like [`Value::to_studio_json`] but `Null`
    /// stays `null`.
    pub fn to_report_json(&self) -> serde_json::Value {
        self.to_json_with(false)
    }

    /// Append [`Value::to_report_json`]'s text to `out` without building
    /// the JSON tree (traces write one such value per variable per step).
    #[inline]
    pub fn write_report_json(&self, out: &mut Vec<u8>) {
        self.write_json_as::<false, false>(out, usize::MAX, &mut |_| true);
    }

    /// Append the value's JSON text to `out`, `Null` as `""` when
    /// `null_as_text` (the `asjson()` form) or `null`; stops once `out`
    /// holds more than `cap` bytes and returns false (the text is then cut
    /// short). Writing straight to text costs a fraction of building a
    /// JSON tree first, which matters for values of hundreds of megabytes.
    pub fn write_json(&self, out: &mut Vec<u8>, null_as_text: bool, cap: usize) -> bool {
        if null_as_text {
            self.write_json_as::<true, true>(out, cap, &mut |_| false)
        } else {
            self.write_json_as::<false, true>(out, cap, &mut |_| false)
        }
    }

    /// [`Value::write_report_json`]'s text through `buf`, handed to `flush`
    /// whenever it passes `chunk` bytes (and emptied), so the text of a
    /// large value never sits in memory whole. False when `flush` did.
    pub fn stream_report_json(
        &self,
        buf: &mut Vec<u8>,
        chunk: usize,
        flush: &mut dyn FnMut(&mut Vec<u8>) -> bool,
    ) -> bool {
        self.write_json_as::<false, true>(buf, chunk, flush)
    }

    /// The one walk behind every JSON text of a value. With `CAPPED`, once
    /// `out` holds more than `cap` bytes `full` decides: false stops the
    /// walk (a cut text), true goes on (it has emptied `out`: a stream).
    /// The choices are fixed at compile time: the trace's form (uncapped,
    /// `null`) is written for every changed variable of every step and pays
    /// for no check it does not need.
    fn write_json_as<const NULL_AS_TEXT: bool, const CAPPED: bool>(
        &self,
        out: &mut Vec<u8>,
        cap: usize,
        full: &mut dyn FnMut(&mut Vec<u8>) -> bool,
    ) -> bool {
        match self {
            Value::Null if NULL_AS_TEXT => out.extend_from_slice(b"\"\""),
            Value::Null => out.extend_from_slice(b"null"),
            Value::Text(s) => write_json_str(out, s),
            Value::Object(o) => {
                out.push(b'{');
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_str(out, k);
                    out.push(b':');
                    if !v.write_json_as::<NULL_AS_TEXT, CAPPED>(out, cap, full)
                        || (CAPPED && out.len() > cap && !full(out))
                    {
                        return false;
                    }
                }
                out.push(b'}');
            }
            Value::Array(a) => {
                out.push(b'[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if !v.write_json_as::<NULL_AS_TEXT, CAPPED>(out, cap, full)
                        || (CAPPED && out.len() > cap && !full(out))
                    {
                        return false;
                    }
                }
                out.push(b']');
            }
            Value::Number(n) => {
                // Numbers print without characters JSON escapes; whole
                // numbers (the common case) as `format_number` does.
                out.push(b'"');
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    out.extend_from_slice(itoa::Buffer::new().format(*n as i64).as_bytes());
                } else {
                    out.extend_from_slice(format_number(*n).as_bytes());
                }
                out.push(b'"');
            }
            Value::Bool(true) => out.extend_from_slice(b"\"True\""),
            Value::Bool(false) => out.extend_from_slice(b"\"False\""),
        }
        true
    }

    /// A short form for people: the value as printed when it is short,
    /// otherwise its beginning and its size.
    pub fn preview(&self, max_chars: usize) -> String {
        let mut out = Vec::new();
        let whole = match self {
            Value::Object(_) | Value::Array(_) => self.write_json(&mut out, true, max_chars * 4),
            other => {
                out.extend_from_slice(other.to_text().as_bytes());
                true
            }
        };
        let text = String::from_utf8_lossy(&out);
        if whole && text.chars().count() <= max_chars {
            return text.into_owned();
        }
        let head: String = text.chars().take(max_chars).collect();
        let size = match self {
            Value::Object(o) => format!("an object of {} members, about {} KiB", o.len(), self.extent().bytes >> 10),
            Value::Array(a) => format!("an array of {} elements, about {} KiB", a.len(), self.extent().bytes >> 10),
            _ => format!("{} bytes", out.len()),
        };
        format!("{head}... ({size})")
    }

    fn to_json_with(&self, null_as_text: bool) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null if null_as_text => J::String(String::new()),
            Value::Null => J::Null,
            Value::Object(o) => {
                J::Object(o.iter().map(|(k, v)| (k.to_string(), v.to_json_with(null_as_text))).collect())
            }
            Value::Array(a) => J::Array(a.iter().map(|v| v.to_json_with(null_as_text)).collect()),
            scalar => J::String(scalar.to_text().to_string()),
        }
    }

    /// Read JSON into a value: objects keep member order, arrays stay arrays,
    /// numbers become numbers, strings text, `null` becomes `Null`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_f64() {
                Some(f) => Value::Number(f),
                None => Value::text(n.to_string()),
            },
            J::String(s) => Value::text(s.as_str()),
            J::Array(a) => Value::Array(Arc::new(a.iter().map(Value::from_json).collect())),
            J::Object(o) => {
                Value::Object(Arc::new(o.iter().map(|(k, v)| (Str::from(k.as_str()), Value::from_json(v))).collect()))
            }
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

/// Parse the boolean spellings the catalog accepts: Yes/No, True/False,
/// On/Off, 1/0, in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("on") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false")
        || t.eq_ignore_ascii_case("no")
        || t.eq_ignore_ascii_case("off")
        || t.is_empty()
    {
        Some(false)
    } else {
        parse_number(t).map(|n| n != 0.0)
    }
}

/// Read text as a number the way the product does: optional sign, digits,
/// optional decimal point and exponent, surrounding blanks ignored. Words
/// such as `inf` or `nan` are not numbers.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let bytes = t.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut digits = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => digits = true,
            b'.' => {}
            b'+' | b'-' if i == 0 => {}
            b'+' | b'-' if matches!(bytes[i - 1], b'e' | b'E') => {}
            b'e' | b'E' if digits => {}
            _ => return None,
        }
    }
    if !digits {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Print a number as Studio does: whole numbers without a decimal part,
/// others rounded to 15 significant digits.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if n == n.trunc() && n.abs() < 1e15 {
        // `-0` prints as `0`.
        return format!("{}", n as i64);
    }
    // Round to 15 significant digits, then print the shortest form that
    // reads back as the rounded value.
    let rounded: f64 = format!("{n:.14e}").parse().unwrap_or(n);
    let s = format!("{rounded}");
    if s.contains('e') || !s.contains('.') { s } else { s.trim_end_matches('0').trim_end_matches('.').to_string() }
}

/// Longest text an object or array is printed to (64 MiB).
pub const TEXT_CAP: usize = 64 << 20;

/// Deepest nesting any conversion into a [`Value`] follows, whatever the
/// configured limit: a guard for the native stack, not a budget.
pub const HARD_DEPTH: u32 = 1024;

/// The case-insensitive key of a variable name: lower case, with `__err`
/// folded onto `_err` (the product spells the error variable both ways).
pub fn var_key(name: &str) -> String {
    let key = name.trim().to_lowercase();
    if key == "__err" { "_err".to_string() } else { key }
}

/// One step of a member path: `.name` or `[index]` (1-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    /// An object member (case-sensitive).
    Member(String),
    /// An array element, from 1.
    Index(usize),
}

/// Error from [`set_path`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// Index 0 or negative.
    #[error("array indexes start at 1")]
    ZeroIndex,
    /// The path would make an array longer than allowed.
    #[error("array size budget exceeded (limit {0})")]
    ArrayTooLarge(usize),
    /// The path would give an object more members than allowed.
    #[error("object size budget exceeded (limit {0})")]
    ObjectTooLarge(usize),
    /// The value would nest deeper than allowed.
    #[error("value nesting budget exceeded (limit {0} levels)")]
    TooDeep(u32),
}

/// The limits [`set_path`] keeps a value within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueLimits {
    /// Most elements of one array.
    pub max_array: usize,
    /// Most members of one object.
    pub max_object: usize,
    /// Deepest nesting of objects and arrays.
    pub max_depth: u32,
}

impl Default for ValueLimits {
    fn default() -> Self {
        ValueLimits { max_array: 1_000_000, max_object: 100_000, max_depth: DEFAULT_MAX_DEPTH }
    }
}

/// Default nesting limit for values: far beyond any record a contact
/// center exchanges, and shallow enough that every recursive walk over a
/// value (printing, comparing, dropping) stays well inside a 2 MiB thread
/// stack, even unoptimised.
pub const DEFAULT_MAX_DEPTH: u32 = 256;

/// Assign `new` at `path` inside `target`, creating objects and arrays on
/// the way (`o.a[2].b = x` works on an empty `o`). A scalar in the way is
/// replaced by an object or array. Shared structure is copied on write.
/// The result never nests deeper than `limits.max_depth`.
pub fn set_path(target: &mut Value, path: &[PathSeg], new: Value, limits: &ValueLimits) -> Result<(), PathError> {
    // The new value ends up `path.len()` levels down; the rest of the
    // target is already within the limit.
    if path.len() as u64 + new.extent().depth as u64 > limits.max_depth as u64 {
        return Err(PathError::TooDeep(limits.max_depth));
    }
    set_in(target, path, new, limits)
}

fn set_in(target: &mut Value, path: &[PathSeg], new: Value, limits: &ValueLimits) -> Result<(), PathError> {
    let Some((first, rest)) = path.split_first() else {
        *target = new;
        return Ok(());
    };
    match first {
        PathSeg::Member(name) => {
            if !matches!(target, Value::Object(_)) {
                *target = Value::object();
            }
            let Value::Object(obj) = target else { unreachable!("just made an object") };
            let obj = Arc::make_mut(obj);
            if !obj.contains_key(name.as_str()) && obj.len() >= limits.max_object {
                return Err(PathError::ObjectTooLarge(limits.max_object));
            }
            obj.update(name, |slot| set_in(slot, rest, new, limits))
        }
        PathSeg::Index(i) => {
            if *i == 0 {
                return Err(PathError::ZeroIndex);
            }
            if *i > limits.max_array {
                return Err(PathError::ArrayTooLarge(limits.max_array));
            }
            if rest.is_empty() {
                // `s[2] = x` on text edits a `|`-delimited array.
                if let Value::Text(t) = target {
                    let mut items: Vec<String> =
                        if t.is_empty() { Vec::new() } else { t.split('|').map(str::to_string).collect() };
                    while items.len() < *i {
                        items.push(String::new());
                    }
                    items[*i - 1] = new.to_text().to_string();
                    *target = Value::text(items.join("|"));
                    return Ok(());
                }
            }
            if !matches!(target, Value::Array(_)) {
                *target = Value::Array(Arc::new(Array::new()));
            }
            let Value::Array(arr) = target else { unreachable!("just made an array") };
            let arr = Arc::make_mut(arr);
            while arr.len() < *i {
                arr.push(Value::Null);
            }
            arr.update(*i - 1, |slot| set_in(slot, rest, new, limits))
        }
    }
}

/// A remembered table position, used to find a variable again without
/// hashing its name. Shared between threads; a stale hint only costs a
/// normal lookup. Never part of equality.
#[derive(Debug)]
pub struct Hint(std::sync::atomic::AtomicU32);

impl Hint {
    /// The remembered position.
    pub fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed) as usize
    }
    /// Remember a position.
    pub fn set(&self, i: usize) {
        self.0.store(i as u32, std::sync::atomic::Ordering::Relaxed);
    }
}
impl Default for Hint {
    fn default() -> Self {
        Hint(std::sync::atomic::AtomicU32::new(u32::MAX))
    }
}
impl Clone for Hint {
    fn clone(&self) -> Self {
        Hint(std::sync::atomic::AtomicU32::new(self.get() as u32))
    }
}
impl PartialEq for Hint {
    fn eq(&self, _: &Hint) -> bool {
        true
    }
}
impl Eq for Hint {}

/// Where an assignment goes: a variable, optionally `global:`, optionally
/// a member path inside it (`order.items[2].sku`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarTarget {
    /// The variable's key.
    pub key: String,
    /// The variable's name as written.
    pub name: String,
    /// Written `global:name`: goes to the run's root scope.
    pub global: bool,
    /// Member path inside the variable.
    pub path: Vec<PathSeg>,
    /// Where the variable was found last time.
    pub hint: Hint,
}

impl fmt::Display for VarTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.global {
            f.write_str("global:")?;
        }
        f.write_str(&self.name)?;
        for seg in &self.path {
            match seg {
                PathSeg::Member(m) => write!(f, ".{m}")?,
                PathSeg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

impl VarTarget {
    /// Parse a variable reference as written in a property: `name`,
    /// `{name}`, `global:name`, `name.member[2].x`.
    pub fn parse(text: &str) -> Result<VarTarget, String> {
        let mut t = text.trim();
        if t.starts_with('{') && t.ends_with('}') && t.len() >= 2 {
            t = t[1..t.len() - 1].trim();
        }
        let mut global = false;
        if let Some(rest) = t.get(..7).filter(|p| p.eq_ignore_ascii_case("global:")).map(|_| &t[7..]) {
            global = true;
            t = rest.trim_start();
        }
        let chars: Vec<char> = t.chars().collect();
        let mut i = 0;
        let ident = |i: &mut usize| -> Option<String> {
            let start = *i;
            if !chars.get(*i).is_some_and(|c| c.is_alphabetic() || *c == '_' || *c == '$') {
                return None;
            }
            while chars.get(*i).is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$') {
                *i += 1;
            }
            Some(chars[start..*i].iter().collect())
        };
        let name = ident(&mut i).ok_or_else(|| format!("'{text}' is not a variable name"))?;
        let mut path = Vec::new();
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    i += 1;
                    let m = ident(&mut i).ok_or_else(|| format!("'{text}': expected a member name after '.'"))?;
                    path.push(PathSeg::Member(m));
                }
                '[' => {
                    let close = chars[i..]
                        .iter()
                        .position(|c| *c == ']')
                        .map(|p| p + i)
                        .ok_or_else(|| format!("'{text}': missing ']'"))?;
                    let idx: String = chars[i + 1..close].iter().collect();
                    let n =
                        idx.trim().parse::<usize>().map_err(|_| format!("'{text}': index must be a whole number"))?;
                    if n == 0 {
                        return Err(format!("'{text}': array indexes start at 1"));
                    }
                    path.push(PathSeg::Index(n));
                    i = close + 1;
                }
                _ => return Err(format!("'{text}' is not a variable name")),
            }
        }
        Ok(VarTarget { key: var_key(&name), name, global, path, hint: Hint::default() })
    }
}

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
    fn numbers_print_like_studio() {
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(1.0 / 3.0), "0.333333333333333");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }

    #[test]
    fn numeric_text_reads_as_number() {
        assert_eq!(parse_number(" 42 "), Some(42.0));
        assert_eq!(parse_number("-1.5e2"), Some(-150.0));
        assert_eq!(parse_number("1e"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("."), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("5-3"), None);
    }

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
    fn studio_json_writes_scalars_as_strings_in_order() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"z": 1, "a": [true, null, "x"], "m": {"k": 2.5}}"#).unwrap();
        let v = Value::from_json(&json);
        assert_eq!(
            serde_json::to_string(&v.to_studio_json()).unwrap(),
            r#"{"z":"1","a":["True","","x"],"m":{"k":"2.5"}}"#
        );
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
    fn set_path_creates_structure() {
        let l = ValueLimits { max_array: 100, max_object: 100, max_depth: 8 };
        let mut v = Value::Null;
        let path = [PathSeg::Member("a".into()), PathSeg::Index(2), PathSeg::Member("b".into())];
        set_path(&mut v, &path, Value::text("x"), &l).unwrap();
        assert_eq!(v.to_string(), r#"{"a":["",{"b":"x"}]}"#);
        let mut s = Value::text("a|b");
        set_path(&mut s, &[PathSeg::Index(4)], Value::text("d"), &l).unwrap();
        assert_eq!(s, Value::text("a|b||d"));
        assert_eq!(set_path(&mut v, &[PathSeg::Index(0)], Value::Null, &l), Err(PathError::ZeroIndex));
        assert_eq!(set_path(&mut v, &[PathSeg::Index(101)], Value::Null, &l), Err(PathError::ArrayTooLarge(100)));
    }

    /// Extents kept up to date by every change equal extents computed from
    /// scratch, so budgets read in constant time what a full walk would.
    fn walked(v: &Value) -> Extent {
        match v {
            Value::Object(o) => {
                let mut e = Extent { bytes: SLOT + CONTAINER, depth: 1 };
                for (k, x) in o.iter() {
                    let c = walked(x);
                    e.bytes += MEMBER + k.len() as u64 + c.bytes;
                    e.depth = e.depth.max(c.depth + 1);
                }
                e
            }
            Value::Array(a) => {
                let mut e = Extent { bytes: SLOT + CONTAINER, depth: 1 };
                for x in a.iter() {
                    let c = walked(x);
                    e.bytes += c.bytes;
                    e.depth = e.depth.max(c.depth + 1);
                }
                e
            }
            other => other.extent(),
        }
    }

    #[test]
    fn extents_follow_every_change() {
        let l = ValueLimits::default();
        let mut v = Value::Null;
        let m = |s: &str| PathSeg::Member(s.into());
        set_path(&mut v, &[m("a"), PathSeg::Index(3), m("b")], Value::text("xyz"), &l).unwrap();
        set_path(&mut v, &[m("c")], Value::text("long text here"), &l).unwrap();
        assert_eq!(v.extent(), walked(&v));
        assert_eq!(v.extent().depth, 3);
        // Replacing the deep branch with a scalar makes the object shallow again.
        set_path(&mut v, &[m("a")], Value::text("flat"), &l).unwrap();
        assert_eq!(v.extent(), walked(&v));
        assert_eq!(v.extent().depth, 1);
        let arr: Array = (0..10).map(|i| Value::text(i.to_string())).collect();
        let mut o = Object::new();
        o.insert("list".into(), Value::Array(Arc::new(arr)));
        o.insert("n".into(), Value::Number(1.0));
        o.insert("n".into(), Value::text("replaced"));
        assert!(o.shift_remove("missing").is_none());
        let v = Value::Object(Arc::new(o));
        assert_eq!(v.extent(), walked(&v));
        assert_eq!(Value::from_json(&serde_json::json!({"a": [1, {"b": [2]}]})).extent().depth, 4);
    }

    #[test]
    fn nesting_past_the_limit_is_refused() {
        let l = ValueLimits { max_array: 100, max_object: 100, max_depth: 4 };
        let mut o = Value::Null;
        for _ in 0..4 {
            let mut n = Value::Null;
            set_path(&mut n, &[PathSeg::Member("child".into())], o.clone(), &l).unwrap();
            o = n;
        }
        assert_eq!(o.extent().depth, 4);
        let mut n = Value::Null;
        assert_eq!(set_path(&mut n, &[PathSeg::Member("child".into())], o, &l), Err(PathError::TooDeep(4)));
        let long: Vec<PathSeg> = (0..5).map(|_| PathSeg::Index(1)).collect();
        assert_eq!(set_path(&mut n, &long, Value::Null, &l), Err(PathError::TooDeep(4)));
    }

    #[test]
    fn huge_values_print_short() {
        let v: Array = (0..100_000).map(|_| Value::text("abc")).collect();
        let v = Value::Array(Arc::new(v));
        let p = v.preview(50);
        assert!(p.starts_with(r#"["abc","abc""#), "{p}");
        assert!(p.ends_with("(an array of 100000 elements, about 1855 KiB)"), "{p}");
        let mut out = Vec::new();
        assert!(!v.write_json(&mut out, true, 1000), "cut short at the cap");
        assert!(out.len() < 1100);
    }

    #[test]
    fn targets_parse() {
        let t = VarTarget::parse("global:Order.items[2].sku").unwrap();
        assert!(t.global);
        assert_eq!(t.key, "order");
        assert_eq!(t.path, vec![PathSeg::Member("items".into()), PathSeg::Index(2), PathSeg::Member("sku".into())]);
        assert_eq!(t.to_string(), "global:Order.items[2].sku");
        assert_eq!(VarTarget::parse("{x}").unwrap().name, "x");
        assert!(VarTarget::parse("1x").is_err());
        assert!(VarTarget::parse("a[0]").is_err());
        assert!(VarTarget::parse("a b").is_err());
        assert!(VarTarget::parse("").is_err());
    }

    #[test]
    fn dynamic_round_trip_keeps_kinds() {
        for v in [Value::Null, Value::text("x"), Value::Number(2.5), Value::Bool(true), Value::object()] {
            assert_eq!(Value::from_dynamic(v.to_dynamic()), v);
        }
    }
}
