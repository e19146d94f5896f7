//! Import profiles (`contacts.md` §3): saved per unit by name, reusable,
//! editable. A profile says which layout the file uses, which fields are
//! imported, how columns map to fields, how rows match existing contacts,
//! how matches merge, the default country of national phones, and whether
//! a blank cell clears a value.

use super::layout::{Field, IGNORE, Layout};
use crate::contacts::model::{EMAIL_FIELDS, PHONE_FIELDS};
use crate::contacts::phone::known_country_code;
use serde::{Deserialize, Serialize};

/// How matched contacts take a row (`contacts.md` §3, "merge modes").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MergeMode {
    /// Every contact matching the deciding identifier merges with the row
    /// into one record (the oldest survives; the row's values win).
    #[default]
    MergeAll,
    /// Only the first matching contact is updated.
    UpdateFirst,
}

/// One column → field pair of a profile's mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// The header as written in the file (matched as the layout matches headers).
    pub column: String,
    /// The field ([`Field::parse`]'s names), or [`IGNORE`].
    pub field: String,
}

impl FieldMapping {
    /// A pair.
    pub fn new(column: &str, field: &str) -> Self {
        FieldMapping { column: column.to_string(), field: field.to_string() }
    }
}

/// An import profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportProfile {
    /// Its name, unique in the unit.
    pub name: String,
    /// The external source the rows' external IDs belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_source: Option<String>,
    /// The header layout (`new` unless chosen).
    #[serde(default)]
    pub layout: Layout,
    /// Only these fields are imported; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_fields: Option<Vec<String>>,
    /// Column → field pairs, in order; they take precedence over the layout's headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapping: Vec<FieldMapping>,
    /// The identifiers rows match existing contacts by, tried in order:
    /// `externalId`, email fields, phone fields.
    #[serde(default = "default_match")]
    pub match_on: Vec<String>,
    /// How matches merge.
    #[serde(default)]
    pub merge_mode: MergeMode,
    /// The country of national phones (ISO 3166 alpha-2); the unit's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_country: Option<String>,
    /// The contact type whose custom fields `custom.*` columns feed, unless
    /// a row names its own (`contactType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    /// A blank cell clears the field (opt-in; by default blanks leave values as they are).
    #[serde(default)]
    pub blank_clears: bool,
}

/// The new layout's identifiers: external ID, then each email, then each phone.
fn default_match() -> Vec<String> {
    std::iter::once("externalId").chain(EMAIL_FIELDS).chain(PHONE_FIELDS).map(String::from).collect()
}

/// Why a profile is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// No name.
    #[error("the import profile needs a name")]
    BlankName,
    /// A field name that is not a field.
    #[error("'{0}' is not a field that can be imported")]
    UnknownField(String),
    /// A mapping pair with a blank column.
    #[error("a mapping names no column")]
    BlankColumn,
    /// One column mapped twice.
    #[error("the column '{0}' is mapped twice")]
    DuplicateMapping(String),
    /// No identifier to match by.
    #[error("the profile must match by at least one identifier")]
    EmptyMatch,
    /// An identifier that cannot match contacts.
    #[error("'{0}' cannot match contacts: use externalId, an email field or a phone field")]
    BadIdentifier(String),
    /// One identifier listed twice.
    #[error("the identifier '{0}' is listed twice")]
    DuplicateIdentifier(String),
    /// An identifier whose field the profile does not import.
    #[error("the identifier '{0}' is not among the selected fields")]
    IdentifierNotSelected(String),
    /// A default country that is not a known region.
    #[error("'{0}' is not a known country code (ISO 3166 alpha-2)")]
    BadCountry(String),
}

impl ProfileError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ProfileError::BlankName => "blank_name",
            ProfileError::UnknownField(_) => "unknown_field",
            ProfileError::BlankColumn => "blank_column",
            ProfileError::DuplicateMapping(_) => "duplicate_mapping",
            ProfileError::EmptyMatch => "empty_match",
            ProfileError::BadIdentifier(_) => "bad_identifier",
            ProfileError::DuplicateIdentifier(_) => "duplicate_identifier",
            ProfileError::IdentifierNotSelected(_) => "identifier_not_selected",
            ProfileError::BadCountry(_) => "bad_country",
        }
    }
}

impl ImportProfile {
    /// The profile an import uses when none is named: the layout's
    /// headers, every field, match by external ID then emails then phones
    /// (legacy: the contact ID alone), merge all, the unit's country,
    /// blanks leave values.
    pub fn default_for(layout: Layout) -> Self {
        let match_on = match layout {
            Layout::New => default_match(),
            Layout::Legacy => vec!["externalId".to_string()],
        };
        ImportProfile {
            name: "default".to_string(),
            external_source: None,
            layout,
            selected_fields: None,
            mapping: Vec::new(),
            match_on,
            merge_mode: MergeMode::MergeAll,
            default_country: None,
            contact_type: None,
            blank_clears: false,
        }
    }

    /// Whether the profile imports `field`.
    pub fn selects(&self, field: &Field) -> bool {
        self.selected_fields.as_ref().is_none_or(|s| s.iter().any(|n| Field::parse(n).as_ref() == Some(field)))
    }

    /// The match identifiers as fields, in order (after [`Self::validate`]).
    pub fn identifiers(&self) -> Vec<Field> {
        self.match_on.iter().filter_map(|m| Field::parse(m)).collect()
    }

    /// Check the profile; the first fault found.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.name.trim().is_empty() {
            return Err(ProfileError::BlankName);
        }
        for (i, m) in self.mapping.iter().enumerate() {
            if m.column.trim().is_empty() {
                return Err(ProfileError::BlankColumn);
            }
            if !m.field.trim().eq_ignore_ascii_case(IGNORE) && Field::parse(&m.field).is_none() {
                return Err(ProfileError::UnknownField(m.field.clone()));
            }
            if self.mapping[..i].iter().any(|n| self.layout.same_header(&n.column, &m.column)) {
                return Err(ProfileError::DuplicateMapping(m.column.clone()));
            }
        }
        for f in self.selected_fields.iter().flatten() {
            Field::parse(f).ok_or_else(|| ProfileError::UnknownField(f.clone()))?;
        }
        if self.match_on.is_empty() {
            return Err(ProfileError::EmptyMatch);
        }
        for (i, m) in self.match_on.iter().enumerate() {
            let field = match Field::parse(m) {
                Some(f @ Field::ExternalId) => f,
                Some(f @ Field::Contact(name)) if EMAIL_FIELDS.contains(&name) || PHONE_FIELDS.contains(&name) => f,
                _ => return Err(ProfileError::BadIdentifier(m.clone())),
            };
            if self.match_on[..i].iter().any(|n| Field::parse(n).as_ref() == Some(&field)) {
                return Err(ProfileError::DuplicateIdentifier(m.clone()));
            }
            if !self.selects(&field) {
                return Err(ProfileError::IdentifierNotSelected(m.clone()));
            }
        }
        if let Some(c) = &self.default_country
            && known_country_code(c).is_none()
        {
            return Err(ProfileError::BadCountry(c.clone()));
        }
        Ok(())
    }

    /// The country national phones take: the profile's, else `unit_country`.
    pub fn country<'a>(&'a self, unit_country: &'a str) -> &'a str {
        self.default_country.as_deref().map(str::trim).filter(|c| !c.is_empty()).unwrap_or(unit_country)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_profile_matches_by_external_id_then_emails_then_phones() {
        let p = ImportProfile::default_for(Layout::New);
        assert_eq!(p.match_on[..3], ["externalId", "workEmail", "personalEmail"]);
        assert_eq!(p.match_on.len(), 8);
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(ImportProfile::default_for(Layout::Legacy).match_on, ["externalId"]);
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["mergeMode"], "mergeAll");
        assert_eq!(json["layout"], "new");
        assert_eq!(json["blankClears"], false);
    }

    #[test]
    fn profiles_read_from_camel_case_json_with_defaults() {
        let p: ImportProfile = serde_json::from_value(json!({
            "name": "crm", "externalSource": "CRM", "layout": "legacy",
            "mapping": [{"column": "Mail", "field": "workEmail"}],
            "mergeMode": "updateFirst", "defaultCountry": "gb", "blankClears": true
        }))
        .expect("a profile");
        assert_eq!((p.layout, p.merge_mode, p.blank_clears), (Layout::Legacy, MergeMode::UpdateFirst, true));
        assert_eq!(p.match_on.len(), 8);
        assert_eq!(p.country("US"), "gb");
        assert_eq!(p.validate(), Ok(()));
        assert!(serde_json::from_value::<ImportProfile>(json!({"name": "x", "colour": 1})).is_err());
    }

    /// A change to a profile.
    type Change = Box<dyn Fn(&mut ImportProfile)>;

    #[test]
    fn each_fault_of_a_profile_has_its_code() {
        let base = ImportProfile::default_for(Layout::New);
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|p| p.name = " ".into()), "blank_name"),
            (Box::new(|p| p.mapping.push(FieldMapping::new("A", "shoeSize"))), "unknown_field"),
            (Box::new(|p| p.mapping.push(FieldMapping::new(" ", "title"))), "blank_column"),
            (
                Box::new(|p| p.mapping.extend([FieldMapping::new("A", "title"), FieldMapping::new("a", IGNORE)])),
                "duplicate_mapping",
            ),
            (Box::new(|p| p.selected_fields = Some(vec!["nope".into()])), "unknown_field"),
            (Box::new(|p| p.match_on.clear()), "empty_match"),
            (Box::new(|p| p.match_on = vec!["firstName".into()]), "bad_identifier"),
            (Box::new(|p| p.match_on = vec!["workEmail".into(), "WORKEMAIL".into()]), "duplicate_identifier"),
            (Box::new(|p| p.selected_fields = Some(vec!["firstName".into()])), "identifier_not_selected"),
            (Box::new(|p| p.default_country = Some("ZZ".into())), "bad_country"),
        ];
        for (change, code) in cases {
            let mut p = base.clone();
            change(&mut p);
            let e = p.validate().expect_err(code);
            assert_eq!(e.code(), code, "{e}");
        }
    }
}
