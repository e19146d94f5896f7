//! The Studio snippet dialect: lexer, parser, compiler to rhai, runtime
//! library, and the evaluator.
//!
//! Load → compile → run are separate stages: property expressions and
//! `{}` templates are parsed and compiled to rhai ASTs once, when a script is
//! loaded, and evaluated many times. Each worker thread evaluates with its own
//! rhai `Engine` (a shared one serialises on its string interner); compiled
//! ASTs are shared. Variables reach rhai through a scope holding exactly the
//! variables the expression reads.

pub mod ast;
pub mod builtins;
pub mod compile;
pub mod dates;
mod eval;
pub mod lexer;
pub mod parser;
pub mod rt;
pub mod unit;

use crate::base::Pos;
use rhai::EvalAltResult;
use std::fmt;

pub use eval::{CompiledExpr, Template, VarSource, compile_expression};
pub use rt::EvalEnv;
pub use unit::{CompiledSnippet, SnippetRun, SnippetVars};

/// What went wrong in a snippet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnippetErrorKind {
    /// The text does not parse or uses something unknown.
    Syntax,
    /// Evaluation failed (division by zero, bad JSON, ...).
    Runtime,
    /// A budget was hit (operations, string size, array size, call depth,
    /// nesting depth): the action takes `OnError`.
    Limit,
    /// A run-level budget ran out inside the evaluation (the run's
    /// memory): the run ends `budget_exceeded`.
    RunBudget,
    /// The text nests deeper than the parser allows: an error even where
    /// text that does not parse would otherwise stay literal.
    TooDeep,
}

/// An error in snippet text, with its position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct SnippetError {
    /// Kind of error.
    pub kind: SnippetErrorKind,
    /// Line and column in the snippet (or property) text.
    pub pos: Pos,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for SnippetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.pos.line, self.pos.column, self.message)
    }
}

impl SnippetError {
    /// A syntax error.
    pub fn syntax(pos: Pos, message: impl Into<String>) -> SnippetError {
        SnippetError { kind: SnippetErrorKind::Syntax, pos, message: message.into() }
    }

    /// A runtime error.
    pub fn runtime(pos: Pos, message: impl Into<String>) -> SnippetError {
        SnippetError { kind: SnippetErrorKind::Runtime, pos, message: message.into() }
    }
}

/// Limits for one evaluation, taken from the run's budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most rhai operations per evaluation.
    pub operations: u64,
    /// Longest string, in bytes.
    pub string_size: usize,
    /// Most array elements.
    pub array_size: usize,
    /// Most object members.
    pub object_size: usize,
    /// Deepest function-call nesting.
    pub call_depth: usize,
    /// Deepest nesting of objects and arrays in a value.
    pub max_depth: u32,
    /// Bytes the evaluation's values may add to what the run already holds
    /// (the run's memory budget less what it holds when the snippet starts).
    pub memory: u64,
}

impl Limits {
    /// The value limits these imply.
    pub fn value_limits(&self) -> crate::value::ValueLimits {
        crate::value::ValueLimits {
            max_array: self.array_size,
            max_object: self.object_size,
            max_depth: self.max_depth.min(crate::value::HARD_DEPTH),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            operations: 1_000_000,
            string_size: 1 << 20,
            array_size: 1_000_000,
            object_size: 100_000,
            call_depth: 64,
            max_depth: crate::value::DEFAULT_MAX_DEPTH,
            memory: 256 << 20,
        }
    }
}

/// Translate a rhai failure into a dialect error at `pos`.
pub fn runtime_error(e: &EvalAltResult, pos: Pos, limits: &Limits) -> SnippetError {
    let limit = |message: String| SnippetError { kind: SnippetErrorKind::Limit, pos, message };
    match e {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => runtime_error(inner, pos, limits),
        EvalAltResult::ErrorRuntime(msg, _) => SnippetError::runtime(pos, msg.to_string()),
        EvalAltResult::ErrorTooManyOperations(_) => {
            limit(format!("snippet operations budget exceeded ({} operations)", limits.operations))
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let (name, n) = if what.contains("Array") {
                ("array size", limits.array_size)
            } else if what.contains("Map") || what.contains("Object") {
                ("object size", limits.object_size)
            } else {
                ("string size", limits.string_size)
            };
            limit(format!("{name} budget exceeded (limit {n})"))
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            limit(format!("call depth budget exceeded (limit {})", limits.call_depth))
        }
        EvalAltResult::ErrorTerminated(token, _) if token.is_string() => {
            SnippetError { kind: SnippetErrorKind::RunBudget, pos, message: token.to_string() }
        }
        EvalAltResult::ErrorTerminated(..) => limit("the run's wall-clock budget ran out".into()),
        other => SnippetError::runtime(pos, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Pos;
    use crate::value::Value;
    use compile::VarSlot;
    use std::collections::HashMap;

    struct Vars(HashMap<String, Value>);
    impl VarSource for Vars {
        fn get(&self, slot: &VarSlot) -> Option<&Value> {
            self.0.get(&slot.key)
        }
    }

    fn eval_with(src: &str, vars: &[(&str, Value)]) -> Value {
        let e = compile_expression(src, Pos::new(1, 1)).unwrap_or_else(|e| panic!("{src}: {e}"));
        let vars = Vars(vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
        e.eval(&vars, &mut EvalEnv::default(), &Limits::default()).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    fn ev(src: &str) -> String {
        eval_with(src, &[]).to_text().to_string()
    }

    #[test]
    fn documented_arithmetic() {
        assert_eq!(ev("123 + 456 + nextNum"), "579");
        assert_eq!(eval_with("123 + 456 + nextNum", &[("nextnum", Value::text("abc"))]).to_text(), "579");
        assert_eq!(eval_with("123 + 456 + nextNum", &[("nextnum", Value::text("789"))]).to_text(), "1368");
        assert_eq!(ev("7 \\ 2"), "3");
        assert_eq!(ev("7 % 4"), "3");
        assert_eq!(ev("2 ^ 10"), "1024");
        assert_eq!(ev("-2 ^ 2"), "4");
        assert_eq!(ev("6 ~ 3"), "5");
        assert_eq!(ev("0.1 + 0.2"), "0.3");
    }

    #[test]
    fn comparisons_and_logic() {
        assert_eq!(ev("\"10\" > 9"), "True");
        assert_eq!(ev("\"b\" > \"a10\""), "True");
        assert_eq!(ev("1 = 1 | 2 = 3"), "True");
        assert_eq!(ev("1 = 1 & 2 = 3"), "False");
        assert_eq!(ev("!(1 <> 1)"), "True");
        assert_eq!(ev("missing = \"\""), "True");
    }

    #[test]
    fn strings_interpolate_expressions() {
        assert_eq!(
            eval_with("\"{a} + {b} = {a + b}\"", &[("a", Value::text("2")), ("b", 3i64.into())]).to_text(),
            "2 + 3 = 5"
        );
        assert_eq!(ev("\"{upper('x')}{len(\"abc\")}\""), "X3");
        assert_eq!(ev("$\"a\\tb\\{c}\""), "a\tb{c}");
    }

    #[test]
    fn members_indexes_and_calls() {
        let obj = Value::from_json(&serde_json::json!({"name": "Ada", "list": [{"x": 1}, {"x": 2}]}));
        assert_eq!(eval_with("o.list[2].x", &[("o", obj.clone())]).to_text(), "2");
        assert_eq!(eval_with("o.list.size", &[("o", obj.clone())]).to_text(), "2");
        assert_eq!(eval_with("o.name.len()", &[("o", obj)]).to_text(), "3");
        assert_eq!(eval_with("s[2]", &[("s", Value::text("a|b|c"))]).to_text(), "b");
    }

    #[test]
    fn member_chains_read_directly_agree_with_rhai() {
        // `{o.a.b}` alone is read without rhai; inside other text it goes
        // through rhai's member function. Both must give the same answers.
        let obj = Value::from_json(&serde_json::json!({
            "a": {"b": "deep", "count": "7", "list": [1, 2, 3]},
            "t": "x|y", "n": 4, "e": ""
        }));
        let vars = Vars([("o".to_string(), obj)].into());
        for (path, want) in [
            ("o.a.b", "deep"),
            ("o.a.missing", ""),
            ("o.a.count", "7"),
            ("o.a.list.size", "3"),
            ("o.a.Length", "3"),
            ("o.t.count", "2"),
            ("o.e.size", "0"),
            ("o.n.$value", "4"),
            ("o.missing.b", ""),
            ("nobody.x", ""),
            ("nobody.size", "0"),
        ] {
            let direct = Template::compile(&format!("{{{path}}}"), Pos::new(1, 1)).unwrap();
            let direct = direct.eval(&vars, &mut EvalEnv::default(), &Limits::default()).unwrap();
            let rhai = Template::compile(&format!("[{{{path}}}]"), Pos::new(1, 1)).unwrap();
            let rhai = rhai.eval(&vars, &mut EvalEnv::default(), &Limits::default()).unwrap();
            assert_eq!(direct.to_text(), want, "{path}");
            assert_eq!(format!("[{}]", direct.to_text()), rhai.to_text(), "{path}");
        }
    }

    #[test]
    fn round_with_huge_digits_is_not_inexact() {
        assert_eq!(ev("round(1.5, 100000000)"), ev("1.5"));
        assert_eq!(ev("round(1.5, 10)"), ev("1.5"));
        assert_eq!(ev("round(0.1 + 0.2, 15)"), ev("0.3"));
        assert_eq!(ev("round(2.675, 2)"), ev("2.68"));
        // Digits count from 0 to 15: fewer round to whole numbers.
        assert_eq!(ev("round(1234.5, -2)"), ev("1235"));
        assert_eq!(ev("round(1234.5, -100000000)"), ev("1235"));
        assert_eq!(ev("round(123456789012345678, 2)"), ev("123456789012345678"));
    }

    #[test]
    fn lone_surrogate_escape_is_named_by_parsejson() {
        let e = compile_expression(r#"parsejson($"[\"ab\\ud800\"]")"#, Pos::new(1, 1)).unwrap();
        let err = e.eval(&Vars(HashMap::new()), &mut EvalEnv::default(), &Limits::default()).unwrap_err();
        assert!(err.message.contains("lone surrogate \\ud800 in a string"), "{err}");
        assert!(err.message.contains("line 1, column 5"), "{err}");
    }

    #[test]
    fn runtime_errors_are_values() {
        let e = compile_expression("1 / 0", Pos::new(2, 3)).unwrap();
        let err = e.eval(&Vars(HashMap::new()), &mut EvalEnv::default(), &Limits::default()).unwrap_err();
        assert_eq!(err.kind, SnippetErrorKind::Runtime);
        assert!(err.message.contains("division by zero"));
        assert!(compile_expression("nosuch(1)", Pos::new(1, 1)).is_err());
        assert!(compile_expression("len(1, 2)", Pos::new(1, 1)).is_err());
    }

    /// Regression: a `{...}` group refused only for its depth stayed
    /// literal text, so a too-deep expression silently became its source.
    #[test]
    fn a_template_nested_past_the_limit_is_an_error_not_literal_text() {
        let flat = format!("{{{}}}", vec!["1"; 300].join("+"));
        let e = Template::compile(&flat, Pos::new(1, 1)).unwrap_err();
        assert_eq!(e.kind, SnippetErrorKind::TooDeep, "{e}");
        let compiled_deep = format!("{{{}}}", vec!["1"; 100].join("+"));
        let e = Template::compile(&compiled_deep, Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("nested too deeply once compiled"), "{e}");
        // Braces that are simply not an expression still stay literal.
        assert!(matches!(Template::compile("{\"a\": 1}", Pos::new(1, 1)), Ok(Template::Literal(_))));
    }

    #[test]
    fn templates_keep_objects_and_literals() {
        let t = Template::compile("{o}", Pos::new(1, 1)).unwrap();
        assert!(matches!(t, Template::Single(_)));
        let t = Template::compile("{\"a\": 1}", Pos::new(1, 1)).unwrap();
        assert!(matches!(t, Template::Literal(_)));
        let t = Template::compile("n={n}", Pos::new(1, 1)).unwrap();
        let v = t
            .eval(&Vars([("n".to_string(), Value::Number(2.0))].into()), &mut EvalEnv::default(), &Limits::default())
            .unwrap();
        assert_eq!(v, Value::text("n=2"));
    }
}
