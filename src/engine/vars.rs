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
    map: IndexMap<String, (String, Value), foldhash::fast::FixedState>,
    /// Keys written since the last [`Vars::take_changes`], when recording.
    changes: Option<Vec<String>>,
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

    /// The keys written since the last call.
    pub fn take_changes(&mut self) -> Vec<String> {
        match &mut self.changes {
            Some(c) => std::mem::take(c),
            None => Vec::new(),
        }
    }

    /// Value of a variable by key (see [`var_key`]).
    pub fn get_key(&self, key: &str) -> Option<&Value> {
        self.map.get(key).map(|(_, v)| v)
    }

    /// Value of a variable by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.get_key(&var_key(name))
    }

    /// Value by key, trying position `hint` first (and updating it).
    pub fn get_hinted(&self, key: &str, hint: &Hint) -> Option<&Value> {
        if let Some((k, (_, v))) = self.map.get_index(hint.get())
            && k == key
        {
            return Some(v);
        }
        let (i, _, (_, v)) = self.map.get_full(key)?;
        hint.set(i);
        Some(v)
    }

    /// Set a variable by key, trying position `hint` first.
    pub fn set_hinted(&mut self, key: &str, name: &str, value: Value, hint: &Hint) {
        if self.changes.is_none()
            && let Some((k, (_, slot))) = self.map.get_index_mut(hint.get())
            && k == key
        {
            *slot = value;
            return;
        }
        self.set_key(key, name, value);
        if let Some(i) = self.map.get_index_of(key) {
            hint.set(i);
        }
    }

    /// Display name and value by key.
    pub fn entry_by_key(&self, key: &str) -> Option<(&str, &Value)> {
        self.map.get(key).map(|(n, v)| (n.as_str(), v))
    }

    /// Set a variable by name.
    pub fn set(&mut self, name: &str, value: Value) {
        let key = var_key(name);
        self.set_key(&key, name, value);
    }

    /// Set a variable by precomputed key; `name` is the display spelling used
    /// if the variable is new.
    pub fn set_key(&mut self, key: &str, name: &str, value: Value) {
        if let Some(c) = &mut self.changes
            && !c.iter().any(|k| k == key)
        {
            c.push(key.to_string());
        }
        match self.map.get_mut(key) {
            Some(slot) => slot.1 = value,
            None => {
                self.map.insert(key.to_string(), (name.trim().to_string(), value));
            }
        }
    }

    /// Mutable access for member-path assignment (creates the variable).
    pub fn slot_mut(&mut self, key: &str, name: &str) -> &mut Value {
        if let Some(c) = &mut self.changes
            && !c.iter().any(|k| k == key)
        {
            c.push(key.to_string());
        }
        &mut self.map.entry(key.to_string()).or_insert_with(|| (name.trim().to_string(), Value::Null)).1
    }

    /// Remove a variable.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.map.shift_remove(&var_key(name)).map(|(_, v)| v)
    }

    /// Variables in creation order: (display name, value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.map.values().map(|(n, v)| (n.as_str(), v))
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
}
