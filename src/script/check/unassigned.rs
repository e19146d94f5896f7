//! Variables read that nothing in the script assigns
//! (`unassigned-variable`), a warning: a misspelt name (`lower(teir)` for
//! `lower(tier)`) reads as empty text and routes silently.
//!
//! The analysis is flow-insensitive, so it never warns about a variable
//! that some path does assign: a read is reported when no action anywhere
//! in the script writes the name. Writers are ASSIGN's `Variable` and every
//! other `variable`-typed input (RUNSUB `ReturnVariable`, FOR and LOOP
//! `CounterName`), every output property (written or defaulted: CHECKOUTLEADS
//! `Leads`, SPAWN `SPAWNID`), SNIPPET statements (assignments, `DYNAMIC`,
//! FOR and FOREACH variables; a plain-rhai snippet counts every identifier
//! it mentions), BEGIN's parameter names, and what the sub scripts it
//! names (and theirs) assign as `global:`, which lands in the caller's
//! root scope. Never reported: `global:`
//! reads (any script of the run may set them), `p1`..`p20`, and the system
//! variable `_ERR` (`__ERR`). Reads are those the engine makes: `{}` groups
//! of substituted properties, expression properties (IF, CASE), variables
//! named by dynamic properties, ASSIGN's Value as an expression when its
//! Type says so, and SNIPPET code (a FUNCTION also sees its parameters and
//! its own assignments). The check is skipped when the script has an
//! unknown action, a snippet that does not compile, or a sub script named
//! by an expression: what they write cannot be known.

use super::suggest;
use super::{CheckEnv, Diagnostic, DynamicPlan, LendFn, Linked, PropPlan, Severity};
use crate::base::Pos;
use crate::catalog::{Catalog, InputSpec, PropType};
use crate::script::ActionRef;
use crate::script::model::{Action, Script};
use crate::snippet::Template;
use crate::snippet::ast::{Expr, Program, Stmt, StrPart, TargetSeg, VarName};
use crate::value::{VarTarget, var_key};
use std::collections::{HashMap, HashSet};

/// Comparisons of an unassigned name with an assigned one spent on
/// suggestions per script, at most (each is at most a 64 by 76 character
/// edit distance).
const SUGGESTION_BUDGET: usize = 200_000;

/// A variable read: its name as written, and where in a snippet's code.
struct Read {
    name: String,
    code_pos: Option<Pos>,
}

/// Warnings for the reads of `script` that nothing assigns.
pub(super) fn check(script: &Script, linked: &Linked, file: &str, env: &CheckEnv) -> Vec<Diagnostic> {
    let Some(assigned) = assigned_names(script, linked, env) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Suggestions cost a scan of every assigned name: computed once per
    // unknown name, within a budget (a hostile script with 100,000
    // misspelt reads of 100,000 names stays linear).
    let mut hints: HashMap<String, String> = HashMap::new();
    let mut budget = SUGGESTION_BUDGET;
    // Sorted (when first needed), so that of two equally close names the
    // same one is named every time.
    let mut candidates: Option<Vec<&str>> = None;
    for (action, la) in script.actions.iter().zip(&linked.actions) {
        let Some(m) = &la.manifest else { continue };
        for (spec, plan) in m.inputs.iter().zip(&la.inputs) {
            let mut seen: HashSet<String> = HashSet::new();
            for read in reads(action, spec, plan, &assigned) {
                let key = var_key(&read.name);
                if assigned.contains_key(&key) || is_system(&key) || seen.contains(&key) {
                    continue;
                }
                let prop = action.properties.iter().find(|p| spec.matches(&p.name)).map(|p| p.name.as_str());
                let pos = script.origin.property_position(action, prop.unwrap_or(&spec.name));
                let at = read.code_pos.map(|p| format!(", line {}, column {} of the code", p.line, p.column));
                seen.insert(key.clone());
                let hint = match hints.get(&key) {
                    Some(h) => h.clone(),
                    None if budget >= assigned.len() => {
                        budget -= assigned.len();
                        let sorted = candidates.get_or_insert_with(|| {
                            let mut c: Vec<&str> = assigned.values().map(String::as_str).collect();
                            c.sort_unstable();
                            c
                        });
                        let h = suggest::did_you_mean(&read.name, sorted.iter().copied());
                        hints.insert(key.clone(), h.clone());
                        h
                    }
                    None => String::new(),
                };
                out.push(Diagnostic {
                    severity: Severity::Warning,
                    code: "unassigned-variable",
                    file: file.to_string(),
                    pos,
                    action: Some(ActionRef::of(action)),
                    message: format!(
                        "property '{}'{}: variable `{}` is read but nothing in the script assigns it (it reads as empty){hint}",
                        spec.name,
                        at.unwrap_or_default(),
                        read.name
                    ),
                });
            }
        }
    }
    out
}

/// `p1`..`p20` (parameters by position) and `_ERR`.
fn is_system(key: &str) -> bool {
    key == "_err" || key.strip_prefix('p').and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| (1..=20).contains(&n))
}

/// Every name the script (or a sub script it calls, through `global:`)
/// assigns, by key, with its first spelling; `None` when that cannot be
/// known.
fn assigned_names(script: &Script, linked: &Linked, env: &CheckEnv) -> Option<HashMap<String, String>> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut add = |name: &str| {
        names.entry(var_key(name)).or_insert_with(|| name.trim().to_string());
    };
    for p in script.parameter_names() {
        add(&p);
    }
    let mut subs: Vec<String> = Vec::new();
    for (action, la) in script.actions.iter().zip(&linked.actions) {
        let m = la.manifest.as_ref()?;
        for t in &la.outputs {
            add(&t.name);
        }
        for (spec, plan) in m.inputs.iter().zip(&la.inputs) {
            match plan {
                PropPlan::Literal(name, _) if spec.script_ref => subs.push(name.trim().to_string()),
                // A sub script named by an expression: what it assigns as
                // `global:` cannot be known.
                PropPlan::Template(_) if spec.script_ref => return None,
                PropPlan::Variable(t) if spec.ty == PropType::Variable => add(&t.name),
                PropPlan::Snippet(code) if is_rhai(action) => {
                    code.source
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .filter(|w| !w.is_empty())
                        .for_each(&mut add);
                }
                PropPlan::Snippet(code) => {
                    let program = crate::snippet::unit::parse(&code.source, Pos::new(1, 1)).ok()?;
                    let mut w = Walk::default();
                    w.stmts(&program.body);
                    w.writes.iter().for_each(|v| add(&v.name));
                }
                // A code property that did not compile: its writes are unknown.
                PropPlan::Absent
                    if spec.ty == PropType::Code && action.properties.iter().any(|p| spec.matches(&p.name)) =>
                {
                    return None;
                }
                _ => {}
            }
        }
    }
    if let Some(lend) = env.lend_script {
        for name in sub_script_globals(&script.name, subs, lend, env.catalog) {
            add(&name);
        }
    }
    Some(names)
}

/// Most sub scripts looked into for one check (a library calling itself in
/// a wide tree stays bounded).
const MAX_SUB_SCRIPTS: usize = 256;

/// The names the sub scripts `queue` (and theirs, transitively) assign as
/// `global:`, which land in the caller's root scope.
fn sub_script_globals(own: &str, mut queue: Vec<String>, lend: LendFn, catalog: &Catalog) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::from([own.to_lowercase()]);
    let mut globals = Vec::new();
    while let Some(name) = queue.pop() {
        if name.is_empty() || !seen.insert(name.to_lowercase()) || seen.len() > MAX_SUB_SCRIPTS {
            continue;
        }
        lend(&name, &mut |sub: &Script| global_writes(sub, catalog, &mut globals, &mut queue));
    }
    globals
}

/// What `script` assigns as `global:` (into `out`) and the scripts it names
/// literally (into `subs`), read from its properties without linking it.
fn global_writes(script: &Script, catalog: &Catalog, out: &mut Vec<String>, subs: &mut Vec<String>) {
    for action in &script.actions {
        let Some(m) = catalog.get(&action.kind, action.version) else { continue };
        let text = |name: &str, aliases: &[String]| {
            action
                .properties
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(name) || aliases.iter().any(|a| a.eq_ignore_ascii_case(&p.name)))
                .map(|p| p.value.joined())
        };
        let global = |t: Option<String>| t.and_then(|t| VarTarget::parse(&t).ok()).filter(|t| t.global).map(|t| t.name);
        for spec in &m.inputs {
            match spec.ty {
                PropType::Variable => out.extend(global(text(&spec.name, &spec.aliases))),
                PropType::Code if !is_rhai(action) => {
                    let code = text(&spec.name, &spec.aliases).unwrap_or_default();
                    if let Ok(program) = crate::snippet::unit::parse(&code, Pos::new(1, 1)) {
                        let mut w = Walk::default();
                        w.stmts(&program.body);
                        out.extend(w.writes.into_iter().filter(|v| v.global).map(|v| v.name));
                    }
                }
                _ if spec.script_ref => {
                    subs.extend(
                        text(&spec.name, &spec.aliases).filter(|t| !t.contains('{')).map(|t| t.trim().to_string()),
                    );
                }
                _ => {}
            }
        }
        for o in &m.outputs {
            out.extend(global(text(&o.name, &[])));
        }
    }
}

fn is_rhai(action: &Action) -> bool {
    action.property("Language").is_some_and(|l| l.joined().trim().eq_ignore_ascii_case("rhai"))
}

/// The variables one property reads when its action runs.
fn reads(action: &Action, spec: &InputSpec, plan: &PropPlan, assigned: &HashMap<String, String>) -> Vec<Read> {
    let of_template = |t: &Template| -> Vec<Read> {
        t.vars().iter().filter(|v| !v.global).map(|v| Read { name: v.name.clone(), code_pos: None }).collect()
    };
    match plan {
        PropPlan::Template(t) | PropPlan::Dynamic(DynamicPlan::Template(t)) => of_template(t),
        PropPlan::Lazy(t, e) => {
            let mut out = of_template(t);
            // Read as an expression only when another property says so
            // (ASSIGN with Type Numeric) and there is no `{}` to substitute.
            let as_expression = spec.expression_when.as_ref().is_some_and(|cond| {
                let other = action.property(&cond.property).map(|v| v.joined()).unwrap_or_default();
                cond.values.iter().any(|v| v.eq_ignore_ascii_case(other.trim()))
            });
            if let (Some(e), true, Template::Literal(_)) = (e, as_expression, t) {
                out.extend(e.vars.iter().filter(|v| !v.global).map(|v| Read { name: v.name.clone(), code_pos: None }));
            }
            out
        }
        PropPlan::Expression(e) => {
            e.vars.iter().filter(|v| !v.global).map(|v| Read { name: v.name.clone(), code_pos: None }).collect()
        }
        PropPlan::Dynamic(DynamicPlan::Var(v)) if !v.global => vec![Read { name: v.name.clone(), code_pos: None }],
        PropPlan::List(items) if spec.substitutes() => items.iter().flat_map(of_template).collect(),
        PropPlan::Snippet(code) if !is_rhai(action) => {
            match crate::snippet::unit::parse(&code.source, Pos::new(1, 1)) {
                Ok(program) => snippet_reads(&program, assigned),
                Err(_) => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// A snippet's reads; in a FUNCTION, those of names that are neither its
/// parameters nor its own (nor assigned anywhere, to stay on the side of
/// fewer warnings).
fn snippet_reads(program: &Program, assigned: &HashMap<String, String>) -> Vec<Read> {
    let mut w = Walk::default();
    w.stmts(&program.body);
    // The snippet's own writes are among the script's assigned names.
    let mut out: Vec<Read> = w.reads.into_iter().map(|(v, p)| read(v, p)).collect();
    for f in &program.functions {
        let mut fw = Walk::default();
        fw.stmts(&f.body);
        let local: HashSet<String> =
            fw.writes.iter().map(VarName::key).chain(f.params.iter().map(|p| var_key(p))).collect();
        out.extend(
            fw.reads
                .into_iter()
                .filter(|(v, _)| !local.contains(&v.key()) && !assigned.contains_key(&v.key()))
                .map(|(v, p)| read(v, p)),
        );
    }
    out
}

fn read(v: VarName, pos: Pos) -> Read {
    Read { name: v.name, code_pos: Some(pos) }
}

/// The variables a statement list reads (not `global:`) and writes.
#[derive(Default)]
struct Walk {
    reads: Vec<(VarName, Pos)>,
    writes: Vec<VarName>,
}

impl Walk {
    fn stmts(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            match s {
                Stmt::Assign { target, value, .. } => {
                    self.writes.push(target.var.clone());
                    for seg in &target.path {
                        if let TargetSeg::Index(e) = seg {
                            self.expr(e);
                        }
                    }
                    self.expr(value);
                }
                Stmt::Dynamic { var, .. } => self.writes.push(var.clone()),
                Stmt::If { cond, .. } | Stmt::While { cond, .. } => self.expr(cond),
                Stmt::Switch { value, cases, .. } => {
                    self.expr(value);
                    cases.iter().flat_map(|(vals, _)| vals).for_each(|v| self.expr(v));
                }
                Stmt::Select { cases, .. } => cases.iter().for_each(|(c, _)| self.expr(c)),
                Stmt::For { var, from, to, step, .. } => {
                    self.writes.push(var.clone());
                    self.expr(from);
                    self.expr(to);
                    if let Some(st) = step {
                        self.expr(st);
                    }
                }
                Stmt::Foreach { var, source, .. } => {
                    self.writes.push(var.clone());
                    self.expr(source);
                }
                Stmt::Return(Some(e), _) | Stmt::Trace(e, _) | Stmt::Expr(e, _) => self.expr(e),
                Stmt::Return(None, _) | Stmt::Break(_) => {}
            }
            s.for_each_block(&mut |b| self.stmts(b));
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Var(v, pos) if !v.global => self.reads.push((v.clone(), *pos)),
            Expr::Str(parts, _) => {
                for p in parts {
                    if let StrPart::Expr(e) = p {
                        self.expr(e);
                    }
                }
            }
            Expr::Member(o, _, _) | Expr::Unary(_, o, _) => self.expr(o),
            Expr::Index(a, b, _) | Expr::Binary(_, a, b, _) => {
                self.expr(a);
                self.expr(b);
            }
            Expr::Call(_, args, _) => args.iter().for_each(|a| self.expr(a)),
            Expr::Var(..) | Expr::Num(..) | Expr::Date(..) | Expr::Bool(..) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::script::check::{CheckEnv, Diagnostic, check};
    use crate::script::{Script, load_text};

    fn warnings(actions: &str, subs: &[(&str, &str)]) -> Vec<Diagnostic> {
        let text = format!(r#"{{"name": "t", "actions": [{actions}]}}"#);
        let script = load_text(&text, None).unwrap_or_else(|e| panic!("{e}"));
        let catalog = Catalog::builtin();
        let subs: Vec<Script> = subs
            .iter()
            .map(|(name, actions)| {
                load_text(&format!(r#"{{"name": "{name}", "actions": [{actions}]}}"#), None).expect("sub script")
            })
            .collect();
        let lend = |name: &str, f: &mut dyn FnMut(&Script)| {
            if let Some(s) = subs.iter().find(|s| s.name == name) {
                f(s)
            }
        };
        let env = CheckEnv { catalog: &catalog, script_exists: &|_| true, implemented: None, lend_script: Some(&lend) };
        check(&script, &env).0.into_iter().filter(|d| d.code == "unassigned-variable").collect()
    }

    const BEGIN: &str = r#"{"id": "b", "action": "BEGIN", "Parameters": ["tier"], "next": "x"}"#;

    #[test]
    fn a_misspelt_read_is_reported_with_its_suggestion() {
        let w = warnings(&format!(r#"{BEGIN}, {{"id": "x", "action": "RETURN", "ReturnValue": "{{teir}}"}}"#), &[]);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("`teir`") && w[0].message.contains("did you mean `tier`?"), "{}", w[0]);
    }

    #[test]
    fn writers_parameters_and_system_variables_are_not_reported() {
        let actions = format!(
            r#"{BEGIN},
            {{"id": "x", "action": "FOR", "ToValue": "2", "branches": {{"Repeat": "s", "Finished": "r"}}}},
            {{"id": "s", "action": "SNIPPET", "Code": "total = i + p3\nFOREACH item IN list {{ n = item }}\nFUNCTION f(a) {{ b = a\nRETURN b }}", "next": "x"}},
            {{"id": "r", "action": "RETURN", "ReturnValue": "{{tier}} {{total}} {{n}} {{_ERR}} {{global:anything}} {{f(1)}}"}}"#
        );
        let w = warnings(&actions, &[]);
        // `list` is read and nothing assigns it; the rest is assigned.
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("`list`") && w[0].message.contains("line 2, column 17"), "{}", w[0]);
    }

    #[test]
    fn a_sub_scripts_globals_count_as_assigned() {
        let actions = format!(
            r#"{BEGIN}, {{"id": "x", "action": "RUNSUB", "ScriptName": "sub", "branches": {{"Default": "r", "OnError": "r"}}}},
            {{"id": "r", "action": "RETURN", "ReturnValue": "{{count}}"}}"#
        );
        let sub = r#"{"id": "b", "action": "BEGIN", "next": "a"},
            {"id": "a", "action": "ASSIGN", "Variable": "global:count", "Value": "1", "next": "r"},
            {"id": "r", "action": "RETURN", "ReturnValue": ""}"#;
        assert!(warnings(&actions, &[("sub", sub)]).is_empty());
        assert_eq!(warnings(&actions, &[]).len(), 1, "without the sub script, `count` is unassigned");
    }

    #[test]
    fn assign_values_are_read_as_expressions_only_when_numeric() {
        let text = |ty: &str| {
            format!(
                r#"{BEGIN}, {{"id": "x", "action": "ASSIGN", "Variable": "v", "Value": "standard", "Type": "{ty}", "next": "r"}},
                {{"id": "r", "action": "RETURN", "ReturnValue": "{{v}}"}}"#
            )
        };
        assert!(warnings(&text("String"), &[]).is_empty());
        assert_eq!(warnings(&text("Numeric"), &[]).len(), 1);
    }
}
