//! The address-book actions: IMPORTADDRESSBOOK (a whole file, through
//! [`import_file`]), GETRECIPIENTS and SETRECIPIENTSTATUS.
//!
//! Each reads and writes only the run's business unit, through
//! [`super::AddressBookStore`]; the line rules live in
//! [`crate::addressbook`]. A refused name or file is a branch (its reason
//! in the run's notes); unusable input and store failures are an
//! [`ActionError`] (OnError with `_ERR`). The manifests' permissions are
//! checked by the engine before any of this runs.

use super::AddressBookContext;
use super::import::{BATCH_LINES, ImportError, import_file};
use crate::addressbook::{Status, Statuses};
use crate::engine::action::{ActionError, Exec, Outcome};
use crate::store::time_text;
use crate::value::Value;

/// The most recipients GETRECIPIENTS returns unless MaxResults says otherwise.
const DEFAULT_MAX_RESULTS: i64 = 100;

fn count(n: u64) -> Value {
    Value::Number(n as f64)
}

action! {
    /// IMPORTADDRESSBOOK.
    ImportAddressBook = "IMPORTADDRESSBOOK", |ctx, inputs| {
        let file = inputs.text("File").trim().to_string();
        let name = inputs.text("Name").to_string();
        if file.is_empty() || name.trim().is_empty() {
            return Exec::branch("MissingRequiredField");
        }
        Exec::pending(async move {
            let (store, unit) = ctx.address_book().await?;
            let now = time_text(ctx.now());
            let path = std::path::PathBuf::from(&file);
            let report = match import_file(store.as_ref(), unit, &path, &name, &now, BATCH_LINES, &mut |_| {}).await {
                Ok(r) => r,
                Err(e @ (ImportError::Name(_) | ImportError::File(_))) => {
                    ctx.note(format!("{e} ({})", e.code()));
                    let branch = if matches!(e, ImportError::Name(_)) { "InvalidName" } else { "FileRejected" };
                    let log = serde_json::json!({"error": e.code(), "detail": e.to_string()});
                    return Ok(Outcome::branch(branch).output("Log", Value::from_json(&log)));
                }
                Err(ImportError::Store(e)) => return Err(e.into()),
            };
            for n in &report.notes {
                ctx.note(n.clone());
            }
            ctx.note(report.summary());
            Ok(Outcome::default()
                .output("Created", count(report.created))
                .output("Updated", count(report.updated))
                .output("Imported", count(report.imported()))
                .output("Rejected", count(report.rejected))
                .output("Log", Value::from_json(&report.to_json())))
        })
    }
}

action! {
    /// GETRECIPIENTS.
    GetRecipients = "GETRECIPIENTS", |ctx, inputs| {
        let status = match inputs.text("Status").trim() {
            "" => None,
            s => match Status::parse(s) {
                Ok(s) => Some(s),
                Err(e) => return Exec::fail(e.to_string()),
            },
        };
        let limit = match inputs.number("MaxResults") {
            None if inputs.text("MaxResults").trim().is_empty() => DEFAULT_MAX_RESULTS,
            Some(n) if (1.0..=1000.0).contains(&n) && n.fract() == 0.0 => n as i64,
            _ => return Exec::fail(format!("MaxResults '{}' is not 1 to 1000", inputs.text("MaxResults"))),
        };
        Exec::pending(async move {
            let (store, unit) = ctx.address_book().await?;
            let found = store.recipients(unit, status, "", limit).await?;
            let list: Vec<Value> = found.iter().map(|r| Value::from_json(&r.to_json())).collect();
            let o = if list.is_empty() { Outcome::branch("NotFound") } else { Outcome::default() };
            Ok(o.output("Count", count(list.len() as u64)).output("Recipients", Value::array(list)))
        })
    }
}

action! {
    /// SETRECIPIENTSTATUS.
    SetRecipientStatus = "SETRECIPIENTSTATUS", |ctx, inputs| {
        let email = inputs.text("Email").trim().to_string();
        if email.is_empty() {
            return Exec::branch("MissingRequiredField");
        }
        let statuses = match Statuses::parse(&inputs.text("Statuses")) {
            Ok(s) => s,
            Err(e) => return Exec::fail(e.to_string()),
        };
        Exec::pending(async move {
            let (store, unit) = ctx.address_book().await?;
            let now = time_text(ctx.now());
            if !store.set_statuses(unit, &email, statuses, &now).await? {
                return Ok(Outcome::branch("NotFound"));
            }
            let r = store
                .recipient(unit, &email)
                .await?
                .ok_or_else(|| ActionError::failed(format!("recipient {email} vanished while it was changed")))?;
            Ok(Outcome::default().output("Recipient", Value::from_json(&r.to_json())))
        })
    }
}
