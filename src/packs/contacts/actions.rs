//! The contacts actions: ADDCONTACT, UPDATECONTACT, FINDCONTACT,
//! ADDORGANIZATION, ADDNOTE, DELETECONTACT and IMPORTCONTACTS (a bulk
//! import job, run by [`Importer`]).
//!
//! Each reads and writes only the run's business unit, through
//! [`super::ContactsStore`] and the operations in `api.rs`; the record
//! rules live in [`crate::contacts`]. A refused record is a branch (its
//! reason in the run's notes); unusable input and store failures are an
//! [`ActionError`] (OnError with `_ERR`).

use super::ContactsContext;
use super::api::{self, ContactsError, Lookup};
use super::importer::{ImportError, Importer};
use super::imports::{ImportsContext, JobStatus};
use crate::contacts::import::{ImportProfile, Layout};
use crate::engine::action::{ActionError, Context, Exec, Inputs, Outcome};
use crate::store::time_text;
use crate::value::Value;
use serde_json::{Map, Value as Json, json};

/// The most contacts FINDCONTACT returns unless MaxResults says otherwise.
const DEFAULT_MAX_RESULTS: i64 = 100;

/// A dynamic input as a JSON object (it may arrive as JSON text); empty
/// when it is blank.
fn object_input(name: &str, v: &Value) -> Result<Map<String, Json>, ActionError> {
    let json = match v {
        Value::Null => return Ok(Map::new()),
        Value::Text(t) if t.trim().is_empty() => return Ok(Map::new()),
        Value::Text(t) => serde_json::from_str::<Json>(t)
            .map_err(|e| ActionError::failed(format!("{name} is not a JSON object: {e}")))?,
        other => other.to_report_json(),
    };
    match json {
        Json::Object(o) => Ok(o),
        _ => Err(ActionError::failed(format!("{name} must be an object"))),
    }
}

/// A refusal as its branch (the reason noted); anything else fails.
fn outcome_of(ctx: &mut Context<'_>, e: ContactsError) -> Result<Outcome, ActionError> {
    match e {
        ContactsError::Refused(r) => {
            ctx.note(r.reason);
            Ok(Outcome::branch(r.branch))
        }
        ContactsError::Input(m) => Err(ActionError::failed(m)),
        ContactsError::Store(e) => Err(e.into()),
    }
}

/// A contact id input.
fn contact_id(inputs: &Inputs<'_>) -> Result<i64, String> {
    match inputs.number("ContactId") {
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n < 9.0e15 => Ok(n as i64),
        _ => Err(format!("ContactId '{}' is not a contact id", inputs.text("ContactId"))),
    }
}

/// ExternalSource and ExternalId: both or neither.
fn external_pair(inputs: &Inputs<'_>) -> Result<Option<(String, String)>, String> {
    let source = inputs.text("ExternalSource").trim().to_string();
    let id = inputs.text("ExternalId").trim().to_string();
    match (source.is_empty(), id.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some((source, id))),
        _ => Err("ExternalSource and ExternalId must be given together".into()),
    }
}

/// ADDCONTACT and UPDATECONTACT: `id` is the contact to change.
fn save<'a>(ctx: &'a mut Context<'_>, inputs: &'a Inputs<'_>, id: Option<i64>) -> Exec<'a> {
    let changes = match object_input("Fields", inputs.get("Fields")) {
        Ok(c) => c,
        Err(e) => return Exec::Ready(Err(e)),
    };
    let external = match external_pair(inputs) {
        Ok(x) => x,
        Err(e) => return Exec::fail(e),
    };
    Exec::pending(async move {
        let (store, unit) = ctx.contacts().await?;
        let now = time_text(ctx.now());
        let ext = external.as_ref().map(|(s, i)| (s.as_str(), i.as_str()));
        match api::save_contact(store.as_ref(), unit, id, &changes, ext, &now).await {
            Ok(c) => {
                let o = Outcome::default().output("Contact", Value::from_json(&c.to_json()));
                Ok(if id.is_none() { o.output("ContactId", Value::Number(c.id as f64)) } else { o })
            }
            Err(e) => outcome_of(ctx, e),
        }
    })
}

action! {
    /// ADDCONTACT.
    AddContact = "ADDCONTACT", |ctx, inputs| {
        save(ctx, inputs, None)
    }
}

action! {
    /// UPDATECONTACT.
    UpdateContact = "UPDATECONTACT", |ctx, inputs| {
        match contact_id(inputs) {
            Ok(id) => save(ctx, inputs, Some(id)),
            Err(e) => Exec::fail(e),
        }
    }
}

action! {
    /// FINDCONTACT.
    FindContact = "FINDCONTACT", |ctx, inputs| {
        let given = |name: &str| Some(inputs.text(name).trim().to_string()).filter(|s| !s.is_empty());
        let by = Lookup {
            email: given("Email"),
            phone: given("Phone"),
            external_id: given("ExternalId"),
            source: given("ExternalSource"),
            first_name: given("FirstName"),
            last_name: given("LastName"),
        };
        let limit = match inputs.number("MaxResults") {
            None if inputs.text("MaxResults").trim().is_empty() => DEFAULT_MAX_RESULTS,
            Some(n) if (1.0..=1000.0).contains(&n) && n.fract() == 0.0 => n as i64,
            _ => return Exec::fail(format!("MaxResults '{}' is not 1 to 1000", inputs.text("MaxResults"))),
        };
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            let found = match api::find(store.as_ref(), unit, &by, limit).await {
                Ok(found) => found,
                Err(e) => return outcome_of(ctx, e),
            };
            let list: Vec<Value> = found.iter().map(|c| Value::from_json(&c.to_json())).collect();
            ctx.note(format!("{} contact(s) found", list.len()));
            let count = Value::Number(list.len() as f64);
            let o = match list.first() {
                Some(c) => Outcome::default().output("Contact", c.clone()),
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
            Ok(o) => o,
            Err(e) => return Exec::Ready(Err(e)),
        };
        given.insert("name".into(), Json::String(inputs.text("Name").to_string()));
        if inputs.is_given("ExternalId") {
            given.insert("externalId".into(), Json::String(inputs.text("ExternalId").to_string()));
        }
        Exec::pending(async move {
            let (store, unit) = ctx.contacts().await?;
            let now = time_text(ctx.now());
            match api::add_organization(store.as_ref(), unit, &given, &now).await {
                Ok(org) => Ok(Outcome::default()
                    .output("OrganizationId", Value::Number(org.id as f64))
                    .output("Organization", Value::from_json(&org.to_json()))),
                Err(e) => outcome_of(ctx, e),
            }
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

action! {
    /// IMPORTCONTACTS.
    ImportContacts = "IMPORTCONTACTS", |ctx, inputs| {
        let file = inputs.text("File").trim().to_string();
        if file.is_empty() {
            return Exec::branch("MissingRequiredField");
        }
        let profile_name = Some(inputs.text("Profile").trim().to_string()).filter(|p| !p.is_empty());
        let layout = match inputs.text("Layout").trim().to_ascii_lowercase().as_str() {
            "" | "new" => Layout::New,
            "legacy" => Layout::Legacy,
            other => return Exec::fail(format!("Layout '{other}' is not new or legacy")),
        };
        let validate_only = inputs.boolean("ValidateOnly");
        Exec::pending(async move {
            let (store, unit) = ctx.imports().await?;
            let profile = match &profile_name {
                None => ImportProfile::default_for(layout),
                Some(name) => match store.profile(unit, name).await? {
                    Some(text) => serde_json::from_str(&text)
                        .map_err(|e| ActionError::failed(format!("import profile '{name}' is unreadable: {e}")))?,
                    None => {
                        ctx.note(format!("no import profile named '{name}'"));
                        return Ok(Outcome::branch("ProfileNotFound"));
                    }
                },
            };
            let importer = Importer::new(store, unit);
            let path = std::path::PathBuf::from(&file);
            let done = if validate_only {
                importer.validate(&path, &profile).await.map(|v| (None, v.log))
            } else {
                match importer.start(&path, &profile, &mut |_| {}).await {
                    Ok(job) => importer.log(job.id).await.map(|log| (Some(job), log)),
                    Err(e) => Err(e),
                }
            };
            let (job, log) = match done {
                Ok(done) => done,
                Err(e @ (ImportError::File(_) | ImportError::Profile(_))) => {
                    ctx.note(format!("{file}: {e} ({})", e.code()));
                    let branch = if matches!(e, ImportError::File(_)) { "FileRejected" } else { "InvalidProfile" };
                    return Ok(Outcome::branch(branch).output("Log", Value::from_json(&json!({"error": e.code()}))));
                }
                Err(ImportError::Store(e)) => return Err(e.into()),
                Err(e) => return Err(ActionError::failed(e.to_string())),
            };
            let count = |n: u64| Value::Number(n as f64);
            let mut o = match &job {
                Some(j) if j.status != JobStatus::Completed => Outcome::branch("Cancelled"),
                _ => Outcome::default(),
            };
            if let Some(j) = &job {
                o = o.output("JobId", count(j.id as u64));
            }
            ctx.note(log.summary());
            Ok(o.output("Created", count(log.created))
                .output("Updated", count(log.updated))
                .output("Imported", count(log.imported()))
                .output("NotImported", count(log.not_imported))
                .output("Log", Value::from_json(&log.to_json())))
        })
    }
}
