//! The Studio snippet dialect: lexer, parser, compiler to rhai, runtime
//! library, and the evaluator.
//!
//! Load → compile → run are separate stages: property expressions and
//! `{}` templates are parsed and compiled to rhai ASTs once, when a script is
//! loaded, and evaluated many times. Each worker thread evaluates with its own
//! rhai `Engine` (a shared one serialises on its string interner); compiled
//! ASTs are shared. Variables reach rhai through a scope holding exactly the
//! variables the expression reads.
//!
//! The files import one way, each only from those listed before it:
//!
//! | layer | files | owns |
//! |---|---|---|
//! | leaves | `error`, `ast`, `lexer`, `signatures`, `coerce` | errors and limits; the syntax tree and the walks over it; tokens; the built-in functions' signatures; reading rhai values as numbers, text and truth |
//! | run context | `context`, `dates` | the per-evaluation clock, random numbers, traces and memory budget; date reading and formatting |
//! | runtime library | `builtins`, then `rt` | the built-in functions; the operators, statement helpers and the engine that registers both |
//! | front end | `parser` (with `parser/template`, `parser/statements`), `compile` (with `compile/statements`) | dialect text to syntax tree; syntax tree to rhai source |
//! | evaluator | `eval`, then `unit` | compiled expressions and templates on a per-thread engine; whole compiled snippets |
//!
//! This file only re-exports: no file below imports it.

pub(crate) mod ast;
pub(crate) mod builtins;
mod coerce;
pub(crate) mod compile;
mod context;
pub(crate) mod dates;
mod error;
mod eval;
pub(crate) mod lexer;
pub(crate) mod parser;
pub(crate) mod rt;
mod signatures;
pub(crate) mod unit;

pub use builtins::BUILTINS;
pub use compile::VarSlot;
pub use context::EvalEnv;
pub use error::{Limits, SnippetError, SnippetErrorKind, runtime_error};
pub use eval::{CompiledExpr, Template, VarSource, compile_expression};
pub use parser::MAX_NESTING;
pub use unit::{CompiledSnippet, SnippetRun, SnippetVars};

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

    /// Each source evaluates, without variables, to its text.
    fn evaluates_to(cases: &[(&str, &str)]) {
        for (src, want) in cases {
            assert_eq!(ev(src), *want, "{src}");
        }
    }

    #[test]
    fn documented_arithmetic() {
        assert_eq!(ev("123 + 456 + nextNum"), "579");
        assert_eq!(eval_with("123 + 456 + nextNum", &[("nextnum", Value::text("abc"))]).to_text(), "579");
        assert_eq!(eval_with("123 + 456 + nextNum", &[("nextnum", Value::text("789"))]).to_text(), "1368");
        evaluates_to(&[
            ("7 \\ 2", "3"),
            ("7 % 4", "3"),
            ("2 ^ 10", "1024"),
            ("-2 ^ 2", "4"),
            ("6 ~ 3", "5"),
            ("0.1 + 0.2", "0.3"),
        ]);
    }

    #[test]
    fn comparisons_and_logic() {
        evaluates_to(&[
            ("\"10\" > 9", "True"),
            ("\"b\" > \"a10\"", "True"),
            ("1 = 1 | 2 = 3", "True"),
            ("1 = 1 & 2 = 3", "False"),
            ("!(1 <> 1)", "True"),
            ("missing = \"\"", "True"),
        ]);
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
