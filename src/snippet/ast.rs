//! The snippet dialect's syntax tree.

use crate::script::Pos;

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
