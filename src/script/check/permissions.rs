//! The actions a principal may not run (`permission-denied`): given a
//! principal, `prospero check --principal FILE` reports every action whose
//! manifest needs a permission the principal lacks, at the action. The
//! script layer knows no principals: the caller says which permissions
//! are held.

use super::{Diagnostic, Severity};
use crate::catalog::Catalog;
use crate::script::{ActionRef, Script};

/// A `permission-denied` error for each action of `script` whose manifest
/// lists a permission `allows` refuses, naming every such permission.
/// Actions the catalog does not know are left to the other checks.
pub fn denied(script: &Script, catalog: &Catalog, allows: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for action in &script.actions {
        let Some(m) = catalog.get(&action.kind, action.version) else { continue };
        let missing: Vec<&str> = m.permissions.iter().map(String::as_str).filter(|p| !allows(p)).collect();
        if missing.is_empty() {
            continue;
        }
        let s = if missing.len() == 1 { "" } else { "s" };
        out.push(Diagnostic {
            severity: Severity::Error,
            code: "permission-denied",
            file: script.origin.file_name(),
            pos: script.origin.position(&action.id),
            action: Some(ActionRef::of(action)),
            message: format!(
                "the principal may not run {}: it lacks the permission{s} {} (the action would take OnError)",
                m.name,
                missing.join(", ")
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_actions_are_reported_at_their_place() {
        let text = r#"{"name": "s", "actions": [
  {"id": "b", "action": "BEGIN", "next": "c"},
  {"id": "c", "action": "CREATESOURCE", "Name": "X", "next": "g"},
  {"id": "g", "action": "GETQUEUE", "SkillNo": "1", "next": "e"},
  {"id": "e", "action": "END"}]}"#;
        let script = crate::script::load_text(text, Some(std::path::Path::new("s.json"))).unwrap();
        let catalog = Catalog::builtin();
        let d = denied(&script, &catalog, &|p| p == "outbound:source:view");
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "permission-denied");
        assert_eq!((d[0].pos.line, d[0].action.as_ref().unwrap().id.as_str()), (3, "c"));
        assert!(d[0].message.contains("outbound:source:add"), "{}", d[0].message);
        assert!(denied(&script, &catalog, &|_| true).is_empty());
        assert_eq!(denied(&script, &catalog, &|_| false).len(), 2);
    }
}
