//! Objects and arrays, and the [`Extent`] they keep current.
//!
//! Containers are the only values whose size grows while a run changes
//! them, so they own the accounting: every change goes through a method
//! here that updates the container's byte estimate and nesting depth, and
//! the run's budgets read both in constant time.

use super::{Str, Value};
use indexmap::IndexMap;

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
pub(super) fn account(bytes: &mut u64, depth: &mut u32, before: Extent, after: Extent) -> bool {
    *bytes = (*bytes + after.bytes).saturating_sub(before.bytes);
    *depth = (*depth).max(after.depth + 1);
    before.depth + 1 == *depth && after.depth < before.depth
}

impl Value {
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
    pub(super) fn update<R>(&mut self, name: &str, f: impl FnOnce(&mut Value) -> R) -> R {
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
    pub(super) fn contents(&self) -> Extent {
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
    pub(super) fn update<R>(&mut self, i: usize, f: impl FnOnce(&mut Value) -> R) -> R {
        let slot = &mut self.items[i];
        let before = slot.extent();
        let r = f(slot);
        if account(&mut self.bytes, &mut self.depth, before, slot.extent()) {
            self.depth = self.items.iter().map(|v| v.extent().depth + 1).max().unwrap_or(0);
        }
        r
    }

    pub(super) fn contents(&self) -> Extent {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{PathSeg, ValueLimits, set_path};
    use std::sync::Arc;

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
}
