//! JSON forms of a value: the text written to traces, reports and
//! `asjson()`, the short preview for people, and reading JSON back in.
//!
//! Every JSON text of a value comes from one walk (`Value::write_json_as`),
//! written straight to bytes: traces write one such text per changed
//! variable per step, so the walk is the hot path of trace writing.

use super::{Str, Value, format_number, write_json_str};
use std::sync::Arc;

impl Value {
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
                let members = o.iter().map(|(k, v)| (Some(k.as_str()), v));
                return write_children::<NULL_AS_TEXT, CAPPED>(out, cap, full, [b'{', b'}'], members);
            }
            Value::Array(a) => {
                let elements = a.iter().map(|v| (None, v));
                return write_children::<NULL_AS_TEXT, CAPPED>(out, cap, full, [b'[', b']'], elements);
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
}

/// The children of an object (named) or an array (unnamed) between their
/// brackets, for [`Value::write_json_as`]; after each child, a capped
/// walk asks `full` once `out` is over `cap`. Monomorphised per container,
/// so an array's walk carries no test for a name.
#[inline(always)]
fn write_children<'a, const NULL_AS_TEXT: bool, const CAPPED: bool>(
    out: &mut Vec<u8>,
    cap: usize,
    full: &mut dyn FnMut(&mut Vec<u8>) -> bool,
    [open, close]: [u8; 2],
    children: impl Iterator<Item = (Option<&'a str>, &'a Value)>,
) -> bool {
    out.push(open);
    for (i, (name, v)) in children.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if let Some(name) = name {
            write_json_str(out, name);
            out.push(b':');
        }
        if !v.write_json_as::<NULL_AS_TEXT, CAPPED>(out, cap, full) || (CAPPED && out.len() > cap && !full(out)) {
            return false;
        }
    }
    out.push(close);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Array;

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
}
