//! The per-thread evaluator and compiled expressions and templates.
//!
//! Each worker thread evaluates with its own rhai `Engine` (a shared one
//! serialises on its string interner) and keeps rhai's runtime state, its
//! function-resolution cache and one scope per compiled unit between calls,
//! so an evaluation only writes variable values into an existing scope.

use super::compile::{Gen, Typing, VarSlot};
use super::context::{ENV, ENV_FUNCTIONS, EvalEnv, VALUE_LIMITS, enter};
use super::error::{Limits, SnippetError, SnippetErrorKind, runtime_error};
use super::{ast, lexer, parser, rt};
use crate::base::Pos;
use crate::value::Value;
use rhai::{AST, Dynamic, EvalAltResult, Scope};
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// A shortcut that avoids calling rhai for trivial expressions.
#[derive(Clone, Debug)]
enum Shortcut {
    /// A literal.
    Const(Value),
    /// A plain variable read.
    Var(usize),
    /// Members of a variable, `results.Summary.Created`: read straight
    /// from the value, so a large object is not handed to rhai whole.
    Path(usize, Vec<String>),
}

/// The member names of `a.b.c` when the chain starts at a variable.
fn member_path(expr: &ast::Expr) -> Option<Vec<String>> {
    match expr {
        ast::Expr::Member(inner, name, _) => {
            let mut names = match inner.as_ref() {
                ast::Expr::Var(..) => Vec::new(),
                other => member_path(other)?,
            };
            names.push(name.clone());
            Some(names)
        }
        _ => None,
    }
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
    /// Absent when a shortcut answers every evaluation (a literal, a
    /// variable, a member path): compiling rhai for each of a large
    /// script's constants cost most of its loading time.
    ast: Option<Arc<RhaiCode>>,
    /// The same expression compiled with every variable taken as a number
    /// (native float operators), and for each variable whether it must hold
    /// an actual number (it is used where numeric text would differ) or
    /// may hold numeric text.
    numeric: Option<(Arc<RhaiCode>, Vec<bool>)>,
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
pub(crate) struct Evaluator {
    engine: rhai::Engine,
    limits: Option<Limits>,
    /// One scope per expression, holding its variables' names: rhai turns
    /// every pushed name into a new shared string, so names are pushed once
    /// and only the values change between evaluations.
    scopes: std::collections::HashMap<u64, Scope<'static>, foldhash::fast::FixedState>,
    global: rhai::GlobalRuntimeState,
    caches: rhai::Caches,
}

/// Stack a snippet with script-defined functions runs on: 64 call levels
/// (the call-depth limit) at up to 64 KiB each, with room to spare.
const FUNCTION_STACK: usize = 8 << 20;

/// Beyond this many cached scopes (expressions of scripts loaded and
/// dropped over a long life), the cache starts over.
const MAX_CACHED_SCOPES: usize = 16_384;

pub(crate) static NEXT_EXPR_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    pub(crate) static EVAL: RefCell<Evaluator> = RefCell::new({
        let engine = rt::build_engine();
        let global = engine.new_global_runtime_state();
        Evaluator { engine, limits: None, scopes: Default::default(), global, caches: rhai::Caches::new() }
    });
}

thread_local! {
    /// The evaluator for plain-rhai snippets: the same engine plus a guard
    /// on rhai's own arrays and maps, which the dialect's limits do not see.
    pub(crate) static EVAL_PLAIN: RefCell<Evaluator> = RefCell::new({
        let mut engine = rt::build_engine();
        #[allow(deprecated)] // `on_var` is stable in practice; rhai marks it volatile
        engine.on_var(plain_rhai_guard);
        let global = engine.new_global_runtime_state();
        Evaluator { engine, limits: None, scopes: Default::default(), global, caches: rhai::Caches::new() }
    });
}

/// Before plain rhai reads a variable holding an array or map, refuse it
/// when it nests deeper than the value limit. rhai copies and drops nested
/// data recursively on the native stack, so unchecked nesting (`a = [a]`
/// in a loop) would overflow the thread's stack within a few thousand
/// levels. The walk is paid from the snippet's operations budget (one
/// operation per element visited), so checking never costs more than the
/// budget allows.
fn plain_rhai_guard(
    name: &str,
    _index: usize,
    mut ctx: rhai::EvalContext,
) -> Result<Option<Dynamic>, Box<EvalAltResult>> {
    let Some(v) = ctx.scope().get(name) else { return Ok(None) };
    if !(v.is_array() || v.is_map()) {
        return Ok(None);
    }
    let max = VALUE_LIMITS.with(|c| c.get()).max_depth;
    let mut visited = 0u64;
    let deep = nests_deeper(v, max, &mut visited);
    ctx.global_runtime_state_mut().num_operations += visited;
    if deep {
        return Err(crate::value::PathError::TooDeep(max).to_string().into());
    }
    Ok(None)
}

/// True when `d` nests more than `left` levels; counts elements visited.
fn nests_deeper(d: &Dynamic, left: u32, visited: &mut u64) -> bool {
    if d.is_array() {
        if left == 0 {
            return true;
        }
        let Some(a) = d.read_lock::<rhai::Array>() else { return false };
        *visited += a.len() as u64;
        return a.iter().any(|x| nests_deeper(x, left - 1, visited));
    }
    if d.is_map() {
        if left == 0 {
            return true;
        }
        let Some(m) = d.read_lock::<rhai::Map>() else { return false };
        *visited += m.len() as u64;
        return m.values().any(|x| nests_deeper(x, left - 1, visited));
    }
    if let Some(v) = d.read_lock::<Value>() {
        return v.extent().depth > left;
    }
    false
}

impl Evaluator {
    pub(crate) fn set_limits(&mut self, limits: &Limits) {
        // The memory allowance changes from call to call and is not an
        // engine setting (`context::enter` hands it to the runtime library).
        let limits = &Limits { memory: 0, ..*limits };
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

    /// What an evaluation works with: the engine, unit `id`'s cached scope
    /// after `fill` has put the variables' values in it, and rhai's runtime
    /// state with the operations count reset. `None` when `fill` declines.
    #[inline]
    #[allow(clippy::type_complexity)]
    fn prepare(
        &mut self,
        id: u64,
        vars: &[VarSlot],
        fill: impl FnOnce(&mut Scope<'static>) -> bool,
    ) -> Option<(&rhai::Engine, &mut Scope<'static>, &mut rhai::GlobalRuntimeState, &mut rhai::Caches)> {
        let Evaluator { engine, scopes, global, caches, .. } = self;
        let scope = cached_scope(scopes, id, vars);
        if !fill(scope) {
            return None;
        }
        global.num_operations = 0;
        Some((engine, scope, global, caches))
    }

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
        let (engine, scope, global, caches) = self.prepare(id, vars, fill)?;
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

    /// Drop the cached scope of unit `id`.
    pub(crate) fn forget(&mut self, id: u64) {
        self.scopes.remove(&id);
    }

    /// Run a snippet's code in its cached scope. `fill` writes the
    /// variables in (false declines, as for the typed form); `collect` reads
    /// them back, also after a failure (statements that ran keep their
    /// effects). Script-defined functions get a fresh resolution cache: two
    /// scripts may define functions of the same name.
    #[allow(deprecated)] // `eval_statements_raw` is the internals entry point that reuses state
    pub(crate) fn run_unit(
        &mut self,
        id: u64,
        vars: &[VarSlot],
        code: &RhaiCode,
        fill: impl FnOnce(&mut Scope<'static>) -> bool,
        collect: impl FnOnce(&Scope<'static>),
    ) -> Option<Result<Dynamic, Box<EvalAltResult>>> {
        let (engine, scope, global, caches) = self.prepare(id, vars, fill)?;
        let lib_len = global.lib.len();
        let has_functions = code.ast.has_functions();
        if has_functions {
            global.lib.push(code.ast.shared_lib().clone());
        }
        let r = if has_functions {
            let mut fresh = rhai::Caches::new();
            // Script functions recurse (up to the call-depth limit) on the
            // native stack, each level tens of KiB in an unoptimised
            // build: give them a stack that holds every level, whatever
            // thread the run is on (a tokio worker has 2 MiB).
            stacker::maybe_grow(FUNCTION_STACK, FUNCTION_STACK, || {
                engine.eval_statements_raw(global, &mut fresh, scope, code.ast.statements())
            })
        } else {
            engine.eval_statements_raw(global, caches, scope, code.ast.statements())
        };
        global.lib.truncate(lib_len);
        collect(scope);
        // Temporaries of a failed run must not pile up in the cached scope.
        scope.rewind(vars.len());
        Some(r)
    }
}

/// Compiled rhai code for one expression: the AST, and its root expression
/// when the AST is exactly one.
pub(crate) struct RhaiCode {
    ast: AST,
    root: Option<rhai::Expr>,
}

impl RhaiCode {
    pub(crate) fn new(ast: AST) -> RhaiCode {
        let root = match ast.statements() {
            [rhai::Stmt::Expr(e)] => Some(e.as_ref().clone()),
            [rhai::Stmt::FnCall(f, pos)] => Some(rhai::Expr::FnCall(f.clone(), *pos)),
            _ => None,
        };
        RhaiCode { ast, root }
    }
}

/// Compile a whole generated program (statements and functions).
pub(crate) fn compile_rhai_program(src: &str, base: Pos) -> Result<AST, SnippetError> {
    EVAL.with(|cell| {
        let ev = cell.borrow();
        ev.engine.compile(src).map_err(|e| SnippetError::syntax(base, format!("internal compiler error ({e})")))
    })
}

/// Compile user-written rhai (a snippet that declares itself plain rhai).
pub(crate) fn compile_plain_rhai(src: &str, base: Pos) -> Result<AST, SnippetError> {
    EVAL.with(|cell| {
        let ev = cell.borrow();
        ev.engine.compile(src).map_err(|e| {
            let p = e.position();
            let pos = Pos::new(base.line + p.line().unwrap_or(1) as u32 - 1, p.position().unwrap_or(1) as u32);
            SnippetError::syntax(pos, e.err_type().to_string())
        })
    })
}

fn compile_rhai(src: &str, base: Pos) -> Result<AST, SnippetError> {
    EVAL.with(|cell| {
        let ev = cell.borrow();
        ev.engine.compile_expression(src).map_err(|e| {
            if matches!(e.err_type(), rhai::ParseErrorType::ExprTooDeep) {
                // Each operator of a chain is one call deep once compiled.
                return SnippetError {
                    kind: SnippetErrorKind::TooDeep,
                    pos: base,
                    message: "the expression is nested too deeply once compiled (more than 64 levels of operators and calls); split it over several steps".into(),
                };
            }
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
        ast::Expr::Member(..) if g.vars.len() == 1 => member_path(expr).map(|names| Shortcut::Path(0, names)),
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
    let ast = match shortcut {
        Some(_) => None,
        None => Some(Arc::new(RhaiCode::new(compile_rhai(&out, base)?))),
    };
    let uses_env = ENV_FUNCTIONS.iter().any(|f| out.contains(f));
    let numeric = if shortcut.is_none() && !g.vars.is_empty() {
        let mut typed = Gen::new(Typing::All, &[]);
        let mut num_src = String::new();
        typed.expr(expr, &mut num_src)?;
        // Only worth having when it differs; the variables come out in the
        // same order from the same tree.
        let same_slots = typed.vars.iter().map(|s| &s.key).eq(g.vars.iter().map(|s| &s.key));
        if num_src != out && same_slots {
            let exact = g.vars.iter().map(|s| typed.text_sensitive.contains(&s.key)).collect();
            compile_rhai(&num_src, base).ok().map(|a| (Arc::new(RhaiCode::new(a)), exact))
        } else {
            None
        }
    } else {
        None
    };
    Ok(CompiledExpr {
        source: src.to_string(),
        rhai: out,
        vars: g.vars,
        ast,
        numeric,
        shortcut,
        base,
        uses_env,
        id: NEXT_EXPR_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    })
}

/// The cached scope of compiled unit `id`, made with one slot per variable
/// on first use. Past [`MAX_CACHED_SCOPES`] the cache starts over.
fn cached_scope<'s>(
    scopes: &'s mut std::collections::HashMap<u64, Scope<'static>, foldhash::fast::FixedState>,
    id: u64,
    vars: &[VarSlot],
) -> &'s mut Scope<'static> {
    if scopes.len() >= MAX_CACHED_SCOPES && !scopes.contains_key(&id) {
        scopes.clear();
    }
    scopes.entry(id).or_insert_with(|| {
        let mut s = Scope::new();
        for slot in vars {
            s.push_dynamic(slot.rhai.as_str(), Dynamic::UNIT);
        }
        s
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
            Some(Shortcut::Path(i, names)) => {
                let root = self.vars.get(*i).and_then(|s| vars.get(s)).cloned().unwrap_or_default();
                return Ok(names.iter().fold(root, |v, n| rt::member_of(&v, n)));
            }
            None => {}
        }
        if self.uses_env {
            ENV.with(|e| std::mem::swap(&mut *e.borrow_mut(), env));
        }
        enter(limits);
        let result = EVAL.with(|cell| {
            let mut ev = cell.borrow_mut();
            ev.set_limits(limits);
            // Fast path: every variable holds a number (or numeric text where
            // text and number behave alike).
            if let Some((numeric, exact)) = &self.numeric {
                let done = ev.eval_in(self.id, &self.vars, numeric, |scope| {
                    for (slot, exact) in self.vars.iter().zip(exact) {
                        let n = match vars.get(slot) {
                            Some(Value::Number(n)) => *n,
                            Some(v) if !exact => match v.as_number() {
                                Some(n) => n,
                                None => return false,
                            },
                            _ => return false,
                        };
                        match scope.get_mut(&slot.rhai) {
                            Some(d) => *d = Dynamic::from_float(n),
                            None => return false,
                        }
                    }
                    true
                });
                if let Some(r) = done {
                    return r;
                }
            }
            let Some(ast) = &self.ast else {
                return Err(Box::new(EvalAltResult::ErrorRuntime(
                    "internal error: an expression was compiled without its code".into(),
                    rhai::Position::NONE,
                )));
            };
            let general = ev.eval_in(self.id, &self.vars, ast, |scope| {
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
            ENV.with(|e| std::mem::swap(&mut *e.borrow_mut(), env));
        }
        result.map(Value::from_dynamic).map_err(|e| runtime_error(&e, self.base, limits))
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
    Single(Box<CompiledExpr>),
    /// Text with substitutions: yields text.
    Concat(Box<CompiledExpr>),
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
            [ast::StrPart::Expr(e)] => Ok(Template::Single(Box::new(compile_ast(e, src, base)?))),
            _ => {
                let expr = ast::Expr::Str(parts, base);
                let mut c = compile_ast(&expr, src, base)?;
                if c.ast.is_none() {
                    c.ast = Some(Arc::new(RhaiCode::new(compile_rhai(&c.rhai, base)?)));
                }
                c.shortcut = None;
                c.numeric = None;
                Ok(Template::Concat(Box::new(c)))
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
