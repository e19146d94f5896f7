//! Web Studio JSON (`scriptContent`): load and export.
//!
//! Shape: `header` (script name, media type, ...), and `actions`,
//! `properties` and `branches`, each keyed by action id. Properties are an
//! ordered `{"0": {"name", "value"}, ...}` list; a branch entry has `to`,
//! `label`, `type` (`"default"` for the Default branch) and `index`.
//!
//! Export followed by load gives back the same model. Two things need help
//! for that, because web Studio wants numeric action ids and canvas
//! coordinates on every action:
//! - an action whose id is not a number is given one, and its own id is kept
//!   in an extra `prosperoId` member of the action object;
//! - when the model has no canvas position, the exporter lays the actions
//!   out in a column and marks the header with `"prosperoLayout":
//!   "generated"`, so the loader knows to drop those coordinates again.
//!
//! Canvas fields that carry their default value (`ports: ""`, `elbows: []`,
//! a type's standard `libraryId`, ...) are not stored in the model, so a
//! script loaded from a real Studio file and exported again keeps what was
//! there without the model filling up with boilerplate.

use super::jsonpos::{JsonIndex, Seg};
use super::model::*;
use super::{ActionRef, LoadError, LoadErrorKind};
use serde_json::{Map, Value as J};
use std::collections::{HashMap, HashSet};

/// Per-type library GUIDs reported identical on every tenant.
const LIBRARY_IDS: [(&str, &str); 7] = [
    ("BEGIN", "b2f794c5-0232-40e7-9830-76d573bf57d7"),
    ("MENU", "daee9c00-12ce-4222-a42e-307c37d53b7f"),
    ("PLAY", "b1b9a2dd-65b6-4626-9cf5-9cfa69cf59e2"),
    ("REQAGENT", "689a4a1b-fa0d-47b3-9a02-cbeb4735f08f"),
    ("MUSIC", "dbcc742b-28d8-42d1-9d95-0d9abf20b04b"),
    ("HANGUP", "b64a6796-4f66-4b1b-a9b5-3af926ab4b7c"),
    ("ASSIGN", "9015c095-98d9-441f-bf92-e90f5c5ed8c8"),
];

fn library_id(kind: &str) -> &'static str {
    LIBRARY_IDS.iter().find(|(k, _)| *k == kind).map(|(_, g)| *g).unwrap_or("")
}

/// Header members the model represents itself (or the exporter derives).
const DERIVED_HEADER: [&str; 5] = ["scriptName", "mediaType", "mediaTypeName", "nextActionId", "prosperoLayout"];
/// Action members the model represents itself.
const KNOWN_ACTION: [&str; 7] = ["actionId", "name", "version", "label", "x", "y", "prosperoId"];

fn is_default_action_extra(key: &str, value: &J, kind: &str, layout: Option<(i64, i64)>) -> bool {
    match key {
        "libraryId" => value.as_str().is_some_and(|s| s.is_empty() || s == library_id(kind)) || value.is_null(),
        "dependencyOrder" | "implType" => value.as_str() == Some("0"),
        "xws" => layout.map(|(x, _)| value.as_i64() == Some(x)).unwrap_or(true),
        "yws" => layout.map(|(_, y)| value.as_i64() == Some(y)).unwrap_or(true),
        _ => false,
    }
}

fn is_default_branch_extra(key: &str, value: &J) -> bool {
    match key {
        "ports" | "lineType" => value.as_str() == Some(""),
        "elbows" => value.as_array().is_some_and(|a| a.is_empty()),
        "type" => value.as_str() == Some("case"),
        _ => false,
    }
}

/// Load a web Studio script from its parsed JSON.
pub fn load_value(json: &J, text: &str, file: &str) -> Result<Script, LoadError> {
    load_indexed(json, JsonIndex::build(text, 4), text, file)
}

/// [`load_value`] with `index` (`JsonIndex::build(text, 4)`) built by the
/// caller.
pub fn load_indexed(json: &J, index: JsonIndex, text: &str, file: &str) -> Result<Script, LoadError> {
    let mut doc = Doc { index, lines: LineIndex::new(text), file, prefix: &[] };
    let root = json.as_object().ok_or_else(|| doc.shape(Pos::new(1, 1), "expected a JSON object"))?;
    // Some API responses wrap the content: {"scriptContent": {...}}.
    let root = match root.get("scriptContent").and_then(|c| c.as_object()) {
        Some(inner) => {
            doc.prefix = &["scriptContent"];
            inner
        }
        None => root,
    };
    if let Some((path, k, off)) = doc.index.duplicates.first() {
        let kind =
            if path.len() == doc.prefix.len() + 1 { LoadErrorKind::DuplicateId } else { LoadErrorKind::DuplicateKey };
        return Err(LoadError::new(file, Pos::of_offset(text, *off), kind, format!("duplicate key \"{k}\"")));
    }

    let mut script = Script::default();
    let generated_layout = read_header(&doc, root, &mut script)?;
    let empty = Map::new();
    let section = |name: &str| -> Result<&Map<String, J>, LoadError> {
        match root.get(name) {
            None => Ok(&empty),
            Some(J::Object(m)) => Ok(m),
            Some(_) => Err(doc.shape(doc.at(&[key(name)]), format!("\"{name}\" must be an object keyed by action id"))),
        }
    };
    let actions = section("actions")?;
    let properties = section("properties")?;
    let branches = section("branches")?;
    if actions.is_empty() {
        return Err(doc.shape(Pos::new(1, 1), "the script has no actions"));
    }

    let id_of_key = action_ids(&doc, actions)?;
    for (k, a) in actions {
        let apos = doc.at(&[key("actions"), key(k)]);
        let obj = a.as_object().ok_or_else(|| doc.shape(apos, "action must be an object"))?;
        let id = id_of_key.get(k.as_str()).cloned().unwrap_or_else(|| k.clone());
        let mut action = read_action(&doc, k, apos, obj, id, generated_layout)?;
        if let Some(props) = properties.get(k) {
            read_properties(&doc, k, props, &mut action)?;
        }
        if let Some(brs) = branches.get(k) {
            read_branches(&doc, k, brs, &id_of_key, &mut action)?;
        }
        script.origin.positions.insert(action.id.clone(), apos);
        action.shrink();
        script.actions.push(action);
    }
    for (k, _) in properties.iter().chain(branches.iter()) {
        if !actions.contains_key(k) {
            let section = if properties.contains_key(k) { "properties" } else { "branches" };
            return Err(doc.shape(
                doc.at(&[key(section), key(k)]),
                format!("{section} for action {k}, which is not in \"actions\""),
            ));
        }
    }
    Ok(script)
}

/// The document being loaded: where its values are, and how a problem in
/// it is named.
struct Doc<'a> {
    index: JsonIndex,
    lines: LineIndex<'a>,
    file: &'a str,
    /// The keys wrapping the script (`scriptContent` in API responses).
    prefix: &'static [&'static str],
}

impl Doc<'_> {
    /// The position of the value at `segs` below the script's root.
    fn at(&self, segs: &[Seg]) -> Pos {
        let path: Vec<Seg> = self.prefix.iter().map(|s| key(s)).chain(segs.iter().cloned()).collect();
        self.index.offset(&path).map(|o| self.lines.pos(o)).unwrap_or(Pos::new(1, 1))
    }

    /// A file that parses but is not shaped like a script.
    fn shape(&self, pos: Pos, msg: impl Into<String>) -> LoadError {
        LoadError::new(self.file, pos, LoadErrorKind::Shape, msg)
    }
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

/// The script's name, media type and kept header members; true when the
/// canvas positions were generated by the exporter (and are dropped).
fn read_header(doc: &Doc, root: &Map<String, J>, script: &mut Script) -> Result<bool, LoadError> {
    let header = match root.get("header") {
        None => Map::new(),
        Some(J::Object(h)) => h.clone(),
        Some(_) => return Err(doc.shape(doc.at(&[key("header")]), "\"header\" must be an object")),
    };
    script.name = header.get("scriptName").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let media_pos = doc.at(&[key("header"), key("mediaType")]);
    script.media_type = match (header.get("mediaType"), header.get("mediaTypeName")) {
        (Some(J::Number(n)), _) => n
            .as_i64()
            .and_then(MediaType::from_studio_id)
            .ok_or_else(|| doc.shape(media_pos, format!("unknown mediaType {n}")))?,
        (_, Some(J::String(s))) => {
            MediaType::parse(s).ok_or_else(|| doc.shape(media_pos, format!("unknown mediaTypeName \"{s}\"")))?
        }
        (Some(J::String(s)), _) => {
            MediaType::parse(s).ok_or_else(|| doc.shape(media_pos, format!("unknown mediaType \"{s}\"")))?
        }
        _ => MediaType::Generic,
    };
    let generated_layout = header.get("prosperoLayout").and_then(|v| v.as_str()) == Some("generated");
    script.header = header.into_iter().filter(|(k, _)| !DERIVED_HEADER.contains(&k.as_str())).collect();
    Ok(generated_layout)
}

/// The model id of each action key. Studio keys are numeric ids; the model
/// id is `prosperoId` when present.
fn action_ids<'j>(doc: &Doc, actions: &'j Map<String, J>) -> Result<HashMap<&'j str, String>, LoadError> {
    let mut id_of_key: HashMap<&str, String> = HashMap::with_capacity(actions.len());
    let mut ids: HashSet<String> = HashSet::with_capacity(actions.len());
    for (k, a) in actions {
        let pos = doc.at(&[key("actions"), key(k)]);
        let obj = a.as_object().ok_or_else(|| doc.shape(pos, format!("actions[\"{k}\"] must be an object")))?;
        let id = match obj.get("prosperoId") {
            Some(J::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => k.clone(),
        };
        // A blank id would not survive a native export ("id" must not be
        // blank there).
        if id.trim().is_empty() {
            return Err(doc.shape(pos, format!("action key \"{k}\" is blank")));
        }
        if !ids.insert(id.clone()) {
            let msg = format!("duplicate action id \"{id}\"");
            return Err(LoadError::new(doc.file, pos, LoadErrorKind::DuplicateId, msg));
        }
        id_of_key.insert(k.as_str(), id);
    }
    Ok(id_of_key)
}

/// The action under key `k` (at `apos`), without its properties and
/// branches.
fn read_action(
    doc: &Doc,
    k: &str,
    apos: Pos,
    obj: &Map<String, J>,
    id: String,
    generated_layout: bool,
) -> Result<Action, LoadError> {
    let kind = obj
        .get("name")
        .and_then(|n| n.as_str())
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| doc.shape(apos, format!("action {k} has no \"name\" (its action type)")))?;
    let mut action = Action::new(id, kind.trim());
    action.caption = obj.get("label").and_then(|l| l.as_str()).unwrap_or("").to_string();
    if let Some(v) = obj.get("version") {
        action.version = match v {
            J::Number(n) => n.as_u64().filter(|v| *v >= 1 && *v <= 1000).map(|v| v as u32),
            J::String(s) => s.trim().parse::<u32>().ok().filter(|v| *v >= 1),
            _ => None,
        }
        .ok_or_else(|| {
            doc.shape(doc.at(&[key("actions"), key(k), key("version")]), "\"version\" must be a whole number")
                .with_action(ActionRef::of(&action))
        })?;
    }
    if !generated_layout
        && let (Some(x), Some(y)) = (obj.get("x").and_then(|v| v.as_i64()), obj.get("y").and_then(|v| v.as_i64()))
    {
        action.layout = Some((x, y));
    }
    for (ek, ev) in obj {
        if KNOWN_ACTION.contains(&ek.as_str()) {
            continue;
        }
        if generated_layout && (ek == "xws" || ek == "yws") {
            continue;
        }
        if is_default_action_extra(ek, ev, &action.kind, action.layout) {
            continue;
        }
        action.extra.insert(ek.clone(), ev.clone());
    }
    Ok(action)
}

/// Properties: `{"0": {"name", "value"}, ...}` in index order.
fn read_properties(doc: &Doc, k: &str, props: &J, action: &mut Action) -> Result<(), LoadError> {
    let ppos = doc.at(&[key("properties"), key(k)]);
    let props = props
        .as_object()
        .ok_or_else(|| doc.shape(ppos, "properties must be an object").with_action(ActionRef::of(action)))?;
    // Keys are positions "0", "1", ...; anything else sorts after
    // them, by text (a total order, whatever the file holds).
    let mut ordered: Vec<(Option<u64>, &String, &J)> = Vec::new();
    for (pk, pv) in props {
        let position = pk.parse::<u64>().ok().filter(|_| pk.bytes().all(|b| b.is_ascii_digit()));
        ordered.push((position, pk, pv));
    }
    ordered.sort_by(|a, b| (a.0.is_none(), a.0, a.1).cmp(&(b.0.is_none(), b.0, b.1)));
    for (_, pk, pv) in ordered {
        let pos = doc.at(&[key("properties"), key(k), key(pk)]);
        let entry = pv.as_object().ok_or_else(|| {
            doc.shape(pos, format!("property {pk} must be {{\"name\", \"value\"}}")).with_action(ActionRef::of(action))
        })?;
        let name = entry.get("name").and_then(|n| n.as_str()).ok_or_else(|| {
            doc.shape(pos, format!("property {pk} has no \"name\"")).with_action(ActionRef::of(action))
        })?;
        let value = prop_value(entry.get("value"));
        action.properties.push(Property { name: name.to_string(), value, pos: Some(pos) });
    }
    Ok(())
}

/// A property's `value` in the model: scalars as text, a list as a list.
fn prop_value(value: Option<&J>) -> PropValue {
    match value {
        None | Some(J::Null) => PropValue::Text(String::new()),
        Some(J::String(s)) => PropValue::Text(s.clone()),
        Some(J::Number(n)) => PropValue::Text(n.to_string()),
        Some(J::Bool(b)) => PropValue::Text(if *b { "True".into() } else { "False".into() }),
        Some(J::Array(items)) => PropValue::List(
            items
                .iter()
                .map(|item| match item {
                    J::String(s) => s.clone(),
                    J::Number(n) => n.to_string(),
                    J::Null => String::new(),
                    other => other.to_string(),
                })
                .collect(),
        ),
        Some(other) => PropValue::Text(other.to_string()),
    }
}

/// Branches: entries ordered by `index`; an entry without a target is no
/// branch.
fn read_branches(
    doc: &Doc,
    k: &str,
    brs: &J,
    id_of_key: &HashMap<&str, String>,
    action: &mut Action,
) -> Result<(), LoadError> {
    let bpos = doc.at(&[key("branches"), key(k)]);
    let list =
        brs.as_array().ok_or_else(|| doc.shape(bpos, "branches must be a list").with_action(ActionRef::of(action)))?;
    let mut entries: Vec<(i64, usize, &Map<String, J>)> = Vec::new();
    for (n, b) in list.iter().enumerate() {
        let e = b.as_object().ok_or_else(|| {
            doc.shape(doc.at(&[key("branches"), key(k), Seg::Index(n)]), "branch entry must be an object")
                .with_action(ActionRef::of(action))
        })?;
        entries.push((e.get("index").and_then(|i| i.as_i64()).unwrap_or(n as i64), n, e));
    }
    entries.sort_by_key(|(idx, n, _)| (*idx, *n));
    for (_, n, e) in entries {
        let pos = doc.at(&[key("branches"), key(k), Seg::Index(n)]);
        let target = resolve_target(id_of_key, e.get("to").unwrap_or(&J::Null))
            .ok_or_else(|| doc.shape(pos, "branch \"to\" must be an action id").with_action(ActionRef::of(action)))?;
        let Some(target) = target else { continue };
        let typ = e.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let label = e.get("label").and_then(|l| l.as_str()).unwrap_or("");
        let name = if typ.eq_ignore_ascii_case("default") {
            "Default".to_string()
        } else if label.trim().is_empty() {
            return Err(doc
                .shape(pos, "a branch that is not the default needs a \"label\"")
                .with_action(ActionRef::of(action)));
        } else {
            label.to_string()
        };
        let mut branch = Branch::new(name, target);
        for (ek, ev) in e {
            if matches!(ek.as_str(), "to" | "label" | "index") {
                continue;
            }
            if ek == "type" && typ.eq_ignore_ascii_case("default") {
                continue;
            }
            if is_default_branch_extra(ek, ev) {
                continue;
            }
            branch.extra.insert(ek.clone(), ev.clone());
        }
        action.branches.push(branch);
    }
    Ok(())
}

/// The model id a branch's `to` names: `Some(None)` for no target, `None`
/// when `to` is not an id at all.
fn resolve_target(id_of_key: &HashMap<&str, String>, to: &J) -> Option<Option<String>> {
    let raw = match to {
        J::Number(n) => n.to_string(),
        J::String(s) => s.clone(),
        J::Null => return Some(None),
        _ => return None,
    };
    // A blank target is no target, as an empty one (the native format
    // refuses blank ids, so keeping it would not survive an export).
    if raw.trim().is_empty() || raw == "-1" {
        return Some(None);
    }
    Some(Some(id_of_key.get(raw.as_str()).cloned().unwrap_or(raw)))
}

/// Export a script as web Studio JSON.
pub fn export(script: &Script) -> J {
    // Numeric ids for Studio; model ids that are not numbers move to
    // `prosperoId`.
    let mut used: Vec<i64> = script.actions.iter().filter_map(|a| a.id.parse::<i64>().ok()).collect();
    let mut next_free = used.iter().copied().max().unwrap_or(0) + 1;
    let mut numeric: Vec<(String, i64, bool)> = Vec::new();
    for a in &script.actions {
        match a.id.parse::<i64>() {
            Ok(n) if n.to_string() == a.id && !numeric.iter().any(|(_, m, _)| *m == n) => {
                numeric.push((a.id.clone(), n, false))
            }
            _ => {
                while used.contains(&next_free) {
                    next_free += 1;
                }
                used.push(next_free);
                numeric.push((a.id.clone(), next_free, true));
                next_free += 1;
            }
        }
    }
    let num_of = |id: &str| numeric.iter().find(|(i, _, _)| i == id).map(|(_, n, _)| *n);
    let generate_layout = script.actions.iter().any(|a| a.layout.is_none());

    let mut header = Map::new();
    header.insert("scriptName".into(), J::String(script.name.clone()));
    header.insert("mediaType".into(), J::from(script.media_type.studio_id()));
    header.insert("mediaTypeName".into(), J::String(script.media_type.studio_name().into()));
    header.insert("nextActionId".into(), J::from(used.iter().copied().max().unwrap_or(0) + 1));
    if generate_layout {
        header.insert("prosperoLayout".into(), J::String("generated".into()));
    }
    for (k, v) in &script.header {
        header.insert(k.clone(), v.clone());
    }

    let mut actions = Map::new();
    let mut properties = Map::new();
    let mut branches = Map::new();
    for (row, a) in script.actions.iter().enumerate() {
        let (_, n, renamed) = numeric[row].clone();
        let key = n.to_string();
        let (x, y) = match (generate_layout, a.layout) {
            (false, Some(l)) => l,
            _ => (60, 60 + 120 * row as i64),
        };
        let mut o = Map::new();
        o.insert("actionId".into(), J::from(n));
        o.insert("libraryId".into(), J::String(library_id(&a.kind).into()));
        o.insert("name".into(), J::String(a.kind.clone()));
        o.insert("version".into(), J::from(a.version));
        o.insert("label".into(), J::String(a.caption.clone()));
        o.insert("dependencyOrder".into(), J::String("0".into()));
        o.insert("implType".into(), J::String("0".into()));
        o.insert("x".into(), J::from(x));
        o.insert("y".into(), J::from(y));
        o.insert("xws".into(), J::from(x));
        o.insert("yws".into(), J::from(y));
        if renamed {
            o.insert("prosperoId".into(), J::String(a.id.clone()));
        }
        for (k, v) in &a.extra {
            o.insert(k.clone(), v.clone());
        }
        actions.insert(key.clone(), J::Object(o));

        let mut props = Map::new();
        for (i, p) in a.properties.iter().enumerate() {
            let value = match &p.value {
                PropValue::Text(s) => J::String(s.clone()),
                PropValue::List(items) => J::Array(items.iter().cloned().map(J::String).collect()),
            };
            let mut e = Map::new();
            e.insert("name".into(), J::String(p.name.clone()));
            e.insert("value".into(), value);
            props.insert(i.to_string(), J::Object(e));
        }
        properties.insert(key.clone(), J::Object(props));

        let mut list = Vec::new();
        for (i, b) in a.branches.iter().enumerate() {
            let is_default = b.name == "Default";
            let to = num_of(&b.target).map(J::from).unwrap_or_else(|| J::String(b.target.clone()));
            let mut e = Map::new();
            e.insert("to".into(), to);
            e.insert("label".into(), J::String(if is_default { String::new() } else { b.name.clone() }));
            e.insert("type".into(), J::String(if is_default { "default".into() } else { "case".into() }));
            e.insert("index".into(), J::from(i));
            e.insert("ports".into(), J::String(String::new()));
            e.insert("lineType".into(), J::String(String::new()));
            e.insert("elbows".into(), J::Array(vec![]));
            for (k, v) in &b.extra {
                e.insert(k.clone(), v.clone());
            }
            list.push(J::Object(e));
        }
        branches.insert(key, J::Array(list));
    }
    let mut root = Map::new();
    root.insert("header".into(), J::Object(header));
    root.insert("actions".into(), J::Object(actions));
    root.insert("properties".into(), J::Object(properties));
    root.insert("branches".into(), J::Object(branches));
    J::Object(root)
}

/// Export as pretty-printed text.
pub fn export_text(script: &Script) -> String {
    serde_json::to_string_pretty(&export(script)).unwrap_or_default()
}
