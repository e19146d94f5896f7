//! The built-in functions' signatures: the single list of names, arities
//! and result types.
//!
//! The parser refuses a FUNCTION that would shadow a built-in, the compiler
//! checks calls and picks native operators from the result types, and the
//! runtime library (`builtins.rs`) registers an implementation for
//! each entry; `docs/snippet.md` documents each entry with an example that
//! a test runs. Kept apart from the implementations so that the parser and
//! the compiler need none of the runtime.

/// Static type of a compiled node (and of a built-in's result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// Always a boolean.
    Bool,
    /// Always a number.
    Num,
    /// Always text.
    Text,
    /// Not known before running.
    Any,
}

/// Every built-in: name, least and most arguments, and the static type of
/// its result (the compiler uses it to pick native operators).
pub const BUILTINS: &[(&str, usize, usize, Ty)] = &[
    // text
    ("len", 1, 1, Ty::Num),
    ("left", 2, 2, Ty::Text),
    ("right", 2, 2, Ty::Text),
    ("mid", 2, 3, Ty::Text),
    ("upper", 1, 1, Ty::Text),
    ("lower", 1, 1, Ty::Text),
    ("trim", 1, 1, Ty::Text),
    ("ltrim", 1, 1, Ty::Text),
    ("rtrim", 1, 1, Ty::Text),
    ("replace", 3, 3, Ty::Text),
    ("indexof", 2, 2, Ty::Num),
    ("contains", 2, 2, Ty::Bool),
    ("startswith", 2, 2, Ty::Bool),
    ("endswith", 2, 2, Ty::Bool),
    ("padleft", 2, 3, Ty::Text),
    ("split", 2, 2, Ty::Text),
    ("format", 2, 2, Ty::Text),
    // numbers
    ("abs", 1, 1, Ty::Num),
    ("round", 1, 2, Ty::Num),
    ("floor", 1, 1, Ty::Num),
    ("ceiling", 1, 1, Ty::Num),
    ("min", 2, 2, Ty::Num),
    ("max", 2, 2, Ty::Num),
    ("random", 1, 2, Ty::Num),
    ("isnumeric", 1, 1, Ty::Bool),
    // dates
    ("now", 0, 0, Ty::Text),
    ("asdate", 1, 1, Ty::Text),
    ("astime", 1, 1, Ty::Text),
    ("asdatetime", 1, 2, Ty::Text),
    ("asisodatetime", 1, 1, Ty::Text),
    ("asutc", 1, 1, Ty::Text),
    ("dateadd", 2, 3, Ty::Text),
    ("datediff", 3, 3, Ty::Num),
    ("datepart", 2, 2, Ty::Num),
    ("datebuild", 3, 3, Ty::Text),
    ("datetimebuild", 6, 6, Ty::Text),
    ("dow", 1, 1, Ty::Num),
    // objects and arrays
    ("asjson", 1, 1, Ty::Text),
    ("parsejson", 1, 1, Ty::Any),
    ("count", 1, 1, Ty::Num),
    ("append", 2, 2, Ty::Any),
];

/// Whether `name` (lower case) is a built-in function, and its arity range.
pub fn builtin(name: &str) -> Option<(usize, usize)> {
    BUILTINS.iter().find(|(n, ..)| *n == name).map(|(_, a, b, _)| (*a, *b))
}

/// The static type of built-in `name`'s result.
pub fn builtin_type(name: &str) -> Ty {
    BUILTINS.iter().find(|(n, ..)| *n == name).map(|(.., t)| *t).unwrap_or(Ty::Any)
}
