//! Compiled snippets: a whole SNIPPET action's code.
//!
//! A snippet compiles to one rhai program (its FUNCTIONs and the script's
//! other snippets' FUNCTIONs first, then its statements). Variables travel
//! through a scope kept per snippet: before a run the variables the snippet
//! mentions are written in, after it (also after a failure) the ones it
//! assigns are read back.
//!
//! A second, *typed* compilation treats as numbers the variables that the
//! snippet only ever assigns numbers to (and that it reads only where a
//! number is fine, unless they hold real numbers). It runs when the
//! variables' values at entry allow it, and gives the same results with
//! rhai's native float operators, which is what makes arithmetic loops
//! fast.

use super::ast::{self, Function, Program, Stmt, TargetSeg, VarName, collect_names, expr_names};
use super::compile::{Code, FnSig, Gen, Typing, VarSlot};
use super::context::{ENV, ENV_FUNCTIONS, EvalEnv, TRACES, enter};
use super::error::{Limits, SnippetError, SnippetErrorKind, runtime_error};
use super::eval::{EVAL, EVAL_PLAIN, NEXT_EXPR_ID, RhaiCode, compile_plain_rhai, compile_rhai_program};
use super::parser;
use super::signatures::Ty;
use crate::base::Pos;
use crate::value::Value;
use rhai::{Dynamic, EvalAltResult};
use std::collections::HashSet;
use std::fmt;

/// What a snippet reads and writes in its run.
pub trait SnippetVars {
    /// The value of a variable (`None` when unset).
    fn get(&self, slot: &VarSlot) -> Option<&Value>;
    /// Write a variable back (`global` ones go to the run's root scope).
    fn set(&mut self, slot: &VarSlot, value: Value);
    /// Every variable of the current scope (for plain-rhai snippets).
    fn all(&self) -> Vec<(String, Value)>;
    /// Set a variable by name (for plain-rhai snippets).
    fn set_named(&mut self, name: &str, value: Value);
}

/// The result of running a snippet.
#[derive(Debug, Default)]
pub struct SnippetRun {
    /// Lines written by TRACE, in order.
    pub traces: Vec<String>,
    /// The failure that stopped the snippet, if any.
    pub error: Option<SnippetError>,
}

/// The value a number-typed variable holds until the snippet assigns it
/// (a NaN with a payload arithmetic never produces).
const UNREACHED: f64 = f64::from_bits(0x7ff8_dead_beef_0001);

/// Entry requirement for a variable of the typed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guard {
    /// Any value: the snippet assigns it before reading it.
    None,
    /// A number or numeric text.
    Numeric,
    /// An actual number (the snippet uses it where numeric text differs).
    Exact,
}

struct Typed {
    code: RhaiCode,
    lines: Vec<u32>,
    /// Per slot: treated as a number, and what its entry value must be.
    num: Vec<bool>,
    guards: Vec<Guard>,
}

enum Kind {
    Dialect {
        code: RhaiCode,
        lines: Vec<u32>,
        typed: Option<Typed>,
        slots: Vec<VarSlot>,
        /// Slots assigned by the snippet (written back).
        assigned: Vec<usize>,
    },
    Rhai(RhaiCode),
}

/// A snippet compiled for running, shared by every run of its script.
pub struct CompiledSnippet {
    /// The source.
    pub source: String,
    /// The generated rhai source (general form).
    pub rhai: String,
    kind: Kind,
    base: Pos,
    uses_env: bool,
    id: u64,
}

impl fmt::Debug for CompiledSnippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledSnippet").field("rhai", &self.rhai).finish()
    }
}

/// Parse a snippet's text (for collecting a script's functions).
pub fn parse(src: &str, base: Pos) -> Result<Program, SnippetError> {
    parser::statements::parse_program(src, base)
}

impl CompiledSnippet {
    /// Compile snippet `src` (first character at `base`). `shared` are the
    /// FUNCTIONs of the script's other snippets, callable from this one.
    pub fn compile(src: &str, base: Pos, shared: &[Function]) -> Result<CompiledSnippet, SnippetError> {
        let program = parser::statements::parse_program(src, base)?;
        let mut functions: Vec<Function> = program.functions.clone();
        for f in shared {
            if !functions.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)) {
                functions.push(f.clone());
            }
        }
        let sigs: Vec<FnSig> =
            functions.iter().map(|f| FnSig { name: f.name.to_lowercase(), arity: f.params.len() }).collect();

        // General form.
        let (general, g) = generate(&program, &functions, &sigs, Typing::None)?;
        let code = RhaiCode::new(compile_rhai_program(&general.text, base)?);
        let slots = g.vars.clone();
        let assigned: Vec<usize> = g
            .assigned
            .iter()
            .filter_map(|tag| {
                let (global, key) = match tag.strip_prefix("global:") {
                    Some(k) => (true, k),
                    None => (false, tag.as_str()),
                };
                slots.iter().position(|s| s.key == key && s.global == global)
            })
            .collect();

        // Typed form.
        let candidates = number_variables(&program, &sigs);
        let typed = if candidates.is_empty() {
            None
        } else {
            let (text, tg) = generate(&program, &functions, &sigs, Typing::Some(&candidates))?;
            let same_slots = tg.vars.iter().map(|s| (&s.key, s.global)).eq(slots.iter().map(|s| (&s.key, s.global)));
            if same_slots && text.text != general.text {
                let (exposed, defined_at_end) = exposure(&program.body);
                let num: Vec<bool> = slots.iter().map(|s| !s.global && candidates.contains(&s.key)).collect();
                let guards = slots
                    .iter()
                    .zip(&num)
                    .map(|(s, is_num)| {
                        if !is_num {
                            Guard::None
                        } else if exposed.contains(&s.key) || !defined_at_end.contains(&s.key) {
                            if tg.text_sensitive.contains(&s.key) { Guard::Exact } else { Guard::Numeric }
                        } else {
                            Guard::None
                        }
                    })
                    .collect();
                Some(Typed {
                    code: RhaiCode::new(compile_rhai_program(&text.text, base)?),
                    lines: text.lines,
                    num,
                    guards,
                })
            } else {
                None
            }
        };
        let uses_env = ENV_FUNCTIONS.iter().any(|f| general.text.contains(f));
        Ok(CompiledSnippet {
            source: src.to_string(),
            rhai: general.text,
            kind: Kind::Dialect { code, lines: general.lines, typed, slots, assigned },
            base,
            uses_env,
            id: NEXT_EXPR_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Compile user-written rhai (a snippet declared as plain rhai).
    pub fn compile_rhai(src: &str, base: Pos) -> Result<CompiledSnippet, SnippetError> {
        let ast = compile_plain_rhai(src, base)?;
        Ok(CompiledSnippet {
            source: src.to_string(),
            rhai: src.to_string(),
            kind: Kind::Rhai(RhaiCode::new(ast)),
            base,
            uses_env: true,
            id: NEXT_EXPR_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Whether the typed (native-operator) form exists.
    pub fn has_typed_form(&self) -> bool {
        matches!(&self.kind, Kind::Dialect { typed: Some(_), .. })
    }

    /// Run the snippet against `vars`.
    pub fn run(&self, vars: &mut dyn SnippetVars, env: &mut EvalEnv, limits: &Limits) -> SnippetRun {
        self.run_with(vars, env, limits, true)
    }

    /// Run only the general form (the reference the typed form is tested
    /// against).
    pub fn run_untyped(&self, vars: &mut dyn SnippetVars, env: &mut EvalEnv, limits: &Limits) -> SnippetRun {
        self.run_with(vars, env, limits, false)
    }

    fn run_with(&self, vars: &mut dyn SnippetVars, env: &mut EvalEnv, limits: &Limits, typed_ok: bool) -> SnippetRun {
        if self.uses_env {
            ENV.with(|e| std::mem::swap(&mut *e.borrow_mut(), env));
        }
        enter(limits);
        TRACES.with(|t| t.borrow_mut().clear());
        let error = match &self.kind {
            Kind::Dialect { code, lines, typed, slots, assigned } => {
                let typed = typed.as_ref().filter(|_| typed_ok);
                self.run_dialect(vars, limits, code, lines, typed, slots, assigned)
            }
            Kind::Rhai(code) => self.run_rhai(vars, limits, code),
        };
        if self.uses_env {
            ENV.with(|e| std::mem::swap(&mut *e.borrow_mut(), env));
        }
        let traces = TRACES.with(|t| std::mem::take(&mut *t.borrow_mut()));
        SnippetRun { traces, error }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_dialect(
        &self,
        vars: &mut dyn SnippetVars,
        limits: &Limits,
        code: &RhaiCode,
        lines: &[u32],
        typed: Option<&Typed>,
        slots: &[VarSlot],
        assigned: &[usize],
    ) -> Option<SnippetError> {
        let mut results: Vec<(usize, Dynamic)> = Vec::with_capacity(assigned.len());
        let outcome = EVAL.with(|cell| {
            let mut ev = cell.borrow_mut();
            ev.set_limits(limits);
            if let Some(t) = typed {
                let done = ev.run_unit(
                    self.id,
                    slots,
                    &t.code,
                    |scope| {
                        for (i, slot) in slots.iter().enumerate() {
                            let v = vars.get(slot);
                            let d = if t.num[i] {
                                match (t.guards[i], v) {
                                    (_, Some(Value::Number(n))) => Dynamic::from_float(*n),
                                    (Guard::Numeric, Some(v)) => match v.as_number() {
                                        Some(n) => Dynamic::from_float(n),
                                        None => return false,
                                    },
                                    // Assigned before any read: the entry value is never
                                    // seen, and the marker tells "not reached" apart.
                                    (Guard::None, _) => Dynamic::from_float(UNREACHED),
                                    _ => return false,
                                }
                            } else {
                                v.map(Value::to_dynamic).unwrap_or(Dynamic::UNIT)
                            };
                            match scope.get_mut(&slot.rhai) {
                                Some(s) => *s = d,
                                None => return false,
                            }
                        }
                        true
                    },
                    |scope| {
                        for &i in assigned {
                            if let Some(d) = scope.get_value::<Dynamic>(&slots[i].rhai) {
                                results.push((i, d));
                            }
                        }
                    },
                );
                if let Some(r) = done {
                    return (r, &t.lines[..]);
                }
            }
            let r = ev
                .run_unit(
                    self.id,
                    slots,
                    code,
                    |scope| {
                        for slot in slots {
                            if let Some(s) = scope.get_mut(&slot.rhai) {
                                *s = vars.get(slot).map(Value::to_dynamic).unwrap_or(Dynamic::UNIT);
                            }
                        }
                        true
                    },
                    |scope| {
                        for &i in assigned {
                            if let Some(d) = scope.get_value::<Dynamic>(&slots[i].rhai) {
                                results.push((i, d));
                            }
                        }
                    },
                )
                .unwrap_or(Ok(Dynamic::UNIT));
            (r, lines)
        });
        for (i, d) in results {
            if d.as_float().is_ok_and(|f| f.to_bits() == UNREACHED.to_bits()) {
                continue;
            }
            let v = Value::from_dynamic(d);
            // Only what changed: an assignment the run did not reach (it
            // failed first) leaves the variable as it was.
            if vars.get(&slots[i]) != Some(&v) && !(v.is_null() && vars.get(&slots[i]).is_none()) {
                vars.set(&slots[i], v);
            }
        }
        match outcome {
            (Ok(_), _) => None,
            (Err(e), lines) => Some(self.error(&e, lines, limits)),
        }
    }

    fn run_rhai(&self, vars: &mut dyn SnippetVars, limits: &Limits, code: &RhaiCode) -> Option<SnippetError> {
        // Plain rhai sees the scope's variables under their names as
        // written (those that are valid rhai identifiers).
        let before = vars.all();
        let mut after: Vec<(String, Dynamic)> = Vec::new();
        let outcome = EVAL_PLAIN.with(|cell| {
            let mut ev = cell.borrow_mut();
            ev.set_limits(limits);
            let names: Vec<VarSlot> = before
                .iter()
                .filter(|(n, _)| is_rhai_ident(n))
                .map(|(n, _)| VarSlot {
                    key: n.clone(),
                    name: n.clone(),
                    rhai: n.clone(),
                    global: false,
                    hint: Default::default(),
                })
                .collect();
            // A fresh scope each time: the variable set differs per run.
            let id = NEXT_EXPR_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let r = ev.run_unit(
                id,
                &names,
                code,
                |scope| {
                    for (n, v) in &before {
                        if let Some(s) = scope.get_mut(n) {
                            *s = v.to_dynamic();
                        }
                    }
                    true
                },
                |scope| {
                    for (name, _, value) in scope.iter_raw() {
                        after.push((name.to_string(), value.clone()));
                    }
                },
            );
            ev.forget(id);
            r.unwrap_or(Ok(Dynamic::UNIT))
        });
        for (name, d) in after {
            let v = Value::from_dynamic(d);
            let unchanged = before.iter().any(|(n, old)| *n == name && *old == v);
            if !unchanged {
                vars.set_named(&name, v);
            }
        }
        outcome.err().map(|e| self.error(&e, &[], limits))
    }

    /// A rhai failure as a dialect error, at the snippet line it came from.
    fn error(&self, e: &EvalAltResult, lines: &[u32], limits: &Limits) -> SnippetError {
        let pos = innermost_position(e);
        let line = match pos.line() {
            Some(l) if !lines.is_empty() => lines.get(l.saturating_sub(1)).copied().unwrap_or(self.base.line),
            Some(l) => self.base.line + l as u32 - 1,
            None => self.base.line,
        };
        let mut err = runtime_error(e, Pos::new(line, 1), limits);
        if err.kind == SnippetErrorKind::Runtime && err.message.contains("Function not found") {
            err.message = "a value was used in a way the dialect does not allow".into();
        }
        err
    }
}

fn innermost_position(e: &EvalAltResult) -> rhai::Position {
    match e {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, pos) => {
            let p = innermost_position(inner);
            if p.is_none() { *pos } else { p }
        }
        other => other.position(),
    }
}

fn is_rhai_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            name,
            "let"
                | "const"
                | "fn"
                | "if"
                | "else"
                | "while"
                | "loop"
                | "for"
                | "in"
                | "return"
                | "this"
                | "true"
                | "false"
        )
}

/// Generate rhai source for a program under a typing.
fn generate<'a>(
    program: &Program,
    functions: &'a [Function],
    sigs: &'a [FnSig],
    typing: Typing<'a>,
) -> Result<(Code, Gen<'a>), SnippetError> {
    let mut g = Gen::new(typing, sigs);
    let mut code = Code::default();
    for f in functions {
        g.function(f, &mut code)?;
    }
    g.block(&program.body, &mut code)?;
    Ok((code, g))
}

/// The top-level variables the snippet only ever assigns numbers to.
fn number_variables(program: &Program, sigs: &[FnSig]) -> HashSet<String> {
    let mut names = Vec::new();
    collect_names(&program.body, &mut names);
    let mut candidates: HashSet<String> = names.into_iter().collect();
    // Variables used as objects, arrays or loop items are never numbers.
    excluded(&program.body, &mut candidates);
    loop {
        let mut assigns = Vec::new();
        assignments(&program.body, &mut assigns);
        let before = candidates.len();
        let g = Gen::new(Typing::Some(&candidates), sigs);
        let drop: Vec<String> = assigns
            .iter()
            .filter(|(v, e)| candidates.contains(&v.key()) && g.static_type(e) != Ty::Num)
            .map(|(v, _)| v.key())
            .collect();
        for k in drop {
            candidates.remove(&k);
        }
        if candidates.len() == before {
            return candidates;
        }
    }
}

fn excluded(stmts: &[Stmt], set: &mut HashSet<String>) {
    for s in stmts {
        match s {
            Stmt::Assign { target, .. } if !target.path.is_empty() => {
                set.remove(&target.var.key());
            }
            Stmt::Dynamic { var, .. } | Stmt::Foreach { var, .. } => {
                set.remove(&var.key());
            }
            _ => {}
        }
        s.for_each_block(&mut |b| excluded(b, set));
    }
}

fn assignments<'s>(stmts: &'s [Stmt], out: &mut Vec<(&'s VarName, &'s ast::Expr)>) {
    for s in stmts {
        if let Stmt::Assign { target, value, .. } = s
            && target.path.is_empty()
            && !target.var.global
        {
            out.push((&target.var, value));
        }
        s.for_each_block(&mut |b| assignments(b, out));
    }
}

/// Variables read before the snippet surely assigned them ("exposed"), and
/// those surely assigned by the end, following top-level statements in
/// order (anything inside a branch or loop only counts as read).
fn exposure(body: &[Stmt]) -> (HashSet<String>, HashSet<String>) {
    let mut defined: HashSet<String> = HashSet::new();
    let mut exposed: HashSet<String> = HashSet::new();
    let expose = |names: Vec<String>, defined: &HashSet<String>, exposed: &mut HashSet<String>| {
        for n in names {
            if !defined.contains(&n) {
                exposed.insert(n);
            }
        }
    };
    for s in body {
        match s {
            Stmt::Assign { target, value, .. } => {
                let mut reads = Vec::new();
                expr_names(value, &mut reads);
                for seg in &target.path {
                    if let TargetSeg::Index(e) = seg {
                        expr_names(e, &mut reads);
                    }
                }
                if !target.path.is_empty() {
                    reads.push(target.var.key());
                }
                expose(reads, &defined, &mut exposed);
                if target.path.is_empty() && !target.var.global {
                    defined.insert(target.var.key());
                }
            }
            Stmt::Dynamic { var, .. } => {
                defined.insert(var.key());
            }
            Stmt::For { var, from, to, step, body, .. } => {
                let mut reads = Vec::new();
                expr_names(from, &mut reads);
                expr_names(to, &mut reads);
                if let Some(st) = step {
                    expr_names(st, &mut reads);
                }
                expose(reads, &defined, &mut exposed);
                let mut inner = defined.clone();
                inner.insert(var.key());
                let mut reads = Vec::new();
                collect_names(body, &mut reads);
                expose(reads, &inner, &mut exposed);
                defined.insert(var.key());
            }
            other => {
                let mut reads = Vec::new();
                collect_names(std::slice::from_ref(other), &mut reads);
                expose(reads, &defined, &mut exposed);
            }
        }
    }
    (exposed, defined)
}
