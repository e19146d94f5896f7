//! Compiling dialect syntax to rhai source: expressions here, statements
//! and FUNCTION definitions in `compile/statements.rs` on top of them.
//!
//! Every operator becomes a call into the runtime library (`rt.rs`),
//! every variable a rhai variable named after its case-insensitive key
//! (`Total` and `total` are one variable `v_total`; `global:x` is `g_x`).
//! The generator tracks the static type of each node: arithmetic always
//! yields a number and comparisons a boolean, so when both operands are
//! statically numbers rhai's native float operators stand in for the
//! runtime-library calls, with the same result.
//!
//! A *typed* compilation additionally treats chosen variables as numbers.
//! It is only used when, at run time, those variables hold numbers; the
//! generator records which of them appear where text would behave
//! differently from a number (`len(x)`, `"{x}"`, comparisons with text), so
//! the evaluator can demand an actual number rather than numeric text there.

mod statements;

use super::ast::*;
use super::error::SnippetError;
use super::signatures::{builtin, builtin_type};
use crate::base::Pos;
use std::collections::HashSet;

pub use super::signatures::Ty;

/// A variable an expression reads, and its rhai name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarSlot {
    /// The variable's case-insensitive key (lower case).
    pub key: String,
    /// The name as first written (the display name of a new variable).
    pub name: String,
    /// The rhai variable that carries it.
    pub rhai: String,
    /// Read from the run's root scope (`global:name`).
    pub global: bool,
    /// Where the variable sat in the table last time (a lookup hint: the
    /// same script creates its variables in the same order every run).
    pub hint: crate::value::Hint,
}

/// How a value is used: where numeric text and a number are
/// interchangeable, or where the text itself matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    Numeric,
    Any,
}

/// The rhai name of a variable key.
pub fn rhai_name(key: &str, global: bool) -> String {
    let mut s = String::with_capacity(key.len() + 2);
    s.push_str(if global { "g_" } else { "v_" });
    for c in key.chars() {
        match c {
            'a'..='z' | '0'..='9' | '_' => s.push(c),
            'A'..='Z' => s.push(c.to_ascii_lowercase()),
            '$' => s.push_str("_S_"),
            other => s.push_str(&format!("_u{:x}_", other as u32)),
        }
    }
    s
}

/// Quote text as a rhai string literal.
pub fn rhai_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Write a number as a rhai float literal.
pub fn rhai_float(n: f64) -> String {
    if !n.is_finite() {
        return "0.0".into();
    }
    let s = format!("{n:?}");
    if let Some((mantissa, exp)) = s.split_once('e') {
        let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
        format!("{mantissa}e{exp}")
    } else if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// Which variables a compilation treats as numbers.
#[derive(Clone, Copy, Debug)]
pub enum Typing<'a> {
    /// None: the general form.
    None,
    /// Every variable (the typed form of a single expression).
    All,
    /// These keys (the typed form of a snippet).
    Some(&'a HashSet<String>),
}

/// A user function's signature, for call checking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnSig {
    /// Lower-case name.
    pub name: String,
    /// Number of parameters.
    pub arity: usize,
}

/// The rhai name of a user function.
pub fn fn_name(name: &str) -> String {
    rhai_name(&name.to_lowercase(), false).replacen("v_", "f_", 1)
}

/// Rhai source being built, with a map from each generated line to the
/// dialect line it came from (for runtime error positions).
#[derive(Default, Debug)]
pub struct Code {
    /// The source.
    pub text: String,
    /// `lines[i]` is the dialect line of generated line `i + 1`.
    pub lines: Vec<u32>,
}

impl Code {
    fn line(&mut self, src_line: u32) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.lines.push(src_line);
    }
}

/// Generates rhai source, collecting the variables read and written.
pub struct Gen<'a> {
    /// Variables read or written at the top level, in first-use order.
    pub vars: Vec<VarSlot>,
    /// Keys of top-level variables assigned (written back after a run).
    pub assigned: Vec<String>,
    /// Variables treated as numbers that were used where text differs.
    pub text_sensitive: HashSet<String>,
    typing: Typing<'a>,
    functions: &'a [FnSig],
    /// Inside a FUNCTION: its parameters and locals (keys).
    locals: Option<Vec<String>>,
    temp: usize,
    /// Enclosing loops, innermost last: a range-driven FOR's number (its
    /// BREAK clears the flag that says the loop ran to the end).
    loops: Vec<Option<usize>>,
}

impl Default for Gen<'_> {
    fn default() -> Self {
        Gen::new(Typing::None, &[])
    }
}

impl<'a> Gen<'a> {
    /// A generator with the given variable typing and user functions.
    pub fn new(typing: Typing<'a>, functions: &'a [FnSig]) -> Gen<'a> {
        Gen {
            vars: Vec::new(),
            assigned: Vec::new(),
            text_sensitive: HashSet::new(),
            typing,
            functions,
            locals: None,
            temp: 0,
            loops: Vec::new(),
        }
    }

    fn next_temp(&mut self) -> usize {
        self.temp += 1;
        self.temp
    }

    fn is_num(&self, v: &VarName) -> bool {
        if v.global || self.locals.is_some() {
            return false;
        }
        match self.typing {
            Typing::None => false,
            Typing::All => true,
            Typing::Some(set) => set.contains(&v.key()),
        }
    }

    /// Register a top-level variable and return its rhai name.
    pub fn var(&mut self, v: &VarName) -> String {
        let key = v.key();
        if self.locals.is_some() {
            return rhai_name(&key, false);
        }
        if let Some(slot) = self.vars.iter().find(|s| s.key == key && s.global == v.global) {
            return slot.rhai.clone();
        }
        let rhai = rhai_name(&key, v.global);
        self.vars.push(VarSlot {
            key,
            name: v.name.clone(),
            rhai: rhai.clone(),
            global: v.global,
            hint: Default::default(),
        });
        rhai
    }

    /// Write `e` as rhai code; returns its static type.
    pub fn expr(&mut self, e: &Expr, out: &mut String) -> Result<Ty, SnippetError> {
        self.expr_as(e, Use::Any, out)
    }

    fn expr_as(&mut self, e: &Expr, usage: Use, out: &mut String) -> Result<Ty, SnippetError> {
        match e {
            Expr::Num(n, pos) => {
                let v = crate::value::parse_number(n)
                    .ok_or_else(|| SnippetError::syntax(*pos, format!("'{n}' is not a number")))?;
                out.push_str(&rhai_float(v));
                Ok(Ty::Num)
            }
            Expr::Bool(b, _) => {
                out.push_str(if *b { "true" } else { "false" });
                Ok(Ty::Bool)
            }
            Expr::Date(canon, _) => {
                out.push_str(&rhai_string(canon));
                Ok(Ty::Text)
            }
            Expr::Str(parts, _) => {
                self.string(parts, out)?;
                Ok(Ty::Text)
            }
            Expr::Var(v, pos) => {
                if v.global && self.locals.is_some() {
                    return Err(SnippetError::syntax(
                        *pos,
                        "global: variables are not available inside FUNCTION; return the value instead",
                    ));
                }
                let name = self.var(v);
                out.push_str(&name);
                if self.is_num(v) {
                    if usage == Use::Any {
                        self.text_sensitive.insert(v.key());
                    }
                    Ok(Ty::Num)
                } else {
                    Ok(Ty::Any)
                }
            }
            Expr::Member(obj, name, _) => {
                out.push_str("__m(");
                self.expr(obj, out)?;
                out.push_str(", ");
                out.push_str(&rhai_string(name));
                out.push(')');
                Ok(Ty::Any)
            }
            Expr::Index(obj, idx, _) => {
                out.push_str("__ix(");
                self.expr(obj, out)?;
                out.push_str(", ");
                self.expr(idx, out)?;
                out.push(')');
                Ok(Ty::Any)
            }
            Expr::Call(name, args, pos) => self.call(name, args, *pos, out),
            Expr::Unary(UnOp::Neg, a, _) => {
                let mut inner = String::new();
                if self.expr_as(a, Use::Numeric, &mut inner)? == Ty::Num {
                    out.push_str("(-(");
                    out.push_str(&inner);
                    out.push_str("))");
                } else {
                    out.push_str("__neg(");
                    out.push_str(&inner);
                    out.push(')');
                }
                Ok(Ty::Num)
            }
            Expr::Unary(UnOp::Not, a, _) => {
                out.push('!');
                self.boolean(a, out)?;
                Ok(Ty::Bool)
            }
            Expr::Binary(op @ (BinOp::And | BinOp::Or), a, b, _) => {
                out.push('(');
                self.boolean(a, out)?;
                out.push_str(if *op == BinOp::And { " && " } else { " || " });
                self.boolean(b, out)?;
                out.push(')');
                Ok(Ty::Bool)
            }
            Expr::Binary(op, a, b, _) => self.binary(*op, a, b, out),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, out: &mut String) -> Result<Ty, SnippetError> {
        // Dividing by a non-zero literal cannot fail, so the native
        // operator gives the same result as the checked call.
        let safe_divisor = matches!(b, Expr::Num(n, _) if crate::value::parse_number(n).is_some_and(|v| v != 0.0));
        let (f, native, ty) = match op {
            BinOp::Pow => ("__pow", Some(" ** "), Ty::Num),
            BinOp::Mul => ("__mul", Some(" * "), Ty::Num),
            BinOp::Div if safe_divisor => ("__div", Some(" / "), Ty::Num),
            BinOp::Mod if safe_divisor => ("__mod", Some(" % "), Ty::Num),
            BinOp::Div => ("__div", None, Ty::Num),
            BinOp::IDiv => ("__idiv", None, Ty::Num),
            BinOp::Mod => ("__mod", None, Ty::Num),
            BinOp::Add => ("__add", Some(" + "), Ty::Num),
            BinOp::Sub => ("__sub", Some(" - "), Ty::Num),
            BinOp::Xor => ("__xor", None, Ty::Any),
            BinOp::Eq => ("__eq", Some(" == "), Ty::Bool),
            BinOp::Ne => ("__ne", Some(" != "), Ty::Bool),
            BinOp::Lt => ("__lt", Some(" < "), Ty::Bool),
            BinOp::Le => ("__le", Some(" <= "), Ty::Bool),
            BinOp::Gt => ("__gt", Some(" > "), Ty::Bool),
            BinOp::Ge => ("__ge", Some(" >= "), Ty::Bool),
            BinOp::And | BinOp::Or => unreachable!("handled by the caller"),
        };
        // Arithmetic reads operands as numbers, so numeric text and numbers
        // behave alike; a comparison does only when both sides are numbers.
        let usage = match ty {
            Ty::Num => Use::Numeric,
            Ty::Bool if self.static_type(a) == Ty::Num && self.static_type(b) == Ty::Num => Use::Numeric,
            _ => Use::Any,
        };
        let (mut ca, mut cb) = (String::new(), String::new());
        let ta = self.expr_as(a, usage, &mut ca)?;
        let tb = self.expr_as(b, usage, &mut cb)?;
        if let (Some(sym), Ty::Num, Ty::Num) = (native, ta, tb) {
            out.push('(');
            out.push_str(&ca);
            out.push_str(sym);
            out.push_str(&cb);
            out.push(')');
        } else {
            out.push_str(f);
            out.push('(');
            out.push_str(&ca);
            out.push_str(", ");
            out.push_str(&cb);
            out.push(')');
        }
        Ok(ty)
    }

    /// The static type `expr` would give `e`, without generating code.
    pub fn static_type(&self, e: &Expr) -> Ty {
        match e {
            Expr::Num(..) => Ty::Num,
            Expr::Bool(..) => Ty::Bool,
            Expr::Date(..) | Expr::Str(..) => Ty::Text,
            Expr::Var(v, _) if self.is_num(v) => Ty::Num,
            Expr::Var(..) | Expr::Member(..) | Expr::Index(..) => Ty::Any,
            Expr::Call(name, _, _) => {
                let lower = name.to_ascii_lowercase();
                if builtin(&lower).is_some() { builtin_type(&lower) } else { Ty::Any }
            }
            Expr::Unary(UnOp::Neg, ..) => Ty::Num,
            Expr::Unary(UnOp::Not, ..) => Ty::Bool,
            Expr::Binary(op, ..) => match op {
                BinOp::Xor => Ty::Any,
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::And | BinOp::Or => {
                    Ty::Bool
                }
                _ => Ty::Num,
            },
        }
    }

    /// Write `e` as a rhai boolean (`__t` unless it already is one).
    fn boolean(&mut self, e: &Expr, out: &mut String) -> Result<(), SnippetError> {
        self.converted(e, Ty::Bool, "__t", out)
    }

    /// Write `e` as a rhai float (`__num` unless it already is one).
    fn number(&mut self, e: &Expr, out: &mut String) -> Result<(), SnippetError> {
        self.converted(e, Ty::Num, "__num", out)
    }

    /// Write `e` as a `want`: as it is when its static type already is,
    /// else through the runtime conversion `convert`. Truthiness and
    /// numeric reading both take numeric text and numbers alike.
    fn converted(&mut self, e: &Expr, want: Ty, convert: &str, out: &mut String) -> Result<(), SnippetError> {
        let mut inner = String::new();
        if self.expr_as(e, Use::Numeric, &mut inner)? == want {
            out.push_str(&inner);
        } else {
            out.push_str(convert);
            out.push('(');
            out.push_str(&inner);
            out.push(')');
        }
        Ok(())
    }

    /// Write a string with `{}` parts as a concatenation of texts.
    pub fn string(&mut self, parts: &[StrPart], out: &mut String) -> Result<(), SnippetError> {
        if parts.is_empty() {
            out.push_str("\"\"");
            return Ok(());
        }
        // rhai's own interpolated string builds the text in one buffer; its
        // literal parts take no escapes, so use it only when they need none.
        let plain = |s: &str| !s.contains(['`', '\r']) && !s.contains("${") && !s.ends_with('$');
        let interpolates = parts.iter().any(|p| matches!(p, StrPart::Expr(_)));
        if parts.len() > 1
            && interpolates
            && parts.iter().all(|p| match p {
                StrPart::Lit(s) => plain(s),
                StrPart::Expr(_) => true,
            })
        {
            out.push('`');
            for p in parts {
                match p {
                    StrPart::Lit(s) => out.push_str(s),
                    StrPart::Expr(e) => {
                        out.push_str("${__s(");
                        self.expr(e, out)?;
                        out.push_str(")}");
                    }
                }
            }
            out.push('`');
            return Ok(());
        }
        if parts.len() > 1 {
            out.push('(');
        }
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                out.push_str(" + ");
            }
            match p {
                StrPart::Lit(s) => out.push_str(&rhai_string(s)),
                StrPart::Expr(e) => {
                    let mut inner = String::new();
                    let ty = self.expr(e, &mut inner)?;
                    if ty == Ty::Text && parts.len() > 1 {
                        out.push_str(&inner);
                    } else {
                        out.push_str("__s(");
                        out.push_str(&inner);
                        out.push(')');
                    }
                }
            }
        }
        if parts.len() > 1 {
            out.push(')');
        }
        Ok(())
    }

    fn call(&mut self, name: &str, args: &[Expr], pos: Pos, out: &mut String) -> Result<Ty, SnippetError> {
        let lower = name.to_ascii_lowercase();
        let (rhai, min, max, user) = match builtin(&lower) {
            Some((min, max)) => (format!("__f_{lower}"), min, max, false),
            None => match self.functions.iter().find(|f| f.name == lower) {
                Some(f) => (fn_name(&lower), f.arity, f.arity, true),
                None => return Err(SnippetError::syntax(pos, format!("unknown function '{name}'"))),
            },
        };
        if args.len() < min || args.len() > max {
            let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return Err(SnippetError::syntax(
                pos,
                format!("{lower}() takes {want} argument{}, not {}", if max == 1 { "" } else { "s" }, args.len()),
            ));
        }
        out.push_str(&rhai);
        out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.expr(a, out)?;
        }
        out.push(')');
        if user {
            return Ok(Ty::Any);
        }
        Ok(builtin_type(&lower))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_literals() {
        assert_eq!(rhai_name("total", false), "v_total");
        assert_eq!(rhai_name("name$", true), "g_name_S_");
        assert_eq!(rhai_name("größe", false), "v_gr_uf6__udf_e");
        assert_eq!(fn_name("MyAppend"), "f_myappend");
        assert_eq!(rhai_string("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
        assert_eq!(rhai_float(500.0), "500.0");
        assert_eq!(rhai_float(1e20), "1.0e20");
        assert_eq!(rhai_float(-2.5e-7), "-2.5e-7");
    }

    fn typed(src: &str) -> (String, HashSet<String>) {
        let e = crate::snippet::parser::parse_expression(src, Pos::new(1, 1)).unwrap();
        let mut g = Gen::new(Typing::All, &[]);
        let mut out = String::new();
        g.expr(&e, &mut out).unwrap();
        (out, g.text_sensitive)
    }

    #[test]
    fn typed_form_uses_native_operators_and_tracks_text_uses() {
        let (code, sensitive) = typed("i < 10 & -x >= 2");
        assert_eq!(code, "((v_i < 10.0) && ((-(v_x)) >= 2.0))");
        assert!(sensitive.is_empty());
        assert_eq!(typed("a / b").0, "__div(v_a, v_b)");
        let (code, sensitive) = typed("len(name) > n");
        assert_eq!(code, "(__f_len(v_name) > v_n)");
        assert!(sensitive.contains("name") && !sensitive.contains("n"));
        let (_, sensitive) = typed("x = \"abc\"");
        assert!(sensitive.contains("x"), "comparing with text is text-sensitive");
        // Untyped: arithmetic between number-typed nodes still goes native.
        let e = crate::snippet::parser::parse_expression("(a + 1) * 2", Pos::new(1, 1)).unwrap();
        let mut out = String::new();
        Gen::default().expr(&e, &mut out).unwrap();
        assert_eq!(out, "(__add(v_a, 1.0) * 2.0)");
    }
}
