//! The contacts actions: ADDCONTACT, UPDATECONTACT, FINDCONTACT,
//! ADDORGANIZATION, ADDNOTE and DELETECONTACT.
//!
//! Each reads and writes only the run's business unit, through
//! [`ContactsStore`]; the record rules live in [`crate::contacts`]. A
//! refused record is a branch (its reason in the run's notes); unusable
//! input and store failures are an [`ActionError`] (OnError with `_ERR`).

use super::{ContactsContext, ContactsStore, Written};
use crate::contacts::model::{self, Invalid, OrgChange, name_key};
use crate::contacts::phone::{PhoneRejected, phone_key};
use crate::contacts::{ContactRecord, ContactRow, ContactSearch, CustomFieldError, email::email_key};
use crate::engine::action::{ActionError, Exec, Outcome};
use crate::store::time_text;
use crate::value::Value;
use serde_json::{Map, Value as Json};

/// The most contacts FINDCONTACT returns unless MaxResults says otherwise.
const DEFAULT_MAX_RESULTS: i64 = 100;

/// A dynamic input as a JSON object (it may arrive as JSON text); `None`
/// when it is blank.
fn object_input(name: &str, v: &Value) -> Result<Option<Map<String, Json>>, ActionError> {
    let json = match v {
        Value::Null => return Ok(None),
        Value::Text(t) if t.trim().is_empty() => return Ok(None),
        Value::Text(t) => serde_json::from_str::<Json>(t)
            .map_err(|e| ActionError::failed(format!("{name} is not a JSON object: {e}")))?,
        other => other.to_report_json(),
    };
    match json {
        Json::Object(o) => Ok(Some(o)),
        _ => Err(ActionError::failed(format!("{name} must be an object"))),
    }
}

/// The branch a refused record takes; `None` for unusable input (OnError).
fn branch_of(e: &Invalid) -> Option<&'static str> {
    Some(match e {
        Invalid::MissingRequiredField(_) => "MissingRequiredField",
        Invalid::IncompleteEmail { .. } => "InvalidEmail",
        Invalid::PhoneRejected { error: PhoneRejected::ExtensionOnly(_), .. } => "InvalidPhone",
        Invalid::PhoneRejected { .. } => "InvalidPhone",
        Invalid::CustomField(CustomFieldError::BadDefinition(_) | CustomFieldError::DuplicateField(_)) => return None,
        Invalid::CustomField(_) => "InvalidCustomField",
        _ => return None,
    })
}

/// Refused: the branch with the reason noted, or OnError for unusable input.
fn refused(ctx: &mut crate::engine::action::Context<'_>, e: Invalid) -> Result<Outcome, ActionError> {
    match branch_of(&e) {
        Some(b) => {
            ctx.note(e.to_string());
            Ok(Outcome::branch(b))
        }
        None => Err(ActionError::failed(e.to_string())),
    }
}

/// A contact id input.
fn contact_id(inputs: &crate::engine::action::Inputs<'_>) -> Result<i64, String> {
    match inputs.number("ContactId") {
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n < 9.0e15 => Ok(n as i64),
        _ => Err(format!("ContactId '{}' is not a contact id", inputs.text("ContactId"))),
    }
}

/// ExternalSource and ExternalId: both or neither.
fn external_pair(inputs: &crate::engine::action::Inputs<'_>) -> Result<Option<(String, String)>, String> {
    let source = inputs.text("ExternalSource").trim().to_string();
    let id = inputs.text("ExternalId").trim().to_string();
    match (source.is_empty(), id.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some((source, id))),
        _ => Err("ExternalSource and ExternalId must be given together".into()),
    }
}

/// What ADDCONTACT and UPDATECONTACT share: check `changes` against
/// `base`, resolve the contact type, organization and external source,
/// and make the row to write — or the branch that refuses it.
async fn prepare(
    ctx: &mut crate::engine::action::Context<'_>,
    store: &dyn ContactsStore,
    unit: i64,
    base: Option<(&ContactRecord, Option<i64>)>,
    changes: &Map<String, Json>,
    external: Option<(String, String)>,
) -> Result<Result<ContactRow, Outcome>, ActionError> {
    let country = store.default_country(unit).await?;
    let type_name = match changes.get("contactType") {
        Some(Json::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(_) => None,
        None => base.and_then(|(b, _)| b.contact_type.clone()),
    };
    let contact_type = match &type_name {
        Some(name) => match store.contact_type(unit, name).await? {
            Some(t) => Some(t),
            None => {
                ctx.note(format!("no contact type named '{name}'"));
                return Ok(Err(Outcome::branch("ContactTypeNotFound")));
            }
        },
        None => None,
    };
    let (mut record, org) = match model::apply_changes(base.map(|b| b.0), changes, contact_type.as_ref(), &country) {
        Ok(r) => r,
        Err(e) => return refused(ctx, e).map(Err),
    };
    if let Some(t) = &contact_type {
        record.contact_type = Some(t.name.clone());
    }
    let org_id = match org {
        OrgChange::Keep => base.and_then(|b| b.1),
        OrgChange::Clear => None,
        OrgChange::Set(key) => match store.find_organizations(unit, &key).await?.as_slice() {
            [one] => Some(one.id),
            [] => {
                ctx.note(format!("no organization '{key}'"));
                return Ok(Err(Outcome::branch("OrganizationNotFound")));
            }
            several => {
                ctx.note(format!("{} organizations match '{key}': give its external ID or #id", several.len()));
                return Ok(Err(Outcome::branch("OrganizationNotFound")));
            }
        },
    };
    let mut new_ids = Vec::new();
    if let Some((source, id)) = external {
        let source_id = store
            .source_id(unit, &source)
            .await?
            .ok_or_else(|| ActionError::failed(format!("external source '{source}' does not exist")))?;
        new_ids.push((source_id, id));
    }
    Ok(Ok(ContactRow::new(record, org_id, new_ids)))
}

/// The contact's object, and the outcome that writes it to Contact.
async fn with_contact(store: &dyn ContactsStore, unit: i64, id: i64, o: Outcome) -> Result<Outcome, ActionError> {
    let c = store.contact(unit, id).await?.ok_or_else(|| ActionError::failed(format!("contact {id} vanished")))?;
    Ok(o.output("Contact", Value::from_json(&c.to_json())))
}

fn written(ctx: &mut crate::engine::action::Context<'_>, w: Written) -> Result<i64, Outcome> {
    match w {
        Written::Done(id) => Ok(id),
        Written::NotFound => Err(Outcome::branch("NotFound")),
        Written::DuplicateExternalId => {
            ctx.note("that external ID already names a contact in that source");
            Err(Outcome::branch("DuplicateExternalId"))
        }
    }
}

action! {
    /// ADDCONTACT.
    AddContact = "ADDCONTACT", |ctx, inputs| {
        let changes = match object_input("Fields", inputs.get("Fields")) {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => return Exec::Ready(Err(e)),
        };
        let external = match external_pair(inputs) {
            Ok(x) => x,
            Err(e) => return Exec::fail(e),
        };
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            let row = match prepare(ctx, store.as_ref(), unit, None, &changes, external).await? {
                Ok(row) => row,
                Err(branch) => return Ok(branch),
            };
            let now = time_text(ctx.now());
            let id = match written(ctx, store.add_contact(unit, &row, &now).await?) {
                Ok(id) => id,
                Err(branch) => return Ok(branch),
            };
            let o = Outcome::default().output("ContactId", Value::Number(id as f64));
            with_contact(store.as_ref(), unit, id, o).await
        })
    }
}

action! {
    /// UPDATECONTACT.
    UpdateContact = "UPDATECONTACT", |ctx, inputs| {
        let id = match contact_id(inputs) {
            Ok(id) => id,
            Err(e) => return Exec::fail(e),
        };
        let changes = match object_input("Fields", inputs.get("Fields")) {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => return Exec::Ready(Err(e)),
        };
        let external = match external_pair(inputs) {
            Ok(x) => x,
            Err(e) => return Exec::fail(e),
        };
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            let Some(current) = store.contact(unit, id).await? else {
                return Ok(Outcome::branch("NotFound"));
            };
            let base = (&current.record, current.organization.as_ref().map(|o| o.id));
            let row = match prepare(ctx, store.as_ref(), unit, Some(base), &changes, external).await? {
                Ok(row) => row,
                Err(branch) => return Ok(branch),
            };
            let now = time_text(ctx.now());
            if let Err(branch) = written(ctx, store.update_contact(unit, id, &row, &now).await?) {
                return Ok(branch);
            }
            with_contact(store.as_ref(), unit, id, Outcome::default()).await
        })
    }
}

action! {
    /// FINDCONTACT.
    FindContact = "FINDCONTACT", |ctx, inputs| {
        let given = |name: &str| Some(inputs.text(name).trim().to_string()).filter(|s| !s.is_empty());
        let (email, phone, external, last) = (given("Email"), given("Phone"), given("ExternalId"), given("LastName"));
        let kinds = [email.is_some(), phone.is_some(), external.is_some(), last.is_some()];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Exec::fail("FINDCONTACT needs exactly one of Email, Phone, ExternalId or LastName");
        }
        if given("FirstName").is_some() && last.is_none() {
            return Exec::fail("FirstName needs LastName");
        }
        let limit = match inputs.number("MaxResults") {
            None if !inputs.is_given("MaxResults") || inputs.text("MaxResults").trim().is_empty() => DEFAULT_MAX_RESULTS,
            Some(n) if (1.0..=1000.0).contains(&n) && n.fract() == 0.0 => n as i64,
            _ => return Exec::fail(format!("MaxResults '{}' is not 1 to 1000", inputs.text("MaxResults"))),
        };
        let source = given("ExternalSource");
        let first = given("FirstName");
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            let search = if let Some(e) = email {
                ContactSearch::Email(email_key(&e))
            } else if let Some(p) = phone {
                let country = store.default_country(unit).await?;
                match phone_key(&p, &country) {
                    Some(key) => ContactSearch::Phone(key),
                    None => {
                        ctx.note(format!("'{p}' is not a valid phone number: no contact can match it"));
                        return Ok(Outcome::branch("NotFound").output("Count", Value::Number(0.0)));
                    }
                }
            } else if let Some(id) = external {
                ContactSearch::ExternalId { source, id }
            } else {
                ContactSearch::Name { first: first.map(|f| name_key(&f)), last: name_key(&last.unwrap_or_default()) }
            };
            let found = store.find_contacts(unit, &search, limit).await?;
            let list: Vec<Value> = found.iter().map(|c| Value::from_json(&c.to_json())).collect();
            ctx.note(format!("{} contact(s) found", list.len()));
            let first = list.first().cloned();
            let count = Value::Number(list.len() as f64);
            let o = match first {
                Some(c) => Outcome::default().output("Contact", c),
                None => Outcome::branch("NotFound"),
            };
            Ok(o.output("Count", count).output("Contacts", Value::array(list)))
        })
    }
}

action! {
    /// ADDORGANIZATION.
    AddOrganization = "ADDORGANIZATION", |ctx, inputs| {
        let mut given = match object_input("Fields", inputs.get("Fields")) {
            Ok(o) => o.unwrap_or_default(),
            Err(e) => return Exec::Ready(Err(e)),
        };
        given.insert("name".into(), Json::String(inputs.text("Name").to_string()));
        if inputs.is_given("ExternalId") {
            given.insert("externalId".into(), Json::String(inputs.text("ExternalId").to_string()));
        }
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            let country = store.default_country(unit).await?;
            let record = match model::organization(&given, &country) {
                Ok(r) => r,
                Err(e @ Invalid::TooLong { .. }) => {
                    ctx.note(e.to_string());
                    return Ok(Outcome::branch("InvalidExternalId"));
                }
                Err(e) => return refused(ctx, e),
            };
            let now = time_text(ctx.now());
            let Some(org) = store.add_organization(unit, &record, &now).await? else {
                ctx.note("another organization of the unit has that external ID");
                return Ok(Outcome::branch("DuplicateExternalId"));
            };
            Ok(Outcome::default()
                .output("OrganizationId", Value::Number(org.id as f64))
                .output("Organization", Value::from_json(&org.to_json())))
        })
    }
}

action! {
    /// ADDNOTE.
    AddNote = "ADDNOTE", |ctx, inputs| {
        let id = match contact_id(inputs) {
            Ok(id) => id,
            Err(e) => return Exec::fail(e),
        };
        let text = inputs.text("Text").trim().to_string();
        if text.is_empty() {
            return Exec::branch("MissingRequiredField");
        }
        let author = Some(inputs.text("Author").trim().to_string()).filter(|a| !a.is_empty());
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            let now = time_text(ctx.now());
            let author = author.unwrap_or_else(|| "script".into());
            Ok(match store.add_note(unit, id, &author, &text, &now).await? {
                Some(note) => Outcome::default().output("NoteId", Value::Number(note.id as f64)),
                None => Outcome::branch("NotFound"),
            })
        })
    }
}

action! {
    /// DELETECONTACT.
    DeleteContact = "DELETECONTACT", |ctx, inputs| {
        let id = match contact_id(inputs) {
            Ok(id) => id,
            Err(e) => return Exec::fail(e),
        };
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            Ok(if store.delete_contact(unit, id).await? { Outcome::default() } else { Outcome::branch("NotFound") })
        })
    }
}
