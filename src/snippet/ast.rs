//! The snippet dialect's syntax tree, and the walks over it that several
//! stages share (the variables a tree mentions, the blocks a statement
//! nests).

use crate::base::Pos;

/// A variable reference: `name` or `global:name`.
#[derive(Clone, Debug, PartialEq)]
pub struct VarName {
    /// The name as written.
    pub name: String,
    /// Written with the `global:` prefix.
    pub global: bool,
}

impl VarName {
    /// The case-insensitive key of the variable.
    pub fn key(&self) -> String {
        crate::value::var_key(&self.name)
    }
}

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text.
    Lit(String),
    /// An interpolated `{expr}`.
    Expr(Expr),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `!x`
    Not,
}

/// Binary operators, in the dialect's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `^`
    Pow,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `\` (integer division)
    IDiv,
    /// `%`
    Mod,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `~` (xor)
    Xor,
    /// `=` / `==`
    Eq,
    /// `!=` / `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&` / `&&`
    And,
    /// `|` / `||`
    Or,
}

impl BinOp {
    /// Binding power: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub | BinOp::Xor => 4,
            BinOp::Mul | BinOp::Div | BinOp::IDiv | BinOp::Mod => 5,
            BinOp::Pow => 6,
        }
    }
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number literal (kept as written).
    Num(String, Pos),
    /// A string literal, possibly with `{}` parts.
    Str(Vec<StrPart>, Pos),
    /// A `#"date"` literal, already normalized to the canonical text form.
    Date(String, Pos),
    /// `true` / `false`.
    Bool(bool, Pos),
    /// A variable.
    Var(VarName, Pos),
    /// `e.name`
    Member(Box<Expr>, String, Pos),
    /// `e[i]`
    Index(Box<Expr>, Box<Expr>, Pos),
    /// `f(args)` or the method form `x.f(args)` (receiver first).
    Call(String, Vec<Expr>, Pos),
    /// A unary operation.
    Unary(UnOp, Box<Expr>, Pos),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>, Pos),
}

impl Expr {
    /// Where the expression starts.
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Num(_, p)
            | Expr::Str(_, p)
            | Expr::Date(_, p)
            | Expr::Bool(_, p)
            | Expr::Var(_, p)
            | Expr::Member(_, _, p)
            | Expr::Index(_, _, p)
            | Expr::Call(_, _, p)
            | Expr::Unary(_, _, p)
            | Expr::Binary(_, _, _, p) => *p,
        }
    }
}

/// One step of an assignment target's path.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSeg {
    /// `.name`
    Member(String),
    /// `[expr]` (1-based, or a member name for objects)
    Index(Expr),
}

/// Where an assignment writes: a variable and a path inside it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The variable.
    pub var: VarName,
    /// Members and indexes inside it.
    pub path: Vec<TargetSeg>,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// `ASSIGN t = e`, `t = e`, `t += e`, `t -= e`.
    Assign {
        /// Where to write.
        target: Target,
        /// The value.
        value: Expr,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `DYNAMIC name`: an empty dynamic object.
    Dynamic {
        /// The variable.
        var: VarName,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `IF c { } ELSE { }`.
    If {
        /// Condition.
        cond: Expr,
        /// Taken when true.
        then: Vec<Stmt>,
        /// Taken when false.
        otherwise: Vec<Stmt>,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `SWITCH v { CASE a, b { } ... DEFAULT { } }`.
    Switch {
        /// The value compared.
        value: Expr,
        /// Each CASE: its values and body.
        cases: Vec<(Vec<Expr>, Vec<Stmt>)>,
        /// DEFAULT body.
        default: Vec<Stmt>,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `SELECT { CASE cond { } ... DEFAULT { } }`.
    Select {
        /// Each CASE: its condition and body.
        cases: Vec<(Expr, Vec<Stmt>)>,
        /// DEFAULT body.
        default: Vec<Stmt>,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `FOR i = a TO b [STEP s] { }`.
    For {
        /// The counter.
        var: VarName,
        /// First value.
        from: Expr,
        /// Last value (inclusive).
        to: Expr,
        /// Step magnitude.
        step: Option<Expr>,
        /// Body.
        body: Vec<Stmt>,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `FOREACH item IN arr { }`.
    Foreach {
        /// The element variable.
        var: VarName,
        /// What to iterate.
        source: Expr,
        /// Body.
        body: Vec<Stmt>,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `WHILE c { }`.
    While {
        /// Condition.
        cond: Expr,
        /// Body.
        body: Vec<Stmt>,
        /// Where the statement starts.
        pos: Pos,
    },
    /// `BREAK`.
    Break(Pos),
    /// `RETURN [e]`.
    Return(Option<Expr>, Pos),
    /// `TRACE e`.
    Trace(Expr, Pos),
    /// A call used as a statement (`f(x)`, `x.f(y)`).
    Expr(Expr, Pos),
}

impl Stmt {
    /// Where the statement starts.
    pub fn pos(&self) -> Pos {
        match self {
            Stmt::Assign { pos, .. }
            | Stmt::Dynamic { pos, .. }
            | Stmt::If { pos, .. }
            | Stmt::Switch { pos, .. }
            | Stmt::Select { pos, .. }
            | Stmt::For { pos, .. }
            | Stmt::Foreach { pos, .. }
            | Stmt::While { pos, .. }
            | Stmt::Break(pos)
            | Stmt::Return(_, pos)
            | Stmt::Trace(_, pos)
            | Stmt::Expr(_, pos) => *pos,
        }
    }
}

impl Stmt {
    /// Call `f` on each statement list nested directly in this statement
    /// (branches, CASE arms and DEFAULT, loop bodies), in source order.
    pub fn for_each_block<'s>(&'s self, f: &mut dyn FnMut(&'s [Stmt])) {
        match self {
            Stmt::If { then, otherwise, .. } => {
                f(then);
                f(otherwise);
            }
            Stmt::Switch { cases, default, .. } => {
                cases.iter().for_each(|(_, b)| f(b));
                f(default);
            }
            Stmt::Select { cases, default, .. } => {
                cases.iter().for_each(|(_, b)| f(b));
                f(default);
            }
            Stmt::For { body, .. } | Stmt::Foreach { body, .. } | Stmt::While { body, .. } => f(body),
            _ => {}
        }
    }
}

/// `FUNCTION name(a, b) { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    /// Name as written.
    pub name: String,
    /// Parameter names.
    pub params: Vec<String>,
    /// Body.
    pub body: Vec<Stmt>,
    /// Where the definition starts.
    pub pos: Pos,
}

/// A parsed snippet: its statements and the functions it declares.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    /// Top-level statements, in order.
    pub body: Vec<Stmt>,
    /// FUNCTION definitions (hoisted).
    pub functions: Vec<Function>,
}

/// Words that begin statements and cannot name variables.
pub const KEYWORDS: [&str; 19] = [
    "ASSIGN", "DYNAMIC", "IF", "ELSE", "SWITCH", "SELECT", "CASE", "DEFAULT", "FOR", "TO", "STEP", "FOREACH", "IN",
    "WHILE", "BREAK", "FUNCTION", "RETURN", "TRACE", "USES",
];

/// Whether `word` is a keyword (any case).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// Every non-global variable key a statement list mentions (reads and
/// writes), in first-use order.
pub fn collect_names(stmts: &[Stmt], out: &mut Vec<String>) {
    for s in stmts {
        match s {
            Stmt::Assign { target, value, .. } => {
                add_name(&target.var, out);
                for seg in &target.path {
                    if let TargetSeg::Index(e) = seg {
                        expr_names(e, out);
                    }
                }
                expr_names(value, out);
            }
            Stmt::Dynamic { var, .. } => add_name(var, out),
            Stmt::If { cond, then, otherwise, .. } => {
                expr_names(cond, out);
                collect_names(then, out);
                collect_names(otherwise, out);
            }
            Stmt::Switch { value, cases, default, .. } => {
                expr_names(value, out);
                for (vals, body) in cases {
                    vals.iter().for_each(|v| expr_names(v, out));
                    collect_names(body, out);
                }
                collect_names(default, out);
            }
            Stmt::Select { cases, default, .. } => {
                for (c, body) in cases {
                    expr_names(c, out);
                    collect_names(body, out);
                }
                collect_names(default, out);
            }
            Stmt::For { var, from, to, step, body, .. } => {
                add_name(var, out);
                expr_names(from, out);
                expr_names(to, out);
                if let Some(st) = step {
                    expr_names(st, out);
                }
                collect_names(body, out);
            }
            Stmt::Foreach { var, source, body, .. } => {
                add_name(var, out);
                expr_names(source, out);
                collect_names(body, out);
            }
            Stmt::While { cond, body, .. } => {
                expr_names(cond, out);
                collect_names(body, out);
            }
            Stmt::Return(Some(e), _) | Stmt::Trace(e, _) | Stmt::Expr(e, _) => expr_names(e, out),
            Stmt::Return(None, _) | Stmt::Break(_) => {}
        }
    }
}

fn add_name(v: &VarName, out: &mut Vec<String>) {
    if !v.global {
        let k = v.key();
        if !out.contains(&k) {
            out.push(k);
        }
    }
}

/// Every variable an expression reads.
pub fn expr_names(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Var(v, _) => add_name(v, out),
        Expr::Str(parts, _) => {
            for p in parts {
                if let StrPart::Expr(e) = p {
                    expr_names(e, out);
                }
            }
        }
        Expr::Member(o, _, _) => expr_names(o, out),
        Expr::Index(o, i, _) => {
            expr_names(o, out);
            expr_names(i, out);
        }
        Expr::Call(_, args, _) => args.iter().for_each(|a| expr_names(a, out)),
        Expr::Unary(_, a, _) => expr_names(a, out),
        Expr::Binary(_, a, b, _) => {
            expr_names(a, out);
            expr_names(b, out);
        }
        Expr::Num(..) | Expr::Date(..) | Expr::Bool(..) => {}
    }
}
