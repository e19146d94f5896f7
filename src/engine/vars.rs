//! Variable tables and assignment targets.
//!
//! Names are case-insensitive (`Total` and `TOTAL` are one variable) and the
//! first spelling is kept for display. A table remembers the order variables
//! were created in, so reports list them the way a script author reads them.

use crate::value::{Hint, Value, var_key};
use indexmap::IndexMap;

/// One scope's variables.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    // foldhash: variable lookups sit on every expression evaluation, and
    // names come from scripts, not from an adversary on the network.
    map: IndexMap<String, Entry, foldhash::fast::FixedState>,
    /// Positions (in `map`) of the variables written since the last
    /// [`Vars::drain_changes`], when recording. Positions, not keys: a
    /// traced step then allocates nothing to remember what it changed.
    changes: Option<Vec<usize>>,
    /// Estimated bytes of every name and value held (the memory budget).
    bytes: u64,
}

/// A variable: its display name, its value, and the name as a JSON string
/// (made once: traces write it at every change).
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    value: Value,
    json_name: Box<[u8]>,
}

/// Fixed bytes of one variable beside its name and value.
const ENTRY: u64 = 64;

impl Entry {
    /// Estimated bytes: name (twice: key and display), value, overhead.
    fn bytes(&self) -> u64 {
        ENTRY + 2 * self.name.len() as u64 + self.value.extent().bytes
    }

    fn new(name: &str, value: Value) -> Entry {
        let name = name.trim().to_string();
        let mut json_name = Vec::with_capacity(name.len() + 2);
        crate::value::write_json_str(&mut json_name, &name);
        Entry { name, value, json_name: json_name.into_boxed_slice() }
    }
}

impl Vars {
    /// An empty table.
    pub fn new() -> Vars {
        Vars::default()
    }

    /// Start recording which variables change (for traces).
    pub fn record_changes(&mut self) {
        self.changes = Some(Vec::new());
    }

    /// Hand each variable written since the last call, once, in the order
    /// of first write, to `f` (the display name as a JSON string, value),
    /// and forget them.
    pub fn drain_changes(&mut self, mut f: impl FnMut(&[u8], &Value)) {
        let Some(mut c) = self.changes.take() else { return };
        for &i in &c {
            if let Some((_, e)) = self.map.get_index(i) {
                f(&e.json_name, &e.value);
            }
        }
        c.clear();
        self.changes = Some(c);
    }

    fn note_change(&mut self, i: usize) {
        if let Some(c) = &mut self.changes
            && !c.contains(&i)
        {
            c.push(i);
        }
    }

    /// Value of a variable by key (see [`var_key`]).
    pub fn get_key(&self, key: &str) -> Option<&Value> {
        self.map.get(key).map(|e| &e.value)
    }

    /// Value of a variable by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.get_key(&var_key(name))
    }

    /// Value by key, trying position `hint` first (and updating it).
    pub fn get_hinted(&self, key: &str, hint: &Hint) -> Option<&Value> {
        if let Some((k, e)) = self.map.get_index(hint.get())
            && k == key
        {
            return Some(&e.value);
        }
        let (i, _, e) = self.map.get_full(key)?;
        hint.set(i);
        Some(&e.value)
    }

    /// Set a variable by key, trying position `hint` first.
    pub fn set_hinted(&mut self, key: &str, name: &str, value: Value, hint: &Hint) {
        if let Some((k, e)) = self.map.get_index_mut(hint.get())
            && k == key
        {
            self.bytes = (self.bytes + value.extent().bytes).saturating_sub(e.value.extent().bytes);
            e.value = value;
            self.note_change(hint.get());
            return;
        }
        self.set_key(key, name, value);
        if let Some(i) = self.map.get_index_of(key) {
            hint.set(i);
        }
    }

    /// Set a variable by name.
    pub fn set(&mut self, name: &str, value: Value) {
        let key = var_key(name);
        self.set_key(&key, name, value);
    }

    /// Set a variable by precomputed key; `name` is the display spelling used
    /// if the variable is new.
    pub fn set_key(&mut self, key: &str, name: &str, value: Value) {
        let i = match self.map.get_full_mut(key) {
            Some((i, _, e)) => {
                self.bytes = (self.bytes + value.extent().bytes).saturating_sub(e.value.extent().bytes);
                e.value = value;
                i
            }
            None => {
                let e = Entry::new(name, value);
                self.bytes += e.bytes();
                self.map.insert_full(key.to_string(), e).0
            }
        };
        self.note_change(i);
    }

    /// Estimated bytes of all names and values held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Change variable `key` (created unset when missing) in place with
    /// `f`, keeping the byte count current.
    pub fn update<R>(&mut self, key: &str, name: &str, f: impl FnOnce(&mut Value) -> R) -> R {
        let i = match self.map.get_index_of(key) {
            Some(i) => i,
            None => {
                let e = Entry::new(name, Value::Null);
                self.bytes += e.bytes();
                self.map.insert_full(key.to_string(), e).0
            }
        };
        self.note_change(i);
        let slot = &mut self.map[i].value;
        let before = slot.extent().bytes;
        let r = f(slot);
        self.bytes = (self.bytes + slot.extent().bytes).saturating_sub(before);
        r
    }

    /// Remove a variable.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let (i, _, entry) = self.map.shift_remove_full(&var_key(name))?;
        self.bytes = self.bytes.saturating_sub(entry.bytes());
        let v = entry.value;
        // Later variables moved down one place.
        if let Some(c) = &mut self.changes {
            c.retain(|&j| j != i);
            for j in c.iter_mut().filter(|j| **j > i) {
                *j -= 1;
            }
        }
        Some(v)
    }

    /// Variables in creation order: (display name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.map.values().map(|e| (e.name.as_str(), &e.value))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The table as a JSON object (scalars as strings).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.iter().map(|(n, v)| (n.to_string(), v.to_report_json())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_keep_first_spelling() {
        let mut v = Vars::new();
        v.set("Total", Value::text("1"));
        v.set("TOTAL", Value::text("2"));
        assert_eq!(v.len(), 1);
        assert_eq!(v.iter().next(), Some(("Total", &Value::text("2"))));
        v.set("__err", Value::text("boom"));
        assert_eq!(v.get("_ERR"), Some(&Value::text("boom")));
    }

    #[test]
    fn changes_are_reported_once_in_first_write_order_and_survive_removals() {
        let drained = |v: &mut Vars| {
            let mut out = Vec::new();
            v.drain_changes(|json, x| {
                let n: String = serde_json::from_slice(json).unwrap();
                out.push(format!("{n}={x}"))
            });
            out
        };
        let mut v = Vars::new();
        v.set("a", Value::text("0"));
        v.record_changes();
        v.set("b", Value::text("1"));
        v.set("c", Value::text("2"));
        v.set("B", Value::text("3"));
        v.update("d", "d", |slot| *slot = Value::text("4"));
        assert_eq!(drained(&mut v), ["b=3", "c=2", "d=4"]);
        assert!(drained(&mut v).is_empty(), "draining forgets");
        // Removing a variable moves later ones down; their changes follow.
        v.set("d", Value::text("5"));
        v.set("c", Value::text("6"));
        assert_eq!(v.remove("b"), Some(Value::text("3")));
        assert_eq!(drained(&mut v), ["d=5", "c=6"]);
        v.set("c", Value::text("7"));
        assert_eq!(v.remove("c"), Some(Value::text("7")));
        assert!(drained(&mut v).is_empty(), "a removed variable is not reported");
    }
}
