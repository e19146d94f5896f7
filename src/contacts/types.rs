//! Contact types and their custom fields: each field has a kind (text,
//! number, date, boolean, or a list of allowed values), and a contact's
//! custom field values are checked against its type.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

/// The kind of a custom field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "values")]
pub enum FieldKind {
    /// Any text.
    Text,
    /// A decimal number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// `true` or `false`.
    Boolean,
    /// One of the listed values (compared exactly).
    List(Vec<String>),
}

impl FieldKind {
    /// The kind's name as the CLI and the store write it.
    pub fn name(&self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Boolean => "boolean",
            FieldKind::List(_) => "list",
        }
    }

    /// Read a kind from its name and, for a list, its allowed values.
    pub fn from_parts(name: &str, values: &[String]) -> Option<FieldKind> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "text" => FieldKind::Text,
            "number" => FieldKind::Number,
            "date" => FieldKind::Date,
            "boolean" => FieldKind::Boolean,
            "list" if !values.is_empty() => FieldKind::List(values.to_vec()),
            _ => return None,
        })
    }
}

/// One custom field of a contact type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// The field's name (compared without regard to case).
    pub name: String,
    /// Its kind.
    #[serde(flatten)]
    pub kind: FieldKind,
}

impl CustomField {
    /// Read `name:kind` or `name:list=a|b|c` (the CLI's `--field`).
    pub fn parse(spec: &str) -> Result<CustomField, CustomFieldError> {
        let bad = || CustomFieldError::BadDefinition(spec.to_string());
        let (name, kind) = spec.split_once(':').ok_or_else(bad)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(bad());
        }
        let (kind, values) = match kind.split_once('=') {
            Some((k, v)) => (k, v.split('|').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
            None => (kind, Vec::new()),
        };
        let kind = FieldKind::from_parts(kind, &values).ok_or_else(bad)?;
        Ok(CustomField { name: name.to_string(), kind })
    }
}

/// A contact type: a name and its custom fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactType {
    /// The type's name, unique in the unit without regard to case.
    pub name: String,
    /// Its custom fields, in definition order.
    pub fields: Vec<CustomField>,
}

/// Why a custom field definition or value is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CustomFieldError {
    /// A `--field` text that is not `name:kind` (or `name:list=a|b`).
    #[error("'{0}' is not a field definition (name:text, name:number, name:date, name:boolean or name:list=a|b)")]
    BadDefinition(String),
    /// Two fields of one type with the same name.
    #[error("the field '{0}' is defined twice")]
    DuplicateField(String),
    /// Custom fields given for a contact without a contact type.
    #[error("custom field '{0}' given, but the contact has no contact type")]
    NoContactType(String),
    /// A field its contact type does not define.
    #[error("contact type '{contact_type}' has no field '{field}'")]
    UnknownField {
        /// The type.
        contact_type: String,
        /// The field.
        field: String,
    },
    /// A value of the wrong kind.
    #[error("custom field '{field}' must be a {kind} value, not '{value}'")]
    WrongKind {
        /// The field.
        field: String,
        /// What it wants (`number`, `date`, a list of values, ...).
        kind: String,
        /// What it was given.
        value: String,
    },
}

impl ContactType {
    /// A type after checking its fields have distinct names.
    pub fn new(name: &str, fields: Vec<CustomField>) -> Result<ContactType, CustomFieldError> {
        for (i, f) in fields.iter().enumerate() {
            if fields[..i].iter().any(|g| g.name.eq_ignore_ascii_case(&f.name)) {
                return Err(CustomFieldError::DuplicateField(f.name.clone()));
            }
        }
        Ok(ContactType { name: name.trim().to_string(), fields })
    }

    /// The field named `name`, without regard to case.
    pub fn field(&self, name: &str) -> Option<&CustomField> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Check custom field values: each must be a field of the type and of
    /// its kind. Returns them under the type's spelling of each name, with
    /// numbers and booleans as JSON numbers and booleans.
    pub fn check(&self, values: &Map<String, Json>) -> Result<Map<String, Json>, CustomFieldError> {
        let mut out = Map::new();
        for (name, value) in values {
            let field = self.field(name).ok_or_else(|| CustomFieldError::UnknownField {
                contact_type: self.name.clone(),
                field: name.clone(),
            })?;
            out.insert(field.name.clone(), check_value(field, value)?);
        }
        Ok(out)
    }
}

/// One value checked against its field.
pub fn check_value(field: &CustomField, value: &Json) -> Result<Json, CustomFieldError> {
    let text = match value {
        Json::String(s) => s.trim().to_string(),
        other => other.to_string(),
    };
    let wrong = |kind: String| CustomFieldError::WrongKind { field: field.name.clone(), kind, value: text.clone() };
    Ok(match &field.kind {
        FieldKind::Text => Json::String(text.clone()),
        FieldKind::Number => {
            match text.parse::<f64>().ok().filter(|n| n.is_finite()).and_then(serde_json::Number::from_f64) {
                Some(n) => Json::Number(n),
                None => return Err(wrong("number".into())),
            }
        }
        FieldKind::Date => match chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(d) => Json::String(d.format("%Y-%m-%d").to_string()),
            Err(_) => return Err(wrong("date (YYYY-MM-DD)".into())),
        },
        FieldKind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            _ => return Err(wrong("boolean (true or false)".into())),
        },
        FieldKind::List(allowed) => match allowed.iter().find(|a| **a == text) {
            Some(a) => Json::String(a.clone()),
            None => return Err(wrong(format!("one of {}", allowed.join(", ")))),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tier() -> ContactType {
        let fields = ["since:date", "score:number", "vip:boolean", "note:text", "tier:list=gold|silver"]
            .iter()
            .map(|s| CustomField::parse(s).expect("a definition"))
            .collect();
        ContactType::new("Customer", fields).expect("distinct names")
    }

    #[test]
    fn field_definitions_parse_and_bad_ones_are_named() {
        assert_eq!(tier().fields[4].kind, FieldKind::List(vec!["gold".into(), "silver".into()]));
        for bad in ["nokind", "x:colour", ":text", "x:list="] {
            assert_eq!(CustomField::parse(bad), Err(CustomFieldError::BadDefinition(bad.into())), "{bad}");
        }
        let twice = vec![CustomField::parse("a:text").unwrap(), CustomField::parse("A:number").unwrap()];
        assert_eq!(ContactType::new("T", twice), Err(CustomFieldError::DuplicateField("A".into())));
    }

    #[test]
    fn values_are_checked_and_normalised_by_kind() {
        let t = tier();
        let ok = t
            .check(json!({"SINCE": "2024-02-29", "score": "12.5", "vip": "TRUE", "tier": "gold"}).as_object().unwrap())
            .expect("valid values");
        assert_eq!(Json::Object(ok), json!({"since": "2024-02-29", "score": 12.5, "vip": true, "tier": "gold"}));
        let bad = [("since", "2023-02-29"), ("score", "many"), ("vip", "yes"), ("tier", "bronze")];
        for (field, value) in bad {
            let err = t.check(json!({field: value}).as_object().unwrap()).expect_err(value);
            assert!(matches!(err, CustomFieldError::WrongKind { .. }), "{err}");
        }
        let unknown = t.check(json!({"colour": "red"}).as_object().unwrap()).expect_err("unknown");
        assert_eq!(unknown.to_string(), "contact type 'Customer' has no field 'colour'");
    }
}
