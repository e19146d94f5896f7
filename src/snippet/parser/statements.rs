//! Parsing whole snippets: statements, blocks, CASE arms and FUNCTION
//! definitions, extending the expression [`Parser`] of the parent module
//! (which knows nothing of statements).

use super::{Parser, describe};
use crate::base::Pos;
use crate::snippet::ast::*;
use crate::snippet::error::{MAX_DEPTH, SnippetError};
use crate::snippet::lexer::Tok;
use crate::snippet::signatures::builtin;

/// Parse a whole snippet.
pub fn parse_program(src: &str, base: Pos) -> Result<Program, SnippetError> {
    Parser::new(src, base).program()
}

impl Parser {
    fn at_keyword(&mut self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    /// Consume keyword `kw` or fail.
    fn expect_keyword(&mut self, kw: &str) -> Result<(), SnippetError> {
        if !self.at_keyword(kw) {
            let t = self.peek().clone();
            return Err(SnippetError::syntax(t.pos, format!("expected {kw} but found {}", describe(&t.tok))));
        }
        self.bump();
        Ok(())
    }

    /// At the `}` closing the block opened at `open`: consume it (true).
    /// At the end of the input: the error naming where the block opened.
    fn closing_brace(&mut self, open: Pos) -> Result<bool, SnippetError> {
        let t = self.peek();
        match t.tok {
            Tok::Op("}") => {
                self.bump();
                Ok(true)
            }
            Tok::Eof => Err(SnippetError::syntax(
                t.pos,
                format!("missing '}}' for the block opened at line {}, column {}", open.line, open.column),
            )),
            _ => Ok(false),
        }
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
        if builtin(&name).is_some() {
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
            if self.closing_brace(open)? {
                return Ok(body);
            }
            if self.at_keyword("FUNCTION") {
                let pos = self.peek().pos;
                return Err(SnippetError::syntax(pos, "FUNCTION can only be defined at the top level of a snippet"));
            }
            body.push(self.statement()?);
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
                self.expect_keyword("TO")?;
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
                self.expect_keyword("IN")?;
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
            if self.closing_brace(open)? {
                return Ok((cases, default));
            }
            let t = self.peek().clone();
            match &t.tok {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        for (code, says) in [
            ("x = 1\nIF x {\n y = 2\n", "missing '}'"),
            ("f(1) = 2", "cannot be assigned"),
            ("IF x { FUNCTION f() { } }", "top level"),
        ] {
            let e = parse_program(code, Pos::new(1, 1)).unwrap_err();
            assert!(e.message.contains(says), "{code:?}: {e}");
        }
        let e = parse_program("x = 1\n  y + 2", Pos::new(1, 1)).unwrap_err();
        assert_eq!(e.pos.line, 2, "{e}");
        for bad in ["FOR i = 1 { }", "x = 1 y = 2", "FUNCTION len(x) { }"] {
            assert!(parse_program(bad, Pos::new(1, 1)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn deep_blocks_are_an_error_not_a_crash() {
        let blocks = format!("{}x = 1{}", "IF 1 { ".repeat(500), " }".repeat(500));
        let chain = format!("IF 1 {{ }}{}", " ELSE IF 1 { }".repeat(5000));
        assert!(parse_program(&chain, Pos::new(1, 1)).unwrap_err().message.contains("nested too deeply"));
        assert!(parse_program(&blocks, Pos::new(1, 1)).unwrap_err().message.contains("nested too deeply"));
    }
}
