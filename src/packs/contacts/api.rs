//! The contacts operations a host, the CLI and the actions share: adding
//! and changing a contact (with its contact type, organization and
//! external source resolved in the unit), adding an organization, and
//! searching, over any [`ContactsStore`].

use super::{ContactsStore, Written};
use crate::contacts::email::email_key;
use crate::contacts::model::{self, Invalid, OrgChange, name_key};
use crate::contacts::phone::{DEFAULT_COUNTRY, known_country_code, needs_default_country, phone_key};
use crate::contacts::{Contact, ContactRow, ContactSearch, CustomFieldError, Organization};
use crate::store::StoreError;
use serde_json::{Map, Value as Json};

/// Why a contact or organization was not written: the branch an action
/// takes for it (`MissingRequiredField`, `InvalidEmail`, ...) and the
/// reason in words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{branch}: {reason}")]
pub struct Refused {
    /// The branch name.
    pub branch: &'static str,
    /// Why.
    pub reason: String,
}

/// A contacts operation that could not run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContactsError {
    /// A record was refused; nothing was written.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// Input no rule can read (an unknown field, a value of the wrong
    /// shape, an unknown external source).
    #[error("{0}")]
    Input(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(branch: &'static str, reason: impl Into<String>) -> ContactsError {
    ContactsError::Refused(Refused { branch, reason: reason.into() })
}

/// A record rule's refusal as its branch, or unusable input.
pub fn invalid(e: Invalid) -> ContactsError {
    let branch = match &e {
        Invalid::MissingRequiredField(_) => "MissingRequiredField",
        Invalid::IncompleteEmail { .. } => "InvalidEmail",
        Invalid::PhoneRejected { .. } => "InvalidPhone",
        Invalid::CustomField(CustomFieldError::BadDefinition(_) | CustomFieldError::DuplicateField(_)) => {
            return ContactsError::Input(e.to_string());
        }
        Invalid::CustomField(_) => "InvalidCustomField",
        Invalid::TooLong { field, .. } if field == "externalId" => "InvalidExternalId",
        _ => return ContactsError::Input(e.to_string()),
    };
    refused(branch, e.to_string())
}

/// Add a contact (`id` = `None`) or change contact `id` with `changes`
/// (the anchor's field names), adding the identifier `external` = (source
/// name, id) when given. Returns the contact as stored.
pub async fn save_contact(
    store: &dyn ContactsStore,
    unit: i64,
    id: Option<i64>,
    changes: &Map<String, Json>,
    external: Option<(&str, &str)>,
    now: &str,
) -> Result<Contact, ContactsError> {
    let current = match id {
        Some(id) => {
            Some(store.contact(unit, id).await?.ok_or_else(|| refused("NotFound", format!("no contact {id}")))?)
        }
        None => None,
    };
    let base = current.as_ref().map(|c| (&c.record, c.organization.as_ref().map(|o| o.id)));
    let country = store.default_country(unit).await?;
    let type_name = match changes.get("contactType") {
        Some(Json::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(_) => None,
        None => base.and_then(|(b, _)| b.contact_type.clone()),
    };
    let contact_type = match &type_name {
        Some(name) => Some(
            store
                .contact_type(unit, name)
                .await?
                .ok_or_else(|| refused("ContactTypeNotFound", format!("no contact type named '{name}'")))?,
        ),
        None => None,
    };
    let (mut record, org) =
        model::apply_changes(base.map(|b| b.0), changes, contact_type.as_ref(), &country).map_err(invalid)?;
    if let Some(t) = &contact_type {
        record.contact_type = Some(t.name.clone());
    }
    let org_id = match org {
        OrgChange::Keep => base.and_then(|b| b.1),
        OrgChange::Clear => None,
        OrgChange::Set(key) => match store.find_organizations(unit, &key).await?.as_slice() {
            [one] => Some(one.id),
            [] => return Err(refused("OrganizationNotFound", format!("no organization '{key}'"))),
            several => {
                let n = several.len();
                return Err(refused("OrganizationNotFound", format!("{n} organizations match '{key}': give its #id")));
            }
        },
    };
    let mut new_ids = Vec::new();
    if let Some((source, external_id)) = external {
        let source_id = store
            .source_id(unit, source)
            .await?
            .ok_or_else(|| ContactsError::Input(format!("external source '{source}' does not exist")))?;
        new_ids.push((source_id, external_id.trim().to_string()));
    }
    let row = ContactRow::new(record, org_id, new_ids);
    let written = match id {
        None => store.add_contact(unit, &row, now).await?,
        Some(id) => store.update_contact(unit, id, &row, now).await?,
    };
    let id = match written {
        Written::Done(id) => id,
        Written::NotFound => return Err(refused("NotFound", "the contact is gone")),
        Written::DuplicateExternalId => {
            return Err(refused("DuplicateExternalId", "that external ID already names a contact in that source"));
        }
    };
    store.contact(unit, id).await?.ok_or_else(|| ContactsError::Input(format!("contact {id} vanished")))
}

/// Add an organization given as an object (`name`, `externalId`,
/// `address`, `phones`, `websites`).
pub async fn add_organization(
    store: &dyn ContactsStore,
    unit: i64,
    given: &Map<String, Json>,
    now: &str,
) -> Result<Organization, ContactsError> {
    let country = store.default_country(unit).await?;
    let record = model::organization(given, &country).map_err(invalid)?;
    store
        .add_organization(unit, &record, now)
        .await?
        .ok_or_else(|| refused("DuplicateExternalId", "another organization of the unit has that external ID"))
}

/// What to look contacts up by, as given (FINDCONTACT's inputs, the CLI's
/// options).
#[derive(Clone, Debug, Default)]
pub struct Lookup {
    /// An email (case ignored).
    pub email: Option<String>,
    /// A phone in any written form.
    pub phone: Option<String>,
    /// An external ID.
    pub external_id: Option<String>,
    /// Its source (optional).
    pub source: Option<String>,
    /// A first name (with `last_name`).
    pub first_name: Option<String>,
    /// A last name.
    pub last_name: Option<String>,
}

/// Find contacts, oldest first, at most `limit`. A phone that is not a
/// valid number finds nothing.
pub async fn find(
    store: &dyn ContactsStore,
    unit: i64,
    by: &Lookup,
    limit: i64,
) -> Result<Vec<Contact>, ContactsError> {
    let given = [&by.email, &by.phone, &by.external_id, &by.last_name].iter().filter(|v| v.is_some()).count();
    if given != 1 {
        return Err(ContactsError::Input("give exactly one of email, phone, external ID or last name".into()));
    }
    if by.first_name.is_some() && by.last_name.is_none() {
        return Err(ContactsError::Input("a first name needs a last name".into()));
    }
    let search = if let Some(e) = &by.email {
        ContactSearch::Email(email_key(e))
    } else if let Some(p) = &by.phone {
        let country =
            if needs_default_country(p) { store.default_country(unit).await? } else { DEFAULT_COUNTRY.to_string() };
        match phone_key(p, &country) {
            Some(key) => ContactSearch::Phone(key),
            None => return Ok(Vec::new()),
        }
    } else if let Some(id) = &by.external_id {
        ContactSearch::ExternalId { source: by.source.clone(), id: id.trim().to_string() }
    } else {
        let last = by.last_name.as_deref().map(name_key).unwrap_or_default();
        ContactSearch::Name { first: by.first_name.as_deref().map(name_key), last }
    };
    Ok(store.find_contacts(unit, &search, limit).await?)
}

/// Set the unit's default country (the country of numbers written without
/// a country code) and return it as stored; a code libphonenumber does not
/// know is refused and nothing is written.
pub async fn set_default_country(
    store: &dyn ContactsStore,
    unit: i64,
    country: &str,
    now: &str,
) -> Result<String, ContactsError> {
    let code = known_country_code(country).ok_or_else(|| {
        ContactsError::Input(format!(
            "unknown country {:?}: use a two-letter ISO 3166 code (US, GB, FR, ...)",
            country.trim()
        ))
    })?;
    store.set_default_country(unit, &code, now).await?;
    Ok(code)
}
