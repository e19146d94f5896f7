//! Random input never panics the snippet parser, compiler or evaluator:
//! every failure is an error value. 10,000+ cases per `cargo test`.

use proptest::prelude::*;
use prospero::Value;
use prospero::script::Pos;
use prospero::snippet::VarSlot;
use prospero::snippet::{CompiledSnippet, EvalEnv, Limits, SnippetVars, Template, compile_expression};

struct Vars(Vec<(String, Value)>);
impl SnippetVars for Vars {
    fn get(&self, slot: &VarSlot) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == slot.key).map(|(_, v)| v)
    }
    fn set(&mut self, slot: &VarSlot, value: Value) {
        self.0.push((slot.key.clone(), value));
    }
    fn all(&self) -> Vec<(String, Value)> {
        self.0.clone()
    }
    fn set_named(&mut self, name: &str, value: Value) {
        self.0.push((name.to_string(), value));
    }
}

/// Small budgets so that random loops end quickly.
fn limits() -> Limits {
    Limits {
        operations: 5_000,
        string_size: 4096,
        array_size: 1000,
        object_size: 1000,
        call_depth: 16,
        ..Limits::default()
    }
}

/// Compile and, when it compiles, run: must return, never panic.
fn exercise(src: &str) {
    if let Ok(c) = CompiledSnippet::compile(src, Pos::new(1, 1), &[]) {
        let mut vars = Vars(vec![("a".into(), Value::text("a|b")), ("n".into(), Value::Number(3.0))]);
        let run = c.run(&mut vars, &mut EvalEnv::default(), &limits());
        if let Some(e) = run.error {
            assert!(!e.message.is_empty());
        }
    }
    if let Ok(e) = compile_expression(src, Pos::new(1, 1)) {
        let _ = e.eval(&NoVars, &mut EvalEnv::default(), &limits());
    }
    let _ = Template::compile(src, Pos::new(1, 1));
    let _ = prospero::script::load_text(src, None);
}

struct NoVars;
impl prospero::snippet::VarSource for NoVars {
    fn get(&self, _: &VarSlot) -> Option<&Value> {
        None
    }
}

const TOKENS: &[&str] = &[
    "ASSIGN",
    "DYNAMIC",
    "IF",
    "ELSE",
    "SWITCH",
    "SELECT",
    "CASE",
    "DEFAULT",
    "FOR",
    "TO",
    "STEP",
    "FOREACH",
    "IN",
    "WHILE",
    "BREAK",
    "FUNCTION",
    "RETURN",
    "TRACE",
    "global",
    ":",
    "x",
    "y",
    "a",
    "n",
    "o",
    "f",
    "len",
    "mid",
    "asjson",
    "parsejson",
    "dateadd",
    "random",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "\\",
    "%",
    "^",
    "~",
    "&",
    "|",
    "&&",
    "||",
    "!",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ";",
    "\n",
    "0",
    "1",
    "2.5",
    "1e3",
    "\"s\"",
    "\"{x}\"",
    "'t'",
    "$\"\\n\"",
    "#\"2026-01-01\"",
    "\"{",
    "}\"",
    "true",
    "$value",
    "size",
    "//c",
    "+=",
    "-=",
    "\"",
    "'",
    "#",
    "$",
    "@",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup_never_panics(picks in proptest::collection::vec(0..TOKENS.len(), 0..60)) {
        let src: Vec<&str> = picks.iter().map(|i| TOKENS[*i]).collect();
        exercise(&src.join(" "));
    }

    #[test]
    fn statement_shaped_soup_never_panics(picks in proptest::collection::vec(0..TOKENS.len(), 0..12), n in 0usize..4) {
        // Valid statement frames around random middles reach the compiler
        // and runtime more often than pure soup.
        let middle: Vec<&str> = picks.iter().map(|i| TOKENS[*i]).collect();
        let middle = middle.join(" ");
        let frames = [
            format!("x = {middle}"),
            format!("IF {middle} {{ y = 1 }} ELSE {{ y = 2 }}"),
            format!("FOR i = 1 TO 3 {{ x = {middle} }}"),
            format!("o.a[2] = {middle}\nz = asjson(o)"),
        ];
        exercise(&frames[n % frames.len()]);
    }
}
