//! Scripts: the model, the three file formats, and the static checker.
//!
//! Data flows one way: a file is read by one of the loaders ([`native`],
//! [`studio_json`], [`studio_xml`]) into the single [`Script`] model, the
//! [`check`] module links it against the action catalog and reports every
//! problem at once, and only then does the engine run it. The format is
//! detected from the content, never from the file name.

pub mod check;
pub mod jsonpos;
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
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        return Some(Format::StudioXml);
    }
    if !t.starts_with('{') {
        return None;
    }
    // Peek at the top-level keys without a full parse: web Studio files
    // carry `header` and keyed `actions`/`branches`; native files carry an
    // `actions` array.
    let json: serde_json::Value = serde_json::from_str(t).ok()?;
    let obj = json.as_object()?;
    if obj.contains_key("header") || obj.get("actions").is_some_and(|a| a.is_object()) {
        Some(Format::StudioJson)
    } else {
        Some(Format::Native)
    }
}

/// Load a script file in any of the three formats.
pub fn load_file(path: &Path) -> Result<Script, LoadError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| LoadError::new(&file, Pos::new(1, 1), LoadErrorKind::Io, format!("cannot read the file: {e}")))?;
    let text = bytes_to_text(&file, &bytes)?;
    load_text(&text, Some(path))
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

/// Load a script from text; `path` names the file for messages, gives the
/// default script name (the file stem) and the folder of sibling files.
pub fn load_text(text: &str, path: Option<&Path>) -> Result<Script, LoadError> {
    let file = path.map(|p| p.display().to_string()).unwrap_or_else(|| "<memory>".into());
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(LoadError::new(&file, Pos::new(1, 1), LoadErrorKind::Empty, "the file is empty"));
    }
    let t = text.trim_start();
    let format = if t.starts_with('<') {
        Format::StudioXml
    } else if t.starts_with('{') {
        // Parse once here for the syntax check; the loaders re-read the tree.
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error(&file, text, &e))?;
        match json.as_object() {
            Some(obj) if obj.contains_key("header") || obj.get("actions").is_some_and(|a| a.is_object()) => {
                let mut script = studio_json::load_value(&json, text, &file)?;
                finish(&mut script, path, Format::StudioJson);
                return Ok(script);
            }
            Some(_) => {
                let mut script = native::load_value(&json, text, &file, path.and_then(|p| p.parent()))?;
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
