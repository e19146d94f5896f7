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

pub use crate::base::json::lone_surrogate;

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
    /// Offsets by a 64-bit hash of the path: a map keyed by the paths
    /// themselves cost some 200 bytes per value (a vector and a string per
    /// entry), 40 times a large script's text. Two paths of one file
    /// sharing a hash (odds around 1 in 10^7 for a million values) would
    /// only misplace a diagnostic's position.
    ///
    /// The values in document order, (path hash, offset): loaders ask for
    /// the members of one action after another, so a lookup first scans
    /// near the previous answer and only then goes to the map (a map
    /// lookup per property, random over tens of megabytes, cost a tenth of
    /// loading a large script in cache misses).
    order: Vec<(u64, usize)>,
    /// Position in `order` by path hash.
    offsets: HashMap<u64, u32, foldhash::fast::FixedState>,
    /// Where the last lookup was answered in `order`.
    cursor: std::cell::Cell<usize>,
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
        self.find(path_hash(path))
    }
}

impl JsonIndex {
    /// Byte offset of the value at `path`, given by borrowed segments (no
    /// allocation: a loader asks once per property).
    pub fn offset_of(&self, path: &[SegRef<'_>]) -> Option<usize> {
        use std::hash::BuildHasher;
        self.find(foldhash::fast::FixedState::with_seed(0x5052_4f53).hash_one(path))
    }

    /// Scans a few entries around the cursor, then asks the map.
    fn find(&self, hash: u64) -> Option<usize> {
        let c = self.cursor.get();
        let from = c.saturating_sub(8);
        let to = (c + 32).min(self.order.len());
        let at = match self.order[from.min(to)..to].iter().position(|(h, _)| *h == hash) {
            Some(i) => from + i,
            None => *self.offsets.get(&hash)? as usize,
        };
        self.cursor.set(at);
        Some(self.order[at].1)
    }
}

/// A path segment by reference; hashes exactly as the [`Seg`] it mirrors.
#[derive(Clone, Copy, Debug, Hash)]
pub enum SegRef<'a> {
    /// Object member.
    Key(&'a str),
    /// Array element, from 0.
    Index(usize),
}

impl<'a> From<&'a str> for SegRef<'a> {
    fn from(k: &'a str) -> SegRef<'a> {
        SegRef::Key(k)
    }
}
impl<'a> From<&'a String> for SegRef<'a> {
    fn from(k: &'a String) -> SegRef<'a> {
        SegRef::Key(k)
    }
}
impl From<usize> for SegRef<'_> {
    fn from(i: usize) -> Self {
        SegRef::Index(i)
    }
}

/// A path of [`SegRef`]s on the stack.
#[macro_export]
#[doc(hidden)]
macro_rules! json_ref {
    ($($seg:expr),* $(,)?) => { [$($crate::script::jsonpos::SegRef::from($seg)),*] };
}

fn path_hash(path: &[Seg]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x5052_4f53).hash_one(path)
}

/// Build a path from string keys and indexes (for tests).
#[cfg(test)]
macro_rules! json_path {
    ($($seg:expr),* $(,)?) => { vec![$($crate::script::jsonpos::IntoSeg::into_seg($seg)),*] };
}

/// Conversion used by `json_path!`.
#[cfg(test)]
trait IntoSeg {
    /// Make a segment.
    fn into_seg(self) -> Seg;
}
#[cfg(test)]
impl IntoSeg for &str {
    fn into_seg(self) -> Seg {
        Seg::Key(self.to_string())
    }
}
#[cfg(test)]
impl IntoSeg for &String {
    fn into_seg(self) -> Seg {
        Seg::Key(self.clone())
    }
}
#[cfg(test)]
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
            let h = path_hash(path);
            // The first value of a path keeps it (a duplicate key is
            // reported separately).
            if let Ok(n) = u32::try_from(self.index.order.len())
                && !self.index.offsets.contains_key(&h)
            {
                self.index.offsets.insert(h, n);
                self.index.order.push((h, self.i));
            }
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
        // Small objects (an action's few members) are checked by a scan; a
        // large one (web Studio keys every action by id in one object)
        // moves to a hash set, so both stay linear.
        let mut few: Vec<String> = Vec::new();
        let mut many: HashSet<String, foldhash::fast::FixedState> = HashSet::default();
        while self.more(b'}') {
            if self.peek() != Some(b'"') {
                // Not valid JSON; stop quietly (serde_json reports it).
                self.i += 1;
                return;
            }
            let key_at = self.i;
            let key = self.string();
            let fresh = if many.is_empty() && few.len() < 16 {
                let fresh = !few.contains(&key);
                if fresh {
                    few.push(key.clone());
                }
                fresh
            } else {
                many.extend(few.drain(..));
                many.insert(key.clone())
            };
            if !fresh {
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
    }

    fn array(&mut self, path: &mut Vec<Seg>) {
        self.i += 1;
        let mut n = 0;
        while self.more(b']') {
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
    }

    /// Step over blanks; false at the container's `close` (stepped over)
    /// or at the end of the text, true when another item follows.
    fn more(&mut self, close: u8) -> bool {
        self.ws();
        match self.peek() {
            Some(c) if c == close => {
                self.i += 1;
                false
            }
            Some(_) => true,
            None => false,
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
        self.skip_string();
        let raw = self.b.get(start..self.i.min(self.b.len())).unwrap_or_default();
        serde_json::from_slice::<String>(raw).unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_paths_find_what_owned_paths_find() {
        let idx = JsonIndex::build(r#"{"actions": [{"id": "a", "next": "b"}]}"#, 4);
        let path: Vec<Seg> = json_path!["actions", 0, "next"];
        let owned = idx.offset(&path);
        assert!(owned.is_some());
        assert_eq!(idx.offset_of(&crate::json_ref!["actions", 0usize, "next"]), owned);
        assert_eq!(idx.offset_of(&crate::json_ref!["actions", 1usize, "next"]), None);
    }

    #[test]
    fn finds_values_and_duplicates() {
        let text = "{\n  \"a\": [ {\"id\": 1}, {\"id\": 2} ],\n  \"b\": {\"x\": 1, \"x\": 2}\n}";
        let idx = JsonIndex::build(text, 3);
        let path = json_path!["a", 1usize];
        let off = idx.offset(&path).unwrap();
        assert_eq!(&text[off..off + 1], "{");
        let path = json_path!["a", 1usize, "id"];
        let off = idx.offset(&path).unwrap();
        assert_eq!(&text[off..off + 1], "2");
        assert_eq!(idx.duplicates.len(), 1);
        assert_eq!(idx.duplicates[0].1, "x");
    }

    #[test]
    fn lone_surrogate_escape_is_named() {
        for (text, escape, at) in [
            ("[\"ab\\ud800\"]", "\\ud800", 4),
            ("{\n \"k\": \"\\uDC00x\"}", "\\uDC00", 9),
            ("[\"\\ud800\\u0041\"]", "\\ud800", 2),
        ] {
            let e = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            let (offset, msg) = lone_surrogate(text, &e).unwrap_or_else(|| panic!("{text}: {e}"));
            assert_eq!(offset, at, "{text}");
            assert!(msg.starts_with(&format!("lone surrogate {escape} ")), "{msg}");
        }
        let e = serde_json::from_str::<serde_json::Value>("[\"\\ud83d\\ude00\" x]").unwrap_err();
        assert!(lone_surrogate("[\"\\ud83d\\ude00\" x]", &e).is_none(), "a pair is fine");
    }

    #[test]
    fn survives_garbage() {
        for text in ["", "{", "[1,", "{\"a\"", "\"unterminated", "{]}", "[[[[", "}}}"] {
            let _ = JsonIndex::build(text, 4);
        }
    }
}
