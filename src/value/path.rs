//! Assignment targets: variable names, member paths inside a value, and
//! [`set_path`], which builds the objects and arrays a path walks through
//! within the [`ValueLimits`] of a run.

use super::{Array, Value};
use std::fmt;
use std::sync::Arc;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
