//! Compiling dialect syntax to rhai source.
//!
//! Every operator becomes a call into the runtime library ([`super::rt`]),
//! every variable a rhai variable named after its case-insensitive key
//! (`Total` and `total` are one variable `v_total`; `global:x` is `g_x`).
//! The compiler records which variables an expression reads so the
//! evaluator can hand exactly those to rhai. It also tracks the static type
//! of each node so that booleans from comparisons feed `&&`/`||` directly
//! without a truthiness call.

use super::SnippetError;
use super::ast::*;
use super::rt;

/// A variable an expression reads, and its rhai name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarSlot {
    /// The variable's case-insensitive key (lower case).
    pub key: String,
    /// The rhai variable that carries it.
    pub rhai: String,
    /// Read from the run's root scope (`global:name`).
    pub global: bool,
    /// Where the variable sat in the table last time (a lookup hint: the
    /// same script creates its variables in the same order every run).
    pub hint: crate::value::Hint,
}

/// Static type of a compiled node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// Always a boolean.
    Bool,
    /// Always a number.
    Num,
    /// Always text.
    Text,
    /// Not known before running.
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

/// Generates rhai source for expressions, collecting the variables read.
#[derive(Default)]
pub struct Gen {
    /// Variables read so far.
    pub vars: Vec<VarSlot>,
}

impl Gen {
    /// Register a variable and return its rhai name.
    pub fn var(&mut self, v: &VarName) -> String {
        let key = v.key();
        if let Some(slot) = self.vars.iter().find(|s| s.key == key && s.global == v.global) {
            return slot.rhai.clone();
        }
        let rhai = rhai_name(&key, v.global);
        self.vars.push(VarSlot { key, rhai: rhai.clone(), global: v.global, hint: Default::default() });
        rhai
    }

    /// Write `e` as rhai code; returns its static type.
    pub fn expr(&mut self, e: &Expr, out: &mut String) -> Result<Ty, SnippetError> {
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
            Expr::Var(v, _) => {
                let name = self.var(v);
                out.push_str(&name);
                Ok(Ty::Any)
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
                out.push_str("__neg(");
                self.expr(a, out)?;
                out.push(')');
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
            Expr::Binary(op, a, b, _) => {
                let (f, ty) = match op {
                    BinOp::Pow => ("__pow", Ty::Num),
                    BinOp::Mul => ("__mul", Ty::Num),
                    BinOp::Div => ("__div", Ty::Num),
                    BinOp::IDiv => ("__idiv", Ty::Num),
                    BinOp::Mod => ("__mod", Ty::Num),
                    BinOp::Add => ("__add", Ty::Num),
                    BinOp::Sub => ("__sub", Ty::Num),
                    BinOp::Xor => ("__xor", Ty::Any),
                    BinOp::Eq => ("__eq", Ty::Bool),
                    BinOp::Ne => ("__ne", Ty::Bool),
                    BinOp::Lt => ("__lt", Ty::Bool),
                    BinOp::Le => ("__le", Ty::Bool),
                    BinOp::Gt => ("__gt", Ty::Bool),
                    BinOp::Ge => ("__ge", Ty::Bool),
                    BinOp::And | BinOp::Or => unreachable!("handled above"),
                };
                out.push_str(f);
                out.push('(');
                self.expr(a, out)?;
                out.push_str(", ");
                self.expr(b, out)?;
                out.push(')');
                Ok(ty)
            }
        }
    }

    /// Write `e` as a rhai boolean.
    fn boolean(&mut self, e: &Expr, out: &mut String) -> Result<(), SnippetError> {
        let mut inner = String::new();
        let ty = self.expr(e, &mut inner)?;
        if ty == Ty::Bool {
            out.push_str(&inner);
        } else {
            out.push_str("__t(");
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

    fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: crate::script::Pos,
        out: &mut String,
    ) -> Result<Ty, SnippetError> {
        let lower = name.to_ascii_lowercase();
        let Some((min, max)) = rt::builtin(&lower) else {
            return Err(SnippetError::syntax(pos, format!("unknown function '{name}'")));
        };
        if args.len() < min || args.len() > max {
            let want = if min == max { format!("{min}") } else { format!("{min} to {max}") };
            return Err(SnippetError::syntax(
                pos,
                format!("{lower}() takes {want} argument{}, not {}", if max == 1 { "" } else { "s" }, args.len()),
            ));
        }
        out.push_str("__f_");
        out.push_str(&lower);
        out.push('(');
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.expr(a, out)?;
        }
        out.push(')');
        Ok(match lower.as_str() {
            "isnumeric" | "contains" => Ty::Bool,
            "len" | "abs" | "round" | "floor" | "ceiling" | "random" | "indexof" | "count" => Ty::Num,
            "left" | "right" | "mid" | "upper" | "lower" | "trim" | "replace" | "now" | "asjson" => Ty::Text,
            _ => Ty::Any,
        })
    }
}

/// Write `e` as rhai code that assumes every variable holds a number
/// (`f64`), using rhai's native float operators. Returns `None` when the
/// expression uses anything whose semantics the native operators would not
/// reproduce exactly (text, members, calls, booleans in arithmetic); the
/// general form is used then. Division, `%`, `\` and `~` keep their
/// runtime-library calls (division by zero must stay an error).
pub fn numeric(e: &Expr, out: &mut String) -> Option<Ty> {
    match e {
        Expr::Num(n, _) => {
            out.push_str(&rhai_float(crate::value::parse_number(n)?));
            Some(Ty::Num)
        }
        Expr::Var(v, _) => {
            out.push_str(&rhai_name(&v.key(), v.global));
            Some(Ty::Num)
        }
        Expr::Unary(UnOp::Neg, a, _) => {
            out.push_str("(-");
            (numeric(a, out)? == Ty::Num).then_some(())?;
            out.push(')');
            Some(Ty::Num)
        }
        Expr::Unary(UnOp::Not, a, _) => {
            out.push_str("(!");
            (numeric(a, out)? == Ty::Bool).then_some(())?;
            out.push(')');
            Some(Ty::Bool)
        }
        Expr::Binary(op, a, b, _) => {
            let (native, call, operands, result) = match op {
                BinOp::Add => (Some(" + "), None, Ty::Num, Ty::Num),
                BinOp::Sub => (Some(" - "), None, Ty::Num, Ty::Num),
                BinOp::Mul => (Some(" * "), None, Ty::Num, Ty::Num),
                BinOp::Pow => (Some(" ** "), None, Ty::Num, Ty::Num),
                BinOp::Div => (None, Some("__div"), Ty::Num, Ty::Num),
                BinOp::IDiv => (None, Some("__idiv"), Ty::Num, Ty::Num),
                BinOp::Mod => (None, Some("__mod"), Ty::Num, Ty::Num),
                BinOp::Xor => (None, Some("__xor"), Ty::Num, Ty::Num),
                BinOp::Eq => (Some(" == "), None, Ty::Num, Ty::Bool),
                BinOp::Ne => (Some(" != "), None, Ty::Num, Ty::Bool),
                BinOp::Lt => (Some(" < "), None, Ty::Num, Ty::Bool),
                BinOp::Le => (Some(" <= "), None, Ty::Num, Ty::Bool),
                BinOp::Gt => (Some(" > "), None, Ty::Num, Ty::Bool),
                BinOp::Ge => (Some(" >= "), None, Ty::Num, Ty::Bool),
                BinOp::And => (Some(" && "), None, Ty::Bool, Ty::Bool),
                BinOp::Or => (Some(" || "), None, Ty::Bool, Ty::Bool),
            };
            match (native, call) {
                (Some(sym), _) => {
                    out.push('(');
                    (numeric(a, out)? == operands).then_some(())?;
                    out.push_str(sym);
                    (numeric(b, out)? == operands).then_some(())?;
                    out.push(')');
                }
                (None, Some(f)) => {
                    out.push_str(f);
                    out.push('(');
                    (numeric(a, out)? == operands).then_some(())?;
                    out.push_str(", ");
                    (numeric(b, out)? == operands).then_some(())?;
                    out.push(')');
                }
                (None, None) => return None,
            }
            Some(result)
        }
        _ => None,
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
        assert_eq!(rhai_string("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
        assert_eq!(rhai_float(500.0), "500.0");
        assert_eq!(rhai_float(1e20), "1.0e20");
        assert_eq!(rhai_float(-2.5e-7), "-2.5e-7");
    }

    #[test]
    fn numeric_form_only_for_pure_arithmetic() {
        let num = |src: &str| {
            let e = crate::snippet::parser::parse_expression(src, crate::script::Pos::new(1, 1)).unwrap();
            let mut out = String::new();
            numeric(&e, &mut out).map(|_| out)
        };
        assert_eq!(num("i < 10 & -x >= 2").as_deref(), Some("((v_i < 10.0) && ((-v_x) >= 2.0))"));
        assert_eq!(num("a / b").as_deref(), Some("__div(v_a, v_b)"));
        assert_eq!(num("(a > 1) + 1"), None);
        assert_eq!(num("name = \"x\""), None);
        assert_eq!(num("len(x) > 1"), None);
        assert_eq!(num("o.size > 1"), None);
    }
}
