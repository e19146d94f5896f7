//! Graph export: a script's actions and branches drawn as Graphviz DOT or a
//! Mermaid flowchart, optionally with the path one run took highlighted, or
//! with what a set of script tests covered and missed.
//!
//! This module owns the two text formats (their node ids, shapes and
//! escaping), the placeholder nodes drawn for branch targets that name no
//! action, and reading the executed path of one script out of a JSON Lines
//! run trace ([`highlight_from_trace`]), and how coverage is marked
//! ([`render_coverage`]; what was covered comes from `scripttest::coverage`).
//! It reads no files and runs nothing: callers hand it a loaded [`Script`]
//! and the trace text or the coverage marks.
//!
//! Both formats share one layout: a node per action in file order, then a
//! placeholder node per missing target (in order of first reference), then
//! an edge per branch in file order. Mermaid link indexes (`linkStyle`)
//! count edges in that order. Output is deterministic and ends with a
//! newline.

use crate::engine::trace::{Event, ReadError, events, marked_script};
use crate::script::Script;
use serde_json::Value as J;
use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::str::FromStr;

/// Fill of executed nodes.
const EXECUTED_FILL: &str = "#ffe08a";
/// Stroke of executed edges and node borders.
const EXECUTED_STROKE: &str = "#d9480f";
/// Colour of placeholder nodes for missing targets.
const MISSING_COLOR: &str = "#c92a2a";
/// Fill of actions the tests executed, and stroke of branches they took.
const COVERED_FILL: &str = "#b2f2bb";
const COVERED_STROKE: &str = "#2f9e44";
/// Fill and stroke of actions and branches no test reached.
const UNCOVERED_FILL: &str = "#ffe3e3";
const UNCOVERED_STROKE: &str = "#e03131";
/// How many visit numbers an executed node's `xlabel` shows before `…`.
const MAX_VISITS_SHOWN: usize = 5;

/// The graph text formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GraphFormat {
    /// A Mermaid `flowchart TD`.
    Mermaid,
    /// A Graphviz `digraph`.
    Dot,
}

impl GraphFormat {
    /// Every format, in the order messages list them.
    pub const ALL: [GraphFormat; 2] = [GraphFormat::Mermaid, GraphFormat::Dot];

    /// The format's name as parsed and displayed.
    pub fn name(self) -> &'static str {
        match self {
            GraphFormat::Mermaid => "mermaid",
            GraphFormat::Dot => "dot",
        }
    }
}

impl fmt::Display for GraphFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GraphFormat {
    type Err = GraphError;

    /// `mermaid` or `dot`, case-insensitive, surrounding blanks ignored.
    fn from_str(s: &str) -> Result<GraphFormat, GraphError> {
        let t = s.trim();
        GraphFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| GraphError::UnknownFormat { given: s.to_string() })
    }
}

/// Graph export failures.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// A format name that is neither `mermaid` nor `dot`.
    #[error("unknown graph format '{given}': expected one of mermaid, dot")]
    UnknownFormat {
        /// The name given.
        given: String,
    },
    /// A trace line that is not valid JSON.
    #[error("trace line {line}, column {column}: not valid JSON: {reason}")]
    TraceJson {
        /// 1-based line number in the trace.
        line: usize,
        /// Column serde_json reported (1-based, in bytes).
        column: usize,
        /// serde_json's reason, without its position.
        reason: String,
    },
    /// A trace line that is JSON but not a usable event.
    #[error("trace line {line}: {reason}")]
    TraceEvent {
        /// 1-based line number in the trace.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The trace has no `"event":"run"` line.
    #[error("the trace has no run event (no line with \"event\": \"run\")")]
    NoRun,
    /// The first run has no step of the script asked for.
    #[error("the trace's first run ({run}) has no steps for script '{script}'; {}", have_steps(.found))]
    NoSteps {
        /// The script asked for.
        script: String,
        /// The run id of the first run.
        run: String,
        /// Scripts the run does have steps for, in order of first step (first
        /// spelling of names that differ only in case).
        found: Vec<String>,
    },
}

fn have_steps(found: &[String]) -> String {
    if found.is_empty() {
        "it has no steps at all".to_string()
    } else {
        format!("it has steps for: {}", found.join(", "))
    }
}

/// The executed path of one script, as read from a trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Highlight {
    /// Action ids in execution order (repeats in loops).
    pub actions: Vec<String>,
    /// Branches taken, in order, as (from id, branch name, to id); repeats
    /// in loops.
    pub edges: Vec<(String, String, String)>,
}

/// Read the path of `script_name` (compared case-insensitively) in the
/// first run of a JSON Lines trace.
///
/// Only the run named by the first `"event":"run"` line counts; lines of
/// other runs are skipped. Each of its `step` events for the script adds its
/// `id` to [`Highlight::actions`] and, when `next` is a string, `(id, branch,
/// next)` to [`Highlight::edges`] (a missing or null `branch` reads as
/// `""`; a `next` of `(call NAME)` or `(transfer NAME)` names a script and
/// adds no edge); a `resume` event (a RUNSUB going on after its sub script)
/// adds its edge the same way. Blank lines are ignored; any other line must be a
/// JSON object.
pub fn highlight_from_trace(trace: &str, script_name: &str) -> Result<Highlight, GraphError> {
    let events: Vec<Event> = events(trace).collect::<Result<_, _>>().map_err(|e| match e {
        ReadError::Json { line, column, message } => {
            let reason = message.split(" at line ").next().unwrap_or(&message).to_string();
            GraphError::TraceJson { line, column, reason }
        }
        ReadError::NotObject { line, .. } => event_error(line, "expected a JSON object (one event per line)"),
    })?;

    let run_event = events.iter().find(|e| e.kind() == Some("run")).ok_or(GraphError::NoRun)?;
    let run_id = run_event.run().ok_or_else(|| event_error(run_event.line, "the run event has no \"run\" id"))?;

    let wanted = script_name.to_lowercase();
    let mut highlight = Highlight::default();
    let mut found: Vec<String> = Vec::new();
    for Event { line, members: event } in &events {
        // A `resume` event adds the branch a RUNSUB took after its sub
        // script; its step event was the visit.
        let resume = match event.get("event").and_then(J::as_str) {
            Some("step") => false,
            Some("resume") => true,
            _ => continue,
        };
        if event.get("run") != Some(run_id) {
            continue;
        }
        let script = event
            .get("script")
            .and_then(J::as_str)
            .ok_or_else(|| event_error(*line, "the step event has no \"script\" name"))?;
        let lower = script.to_lowercase();
        if !found.iter().any(|s| s.to_lowercase() == lower) {
            found.push(script.to_string());
        }
        if lower != wanted {
            continue;
        }
        let id =
            event.get("id").and_then(J::as_str).ok_or_else(|| event_error(*line, "the step event has no \"id\""))?;
        let branch = match event.get("branch") {
            None | Some(J::Null) => "",
            Some(J::String(s)) => s.as_str(),
            Some(_) => return Err(event_error(*line, "the step event's \"branch\" is not a string")),
        };
        if !resume {
            highlight.actions.push(id.to_string());
        }
        match event.get("next") {
            None | Some(J::Null) => {}
            // A RUNSUB's or RUNSCRIPT's step names the script it went into;
            // the RUNSUB's edge comes with its `resume` event.
            Some(J::String(next)) if marked_script(next).is_some() => {}
            Some(J::String(next)) => highlight.edges.push((id.to_string(), branch.to_string(), next.clone())),
            Some(_) => return Err(event_error(*line, "the step event's \"next\" is neither a string nor null")),
        }
    }

    if highlight.actions.is_empty() {
        let run = match run_id {
            J::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Err(GraphError::NoSteps { script: script_name.to_string(), run, found });
    }
    Ok(highlight)
}

fn event_error(line: usize, reason: &str) -> GraphError {
    GraphError::TraceEvent { line, reason: reason.to_string() }
}

/// What script tests exercised in one script: the actions executed and the
/// branches taken, as (from id, branch name, to id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageMarks {
    /// Ids of the actions executed.
    pub actions: BTreeSet<String>,
    /// Branches taken.
    pub edges: BTreeSet<(String, String, String)>,
}

/// Draw `script` in `format` with every action and branch marked covered
/// (DOT `class="covered"`, Mermaid class `covered` and a solid green link)
/// or uncovered (`class="uncovered"`, a dashed red outline or link).
/// Branches match as in [`render`]; placeholder nodes are not marked.
pub fn render_coverage(script: &Script, format: GraphFormat, coverage: &CoverageMarks) -> String {
    let highlight = Highlight {
        actions: coverage.actions.iter().cloned().collect(),
        edges: coverage.edges.iter().cloned().collect(),
    };
    let mut layout = Layout::new(script, Some(&highlight));
    layout.mode = Marking::Coverage;
    match format {
        GraphFormat::Dot => render_dot(script, &layout),
        GraphFormat::Mermaid => render_mermaid(script, &layout),
    }
}

/// Draw `script` in `format`, marking the nodes and edges of `highlight`.
///
/// Executed edges are matched on from id, branch name and to id; when the
/// trace spells a branch differently from the script (case, `Error` for
/// `OnError`), the names are compared case-insensitively and without an
/// `On` prefix, and failing that the only branch from → to is taken. Ids the
/// script does not have are ignored. Placeholder nodes are never marked.
pub fn render(script: &Script, format: GraphFormat, highlight: Option<&Highlight>) -> String {
    let layout = Layout::new(script, highlight);
    match format {
        GraphFormat::Dot => render_dot(script, &layout),
        GraphFormat::Mermaid => render_mermaid(script, &layout),
    }
}

/// How an action type is drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Plain,
    Branching,
    Loop,
    Start,
    Terminal,
    Missing,
}

fn shape_of(kind: &str) -> Shape {
    match kind {
        "IF" | "CASE" | "SWITCH" => Shape::Branching,
        "LOOP" | "FOR" => Shape::Loop,
        "BEGIN" => Shape::Start,
        "END" | "EXIT" | "RETURN" | "HANGUP" | "DISCARD" => Shape::Terminal,
        _ => Shape::Plain,
    }
}

struct Node<'a> {
    id: &'a str,
    /// Lines of the label, unescaped.
    label: Vec<String>,
    shape: Shape,
    /// 1-based positions in the highlight's action list.
    visits: Vec<usize>,
}

struct Edge<'a> {
    from: usize,
    to: usize,
    name: &'a str,
    executed: bool,
}

/// What the marks on a drawing stand for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Marking {
    /// Nothing is marked.
    None,
    /// One run's path: executed nodes with their visit numbers.
    Trace,
    /// Test coverage: every action and branch is covered or not.
    Coverage,
}

/// Nodes and edges in output order, with the highlight resolved (a node
/// with visits and an executed edge are the covered ones in coverage mode).
struct Layout<'a> {
    nodes: Vec<Node<'a>>,
    edges: Vec<Edge<'a>>,
    mode: Marking,
}

impl<'a> Layout<'a> {
    fn new(script: &'a Script, highlight: Option<&Highlight>) -> Layout<'a> {
        let mut nodes = Vec::with_capacity(script.actions.len());
        let mut index: HashMap<&str, usize> = HashMap::new();
        for action in &script.actions {
            let mut label = vec![format!("{} · {}", action.id, action.kind)];
            let caption = action.caption.trim();
            if !caption.is_empty() {
                label.push(caption.to_string());
            }
            index.entry(action.id.as_str()).or_insert(nodes.len());
            nodes.push(Node { id: &action.id, label, shape: shape_of(&action.kind), visits: Vec::new() });
        }
        let actions = nodes.len();

        let mut edges = Vec::new();
        for (from, action) in script.actions.iter().enumerate() {
            for branch in &action.branches {
                let to = match index.get(branch.target.as_str()) {
                    Some(&to) => to,
                    None => {
                        let to = nodes.len();
                        index.insert(&branch.target, to);
                        let label = vec![branch.target.clone(), "(missing)".to_string()];
                        nodes.push(Node { id: &branch.target, label, shape: Shape::Missing, visits: Vec::new() });
                        to
                    }
                };
                edges.push(Edge { from, to, name: &branch.name, executed: false });
            }
        }

        if let Some(h) = highlight {
            for (n, id) in h.actions.iter().enumerate() {
                if let Some(&k) = index.get(id.as_str())
                    && k < actions
                {
                    nodes[k].visits.push(n + 1);
                }
            }
            let taken: BTreeSet<(&str, &str, &str)> =
                h.edges.iter().map(|(f, b, t)| (f.as_str(), b.as_str(), t.as_str())).collect();
            for (f, b, t) in taken {
                for i in matching_edges(&nodes, &edges, f, b, t) {
                    edges[i].executed = true;
                }
            }
        }
        Layout { nodes, edges, mode: if highlight.is_some() { Marking::Trace } else { Marking::None } }
    }
}

/// Indexes of the drawn edges a taken branch `(from, name, to)` stands for:
/// those with the same name, else the same name ignoring case and an `On`
/// prefix, else the only edge from → to.
fn matching_edges(nodes: &[Node<'_>], edges: &[Edge<'_>], from: &str, name: &str, to: &str) -> Vec<usize> {
    let candidates: Vec<usize> =
        (0..edges.len()).filter(|&i| nodes[edges[i].from].id == from && nodes[edges[i].to].id == to).collect();
    let exact: Vec<usize> = candidates.iter().copied().filter(|&i| edges[i].name == name).collect();
    if !exact.is_empty() {
        return exact;
    }
    let loose: Vec<usize> =
        candidates.iter().copied().filter(|&i| loose_name(edges[i].name) == loose_name(name)).collect();
    if !loose.is_empty() {
        return loose;
    }
    if candidates.len() == 1 { candidates } else { Vec::new() }
}

fn loose_name(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    match lower.strip_prefix("on") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => lower,
    }
}

/// The visit numbers of an executed node, at most [`MAX_VISITS_SHOWN`].
fn visit_list(visits: &[usize]) -> String {
    let shown: Vec<String> = visits.iter().take(MAX_VISITS_SHOWN).map(usize::to_string).collect();
    let mut s = shown.join(",");
    if visits.len() > MAX_VISITS_SHOWN {
        s.push_str(",…");
    }
    s
}

// ------------------------------------------------------------ labels

/// How a label language writes the characters it cannot take as they are.
type Escapes = &'static [(char, &'static str)];

/// Inside a DOT quoted string: `\` and `"` escaped, newlines as `\n`.
const DOT_ESCAPES: Escapes = &[('\\', "\\\\"), ('"', "\\\""), ('\n', "\\n")];

/// Inside a Mermaid double-quoted label: characters Mermaid reads as syntax
/// or markup become entity codes (`#quot;`, `#35;`, ...), which Mermaid
/// decodes when it draws; newlines become `<br/>`. `:` and `%` are encoded
/// too: Mermaid pre-processes the whole text before parsing, taking any
/// `style ...:#...;` run as a style statement and any `%%{...}%%` as a
/// directive, even inside quotes.
const MERMAID_ESCAPES: Escapes = &[
    ('"', "#quot;"),
    ('#', "#35;"),
    ('&', "#amp;"),
    ('<', "#lt;"),
    ('>', "#gt;"),
    ('|', "#124;"),
    ('`', "#96;"),
    (':', "#58;"),
    ('%', "#37;"),
    ('\n', "<br/>"),
];

/// Append `s` to `out` as label text of the language `escapes` stands for.
/// Both languages drop carriage returns and turn other control characters
/// into spaces.
fn escape_label(s: &str, escapes: Escapes, out: &mut String) {
    for c in s.chars() {
        match escapes.iter().find(|(k, _)| *k == c) {
            Some((_, code)) => out.push_str(code),
            None if c == '\r' => {}
            None if c.is_control() => out.push(' '),
            None => out.push(c),
        }
    }
}

// ---------------------------------------------------------------- DOT

/// A DOT quoted string (see [`DOT_ESCAPES`]).
fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    escape_label(s, DOT_ESCAPES, &mut out);
    out.push('"');
    out
}

fn render_dot(script: &Script, layout: &Layout<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_quote(&script.name));
    out.push_str("  graph [rankdir=TB, forcelabels=true];\n");
    out.push_str("  node [shape=box, fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\"];\n");
    for node in &layout.nodes {
        let mut attrs = vec![format!("label={}", dot_quote(&node.label.join("\n")))];
        match node.shape {
            Shape::Plain => {}
            Shape::Branching => attrs.push("shape=diamond".into()),
            Shape::Loop => attrs.push("shape=hexagon".into()),
            Shape::Start => attrs.push("shape=oval".into()),
            Shape::Terminal => attrs.extend(["shape=oval".into(), "peripheries=2".into()]),
            Shape::Missing => attrs.extend([
                "style=dashed".into(),
                format!("color=\"{MISSING_COLOR}\""),
                format!("fontcolor=\"{MISSING_COLOR}\""),
                "class=\"missing\"".into(),
            ]),
        }
        match (layout.mode, node.visits.is_empty()) {
            (Marking::Trace, false) => attrs.extend([
                "style=\"filled,bold\"".into(),
                format!("fillcolor=\"{EXECUTED_FILL}\""),
                "penwidth=2".into(),
                "class=\"executed\"".into(),
                format!("xlabel=\"{}\"", visit_list(&node.visits)),
            ]),
            (Marking::Coverage, false) => attrs.extend([
                "style=\"filled,bold\"".into(),
                format!("fillcolor=\"{COVERED_FILL}\""),
                format!("color=\"{COVERED_STROKE}\""),
                "penwidth=2".into(),
                "class=\"covered\"".into(),
            ]),
            (Marking::Coverage, true) if node.shape != Shape::Missing => attrs.extend([
                "style=\"filled,dashed\"".into(),
                format!("fillcolor=\"{UNCOVERED_FILL}\""),
                format!("color=\"{UNCOVERED_STROKE}\""),
                "class=\"uncovered\"".into(),
            ]),
            _ => {}
        }
        let _ = writeln!(out, "  {} [{}];", dot_quote(node.id), attrs.join(", "));
    }
    for edge in &layout.edges {
        let mut attrs = vec![format!("label={}", dot_quote(edge.name))];
        match (layout.mode, edge.executed) {
            (Marking::Trace, true) => {
                attrs.extend([format!("color=\"{EXECUTED_STROKE}\""), "penwidth=3".into(), "class=\"executed\"".into()])
            }
            (Marking::Coverage, true) => {
                attrs.extend([format!("color=\"{COVERED_STROKE}\""), "penwidth=3".into(), "class=\"covered\"".into()])
            }
            (Marking::Coverage, false) => attrs.extend([
                format!("color=\"{UNCOVERED_STROKE}\""),
                "style=dashed".into(),
                "class=\"uncovered\"".into(),
            ]),
            _ => {}
        }
        let from = dot_quote(layout.nodes[edge.from].id);
        let to = dot_quote(layout.nodes[edge.to].id);
        let _ = writeln!(out, "  {from} -> {to} [{}];", attrs.join(", "));
    }
    out.push_str("}\n");
    out
}

// ------------------------------------------------------------ Mermaid

/// Text for inside a Mermaid double-quoted label (see [`MERMAID_ESCAPES`]).
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_label(s, MERMAID_ESCAPES, &mut out);
    out
}

fn render_mermaid(script: &Script, layout: &Layout<'_>) -> String {
    let mut out = String::from("flowchart TD\n");
    // A comment naming the script, escaped like a label so that it stays
    // on one line and cannot form a directive.
    let _ = writeln!(out, "    %% script: {}", mermaid_text(&script.name));
    for (i, node) in layout.nodes.iter().enumerate() {
        let label = mermaid_text(&node.label.join("\n"));
        let (open, close) = match node.shape {
            Shape::Plain | Shape::Missing => ("[", "]"),
            Shape::Branching => ("{", "}"),
            Shape::Loop => ("{{", "}}"),
            Shape::Start | Shape::Terminal => ("([", "])"),
        };
        let _ = writeln!(out, "    n{i}{open}\"{label}\"{close}");
    }
    for edge in &layout.edges {
        if edge.name.is_empty() {
            let _ = writeln!(out, "    n{} --> n{}", edge.from, edge.to);
        } else {
            let _ = writeln!(out, "    n{} -->|\"{}\"| n{}", edge.from, mermaid_text(edge.name), edge.to);
        }
    }
    let missing: Vec<String> =
        (0..layout.nodes.len()).filter(|&i| layout.nodes[i].shape == Shape::Missing).map(|i| format!("n{i}")).collect();
    if !missing.is_empty() {
        let _ =
            writeln!(out, "    classDef missing stroke:{MISSING_COLOR},color:{MISSING_COLOR},stroke-dasharray:5 5;");
        let _ = writeln!(out, "    class {} missing;", missing.join(","));
    }
    if layout.mode == Marking::Coverage {
        mermaid_coverage(layout, &mut out);
    }
    if layout.mode == Marking::Trace {
        let _ = writeln!(out, "    classDef executed fill:{EXECUTED_FILL},stroke:{EXECUTED_STROKE},stroke-width:2px;");
        let executed: Vec<String> =
            (0..layout.nodes.len()).filter(|&i| !layout.nodes[i].visits.is_empty()).map(|i| format!("n{i}")).collect();
        if !executed.is_empty() {
            let _ = writeln!(out, "    class {} executed;", executed.join(","));
        }
        for (i, edge) in layout.edges.iter().enumerate() {
            if edge.executed {
                let _ = writeln!(out, "    linkStyle {i} stroke:{EXECUTED_STROKE},stroke-width:3px;");
            }
        }
    }
    out
}

/// The coverage classes and link styles of a Mermaid drawing.
fn mermaid_coverage(layout: &Layout<'_>, out: &mut String) {
    let _ = writeln!(out, "    classDef covered fill:{COVERED_FILL},stroke:{COVERED_STROKE},stroke-width:2px;");
    let _ =
        writeln!(out, "    classDef uncovered fill:{UNCOVERED_FILL},stroke:{UNCOVERED_STROKE},stroke-dasharray:5 5;");
    let drawn = |covered: bool| -> Vec<String> {
        (0..layout.nodes.len())
            .filter(|&i| layout.nodes[i].shape != Shape::Missing && layout.nodes[i].visits.is_empty() != covered)
            .map(|i| format!("n{i}"))
            .collect()
    };
    for (class, nodes) in [("covered", drawn(true)), ("uncovered", drawn(false))] {
        if !nodes.is_empty() {
            let _ = writeln!(out, "    class {} {class};", nodes.join(","));
        }
    }
    for (i, edge) in layout.edges.iter().enumerate() {
        let style = if edge.executed {
            format!("stroke:{COVERED_STROKE},stroke-width:3px")
        } else {
            format!("stroke:{UNCOVERED_STROKE},stroke-dasharray:5 5")
        };
        let _ = writeln!(out, "    linkStyle {i} {style};");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::load_text;
    use std::collections::BTreeSet;
    use std::io::Write as _;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    /// A loop: b → inc → check, True back to inc, False/OnError to done.
    const LOOP: &str = r#"{
      "name": "loop",
      "actions": [
        {"id": "b", "action": "BEGIN", "next": "inc"},
        {"id": "inc", "action": "ASSIGN", "caption": "Count", "Variable": "n", "Value": "n + 1",
         "Type": "Numeric", "next": "check"},
        {"id": "check", "action": "IF", "caption": "Again?", "Expression": "n < 2",
         "branches": {"True": "inc", "False": "done", "OnError": "done"}},
        {"id": "done", "action": "END"}
      ]
    }"#;

    /// Two runs interleaved; r1 comes first and loops once; r2 takes
    /// OnError; r1 also has steps in a sub script.
    const TRACE: &str = r#"{"event":"run","run":"r1","seq":0,"script":{"name":"loop"}}
{"event":"step","run":"r1","seq":1,"script":"loop","id":"b","action":"BEGIN","caption":"","branch":"Default","next":"inc"}
{"event":"run","run":"r2","seq":0,"script":{"name":"loop"}}
{"event":"step","run":"r2","seq":1,"script":"loop","id":"b","action":"BEGIN","caption":"","branch":"Default","next":"inc"}
{"event":"step","run":"r1","seq":2,"script":"loop","id":"inc","action":"ASSIGN","caption":"Count","branch":"Default","next":"check"}

{"event":"step","run":"r2","seq":2,"script":"loop","id":"inc","action":"ASSIGN","caption":"Count","branch":"Default","next":"check"}
{"event":"step","run":"r1","seq":3,"script":"Loop","id":"check","action":"IF","caption":"Again?","branch":"True","next":"inc"}
{"event":"step","run":"r2","seq":3,"script":"loop","id":"check","action":"IF","caption":"Again?","branch":"OnError","next":"done"}
{"event":"step","run":"r1","seq":4,"script":"helper","id":"x","action":"ASSIGN","caption":"","branch":"Default","next":null}
{"event":"return","run":"r1","seq":5,"script":"helper","value":null,"to":"inc"}
{"event":"step","run":"r1","seq":6,"script":"loop","id":"inc","action":"ASSIGN","caption":"Count","branch":"Default","next":"check"}
{"event":"step","run":"r1","seq":7,"script":"loop","id":"check","action":"IF","caption":"Again?","branch":"False","next":"done"}
{"event":"step","run":"r2","seq":4,"script":"loop","id":"done","action":"END","caption":"","branch":"","next":null}
{"event":"step","run":"r1","seq":8,"script":"loop","id":"done","action":"END","caption":"","branch":"","next":null}
{"event":"end","run":"r2","seq":5,"status":"completed"}
{"event":"end","run":"r1","seq":9,"status":"completed"}
"#;

    fn load(text: &str) -> Script {
        match load_text(text, None) {
            Ok(s) => s,
            Err(e) => panic!("test script does not load: {e}"),
        }
    }

    fn triple(f: &str, b: &str, t: &str) -> (String, String, String) {
        (f.to_string(), b.to_string(), t.to_string())
    }

    /// The edges of a path written `from branch to branch to ...`.
    fn chain(path: &str) -> Vec<(String, String, String)> {
        let parts: Vec<&str> = path.split_whitespace().collect();
        parts.windows(3).step_by(2).map(|w| triple(w[0], w[1], w[2])).collect()
    }

    /// Run `dot -Tsvg` on `dot`; the SVG, or why it failed. Fails the test
    /// when Graphviz is not installed.
    fn graphviz_svg(dot: &str) -> Result<String, String> {
        let mut child = match Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!(
                "the Graphviz `dot` binary is needed by these tests ({e}); install Graphviz \
                 (apt-get install -y graphviz, brew install graphviz) and make sure `dot` is on PATH"
            ),
        };
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(dot.as_bytes()).map_err(|e| format!("writing to dot: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("waiting for dot: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() || !stderr.trim().is_empty() {
            return Err(format!("dot -Tsvg: {}\n{stderr}\n--- input ---\n{dot}", out.status));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Node ids and (from, label, to) edges carrying `class="executed"` in
    /// DOT output (for plain ids without quotes or backslashes).
    fn dot_executed(dot: &str) -> (BTreeSet<String>, BTreeSet<(String, String, String)>) {
        let mut nodes = BTreeSet::new();
        let mut edges = BTreeSet::new();
        for line in dot.lines().filter(|l| l.contains("class=\"executed\"")) {
            let quoted: Vec<&str> = line.split('"').collect();
            if line.contains(" -> ") {
                // "a" -> "b" [label="X", ...
                edges.insert(triple(quoted[1], quoted[5], quoted[3]));
            } else {
                nodes.insert(quoted[1].to_string());
            }
        }
        (nodes, edges)
    }

    /// Undo [`mermaid_text`] the way Mermaid reads entity codes.
    fn mermaid_decode(s: &str) -> String {
        let mut out = s.replace("<br/>", "\n");
        for (code, c) in [
            ("#quot;", "\""),
            ("#amp;", "&"),
            ("#lt;", "<"),
            ("#gt;", ">"),
            ("#124;", "|"),
            ("#96;", "`"),
            ("#58;", ":"),
            ("#37;", "%"),
        ] {
            out = out.replace(code, c);
        }
        out.replace("#35;", "#")
    }

    fn repo_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => panic!("cannot read {}: {e}", dir.display()),
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                repo_files(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    #[test]
    fn graph_formats_parse_case_insensitively_and_display() {
        assert_eq!("mermaid".parse::<GraphFormat>(), Ok(GraphFormat::Mermaid));
        assert_eq!("MerMaid".parse::<GraphFormat>(), Ok(GraphFormat::Mermaid));
        assert_eq!("DOT".parse::<GraphFormat>(), Ok(GraphFormat::Dot));
        assert_eq!(" dot ".parse::<GraphFormat>(), Ok(GraphFormat::Dot));
        for f in GraphFormat::ALL {
            assert_eq!(f.to_string().parse::<GraphFormat>(), Ok(f));
        }
        let err = "svg".parse::<GraphFormat>().unwrap_err();
        assert_eq!(err, GraphError::UnknownFormat { given: "svg".into() });
        let msg = err.to_string();
        assert!(msg.contains("'svg'") && msg.contains("mermaid") && msg.contains("dot"), "{msg}");
        assert!("".parse::<GraphFormat>().is_err());
    }

    const NASTY: &str = r#"{
      "name": "na\"sty \\ one",
      "actions": [
        {"id": "b", "action": "BEGIN", "caption": "  ", "next": "s1"},
        {"id": "s1", "action": "ASSIGN", "caption": "Say \"hi\" \\ C:\\temp\\\na|b #1; <b>&{x}[y](z) é ✓ %%{init}%% `t`",
         "Variable": "v", "Value": "1", "next": "c"},
        {"id": "c", "action": "CASE", "caption": "Pick", "Variable": "v",
         "branches": {"a|b #\"1\"": "e", "Default": "e"}},
        {"id": "e", "action": "END"}
      ]
    }"#;

    const NASTY_CAPTION: &str = "Say \"hi\" \\ C:\\temp\\\na|b #1; <b>&{x}[y](z) é ✓ %%{init}%% `t`";

    #[test]
    fn graph_dot_escapes_nasty_captions_and_graphviz_reads_them_back() {
        let script = load(NASTY);
        assert_eq!(script.actions[1].caption, NASTY_CAPTION);
        let dot = render(&script, GraphFormat::Dot, None);
        assert!(dot.starts_with("digraph \"na\\\"sty \\\\ one\" {\n"), "{dot}");
        let want =
            r#"  "s1" [label="s1 · ASSIGN\nSay \"hi\" \\ C:\\temp\\\na|b #1; <b>&{x}[y](z) é ✓ %%{init}%% `t`"];"#;
        assert!(dot.lines().any(|l| l == want), "no line {want}\n{dot}");
        // A blank caption shows id and type only.
        assert!(dot.contains(r#"  "b" [label="b · BEGIN", shape=oval];"#), "{dot}");
        assert!(dot.contains(r#"  "c" -> "e" [label="a|b #\"1\""];"#), "{dot}");
        let svg = graphviz_svg(&dot).unwrap_or_else(|e| panic!("{e}"));
        // Graphviz decoded the escapes back into the caption's text.
        assert!(svg.contains("Say &quot;hi&quot; \\ C:\\temp\\</text>"), "{svg}");
        assert!(svg.contains("a|b #1; &lt;b&gt;&amp;{x}[y](z) é ✓ %%{init}%% `t`</text>"), "{svg}");
        assert!(svg.contains("a|b #&quot;1&quot;</text>"), "{svg}");
    }

    #[test]
    fn graph_mermaid_escapes_nasty_captions_consistently() {
        let script = load(NASTY);
        let mm = render(&script, GraphFormat::Mermaid, None);
        let want = "    n1[\"s1 · ASSIGN<br/>Say #quot;hi#quot; \\ C#58;\\temp\\<br/>a#124;b #35;1; #lt;b#gt;#amp;{x}[y](z) \
                    é ✓ #37;#37;{init}#37;#37; #96;t#96;\"]";
        assert!(mm.lines().any(|l| l == want), "no line {want}\n{mm}");
        assert!(mm.contains("    n2 -->|\"a#124;b #35;#quot;1#quot;\"| n3\n"), "{mm}");
        assert!(mm.contains("    %% script: na#quot;sty \\ one\n"), "{mm}");
        // Every label is one quoted string whose text decodes to the original.
        let labels: Vec<&str> = mm.lines().filter_map(|l| l.split('"').nth(1)).collect();
        assert_eq!(labels.len(), 4 + 4, "{mm}");
        assert_eq!(mermaid_decode(labels[1]), format!("s1 · ASSIGN\n{NASTY_CAPTION}"));
        for l in mm.lines().filter(|l| l.contains('"')) {
            assert_eq!(l.matches('"').count(), 2, "{l}");
            let label = l.split('"').nth(1).unwrap_or_default().replace("<br/>", "");
            for c in ['|', '<', '>', '`', ':', '%', '\n'] {
                assert!(!label.contains(c), "raw {c:?} in {l}");
            }
            // Each `#` starts an entity code.
            for rest in label.split('#').skip(1) {
                let code: String = rest.chars().take_while(|c| *c != ';').collect();
                assert!(!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric()), "{l}");
                assert!(rest.len() > code.len(), "unterminated entity in {l}");
            }
        }
    }

    const DANGLING: &str = r#"{
      "name": "dangling",
      "actions": [
        {"id": "b", "action": "BEGIN", "next": "i"},
        {"id": "i", "action": "IF", "caption": "Is it one?", "Expression": "1 = 1",
         "branches": {"True": "e", "False": "nowhere", "OnError": "nowhere"}},
        {"id": "e", "action": "END"}
      ]
    }"#;

    #[test]
    fn graph_missing_branch_target_becomes_one_placeholder() {
        let script = load(DANGLING);
        let dot = render(&script, GraphFormat::Dot, None);
        let placeholder = r##"  "nowhere" [label="nowhere\n(missing)", style=dashed, color="#c92a2a", fontcolor="#c92a2a", class="missing"];"##;
        assert_eq!(dot.lines().filter(|l| l.starts_with("  \"nowhere\" [")).collect::<Vec<_>>(), [placeholder]);
        assert!(dot.contains("  \"i\" -> \"nowhere\" [label=\"False\"];\n"), "{dot}");
        assert!(dot.contains("  \"i\" -> \"nowhere\" [label=\"OnError\"];\n"), "{dot}");
        assert!(dot.contains("  \"i\" [label=\"i · IF\\nIs it one?\", shape=diamond];\n"), "{dot}");
        graphviz_svg(&dot).unwrap_or_else(|e| panic!("{e}"));

        let mm = render(&script, GraphFormat::Mermaid, None);
        assert!(mm.contains("    n3[\"nowhere<br/>(missing)\"]\n"), "{mm}");
        assert!(mm.contains("    n1 -->|\"False\"| n3\n"), "{mm}");
        assert!(mm.contains("    class n3 missing;\n"), "{mm}");
        assert_eq!(mm.matches("nowhere").count(), 1, "{mm}");

        // Taking a branch to the missing action marks the edge, not the placeholder.
        let h = Highlight {
            actions: vec!["b".into(), "i".into(), "nowhere".into()],
            edges: vec![triple("b", "Default", "i"), triple("i", "False", "nowhere")],
        };
        let dot = render(&script, GraphFormat::Dot, Some(&h));
        let (nodes, edges) = dot_executed(&dot);
        assert_eq!(nodes, BTreeSet::from(["b".to_string(), "i".to_string()]));
        assert_eq!(edges, BTreeSet::from([triple("b", "Default", "i"), triple("i", "False", "nowhere")]));
        graphviz_svg(&dot).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn graph_highlight_reads_only_the_first_run() {
        let h = highlight_from_trace(TRACE, "LOOP").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.actions, ["b", "inc", "check", "inc", "check", "done"]);
        assert_eq!(h.edges, chain("b Default inc Default check True inc Default check False done"));
        let sub = highlight_from_trace(TRACE, "helper").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sub, Highlight { actions: vec!["x".into()], edges: vec![] });
    }

    #[test]
    fn graph_dot_marks_exactly_the_executed_nodes_and_edges() {
        let script = load(LOOP);
        let h = highlight_from_trace(TRACE, "loop").unwrap_or_else(|e| panic!("{e}"));
        let dot = render(&script, GraphFormat::Dot, Some(&h));
        let (nodes, edges) = dot_executed(&dot);
        assert_eq!(nodes, h.actions.iter().cloned().collect::<BTreeSet<_>>());
        assert_eq!(edges, h.edges.iter().cloned().collect::<BTreeSet<_>>());
        // r2's OnError branch is drawn but not marked.
        assert!(dot.contains("  \"check\" -> \"done\" [label=\"OnError\"];\n"), "{dot}");
        let executed = r##"style="filled,bold", fillcolor="#ffe08a", penwidth=2, class="executed""##;
        assert!(dot.contains(&format!("  \"inc\" [label=\"inc · ASSIGN\\nCount\", {executed}, xlabel=\"2,4\"];\n")));
        assert!(dot.contains(&format!(
            "  \"check\" [label=\"check · IF\\nAgain?\", shape=diamond, {executed}, xlabel=\"3,5\"];\n"
        )));
        assert!(dot.contains(r##"  "check" -> "inc" [label="True", color="#d9480f", penwidth=3, class="executed"];"##));
        assert!(dot.contains("xlabel=\"1\"") && dot.contains("xlabel=\"6\""), "{dot}");
        graphviz_svg(&dot).unwrap_or_else(|e| panic!("{e}"));

        // Without a highlight nothing is marked.
        let plain = render(&script, GraphFormat::Dot, None);
        assert!(!plain.contains("executed") && !plain.contains("xlabel") && !plain.contains("#ffe08a"), "{plain}");
    }

    #[test]
    fn graph_coverage_marks_every_action_and_branch_covered_or_uncovered() {
        let script = load(LOOP);
        let marks = CoverageMarks {
            actions: ["b", "inc", "check"].map(String::from).into_iter().collect(),
            // The trace spelling `Error` still finds the `OnError` edge.
            edges: [triple("b", "Default", "inc"), triple("check", "Error", "done")].into_iter().collect(),
        };
        let dot = render_coverage(&script, GraphFormat::Dot, &marks);
        let class_of = |class: &str| -> BTreeSet<String> {
            dot.lines()
                .filter(|l| l.contains(&format!("class=\"{class}\"")))
                .map(|l| l.trim().split(" [").next().unwrap_or("").to_string())
                .collect()
        };
        let covered: BTreeSet<String> =
            ["\"b\"", "\"inc\"", "\"check\"", "\"b\" -> \"inc\"", "\"check\" -> \"done\""].map(String::from).into();
        assert_eq!(class_of("covered"), covered, "{dot}");
        // `check -> done` is drawn twice: False is uncovered, OnError covered.
        let uncovered: BTreeSet<String> =
            ["\"done\"", "\"inc\" -> \"check\"", "\"check\" -> \"inc\"", "\"check\" -> \"done\""]
                .map(String::from)
                .into();
        assert_eq!(class_of("uncovered"), uncovered, "{dot}");
        assert!(
            dot.contains(r##""check" -> "done" [label="False", color="#e03131", style=dashed, class="uncovered"]"##),
            "{dot}"
        );
        assert!(!dot.contains("executed") && !dot.contains("xlabel"), "{dot}");
        graphviz_svg(&dot).unwrap_or_else(|e| panic!("{e}"));

        let mermaid = render_coverage(&script, GraphFormat::Mermaid, &marks);
        assert!(mermaid.contains("    class n0,n1,n2 covered;\n    class n3 uncovered;\n"), "{mermaid}");
        // Edges in file order: b->inc, inc->check, check True/False/OnError.
        for (i, covered) in [true, false, false, false, true].into_iter().enumerate() {
            let style = if covered { "stroke:#2f9e44,stroke-width:3px" } else { "stroke:#e03131,stroke-dasharray:5 5" };
            assert!(mermaid.contains(&format!("    linkStyle {i} {style};\n")), "{i}: {mermaid}");
        }
    }

    #[test]
    fn graph_mermaid_marks_exactly_the_executed_nodes_and_links() {
        let script = load(LOOP);
        let h = highlight_from_trace(TRACE, "loop").unwrap_or_else(|e| panic!("{e}"));
        let mm = render(&script, GraphFormat::Mermaid, Some(&h));
        assert!(mm.starts_with("flowchart TD\n"), "{mm}");
        assert!(mm.contains("    classDef executed fill:#ffe08a,stroke:#d9480f,stroke-width:2px;\n"), "{mm}");
        assert!(mm.contains("    class n0,n1,n2,n3 executed;\n"), "{mm}");
        // Link indexes of the taken branches, from the emitted edge lines.
        let ids = ["b", "inc", "check", "done"];
        let links: Vec<(String, String, String)> = mm
            .lines()
            .filter(|l| l.contains("-->"))
            .map(|l| {
                let parts: Vec<&str> = l.split_whitespace().collect();
                let node = |p: &str| ids[p.trim_start_matches('n').parse::<usize>().unwrap_or(99)].to_string();
                triple(&node(parts[0]), parts[1].split('"').nth(1).unwrap_or(""), &node(parts[2]))
            })
            .collect();
        assert_eq!(links.len(), 5, "{mm}");
        let want: BTreeSet<usize> = (0..links.len()).filter(|&i| h.edges.contains(&links[i])).collect();
        let styled: BTreeSet<usize> = mm
            .lines()
            .filter_map(|l| l.strip_prefix("    linkStyle "))
            .map(|l| {
                assert!(l.ends_with(" stroke:#d9480f,stroke-width:3px;"), "{l}");
                l.split(' ').next().and_then(|i| i.parse().ok()).unwrap_or(usize::MAX)
            })
            .collect();
        assert_eq!(want.len(), 4);
        assert_eq!(styled, want, "{mm}");

        let plain = render(&script, GraphFormat::Mermaid, None);
        assert!(!plain.contains("executed") && !plain.contains("linkStyle"), "{plain}");
    }

    #[test]
    fn graph_xlabel_shows_at_most_five_visits() {
        let script = load(LOOP);
        let mut h = Highlight::default();
        for _ in 0..7 {
            h.actions.push("inc".into());
            h.actions.push("check".into());
        }
        let dot = render(&script, GraphFormat::Dot, Some(&h));
        assert!(dot.contains("xlabel=\"1,3,5,7,9,…\""), "{dot}");
        assert!(dot.contains("xlabel=\"2,4,6,8,10,…\""), "{dot}");
        assert_eq!(visit_list(&[1, 2, 3, 4, 5]), "1,2,3,4,5");
        // No edges were given, so none is marked.
        assert_eq!(dot_executed(&dot).1, BTreeSet::new());
    }

    #[test]
    fn graph_branch_names_spelled_differently_still_match() {
        let script = load(DANGLING);
        let h = Highlight {
            actions: vec!["i".into()],
            // The script says OnError; a trace may say error; two branches go to nowhere.
            edges: vec![triple("i", "error", "nowhere"), triple("i", "Yes", "e")],
        };
        let (_, edges) = dot_executed(&render(&script, GraphFormat::Dot, Some(&h)));
        assert_eq!(edges, BTreeSet::from([triple("i", "OnError", "nowhere"), triple("i", "True", "e")]));
        // Ambiguous and unknown edges mark nothing.
        let h =
            Highlight { actions: vec![], edges: vec![triple("i", "Maybe", "nowhere"), triple("zz", "Default", "e")] };
        assert_eq!(dot_executed(&render(&script, GraphFormat::Dot, Some(&h))).1, BTreeSet::new());
    }

    #[test]
    fn graph_trace_errors_name_the_problem() {
        let bad = "{\"event\":\"run\",\"run\":\"r1\"}\n\n{\"event\": oops}\n";
        match highlight_from_trace(bad, "loop") {
            Err(GraphError::TraceJson { line: 3, column: 11, reason }) => assert!(reason.contains("expected value")),
            other => panic!("{other:?}"),
        }
        let msg = highlight_from_trace(bad, "loop").unwrap_err().to_string();
        assert!(msg.contains("line 3") && msg.contains("column 11"), "{msg}");

        let no_run =
            "{\"event\":\"step\",\"run\":\"r1\",\"script\":\"loop\",\"id\":\"b\",\"branch\":\"\",\"next\":null}\n";
        assert_eq!(highlight_from_trace(no_run, "loop"), Err(GraphError::NoRun));
        assert_eq!(highlight_from_trace("", "loop"), Err(GraphError::NoRun));

        let err = highlight_from_trace(TRACE, "main").unwrap_err();
        assert_eq!(
            err,
            GraphError::NoSteps {
                script: "main".into(),
                run: "r1".into(),
                found: vec!["loop".into(), "helper".into()]
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("'main'") && msg.contains("r1") && msg.contains("loop, helper"), "{msg}");
        let empty = highlight_from_trace("{\"event\":\"run\",\"run\":\"r9\"}\n", "main").unwrap_err().to_string();
        assert!(empty.contains("no steps at all"), "{empty}");

        assert!(matches!(highlight_from_trace("[1]\n", "loop"), Err(GraphError::TraceEvent { line: 1, .. })));
        let no_id = "{\"event\":\"run\",\"run\":1}\n{\"event\":\"step\",\"run\":1,\"script\":\"loop\"}\n";
        assert!(matches!(highlight_from_trace(no_id, "loop"), Err(GraphError::TraceEvent { line: 2, .. })));
    }

    #[test]
    fn graph_output_is_deterministic_and_ends_with_a_newline() {
        let script = load(NASTY);
        let h = Highlight { actions: vec!["b".into(), "s1".into()], edges: vec![triple("b", "Default", "s1")] };
        for format in GraphFormat::ALL {
            for highlight in [None, Some(&h)] {
                let a = render(&script, format, highlight);
                assert_eq!(a, render(&script.clone(), format, highlight));
                assert!(a.ends_with('\n') && !a.ends_with("\n\n"), "{a}");
            }
        }
        let empty = Script { name: "empty".into(), ..Script::default() };
        assert_eq!(render(&empty, GraphFormat::Mermaid, None), "flowchart TD\n    %% script: empty\n");
        graphviz_svg(&render(&empty, GraphFormat::Dot, None)).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Run `script` (with sub scripts `subs` in its library) to completion
    /// on the engine, traced; the trace's text.
    fn traced_run(script: &Script, subs: &[&str]) -> String {
        let (sink, buf) = crate::TraceSink::memory();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async {
            let runtime = crate::Runtime::builder().db("sqlite::memory:").build();
            for sub in subs {
                runtime.load_script(load(sub)).unwrap_or_else(|e| panic!("{e:?}"));
            }
            let program = runtime.load_script(script.clone()).unwrap_or_else(|e| panic!("{e:?}"));
            let report = runtime.run(&program, crate::RunOptions::new().trace(sink)).await;
            let report = report.unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(report.status, crate::RunStatus::Completed, "{report:?}");
        });
        buf.contents()
    }

    #[test]
    fn graph_engine_traces_highlight_what_ran() {
        let script = load(
            r#"{
          "name": "counter",
          "actions": [
            {"id": "b", "action": "BEGIN", "next": "zero"},
            {"id": "zero", "action": "ASSIGN", "Variable": "n", "Value": "0", "Type": "Numeric", "next": "inc"},
            {"id": "inc", "action": "ASSIGN", "Variable": "n", "Value": "n + 1", "Type": "Numeric", "next": "check"},
            {"id": "check", "action": "IF", "Expression": "n < 2",
             "branches": {"True": "inc", "False": "done", "OnError": "done"}},
            {"id": "done", "action": "END"}
          ]
        }"#,
        );
        let trace = traced_run(&script, &[]);
        let h = highlight_from_trace(&trace, "counter").unwrap_or_else(|e| panic!("{e}\n{trace}"));
        assert_eq!(h.actions, ["b", "zero", "inc", "check", "inc", "check", "done"]);
        let edges = dot_marks_exactly(&script, &h, 5);
        assert_eq!(edges.len(), 5);
    }

    /// Render `script` as DOT with `h`: `nodes` nodes and exactly the
    /// highlight's edges are marked executed; the marked edges.
    fn dot_marks_exactly(script: &Script, h: &Highlight, nodes: usize) -> BTreeSet<(String, String, String)> {
        let dot = render(script, GraphFormat::Dot, Some(h));
        let (marked_nodes, edges) = dot_executed(&dot);
        assert_eq!(marked_nodes.len(), nodes, "{dot}");
        assert_eq!(edges, h.edges.iter().cloned().collect::<BTreeSet<_>>(), "{dot}");
        edges
    }

    #[test]
    fn graph_engine_traces_highlight_where_a_runsub_went_after_its_sub_script() {
        let parent = load(
            r#"{
          "name": "parent",
          "actions": [
            {"id": "b", "action": "BEGIN", "next": "ok"},
            {"id": "ok", "action": "RUNSUB", "ScriptName": "fine", "branches": {"Default": "bad", "OnError": "done"}},
            {"id": "bad", "action": "RUNSUB", "ScriptName": "broken", "Parameters": ["no date"],
             "branches": {"Default": "done", "OnError": "failed"}},
            {"id": "failed", "action": "ASSIGN", "Variable": "why", "Value": "{_ERR}", "next": "done"},
            {"id": "done", "action": "END"}
          ]
        }"#,
        );
        let fine = r#"{"name": "fine", "actions": [{"id": "s", "action": "BEGIN", "next": "r"},
            {"id": "r", "action": "RETURN", "ReturnValue": "1"}]}"#;
        // Its ASSIGN fails with no branch wired: the sub script fails.
        let broken = r#"{"name": "broken", "actions": [{"id": "s", "action": "BEGIN", "next": "n"},
            {"id": "n", "action": "ASSIGN", "Variable": "d", "Value": "{p1}", "Type": "DateTime"}]}"#;
        let trace = traced_run(&parent, &[fine, broken]);
        let h = highlight_from_trace(&trace, "parent").unwrap_or_else(|e| panic!("{e}\n{trace}"));
        assert_eq!(h.actions, ["b", "ok", "bad", "failed", "done"], "{trace}");
        // Each RUNSUB's edge comes from its `resume` event: Default after
        // a sub script that returned, OnError after one that failed.
        assert_eq!(h.edges, chain("b Default ok Default bad OnError failed Default done"));
        dot_marks_exactly(&parent, &h, 5);
    }

    #[test]
    fn graph_every_repo_script_renders_and_graphviz_accepts_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        repo_files(&root.join("scripts"), &mut files);
        repo_files(&root.join("tests").join("fixtures"), &mut files);
        let mut rendered = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else { continue };
            let Ok(script) = load_text(&text, Some(path)) else { continue };
            // Everything executed, to exercise the highlight attributes too.
            let all = Highlight {
                actions: script.actions.iter().map(|a| a.id.clone()).collect(),
                edges: script
                    .actions
                    .iter()
                    .flat_map(|a| a.branches.iter().map(|b| (a.id.clone(), b.name.clone(), b.target.clone())))
                    .collect(),
            };
            for highlight in [None, Some(&all)] {
                let dot = render(&script, GraphFormat::Dot, highlight);
                if let Err(e) = graphviz_svg(&dot) {
                    panic!("{}: {e}", path.display());
                }
                let mm = render(&script, GraphFormat::Mermaid, highlight);
                let branches: usize = script.actions.iter().map(|a| a.branches.len()).sum();
                assert!(mm.starts_with("flowchart TD\n"), "{}", path.display());
                assert_eq!(mm.lines().filter(|l| l.contains(" --> ") || l.contains(" -->|")).count(), branches);
                if highlight.is_some() {
                    assert_eq!(mm.matches("    linkStyle ").count(), branches, "{}\n{mm}", path.display());
                }
            }
            rendered += 1;
        }
        assert!(rendered >= 10, "only {rendered} scripts rendered from {} files", files.len());
    }
}
