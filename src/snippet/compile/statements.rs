//! Compiling statements: blocks, assignments, the branching and looping
//! statements and FUNCTION definitions, on top of the expression compiler
//! in the parent module (which knows nothing of statements).
//!
//! Each generated statement starts a new rhai line recorded in [`Code`],
//! so a runtime error maps back to the dialect line it came from.

use super::{Code, Gen, fn_name, rhai_name, rhai_string};
use crate::base::Pos;
use crate::snippet::ast::{Expr, Function, Stmt, Target, TargetSeg, VarName, collect_names};
use crate::snippet::error::SnippetError;
use crate::snippet::signatures::Ty;

impl Gen<'_> {
    /// Write a statement list.
    pub fn block(&mut self, stmts: &[Stmt], code: &mut Code) -> Result<(), SnippetError> {
        for s in stmts {
            self.stmt(s, code)?;
        }
        Ok(())
    }

    /// A loop's body, with BREAK bound to this loop (`Some(t)`: the
    /// range-driven FOR whose temporaries are numbered `t`).
    fn loop_body(&mut self, kind: Option<usize>, body: &[Stmt], code: &mut Code) -> Result<(), SnippetError> {
        self.loops.push(kind);
        let r = self.block(body, code);
        self.loops.pop();
        r
    }

    /// A rhai loop opened by `head` (ending in `{`): the body, with BREAK
    /// leaving it, and the closing brace on the statement's `line`.
    fn plain_loop(&mut self, head: &str, body: &[Stmt], line: u32, code: &mut Code) -> Result<(), SnippetError> {
        code.text.push_str(head);
        self.loop_body(None, body, code)?;
        code.line(line);
        code.text.push('}');
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt, code: &mut Code) -> Result<(), SnippetError> {
        let line = s.pos().line;
        match s {
            Stmt::Assign { target, value, .. } => {
                code.line(line);
                self.assign(target, value, code)
            }
            Stmt::Dynamic { var, .. } => {
                code.line(line);
                let name = self.target_var(var, s.pos())?;
                code.text.push_str(&format!("{name} = __obj();"));
                Ok(())
            }
            Stmt::If { cond, then, otherwise, .. } => {
                code.line(line);
                let mut c = String::new();
                self.boolean(cond, &mut c)?;
                code.text.push_str(&format!("if {c} {{"));
                self.block(then, code)?;
                code.line(line);
                code.text.push('}');
                if !otherwise.is_empty() {
                    code.text.push_str(" else {");
                    self.block(otherwise, code)?;
                    code.line(line);
                    code.text.push('}');
                }
                Ok(())
            }
            Stmt::Switch { value, cases, default, .. } => {
                let t = self.next_temp();
                code.line(line);
                let mut v = String::new();
                self.expr(value, &mut v)?;
                code.text.push_str(&format!("{{ let __sw{t} = {v};"));
                self.case_chain(cases, default, line, code, |g, values| {
                    let mut conds = Vec::new();
                    for val in values {
                        let mut c = String::new();
                        g.expr(val, &mut c)?;
                        conds.push(format!("__eq(__sw{t}, {c})"));
                    }
                    Ok((values.first().map(|e| e.pos().line).unwrap_or(line), conds.join(" || ")))
                })
            }
            Stmt::Select { cases, default, .. } => {
                code.line(line);
                code.text.push('{');
                self.case_chain(cases, default, line, code, |g, cond| {
                    let mut c = String::new();
                    g.boolean(cond, &mut c)?;
                    Ok((cond.pos().line, c))
                })
            }
            Stmt::For { var, from, to, step, body, .. } => {
                self.for_loop(var, from, to, step.as_ref(), body, s.pos(), code)
            }
            Stmt::Foreach { var, source, body, .. } => {
                let t = self.next_temp();
                let item = self.target_var(var, s.pos())?;
                code.line(line);
                let mut src = String::new();
                self.expr(source, &mut src)?;
                self.plain_loop(&format!("for __it{t} in __iter({src}) {{ {item} = __it{t};"), body, line, code)
            }
            Stmt::While { cond, body, .. } => {
                code.line(line);
                let mut c = String::new();
                self.boolean(cond, &mut c)?;
                self.plain_loop(&format!("while {c} {{"), body, line, code)
            }
            Stmt::Break(_) => {
                code.line(line);
                match self.loops.last() {
                    Some(Some(t)) => code.text.push_str(&format!("__full{t} = false; break;")),
                    _ => code.text.push_str("break;"),
                }
                Ok(())
            }
            Stmt::Return(value, _) => {
                code.line(line);
                match value {
                    Some(v) => {
                        let mut c = String::new();
                        self.expr(v, &mut c)?;
                        code.text.push_str(&format!("return {c};"));
                    }
                    None => code.text.push_str("return;"),
                }
                Ok(())
            }
            Stmt::Trace(e, _) => {
                code.line(line);
                let mut c = String::new();
                self.expr(e, &mut c)?;
                code.text.push_str(&format!("__trace(__s({c}));"));
                Ok(())
            }
            Stmt::Expr(e, _) => {
                code.line(line);
                let mut c = String::new();
                self.expr(e, &mut c)?;
                code.text.push_str(&c);
                code.text.push(';');
                Ok(())
            }
        }
    }

    /// The arms of a SWITCH or SELECT (already opened with `{`) as one
    /// `if … else if …` chain, then DEFAULT, then the closing brace.
    /// `cond` writes a CASE's condition and gives the line it starts on.
    fn case_chain<C>(
        &mut self,
        cases: &[(C, Vec<Stmt>)],
        default: &[Stmt],
        line: u32,
        code: &mut Code,
        mut cond: impl FnMut(&mut Self, &C) -> Result<(u32, String), SnippetError>,
    ) -> Result<(), SnippetError> {
        for (i, (case, body)) in cases.iter().enumerate() {
            let (case_line, c) = cond(self, case)?;
            code.line(case_line);
            let kw = if i == 0 { "if" } else { "} else if" };
            code.text.push_str(&format!("{kw} {c} {{"));
            self.block(body, code)?;
        }
        if cases.is_empty() {
            self.block(default, code)?;
        } else if default.is_empty() {
            code.line(line);
            code.text.push('}');
        } else {
            code.line(line);
            code.text.push_str("} else {");
            self.block(default, code)?;
            code.line(line);
            code.text.push('}');
        }
        code.line(line);
        code.text.push('}');
        Ok(())
    }

    /// `FOR var = from TO to [STEP step] { body }`. Bounds are read once;
    /// the body runs at least once; the direction follows the bounds, the
    /// step is a magnitude.
    #[allow(clippy::too_many_arguments)]
    fn for_loop(
        &mut self,
        var: &VarName,
        from: &Expr,
        to: &Expr,
        step: Option<&Expr>,
        body: &[Stmt],
        pos: Pos,
        code: &mut Code,
    ) -> Result<(), SnippetError> {
        let line = pos.line;
        let t = self.next_temp();
        let counter = self.target_var(var, pos)?;
        let num = self.is_num(var);
        code.line(line);
        let (mut f, mut to_code) = (String::new(), String::new());
        self.number(from, &mut f)?;
        self.number(to, &mut to_code)?;
        let step_code = match step {
            Some(e) => {
                let mut c = String::new();
                self.number(e, &mut c)?;
                c
            }
            None => "1.0".into(),
        };
        if !assigns_var(body, var) {
            // The body never moves the counter: count iterations with
            // rhai's integer range and derive the counter.
            code.text.push_str(&format!(
                "{{ let __from{t} = {f}; let __st{t} = __forstep({step_code}, __from{t}, {to_code}); let __n{t} = __forcount(__from{t}, {to_code}, __st{t}); let __full{t} = true; for __k{t} in 0..__n{t} {{ {counter} = __from{t} + __k{t} * __st{t};"
            ));
            self.loop_body(Some(t), body, code)?;
            code.line(line);
            code.text.push_str(&format!("}} if __full{t} {{ {counter} = __from{t} + __n{t} * __st{t}; }} }}"));
            return Ok(());
        }
        code.text.push_str(&format!(
            "{{ let __from{t} = {f}; let __to{t} = {to_code}; let __st{t} = __forstep({step_code}, __from{t}, __to{t}); {counter} = __from{t}; loop {{"
        ));
        self.loop_body(None, body, code)?;
        code.line(line);
        let current = if num { counter.clone() } else { format!("__num({counter})") };
        code.text.push_str(&format!(
            "{counter} = {current} + __st{t}; if (__st{t} > 0.0 && {counter} > __to{t}) || (__st{t} < 0.0 && {counter} < __to{t}) {{ break; }} }} }}"
        ));
        Ok(())
    }

    /// The rhai name of an assigned variable (registering the write).
    fn target_var(&mut self, v: &VarName, pos: Pos) -> Result<String, SnippetError> {
        if let Some(locals) = &self.locals {
            if v.global {
                return Err(SnippetError::syntax(
                    pos,
                    "global: variables are not available inside FUNCTION; return the value instead",
                ));
            }
            let key = v.key();
            debug_assert!(locals.contains(&key));
            return Ok(rhai_name(&key, false));
        }
        let name = self.var(v);
        let key = v.key();
        let tag = if v.global { format!("global:{key}") } else { key };
        if !self.assigned.contains(&tag) {
            self.assigned.push(tag);
        }
        Ok(name)
    }

    fn assign(&mut self, target: &Target, value: &Expr, code: &mut Code) -> Result<(), SnippetError> {
        let pos = value.pos();
        let name = self.target_var(&target.var, pos)?;
        let mut v = String::new();
        if target.path.is_empty() {
            let ty = self.expr(value, &mut v)?;
            // A number-typed variable only ever receives numbers (the typing
            // guarantees it); a general one takes any value.
            debug_assert!(!self.is_num(&target.var) || ty == Ty::Num || self.locals.is_some());
            code.text.push_str(&format!("{name} = {v};"));
            return Ok(());
        }
        self.expr(value, &mut v)?;
        let mut segs = Vec::new();
        for seg in &target.path {
            match seg {
                TargetSeg::Member(m) => segs.push(rhai_string(m)),
                TargetSeg::Index(e) => {
                    let mut c = String::new();
                    self.expr(e, &mut c)?;
                    segs.push(c);
                }
            }
        }
        // A method call hands rhai's variable over by reference, so the
        // value is changed in place instead of copied: growing an array
        // or object one element at a time stays linear.
        code.text.push_str(&format!("{name}.__setp([{}], {v});", segs.join(", ")));
        Ok(())
    }

    /// Write a FUNCTION definition.
    pub fn function(&mut self, f: &Function, code: &mut Code) -> Result<(), SnippetError> {
        let mut locals: Vec<String> = f.params.iter().map(|p| crate::value::var_key(p)).collect();
        let params: Vec<String> = locals.iter().map(|k| rhai_name(k, false)).collect();
        let mut names = Vec::new();
        collect_names(&f.body, &mut names);
        let declared: Vec<String> = names.into_iter().filter(|k| !locals.contains(k)).collect();
        locals.extend(declared.iter().cloned());
        let saved = self.locals.replace(locals);
        let saved_loops = std::mem::take(&mut self.loops);
        code.line(f.pos.line);
        code.text.push_str(&format!("fn {}({}) {{", fn_name(&f.name), params.join(", ")));
        for k in &declared {
            code.text.push_str(&format!(" let {} = ();", rhai_name(k, false)));
        }
        let r = self.block(&f.body, code);
        self.locals = saved;
        self.loops = saved_loops;
        r?;
        code.line(f.pos.line);
        code.text.push('}');
        Ok(())
    }
}

/// Whether any statement in `stmts` (nested ones included) assigns `var`.
fn assigns_var(stmts: &[Stmt], var: &VarName) -> bool {
    let key = var.key();
    let same = |v: &VarName| v.key() == key && v.global == var.global;
    stmts.iter().any(|s| match s {
        Stmt::Assign { target, .. } => same(&target.var),
        Stmt::Dynamic { var: v, .. } | Stmt::Foreach { var: v, .. } | Stmt::For { var: v, .. } if same(v) => true,
        _ => {
            let mut found = false;
            s.for_each_block(&mut |b| found = found || assigns_var(b, var));
            found
        }
    })
}
