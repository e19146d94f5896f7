//! Parser for the snippet dialect's expressions and `{}` templates.
//!
//! Precedence, tightest first: parentheses and postfix forms (member, index,
//! call); unary `-` and `!`; `^`; `*` `/` `\` `%`; `+` `-` `~`;
//! comparisons; `&`; `|`. Binary operators associate to the left.
//! The [`Parser`] works over a token list so that the statement parser
//! ([`statements`], which extends it) can share it. String literals and
//! templates are split in `parser/template.rs`, which is handed this
//! file's expression parser for what sits inside `{}`.

pub mod statements;
mod template;

use super::ast::*;
use super::error::{SnippetError, SnippetErrorKind};
use super::lexer::{Tok, Token, lex};
use crate::base::Pos;

pub use super::error::MAX_NESTING;

/// A recursive-descent parser over snippet tokens.
pub struct Parser {
    toks: Vec<Token>,
    i: usize,
    /// Depth of open parentheses/brackets: line breaks are ignored inside.
    nest: usize,
    /// Current recursion depth, bounded so hostile input cannot exhaust
    /// the stack.
    depth: usize,
}

fn too_deep(pos: Pos) -> SnippetError {
    SnippetError {
        kind: SnippetErrorKind::TooDeep,
        pos,
        message: format!("the expression is nested too deeply (more than {MAX_NESTING} levels)"),
    }
}

impl Parser {
    /// A parser for `src`, whose first character is at `base`.
    pub fn new(src: &str, base: Pos) -> Parser {
        Parser::nested(src, base, 0)
    }

    /// A parser for `src` found `depth` levels deep in an enclosing
    /// expression or template (the levels count toward [`MAX_NESTING`]).
    pub fn nested(src: &str, base: Pos, depth: usize) -> Parser {
        Parser { toks: lex(src, base), i: 0, nest: 0, depth }
    }

    /// One more level for an operator or postfix chain link.
    fn deeper(&mut self, pos: Pos) -> Result<(), SnippetError> {
        self.depth += 1;
        if self.depth > MAX_NESTING { Err(too_deep(pos)) } else { Ok(()) }
    }

    fn skip_newlines_if_nested(&mut self) {
        while self.nest > 0 && matches!(self.toks.get(self.i).map(|t| &t.tok), Some(Tok::Newline)) {
            self.i += 1;
        }
    }

    /// The current token.
    pub fn peek(&mut self) -> &Token {
        self.skip_newlines_if_nested();
        let last = self.toks.len() - 1;
        &self.toks[self.i.min(last)]
    }

    /// Consume and return the current token.
    pub fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    /// Whether the current token is the operator `op`.
    pub fn at_op(&mut self, op: &str) -> bool {
        matches!(&self.peek().tok, Tok::Op(o) if *o == op)
    }

    /// Consume operator `op` or fail.
    pub fn expect_op(&mut self, op: &str) -> Result<Pos, SnippetError> {
        let t = self.bump();
        match &t.tok {
            Tok::Op(o) if *o == op => Ok(t.pos),
            other => Err(SnippetError::syntax(t.pos, format!("expected '{op}' but found {}", describe(other)))),
        }
    }

    /// Fail unless the input is used up.
    pub fn expect_end(&mut self) -> Result<(), SnippetError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Eof => Ok(()),
            other => Err(SnippetError::syntax(t.pos, format!("unexpected {} after the expression", describe(other)))),
        }
    }

    /// Parse one expression.
    pub fn expression(&mut self) -> Result<Expr, SnippetError> {
        self.binary(1)
    }

    fn binary(&mut self, min: u8) -> Result<Expr, SnippetError> {
        // Each operator nests the left side one level deeper.
        let depth = self.depth;
        let r = self.binary_chain(min);
        self.depth = depth;
        r
    }

    fn binary_chain(&mut self, min: u8) -> Result<Expr, SnippetError> {
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek().clone();
            let op = match &t.tok {
                Tok::Op(o) => match *o {
                    "^" => BinOp::Pow,
                    "*" => BinOp::Mul,
                    "/" => BinOp::Div,
                    "\\" => BinOp::IDiv,
                    "%" => BinOp::Mod,
                    "+" => BinOp::Add,
                    "-" => BinOp::Sub,
                    "~" => BinOp::Xor,
                    "=" | "==" => BinOp::Eq,
                    "!=" | "<>" => BinOp::Ne,
                    "<" => BinOp::Lt,
                    "<=" => BinOp::Le,
                    ">" => BinOp::Gt,
                    ">=" => BinOp::Ge,
                    "&" | "&&" => BinOp::And,
                    "|" | "||" => BinOp::Or,
                    _ => break,
                },
                _ => break,
            };
            let prec = op.precedence();
            if prec < min {
                break;
            }
            self.bump();
            self.deeper(t.pos)?;
            let rhs = self.binary(prec + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs), t.pos);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, SnippetError> {
        self.depth += 1;
        let r = self.unary_inner();
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self) -> Result<Expr, SnippetError> {
        let t = self.peek().clone();
        if self.depth > MAX_NESTING {
            return Err(too_deep(t.pos));
        }
        match &t.tok {
            Tok::Op("-") => {
                self.bump();
                let e = self.unary()?;
                Ok(match e {
                    Expr::Num(n, _) if !n.starts_with('-') => Expr::Num(format!("-{n}"), t.pos),
                    e => Expr::Unary(UnOp::Neg, Box::new(e), t.pos),
                })
            }
            Tok::Op("+") => {
                self.bump();
                self.unary()
            }
            Tok::Op("!") => {
                self.bump();
                Ok(Expr::Unary(UnOp::Not, Box::new(self.unary()?), t.pos))
            }
            _ => {
                let p = self.primary()?;
                self.postfix(p)
            }
        }
    }

    /// A value with its member, index and call suffixes, but no operators:
    /// the left side of an assignment.
    fn postfix_expr(&mut self) -> Result<Expr, SnippetError> {
        let p = self.primary()?;
        self.postfix(p)
    }

    fn primary(&mut self) -> Result<Expr, SnippetError> {
        let t = self.bump();
        match t.tok {
            Tok::Num(n) => Ok(Expr::Num(n, t.pos)),
            Tok::Str(s, kind) => template::string_literal(&s, kind, t.pos, self.depth, parse_expression_at),
            Tok::Ident(name) => {
                if name.eq_ignore_ascii_case("true") {
                    return Ok(Expr::Bool(true, t.pos));
                }
                if name.eq_ignore_ascii_case("false") {
                    return Ok(Expr::Bool(false, t.pos));
                }
                if name.eq_ignore_ascii_case("global") && self.at_op(":") {
                    self.bump();
                    let v = self.bump();
                    return match v.tok {
                        Tok::Ident(n) => Ok(Expr::Var(VarName { name: n, global: true }, t.pos)),
                        other => Err(SnippetError::syntax(
                            v.pos,
                            format!("expected a variable name after 'global:' but found {}", describe(&other)),
                        )),
                    };
                }
                if self.at_op("(") {
                    let args = self.arguments()?;
                    return Ok(Expr::Call(name, args, t.pos));
                }
                Ok(Expr::Var(VarName { name, global: false }, t.pos))
            }
            Tok::Op("(") => {
                self.nest += 1;
                let e = self.expression();
                let close = self.expect_op(")");
                self.nest -= 1;
                let e = e?;
                close?;
                Ok(e)
            }
            Tok::Error(msg) => Err(SnippetError::syntax(t.pos, msg)),
            other => Err(SnippetError::syntax(t.pos, format!("expected a value but found {}", describe(&other)))),
        }
    }

    fn arguments(&mut self) -> Result<Vec<Expr>, SnippetError> {
        self.expect_op("(")?;
        self.nest += 1;
        let r = (|| {
            let mut args = Vec::new();
            if self.at_op(")") {
                self.bump();
                return Ok(args);
            }
            loop {
                args.push(self.expression()?);
                if self.at_op(",") {
                    self.bump();
                    continue;
                }
                self.expect_op(")")?;
                return Ok(args);
            }
        })();
        self.nest -= 1;
        r
    }

    fn postfix(&mut self, e: Expr) -> Result<Expr, SnippetError> {
        // Each member or index nests the value one level deeper.
        let depth = self.depth;
        let r = self.postfix_chain(e);
        self.depth = depth;
        r
    }

    fn postfix_chain(&mut self, mut e: Expr) -> Result<Expr, SnippetError> {
        loop {
            if self.at_op(".") || self.at_op("[") {
                let pos = self.peek().pos;
                self.deeper(pos)?;
            }
            if self.at_op(".") {
                let dot = self.bump();
                let t = self.bump();
                let name = match t.tok {
                    Tok::Ident(n) => n,
                    Tok::Num(n) if n.chars().all(|c| c.is_ascii_digit()) => n,
                    other => {
                        return Err(SnippetError::syntax(
                            t.pos,
                            format!("expected a member name after '.' but found {}", describe(&other)),
                        ));
                    }
                };
                if self.at_op("(") {
                    let mut args = vec![e];
                    args.extend(self.arguments()?);
                    e = Expr::Call(name, args, dot.pos);
                } else {
                    e = Expr::Member(Box::new(e), name, dot.pos);
                }
            } else if self.at_op("[") {
                let open = self.bump();
                self.nest += 1;
                let idx = self.expression();
                let close = self.expect_op("]");
                self.nest -= 1;
                let idx = idx?;
                close?;
                e = Expr::Index(Box::new(e), Box::new(idx), open.pos);
            } else {
                return Ok(e);
            }
        }
    }
}

/// Describe a token for messages.
pub fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(n) => format!("number {n}"),
        Tok::Str(..) => "a string".into(),
        Tok::Ident(n) => format!("'{n}'"),
        Tok::Op(o) => format!("'{o}'"),
        Tok::Newline => "the end of the line".into(),
        Tok::Eof => "the end of the input".into(),
        Tok::Error(e) => e.clone(),
    }
}

/// Parse a complete expression.
pub fn parse_expression(src: &str, base: Pos) -> Result<Expr, SnippetError> {
    parse_expression_at(src, base, 0)
}

/// Parse a complete expression found `depth` levels deep.
fn parse_expression_at(src: &str, base: Pos, depth: usize) -> Result<Expr, SnippetError> {
    if depth > MAX_NESTING {
        return Err(too_deep(base));
    }
    let mut p = Parser::nested(src, base, depth);
    if matches!(p.peek().tok, Tok::Eof) {
        return Err(SnippetError::syntax(base, "the expression is empty"));
    }
    let e = p.expression()?;
    p.expect_end()?;
    Ok(e)
}

/// Split text with `{expr}` parts. A brace group whose content does not
/// parse as an expression stays literal text (JSON written inside a string,
/// for instance); `strict` makes it an error instead.
pub fn parse_template(src: &str, base: Pos, strict: bool) -> Result<Vec<StrPart>, SnippetError> {
    template::split(src, base, strict, 0, parse_expression_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse_expression(s, Pos::new(1, 1)).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn shape(e: &Expr) -> String {
        match e {
            Expr::Num(n, _) => n.clone(),
            Expr::Var(v, _) => v.name.clone(),
            Expr::Binary(op, a, b, _) => format!("({} {op:?} {})", shape(a), shape(b)),
            Expr::Unary(op, a, _) => format!("({op:?} {})", shape(a)),
            Expr::Call(n, args, _) => format!("{n}({})", args.iter().map(shape).collect::<Vec<_>>().join(", ")),
            Expr::Member(a, n, _) => format!("{}.{n}", shape(a)),
            Expr::Index(a, i, _) => format!("{}[{}]", shape(a), shape(i)),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn precedence_follows_the_spec() {
        assert_eq!(shape(&p("a = 1 | b = 2")), "((a Eq 1) Or (b Eq 2))");
        assert_eq!(shape(&p("1 + 2 * 3 ^ 2")), "(1 Add (2 Mul (3 Pow 2)))");
        assert_eq!(shape(&p("-x ^ 2")), "((Neg x) Pow 2)");
        assert_eq!(shape(&p("a & b | c & d")), "((a And b) Or (c And d))");
        assert_eq!(shape(&p("10 - 2 - 3")), "((10 Sub 2) Sub 3)");
        assert_eq!(shape(&p("x.f(1).g[2].h")), "f(x, 1).g[2].h");
        assert_eq!(shape(&p("x.f(1).g()")), "g(f(x, 1))");
    }

    #[test]
    fn errors_carry_positions() {
        let e = parse_expression("a +\n", Pos::new(4, 10)).unwrap_err();
        assert_eq!(e.pos, Pos::new(4, 13));
        let e = parse_expression("f(1,", Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("expected a value"), "{e}");
        for bad in ["", "(1", "1 2"] {
            assert!(parse_expression(bad, Pos::new(1, 1)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        let e = parse_expression(&deep, Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        assert!(parse_expression(&"-".repeat(5000), Pos::new(1, 1)).is_err());
        let ok = format!("{}1{}", "(".repeat(20), ")".repeat(20));
        assert!(parse_expression(&ok, Pos::new(1, 1)).is_ok());
    }

    /// Inputs nested right up to (and past) [`MAX_NESTING`] in every way
    /// the parser nests, compiled on a thread with a small stack: each is
    /// compiled or refused, never a stack overflow.
    fn nesting_shapes(n: usize) -> Vec<String> {
        vec![
            format!("{}1{}", "(".repeat(n), ")".repeat(n)),
            format!("{}1", "-".repeat(n)),
            format!("{}1", "!".repeat(n)),
            vec!["1"; n].join("+"),
            vec!["2"; n].join("^"),
            format!("x{}", ".a".repeat(n)),
            format!("x{}", "[1]".repeat(n)),
            format!("{}x{}", "\"{".repeat(n), "}\"".repeat(n)),
            format!("{}x{}", "f(".repeat(n), ")".repeat(n)),
            format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        ]
    }

    #[test]
    fn nesting_at_the_limit_never_overflows_the_stack() {
        let worker = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(|| {
            for n in [MAX_NESTING / 2, MAX_NESTING - 2, MAX_NESTING + 1, 20_000] {
                for src in nesting_shapes(n) {
                    let _ = crate::snippet::compile_expression(&src, Pos::new(1, 1));
                    let _ = crate::snippet::Template::compile(&format!("{{{src}}}"), Pos::new(1, 1));
                    let _ = crate::snippet::Template::suspicious_groups(&format!("a {{{src}}}"), Pos::new(1, 1));
                }
            }
        });
        worker.expect("thread").join().expect("no stack overflow");
    }

    #[test]
    fn nested_substitutions_are_refused_with_a_limit_error() {
        let n = 100_000;
        let braces = format!("{}x{}", "{".repeat(n), "}".repeat(n));
        let e = parse_template(&braces, Pos::new(3, 10), false).unwrap_err();
        assert!(e.message.contains("nested too deeply (more than 256 levels)"), "{e}");
        assert_eq!(e.pos, Pos::new(3, 10 + MAX_NESTING as u32), "the first brace past the limit");
        let strings = format!("{}x{}", "{\"".repeat(n), "\"}".repeat(n));
        assert!(parse_template(&strings, Pos::new(1, 1), false).unwrap_err().message.contains("nested too deeply"));
        let e = parse_expression(&vec!["1"; 100_000].join("+"), Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        // Within the limit, templates and deep braces in plain text still work.
        let ok = format!("{}{{x}}{}", "{".repeat(200), "}".repeat(200));
        assert!(parse_template(&ok, Pos::new(1, 1), false).is_ok());
        assert!(parse_template(&"{".repeat(100_000), Pos::new(1, 1), false).is_ok(), "unmatched braces are text");
    }

    #[test]
    fn templates_split_and_stay_lenient() {
        let parts = parse_template("Hi {name}, {\"json\": 1}", Pos::new(1, 1), false).unwrap();
        assert_eq!(parts.len(), 3);
        assert!(matches!(&parts[1], StrPart::Expr(Expr::Var(..))));
        assert!(matches!(&parts[2], StrPart::Lit(s) if s == ", {\"json\": 1}"));
        assert!(parse_template("{1 +}", Pos::new(1, 1), true).is_err());
    }
}
