//! Desktop Studio XML: load.
//!
//! The schema is not published. Known elements: `ActionStruct` with
//! `ActionID`, `Action`, `Caption`, `DefaultNextAction` (`Text` +
//! `ActionID`) and `Cases` of `BranchStruct` (`Text` + `ActionID`), where an
//! `ActionID` of `-1` means "not connected". Every other child element of an
//! `ActionStruct` is read as a property named after the element: a text-only
//! element gives a text, an element whose children are all text-only gives a
//! list. Anything else is reported with its position rather than guessed at.
//! Optional `ScriptName` and `MediaType` elements directly under the root
//! name the script and its media type; otherwise the file name is the name.

use super::model::*;
use super::{ActionRef, LoadError, LoadErrorKind};
use quick_xml::Reader;
use quick_xml::events::Event;

/// A parsed XML element: the small tree the loader walks.
#[derive(Debug, Default)]
struct Elem {
    name: String,
    offset: usize,
    text: String,
    children: Vec<Elem>,
}

impl Elem {
    fn child(&self, name: &str) -> Option<&Elem> {
        self.children.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    fn has_text(&self) -> bool {
        !self.text.trim().is_empty()
    }
}

/// Deepest element nesting accepted; scripts need a handful of levels, and
/// the bound keeps hostile input from exhausting the stack.
const MAX_XML_DEPTH: usize = 64;

fn parse_tree(text: &str, file: &str) -> Result<Elem, LoadError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let syntax =
        |offset: usize, msg: String| LoadError::new(file, Pos::of_offset(text, offset), LoadErrorKind::Syntax, msg);
    let mut stack: Vec<Elem> = Vec::new();
    let mut root: Option<Elem> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            syntax(at, format!("invalid XML: {e}"))
        })?;
        let name_of = |raw: &[u8]| String::from_utf8_lossy(raw).into_owned();
        match event {
            Event::Start(e) => {
                if root.is_some() && stack.is_empty() {
                    return Err(syntax(before, "content after the end of the root element".into()));
                }
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(syntax(
                        before,
                        format!("elements are nested too deeply (more than {MAX_XML_DEPTH} levels)"),
                    ));
                }
                stack.push(Elem { name: name_of(e.local_name().as_ref()), offset: before, ..Elem::default() });
            }
            Event::Empty(e) => {
                let el = Elem { name: name_of(e.local_name().as_ref()), offset: before, ..Elem::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => {
                        return Err(syntax(before, "content after the end of the root element".into()));
                    }
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(syntax(before, "closing tag without an opening tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| syntax(before, format!("undecodable text: {e}")))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(syntax(before, "text outside the root element".into())),
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| syntax(before, format!("undecodable CDATA: {e}")))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| syntax(before, format!("bad character reference: {e}")))?
                        .map(|c| c.to_string())
                } else {
                    let name = r.decode().map_err(|e| syntax(before, format!("bad entity: {e}")))?;
                    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
                };
                let Some(s) = resolved else {
                    return Err(syntax(before, "unknown entity reference".into()));
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(syntax(
            text.len(),
            format!(
                "the XML ends inside <{}> opened at {} (truncated file?)",
                open.name,
                Pos::of_offset(text, open.offset)
            ),
        ));
    }
    root.ok_or_else(|| syntax(0, "no root element".into()))
}

/// Load a Desktop Studio XML script.
pub fn load(text: &str, file: &str) -> Result<Script, LoadError> {
    let root = parse_tree(text, file)?;
    let lines = LineIndex::new(text);
    let pos = |e: &Elem| lines.pos(e.offset);
    let shape = |e: &Elem, msg: String| LoadError::new(file, pos(e), LoadErrorKind::Shape, msg);

    // The actions live in an `Actions` element (the root or a descendant);
    // a root holding `ActionStruct`s directly is accepted too.
    fn find_container(e: &Elem) -> Option<&Elem> {
        if e.children.iter().any(|c| c.name.eq_ignore_ascii_case("ActionStruct")) {
            return Some(e);
        }
        e.children.iter().find_map(find_container)
    }
    let container = find_container(&root).ok_or_else(|| shape(&root, "no <ActionStruct> elements found".into()))?;

    let mut script = Script::default();
    if let Some(n) = root.child("ScriptName") {
        script.name = n.text.trim().to_string();
    }
    if let Some(m) = root.child("MediaType") {
        let t = m.text.trim();
        script.media_type = MediaType::parse(t)
            .or_else(|| t.parse::<i64>().ok().and_then(MediaType::from_studio_id))
            .ok_or_else(|| shape(m, format!("unknown media type \"{t}\"")))?;
    }

    let mut ids = std::collections::HashSet::new();
    for el in container.children.iter().filter(|c| c.name.eq_ignore_ascii_case("ActionStruct")) {
        let id_el = el.child("ActionID").ok_or_else(|| shape(el, "<ActionStruct> without <ActionID>".into()))?;
        let id = id_el.text.trim().to_string();
        if id.is_empty() || id == "-1" {
            return Err(shape(id_el, "<ActionID> must hold the action's id".into()));
        }
        let kind_el = el.child("Action").ok_or_else(|| shape(el, format!("action {id} has no <Action> (its type)")))?;
        let kind = kind_el.text.trim();
        if kind.is_empty() {
            return Err(shape(kind_el, format!("action {id} has an empty <Action>")));
        }
        let mut action = Action::new(id.clone(), kind);
        for child in &el.children {
            let cname = child.name.as_str();
            let aref = ActionRef::of(&action);
            match cname.to_ascii_lowercase().as_str() {
                "actionid" | "action" => {}
                "caption" => action.caption = child.text.trim().to_string(),
                "version" => {
                    action.version = child.text.trim().parse::<u32>().ok().filter(|v| *v >= 1).ok_or_else(|| {
                        shape(child, "<Version> must be a whole number from 1".into()).with_action(aref)
                    })?;
                }
                "defaultnextaction" => {
                    if let Some(target) = branch_target(child, file, text)? {
                        action.branches.push(Branch::new("Default", target));
                    }
                }
                "cases" | "branches" => {
                    for b in &child.children {
                        if !b.name.eq_ignore_ascii_case("BranchStruct") {
                            return Err(
                                shape(b, format!("unexpected <{}> in <{}>", b.name, child.name)).with_action(aref)
                            );
                        }
                        let name = b.child("Text").map(|t| t.text.trim().to_string()).unwrap_or_default();
                        if let Some(target) = branch_target(b, file, text)? {
                            if name.is_empty() {
                                return Err(shape(b, "<BranchStruct> without <Text> (the branch name)".into())
                                    .with_action(aref));
                            }
                            action.branches.push(Branch::new(name, target));
                        }
                    }
                }
                _ => {
                    let value = if child.children.is_empty() {
                        PropValue::Text(child.text.clone())
                    } else if child.has_text() {
                        return Err(
                            shape(child, format!("property <{cname}> mixes text and elements")).with_action(aref)
                        );
                    } else if child.children.iter().all(|c| c.children.is_empty()) {
                        PropValue::List(child.children.iter().map(|c| c.text.clone()).collect())
                    } else {
                        return Err(
                            shape(child, format!("property <{cname}> is nested too deeply to read")).with_action(aref)
                        );
                    };
                    action.properties.push(Property { name: cname.to_string(), value, pos: Some(pos(child)) });
                }
            }
        }
        if !ids.insert(id.clone()) {
            return Err(LoadError::new(
                file,
                pos(el),
                LoadErrorKind::DuplicateId,
                format!("duplicate action id \"{id}\""),
            )
            .with_action(ActionRef::of(&action)));
        }
        script.origin.positions.insert(id, pos(el));
        action.shrink();
        script.actions.push(action);
    }
    Ok(script)
}

fn branch_target(e: &Elem, file: &str, text: &str) -> Result<Option<String>, LoadError> {
    let Some(id) = e.child("ActionID") else {
        return Err(LoadError::new(
            file,
            Pos::of_offset(text, e.offset),
            LoadErrorKind::Shape,
            format!("<{}> without <ActionID>", e.name),
        ));
    };
    let t = id.text.trim();
    Ok(if t.is_empty() || t == "-1" { None } else { Some(t.to_string()) })
}
