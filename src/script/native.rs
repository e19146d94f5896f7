//! The native, hand-writable script format.
//!
//! ```json
//! {
//!   "name": "greet",
//!   "media": "Generic",
//!   "actions": [
//!     {"id": "start", "action": "BEGIN", "Parameters": ["who"], "next": "hello"},
//!     {"id": "hello", "action": "ASSIGN", "caption": "Build greeting",
//!      "Variable": "greeting", "Value": "Hello {who}", "next": "done"},
//!     {"id": "check", "action": "IF", "Expression": "len(who) > 0",
//!      "branches": {"True": "done", "False": "done"}},
//!     {"id": "done", "action": "RETURN", "ReturnValue": "{greeting}"}
//!   ]
//! }
//! ```
//!
//! Lower-case keys of an action are the format's own (`id`, `action`,
//! `version`, `caption`, `next`, `branches`, `layout`); every other key is a
//! property of the action, as named in its catalog manifest. A property value
//! may be a string, a number or boolean (kept as text), a list of strings, a
//! JSON object (kept as JSON text, for dynamic-object literals), or
//! `{"file": "name.snippet"}` to read long snippet code from a file beside the
//! script. `next` is shorthand for the `Default` branch.

use super::jsonpos::{JsonIndex, Seg, SegRef};
use super::model::*;
use super::{ActionRef, LoadError, LoadErrorKind};
use serde_json::{Map, Value as J};
use std::collections::HashSet;
use std::path::Path;

/// The format's own keys of an action; every other key is a property.
pub(crate) const OWN_KEYS: [&str; 7] = ["id", "action", "version", "caption", "next", "branches", "layout"];

/// Load a native script from its parsed JSON; `text` is the source for
/// positions and `dir` the folder of sibling files.
pub fn load_value(json: &J, text: &str, file: &str, dir: Option<&Path>) -> Result<Script, LoadError> {
    load_owned(json.clone(), JsonIndex::build(text, 4), text, file, dir)
}

/// [`load_value`] on a tree it may take apart: each action's JSON is freed
/// as soon as the action is built, so loading never holds a large script
/// twice (as JSON and as actions).
/// `index` is `JsonIndex::build(text, 4)`, built by the caller (on
/// another thread, while the tree was parsed).
pub fn load_owned(json: J, index: JsonIndex, text: &str, file: &str, dir: Option<&Path>) -> Result<Script, LoadError> {
    let lines = LineIndex::new(text);
    let at = |path: &[SegRef<'_>]| -> Pos { index.offset_of(path).map(|o| lines.pos(o)).unwrap_or(Pos::new(1, 1)) };
    let shape = |pos: Pos, msg: String| LoadError::new(file, pos, LoadErrorKind::Shape, msg);
    let J::Object(mut root) = json else {
        return Err(shape(Pos::new(1, 1), "expected a JSON object".into()));
    };
    let mut actions_json = root.get_mut("actions").map(std::mem::take);
    let root = &root;

    let mut script = Script::default();
    if let Some(name) = root.get("name") {
        script.name = name
            .as_str()
            .ok_or_else(|| shape(at(&crate::json_ref!["name"]), "\"name\" must be a string".into()))?
            .to_string();
    }
    if let Some(media) = root.get("media").or_else(|| root.get("mediaType")) {
        let key = if root.contains_key("media") { "media" } else { "mediaType" };
        let pos = at(&crate::json_ref![key]);
        let name = media.as_str().ok_or_else(|| shape(pos, format!("\"{key}\" must be a string")))?;
        script.media_type = MediaType::parse(name).ok_or_else(|| {
            shape(
                pos,
                format!("unknown media type \"{name}\" (expected Generic, Phone, Email, Chat, Voicemail, WorkItem, SMS or Digital)"),
            )
        })?;
    }
    let actions = match actions_json.as_mut() {
        None => return Err(shape(Pos::new(1, 1), "a native script needs an \"actions\" list".into())),
        Some(J::Array(list)) => std::mem::take(list),
        Some(_) => {
            return Err(shape(at(&crate::json_ref!["actions"]), "\"actions\" must be a list of action objects".into()));
        }
    };
    // As the Studio formats: an empty list is no script (and would export
    // to a Studio file that does not load).
    if actions.is_empty() {
        return Err(shape(at(&crate::json_ref!["actions"]), "the script has no actions".into()));
    }

    let mut ids: HashSet<String> = HashSet::with_capacity(actions.len());
    script.actions.reserve_exact(actions.len());
    for (i, a) in actions.into_iter().enumerate() {
        let apos = at(&crate::json_ref!["actions", i]);
        let obj = a.as_object().ok_or_else(|| shape(apos, format!("actions[{i}] must be an object")))?;
        let mut action = load_action(obj, i, file, dir, &at, &mut script.origin)?;
        drop(a);
        if !ids.insert(action.id.clone()) {
            return Err(LoadError::new(
                file,
                at(&crate::json_ref!["actions", i, "id"]),
                LoadErrorKind::DuplicateId,
                format!("duplicate action id \"{}\" (ids must be unique in a script)", action.id),
            )
            .with_action(ActionRef::of(&action)));
        }
        script.origin.positions.insert(action.id.clone(), apos);
        action.shrink();
        script.actions.push(action);
    }
    if let Some((path, key, off)) = index.duplicates.first() {
        let where_ = describe(path);
        return Err(LoadError::new(
            file,
            Pos::of_offset(text, *off),
            LoadErrorKind::DuplicateKey,
            format!("duplicate key \"{key}\" in {where_}"),
        ));
    }
    Ok(script)
}

fn describe(path: &[Seg]) -> String {
    if path.is_empty() {
        return "the top-level object".into();
    }
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn scalar_text(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(true) => Some("True".into()),
        J::Bool(false) => Some("False".into()),
        J::Null => Some(String::new()),
        _ => None,
    }
}

fn load_action(
    obj: &Map<String, J>,
    i: usize,
    file: &str,
    dir: Option<&Path>,
    at: &dyn Fn(&[SegRef<'_>]) -> Pos,
    origin: &mut Origin,
) -> Result<Action, LoadError> {
    let apos = at(&crate::json_ref!["actions", i]);
    let shape = |pos: Pos, msg: String| LoadError::new(file, pos, LoadErrorKind::Shape, msg);
    let kind = obj
        .get("action")
        .ok_or_else(|| shape(apos, format!("actions[{i}] has no \"action\" (the action type, e.g. \"ASSIGN\")")))?
        .as_str()
        .ok_or_else(|| shape(at(&crate::json_ref!["actions", i, "action"]), "\"action\" must be a string".into()))?;
    if kind.trim().is_empty() {
        return Err(shape(at(&crate::json_ref!["actions", i, "action"]), "\"action\" is blank".into()));
    }
    let id = match obj.get("id") {
        Some(J::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(J::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(shape(
                at(&crate::json_ref!["actions", i, "id"]),
                "\"id\" must be a non-blank string or a number".into(),
            ));
        }
        None => return Err(shape(apos, format!("actions[{i}] ({kind}) has no \"id\""))),
    };
    let mut action = Action::new(id.clone(), kind.trim());
    let aref = |a: &Action| ActionRef::of(a);

    if let Some(c) = obj.get("caption") {
        action.caption = c
            .as_str()
            .ok_or_else(|| {
                shape(at(&crate::json_ref!["actions", i, "caption"]), "\"caption\" must be a string".into())
            })?
            .to_string();
    }
    if let Some(v) = obj.get("version") {
        action.version = v.as_u64().filter(|v| *v >= 1 && *v <= 1000).ok_or_else(|| {
            shape(at(&crate::json_ref!["actions", i, "version"]), "\"version\" must be a whole number from 1".into())
        })? as u32;
    }
    if let Some(l) = obj.get("layout") {
        let pos = at(&crate::json_ref!["actions", i, "layout"]);
        let pair = l.as_array().filter(|a| a.len() == 2).and_then(|a| Some((a[0].as_i64()?, a[1].as_i64()?)));
        action.layout = Some(pair.ok_or_else(|| shape(pos, "\"layout\" must be [x, y] with whole numbers".into()))?);
    }
    if let Some(next) = obj.get("next") {
        let pos = at(&crate::json_ref!["actions", i, "next"]);
        let target = target_text(next).ok_or_else(|| shape(pos, "\"next\" must be an action id".into()))?;
        action.branches.push(Branch::new("Default", target));
    }
    if let Some(b) = obj.get("branches") {
        let bpos = at(&crate::json_ref!["actions", i, "branches"]);
        let map = b.as_object().ok_or_else(|| {
            shape(bpos, "\"branches\" must map result names to action ids".into()).with_action(aref(&action))
        })?;
        for (name, target) in map {
            let pos = at(&crate::json_ref!["actions", i, "branches", name.as_str()]);
            // A blank result name has no Studio label to be exported as.
            if name.trim().is_empty() {
                return Err(shape(pos, "a branch needs a result name".into()).with_action(aref(&action)));
            }
            let target = target_text(target).ok_or_else(|| {
                shape(pos, format!("branch \"{name}\" must name an action id")).with_action(aref(&action))
            })?;
            if name.eq_ignore_ascii_case("Default") && obj.contains_key("next") {
                return Err(
                    shape(pos, "both \"next\" and branches.Default are given".into()).with_action(aref(&action))
                );
            }
            action.branches.push(Branch::new(name.clone(), target));
        }
    }
    for (key, value) in obj {
        if OWN_KEYS.contains(&key.as_str()) {
            continue;
        }
        let ppos = at(&crate::json_ref!["actions", i, key.as_str()]);
        let prop = match value {
            J::Array(items) => {
                let mut list = Vec::with_capacity(items.len());
                for item in items {
                    list.push(scalar_text(item).ok_or_else(|| {
                        shape(ppos, format!("property \"{key}\": list items must be strings or numbers"))
                            .with_action(aref(&action))
                    })?);
                }
                PropValue::List(list)
            }
            J::Object(o) if o.len() == 1 && o.contains_key("file") => {
                let name = o["file"].as_str().ok_or_else(|| {
                    shape(ppos, format!("property \"{key}\": \"file\" must be a path")).with_action(aref(&action))
                })?;
                let path = dir.map(|d| d.join(name)).unwrap_or_else(|| name.into());
                let bytes = std::fs::read(&path).map_err(|e| {
                    LoadError::new(
                        file,
                        ppos,
                        LoadErrorKind::MissingFile,
                        format!("property \"{key}\": cannot read {}: {e}", path.display()),
                    )
                    .with_action(aref(&action))
                })?;
                let code = super::bytes_to_text(&path.display().to_string(), &bytes).map_err(|e| {
                    LoadError::new(
                        file,
                        ppos,
                        LoadErrorKind::NotText,
                        format!("property \"{key}\": {} ({}:{})", e.message, path.display(), e.pos),
                    )
                    .with_action(aref(&action))
                })?;
                origin.code_files.insert((id.clone(), key.clone()), path);
                PropValue::Text(code)
            }
            J::Object(_) => PropValue::Text(value.to_string()),
            scalar => PropValue::Text(scalar_text(scalar).unwrap_or_default()),
        };
        action.properties.push(Property { name: key.clone(), value: prop, pos: Some(ppos) });
    }
    Ok(action)
}

fn target_text(v: &J) -> Option<String> {
    match v {
        J::String(s) if !s.trim().is_empty() => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Write a script in the native format (pretty JSON). Snippet code is
/// written inline.
pub fn export(script: &Script) -> String {
    let mut root = Map::new();
    root.insert("name".into(), J::String(script.name.clone()));
    root.insert("media".into(), J::String(script.media_type.name().into()));
    let mut actions = Vec::new();
    for a in &script.actions {
        let mut o = Map::new();
        o.insert("id".into(), J::String(a.id.clone()));
        o.insert("action".into(), J::String(a.kind.clone()));
        if a.version != 1 {
            o.insert("version".into(), J::from(a.version));
        }
        if !a.caption.is_empty() {
            o.insert("caption".into(), J::String(a.caption.clone()));
        }
        for p in &a.properties {
            let v = match &p.value {
                PropValue::Text(s) => J::String(s.clone()),
                PropValue::List(items) => J::Array(items.iter().cloned().map(J::String).collect()),
            };
            o.insert(p.name.clone(), v);
        }
        if !a.branches.is_empty() {
            let mut b = Map::new();
            for br in &a.branches {
                b.insert(br.name.clone(), J::String(br.target.clone()));
            }
            o.insert("branches".into(), J::Object(b));
        }
        if let Some((x, y)) = a.layout {
            o.insert("layout".into(), J::from(vec![x, y]));
        }
        actions.push(J::Object(o));
    }
    root.insert("actions".into(), J::Array(actions));
    serde_json::to_string_pretty(&J::Object(root)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_can_live_in_a_sibling_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("note.txt"), "line one\nline two {x}").expect("write");
        let text = r#"{"name": "s", "actions": [{"id": "b", "action": "BEGIN", "next": "a"},
            {"id": "a", "action": "ASSIGN", "Variable": "n", "Value": {"file": "note.txt"}, "next": "e"},
            {"id": "e", "action": "END"}]}"#;
        let path = dir.path().join("s.json");
        std::fs::write(&path, text).expect("write");
        let script = crate::script::load_file(&path).expect("loads");
        let a = script.action("a").expect("action a");
        assert_eq!(a.property("Value"), Some(&PropValue::Text("line one\nline two {x}".into())));
        let recorded = script.origin.code_files.get(&("a".to_string(), "Value".to_string()));
        assert_eq!(recorded, Some(&dir.path().join("note.txt")));
    }

    #[test]
    fn lists_numbers_and_objects_become_texts() {
        let text = r#"{"name": "s", "actions": [{"id": 1, "action": "BEGIN", "Parameters": ["a", 2],
            "Flag": true, "Data": {"k": [1, 2]}, "next": 2}, {"id": 2, "action": "END"}]}"#;
        let script = crate::script::load_text(text, None).expect("loads");
        let b = &script.actions[0];
        assert_eq!(b.id, "1");
        assert_eq!(b.branches[0].target, "2");
        assert_eq!(b.property("Parameters"), Some(&PropValue::List(vec!["a".into(), "2".into()])));
        assert_eq!(b.property("Flag"), Some(&PropValue::Text("True".into())));
        assert_eq!(b.property("Data"), Some(&PropValue::Text(r#"{"k":[1,2]}"#.into())));
    }
}
