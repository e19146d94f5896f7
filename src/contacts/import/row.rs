//! One row of an import file, read through its [`Plan`]: either an
//! [`ImportRow`] ready for matching and writing, or a [`Rejected`] row
//! with its line and a stable [`Reason`].
//!
//! The contact's values are checked by the same code as ADDCONTACT
//! ([`apply_changes`]): emails must be complete, a phone that is only an
//! extension is refused, other phones are kept (flagged when not valid),
//! texts stay within [`TEXT_MAX`], custom fields follow their contact type.
//!
//! Names are checked after matching: a row may leave first or last name
//! blank when it updates an existing contact, so the row only notes the
//! missing names ([`ImportRow::missing_names`]) and the importer rejects
//! it when it would create a contact ([`ImportRow::creation_fault`]).

use super::file::Record;
use super::layout::{Field, Layout, Plan};
use super::profile::ImportProfile;
use crate::contacts::email::email_key;
use crate::contacts::model::{ContactRecord, ContactSearch, EXTERNAL_ID_MAX, Invalid, TEXT_MAX, apply_changes};
use crate::contacts::types::{ContactType, CustomFieldError, check_value};
use serde_json::{Map, Value as Json};
use std::fmt;

/// Why a row is not imported. Codes are stable (logs and rejected-rows
/// files carry them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// More or fewer cells than the header.
    WrongColumnCount,
    /// An email that is not complete.
    IncompleteEmail,
    /// A new contact without a first name.
    MissingFirstName,
    /// A new contact without a last name.
    MissingLastName,
    /// Legacy layout: contact values without the contact ID.
    MissingContactId,
    /// An organization named without its external ID.
    OrganizationWithoutExternalId,
    /// An organization-only row without the organization's name.
    MissingOrganizationName,
    /// An organization external ID that names no organization, and no name to create it.
    OrganizationNotFound,
    /// A phone that cannot be a number (an extension alone).
    UnparseablePhone,
    /// A value over its length limit.
    FieldTooLong,
    /// A custom field its contact type refuses.
    InvalidCustomField,
    /// A contact type the unit does not have.
    UnknownContactType,
    /// A value of the wrong kind (`surveyOptOut` that is not true or false).
    InvalidValue,
    /// Nothing to import: every imported cell is blank.
    NothingToImport,
    /// The row's external ID names another contact than the one it matched.
    ExternalIdTaken,
}

impl Reason {
    /// Every reason, in code order of the docs.
    pub const ALL: [Reason; 15] = [
        Reason::WrongColumnCount,
        Reason::IncompleteEmail,
        Reason::MissingFirstName,
        Reason::MissingLastName,
        Reason::MissingContactId,
        Reason::OrganizationWithoutExternalId,
        Reason::MissingOrganizationName,
        Reason::OrganizationNotFound,
        Reason::UnparseablePhone,
        Reason::FieldTooLong,
        Reason::InvalidCustomField,
        Reason::UnknownContactType,
        Reason::InvalidValue,
        Reason::NothingToImport,
        Reason::ExternalIdTaken,
    ];

    /// The stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Reason::WrongColumnCount => "wrong_column_count",
            Reason::IncompleteEmail => "incomplete_email",
            Reason::MissingFirstName => "missing_first_name",
            Reason::MissingLastName => "missing_last_name",
            Reason::MissingContactId => "missing_contact_id",
            Reason::OrganizationWithoutExternalId => "organization_without_external_id",
            Reason::MissingOrganizationName => "missing_organization_name",
            Reason::OrganizationNotFound => "organization_not_found",
            Reason::UnparseablePhone => "unparseable_phone",
            Reason::FieldTooLong => "field_too_long",
            Reason::InvalidCustomField => "invalid_custom_field",
            Reason::UnknownContactType => "unknown_contact_type",
            Reason::InvalidValue => "invalid_value",
            Reason::NothingToImport => "nothing_to_import",
            Reason::ExternalIdTaken => "external_id_taken",
        }
    }

    /// The reason of a code.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A row that is not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The physical line the row starts on.
    pub line: u64,
    /// Why.
    pub reason: Reason,
    /// What exactly, in a sentence.
    pub detail: String,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.reason, self.detail)
    }
}

/// The organization a row names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRef {
    /// Its name, when the row gives one (creates or renames).
    pub name: Option<String>,
    /// Its external ID, the key organizations match by.
    pub external_id: String,
}

/// A row ready for matching and writing.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    /// The physical line the row starts on.
    pub line: u64,
    /// The contact's changes as [`apply_changes`] takes them (checked),
    /// only non-blank cells unless the profile's blanks clear; `address`
    /// holds only the row's parts (see [`ImportRow::changes_for`]).
    /// `None` when the row names no contact value (an organization only).
    pub contact: Option<Map<String, Json>>,
    /// The contact's external ID (in the profile's external source).
    pub external_id: Option<String>,
    /// The row's identifiers in the profile's order, normalized (email
    /// keys, E.164 phones); blank or unsearchable ones left out.
    pub match_keys: Vec<ContactSearch>,
    /// The organization it names (and links the contact to).
    pub organization: Option<OrgRef>,
    /// The required names the row leaves blank (`MissingFirstName`,
    /// `MissingLastName`): fine for an update, a rejection for a creation.
    pub missing_names: Vec<Reason>,
    /// Phones kept but not searchable: (field, why).
    pub flagged_phones: Vec<(String, String)>,
}

impl ImportRow {
    /// The rejection of this row when it matches no contact and would
    /// create one: the first missing name, if any.
    pub fn creation_fault(&self) -> Option<Rejected> {
        let reason = *self.missing_names.first()?;
        let name = if reason == Reason::MissingFirstName { "first" } else { "last" };
        let detail = format!("the {name} name is blank and the row matches no contact to update");
        Some(Rejected { line: self.line, reason, detail })
    }

    /// The changes to apply over `base` (the matched contact, `None` for
    /// a new one): see [`lay_over`].
    pub fn changes_for(&self, base: Option<&ContactRecord>) -> Map<String, Json> {
        lay_over(self.contact.as_ref().unwrap_or(&Map::new()), base)
    }
}

/// A row's `changes` made ready for [`apply_changes`] over `base` (the
/// matched contact, `None` for a new one): the row's address parts are
/// laid over the base's address, so a blank part never erases one
/// ([`apply_changes`] replaces a whole address).
pub fn lay_over(changes: &Map<String, Json>, base: Option<&ContactRecord>) -> Map<String, Json> {
    let mut changes = changes.clone();
    if let (Some(Json::Object(parts)), Some(a)) = (changes.get("address"), base.and_then(|b| b.address.as_ref())) {
        let mut merged = match serde_json::to_value(a) {
            Ok(Json::Object(o)) => o,
            _ => Map::new(),
        };
        for (k, v) in parts {
            merged.insert(k.clone(), v.clone());
        }
        merged.retain(|_, v| !v.is_null());
        changes.insert("address".into(), Json::Object(merged));
    }
    changes
}

/// What the row step needs besides the plan and the profile.
#[derive(Clone, Copy, Debug)]
pub struct RowContext<'a> {
    /// The unit's default country (the profile's wins).
    pub unit_country: &'a str,
    /// The unit's contact types.
    pub contact_types: &'a [ContactType],
}

/// The cells of one row sorted by what they feed.
#[derive(Default)]
struct Cells {
    contact: Map<String, Json>,
    address: Map<String, Json>,
    social: Map<String, Json>,
    custom: Map<String, Json>,
    external_id: Option<String>,
    org_name: Option<String>,
    org_id: Option<String>,
    filled: bool,
}

/// Read `record` through `plan` for `profile`.
pub fn read_row(
    record: &Record<'_>,
    plan: &Plan,
    profile: &ImportProfile,
    ctx: &RowContext<'_>,
) -> Result<ImportRow, Rejected> {
    let line = record.line();
    let reject = |reason: Reason, detail: String| Rejected { line, reason, detail };
    if record.len() != plan.width() {
        let detail = format!("{} cells where the header has {}", record.len(), plan.width());
        return Err(reject(Reason::WrongColumnCount, detail));
    }
    let cells = sort_cells(record, plan, profile).map_err(|(r, d)| reject(r, d))?;
    let organization = organization(&cells, plan).map_err(|(r, d)| reject(r, d))?;
    if plan.layout == Layout::Legacy && cells.filled && cells.external_id.is_none() {
        return Err(reject(Reason::MissingContactId, "the row has contact values but no Contact Id".into()));
    }
    if !cells.filled && organization.is_none() {
        return Err(reject(Reason::NothingToImport, "every imported cell of the row is blank".into()));
    }
    let country = profile.country(ctx.unit_country);
    let Cells { contact, address, social, custom, external_id, filled, .. } = cells;
    let (contact, record) = if filled {
        let changes = contact_changes(contact, address, social);
        let (changes, checked) = check(changes, custom, plan, profile, ctx, country).map_err(|(r, d)| reject(r, d))?;
        (Some(changes), Some(checked))
    } else {
        (None, None)
    };
    let mut missing_names = Vec::new();
    if let Some(c) = &contact {
        for (key, reason) in [("firstName", Reason::MissingFirstName), ("lastName", Reason::MissingLastName)] {
            if c.get(key).and_then(Json::as_str).is_none_or(|s| s.trim().is_empty()) {
                missing_names.push(reason);
            }
        }
    }
    let record = record.unwrap_or_default();
    let flagged_phones = record.phones.iter().filter_map(|(k, p)| p.flag.clone().map(|why| (k.clone(), why))).collect();
    let match_keys = match_keys(&record, external_id.as_deref(), profile);
    Ok(ImportRow { line, contact, external_id, match_keys, organization, missing_names, flagged_phones })
}

/// The column name of `field` for a detail: `column 3 'Work Email'`.
fn column_label(plan: &Plan, field: &Field) -> String {
    match plan.column_of(field) {
        Some(i) => format!("column {} '{}'", i + 1, plan.columns[i].name),
        None => field.to_string(),
    }
}

type Fault = (Reason, String);

/// Sort the row's cells by target; blank cells are left out, or given as
/// `null` where the profile's blanks clear (never names, IDs or the organization).
fn sort_cells(record: &Record<'_>, plan: &Plan, profile: &ImportProfile) -> Result<Cells, Fault> {
    let mut cells = Cells::default();
    for (i, field) in plan.fields() {
        let text = record.get(i).unwrap_or_default().trim();
        let too_long = |max: usize| {
            (text.chars().count() > max).then(|| {
                (Reason::FieldTooLong, format!("{} is longer than {max} characters", column_label(plan, field)))
            })
        };
        if let Some(fault) = too_long(match field {
            Field::ExternalId | Field::OrganizationExternalId => EXTERNAL_ID_MAX,
            _ => TEXT_MAX,
        }) {
            return Err(fault);
        }
        let value = if text.is_empty() {
            let keeps = matches!(field, Field::Contact("firstName" | "lastName")) || !profile.blank_clears;
            if keeps || matches!(field, Field::ExternalId) || field.is_organization() {
                continue;
            }
            Json::Null
        } else {
            Json::String(text.to_string())
        };
        let filled = !value.is_null();
        match field {
            Field::Contact(name) => _ = cells.contact.insert(name.to_string(), value),
            Field::Address(part) => _ = cells.address.insert(part.to_string(), value),
            Field::Social(network) => _ = cells.social.insert(network.clone(), value),
            Field::Custom(name) => _ = cells.custom.insert(name.clone(), value),
            Field::ExternalId => cells.external_id = Some(text.to_string()),
            Field::OrganizationName => cells.org_name = Some(text.to_string()),
            Field::OrganizationExternalId => cells.org_id = Some(text.to_string()),
        }
        cells.filled |= filled && !field.is_organization();
    }
    Ok(cells)
}

/// The organization part: an external ID is required with a name.
fn organization(cells: &Cells, plan: &Plan) -> Result<Option<OrgRef>, Fault> {
    match (&cells.org_name, &cells.org_id) {
        (None, None) => Ok(None),
        (Some(name), None) => Err((
            Reason::OrganizationWithoutExternalId,
            format!(
                "the row names the organization '{name}' without its external ID ({}); organizations match only by external ID",
                column_label(plan, &Field::OrganizationExternalId)
            ),
        )),
        (None, Some(id)) if !cells.filled => Err((
            Reason::MissingOrganizationName,
            format!("the organization '{id}' has no name ({})", column_label(plan, &Field::OrganizationName)),
        )),
        (name, Some(id)) => Ok(Some(OrgRef { name: name.clone(), external_id: id.clone() })),
    }
}

/// The contact's changes as one object (custom fields come after the check).
fn contact_changes(
    mut contact: Map<String, Json>,
    address: Map<String, Json>,
    social: Map<String, Json>,
) -> Map<String, Json> {
    if !address.is_empty() {
        contact.insert("address".into(), Json::Object(address));
    }
    if !social.is_empty() {
        contact.insert("socialHandles".into(), Json::Object(social));
    }
    contact
}

/// Check the changes as ADDCONTACT would (over a record that has names, so
/// only the row's own values are judged), then the custom fields against
/// the contact type; the changes with the checked custom values, and the
/// record they give.
fn check(
    mut changes: Map<String, Json>,
    custom: Map<String, Json>,
    plan: &Plan,
    profile: &ImportProfile,
    ctx: &RowContext<'_>,
    country: &str,
) -> Result<(Map<String, Json>, ContactRecord), Fault> {
    let named = |key: &str| changes.get(key).and_then(Json::as_str).map(str::to_string);
    let type_name = named("contactType").or_else(|| {
        let given = custom.values().any(|v| !v.is_null());
        given.then(|| profile.contact_type.clone()).flatten()
    });
    let contact_type = match &type_name {
        Some(name) => match ctx.contact_types.iter().find(|t| t.name.eq_ignore_ascii_case(name)) {
            Some(t) => Some(t),
            None => return Err((Reason::UnknownContactType, format!("the unit has no contact type '{name}'"))),
        },
        None => None,
    };
    if !custom.is_empty() {
        changes.insert("customFields".into(), Json::Object(check_custom(&custom, contact_type, plan)?));
        if let Some(t) = contact_type {
            changes.entry("contactType").or_insert_with(|| Json::String(t.name.clone()));
        }
    }
    let mut probe = changes.clone();
    probe.remove("customFields");
    probe.remove("contactType");
    let placeholder = ContactRecord { first_name: "-".into(), last_name: "-".into(), ..ContactRecord::default() };
    let (record, _) = apply_changes(Some(&placeholder), &probe, None, country).map_err(|e| invalid(e, plan))?;
    Ok((changes, record))
}

/// Custom values checked against the type, under the type's spelling;
/// `null` (a blank that clears) stays.
fn check_custom(
    custom: &Map<String, Json>,
    contact_type: Option<&ContactType>,
    plan: &Plan,
) -> Result<Map<String, Json>, Fault> {
    let mut out = Map::new();
    for (name, value) in custom {
        let label = column_label(plan, &Field::Custom(name.clone()));
        let Some(t) = contact_type else {
            if value.is_null() {
                continue;
            }
            let e = CustomFieldError::NoContactType(name.clone());
            return Err((
                Reason::InvalidCustomField,
                format!("{label}: {e}; name one in the profile or a contactType column"),
            ));
        };
        let Some(field) = t.field(name) else {
            let e = CustomFieldError::UnknownField { contact_type: t.name.clone(), field: name.clone() };
            return Err((Reason::InvalidCustomField, format!("{label}: {e}")));
        };
        let checked = if value.is_null() {
            Json::Null
        } else {
            check_value(field, value).map_err(|e| (Reason::InvalidCustomField, format!("{label}: {e}")))?
        };
        out.insert(field.name.clone(), checked);
    }
    Ok(out)
}

/// A refusal of [`apply_changes`] as a row's reason.
fn invalid(e: Invalid, plan: &Plan) -> Fault {
    let label = |field: &str| Field::parse(field).map_or_else(|| field.to_string(), |f| column_label(plan, &f));
    match e {
        Invalid::IncompleteEmail { field, error } => (Reason::IncompleteEmail, format!("{}: {error}", label(&field))),
        Invalid::PhoneRejected { field, error } => (Reason::UnparseablePhone, format!("{}: {error}", label(&field))),
        Invalid::TooLong { field, max } => {
            (Reason::FieldTooLong, format!("{} is longer than {max} characters", label(&field)))
        }
        Invalid::CustomField(e) => (Reason::InvalidCustomField, e.to_string()),
        other => (Reason::InvalidValue, other.to_string()),
    }
}

/// The row's identifiers, in the profile's order.
fn match_keys(record: &ContactRecord, external_id: Option<&str>, profile: &ImportProfile) -> Vec<ContactSearch> {
    let mut keys = Vec::new();
    for field in profile.identifiers() {
        match field {
            Field::ExternalId => keys.extend(
                external_id
                    .map(|id| ContactSearch::ExternalId { source: profile.external_source.clone(), id: id.into() }),
            ),
            Field::Contact(name) => {
                if let Some(e) = record.emails.get(name) {
                    keys.push(ContactSearch::Email(email_key(e)));
                } else if let Some(e164) = record.phones.get(name).and_then(|p| p.e164.clone()) {
                    keys.push(ContactSearch::Phone(e164));
                }
            }
            _ => {}
        }
    }
    keys
}

#[cfg(test)]
#[path = "row_tests.rs"]
mod tests;
