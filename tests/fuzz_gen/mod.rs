//! Input generators and targets shared by the fuzz tests (`tests/fuzz.rs`,
//! a fixed, moderate number of cases in every `cargo test`) and the long
//! run (`benches/fuzz.rs`, `PROSPERO_FUZZ_CASES` cases per target).
//!
//! Inputs are the real files (`tests/fixtures/`, `scripts/`,
//! `scripts/data/leads.csv`) put through a few mutations each — byte flips,
//! truncations, deleted and duplicated spans, inserted odd pieces (huge
//! numbers, escapes, unusual Unicode, XML entities), a BOM, nested brackets —
//! and, for snippets, random bytes and token soup in statement frames.
//! A target returns normally whatever the input; a panic is the bug.
//!
//! Nesting goes to [`MAX_NEST`] levels, far past every nesting limit
//! (JSON 128, XML 64, expressions and substitutions 256): each parser must
//! refuse it with an error, never recurse the stack over.

#![allow(dead_code)] // the test and the bench use different parts

use proptest::prelude::*;
use proptest::sample::Index;
use prospero::Value;
use prospero::script::{self, Pos};
use prospero::snippet::VarSlot;
use prospero::snippet::{CompiledSnippet, EvalEnv, Limits, SnippetVars, Template, compile_expression};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The deepest bracket nesting generated (see the module notes).
pub const MAX_NEST: usize = 20_000;

/// The real files mutations start from.
pub struct Corpus {
    /// Native JSON scripts (and malformed JSON files).
    pub native: Vec<Vec<u8>>,
    /// Web Studio JSON scripts.
    pub studio_json: Vec<Vec<u8>>,
    /// Desktop Studio XML scripts (and malformed XML files).
    pub studio_xml: Vec<Vec<u8>>,
    /// Lead CSV files: the head of `scripts/data/leads.csv` and small
    /// hand-made ones with quoting.
    pub csv: Vec<Vec<u8>>,
    /// Snippet and expression texts taken from the scripts' properties.
    pub snippets: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = root().join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x != "md" && x != "toml"))
        .collect();
    out.sort();
    out
}

/// Every string value in a JSON tree that looks like code (has an operator,
/// a call or a substitution), for the snippet seeds.
fn code_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if s.len() > 2 && s.contains(['(', '{', '=', '<', '>', '+', '"']) => {
            out.push(s.clone())
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| code_strings(x, out)),
        serde_json::Value::Object(m) => m.values().for_each(|x| code_strings(x, out)),
        _ => {}
    }
}

/// The corpus, read once.
pub fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut c = Corpus { native: vec![], studio_json: vec![], studio_xml: vec![], csv: vec![], snippets: vec![] };
        let mut paths = Vec::new();
        for dir in
            ["tests/fixtures", "tests/fixtures/runs", "tests/fixtures/check", "tests/fixtures/malformed", "scripts"]
        {
            paths.extend(files(dir));
        }
        paths.extend(files("scripts/studio"));
        for p in paths {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                code_strings(&v, &mut c.snippets);
            }
            if name.ends_with(".xml") {
                c.studio_xml.push(bytes);
            } else if name.contains("studio") {
                c.studio_json.push(bytes);
            } else if name.ends_with(".json") || name.ends_with(".bin") || name.ends_with(".txt") {
                c.native.push(bytes);
            }
        }
        // The XML fixtures hold snippets as element text.
        for x in &c.studio_xml {
            let text = String::from_utf8_lossy(x);
            for piece in text.split(['<', '>']).filter(|s| s.contains(['(', '{', '='])) {
                c.snippets.push(piece.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"));
            }
        }
        let leads = std::fs::read(root().join("scripts/data/leads.csv")).expect("scripts/data/leads.csv");
        // The header and the first 40 records: big enough for every column
        // kind, small enough for thousands of cases.
        let head: Vec<u8> = leads.split_inclusive(|b| *b == b'\n').take(41).flatten().copied().collect();
        c.csv.push(head);
        c.csv.push(b"AccountNo,Name,Phone\r\n1,\"Ada \"\"A\"\" L\",555-0100\r\n2,\"multi\nline\",\r\n".to_vec());
        c.csv.push(b"\xEF\xBB\xBFa;b\n\"x,y\",2\n".to_vec());
        assert!(!c.native.is_empty() && !c.studio_json.is_empty() && !c.studio_xml.is_empty(), "corpus found");
        assert!(!c.snippets.is_empty(), "snippet seeds found");
        c
    })
}

/// Odd pieces inserted into inputs.
pub const PIECES: &[&str] = &[
    "\\u0000",
    "\\ud800",
    "\\udfff\\ud800",
    "\\uZZZZ",
    "\\",
    "\\x41",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "\u{fffd}",
    "\u{10ffff}",
    "\u{1d54f}",
    "e\u{301}",
    "\u{85}",
    "\u{2028}",
    "\r\n",
    "\r",
    "\t",
    "1e999",
    "-1e-999",
    "1e308",
    "123456789012345678901234567890123456789",
    "18446744073709551616",
    "-9223372036854775809",
    "0.000000000000000000000000000001",
    "NaN",
    "-Infinity",
    "0x7fffffff",
    "-0",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ":",
    ";",
    "null",
    "true",
    "\"\"",
    "{}",
    "[]",
    "<",
    ">",
    "</",
    "/>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&#99999999999;",
    "&nope;",
    "<?xml version=\"1.0\"?>",
    "<!DOCTYPE x [<!ENTITY a \"b\">]>",
    "\"actions\"",
    "\"id\": \"x\"",
    "\"next\"",
    "\"branches\": {}",
    "\"action\": \"RUNSUB\"",
    "{x}",
    "{{",
    "}}",
    "$\"",
    "#\"2026-13-45\"",
    "\"a\" == \"b\"",
    "1/0",
    ",,,",
];

/// One change to an input: byte-level (breaks syntax, reaches the
/// parsers' error paths) or structural (keeps JSON or XML well-formed, so
/// odd values reach the loaders' shape checks, the checker and the snippet
/// compiler).
#[derive(Clone, Debug)]
pub enum Mutation {
    /// XOR one byte.
    Flip(Index, u8),
    /// Cut the input here.
    Truncate(Index),
    /// Remove a span.
    Delete(Index, usize),
    /// Copy a span to another place.
    Duplicate(Index, usize, Index),
    /// Insert one of [`PIECES`].
    Insert(Index, Index),
    /// Insert `depth` levels of one nesting shape (balanced or not).
    Nest(Index, u8, usize),
    /// Put a byte-order mark in front.
    Bom,
    /// Remove one line.
    DeleteLine(Index),
    /// Copy one line after another.
    DuplicateLine(Index, Index),
    /// JSON: replace one value (any depth) with a filler.
    JsonSet(Index, Filler),
    /// JSON: remove one member or element.
    JsonRemove(Index),
    /// JSON: copy one member (under a new name) or element.
    JsonCopy(Index),
    /// XML: replace the text of one element or attribute with a filler.
    XmlText(Index, Filler),
}

/// A replacement value.
#[derive(Clone, Debug)]
pub enum Filler {
    /// One of [`PIECES`].
    Piece(Index),
    /// A snippet from the corpus.
    Snippet(Index),
    /// Snippet tokens joined by spaces.
    Soup(Vec<Index>),
    /// Raw JSON text from [`RAW_JSON`] (in XML: as text).
    Raw(Index),
    /// `depth` levels of a nesting shape.
    Nest(u8, usize),
    /// A long run of one character.
    Long(usize),
}

/// Raw JSON values a `serde_json::Value` cannot hold or that change a
/// member's type.
pub const RAW_JSON: &[&str] = &[
    "1e999",
    "-1e999",
    "1e-999",
    "-0",
    "123456789012345678901234567890",
    "18446744073709551616",
    "-9223372036854775809",
    "0.1e1",
    "null",
    "true",
    "[]",
    "{}",
    "[null]",
    "{\"\":\"\"}",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udc00\\ud800x\"",
    "\"\u{feff}\"",
];

fn filler() -> impl Strategy<Value = Filler> {
    prop_oneof![
        3 => any::<Index>().prop_map(Filler::Piece),
        3 => any::<Index>().prop_map(Filler::Snippet),
        2 => proptest::collection::vec(any::<Index>(), 0..20).prop_map(Filler::Soup),
        3 => any::<Index>().prop_map(Filler::Raw),
        1 => (any::<u8>(), 1usize..=MAX_NEST).prop_map(|(k, d)| Filler::Nest(k, d)),
        1 => (0usize..5000).prop_map(Filler::Long),
    ]
}

impl Filler {
    /// As text (for a JSON string or XML text).
    fn text(&self) -> String {
        match self {
            Filler::Piece(i) => PIECES[i.index(PIECES.len())].to_string(),
            Filler::Snippet(i) => {
                let s = &corpus().snippets;
                s[i.index(s.len())].clone()
            }
            Filler::Soup(picks) => picks.iter().map(|i| TOKENS[i.index(TOKENS.len())]).collect::<Vec<_>>().join(" "),
            Filler::Raw(i) => RAW_JSON[i.index(RAW_JSON.len())].to_string(),
            Filler::Nest(k, d) => String::from_utf8_lossy(&nesting(*k, *d)).into_owned(),
            Filler::Long(n) => "x".repeat(*n),
        }
    }

    /// As a JSON value; raw text is put in after serialising, in place of
    /// a marker string.
    fn json(&self, raws: &mut Vec<String>) -> serde_json::Value {
        match self {
            Filler::Raw(_) | Filler::Nest(..) => {
                let raw = self.text();
                let raw =
                    if serde_json::from_str::<serde::de::IgnoredAny>(&raw).is_ok() || matches!(self, Filler::Raw(_)) {
                        raw
                    } else {
                        serde_json::Value::String(raw).to_string()
                    };
                raws.push(raw);
                serde_json::Value::String(format!("\u{e000}{}\u{e000}", raws.len() - 1))
            }
            _ => serde_json::Value::String(self.text()),
        }
    }
}

/// A mutation.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        2 => (any::<Index>(), 1usize..256, any::<Index>()).prop_map(|(a, n, b)| Mutation::Duplicate(a, n, b)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(a, p)| Mutation::Insert(a, p)),
        1 => (any::<Index>(), any::<u8>(), 1usize..=MAX_NEST).prop_map(|(a, k, d)| Mutation::Nest(a, k, d)),
        1 => Just(Mutation::Bom),
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::DuplicateLine(a, b)),
        8 => (any::<Index>(), filler()).prop_map(|(a, f)| Mutation::JsonSet(a, f)),
        3 => any::<Index>().prop_map(Mutation::JsonRemove),
        3 => any::<Index>().prop_map(Mutation::JsonCopy),
        8 => (any::<Index>(), filler()).prop_map(|(a, f)| Mutation::XmlText(a, f)),
    ]
}

/// `depth` levels of nesting shape `kind`.
fn nesting(kind: u8, depth: usize) -> Vec<u8> {
    let (open, close): (&str, &str) = match kind % 9 {
        0 => ("[", "]"),
        1 => ("{\"a\":", "}"),
        2 => ("<a>", "</a>"),
        3 => ("(", ")"),
        4 => ("{", "}"),
        5 => ("[", ""),
        6 => ("(", ""),
        7 => ("{", ""),
        _ => ("IF x { ", " }"),
    };
    let depth = depth.min(MAX_NEST);
    let mut out = open.repeat(depth).into_bytes();
    out.extend_from_slice(b"1");
    out.extend_from_slice(close.repeat(depth).as_bytes());
    out
}

/// JSON pointers of every value under `v`, in document order.
fn pointers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(x, p, out);
            }
        }
        _ => {}
    }
}

/// Apply a JSON edit when `bytes` is JSON; otherwise leave them.
fn json_edit(bytes: &mut Vec<u8>, m: &Mutation) {
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(bytes) else { return };
    let mut all = Vec::new();
    pointers(&json, String::new(), &mut all);
    let i = match m {
        Mutation::JsonSet(i, _) | Mutation::JsonRemove(i) | Mutation::JsonCopy(i) => i,
        _ => return,
    };
    if all.is_empty() {
        return;
    }
    let ptr = &all[i.index(all.len())];
    let (parent, last) = ptr.rsplit_once('/').expect("a pointer has a slash");
    let last = last.replace("~1", "/").replace("~0", "~");
    let mut raws = Vec::new();
    match m {
        Mutation::JsonSet(_, f) => {
            if let Some(v) = json.pointer_mut(ptr) {
                *v = f.json(&mut raws);
            }
        }
        Mutation::JsonRemove(_) | Mutation::JsonCopy(_) => {
            let copy = matches!(m, Mutation::JsonCopy(_));
            match json.pointer_mut(parent) {
                Some(serde_json::Value::Array(a)) => {
                    let k: usize = last.parse().unwrap_or(0);
                    if copy {
                        let x = a[k].clone();
                        a.insert(k, x);
                    } else {
                        a.remove(k);
                    }
                }
                Some(serde_json::Value::Object(o)) => {
                    if copy {
                        let x = o[&last].clone();
                        o.insert(format!("{last}2"), x);
                    } else {
                        o.shift_remove(&last);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
    let mut text = serde_json::to_string_pretty(&json).expect("a JSON value serialises");
    for (k, raw) in raws.iter().enumerate() {
        text = text.replace(&format!("\"\u{e000}{k}\u{e000}\""), raw);
    }
    *bytes = text.into_bytes();
}

/// Text spans of an XML document: element text between `>` and `<`, and
/// attribute values.
fn xml_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'>' => {
                let end = bytes[i + 1..].iter().position(|b| *b == b'<').map_or(bytes.len(), |p| i + 1 + p);
                if bytes[i + 1..end].iter().any(|b| !b.is_ascii_whitespace()) {
                    spans.push((i + 1, end));
                }
                i = end;
            }
            b'=' if bytes.get(i + 1) == Some(&b'"') => {
                let start = i + 2;
                let end = bytes[start..].iter().position(|b| *b == b'"').map_or(bytes.len(), |p| start + p);
                spans.push((start, end));
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    spans
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A line of `bytes` (with its newline) as a range.
fn line_range(bytes: &[u8], i: &Index) -> std::ops::Range<usize> {
    let starts: Vec<usize> =
        std::iter::once(0).chain(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(k, _)| k + 1)).collect();
    let k = i.index(starts.len());
    let start = starts[k].min(bytes.len());
    let end = starts.get(k + 1).copied().unwrap_or(bytes.len());
    start..end
}

/// Apply `m` to `bytes`.
pub fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len + 1) };
    match m {
        Mutation::Flip(i, x) => {
            if !bytes.is_empty() {
                let k = i.index(bytes.len());
                bytes[k] ^= x;
            }
        }
        Mutation::Truncate(i) => {
            let k = at(i, bytes.len());
            bytes.truncate(k);
        }
        Mutation::Delete(i, n) => {
            let k = at(i, bytes.len());
            let end = (k + n).min(bytes.len());
            bytes.drain(k..end);
        }
        Mutation::Duplicate(a, n, b) => {
            let k = at(a, bytes.len());
            let end = (k + n).min(bytes.len());
            let span = bytes[k..end].to_vec();
            let to = at(b, bytes.len());
            bytes.splice(to..to, span);
        }
        Mutation::Insert(a, p) => {
            let k = at(a, bytes.len());
            let piece = PIECES[p.index(PIECES.len())].as_bytes();
            bytes.splice(k..k, piece.iter().copied());
        }
        Mutation::Nest(a, kind, depth) => {
            let k = at(a, bytes.len());
            bytes.splice(k..k, nesting(*kind, *depth));
        }
        Mutation::Bom => {
            bytes.splice(0..0, "\u{feff}".bytes());
        }
        Mutation::DeleteLine(i) => {
            let r = line_range(bytes, i);
            bytes.drain(r);
        }
        Mutation::DuplicateLine(i, to) => {
            let r = line_range(bytes, i);
            let line = bytes[r].to_vec();
            let to = line_range(bytes, to).start;
            bytes.splice(to..to, line);
        }
        Mutation::JsonSet(..) | Mutation::JsonRemove(_) | Mutation::JsonCopy(_) => json_edit(bytes, m),
        Mutation::XmlText(i, f) => {
            let spans = xml_spans(bytes);
            if !spans.is_empty() {
                let (s, e) = spans[i.index(spans.len())];
                bytes.splice(s..e, xml_escape(&f.text()).into_bytes());
            }
        }
    }
}

/// A seed picked from a list and mutated.
#[derive(Clone, Debug)]
pub struct Mutated {
    /// Which seed.
    pub seed: Index,
    /// What was done to it, in order.
    pub mutations: Vec<Mutation>,
}

impl Mutated {
    /// The resulting bytes.
    pub fn bytes(&self, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut b = seeds[self.seed.index(seeds.len())].clone();
        for m in &self.mutations {
            apply(&mut b, m);
        }
        b
    }
}

/// A seed and one to four mutations.
pub fn mutated() -> impl Strategy<Value = Mutated> {
    (any::<Index>(), proptest::collection::vec(mutation(), 1..5))
        .prop_map(|(seed, mutations)| Mutated { seed, mutations })
}

// ---- targets ----

/// A runtime for checking and compiling loaded scripts; it has no store
/// and no script folders, so nothing outside the input is read.
fn runtime() -> &'static prospero::Runtime {
    static RT: OnceLock<prospero::Runtime> = OnceLock::new();
    RT.get_or_init(|| prospero::Runtime::builder().without_store("fuzzing").build())
}

/// Every script entry point on `bytes`: the byte check, format detection,
/// `load_text`, each per-format loader whatever the format, then for a
/// loaded script the checker and snippet compiler (`load_script`) and both
/// exporters, whose output must load again. `true` when `load_text`
/// accepted the input.
pub fn script_target(bytes: &[u8]) -> bool {
    let text = match script::bytes_to_text("fuzz", bytes) {
        Ok(t) => t,
        Err(e) => {
            assert!(!e.message.is_empty(), "a refusal says why");
            String::from_utf8_lossy(bytes).into_owned()
        }
    };
    let _ = script::detect(&text);
    let _ = script::studio_xml::load(&text, "fuzz.xml");
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text.trim_start_matches('\u{feff}')) {
        let _ = script::native::load_value(&json, &text, "fuzz.json", None);
        let _ = script::studio_json::load_value(&json, &text, "fuzz.studio.json");
    }
    match script::load_text(&text, None) {
        Ok(s) => {
            let native = script::native::export(&s);
            let studio = script::studio_json::export_text(&s);
            let _ = runtime().load_script(s);
            for (what, exported) in [("native", native), ("studio-json", studio)] {
                if let Err(e) = script::load_text(&exported, None) {
                    panic!("a loaded script exported as {what} does not load again: {e}\n{exported}");
                }
            }
            true
        }
        Err(e) => {
            assert!(!e.message.is_empty(), "a refusal says why");
            false
        }
    }
}

/// The lead CSV reader with no key, a known key (any case and spacing) and
/// an unknown key. `true` when the file was read without a key.
pub fn csv_target(bytes: &[u8]) -> bool {
    let mut read = false;
    for key in [
        None,
        Some("Account Number"),
        Some(" account number "),
        Some("Home Phone"),
        Some("AccountNo"),
        Some("no such column"),
    ] {
        match prospero::outbound::leads::read_csv_bytes("fuzz.csv", bytes, key) {
            Ok(leads) => {
                for l in &leads {
                    assert!(!l.key.is_empty(), "every record has a key");
                }
                read |= key.is_none();
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    read
}

struct Vars(Vec<(String, Value)>);
impl SnippetVars for Vars {
    fn get(&self, slot: &VarSlot) -> Option<&Value> {
        self.0.iter().find(|(k, _)| *k == slot.key).map(|(_, v)| v)
    }
    fn set(&mut self, slot: &VarSlot, value: Value) {
        self.0.push((slot.key.clone(), value));
    }
    fn all(&self) -> Vec<(String, Value)> {
        self.0.clone()
    }
    fn set_named(&mut self, name: &str, value: Value) {
        self.0.push((name.to_string(), value));
    }
}

struct NoVars;
impl prospero::snippet::VarSource for NoVars {
    fn get(&self, _: &VarSlot) -> Option<&Value> {
        None
    }
}

/// Small budgets so that random loops end quickly.
fn limits() -> Limits {
    Limits {
        operations: 5_000,
        string_size: 4096,
        array_size: 1000,
        object_size: 1000,
        call_depth: 16,
        ..Limits::default()
    }
}

/// The snippet compiler (statements, expressions, `{}` templates) and, for
/// what compiles, the evaluator under small budgets. `true` when it
/// compiled as statements.
pub fn snippet_target(src: &str) -> bool {
    let compiled = CompiledSnippet::compile(src, Pos::new(1, 1), &[]);
    let ok = compiled.is_ok();
    if let Ok(c) = compiled {
        let mut vars = Vars(vec![("a".into(), Value::text("a|b")), ("n".into(), Value::Number(3.0))]);
        let run = c.run(&mut vars, &mut EvalEnv::default(), &limits());
        if let Some(e) = run.error {
            assert!(!e.message.is_empty(), "a failed run says why");
        }
    }
    if let Ok(e) = compile_expression(src, Pos::new(1, 1)) {
        let _ = e.eval(&NoVars, &mut EvalEnv::default(), &limits());
    }
    let _ = Template::compile(src, Pos::new(1, 1));
    ok
}

/// Snippet words and symbols for token soup.
pub const TOKENS: &[&str] = &[
    "ASSIGN",
    "DYNAMIC",
    "IF",
    "ELSE",
    "SWITCH",
    "CASE",
    "DEFAULT",
    "FOR",
    "TO",
    "STEP",
    "FOREACH",
    "IN",
    "WHILE",
    "BREAK",
    "FUNCTION",
    "RETURN",
    "global",
    ":",
    "x",
    "y",
    "a",
    "n",
    "o",
    "len",
    "mid",
    "asjson",
    "parsejson",
    "dateadd",
    "random",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "&",
    "|",
    "&&",
    "||",
    "!",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ";",
    "\n",
    "0",
    "2.5",
    "1e3",
    "1e999",
    "99999999999999999999",
    "\"s\"",
    "\"{x}\"",
    "'t'",
    "$\"\\n\"",
    "#\"2026-01-01\"",
    "\"{",
    "}\"",
    "true",
    "$value",
    "//c",
    "+=",
    "\"",
    "#",
    "$",
];

/// A snippet input: a mutated real snippet, random bytes, token soup, or
/// soup inside a statement frame, possibly wrapped in nesting.
#[derive(Clone, Debug)]
pub enum SnippetInput {
    /// A snippet from the corpus, mutated.
    Real(Mutated),
    /// Arbitrary bytes (read lossily as UTF-8).
    Bytes(Vec<u8>),
    /// Tokens joined by spaces, in frame `frame` (0: none).
    Soup(Vec<Index>, u8),
    /// An expression `depth` levels deep in one bracket shape.
    Deep(u8, usize),
}

impl SnippetInput {
    /// The source text.
    pub fn text(&self) -> String {
        match self {
            SnippetInput::Real(m) => {
                let seeds: Vec<Vec<u8>> = corpus().snippets.iter().map(|s| s.clone().into_bytes()).collect();
                String::from_utf8_lossy(&m.bytes(&seeds)).into_owned()
            }
            SnippetInput::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            SnippetInput::Soup(picks, frame) => {
                let middle: Vec<&str> = picks.iter().map(|i| TOKENS[i.index(TOKENS.len())]).collect();
                let middle = middle.join(" ");
                match frame % 5 {
                    0 => middle,
                    1 => format!("x = {middle}"),
                    2 => format!("IF {middle} {{ y = 1 }} ELSE {{ y = 2 }}"),
                    3 => format!("FOR i = 1 TO 3 {{ x = {middle} }}"),
                    _ => format!("o.a[2] = {middle}\nz = asjson(o)"),
                }
            }
            SnippetInput::Deep(kind, depth) => {
                let d = (*depth).min(MAX_NEST);
                match kind % 4 {
                    0 => format!("x = {}1{}", "(".repeat(d), ")".repeat(d)),
                    1 => format!("x = {}1{}", "[".repeat(d), "]".repeat(d)),
                    2 => format!("{}x = 1{}", "IF 1 { ".repeat(d), " }".repeat(d)),
                    _ => format!("x = {}", "-".repeat(d) + "1"),
                }
            }
        }
    }
}

/// A snippet input.
pub fn snippet_input() -> impl Strategy<Value = SnippetInput> {
    prop_oneof![
        4 => mutated().prop_map(SnippetInput::Real),
        2 => proptest::collection::vec(any::<u8>(), 0..160).prop_map(SnippetInput::Bytes),
        4 => (proptest::collection::vec(any::<Index>(), 0..40), any::<u8>()).prop_map(|(p, f)| SnippetInput::Soup(p, f)),
        1 => (any::<u8>(), 1usize..=MAX_NEST).prop_map(|(k, d)| SnippetInput::Deep(k, d)),
    ]
}

/// The fuzz targets, by name, for reports.
pub const TARGETS: &[&str] = &["native", "studio_json", "studio_xml", "snippet", "csv"];

/// The seeds of target `name` (all but `snippet`).
pub fn script_seeds(name: &str) -> &'static [Vec<u8>] {
    let c = corpus();
    match name {
        "native" => &c.native,
        "studio_json" => &c.studio_json,
        "studio_xml" => &c.studio_xml,
        "csv" => &c.csv,
        other => panic!("no seeds for {other}"),
    }
}

/// Save a failing input for a regression test.
pub fn save_failure(dir: &Path, target: &str, n: usize, bytes: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let p = dir.join(format!("{target}-{n}.bin"));
    let _ = std::fs::write(&p, bytes);
    p
}
