//! Tokens of the snippet dialect.
//!
//! The lexer never fails on input it does not understand: it produces an
//! [`Tok::Error`] token with the position, and the parser turns that into a
//! positioned error. Positions are 1-based lines and columns (in characters)
//! relative to the start of the snippet text, shifted by a base position when
//! the text sits inside a larger file.

use crate::base::Pos;

/// How a string literal was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrKind {
    /// `"..."` or `'...'`: `{expr}` substituted, no backslash escapes.
    Plain,
    /// `$"..."`: backslash escapes and `{expr}` substitution.
    Escaped,
    /// `#"..."`: a date literal.
    Date,
}

/// A token.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A number as written.
    Num(String),
    /// A string literal's raw content (between the quotes) and its form.
    Str(String, StrKind),
    /// An identifier (letters, digits, `_`, `$`).
    Ident(String),
    /// Punctuation or an operator.
    Op(&'static str),
    /// A line break (statements end at line breaks).
    Newline,
    /// End of input.
    Eof,
    /// Something the lexer could not read.
    Error(String),
}

/// A token with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Where it starts.
    pub pos: Pos,
}

const OPS: [&str; 30] = [
    "==", "!=", "<>", "<=", ">=", "&&", "||", "+=", "-=", "(", ")", "[", "]", "{", "}", ",", ".", ";", ":", "+", "-",
    "*", "/", "\\", "%", "^", "~", "=", "<", ">",
];
const OPS_TAIL: [&str; 3] = ["&", "|", "!"];

/// Split `src` into tokens. `base` is the position of the first character.
pub fn lex(src: &str, base: Pos) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0usize;
    let mut line = base.line.max(1);
    let mut col = base.column.max(1);
    // Advance over `n` characters, keeping line/column current.
    let advance = |i: &mut usize, line: &mut u32, col: &mut u32, n: usize, chars: &[char]| {
        for _ in 0..n {
            if *i < chars.len() {
                if chars[*i] == '\n' {
                    *line += 1;
                    *col = 1;
                } else {
                    *col += 1;
                }
                *i += 1;
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos::new(line, col);
        if c == '\n' {
            out.push(Token { tok: Tok::Newline, pos });
            advance(&mut i, &mut line, &mut col, 1, &chars);
            continue;
        }
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut col, 1, &chars);
            continue;
        }
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                advance(&mut i, &mut line, &mut col, 1, &chars);
            }
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            let mut seen_dot = false;
            while i < chars.len() {
                let d = chars[i];
                if d.is_ascii_digit() {
                    advance(&mut i, &mut line, &mut col, 1, &chars);
                } else if d == '.' && !seen_dot && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()) {
                    seen_dot = true;
                    advance(&mut i, &mut line, &mut col, 1, &chars);
                } else if (d == 'e' || d == 'E')
                    && (chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
                        || (matches!(chars.get(i + 1), Some('+') | Some('-'))
                            && chars.get(i + 2).is_some_and(|n| n.is_ascii_digit())))
                {
                    advance(&mut i, &mut line, &mut col, 2, &chars);
                } else {
                    break;
                }
            }
            out.push(Token { tok: Tok::Num(chars[start..i].iter().collect()), pos });
            continue;
        }
        if c.is_alphabetic() || c == '_' || (c == '$' && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())) {
            let start = i;
            advance(&mut i, &mut line, &mut col, 1, &chars);
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                advance(&mut i, &mut line, &mut col, 1, &chars);
            }
            out.push(Token { tok: Tok::Ident(chars[start..i].iter().collect()), pos });
            continue;
        }
        let prefixed = matches!(c, '$' | '#') && matches!(chars.get(i + 1), Some('"') | Some('\''));
        if c == '"' || c == '\'' || prefixed {
            let kind = match c {
                '$' => StrKind::Escaped,
                '#' => StrKind::Date,
                _ => StrKind::Plain,
            };
            if prefixed {
                advance(&mut i, &mut line, &mut col, 1, &chars);
            }
            let quote = chars[i];
            advance(&mut i, &mut line, &mut col, 1, &chars);
            match scan_string(&chars, i, quote, kind == StrKind::Escaped) {
                Some(end) => {
                    let content: String = chars[i..end].iter().collect();
                    let n = end + 1 - i;
                    advance(&mut i, &mut line, &mut col, n, &chars);
                    out.push(Token { tok: Tok::Str(content, kind), pos });
                }
                None => {
                    out.push(Token { tok: Tok::Error(format!("unterminated string (missing closing {quote})")), pos });
                    return finish(out, line, col);
                }
            }
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        if let Some(op) = OPS.iter().chain(OPS_TAIL.iter()).find(|op| rest.starts_with(**op)) {
            advance(&mut i, &mut line, &mut col, op.chars().count(), &chars);
            out.push(Token { tok: Tok::Op(op), pos });
            continue;
        }
        out.push(Token { tok: Tok::Error(format!("unexpected character '{}'", c.escape_debug())), pos });
        advance(&mut i, &mut line, &mut col, 1, &chars);
    }
    finish(out, line, col)
}

fn finish(mut out: Vec<Token>, line: u32, col: u32) -> Vec<Token> {
    out.push(Token { tok: Tok::Eof, pos: Pos::new(line, col) });
    out
}

/// Find the closing quote of a string starting at `start` (just after the
/// opening quote). Braces open an interpolated expression, which may itself
/// hold strings with either quote; a closing quote inside braces does not end
/// the string. Returns the index of the closing quote.
fn scan_string(chars: &[char], start: usize, quote: char, escapes: bool) -> Option<usize> {
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if escapes && c == '\\' {
            i += 2;
            continue;
        }
        if c == quote {
            return Some(i);
        }
        if c == '{'
            && let Some(close) = scan_braces(chars, i)
        {
            i = close + 1;
            continue;
        }
        i += 1;
    }
    None
}

/// From an opening brace at `open`, find its matching closing brace,
/// skipping nested strings. `None` when there is none on the same line,
/// in which case the brace is literal text.
pub(crate) fn scan_braces(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        match chars[i] {
            '\n' => return None,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            q @ ('"' | '\'') => {
                // A nested string ends at its own quote.
                let mut j = i + 1;
                while j < chars.len() && chars[j] != q {
                    if chars[j] == '\n' {
                        return None;
                    }
                    j += 1;
                }
                if j >= chars.len() {
                    return None;
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s, Pos::new(1, 1)).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn operators_and_literals() {
        assert_eq!(
            toks("a <> 1.5 & b <= 'x'"),
            vec![
                Tok::Ident("a".into()),
                Tok::Op("<>"),
                Tok::Num("1.5".into()),
                Tok::Op("&"),
                Tok::Ident("b".into()),
                Tok::Op("<="),
                Tok::Str("x".into(), StrKind::Plain),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_with_nested_quotes_in_braces() {
        assert_eq!(
            toks(r#""a{f("}")}b" $"x\"y" #"2023-01-02""#),
            vec![
                Tok::Str(r#"a{f("}")}b"#.into(), StrKind::Plain),
                Tok::Str(r#"x\"y"#.into(), StrKind::Escaped),
                Tok::Str("2023-01-02".into(), StrKind::Date),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn positions_count_lines_and_columns() {
        let t = lex("x = 1\n  y", Pos::new(3, 5));
        assert_eq!(t[0].pos, Pos::new(3, 5));
        assert_eq!(t[4].pos, Pos::new(4, 3));
    }

    #[test]
    fn bad_input_becomes_error_tokens() {
        assert!(matches!(toks("\"open")[0], Tok::Error(_)));
        assert!(matches!(toks("a @ b")[1], Tok::Error(_)));
        assert_eq!(toks("1 // comment\n"), vec![Tok::Num("1".into()), Tok::Newline, Tok::Eof]);
    }
}
