//! Snippet speed: a 100,000-iteration FOR loop with arithmetic and string
//! interpolation, run as a compiled snippet and, in the same process, as
//! the equivalent hand-written rhai; and the time to compile a 200-line
//! snippet.
//!
//! Targets (issue 3): no more than 2× the hand-written rhai; compiling a
//! 200-line snippet under 5 ms. Run with `cargo bench --bench snippet`.

use prospero::Value;
use prospero::script::Pos;
use prospero::snippet::VarSlot;
use prospero::snippet::{CompiledSnippet, EvalEnv, Limits, SnippetVars};
use std::time::{Duration, Instant};

const SNIPPET: &str = "total = 0
FOR i = 1 TO 100000 {
  total = total + i * 2 % 7
  label = \"item {i} of 100000\"
}";

const RHAI: &str = "let total = 0;
let label = \"\";
for i in 1..=100000 {
  total = total + i * 2 % 7;
  label = `item ${i} of 100000`;
}
total";

#[derive(Default)]
struct Vars(Vec<(String, Value)>);

impl SnippetVars for Vars {
    fn get(&self, slot: &VarSlot) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == slot.key).map(|(_, v)| v)
    }
    fn set(&mut self, slot: &VarSlot, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == slot.key) {
            Some((_, v)) => *v = value,
            None => self.0.push((slot.key.clone(), value)),
        }
    }
    fn all(&self) -> Vec<(String, Value)> {
        self.0.clone()
    }
    fn set_named(&mut self, name: &str, value: Value) {
        self.0.push((name.to_lowercase(), value));
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn two_hundred_lines() -> String {
    let mut s = String::from("FUNCTION fee(amount, rate) {\n  RETURN round(amount * rate / 100, 2)\n}\n");
    let mut line = 3;
    while line < 200 {
        let n = line;
        s.push_str(&format!(
            "IF total{n} > {n} {{\n  label{n} = \"row {{{n}}}: {{left(name, 3)}}\"\n}} ELSE {{\n  total{n} = total{n} + fee({n}, 3)\n}}\n"
        ));
        line += 5;
    }
    s
}

fn main() {
    let limits = Limits { operations: 100_000_000, ..Limits::default() };
    let compiled = CompiledSnippet::compile(SNIPPET, Pos::new(1, 1), &[]).expect("compiles");
    assert!(compiled.has_typed_form(), "the loop compiles to the typed form");
    let mut engine = rhai::Engine::new();
    engine.set_max_strings_interned(0);
    engine.set_max_operations(100_000_000);
    let ast = engine.compile(RHAI).expect("rhai compiles");

    // Same result first.
    let mut vars = Vars::default();
    let run = compiled.run(&mut vars, &mut EvalEnv::default(), &limits);
    assert!(run.error.is_none(), "{:?}", run.error);
    let ours = vars.0.iter().find(|(k, _)| k == "total").map(|(_, v)| v.to_text().to_string()).unwrap_or_default();
    let direct: i64 = engine.eval_ast(&ast).expect("rhai runs");
    assert_eq!(ours, direct.to_string(), "both compute the same total");

    let (mut a, mut b) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) || a.len() < 5 {
        let t = Instant::now();
        let mut vars = Vars::default();
        let run = compiled.run(&mut vars, &mut EvalEnv::default(), &limits);
        assert!(run.error.is_none());
        a.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let v: i64 = engine.eval_ast(&ast).expect("runs");
        std::hint::black_box(v);
        b.push(t.elapsed().as_secs_f64());
    }
    let (ours, direct) = (median(&mut a), median(&mut b));
    println!("snippet benchmark: 100,000-iteration FOR loop, arithmetic + interpolation ({} rounds each)", a.len());
    println!("  snippet (compiled to rhai)  {:>8.2} ms", ours * 1e3);
    println!("  hand-written rhai           {:>8.2} ms", direct * 1e3);
    println!(
        "  ratio                       {:>8.2}× (target ≤ 2×) {}",
        ours / direct,
        if ours / direct <= 2.0 { "MET" } else { "MISSED" }
    );

    // How fast a runaway loop is stopped by the operations budget.
    let forever = CompiledSnippet::compile("WHILE 1 = 1 { }", Pos::new(1, 1), &[]).expect("compiles");
    let t = Instant::now();
    let run = forever.run(&mut Vars::default(), &mut EvalEnv::default(), &Limits::default());
    let stopped = t.elapsed();
    let why = run.error.map(|e| e.message).unwrap_or_default();
    assert!(why.contains("operations budget"), "{why}");
    println!("  WHILE 1 = 1 {{ }} stopped after {:.1} ms by: {why}", stopped.as_secs_f64() * 1e3);

    let src = two_hundred_lines();
    let lines = src.lines().count();
    let mut times = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let c = CompiledSnippet::compile(&src, Pos::new(1, 1), &[]).expect("200 lines compile");
        std::hint::black_box(c);
        times.push(t.elapsed().as_secs_f64());
    }
    let compile = median(&mut times);
    println!(
        "  compile a {lines}-line snippet  {:>8.2} ms (median of 30; target < 5 ms) {}",
        compile * 1e3,
        if compile < 0.005 { "MET" } else { "MISSED" }
    );
}
