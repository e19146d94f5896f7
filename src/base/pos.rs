//! Positions in source text, shared by the loaders, the checker and the snippet compiler.

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

impl Pos {
    /// A position.
    pub fn new(line: u32, column: u32) -> Pos {
        Pos { line, column }
    }

    /// The position of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let mut line = 1u32;
        let mut line_start = 0usize;
        for (i, b) in text.as_bytes()[..offset].iter().enumerate() {
            if *b == b'\n' {
                line += 1;
                line_start = i + 1;
            }
        }
        let column = text.get(line_start..offset).map(|s| s.chars().count()).unwrap_or(offset - line_start) as u32 + 1;
        Pos { line, column }
    }
}
