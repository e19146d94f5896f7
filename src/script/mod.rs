//! Scripts: the model, the three file formats, and the static checker.
//!
//! Data flows one way: a file is read by one of the loaders ([`native`],
//! [`studio_json`], [`studio_xml`]) into the single [`Script`] model, the
//! [`check`] module links it against the action catalog and reports every
//! problem at once, and only then does the engine run it. The format is
//! detected from the content, never from the file name.
//!
//! # Load limits
//!
//! Hostile or broken files must not make loading slow or large: loading and
//! checking take time and memory proportional to the file, and what exceeds
//! a limit is refused early with a [`LoadError`] naming the file (and the
//! action, line and column where there is one). The configurable limits are
//! in [`LoadLimits`] (`RuntimeBuilder::load_limits`, or `--max-script-bytes`
//! and `--max-property-bytes` on the command line):
//!
//! | limit | default | outcome when exceeded |
//! |---|---|---|
//! | [`LoadLimits::max_script_bytes`]: size of a script file | 64 MiB | refused before it is read or parsed: `file:1:1: the file is N bytes, over the limit of M bytes` (kind [`LoadErrorKind::TooLarge`]) |
//! | [`LoadLimits::max_property_bytes`]: text of one property (a list: all its items) | 1 MiB | refused after parsing, at the property: `file:line:col: action ID: property "Value" is N bytes, over the limit of M bytes` |
//! | [`snippet::MAX_NESTING`](crate::snippet::MAX_NESTING): nesting of `{}` substitutions, strings within them, parentheses, brackets and unary operators in one expression or template | 256 levels | a syntax error in the property (`check`: `bad-literal` / `bad-expression`), never a stack overflow |
//! | JSON nesting (serde_json) | 128 levels | a syntax error with its position |
//! | XML element nesting | 64 levels | a syntax error with its position |

pub mod check;
pub(crate) mod jsonpos;
pub mod model;
pub mod native;
pub mod studio_json;
pub mod studio_xml;

pub use model::{Action, Branch, Format, MediaType, Origin, Pos, PropValue, Property, Script};

use std::fmt;
use std::path::{Path, PathBuf};

/// An action named in a diagnostic: its id and caption.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionRef {
    /// Action id.
    pub id: String,
    /// Caption (may be empty).
    pub caption: String,
}

impl ActionRef {
    /// Reference an action of the model.
    pub fn of(action: &Action) -> ActionRef {
        ActionRef { id: action.id.clone(), caption: action.caption.clone() }
    }
}

impl fmt::Display for ActionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.caption.trim().is_empty() {
            write!(f, "action {}", self.id)
        } else {
            write!(f, "action {} ({})", self.id, self.caption)
        }
    }
}

/// What kind of load failure happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read.
    Io,
    /// The file is empty or blank.
    Empty,
    /// The file is not UTF-8 text.
    NotText,
    /// The content is none of the known formats.
    UnknownFormat,
    /// JSON or XML syntax error.
    Syntax,
    /// Valid JSON/XML that does not have a script's shape.
    Shape,
    /// Two actions share an id.
    DuplicateId,
    /// A JSON object repeats a key (other than an action id).
    DuplicateKey,
    /// A referenced sibling file (snippet code) is missing.
    MissingFile,
    /// The file or one of its properties is over a [`LoadLimits`] limit.
    TooLarge,
}

impl LoadErrorKind {
    /// The diagnostic code `prospero check` reports for this failure.
    pub fn code(self) -> &'static str {
        match self {
            LoadErrorKind::Io => "unreadable",
            LoadErrorKind::Empty => "empty-file",
            LoadErrorKind::NotText => "not-text",
            LoadErrorKind::UnknownFormat => "unknown-format",
            LoadErrorKind::Syntax => "syntax",
            LoadErrorKind::Shape => "bad-shape",
            LoadErrorKind::DuplicateId => "duplicate-id",
            LoadErrorKind::DuplicateKey => "duplicate-key",
            LoadErrorKind::MissingFile => "missing-file",
            LoadErrorKind::TooLarge => "too-large",
        }
    }
}

/// Size limits applied while loading a script (see the table in the
/// [module documentation](self#load-limits)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadLimits {
    /// Largest script file accepted, in bytes (checked before reading).
    pub max_script_bytes: u64,
    /// Largest text of one property, in bytes (a list counts all its
    /// items). Sibling snippet files (`{"file": ...}`) count too.
    pub max_property_bytes: usize,
}

impl LoadLimits {
    /// Default largest script file: 64 MiB (a 200,000-action script is
    /// about 16 MB).
    pub const DEFAULT_MAX_SCRIPT_BYTES: u64 = 64 * 1024 * 1024;
    /// Default largest property text: 1 MiB.
    pub const DEFAULT_MAX_PROPERTY_BYTES: usize = 1024 * 1024;

    /// Refuse a file of `len` bytes when it is over the limit.
    pub fn check_file_size(&self, file: &str, len: u64) -> Result<(), LoadError> {
        if len > self.max_script_bytes {
            return Err(LoadError::new(
                file,
                Pos::new(1, 1),
                LoadErrorKind::TooLarge,
                format!(
                    "the file is {len} bytes, over the limit of {} bytes for a script (--max-script-bytes)",
                    self.max_script_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Refuse a script with a property over the limit, naming the first.
    pub fn check_properties(&self, script: &Script, file: &str) -> Result<(), LoadError> {
        for a in &script.actions {
            for p in &a.properties {
                let len = match &p.value {
                    PropValue::Text(t) => t.len(),
                    PropValue::List(items) => items.iter().map(String::len).sum(),
                };
                if len > self.max_property_bytes {
                    return Err(LoadError::new(
                        file,
                        script.origin.property_position(a, &p.name),
                        LoadErrorKind::TooLarge,
                        format!(
                            "property \"{}\" is {len} bytes, over the limit of {} bytes for one property (--max-property-bytes)",
                            p.name, self.max_property_bytes
                        ),
                    )
                    .with_action(ActionRef::of(a)));
                }
            }
        }
        Ok(())
    }
}

impl Default for LoadLimits {
    fn default() -> Self {
        LoadLimits {
            max_script_bytes: Self::DEFAULT_MAX_SCRIPT_BYTES,
            max_property_bytes: Self::DEFAULT_MAX_PROPERTY_BYTES,
        }
    }
}

/// A script file that could not be loaded. Names the file, the position, and
/// the action when one is involved.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct LoadError {
    /// The file.
    pub file: String,
    /// Where in the file.
    pub pos: Pos,
    /// The action involved, if any.
    pub action: Option<ActionRef>,
    /// The kind of failure.
    pub kind: LoadErrorKind,
    /// A short human sentence.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.pos)?;
        if let Some(a) = &self.action {
            write!(f, "{a}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl LoadError {
    pub(crate) fn new(file: &str, pos: Pos, kind: LoadErrorKind, message: impl Into<String>) -> LoadError {
        LoadError { file: file.to_string(), pos, action: None, kind, message: message.into() }
    }

    pub(crate) fn with_action(mut self, action: ActionRef) -> LoadError {
        self.action = Some(action);
        self
    }
}

/// Detect the format of `text` from its content.
pub fn detect(text: &str) -> Option<Format> {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
    if t.starts_with('<') {
        return Some(Format::StudioXml);
    }
    if !t.starts_with('{') {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(t).ok()?;
    Some(json_format(json.as_object()?))
}

/// Which JSON format a script object is in: web Studio files carry
/// `header` and `actions` keyed by id; native files carry an `actions`
/// list.
fn json_format(obj: &serde_json::Map<String, serde_json::Value>) -> Format {
    if obj.contains_key("header") || obj.get("actions").is_some_and(|a| a.is_object()) {
        Format::StudioJson
    } else {
        Format::Native
    }
}

/// Load a script file in any of the three formats, with the default
/// [`LoadLimits`].
pub fn load_file(path: &Path) -> Result<Script, LoadError> {
    load_file_with(path, &LoadLimits::default())
}

/// Load a script file in any of the three formats within `limits`.
pub fn load_file_with(path: &Path, limits: &LoadLimits) -> Result<Script, LoadError> {
    let bytes = read_file(path, limits)?;
    let file = path.display().to_string();
    // Checked first, then taken over without a copy (a large script's text
    // is held once).
    bytes_to_text(&file, &bytes)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| LoadError::new(&file, Pos::new(1, 1), LoadErrorKind::NotText, "the file is not UTF-8 text"))?;
    load_text_with(&text, Some(path), limits)
}

/// Read a script file's bytes, refusing a file over the size limit before
/// reading it.
pub fn read_file(path: &Path, limits: &LoadLimits) -> Result<Vec<u8>, LoadError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => format!("cannot read the file: {e}"),
        };
        LoadError::new(&file, Pos::new(1, 1), LoadErrorKind::Io, why)
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(LoadError::new(&file, Pos::new(1, 1), LoadErrorKind::Io, "a folder, not a script file"));
    }
    if meta.is_file() {
        limits.check_file_size(&file, meta.len())?;
    }
    // Read no more than the limit allows, even if the file grows meanwhile.
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(limits.max_script_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    limits.check_file_size(&file, bytes.len() as u64)?;
    Ok(bytes)
}

/// Turn file bytes into text, refusing binary content with its position.
pub fn bytes_to_text(file: &str, bytes: &[u8]) -> Result<String, LoadError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            if let Some(i) = s.find('\0') {
                return Err(LoadError::new(
                    file,
                    Pos::of_offset(s, i),
                    LoadErrorKind::NotText,
                    "the file is binary, not a script (NUL byte)",
                ));
            }
            Ok(s.to_string())
        }
        Err(e) => {
            let good = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or("");
            Err(LoadError::new(
                file,
                Pos::of_offset(prefix, good),
                LoadErrorKind::NotText,
                format!("the file is not UTF-8 text (invalid byte at offset {good})"),
            ))
        }
    }
}

/// Load a script from text with the default [`LoadLimits`]; `path` names
/// the file for messages, gives the default script name (the file stem) and
/// the folder of sibling files.
pub fn load_text(text: &str, path: Option<&Path>) -> Result<Script, LoadError> {
    load_text_with(text, path, &LoadLimits::default())
}

/// Load a script from text within `limits` (see [`load_text`]).
pub fn load_text_with(text: &str, path: Option<&Path>, limits: &LoadLimits) -> Result<Script, LoadError> {
    let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "<memory>".into());
    limits.check_file_size(&file, text.len() as u64)?;
    let script = load_unchecked(text, path, &file)?;
    limits.check_properties(&script, &file)?;
    Ok(script)
}

/// From this size on, a JSON script's positions are indexed on a second
/// thread while it is parsed.
const PARALLEL_INDEX_BYTES: usize = 256 << 10;

fn load_unchecked(text: &str, path: Option<&Path>, file: &str) -> Result<Script, LoadError> {
    let file = file.to_string();
    // One byte order mark is allowed; a second one is a broken export that
    // would otherwise pass as text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.starts_with('\u{feff}') {
        return Err(LoadError::new(
            &file,
            Pos::new(1, 1),
            LoadErrorKind::NotText,
            "the file starts with two byte order marks (U+FEFF); remove the extra one",
        ));
    }
    if text.trim().is_empty() {
        return Err(LoadError::new(&file, Pos::new(1, 1), LoadErrorKind::Empty, "the file is empty"));
    }
    let t = text.trim_start();
    let format = if t.starts_with('<') {
        Format::StudioXml
    } else if t.starts_with('{') {
        // Parse once here for the syntax check; the loaders re-read the tree.
        // A large file's positions are indexed on a second thread meanwhile
        // (two passes over the text, each a tenth of the loading time).
        let (json, index) = if text.len() >= PARALLEL_INDEX_BYTES {
            std::thread::scope(|s| {
                let index = s.spawn(|| jsonpos::JsonIndex::build(text, 4));
                let json = serde_json::from_str::<serde_json::Value>(text);
                (json, index.join().ok())
            })
        } else {
            (serde_json::from_str::<serde_json::Value>(text), None)
        };
        let json = json.map_err(|e| json_error(&file, text, &e))?;
        let index = index.unwrap_or_else(|| jsonpos::JsonIndex::build(text, 4));
        match json.as_object().map(json_format) {
            Some(Format::StudioJson) => {
                let mut script = studio_json::load_indexed(&json, index, text, &file)?;
                finish(&mut script, path, Format::StudioJson);
                return Ok(script);
            }
            Some(_) => {
                let mut script = native::load_owned(json, index, text, &file, path.and_then(|p| p.parent()))?;
                finish(&mut script, path, Format::Native);
                return Ok(script);
            }
            None => {
                return Err(LoadError::new(&file, Pos::new(1, 1), LoadErrorKind::Shape, "expected a JSON object"));
            }
        }
    } else {
        let pos = Pos::of_offset(text, text.len() - t.len());
        return Err(LoadError::new(
            &file,
            pos,
            LoadErrorKind::UnknownFormat,
            "not a script: expected a JSON object (native or web Studio) or Studio XML",
        ));
    };
    debug_assert_eq!(format, Format::StudioXml);
    let mut script = studio_xml::load(text, &file)?;
    finish(&mut script, path, Format::StudioXml);
    Ok(script)
}

fn finish(script: &mut Script, path: Option<&Path>, format: Format) {
    script.origin.path = path.map(PathBuf::from);
    script.origin.format = Some(format);
    if script.name.trim().is_empty() {
        script.name = path.map(script_stem).unwrap_or_else(|| "script".into());
    }
}

/// The folder a script file is in, where its sub scripts are looked for: a
/// bare file name (`hello.json`) has an empty parent, which is the current
/// folder.
pub fn script_folder(path: &Path) -> Option<&Path> {
    path.parent().map(|dir| if dir.as_os_str().is_empty() { Path::new(".") } else { dir })
}

/// A script's default name from its file: the file name up to the first dot
/// (`brain.studio.json` → `brain`).
pub fn script_stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.split('.').next().unwrap_or_default().to_string()
}

/// Convert a serde_json error into a positioned load error.
pub(crate) fn json_error(file: &str, text: &str, e: &serde_json::Error) -> LoadError {
    // serde_json counts columns in bytes; diagnostics count characters.
    let mut pos = Pos::new(e.line().max(1) as u32, e.column().max(1) as u32);
    if let Some(line) = text.lines().nth(e.line().saturating_sub(1)) {
        let bytes = e.column().min(line.len());
        let chars = line.get(..bytes).map(|s| s.chars().count()).unwrap_or(bytes);
        pos.column = chars.max(1) as u32;
    }
    if e.line() == 0 {
        pos = Pos::of_offset(text, text.len());
    }
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the JSON ends too early (truncated file?)",
        _ => "invalid JSON",
    };
    if let Some((offset, message)) = jsonpos::lone_surrogate(text, e) {
        return LoadError::new(
            file,
            Pos::of_offset(text, offset),
            LoadErrorKind::Syntax,
            format!("invalid JSON: {message}"),
        );
    }
    // serde_json's message repeats the position; keep only the reason.
    let reason = e.to_string();
    let reason = reason.split(" at line ").next().unwrap_or(&reason).to_string();
    LoadError::new(file, pos, LoadErrorKind::Syntax, format!("{what}: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_columns_count_characters() {
        let e = load_text("{\n  \"name\": \"héllo wörld\" x\n}", None).unwrap_err();
        assert_eq!(e.pos, Pos::new(2, 25), "{e}");
    }

    #[test]
    fn property_keys_that_are_not_positions_sort_without_panicking() {
        let mut props = String::new();
        for (i, k) in ["NaN", "1", "nAN", "7", "+nan", "0", "-Nan", "2", "inf", "x"].iter().enumerate() {
            if i > 0 {
                props.push(',');
            }
            props.push_str(&format!("\"{k}\": {{\"name\": \"P{k}\", \"value\": \"\"}}"));
        }
        let text = format!(
            r#"{{"header": {{"scriptName": "n"}}, "actions": {{"1": {{"name": "BEGIN"}}}}, "properties": {{"1": {{{props}}}}}}}"#
        );
        let s = load_text(&text, None).unwrap();
        let names: Vec<&str> = s.actions[0].properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(&names[..5], ["P0", "P1", "P2", "P7", "P+nan"]);
    }
}
