//! The two header layouts of a bulk import (`contacts.md` §3) and the step
//! that turns a header row, a layout and a profile into a [`Plan`]: what
//! each column feeds.
//!
//! - **New** (the default): the default headers below, matched without
//!   regard to case and surrounding blanks, a field's own name
//!   (`workEmail`, `address.city`, `custom.tier`), or the profile's
//!   mapping.
//! - **Legacy** (chosen explicitly, never guessed): `Contact Id`,
//!   `Contact First Name`, `Contact Last Name` for contacts, `Account Id`,
//!   `Account Name` for organizations, matched exactly (case counts).
//!
//! In both, a column named `Reason` is ignored (the rejected-rows file adds
//! it, so a fixed file imports again), and a header the layout does not
//! know is an error unless the profile maps it (to a field or to
//! [`IGNORE`]).

use super::file::FileError;
use super::profile::ImportProfile;
use crate::contacts::model::{EMAIL_FIELDS, PHONE_FIELDS};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which header layout a file uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Layout {
    /// The default headers, case ignored.
    #[default]
    New,
    /// The legacy keys, case-sensitive; the contact ID is the key.
    Legacy,
}

/// A profile mapping's field that drops the column.
pub const IGNORE: &str = "ignore";

/// The column the rejected-rows file adds ([`super::log::RejectedWriter`]).
pub const REASON_COLUMN: &str = "Reason";

/// The new layout's default headers and their fields, in `contacts.md` §3's order.
pub const DEFAULT_HEADERS: [(&str, &str); 21] = [
    ("External ID", "externalId"),
    ("First Name", "firstName"),
    ("Middle Name", "middleName"),
    ("Last Name", "lastName"),
    ("Title", "title"),
    ("Work Email", "workEmail"),
    ("Personal Email", "personalEmail"),
    ("Other Email", "otherEmail"),
    ("Work Phone", "workPhone"),
    ("Cell Phone", "cellPhone"),
    ("Home Phone", "homePhone"),
    ("Other Phone", "otherPhone"),
    ("Address 1", "address.address1"),
    ("Address 2", "address.address2"),
    ("City", "address.city"),
    ("State", "address.state"),
    ("Postal Code", "address.postalCode"),
    ("Country Code", "address.countryCode"),
    ("External System URL", "externalSystemUrl"),
    ("External Organization Name", "externalOrganization.name"),
    ("External Organization External ID", "externalOrganization.externalId"),
];

/// The legacy keys and their fields (seed 001 names no others).
pub const LEGACY_HEADERS: [(&str, &str); 5] = [
    ("Contact Id", "externalId"),
    ("Contact First Name", "firstName"),
    ("Contact Last Name", "lastName"),
    ("Account Id", "externalOrganization.externalId"),
    ("Account Name", "externalOrganization.name"),
];

/// The contact's own text fields a column can feed (besides emails and phones).
const CONTACT_TEXT: [&str; 8] =
    ["firstName", "middleName", "lastName", "salutation", "title", "externalSystemUrl", "surveyOptOut", "contactType"];

/// The address parts.
const ADDRESS_PARTS: [&str; 6] = ["address1", "address2", "city", "state", "postalCode", "countryCode"];

/// What a column feeds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// A top-level field of the contact record (`firstName`, `workEmail`,
    /// `cellPhone`, `contactType`, ...), as [`crate::contacts::apply_changes`] names it.
    Contact(&'static str),
    /// A part of the postal address (`city`, ...).
    Address(&'static str),
    /// A social handle by network.
    Social(String),
    /// A custom field of the contact type.
    Custom(String),
    /// The contact's external ID (in the profile's external source).
    ExternalId,
    /// The organization's name.
    OrganizationName,
    /// The organization's external ID.
    OrganizationExternalId,
}

impl Field {
    /// Read a field name (`firstName`, `address.city`, `socialHandles.x`,
    /// `custom.tier`, `externalId`, `externalOrganization.name`, ...),
    /// case ignored; custom and social names keep their spelling.
    pub fn parse(name: &str) -> Option<Field> {
        let name = name.trim();
        let lower = name.to_ascii_lowercase();
        let pick = |list: &[&'static str], key: &str| list.iter().copied().find(|f| f.eq_ignore_ascii_case(key));
        if let Some(f) = pick(&CONTACT_TEXT, name).or_else(|| pick(&EMAIL_FIELDS, name)) {
            return Some(Field::Contact(f));
        }
        if let Some(f) = pick(&PHONE_FIELDS, name) {
            return Some(Field::Contact(f));
        }
        let rest = |prefix: &str| (lower.starts_with(prefix)).then(|| name[prefix.len()..].trim().to_string());
        Some(match lower.as_str() {
            "externalid" => Field::ExternalId,
            "externalorganization.name" => Field::OrganizationName,
            "externalorganization.externalid" => Field::OrganizationExternalId,
            _ => {
                if let Some(part) = rest("address.") {
                    Field::Address(pick(&ADDRESS_PARTS, &part)?)
                } else if let Some(n) = rest("socialhandles.") {
                    (!n.is_empty()).then_some(Field::Social(n))?
                } else if let Some(n) = rest("custom.").or_else(|| rest("customfields.")) {
                    (!n.is_empty()).then_some(Field::Custom(n))?
                } else {
                    return None;
                }
            }
        })
    }

    /// Whether it belongs to the organization part of a row.
    pub fn is_organization(&self) -> bool {
        matches!(self, Field::OrganizationName | Field::OrganizationExternalId)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Contact(n) => f.write_str(n),
            Field::Address(n) => write!(f, "address.{n}"),
            Field::Social(n) => write!(f, "socialHandles.{n}"),
            Field::Custom(n) => write!(f, "custom.{n}"),
            Field::ExternalId => f.write_str("externalId"),
            Field::OrganizationName => f.write_str("externalOrganization.name"),
            Field::OrganizationExternalId => f.write_str("externalOrganization.externalId"),
        }
    }
}

impl Layout {
    /// Whether header text `a` names header `b` in this layout.
    pub fn same_header(self, a: &str, b: &str) -> bool {
        match self {
            Layout::New => a.trim().to_lowercase() == b.trim().to_lowercase(),
            Layout::Legacy => a.trim() == b.trim(),
        }
    }

    /// The layout's own headers and their field names.
    pub fn headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Layout::New => &DEFAULT_HEADERS,
            Layout::Legacy => &LEGACY_HEADERS,
        }
    }

    /// The field a header names in this layout, without a profile.
    pub fn default_field(self, header: &str) -> Option<Field> {
        let known = self.headers().iter().find(|(h, _)| self.same_header(h, header));
        match (known, self) {
            (Some((_, field)), _) => Field::parse(field),
            (None, Layout::New) => Field::parse(header),
            (None, Layout::Legacy) => None,
        }
    }
}

/// What one column of the file feeds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A field.
    Field(Field),
    /// Nothing: mapped to [`IGNORE`], the `Reason` column, or a field the
    /// profile does not select.
    Ignored,
}

/// One column of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header cell, trimmed.
    pub name: String,
    /// What it feeds.
    pub target: Target,
}

/// What every column of a file feeds, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The layout the header was read in.
    pub layout: Layout,
    /// One per header cell.
    pub columns: Vec<Column>,
}

impl Plan {
    /// How many cells a row must have.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// The 0-based column feeding `field`, if any.
    pub fn column_of(&self, field: &Field) -> Option<usize> {
        self.columns.iter().position(|c| c.target == Target::Field(field.clone()))
    }

    /// The fields columns feed, with their 0-based columns.
    pub fn fields(&self) -> impl Iterator<Item = (usize, &Field)> {
        self.columns.iter().enumerate().filter_map(|(i, c)| match &c.target {
            Target::Field(f) => Some((i, f)),
            Target::Ignored => None,
        })
    }
}

/// The plan for a header row (trimmed cells, none blank) read on `line`,
/// or the file-level fault that stops the import: a repeated header, a
/// missing required column, an unknown header, two columns feeding one
/// field, or no column imported at all.
pub fn resolve(header: &[String], line: u64, profile: &ImportProfile) -> Result<Plan, FileError> {
    let layout = profile.layout;
    let mut columns = Vec::with_capacity(header.len());
    let mut unknown = None;
    for (i, name) in header.iter().enumerate() {
        if let Some(first) = header[..i].iter().position(|h| layout.same_header(h, name)) {
            return Err(FileError::DuplicateHeader { line, column: i + 1, first: first + 1, name: name.clone() });
        }
        let mapped = profile.mapping.iter().find(|m| layout.same_header(&m.column, name));
        let target = match mapped {
            Some(m) if m.field.trim().eq_ignore_ascii_case(IGNORE) => Target::Ignored,
            Some(m) => match Field::parse(&m.field) {
                Some(f) => Target::Field(f),
                None => return Err(FileError::UnknownHeader { line, column: i + 1, name: name.clone() }),
            },
            None => match layout.default_field(name) {
                Some(f) => Target::Field(f),
                None if layout.same_header(REASON_COLUMN, name) => Target::Ignored,
                None => {
                    unknown.get_or_insert(i);
                    Target::Ignored
                }
            },
        };
        let target = match target {
            Target::Field(f) if !profile.selects(&f) => Target::Ignored,
            other => other,
        };
        columns.push(Column { name: name.clone(), target });
    }
    let plan = Plan { layout, columns };
    if layout == Layout::Legacy {
        legacy_required(&plan, header, line)?;
    }
    if let Some(i) = unknown {
        return Err(FileError::UnknownHeader { line, column: i + 1, name: header[i].clone() });
    }
    for (n, (i, f)) in plan.fields().enumerate() {
        if let Some((first, _)) = plan.fields().take(n).find(|(_, g)| *g == f) {
            return Err(FileError::DuplicateField { line, column: i + 1, first: first + 1, field: f.to_string() });
        }
    }
    if plan.fields().next().is_none() {
        return Err(FileError::NoImportedColumn { line });
    }
    Ok(plan)
}

/// The legacy layout's required columns: all three contact keys when any
/// contact column is there (or no organization column is), both account
/// keys when either is.
fn legacy_required(plan: &Plan, header: &[String], line: u64) -> Result<(), FileError> {
    let has_contact = plan.fields().any(|(_, f)| !f.is_organization());
    let has_org = plan.fields().any(|(_, f)| f.is_organization());
    let mut required = Vec::new();
    if has_contact || !has_org {
        required.extend(&LEGACY_HEADERS[..3]);
    }
    if has_org {
        required.extend(&LEGACY_HEADERS[3..]);
    }
    for (name, field) in required {
        let field = Field::parse(field).unwrap_or(Field::ExternalId);
        if plan.column_of(&field).is_some() {
            continue;
        }
        let hint = match header.iter().position(|h| h.eq_ignore_ascii_case(name)) {
            Some(i) => format!(" (column {} is '{}': legacy keys are case-sensitive)", i + 1, header[i]),
            None => String::new(),
        };
        return Err(FileError::MissingColumn { line, name: name.to_string(), hint });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    fn plan(cells: &[&str], profile: &ImportProfile) -> Result<Plan, FileError> {
        resolve(&header(cells), 1, profile)
    }

    #[test]
    fn every_default_header_names_a_field_in_any_case() {
        let new = ImportProfile::default_for(Layout::New);
        for (h, f) in DEFAULT_HEADERS {
            let p = plan(&[&h.to_uppercase()], &new).expect(h);
            assert_eq!(p.fields().next().map(|(_, g)| g.to_string()), Some(f.to_string()), "{h}");
        }
        let p = plan(&[" first name ", "custom.Tier", "address.CITY", "socialHandles.x"], &new).expect("fields");
        let got: Vec<String> = p.fields().map(|(_, f)| f.to_string()).collect();
        assert_eq!(got, ["firstName", "custom.Tier", "address.city", "socialHandles.x"]);
    }

    #[test]
    fn legacy_keys_are_exact_and_required_by_group() {
        let legacy = ImportProfile::default_for(Layout::Legacy);
        let p = plan(&["Contact Id", "Contact First Name", "Contact Last Name", "Reason"], &legacy).expect("ok");
        assert_eq!(p.fields().count(), 3);
        assert!(plan(&["Account Id", "Account Name"], &legacy).is_ok());
        let e = plan(&["contact id", "Contact First Name", "Contact Last Name"], &legacy).unwrap_err();
        assert_eq!(e.code(), "missing_column");
        assert!(e.to_string().contains("column 1 is 'contact id': legacy keys are case-sensitive"), "{e}");
        let e = plan(&["Account Id"], &legacy).unwrap_err();
        assert_eq!(e.to_string(), "line 1: the column 'Account Name' is required");
        let e = plan(&["Contact Id", "Contact First Name", "Contact Last Name", "Email"], &legacy).unwrap_err();
        assert_eq!(e.code(), "unknown_header");
        let e = plan(&["Contact Id", "Contact Id"], &legacy).unwrap_err();
        assert_eq!(e.code(), "duplicate_header");
        assert!(
            plan(&["Contact Id", "contact id", "Contact First Name", "Contact Last Name"], &legacy)
                .is_err_and(|e| e.code() == "unknown_header")
        );
    }

    #[test]
    fn header_faults_of_the_new_layout() {
        let new = ImportProfile::default_for(Layout::New);
        let e = plan(&["First Name", "FIRST NAME"], &new).unwrap_err();
        assert_eq!(e.to_string(), "line 1, column 2: the header 'FIRST NAME' repeats column 1");
        let e = plan(&["First Name", "Shoe Size"], &new).unwrap_err();
        assert_eq!(e.code(), "unknown_header");
        let e = plan(&["Work Email", "workEmail"], &new).unwrap_err();
        assert_eq!(e.to_string(), "line 1, column 2: the field workEmail is already read from column 1");
        assert_eq!(plan(&["Reason"], &new).unwrap_err().code(), "no_imported_column");
        let mut mapped = new.clone();
        mapped.mapping.push(super::super::profile::FieldMapping::new("Shoe Size", IGNORE));
        mapped.mapping.push(super::super::profile::FieldMapping::new("E-mail", "personalEmail"));
        let p = plan(&["First Name", "Shoe Size", "e-mail"], &mapped).expect("mapped");
        assert_eq!(p.columns[1].target, Target::Ignored);
        assert_eq!(p.column_of(&Field::Contact("personalEmail")), Some(2));
        mapped.selected_fields = Some(vec!["firstName".into()]);
        let p = plan(&["First Name", "Shoe Size", "e-mail"], &mapped).expect("selected");
        assert_eq!(p.fields().count(), 1);
    }

    #[test]
    fn field_names_read_back_as_they_print() {
        for name in ["firstName", "cellPhone", "otherEmail", "address.postalCode", "custom.a b", "externalId"] {
            assert_eq!(Field::parse(name).map(|f| f.to_string()).as_deref(), Some(name));
        }
        for bad in ["shoeSize", "address.floor", "custom.", ""] {
            assert_eq!(Field::parse(bad), None, "{bad}");
        }
    }
}
