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
pub mod compile;
pub mod dates;
pub mod lexer;
pub mod parser;
pub mod rt;

use crate::script::Pos;
use crate::value::Value;
use compile::{Gen, VarSlot};
use rhai::{AST, Dynamic, EvalAltResult, Scope};
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

pub use rt::EvalEnv;

/// What went wrong in a snippet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnippetErrorKind {
    /// The text does not parse or uses something unknown.
    Syntax,
    /// Evaluation failed (division by zero, bad JSON, ...).
    Runtime,
    /// A budget was hit (operations, string size, array size, call depth).
    Limit,
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            operations: 1_000_000,
            string_size: 1 << 20,
            array_size: 1_000_000,
            object_size: 100_000,
            call_depth: 64,
        }
    }
}

/// A shortcut that avoids calling rhai for trivial expressions.
#[derive(Clone, Debug)]
enum Shortcut {
    /// A literal.
    Const(Value),
    /// A plain variable read.
    Var(usize),
}

/// An expression compiled to rhai, ready to evaluate many times.
#[derive(Clone)]
pub struct CompiledExpr {
    /// The dialect source.
    pub source: String,
    /// The generated rhai source.
    pub rhai: String,
    /// Variables the expression reads.
    pub vars: Vec<VarSlot>,
    ast: Arc<RhaiCode>,
    /// The same expression for when every variable holds a number (native
    /// float operators, no runtime-library calls).
    numeric: Option<Arc<RhaiCode>>,
    shortcut: Option<Shortcut>,
    base: Pos,
    /// Calls a function that reads the run context (`now`, `random`).
    uses_env: bool,
    /// Unique id (keys the evaluator's cached scope for this expression).
    id: u64,
}

impl fmt::Debug for CompiledExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledExpr").field("source", &self.source).field("rhai", &self.rhai).finish()
    }
}

/// A worker thread's evaluator: its own rhai engine (a shared engine
/// serialises on its string interner), a reusable scope, and rhai's
/// runtime state and function-resolution cache kept across evaluations so
/// each call does not rebuild them.
struct Evaluator {
    engine: rhai::Engine,
    limits: Option<Limits>,
    /// One scope per expression, holding its variables' names: rhai turns
    /// every pushed name into a new shared string, so names are pushed once
    /// and only the values change between evaluations.
    scopes: std::collections::HashMap<u64, Scope<'static>, foldhash::fast::FixedState>,
    global: rhai::GlobalRuntimeState,
    caches: rhai::Caches,
}

/// Beyond this many cached scopes (expressions of scripts loaded and
/// dropped over a long life), the cache starts over.
const MAX_CACHED_SCOPES: usize = 16_384;

static NEXT_EXPR_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    static EVAL: RefCell<Evaluator> = RefCell::new({
        let engine = rt::build_engine();
        let global = engine.new_global_runtime_state();
        Evaluator { engine, limits: None, scopes: Default::default(), global, caches: rhai::Caches::new() }
    });
}

impl Evaluator {
    fn set_limits(&mut self, limits: &Limits) {
        if self.limits.as_ref() != Some(limits) {
            let e = &mut self.engine;
            e.set_max_operations(limits.operations);
            e.set_max_string_size(limits.string_size);
            e.set_max_array_size(limits.array_size);
            e.set_max_map_size(limits.object_size);
            e.set_max_call_levels(limits.call_depth);
            self.limits = Some(*limits);
        }
    }

    /// Evaluate an expression AST (no script-defined functions) with the
    /// scope already filled.
    /// Evaluate `code` (an expression without script-defined functions) in
    /// the scope of expression `id`, after `fill` has put the variables'
    /// values in it. `fill` returns false to decline (the numeric form when
    /// a variable is not a number).
    #[allow(deprecated)] // `eval_statements_raw` is the internals entry point that reuses state
    fn eval_in(
        &mut self,
        id: u64,
        vars: &[VarSlot],
        code: &RhaiCode,
        fill: impl FnOnce(&mut Scope<'static>) -> bool,
    ) -> Option<Result<Dynamic, Box<EvalAltResult>>> {
        let Evaluator { engine, scopes, global, caches, .. } = self;
        if scopes.len() >= MAX_CACHED_SCOPES && !scopes.contains_key(&id) {
            scopes.clear();
        }
        let scope = scopes.entry(id).or_insert_with(|| {
            let mut s = Scope::new();
            for slot in vars {
                s.push_dynamic(slot.rhai.as_str(), Dynamic::UNIT);
            }
            s
        });
        if !fill(scope) {
            return None;
        }
        global.num_operations = 0;
        Some(match &code.root {
            // A single expression: evaluate the tree directly, skipping the
            // statement-block bookkeeping.
            Some(root) => {
                let mut ctx = rhai::EvalContext::new(engine, global, caches, scope, None);
                ctx.eval_expression_tree(&rhai::Expression::from(root))
            }
            None => engine.eval_statements_raw(global, caches, scope, code.ast.statements()),
        })
    }
}

/// Compiled rhai code for one expression: the AST, and its root expression
/// when the AST is exactly one.
struct RhaiCode {
    ast: AST,
    root: Option<rhai::Expr>,
}

impl RhaiCode {
    fn new(ast: AST) -> RhaiCode {
        let root = match ast.statements() {
            [rhai::Stmt::Expr(e)] => Some(e.as_ref().clone()),
            [rhai::Stmt::FnCall(f, pos)] => Some(rhai::Expr::FnCall(f.clone(), *pos)),
            _ => None,
        };
        RhaiCode { ast, root }
    }
}

fn compile_rhai(src: &str, base: Pos) -> Result<AST, SnippetError> {
    EVAL.with(|cell| {
        let ev = cell.borrow();
        ev.engine.compile_expression(src).map_err(|e| {
            // Generated code that rhai refuses is a compiler defect; report it
            // at the expression rather than panicking.
            SnippetError::syntax(base, format!("internal compiler error ({e}) for: {src}"))
        })
    })
}

/// Compile a dialect expression (IF, CASE, ASSIGN Numeric, ...).
pub fn compile_expression(src: &str, base: Pos) -> Result<CompiledExpr, SnippetError> {
    let expr = parser::parse_expression(src, base)?;
    compile_ast(&expr, src, base)
}

fn compile_ast(expr: &ast::Expr, src: &str, base: Pos) -> Result<CompiledExpr, SnippetError> {
    let mut g = Gen::default();
    let mut out = String::new();
    g.expr(expr, &mut out)?;
    let shortcut = match expr {
        ast::Expr::Var(..) => Some(Shortcut::Var(0)),
        ast::Expr::Num(n, _) => crate::value::parse_number(n).map(|v| Shortcut::Const(Value::Number(v))),
        ast::Expr::Bool(b, _) => Some(Shortcut::Const(Value::Bool(*b))),
        ast::Expr::Date(d, _) => Some(Shortcut::Const(Value::text(d.as_str()))),
        ast::Expr::Str(parts, _) => match parts.as_slice() {
            [ast::StrPart::Lit(s)] => Some(Shortcut::Const(Value::text(s.as_str()))),
            [] => Some(Shortcut::Const(Value::text(""))),
            _ => None,
        },
        _ => None,
    };
    let ast = compile_rhai(&out, base)?;
    let uses_env = rt::ENV_FUNCTIONS.iter().any(|f| out.contains(f));
    let mut num_src = String::new();
    let numeric = match (shortcut.is_none() && !g.vars.is_empty(), compile::numeric(expr, &mut num_src)) {
        (true, Some(_)) => compile_rhai(&num_src, base).ok().map(|a| Arc::new(RhaiCode::new(a))),
        _ => None,
    };
    Ok(CompiledExpr {
        source: src.to_string(),
        rhai: out,
        vars: g.vars,
        ast: Arc::new(RhaiCode::new(ast)),
        numeric,
        shortcut,
        base,
        uses_env,
        id: NEXT_EXPR_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    })
}

/// Where an evaluation reads variables from.
pub trait VarSource {
    /// The value of the variable in `slot` (`None` when unset).
    fn get(&self, slot: &VarSlot) -> Option<&Value>;
}

impl CompiledExpr {
    /// Evaluate with variables from `vars`, the run context `env`, under
    /// `limits`.
    pub fn eval(&self, vars: &dyn VarSource, env: &mut EvalEnv, limits: &Limits) -> Result<Value, SnippetError> {
        match &self.shortcut {
            Some(Shortcut::Const(v)) => return Ok(v.clone()),
            Some(Shortcut::Var(i)) => {
                return Ok(self.vars.get(*i).and_then(|s| vars.get(s)).cloned().unwrap_or_default());
            }
            None => {}
        }
        if self.uses_env {
            rt::ENV.with(|e| std::mem::swap(&mut *e.borrow_mut(), env));
        }
        let result = EVAL.with(|cell| {
            let mut ev = cell.borrow_mut();
            ev.set_limits(limits);
            // Fast path: every variable reads as a number.
            if let Some(numeric) = &self.numeric {
                let done = ev.eval_in(self.id, &self.vars, numeric, |scope| {
                    for slot in &self.vars {
                        match (vars.get(slot).and_then(Value::as_number), scope.get_mut(&slot.rhai)) {
                            (Some(n), Some(d)) => *d = Dynamic::from_float(n),
                            _ => return false,
                        }
                    }
                    true
                });
                if let Some(r) = done {
                    return r;
                }
            }
            let general = ev.eval_in(self.id, &self.vars, &self.ast, |scope| {
                for slot in &self.vars {
                    if let Some(d) = scope.get_mut(&slot.rhai) {
                        *d = vars.get(slot).map(Value::to_dynamic).unwrap_or(Dynamic::UNIT);
                    }
                }
                true
            });
            general.unwrap_or(Ok(Dynamic::UNIT))
        });
        if self.uses_env {
            rt::ENV.with(|e| std::mem::swap(&mut *e.borrow_mut(), env));
        }
        result.map(Value::from_dynamic).map_err(|e| runtime_error(&e, self.base, limits))
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
        EvalAltResult::ErrorTerminated(..) => limit("the run's wall-clock budget ran out".into()),
        other => SnippetError::runtime(pos, other.to_string()),
    }
}

/// A property value with `{expr}` parts, compiled.
#[derive(Clone, Debug)]
pub enum Template {
    /// No substitution: the text as written (shared, so producing it per
    /// execution costs a reference count).
    Literal(crate::value::Str),
    /// Exactly one `{expr}` and nothing else: yields the expression's value
    /// itself (an object stays an object).
    Single(CompiledExpr),
    /// Text with substitutions: yields text.
    Concat(CompiledExpr),
}

impl Template {
    /// Compile `src`. Brace groups that do not parse stay literal text.
    pub fn compile(src: &str, base: Pos) -> Result<Template, SnippetError> {
        if !src.contains('{') {
            return Ok(Template::Literal(src.into()));
        }
        let parts = parser::parse_template(src, base, false)?;
        match parts.as_slice() {
            [ast::StrPart::Lit(s)] => Ok(Template::Literal(s.as_str().into())),
            [ast::StrPart::Expr(e)] => Ok(Template::Single(compile_ast(e, src, base)?)),
            _ => {
                let expr = ast::Expr::Str(parts, base);
                let mut c = compile_ast(&expr, src, base)?;
                c.shortcut = None;
                c.numeric = None;
                Ok(Template::Concat(c))
            }
        }
    }

    /// Brace groups in `src` that look like substitutions but do not parse.
    pub fn suspicious_groups(src: &str, base: Pos) -> Vec<SnippetError> {
        let mut out = Vec::new();
        let chars: Vec<char> = src.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '{'
                && let Some(close) = lexer::scan_braces(&chars, i)
            {
                let inner: String = chars[i + 1..close].iter().collect();
                let looks_like_json = inner.trim_start().starts_with('"') || inner.contains(':');
                if !looks_like_json && let Err(e) = parser::parse_expression(&inner, base) {
                    out.push(e);
                }
                i = close + 1;
                continue;
            }
            i += 1;
        }
        out
    }

    /// Evaluate.
    pub fn eval(&self, vars: &dyn VarSource, env: &mut EvalEnv, limits: &Limits) -> Result<Value, SnippetError> {
        match self {
            Template::Literal(s) => Ok(Value::Text(s.clone())),
            Template::Single(e) => e.eval(vars, env, limits),
            Template::Concat(e) => e.eval(vars, env, limits),
        }
    }

    /// Variables the template reads.
    pub fn vars(&self) -> &[VarSlot] {
        match self {
            Template::Literal(_) => &[],
            Template::Single(e) | Template::Concat(e) => &e.vars,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn runtime_errors_are_values() {
        let e = compile_expression("1 / 0", Pos::new(2, 3)).unwrap();
        let err = e.eval(&Vars(HashMap::new()), &mut EvalEnv::default(), &Limits::default()).unwrap_err();
        assert_eq!(err.kind, SnippetErrorKind::Runtime);
        assert!(err.message.contains("division by zero"));
        assert!(compile_expression("nosuch(1)", Pos::new(1, 1)).is_err());
        assert!(compile_expression("len(1, 2)", Pos::new(1, 1)).is_err());
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
