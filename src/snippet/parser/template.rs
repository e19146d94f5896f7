//! Templates and string literals: splitting text into literal pieces and
//! `{expr}` groups, `$"..."` escapes, `#"..."` dates.
//!
//! What sits inside a brace group is an expression, parsed by the
//! expression parser the caller hands in ([`ParseInner`]): strings nest in
//! expressions and expressions in strings, and passing the parser in keeps
//! this file below the expression parser instead of in a circle with it.

use crate::base::Pos;
use crate::snippet::ast::{Expr, StrPart};
use crate::snippet::dates::parse_date_literal;
use crate::snippet::error::{MAX_NESTING, SnippetError, SnippetErrorKind};
use crate::snippet::lexer::{StrKind, scan_braces};

/// Parses the text of one `{}` group (at `base`, `depth` levels deep) as
/// a complete expression.
pub(super) type ParseInner = fn(&str, Pos, usize) -> Result<Expr, SnippetError>;

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

/// Split text with `{expr}` parts, found `depth` levels deep (see
/// `parse_template` in the parent module); `parse` reads each group.
pub(super) fn split(
    src: &str,
    base: Pos,
    strict: bool,
    depth: usize,
    parse: ParseInner,
) -> Result<Vec<StrPart>, SnippetError> {
    let chars: Vec<char> = src.chars().collect();
    // Refuse too deep groups up front: each group is re-read once per level
    // it is nested in, so this also keeps the work linear.
    if let Some(at) = brace_depth(&chars, MAX_NESTING.saturating_sub(depth)) {
        return Err(SnippetError {
            kind: SnippetErrorKind::TooDeep,
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
            match parse(&inner, inner_pos, depth + 1) {
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
                Err(e) if strict || e.kind == SnippetErrorKind::TooDeep => return Err(e),
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

/// The string literal `raw` (its content between the quotes, written as
/// `kind`) at `pos`, `depth` levels deep; `parse` reads its `{}` groups.
pub(super) fn string_literal(
    raw: &str,
    kind: StrKind,
    pos: Pos,
    depth: usize,
    parse: ParseInner,
) -> Result<Expr, SnippetError> {
    // Content starts one column after the quote (two for `$"` and `#"`).
    let offset = if kind == StrKind::Plain { 1 } else { 2 };
    let base = Pos::new(pos.line, pos.column + offset);
    match kind {
        StrKind::Date => {
            let canon = parse_date_literal(raw)
                .ok_or_else(|| SnippetError::syntax(pos, format!("#\"{raw}\" is not a date this runtime can read")))?;
            Ok(Expr::Date(canon, pos))
        }
        StrKind::Plain => Ok(Expr::Str(split(raw, base, false, depth + 1, parse)?, pos)),
        StrKind::Escaped => {
            // Escapes first, protecting escaped braces from substitution.
            let text = unescape(raw).map_err(|m| SnippetError::syntax(pos, m))?;
            let parts = split(&text, base, false, depth + 1, parse)?;
            let restore = |s: String| s.replace(LBRACE, "{").replace(RBRACE, "}");
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

/// The text of a `$"..."` literal with its backslash escapes read.
fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
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
            Some('{') => out.push(LBRACE),
            Some('}') => out.push(RBRACE),
            Some(other) => return Err(format!("unknown escape '\\{other}' in $\"...\" string")),
            None => return Err("a $\"...\" string ends with a lone backslash".into()),
        }
    }
    Ok(out)
}
