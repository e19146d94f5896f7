//! The static checker: links a script against the catalog and reports every
//! problem at once.
//!
//! Checking and linking are one pass. While it looks for problems, the
//! checker also resolves each action's manifest, compiles each property into
//! a [`PropPlan`] (templates and expressions compiled to rhai once) and maps
//! each wired branch to the index of its target. The engine runs only a
//! script whose check found no errors, so it never meets an unknown action
//! or a dangling branch.
//!
//! The checks that catch typos live beside it: properties a manifest does
//! not know, with a "did you mean" (`typos.rs`, suggestions from
//! `suggest.rs`), and variables read that nothing in the script assigns
//! (`unassigned.rs`). Reading a literal as its property type is
//! `literal.rs`; the codes and their meanings are [`codes`], and [`sarif`]
//! writes diagnostics for code-scanning tools.

pub mod codes;
mod literal;
pub mod permissions;
pub mod sarif;
pub(crate) mod suggest;
mod typos;
mod unassigned;

pub use literal::{check_literal, property_number, type_value};

use super::model::{Action, PropValue, Script};
use super::{ActionRef, Pos};
use crate::catalog::{Catalog, InputSpec, Manifest, PropType};
use crate::snippet::{self, CompiledExpr, Template};
use crate::value::{Value, VarTarget};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// The script cannot run.
    Error,
    /// Suspicious but runnable.
    Warning,
}

impl Severity {
    /// `error` / `warning`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding, with its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable identifier of the problem (`unknown-action`, ...).
    pub code: &'static str,
    /// The script file.
    pub file: String,
    /// Line and column in the file.
    pub pos: Pos,
    /// The action involved.
    pub action: Option<ActionRef>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}[{}]: ", self.file, self.pos, self.severity.name(), self.code)?;
        if let Some(a) = &self.action {
            write!(f, "{a}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl Diagnostic {
    /// As JSON (for `--json` reports).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "severity": self.severity.name(),
            "code": self.code,
            "file": self.file,
            "line": self.pos.line,
            "column": self.pos.column,
            "action": self.action.as_ref().map(|a| a.id.clone()),
            "caption": self.action.as_ref().map(|a| a.caption.clone()),
            "message": self.message,
        })
    }
}

/// How a `dynamic` property gets its object.
#[derive(Clone, Debug)]
pub enum DynamicPlan {
    /// A variable holding the object.
    Var(VarTarget),
    /// A JSON literal.
    Json(Value),
    /// A template whose result is used (JSON text is parsed).
    Template(Template),
}

/// A property compiled for the engine.
#[derive(Clone, Debug)]
pub enum PropPlan {
    /// Not given and no default.
    Absent,
    /// Text-like value with `{}` substitution.
    Template(Template),
    /// Text-like value without substitution: as written, and converted to
    /// its property type once, here.
    Literal(String, Value),
    /// A lazy input: the action reads it as text (the template) or as an
    /// expression (compiled when the text parses as one).
    Lazy(Template, Option<Box<CompiledExpr>>),
    /// A variable reference.
    Variable(VarTarget),
    /// An expression evaluated when the action runs.
    Expression(Box<CompiledExpr>),
    /// Snippet code, compiled.
    Snippet(std::sync::Arc<crate::snippet::CompiledSnippet>),
    /// A dynamic object.
    Dynamic(DynamicPlan),
    /// A list of substituted texts.
    List(Vec<Template>),
}

/// One action, linked.
#[derive(Clone, Debug, Default)]
pub struct LinkedAction {
    /// Its manifest (absent when the action type is unknown).
    pub manifest: Option<Arc<Manifest>>,
    /// Input plans, aligned with the manifest's inputs.
    pub inputs: Vec<PropPlan>,
    /// Output targets, aligned with the manifest's outputs.
    pub outputs: Vec<VarTarget>,
    /// Next action per manifest branch.
    pub next: Vec<Option<usize>>,
    /// Branches named after values (CASE), with their targets.
    pub custom: Vec<(String, usize)>,
}

/// A linked script.
#[derive(Clone, Debug, Default)]
pub struct Linked {
    /// Per action, aligned with the script's actions.
    pub actions: Vec<LinkedAction>,
    /// Index of the BEGIN action.
    pub begin: Option<usize>,
}

/// "Does action type `name` at `version` have an implementation?"
pub type ImplementedFn<'a> = &'a dyn Fn(&str, u32) -> bool;

/// What the checker may ask of its surroundings.
pub struct CheckEnv<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// Whether a script of this name is in the library.
    pub script_exists: &'a dyn Fn(&str) -> bool,
    /// Whether an action type/version has an implementation (None: don't
    /// check).
    pub implemented: Option<ImplementedFn<'a>>,
    /// Lends the library's script of this name to the callback, when it
    /// can be loaded: the variables a sub script assigns as `global:` are
    /// assigned in its caller (None: sub scripts are not looked into).
    pub lend_script: Option<LendFn<'a>>,
}

/// "Call `f` with the library's script named `name`, if there is one."
pub type LendFn<'a> = &'a dyn Fn(&str, &mut dyn FnMut(&Script));

struct Ctx<'a> {
    script: &'a Script,
    /// Action index by id: branch targets are looked up once per branch.
    index: HashMap<&'a str, usize, foldhash::fast::FixedState>,
    file: String,
    diags: Vec<Diagnostic>,
    /// FUNCTIONs declared in the script's snippets (callable from all).
    functions: Vec<crate::snippet::ast::Function>,
}

impl Ctx<'_> {
    fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }
    fn push(&mut self, severity: Severity, code: &'static str, pos: Pos, action: Option<&Action>, message: String) {
        self.diags.push(Diagnostic {
            severity,
            code,
            file: self.file.clone(),
            pos,
            action: action.map(ActionRef::of),
            message,
        });
    }
    fn error(&mut self, code: &'static str, action: &Action, message: String) {
        let pos = self.script.origin.position(&action.id);
        self.push(Severity::Error, code, pos, Some(action), message);
    }
    fn prop_error(&mut self, code: &'static str, action: &Action, prop: &str, message: String) {
        let pos = self.script.origin.property_position(action, prop);
        self.push(Severity::Error, code, pos, Some(action), message);
    }
    fn warn(&mut self, code: &'static str, action: &Action, message: String) {
        let pos = self.script.origin.position(&action.id);
        self.push(Severity::Warning, code, pos, Some(action), message);
    }
}

/// Check and link `script`. Diagnostics are sorted by position.
pub fn check(script: &Script, env: &CheckEnv) -> (Vec<Diagnostic>, Linked) {
    let mut index = HashMap::with_capacity_and_hasher(script.actions.len(), foldhash::fast::FixedState::default());
    for (i, a) in script.actions.iter().enumerate() {
        // The first of two actions with one id wins, as `Script::index_of`.
        index.entry(a.id.as_str()).or_insert(i);
    }
    let mut cx = Ctx { script, index, file: script.origin.file_name(), diags: Vec::new(), functions: Vec::new() };
    collect_functions(&mut cx, env);
    let mut linked = Linked::default();

    // Exactly one BEGIN.
    let begins: Vec<usize> =
        script.actions.iter().enumerate().filter(|(_, a)| a.kind == "BEGIN").map(|(i, _)| i).collect();
    match begins.as_slice() {
        [] => cx.push(Severity::Error, "no-begin", Pos::new(1, 1), None, "the script has no BEGIN action".into()),
        [one] => linked.begin = Some(*one),
        many => {
            for &i in &many[1..] {
                let a = &script.actions[i];
                cx.error(
                    "several-begins",
                    a,
                    format!("a second BEGIN action (the first is action {})", script.actions[many[0]].id),
                );
            }
            linked.begin = Some(many[0]);
        }
    }

    for action in &script.actions {
        linked.actions.push(link_action(&mut cx, action, env));
    }

    // Reachability and wiring warnings need every action linked first.
    if let Some(begin) = linked.begin {
        let mut seen = vec![false; script.actions.len()];
        let mut stack = vec![begin];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            let la = &linked.actions[i];
            stack.extend(la.next.iter().flatten().copied());
            stack.extend(la.custom.iter().map(|(_, t)| *t));
        }
        for (i, a) in script.actions.iter().enumerate() {
            if !seen[i] {
                cx.warn("unreachable", a, "no path from BEGIN reaches this action".into());
            }
        }
    }
    for (i, a) in script.actions.iter().enumerate() {
        let la = &linked.actions[i];
        let Some(m) = &la.manifest else { continue };
        if m.terminating {
            continue;
        }
        if let Some(e) = m.error_branch()
            && la.next.get(e).copied().flatten().is_none()
        {
            cx.warn("unwired-error", a, "OnError is not wired: a failure falls back to Default with _ERR set".into());
        }
        let Some(d) = m.default_branch() else {
            continue;
        };
        if la.next.get(d).copied().flatten().is_some() {
            continue;
        }
        // Only warn when some result can actually fall through to Default.
        let error = m.error_branch();
        let mut results = m.branches.iter().enumerate().filter(|(bi, _)| *bi != d && Some(*bi) != error);
        let other_results_unwired = m.custom_branches
            || m.branches.len() <= 1 + usize::from(error.is_some())
            || results.any(|(bi, _)| la.next.get(bi).copied().flatten().is_none());
        if other_results_unwired {
            cx.warn(
                "unwired-default",
                a,
                "Default is not wired: when no other branch applies the script ends here".into(),
            );
        }
    }

    cx.diags.extend(unassigned::check(script, &linked, &cx.file, env));
    cx.diags.sort_by_key(|a| (a.pos, a.severity));
    (cx.diags, linked)
}

/// Functions declared in any snippet are usable in every snippet of the
/// script, as in the product: gather them before compiling.
fn collect_functions(cx: &mut Ctx, env: &CheckEnv) {
    let mut owners: HashMap<String, String> = HashMap::new();
    for action in &cx.script.actions {
        let Some(m) = env.catalog.get(&action.kind, action.version) else { continue };
        if action.property("Language").is_some_and(|l| l.joined().trim().eq_ignore_ascii_case("rhai")) {
            continue;
        }
        for spec in m.inputs.iter().filter(|s| s.ty == PropType::Code) {
            let Some(code) = action.properties.iter().find(|p| spec.matches(&p.name)).map(|p| p.value.joined()) else {
                continue;
            };
            // Parse errors are reported when the snippet itself is compiled.
            let Ok(program) = crate::snippet::unit::parse(&code, Pos::new(1, 1)) else { continue };
            for f in program.functions {
                let lower = f.name.to_lowercase();
                if let Some(other) = owners.get(&lower) {
                    let msg = format!(
                        "function '{}' is also defined in action {other}; function names are shared by all snippets of a script",
                        f.name
                    );
                    cx.error("duplicate-function", action, msg);
                    continue;
                }
                owners.insert(lower, action.id.clone());
                cx.functions.push(f);
            }
        }
    }
}

fn link_action(cx: &mut Ctx, action: &Action, env: &CheckEnv) -> LinkedAction {
    let mut la = LinkedAction::default();
    let Some(manifest) = env.catalog.get(&action.kind, action.version).cloned() else {
        let versions = env.catalog.versions(&action.kind);
        if versions.is_empty() {
            cx.error("unknown-action", action, format!("unknown action type '{}'", action.kind));
        } else {
            let list: Vec<String> = versions.iter().map(|v| v.to_string()).collect();
            cx.error(
                "unknown-version",
                action,
                format!("{} has no version {} (known: {})", action.kind, action.version, list.join(", ")),
            );
        }
        // Still check the branch targets so every dangling edge is reported.
        for b in &action.branches {
            if cx.index_of(&b.target).is_none() {
                cx.error(
                    "branch-target-missing",
                    action,
                    format!("branch '{}' goes to action '{}', which does not exist", b.name, b.target),
                );
            }
        }
        return la;
    };
    if !manifest.supports(cx.script.media_type) {
        cx.warn(
            "media-type",
            action,
            format!("{} is not available in {} scripts", manifest.name, cx.script.media_type.name()),
        );
    }
    if let Some(implemented) = env.implemented
        && !implemented(&manifest.name, manifest.version)
    {
        cx.error(
            "no-implementation",
            action,
            format!("{} has a manifest but no implementation in this runtime", manifest.name),
        );
    }

    // Properties the manifest does not know.
    let mut seen_props: HashSet<String> = HashSet::new();
    for p in &action.properties {
        let lower = p.name.to_ascii_lowercase();
        if !seen_props.insert(lower) {
            cx.prop_error("duplicate-property", action, &p.name, format!("property '{}' is given twice", p.name));
        }
        if manifest.input(&p.name).is_none() && manifest.output(&p.name).is_none() {
            typos::unknown_property(cx, action, &manifest, &p.name);
        }
    }

    la.inputs.reserve_exact(manifest.inputs.len());
    for spec in &manifest.inputs {
        let given = action.properties.iter().find(|p| spec.matches(&p.name));
        let plan = plan_input(cx, action, spec, given.map(|p| (&p.name, &p.value)), env);
        la.inputs.push(plan);
    }
    for out in &manifest.outputs {
        let written =
            action.properties.iter().find(|p| p.name.eq_ignore_ascii_case(&out.name)).map(|p| p.value.joined());
        let text = written.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| out.default.clone());
        match VarTarget::parse(&text) {
            Ok(t) => la.outputs.push(t),
            Err(e) => {
                cx.prop_error("bad-literal", action, &out.name, format!("output {}: {e}", out.name));
                la.outputs.push(VarTarget::parse(&out.default).unwrap_or(VarTarget {
                    key: "_".into(),
                    name: "_".into(),
                    global: false,
                    path: Vec::new(),
                    hint: Default::default(),
                }));
            }
        }
    }

    la.next = vec![None; manifest.branches.len()];
    let mut wired = vec![false; manifest.branches.len()];
    for b in &action.branches {
        let target = cx.index_of(&b.target);
        if target.is_none() {
            cx.error(
                "branch-target-missing",
                action,
                format!("branch '{}' goes to action '{}', which does not exist", b.name, b.target),
            );
        }
        match manifest.branch(&b.name) {
            Some(i) => {
                if std::mem::replace(&mut wired[i], true) {
                    cx.error(
                        "duplicate-branch",
                        action,
                        format!("branch '{}' is wired twice", manifest.branches[i].name),
                    );
                }
                la.next[i] = target;
            }
            None if manifest.custom_branches => {
                if la.custom.iter().any(|(n, _)| n == &b.name) {
                    cx.error("duplicate-branch", action, format!("branch '{}' is wired twice", b.name));
                }
                if let Some(t) = target {
                    la.custom.push((b.name.clone(), t));
                }
            }
            None => {
                let names: Vec<&str> = manifest.branches.iter().map(|b| b.name.as_str()).collect();
                let have = if names.is_empty() {
                    "no branches (it ends the script)".to_string()
                } else {
                    format!("branches {}", names.join(", "))
                };
                cx.error(
                    "unknown-branch",
                    action,
                    format!("{} has no branch '{}'; it has {have}", manifest.name, b.name),
                );
            }
        }
    }
    la.manifest = Some(manifest);
    la
}

/// The property being planned: its action, its manifest entry, the name
/// the script gave it under, and where its text starts.
struct Planning<'a> {
    action: &'a Action,
    spec: &'a InputSpec,
    prop_name: &'a str,
    base: Pos,
}

impl Planning<'_> {
    /// A value the property's type refuses.
    fn bad(&self, cx: &mut Ctx, msg: impl fmt::Display) {
        cx.prop_error("bad-literal", self.action, self.prop_name, format!("property '{}': {msg}", self.spec.name));
    }

    /// An expression that does not compile.
    fn bad_expression(&self, cx: &mut Ctx, e: &snippet::SnippetError) {
        cx.prop_error(
            "bad-expression",
            self.action,
            self.prop_name,
            format!("property '{}': column {} of the expression: {}", self.spec.name, e.pos.column, e.message),
        );
    }
}

fn plan_input(
    cx: &mut Ctx,
    action: &Action,
    spec: &InputSpec,
    given: Option<(&String, &PropValue)>,
    env: &CheckEnv,
) -> PropPlan {
    let prop_name = given.map(|(n, _)| n.as_str()).unwrap_or(spec.name.as_str());
    let base = cx.script.origin.property_position(action, prop_name);
    let raw: Option<PropValue> = match given {
        Some((_, PropValue::Text(t)))
            if t.trim().is_empty() && spec.ty != PropType::Text && spec.ty != PropType::Code =>
        {
            None
        }
        Some((_, PropValue::List(l))) if l.is_empty() && spec.ty != PropType::List => None,
        Some((_, v)) => Some(v.clone()),
        None => None,
    };
    let raw = raw.or_else(|| spec.default.clone().map(PropValue::Text));
    let Some(raw) = raw else {
        if spec.required {
            cx.error("missing-property", action, format!("required property '{}' is missing", spec.name));
        }
        return PropPlan::Absent;
    };
    let p = Planning { action, spec, prop_name, base };

    if spec.ty == PropType::List {
        return plan_list(cx, &p, raw.items());
    }
    let text = raw.joined();
    if spec.lazy {
        return plan_lazy(cx, &p, text);
    }
    match spec.ty {
        PropType::Variable => match VarTarget::parse(&text) {
            Ok(t) => PropPlan::Variable(t),
            Err(e) => {
                p.bad(cx, e);
                PropPlan::Absent
            }
        },
        PropType::Expression => match snippet::compile_expression(&text, Pos::new(1, 1)) {
            Ok(e) => PropPlan::Expression(Box::new(e)),
            Err(e) => {
                p.bad_expression(cx, &e);
                PropPlan::Absent
            }
        },
        PropType::Code => plan_code(cx, &p, &text),
        PropType::Dynamic => plan_dynamic(cx, &p, &text),
        ty => plan_scalar(cx, &p, ty, text, env),
    }
}

/// A list: each item a template.
fn plan_list(cx: &mut Ctx, p: &Planning, items: Vec<String>) -> PropPlan {
    if let Some(max) = p.spec.max_items
        && items.len() > max
    {
        p.bad(cx, format!("at most {max} items, got {}", items.len()));
    }
    let mut plans = Vec::new();
    for item in items {
        match Template::compile(&item, p.base) {
            Ok(t) => plans.push(t),
            Err(e) => {
                p.bad(cx, e);
                plans.push(Template::Literal(item.into()));
            }
        }
    }
    PropPlan::List(plans)
}

/// A lazy input: the action reads it as text or as an expression, so both
/// forms are compiled now. Expression errors are reported when another
/// property says the value is an expression (ASSIGN with Type Numeric).
fn plan_lazy(cx: &mut Ctx, p: &Planning, text: String) -> PropPlan {
    let expr = snippet::compile_expression(&text, Pos::new(1, 1));
    if let (Some(cond), Err(e)) = (&p.spec.expression_when, &expr) {
        let other = p.action.property(&cond.property).map(|v| v.joined()).unwrap_or_default();
        if cond.values.iter().any(|v| v.eq_ignore_ascii_case(other.trim())) && !text.contains('{') {
            p.bad_expression(cx, e);
        }
    }
    match Template::compile(&text, p.base) {
        Ok(t) => PropPlan::Lazy(t, expr.ok().map(Box::new)),
        Err(e) => {
            p.bad(cx, e);
            PropPlan::Lazy(Template::Literal(text.into()), None)
        }
    }
}

/// Snippet code, compiled with the script's functions (or as rhai when the
/// action's Language says so).
fn plan_code(cx: &mut Ctx, p: &Planning, text: &str) -> PropPlan {
    let rhai = p.action.property("Language").is_some_and(|l| l.joined().trim().eq_ignore_ascii_case("rhai"));
    let compiled = if rhai {
        crate::snippet::CompiledSnippet::compile_rhai(text, Pos::new(1, 1))
    } else {
        crate::snippet::CompiledSnippet::compile(text, Pos::new(1, 1), &cx.functions)
    };
    match compiled {
        Ok(c) => PropPlan::Snippet(std::sync::Arc::new(c)),
        Err(e) => {
            let file = cx
                .script
                .origin
                .code_files
                .iter()
                .find(|((id, name), _)| *id == p.action.id && name.eq_ignore_ascii_case(p.prop_name))
                .map(|(_, f)| format!(" of {}", f.display()))
                .unwrap_or_default();
            cx.prop_error(
                "bad-snippet",
                p.action,
                p.prop_name,
                format!(
                    "property '{}': line {}, column {}{file}: {}",
                    p.spec.name, e.pos.line, e.pos.column, e.message
                ),
            );
            PropPlan::Absent
        }
    }
}

/// A dynamic object: a JSON literal, a variable holding one, or a template
/// whose result is read as JSON.
fn plan_dynamic(cx: &mut Ctx, p: &Planning, text: &str) -> PropPlan {
    let t = text.trim();
    if (t.starts_with('{') && !t.starts_with("{{") && serde_json::from_str::<serde_json::Value>(t).is_ok())
        || t.starts_with('[')
    {
        match serde_json::from_str::<serde_json::Value>(t) {
            Ok(j) => PropPlan::Dynamic(DynamicPlan::Json(Value::from_json(&j))),
            Err(e) => {
                p.bad(cx, format!("not valid JSON: {e}"));
                PropPlan::Absent
            }
        }
    } else if let Ok(v) = VarTarget::parse(t) {
        PropPlan::Dynamic(DynamicPlan::Var(v))
    } else {
        match Template::compile(text, p.base) {
            Ok(tpl) => PropPlan::Dynamic(DynamicPlan::Template(tpl)),
            Err(e) => {
                p.bad(cx, e);
                PropPlan::Absent
            }
        }
    }
}

/// Text, numbers, booleans, dates, zones, enums and skills: a literal is
/// checked and converted to its type once, here; a text with `{}` groups
/// becomes a template.
fn plan_scalar(cx: &mut Ctx, p: &Planning, ty: PropType, text: String, env: &CheckEnv) -> PropPlan {
    let spec = p.spec;
    let substitutes = spec.substitutes() && text.contains('{');
    if !substitutes {
        if let Err(msg) = check_literal(spec, ty, &text) {
            p.bad(cx, msg);
        }
        if spec.script_ref && !text.trim().is_empty() && !(env.script_exists)(text.trim()) {
            cx.prop_error(
                "missing-script",
                p.action,
                p.prop_name,
                format!("script '{}' is not in the script library", text.trim()),
            );
        }
        let typed = type_value(ty, &spec.name, &spec.values, Value::text(text.as_str()))
            .unwrap_or_else(|_| Value::text(text.as_str()));
        return PropPlan::Literal(text, typed);
    }
    for e in Template::suspicious_groups(&text, p.base) {
        let pos = cx.script.origin.property_position(p.action, p.prop_name);
        cx.push(
            Severity::Warning,
            "suspicious-substitution",
            pos,
            Some(p.action),
            format!("property '{}': a {{...}} group does not parse and stays literal text ({})", spec.name, e.message),
        );
    }
    match Template::compile(&text, p.base) {
        Ok(t) => PropPlan::Template(t),
        Err(e) => {
            p.bad(cx, e);
            PropPlan::Literal(text.clone(), Value::text(text))
        }
    }
}
