//! Source maps: reading the `Mappings` object a script builds, and deciding
//! which CREATESOURCEMAP branch it earns.
//!
//! The object's only root member is `Mappings`; each of its members names a
//! system field or a user field of the unit (any case) and holds the label
//! of the source-side field that feeds it. Members keep their order, which
//! is also the order phone destinations are dialed in. A blank label leaves
//! the field unmapped.

use super::fields::{DataType, system_field};
use super::model::{MapEntry, SourceMap, UserField};
use crate::value::{Object, Value};
use std::sync::Arc;

/// The root member a mapping object must have.
pub const ROOT: &str = "Mappings";

/// What CREATESOURCEMAP should do with a mapping (branch order: the first
/// that applies wins).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapVerdict {
    /// Store it as the next version.
    Store(Vec<MapEntry>),
    /// The root member is not `Mappings` (or there are others beside it).
    InvalidRootNode(String),
    /// A key is neither a system field nor a user field, or is mapped twice.
    InvalidFieldName(String),
    /// No `ExternalID`, or no phone destination.
    MissingRequiredField(String),
    /// More phone destinations than allowed.
    ExceededMaxDestinations {
        /// Phone destinations in the map.
        count: usize,
        /// The most allowed.
        max: u32,
    },
    /// Identical to the current map.
    NoChangesMade,
    /// Removes or remaps a field a skill filter uses.
    FieldsInUseCantApply(String),
    /// The input is not a mapping at all (OnError).
    Unreadable(String),
}

/// Turn the `Mapping` input (an object, or JSON text of one) into an object.
pub fn mapping_object(v: &Value) -> Result<Arc<Object>, String> {
    match v {
        Value::Object(o) => Ok(o.clone()),
        Value::Text(t) if t.trim().starts_with('{') => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(j) => match Value::from_json(&j) {
                Value::Object(o) => Ok(o),
                _ => Err("Mapping is not an object".into()),
            },
            Err(e) => Err(format!("Mapping is not valid JSON: {e}")),
        },
        Value::Null => Err("Mapping is empty".into()),
        other => Err(format!("Mapping must be a dynamic object, not '{}'", other.to_text())),
    }
}

/// Whether `field` (canonical) is a phone destination given the unit's user fields.
pub fn is_destination(field: &str, user_fields: &[UserField]) -> bool {
    match system_field(field) {
        Some(f) => f.data_type == DataType::Phone,
        None => user_fields.iter().any(|u| u.name.eq_ignore_ascii_case(field) && u.data_type == DataType::Phone),
    }
}

/// Decide what to do with `mapping`.
pub fn check_map(
    mapping: &Value,
    user_fields: &[UserField],
    current: Option<&SourceMap>,
    filter_fields: &[String],
    max_destinations: u32,
) -> MapVerdict {
    let obj = match mapping_object(mapping) {
        Ok(o) => o,
        Err(e) => return MapVerdict::Unreadable(e),
    };
    let mut roots = obj.iter();
    let inner = match (roots.next(), roots.next()) {
        (Some((k, v)), None) if k.eq_ignore_ascii_case(ROOT) => v,
        (Some((k, _)), None) => return MapVerdict::InvalidRootNode(format!("the root member is '{k}', not '{ROOT}'")),
        (None, _) => return MapVerdict::InvalidRootNode(format!("the object has no '{ROOT}' member")),
        (Some(_), Some(_)) => {
            let names: Vec<&str> = obj.keys().map(|k| k.as_str()).collect();
            return MapVerdict::InvalidRootNode(format!(
                "the object must have '{ROOT}' as its only root member, found {}",
                names.join(", ")
            ));
        }
    };
    let Value::Object(members) = inner else {
        return MapVerdict::InvalidRootNode(format!("'{ROOT}' must hold an object of field → label"));
    };
    let mut entries: Vec<MapEntry> = Vec::with_capacity(members.len());
    for (key, label) in members.iter() {
        let canonical = match system_field(key) {
            Some(f) => f.name.to_string(),
            None => match user_fields.iter().find(|u| u.name.eq_ignore_ascii_case(key.trim())) {
                Some(u) => u.name.clone(),
                None => {
                    return MapVerdict::InvalidFieldName(format!(
                        "'{key}' is neither a system field nor a user field of this business unit"
                    ));
                }
            },
        };
        if entries.iter().any(|e| e.field == canonical) {
            return MapVerdict::InvalidFieldName(format!("'{canonical}' is mapped twice"));
        }
        let label = match label {
            Value::Object(_) | Value::Array(_) => {
                return MapVerdict::Unreadable(format!("{ROOT}.{key} must be a source field label, not an object"));
            }
            other => other.to_text().trim().to_string(),
        };
        if !label.is_empty() {
            entries.push(MapEntry { field: canonical, label });
        }
    }
    if !entries.iter().any(|e| e.field == "ExternalID") {
        return MapVerdict::MissingRequiredField("ExternalID is not mapped".into());
    }
    let phones = entries.iter().filter(|e| is_destination(&e.field, user_fields)).count();
    if phones == 0 {
        return MapVerdict::MissingRequiredField(
            "no phone destination is mapped (PhoneNumber, SMSPhoneNumber or a phone user field)".into(),
        );
    }
    if phones > max_destinations as usize {
        return MapVerdict::ExceededMaxDestinations { count: phones, max: max_destinations };
    }
    if let Some(cur) = current {
        if cur.entries == entries {
            return MapVerdict::NoChangesMade;
        }
        for f in filter_fields {
            if let Some(old) = cur.entries.iter().find(|e| e.field.eq_ignore_ascii_case(f)) {
                match entries.iter().find(|e| e.field == old.field) {
                    None => {
                        return MapVerdict::FieldsInUseCantApply(format!(
                            "'{}' is used by a skill filter and cannot be removed",
                            old.field
                        ));
                    }
                    Some(new) if new.label != old.label => {
                        return MapVerdict::FieldsInUseCantApply(format!(
                            "'{}' is used by a skill filter and cannot be remapped from '{}' to '{}'",
                            old.field, old.label, new.label
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    MapVerdict::Store(entries)
}

/// A stored map as the object CREATESOURCEMAP accepts (GETSOURCEMAP's output).
pub fn map_value(map: Option<&SourceMap>) -> Value {
    let mut inner = Object::new();
    for e in map.map(|m| m.entries.as_slice()).unwrap_or_default() {
        inner.insert(e.field.as_str().into(), Value::text(e.label.as_str()));
    }
    let mut root = Object::new();
    root.insert(ROOT.into(), Value::Object(Arc::new(inner)));
    Value::Object(Arc::new(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(json: &str) -> Value {
        Value::from_json(&serde_json::from_str(json).unwrap())
    }

    fn cell() -> Vec<UserField> {
        vec![UserField {
            name: "CellPhone".into(),
            data_type: DataType::Phone,
            default_value: None,
            value_required: false,
            associations: vec![],
        }]
    }

    #[test]
    fn a_good_map_is_stored_in_order_with_canonical_names() {
        let v =
            obj(r#"{"Mappings": {"externalid": "Account", "cellphone": "Cell", "PhoneNumber": "Home", "City": ""}}"#);
        let MapVerdict::Store(e) = check_map(&v, &cell(), None, &[], 6) else { panic!("not stored") };
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["ExternalID", "CellPhone", "PhoneNumber"]);
        assert_eq!(
            map_value(Some(&SourceMap { version: 1, entries: e })).to_studio_json()["Mappings"]["CellPhone"],
            "Cell"
        );
    }

    #[test]
    fn each_problem_has_its_verdict() {
        let uf = cell();
        let check = |j: &str| check_map(&obj(j), &uf, None, &[], 2);
        assert!(matches!(check(r#"{"Phone": {"ExternalID": "a"}}"#), MapVerdict::InvalidRootNode(_)));
        assert!(matches!(check(r#"{}"#), MapVerdict::InvalidRootNode(_)));
        assert!(matches!(check(r#"{"Mappings": "x"}"#), MapVerdict::InvalidRootNode(_)));
        assert!(matches!(check(r#"{"Mappings": {"MyCustomField": "a"}}"#), MapVerdict::InvalidFieldName(_)));
        assert!(matches!(
            check(r#"{"Mappings": {"ExternalID": "a", "externalId": "b"}}"#),
            MapVerdict::InvalidFieldName(_)
        ));
        assert!(matches!(check(r#"{"Mappings": {"City": "c", "State": "s"}}"#), MapVerdict::MissingRequiredField(_)));
        assert!(matches!(check(r#"{"Mappings": {"ExternalID": "a"}}"#), MapVerdict::MissingRequiredField(_)));
        assert_eq!(
            check(r#"{"Mappings": {"ExternalID": "a", "PhoneNumber": "p", "SMSPhoneNumber": "s", "CellPhone": "c"}}"#),
            MapVerdict::ExceededMaxDestinations { count: 3, max: 2 }
        );
        assert!(matches!(check(r#"{"Mappings": {"ExternalID": {"a": 1}}}"#), MapVerdict::Unreadable(_)));
        assert!(matches!(check_map(&Value::text("{oops"), &uf, None, &[], 2), MapVerdict::Unreadable(_)));
    }

    #[test]
    fn changes_are_compared_with_the_current_map() {
        let v = obj(r#"{"Mappings": {"ExternalID": "Account", "PhoneNumber": "Home", "Score": "Rank"}}"#);
        let MapVerdict::Store(entries) = check_map(&v, &[], None, &[], 6) else { panic!() };
        let cur = SourceMap { version: 1, entries };
        assert_eq!(check_map(&v, &[], Some(&cur), &["score".into()], 6), MapVerdict::NoChangesMade);
        let remap = obj(r#"{"Mappings": {"ExternalID": "Account", "PhoneNumber": "Home", "Score": "Points"}}"#);
        assert!(matches!(
            check_map(&remap, &[], Some(&cur), &["Score".into()], 6),
            MapVerdict::FieldsInUseCantApply(_)
        ));
        let dropped = obj(r#"{"Mappings": {"ExternalID": "Account", "PhoneNumber": "Home"}}"#);
        assert!(matches!(
            check_map(&dropped, &[], Some(&cur), &["Score".into()], 6),
            MapVerdict::FieldsInUseCantApply(_)
        ));
        assert!(matches!(check_map(&dropped, &[], Some(&cur), &[], 6), MapVerdict::Store(_)));
    }
}
