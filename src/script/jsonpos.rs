//! Source positions for JSON documents.
//!
//! serde_json parses fast and reports syntax errors with a line and column,
//! but it forgets where each value was and silently keeps the last of two
//! duplicate keys. The loaders need both: positions to point diagnostics at
//! an action or a property, and duplicate detection because two actions with
//! the same id must be an error, not a silent overwrite. This scanner walks
//! the (already validated) text once and records the byte offset of every
//! value down to a chosen depth.

use std::collections::{HashMap, HashSet};

/// One step of a path into a JSON document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// Object member.
    Key(String),
    /// Array element, from 0.
    Index(usize),
}

/// Offsets of values and duplicate keys found in one document.
#[derive(Debug, Default)]
pub struct JsonIndex {
    offsets: HashMap<Vec<Seg>, usize>,
    /// Duplicate keys: the object's path, the key, and the offset of the
    /// second occurrence.
    pub duplicates: Vec<(Vec<Seg>, String, usize)>,
}

impl JsonIndex {
    /// Index `text`, recording values whose path is at most `max_depth`
    /// segments long.
    pub fn build(text: &str, max_depth: usize) -> JsonIndex {
        let mut s = Scanner { b: text.as_bytes(), i: 0, index: JsonIndex::default(), max_depth };
        let mut path = Vec::new();
        s.ws();
        s.value(&mut path);
        s.index
    }

    /// Byte offset of the value at `path`.
    pub fn offset(&self, path: &[Seg]) -> Option<usize> {
        self.offsets.get(path).copied()
    }
}

/// Build a path from string keys and indexes.
#[macro_export]
#[doc(hidden)]
macro_rules! json_path {
    ($($seg:expr),* $(,)?) => { vec![$($crate::script::jsonpos::IntoSeg::into_seg($seg)),*] };
}

/// Conversion used by `json_path!`.
pub trait IntoSeg {
    /// Make a segment.
    fn into_seg(self) -> Seg;
}
impl IntoSeg for &str {
    fn into_seg(self) -> Seg {
        Seg::Key(self.to_string())
    }
}
impl IntoSeg for &String {
    fn into_seg(self) -> Seg {
        Seg::Key(self.clone())
    }
}
impl IntoSeg for usize {
    fn into_seg(self) -> Seg {
        Seg::Index(self)
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    index: JsonIndex,
    max_depth: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, path: &mut Vec<Seg>) {
        if path.len() <= self.max_depth {
            self.index.offsets.insert(path.clone(), self.i);
        }
        match self.peek() {
            Some(b'{') => self.object(path),
            Some(b'[') => self.array(path),
            Some(b'"') => self.skip_string(),
            Some(_) => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace() {
                        break;
                    }
                    self.i += 1;
                }
            }
            None => {}
        }
    }

    fn object(&mut self, path: &mut Vec<Seg>) {
        self.i += 1;
        // A hash set: web Studio files key every action by id in one object.
        let mut seen: HashSet<String> = HashSet::new();
        loop {
            self.ws();
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return;
                }
                Some(b'"') => {
                    let key_at = self.i;
                    let key = self.string();
                    if !seen.insert(key.clone()) {
                        self.index.duplicates.push((path.clone(), key.clone(), key_at));
                    }
                    self.ws();
                    if self.peek() == Some(b':') {
                        self.i += 1;
                    }
                    self.ws();
                    path.push(Seg::Key(key));
                    self.value(path);
                    path.pop();
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    }
                }
                Some(_) => {
                    // Not valid JSON; stop quietly (serde_json reports it).
                    self.i += 1;
                    return;
                }
                None => return,
            }
        }
    }

    fn array(&mut self, path: &mut Vec<Seg>) {
        self.i += 1;
        let mut n = 0;
        loop {
            self.ws();
            match self.peek() {
                Some(b']') => {
                    self.i += 1;
                    return;
                }
                Some(_) => {
                    let before = self.i;
                    path.push(Seg::Index(n));
                    self.value(path);
                    path.pop();
                    n += 1;
                    self.ws();
                    // Step over the comma (or over a byte that made no progress).
                    if self.peek() == Some(b',') || self.i == before {
                        self.i += 1;
                    }
                }
                None => return,
            }
        }
    }

    /// Step over a string literal without decoding it (only keys are
    /// compared).
    fn skip_string(&mut self) {
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += match c {
                b'\\' => 2,
                b'"' => {
                    self.i += 1;
                    return;
                }
                _ => 1,
            };
        }
    }

    /// Read a string literal and return its decoded text (escapes decoded
    /// well enough for key comparison).
    fn string(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        let raw = self.b.get(start..self.i.min(self.b.len())).unwrap_or_default();
        serde_json::from_slice::<String>(raw).unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_and_duplicates() {
        let text = "{\n  \"a\": [ {\"id\": 1}, {\"id\": 2} ],\n  \"b\": {\"x\": 1, \"x\": 2}\n}";
        let idx = JsonIndex::build(text, 3);
        let path = crate::json_path!["a", 1usize];
        let off = idx.offset(&path).unwrap();
        assert_eq!(&text[off..off + 1], "{");
        let path = crate::json_path!["a", 1usize, "id"];
        let off = idx.offset(&path).unwrap();
        assert_eq!(&text[off..off + 1], "2");
        assert_eq!(idx.duplicates.len(), 1);
        assert_eq!(idx.duplicates[0].1, "x");
    }

    #[test]
    fn survives_garbage() {
        for text in ["", "{", "[1,", "{\"a\"", "\"unterminated", "{]}", "[[[[", "}}}"] {
            let _ = JsonIndex::build(text, 4);
        }
    }
}
