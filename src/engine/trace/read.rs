//! Reading traces back: one line at a time as JSON, event by event, and the
//! markers a step event's `next` uses to name a script.
//!
//! Replay ([`crate::engine::replay::Trace::parse`]) and graph export
//! ([`crate::graph::highlight_from_trace`]) both read traces through
//! [`events`], so a trace line means the same to both.

use serde_json::{Map, Value as J};

/// Deepest nesting a trace line may have: a value nested to the hard limit
/// ([`crate::value::HARD_DEPTH`]) inside an event's members.
pub const MAX_LINE_DEPTH: usize = crate::value::HARD_DEPTH as usize + 8;

/// Why a trace line could not be read.
#[derive(Debug)]
pub struct LineError {
    /// Column (1-based) of the problem.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Read one trace line as JSON. A trace holds values nested as deep as a
/// run allows, deeper than serde_json's default reader accepts (128), so
/// the nesting is first checked against [`MAX_LINE_DEPTH`] by a scan that
/// uses no stack, and only then read without serde_json's own limit.
pub fn parse_line<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, LineError> {
    read_line(raw).map_err(|(e, _)| e)
}

/// [`parse_line`], also telling whether the line is JSON of another shape
/// than `T` (rather than not JSON, or nested too deep).
fn read_line<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, (LineError, bool)> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in raw.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_LINE_DEPTH {
                    let message = format!("nested deeper than {MAX_LINE_DEPTH} levels");
                    return Err((LineError { column: i + 1, message }, false));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    de.disable_recursion_limit();
    let v = T::deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    v.map_err(|e| (LineError { column: e.column(), message: e.to_string() }, e.is_data()))
}

/// One event of a trace: its line and its members.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// 1-based line number in the trace.
    pub line: usize,
    /// The event's members (`event`, `run`, `seq`, ...).
    pub members: Map<String, J>,
}

impl Event {
    /// The kind of event (`run`, `step`, `return`, `resume`, `end`), when
    /// the line names one.
    pub fn kind(&self) -> Option<&str> {
        self.members.get("event").and_then(J::as_str)
    }

    /// The id of the run the event belongs to, as written.
    pub fn run(&self) -> Option<&J> {
        self.members.get("run")
    }
}

/// Why a trace line is not an event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The line is not JSON (or is nested deeper than [`MAX_LINE_DEPTH`]).
    #[error("line {line}, column {column}: {message}")]
    Json {
        /// 1-based line number.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON reader said.
        message: String,
    },
    /// The line is JSON but not an object.
    #[error("line {line}, column {column}: {message}")]
    NotObject {
        /// 1-based line number.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON reader said.
        message: String,
    },
}

/// The events of a JSON Lines trace, in file order; blank lines are
/// skipped, and any other line must be a JSON object.
pub fn events(trace: &str) -> impl Iterator<Item = Result<Event, ReadError>> + '_ {
    trace.lines().enumerate().filter(|(_, raw)| !raw.trim().is_empty()).map(|(i, raw)| {
        let line = i + 1;
        read_line(raw).map(|members| Event { line, members }).map_err(|(e, other_shape)| {
            let LineError { column, message } = e;
            if other_shape {
                ReadError::NotObject { line, column, message }
            } else {
                ReadError::Json { line, column, message }
            }
        })
    })
}

/// The `next` of a RUNSUB's step event: the sub script it entered.
pub fn call_marker(script: &str) -> String {
    format!("(call {script})")
}

/// The `next` of a RUNSCRIPT's step event: the script it continued in.
pub fn transfer_marker(script: &str) -> String {
    format!("(transfer {script})")
}

/// The script a step event's `next` names, when it is a
/// [`call_marker`] or [`transfer_marker`] rather than an action id.
pub fn marked_script(next: &str) -> Option<&str> {
    let inner = next.strip_prefix('(')?.strip_suffix(')')?;
    inner.strip_prefix("call ").or_else(|| inner.strip_prefix("transfer "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_markers_are_read_back_as_written() {
        assert_eq!(marked_script(&call_marker("greeting")), Some("greeting"));
        assert_eq!(marked_script(&transfer_marker("next step")), Some("next step"));
        assert_eq!(marked_script("done"), None);
        assert_eq!(marked_script("(call greeting"), None);
    }

    #[test]
    fn events_skip_blank_lines_and_keep_line_numbers() {
        let trace = "{\"event\":\"run\",\"run\":\"r1\"}\n\n  \n{\"event\":\"step\",\"run\":\"r1\",\"id\":\"b\"}\n";
        let read: Vec<Event> = events(trace).collect::<Result<_, _>>().unwrap();
        assert_eq!(read.iter().map(|e| (e.line, e.kind())).collect::<Vec<_>>(), [(1, Some("run")), (4, Some("step"))]);
        assert_eq!(read[1].run(), Some(&J::String("r1".into())));
        assert_eq!(read[1].members.get("id"), Some(&J::String("b".into())));
    }

    #[test]
    fn lines_that_are_not_events_say_why() {
        let mut read = events("{\"event\":\"run\"}\n[1, 2]\n{\"event\": oops}\n");
        assert!(read.next().is_some_and(|e| e.is_ok()));
        assert!(matches!(read.next(), Some(Err(ReadError::NotObject { line: 2, .. }))), "JSON, but not an object");
        match read.next() {
            Some(Err(ReadError::Json { line: 3, column: 11, message })) => assert!(message.contains("expected value")),
            other => panic!("{other:?}"),
        }
        assert_eq!(read.next(), None);
        // Nesting past the limit is refused before serde_json reads it.
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(MAX_LINE_DEPTH), "]".repeat(MAX_LINE_DEPTH));
        match events(&deep).next() {
            Some(Err(ReadError::Json { line: 1, message, .. })) => assert!(message.contains("nested deeper")),
            other => panic!("{other:?}"),
        }
    }
}
