//! Parser for the snippet dialect's expressions and `{}` templates.
//!
//! Precedence, tightest first: parentheses and postfix forms (member, index,
//! call); unary `-` and `!`; `^`; `*` `/` `\` `%`; `+` `-` `~`;
//! comparisons; `&`; `|`. Binary operators associate to the left.
//! The [`Parser`] works over a token list so that the statement parser can
//! share it.

use super::SnippetError;
use super::ast::*;
use super::lexer::{StrKind, Tok, Token, lex, scan_braces};
use crate::base::Pos;

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

/// Deepest nesting of snippet blocks (`IF`, loops) the parser accepts.
pub const MAX_DEPTH: usize = 48;

/// Deepest nesting the parser accepts in one expression or template:
/// parentheses, brackets, unary operators, operator chains (`1+1+1` nests
/// to the left), member and index chains, and `{}` substitutions with the
/// strings inside them, counted together across nested templates. Every
/// later recursion over the syntax tree (typing, compiling, evaluating,
/// dropping) is bounded by it, so no input can overflow the native stack,
/// and loading stays linear (a template re-reads each nested group once per
/// level). The compiled rhai form accepts less (64 levels), so real scripts
/// are far below this.
pub const MAX_NESTING: usize = 256;

fn too_deep(pos: Pos) -> SnippetError {
    SnippetError {
        kind: super::SnippetErrorKind::TooDeep,
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

    /// The token after the current one (line breaks count).
    pub fn peek2(&self) -> &Token {
        let last = self.toks.len() - 1;
        &self.toks[(self.i + 1).min(last)]
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
            Tok::Str(s, kind) => string_literal(&s, kind, t.pos, self.depth),
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

impl Parser {
    fn at_keyword(&mut self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    /// Skip line breaks and `;` between statements.
    fn skip_separators(&mut self) {
        while matches!(self.toks.get(self.i).map(|t| &t.tok), Some(Tok::Newline) | Some(Tok::Op(";"))) {
            self.i += 1;
        }
    }

    /// Skip line breaks only (a `{` may sit on the next line).
    fn skip_newlines(&mut self) {
        while matches!(self.toks.get(self.i).map(|t| &t.tok), Some(Tok::Newline)) {
            self.i += 1;
        }
    }

    /// Whether the next non-blank line starts with keyword `kw`; consumes
    /// the line breaks only when it does.
    fn next_line_keyword(&mut self, kw: &str) -> bool {
        let save = self.i;
        self.skip_newlines();
        if self.at_keyword(kw) {
            true
        } else {
            self.i = save;
            false
        }
    }

    fn end_of_statement(&mut self) -> Result<(), SnippetError> {
        let t = self.toks[self.i.min(self.toks.len() - 1)].clone();
        match &t.tok {
            Tok::Newline | Tok::Eof | Tok::Op(";") | Tok::Op("}") => Ok(()),
            other => Err(SnippetError::syntax(
                t.pos,
                format!("expected the end of the statement but found {}", describe(other)),
            )),
        }
    }

    /// A whole snippet: statements and FUNCTION definitions.
    pub fn program(&mut self) -> Result<Program, SnippetError> {
        let mut program = Program::default();
        loop {
            self.skip_separators();
            if matches!(self.peek().tok, Tok::Eof) {
                return Ok(program);
            }
            if self.at_keyword("FUNCTION") {
                let f = self.function()?;
                if program.functions.iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)) {
                    return Err(SnippetError::syntax(f.pos, format!("function '{}' is defined twice", f.name)));
                }
                program.functions.push(f);
                continue;
            }
            let s = self.statement()?;
            program.body.push(s);
        }
    }

    fn function(&mut self) -> Result<Function, SnippetError> {
        let start = self.bump().pos;
        let name_tok = self.bump();
        let name = match name_tok.tok {
            Tok::Ident(n) if !is_keyword(&n) => n,
            other => {
                return Err(SnippetError::syntax(
                    name_tok.pos,
                    format!("expected a function name but found {}", describe(&other)),
                ));
            }
        };
        if super::rt::builtin(&name).is_some() {
            return Err(SnippetError::syntax(
                name_tok.pos,
                format!("'{name}' is a built-in function; choose another name"),
            ));
        }
        self.expect_op("(")?;
        let mut params = Vec::new();
        if !self.at_op(")") {
            loop {
                let t = self.bump();
                match t.tok {
                    Tok::Ident(p) if !is_keyword(&p) => params.push(p),
                    other => {
                        return Err(SnippetError::syntax(
                            t.pos,
                            format!("expected a parameter name but found {}", describe(&other)),
                        ));
                    }
                }
                if self.at_op(",") {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        self.expect_op(")")?;
        let body = self.block()?;
        Ok(Function { name, params, body, pos: start })
    }

    /// `{ statements }`, the brace on this line or the next.
    fn block(&mut self) -> Result<Vec<Stmt>, SnippetError> {
        self.skip_newlines();
        let open = self.expect_op("{")?;
        self.depth += 1;
        let r = self.block_body(open);
        self.depth -= 1;
        r
    }

    fn block_body(&mut self, open: Pos) -> Result<Vec<Stmt>, SnippetError> {
        if self.depth > MAX_DEPTH {
            return Err(SnippetError::syntax(
                open,
                format!("blocks are nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        let mut body = Vec::new();
        loop {
            self.skip_separators();
            let t = self.peek().clone();
            match &t.tok {
                Tok::Op("}") => {
                    self.bump();
                    return Ok(body);
                }
                Tok::Eof => {
                    return Err(SnippetError::syntax(
                        t.pos,
                        format!("missing '}}' for the block opened at line {}, column {}", open.line, open.column),
                    ));
                }
                Tok::Ident(w) if w.eq_ignore_ascii_case("FUNCTION") => {
                    return Err(SnippetError::syntax(
                        t.pos,
                        "FUNCTION can only be defined at the top level of a snippet",
                    ));
                }
                _ => body.push(self.statement()?),
            }
        }
    }

    fn var_name(&mut self) -> Result<(VarName, Pos), SnippetError> {
        let t = self.bump();
        match t.tok {
            Tok::Ident(n) if n.eq_ignore_ascii_case("global") && self.at_op(":") => {
                self.bump();
                let v = self.bump();
                match v.tok {
                    Tok::Ident(n) if !is_keyword(&n) => Ok((VarName { name: n, global: true }, t.pos)),
                    other => Err(SnippetError::syntax(
                        v.pos,
                        format!("expected a variable name but found {}", describe(&other)),
                    )),
                }
            }
            Tok::Ident(n) if !is_keyword(&n) => Ok((VarName { name: n, global: false }, t.pos)),
            other => {
                Err(SnippetError::syntax(t.pos, format!("expected a variable name but found {}", describe(&other))))
            }
        }
    }

    /// One statement.
    pub fn statement(&mut self) -> Result<Stmt, SnippetError> {
        self.depth += 1;
        let r = if self.depth > MAX_DEPTH * 2 {
            let pos = self.peek().pos;
            Err(SnippetError::syntax(pos, "statements are nested too deeply"))
        } else {
            self.statement_inner()
        };
        self.depth -= 1;
        r
    }

    fn statement_inner(&mut self) -> Result<Stmt, SnippetError> {
        let t = self.peek().clone();
        let pos = t.pos;
        let kw = match &t.tok {
            Tok::Ident(w) if is_keyword(w) => w.to_ascii_uppercase(),
            _ => String::new(),
        };
        let stmt = match kw.as_str() {
            "ASSIGN" => {
                self.bump();
                self.assignment(pos)?
            }
            "DYNAMIC" => {
                self.bump();
                let (var, _) = self.var_name()?;
                Stmt::Dynamic { var, pos }
            }
            "IF" => {
                self.bump();
                let cond = self.expression()?;
                let then = self.block()?;
                let otherwise = if self.next_line_keyword("ELSE") {
                    self.bump();
                    if self.at_keyword("IF") { vec![self.statement()?] } else { self.block()? }
                } else {
                    Vec::new()
                };
                return Ok(Stmt::If { cond, then, otherwise, pos });
            }
            "SWITCH" => {
                self.bump();
                let value = self.expression()?;
                let (cases, default) = self.cases(true)?;
                let cases = cases.into_iter().collect();
                return Ok(Stmt::Switch { value, cases, default, pos });
            }
            "SELECT" => {
                self.bump();
                let (cases, default) = self.cases(false)?;
                let mut conds = Vec::new();
                for (mut vals, body) in cases {
                    let cond =
                        vals.pop().ok_or_else(|| SnippetError::syntax(pos, "a SELECT CASE needs a condition"))?;
                    conds.push((cond, body));
                }
                return Ok(Stmt::Select { cases: conds, default, pos });
            }
            "FOR" => {
                self.bump();
                let (var, _) = self.var_name()?;
                self.expect_op("=")?;
                let from = self.expression()?;
                if !self.at_keyword("TO") {
                    let t = self.peek().clone();
                    return Err(SnippetError::syntax(t.pos, format!("expected TO but found {}", describe(&t.tok))));
                }
                self.bump();
                let to = self.expression()?;
                let step = if self.at_keyword("STEP") {
                    self.bump();
                    Some(self.expression()?)
                } else {
                    None
                };
                let body = self.block()?;
                return Ok(Stmt::For { var, from, to, step, body, pos });
            }
            "FOREACH" => {
                self.bump();
                let (var, _) = self.var_name()?;
                if !self.at_keyword("IN") {
                    let t = self.peek().clone();
                    return Err(SnippetError::syntax(t.pos, format!("expected IN but found {}", describe(&t.tok))));
                }
                self.bump();
                let source = self.expression()?;
                let body = self.block()?;
                return Ok(Stmt::Foreach { var, source, body, pos });
            }
            "WHILE" => {
                self.bump();
                let cond = self.expression()?;
                let body = self.block()?;
                return Ok(Stmt::While { cond, body, pos });
            }
            "BREAK" => {
                self.bump();
                Stmt::Break(pos)
            }
            "RETURN" => {
                self.bump();
                let value = match &self.toks[self.i.min(self.toks.len() - 1)].tok {
                    Tok::Newline | Tok::Eof | Tok::Op(";") | Tok::Op("}") => None,
                    _ => Some(self.expression()?),
                };
                Stmt::Return(value, pos)
            }
            "TRACE" => {
                self.bump();
                Stmt::Trace(self.expression()?, pos)
            }
            "USES" => {
                return Err(SnippetError::syntax(
                    pos,
                    "USES (web-service proxies) is not supported; use the REST API action",
                ));
            }
            "" => self.assignment_or_call(pos)?,
            other => return Err(SnippetError::syntax(pos, format!("{other} cannot start a statement here"))),
        };
        self.end_of_statement()?;
        Ok(stmt)
    }

    /// CASE arms of SWITCH (values) or SELECT (one condition each), and DEFAULT.
    #[allow(clippy::type_complexity)]
    fn cases(&mut self, values: bool) -> Result<(Vec<(Vec<Expr>, Vec<Stmt>)>, Vec<Stmt>), SnippetError> {
        self.skip_newlines();
        let open = self.expect_op("{")?;
        let mut cases = Vec::new();
        let mut default = Vec::new();
        loop {
            self.skip_separators();
            let t = self.peek().clone();
            match &t.tok {
                Tok::Op("}") => {
                    self.bump();
                    return Ok((cases, default));
                }
                Tok::Ident(w) if w.eq_ignore_ascii_case("CASE") => {
                    self.bump();
                    let mut vals = vec![self.expression()?];
                    while values && self.at_op(",") {
                        self.bump();
                        vals.push(self.expression()?);
                    }
                    cases.push((vals, self.arm()?));
                }
                Tok::Ident(w) if w.eq_ignore_ascii_case("DEFAULT") => {
                    self.bump();
                    default = self.arm()?;
                }
                Tok::Eof => {
                    return Err(SnippetError::syntax(
                        t.pos,
                        format!("missing '}}' for the block opened at line {}, column {}", open.line, open.column),
                    ));
                }
                other => {
                    return Err(SnippetError::syntax(
                        t.pos,
                        format!("expected CASE or DEFAULT but found {}", describe(other)),
                    ));
                }
            }
        }
    }

    /// A CASE/DEFAULT body: a block, or (as in some exported samples)
    /// statements up to the next CASE, DEFAULT or closing brace.
    fn arm(&mut self) -> Result<Vec<Stmt>, SnippetError> {
        let save = self.i;
        self.skip_newlines();
        if self.at_op("{") {
            return self.block();
        }
        self.i = save;
        let mut body = Vec::new();
        loop {
            self.skip_separators();
            if self.at_keyword("CASE")
                || self.at_keyword("DEFAULT")
                || self.at_op("}")
                || matches!(self.peek().tok, Tok::Eof)
            {
                return Ok(body);
            }
            body.push(self.statement()?);
        }
    }

    fn assignment(&mut self, pos: Pos) -> Result<Stmt, SnippetError> {
        let lhs = self.postfix_expr()?;
        let target = to_target(lhs, pos)?;
        self.assignment_rest(target, pos)
    }

    fn assignment_rest(&mut self, target: Target, pos: Pos) -> Result<Stmt, SnippetError> {
        let t = self.bump();
        let op = match t.tok {
            Tok::Op(o @ ("=" | "+=" | "-=")) => o,
            other => return Err(SnippetError::syntax(t.pos, format!("expected '=' but found {}", describe(&other)))),
        };
        let rhs = self.expression()?;
        let value = match op {
            "=" => rhs,
            compound => {
                let current = target_expr(&target, pos);
                let bin = if compound == "+=" { BinOp::Add } else { BinOp::Sub };
                Expr::Binary(bin, Box::new(current), Box::new(rhs), t.pos)
            }
        };
        Ok(Stmt::Assign { target, value, pos })
    }

    fn assignment_or_call(&mut self, pos: Pos) -> Result<Stmt, SnippetError> {
        let lhs = self.postfix_expr()?;
        if matches!(self.peek().tok, Tok::Op("=" | "+=" | "-=")) {
            let target = to_target(lhs, pos)?;
            return self.assignment_rest(target, pos);
        }
        match lhs {
            call @ Expr::Call(..) => Ok(Stmt::Expr(call, pos)),
            _ => {
                let t = self.peek().clone();
                Err(SnippetError::syntax(
                    t.pos,
                    format!("expected '=' or a function call but found {}", describe(&t.tok)),
                ))
            }
        }
    }
}

/// The target an assignment's left side names.
fn to_target(e: Expr, pos: Pos) -> Result<Target, SnippetError> {
    match e {
        Expr::Var(v, _) => {
            if is_keyword(&v.name) {
                return Err(SnippetError::syntax(pos, format!("'{}' is a keyword, not a variable", v.name)));
            }
            Ok(Target { var: v, path: Vec::new() })
        }
        Expr::Member(inner, name, _) => {
            let mut t = to_target(*inner, pos)?;
            t.path.push(TargetSeg::Member(name));
            Ok(t)
        }
        Expr::Index(inner, idx, _) => {
            let mut t = to_target(*inner, pos)?;
            t.path.push(TargetSeg::Index(*idx));
            Ok(t)
        }
        other => {
            Err(SnippetError::syntax(other.pos(), "this cannot be assigned to (expected a variable, member or index)"))
        }
    }
}

/// The expression reading a target's current value (for `+=`).
fn target_expr(t: &Target, pos: Pos) -> Expr {
    let mut e = Expr::Var(t.var.clone(), pos);
    for seg in &t.path {
        e = match seg {
            TargetSeg::Member(m) => Expr::Member(Box::new(e), m.clone(), pos),
            TargetSeg::Index(i) => Expr::Index(Box::new(e), Box::new(i.clone()), pos),
        };
    }
    e
}

/// Parse a whole snippet.
pub fn parse_program(src: &str, base: Pos) -> Result<Program, SnippetError> {
    Parser::new(src, base).program()
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
    parse_template_at(src, base, strict, 0)
}

/// The deepest nesting of matched `{}` groups on one line (a group never
/// spans lines), and the index of the first `{` that goes deeper than
/// `limit`, in one pass.
fn brace_depth(chars: &[char], limit: usize) -> Option<usize> {
    let mut open: Vec<usize> = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        match c {
            '{' => open.push(i),
            '}' => {
                if open.len() > limit {
                    return Some(open[limit]);
                }
                open.pop();
            }
            '\n' => open.clear(),
            _ => {}
        }
    }
    None
}

/// Line and column of char `index` of a text starting at `base`.
fn pos_of(chars: &[char], index: usize, base: Pos) -> Pos {
    let mut pos = base;
    for c in &chars[..index.min(chars.len())] {
        if *c == '\n' {
            pos = Pos::new(pos.line + 1, 1);
        } else {
            pos.column += 1;
        }
    }
    pos
}

/// [`parse_template`] for a template found `depth` levels deep.
fn parse_template_at(src: &str, base: Pos, strict: bool, depth: usize) -> Result<Vec<StrPart>, SnippetError> {
    let chars: Vec<char> = src.chars().collect();
    // Refuse too deep groups up front: each group is re-read once per level
    // it is nested in, so this also keeps the work linear.
    if let Some(at) = brace_depth(&chars, MAX_NESTING.saturating_sub(depth)) {
        return Err(SnippetError {
            kind: super::SnippetErrorKind::TooDeep,
            pos: pos_of(&chars, at, base),
            message: format!("{{}} substitutions are nested too deeply (more than {MAX_NESTING} levels)"),
        });
    }
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    let mut line = base.line;
    let mut col = base.column;
    while i < chars.len() {
        let c = chars[i];
        if c == '{'
            && let Some(close) = scan_braces(&chars, i)
        {
            let inner: String = chars[i + 1..close].iter().collect();
            let inner_pos = Pos::new(line, col + 1);
            match parse_expression_at(&inner, inner_pos, depth + 1) {
                Ok(e) => {
                    if !lit.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(StrPart::Expr(e));
                    col += (close + 1 - i) as u32;
                    i = close + 1;
                    continue;
                }
                // Too deep is never "not an expression": staying literal
                // would hide a limit behind a silently different value.
                Err(e) if strict || e.kind == super::SnippetErrorKind::TooDeep => return Err(e),
                Err(_) => {}
            }
        }
        lit.push(c);
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
        i += 1;
    }
    if !lit.is_empty() || parts.is_empty() {
        parts.push(StrPart::Lit(lit));
    }
    Ok(parts)
}

fn string_literal(raw: &str, kind: StrKind, pos: Pos, depth: usize) -> Result<Expr, SnippetError> {
    // Content starts one column after the quote (two for `$"` and `#"`).
    let offset = if kind == StrKind::Plain { 1 } else { 2 };
    let base = Pos::new(pos.line, pos.column + offset);
    match kind {
        StrKind::Date => {
            let canon = super::dates::parse_date_literal(raw)
                .ok_or_else(|| SnippetError::syntax(pos, format!("#\"{raw}\" is not a date this runtime can read")))?;
            Ok(Expr::Date(canon, pos))
        }
        StrKind::Plain => Ok(Expr::Str(parse_template_at(raw, base, false, depth + 1)?, pos)),
        StrKind::Escaped => {
            // Escapes first, protecting escaped braces from substitution.
            let (text, protected) = unescape(raw).map_err(|m| SnippetError::syntax(pos, m))?;
            let parts = parse_template_at(&text, base, false, depth + 1)?;
            let restore = |s: String| s.replace(LBRACE, "{").replace(RBRACE, "}");
            let _ = protected;
            Ok(Expr::Str(
                parts
                    .into_iter()
                    .map(|p| match p {
                        StrPart::Lit(s) => StrPart::Lit(restore(s)),
                        e => e,
                    })
                    .collect(),
                pos,
            ))
        }
    }
}

// Private-use characters stand in for escaped braces while the template is
// split, so `\{` stays a literal brace.
const LBRACE: char = '\u{E000}';
const RBRACE: char = '\u{E001}';

fn unescape(raw: &str) -> Result<(String, bool), String> {
    let mut out = String::with_capacity(raw.len());
    let mut protected = false;
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('\'') => out.push('\''),
            Some('{') => {
                out.push(LBRACE);
                protected = true;
            }
            Some('}') => {
                out.push(RBRACE);
                protected = true;
            }
            Some(other) => return Err(format!("unknown escape '\\{other}' in $\"...\" string")),
            None => return Err("a $\"...\" string ends with a lone backslash".into()),
        }
    }
    Ok((out, protected))
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
        assert!(parse_expression("", Pos::new(1, 1)).is_err());
        assert!(parse_expression("(1", Pos::new(1, 1)).is_err());
        assert!(parse_expression("1 2", Pos::new(1, 1)).is_err());
    }

    fn prog(src: &str) -> Program {
        parse_program(src, Pos::new(1, 1)).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn statements_in_both_brace_styles() {
        let p = prog("assign x = 1\nIF x = 1 {\n y = 2\n}\nelse\n{\n y = 3 }\nfor i = 1 to 3 step 1 { t = t + i }");
        assert_eq!(p.body.len(), 3);
        assert!(matches!(&p.body[1], Stmt::If { then, otherwise, .. } if then.len() == 1 && otherwise.len() == 1));
        assert!(matches!(&p.body[2], Stmt::For { step: Some(_), .. }));
        let p = prog("SWITCH c\n{\n CASE 1, 2 { a = 1 }\n CASE \"x\"\n  a = 2\n  b = 3\n DEFAULT { a = 0 }\n}");
        assert!(
            matches!(&p.body[0], Stmt::Switch { cases, default, .. } if cases.len() == 2 && cases[0].0.len() == 2 && cases[1].1.len() == 2 && default.len() == 1)
        );
        let p = prog("FUNCTION add(a, b) // adds\n{\n RETURN a + b\n}\nx = add(1, 2); y = x.add(3)");
        assert_eq!(p.functions.len(), 1);
        assert_eq!(p.body.len(), 2);
        let p = prog(
            "o.list[2].name = \"x\"\nglobal:total += 5\nDYNAMIC obj\nTRACE \"hi\"\nWHILE i < 3 { i = i + 1\n IF i = 2 { BREAK } }",
        );
        assert!(matches!(&p.body[0], Stmt::Assign { target, .. } if target.path.len() == 3));
        assert!(
            matches!(&p.body[1], Stmt::Assign { target, value: Expr::Binary(BinOp::Add, ..), .. } if target.var.global)
        );
    }

    #[test]
    fn statement_errors_point_at_the_problem() {
        let e = parse_program("x = 1\nIF x {\n y = 2\n", Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("missing '}'"), "{e}");
        let e = parse_program("x = 1\n  y + 2", Pos::new(1, 1)).unwrap_err();
        assert_eq!(e.pos.line, 2, "{e}");
        let e = parse_program("f(1) = 2", Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("cannot be assigned"), "{e}");
        let e = parse_program("IF x { FUNCTION f() { } }", Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("top level"), "{e}");
        assert!(parse_program("FOR i = 1 { }", Pos::new(1, 1)).is_err());
        assert!(parse_program("x = 1 y = 2", Pos::new(1, 1)).is_err());
        assert!(parse_program("FUNCTION len(x) { }", Pos::new(1, 1)).is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        let e = parse_expression(&deep, Pos::new(1, 1)).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        assert!(parse_expression(&"-".repeat(5000), Pos::new(1, 1)).is_err());
        let blocks = format!("{}x = 1{}", "IF 1 { ".repeat(500), " }".repeat(500));
        let chain = format!("IF 1 {{ }}{}", " ELSE IF 1 { }".repeat(5000));
        assert!(parse_program(&chain, Pos::new(1, 1)).unwrap_err().message.contains("nested too deeply"));
        assert!(parse_program(&blocks, Pos::new(1, 1)).unwrap_err().message.contains("nested too deeply"));
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
