//! The one script model every format loads into.
//!
//! Nothing after the loaders knows which file format a script came from: the
//! checker, the engine and the exporters see only [`Script`]. Properties keep
//! the raw text the author wrote (substitution and typing happen later, with
//! the catalog at hand), in file order, so that exporting is lossless.

use indexmap::IndexMap;
use serde_json::Map;
use std::fmt;
use std::path::PathBuf;

pub use crate::base::{MediaType, Pos};

/// Byte offsets of one text turned into [`Pos`]itions in logarithmic time
/// each, so that a loader can position every action and property of a large
/// file without rescanning the text from the start for each one (which made
/// loading quadratic). Agrees with [`Pos::of_offset`].
#[derive(Debug)]
pub struct LineIndex<'a> {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    /// Characters before byte `k * MARK_STEP`, for column counts on long
    /// lines (minified JSON keeps everything on one line).
    marks: Vec<usize>,
    /// Whether each byte starts a character (not a UTF-8 continuation byte):
    /// the text itself, borrowed.
    bytes: &'a [u8],
}

const MARK_STEP: usize = 256;

impl<'a> LineIndex<'a> {
    /// Index `text` (one pass).
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut marks = Vec::with_capacity(bytes.len() / MARK_STEP + 1);
        let mut chars = 0usize;
        for (i, b) in bytes.iter().enumerate() {
            if i % MARK_STEP == 0 {
                marks.push(chars);
            }
            if *b == b'\n' {
                starts.push(i + 1);
            }
            if *b & 0xC0 != 0x80 {
                chars += 1;
            }
        }
        LineIndex { starts, marks, bytes }
    }

    /// Characters before byte `offset`.
    fn chars_before(&self, offset: usize) -> usize {
        let k = offset / MARK_STEP;
        let base = self.marks.get(k).copied().unwrap_or(0);
        let from = k * MARK_STEP;
        base + self.bytes[from.min(offset)..offset].iter().filter(|b| **b & 0xC0 != 0x80).count()
    }

    /// The position of byte `offset` (clamped to the text).
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = offset.min(self.bytes.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self.chars_before(offset) - self.chars_before(start) + 1;
        Pos { line: line as u32, column: column as u32 }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The file formats Prospero reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The hand-writable JSON format of `scripts/`.
    Native,
    /// Web Studio's `{header, actions, properties, branches}` JSON.
    StudioJson,
    /// Desktop Studio's `ActionStruct` XML.
    StudioXml,
}

impl Format {
    /// Short name used in traces and messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::StudioJson => "studio-json",
            Format::StudioXml => "studio-xml",
        }
    }
}

/// A property value as written: one text, or a list of texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropValue {
    /// A single text.
    Text(String),
    /// A list (RUNSUB parameters, BEGIN parameter names, ...).
    List(Vec<String>),
}

impl PropValue {
    /// The value as one text: a list is joined with newlines (used for code
    /// written as a list of lines).
    pub fn joined(&self) -> String {
        match self {
            PropValue::Text(s) => s.clone(),
            PropValue::List(items) => items.join("\n"),
        }
    }

    /// The value as a list: a text becomes a one-element list, or an empty
    /// list when blank.
    pub fn items(&self) -> Vec<String> {
        match self {
            PropValue::Text(s) if s.trim().is_empty() => Vec::new(),
            PropValue::Text(s) => vec![s.clone()],
            PropValue::List(items) => items.clone(),
        }
    }
}

/// One input or output property of an action.
#[derive(Clone, Debug)]
pub struct Property {
    /// Property name as written (matched to the catalog case-insensitively).
    pub name: String,
    /// The raw value.
    pub value: PropValue,
    /// Where it was written, when known (diagnostics fall back to the
    /// action's position). Kept with the property rather than in a map by
    /// action id and name: the checker asks for every property of every
    /// action, and a script of 200,000 actions spent a third of its
    /// loading time on that map.
    pub pos: Option<Pos>,
}

impl Property {
    /// A property without a known position.
    pub fn new(name: impl Into<String>, value: PropValue) -> Property {
        Property { name: name.into(), value, pos: None }
    }
}

/// Equal name and value; where each was written does not matter.
impl PartialEq for Property {
    fn eq(&self, other: &Property) -> bool {
        self.name == other.name && self.value == other.value
    }
}

impl Eq for Property {}

/// One wired result branch.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// Result name as written (`Default`, `OnError`, `Error`, `True`, a CASE
    /// value, ...).
    pub name: String,
    /// Id of the next action.
    pub target: String,
    /// Fields a Studio file carried that Prospero does not interpret
    /// (canvas ports, elbows, ...), kept for lossless export.
    pub extra: Map<String, serde_json::Value>,
}

impl Branch {
    /// A branch with no extra fields.
    pub fn new(name: impl Into<String>, target: impl Into<String>) -> Branch {
        Branch { name: name.into(), target: target.into(), extra: Map::new() }
    }
}

/// One action of a script.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// Id, unique in the script.
    pub id: String,
    /// Action type name, upper case (`ASSIGN`, `CREATEPROSPECTS`, ...).
    pub kind: String,
    /// Action version (CREATEPROSPECTS v2 is version 2); 1 when not given.
    pub version: u32,
    /// Free text shown on the canvas.
    pub caption: String,
    /// Properties in file order.
    pub properties: Vec<Property>,
    /// Wired branches in file order.
    pub branches: Vec<Branch>,
    /// Canvas position, when the file had one.
    pub layout: Option<(i64, i64)>,
    /// Fields a Studio file carried that Prospero does not interpret.
    pub extra: Map<String, serde_json::Value>,
}

impl Action {
    /// Give back the room its lists grew into while loading: a script of
    /// 200,000 actions holds a million of these lists.
    pub fn shrink(&mut self) {
        self.properties.shrink_to_fit();
        self.branches.shrink_to_fit();
    }

    /// A bare action.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> Action {
        Action {
            id: id.into(),
            kind: kind.into().to_ascii_uppercase(),
            version: 1,
            caption: String::new(),
            properties: Vec::new(),
            branches: Vec::new(),
            layout: None,
            extra: Map::new(),
        }
    }

    /// The property named `name` (case-insensitive).
    pub fn property(&self, name: &str) -> Option<&PropValue> {
        self.properties.iter().find(|p| p.name.eq_ignore_ascii_case(name)).map(|p| &p.value)
    }

    /// The caption, or the action type when the caption is blank.
    pub fn label(&self) -> &str {
        if self.caption.trim().is_empty() { &self.kind } else { &self.caption }
    }
}

/// Where a script came from; not part of the model's identity.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// File path, when loaded from a file.
    pub path: Option<PathBuf>,
    /// The format it was read from.
    pub format: Option<Format>,
    /// Position of each action (by id) in the file, for diagnostics.
    pub positions: IndexMap<String, Pos, foldhash::fast::FixedState>,
    /// Files that held snippet code, by (action id, property name): the
    /// sibling file path and the first line of the code within it.
    pub code_files: IndexMap<(String, String), PathBuf>,
}

impl Origin {
    /// Display name of the file (or `<memory>`).
    pub fn file_name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "<memory>".to_string(),
        }
    }

    /// Position of an action, when known.
    pub fn position(&self, id: &str) -> Pos {
        self.positions.get(id).copied().unwrap_or_default()
    }

    /// Position of property `name` of `action` (names match without
    /// regard to case; the first of two such properties counts), falling
    /// back to the action's position.
    pub fn property_position(&self, action: &Action, name: &str) -> Pos {
        action
            .properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .and_then(|p| p.pos)
            .unwrap_or_else(|| self.position(&action.id))
    }
}

/// A script: a named graph of actions.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Script name (its identity in the script library).
    pub name: String,
    /// The script's media type.
    pub media_type: MediaType,
    /// Actions in file order.
    pub actions: Vec<Action>,
    /// Web Studio header fields Prospero does not interpret, kept for export.
    pub header: Map<String, serde_json::Value>,
    /// Where it was loaded from.
    pub origin: Origin,
}

impl PartialEq for Script {
    /// Model equality: name, media type, actions and header; the origin
    /// (file, format, positions) is not part of the model.
    fn eq(&self, other: &Script) -> bool {
        self.name == other.name
            && self.media_type == other.media_type
            && self.actions == other.actions
            && self.header == other.header
    }
}

impl Script {
    /// The action with id `id`.
    pub fn action(&self, id: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.id == id)
    }

    /// Index of the action with id `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.actions.iter().position(|a| a.id == id)
    }

    /// Parameter names declared on the BEGIN action (its `Parameters`
    /// property), in order.
    pub fn parameter_names(&self) -> Vec<String> {
        self.actions
            .iter()
            .find(|a| a.kind == "BEGIN")
            .and_then(|a| a.property("Parameters"))
            .map(|p| match p {
                PropValue::List(items) => items.clone(),
                // A single text may list names separated by `|` or commas.
                PropValue::Text(s) => {
                    s.split(['|', ',']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
                }
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_agrees_with_of_offset() {
        let mut text = String::from("ab\ncdé\n\nxyz ");
        text.push_str(&"é".repeat(300));
        text.push_str("\nq");
        let idx = LineIndex::new(&text);
        for (i, _) in text.char_indices().chain([(text.len(), ' '), (text.len() + 5, ' ')]) {
            assert_eq!(idx.pos(i), Pos::of_offset(&text, i), "offset {i}");
        }
        assert_eq!(LineIndex::new("").pos(0), Pos::new(1, 1));
    }

    #[test]
    fn offsets_become_line_and_column() {
        let text = "ab\ncdé\nf";
        assert_eq!(Pos::of_offset(text, 0), Pos::new(1, 1));
        assert_eq!(Pos::of_offset(text, 3), Pos::new(2, 1));
        assert_eq!(Pos::of_offset(text, 7), Pos::new(2, 4));
        assert_eq!(Pos::of_offset(text, 999), Pos::new(3, 2));
    }

    #[test]
    fn media_types_parse_studio_spellings() {
        assert_eq!(MediaType::parse("call"), Some(MediaType::Phone));
        assert_eq!(MediaType::parse("Work Item"), Some(MediaType::WorkItem));
        assert_eq!(MediaType::from_studio_id(4), Some(MediaType::Phone));
        assert_eq!(MediaType::parse("fax"), None);
    }
}
