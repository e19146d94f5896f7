//! New contacts written on SQLite straight through its C API
//! (`store::sqlite::raw`), inside one sqlx transaction: the same
//! statements as the shared implementation in `sql.rs`, prepared once per
//! batch and bound in place. A load of a million contacts is five million
//! rows; through sqlx each bound text would be copied into a fresh
//! allocation and handed to the connection's thread, which is most of the
//! time a bulk load takes.

use super::sql::{
    ADD_CONTACT, ADD_EMAIL, ADD_EXTERNAL_ID, ADD_PHONE, SOURCE_NAME, UPDATE_CONTACT, contact_params, email_params,
    json, name_keys, phone_params,
};
use crate::contacts::ContactRow;
use crate::contacts::model::ExternalId;
use crate::store::sql::{Param::Int, text};
use crate::store::sqlite::raw::{RawConnection, RawStatement};
use crate::store::{SqliteStore, StoreError};

/// A statement prepared the first time it is needed (most contacts carry
/// no external IDs, so most batches never prepare those).
fn prepared<'s, 'r, 'c>(
    slot: &'s mut Option<RawStatement<'r, 'c>>,
    raw: &'r RawConnection<'c>,
    sql: &str,
) -> Result<&'s mut RawStatement<'r, 'c>, StoreError> {
    if slot.is_none() {
        *slot = Some(raw.prepare(sql)?);
    }
    slot.as_mut().ok_or_else(|| StoreError::Query("statement not prepared".into()))
}

/// Add `rows` as new contacts of `unit` in one transaction: their ids in
/// order, or the index of the first row whose external ID is taken (then
/// nothing is written).
pub(super) async fn add_contacts(
    store: &SqliteStore,
    unit: i64,
    rows: &[ContactRow],
    now: &str,
) -> Result<Result<Vec<i64>, usize>, StoreError> {
    let mut tx = store.pool().begin_with("BEGIN IMMEDIATE").await?;
    let written = {
        let raw = RawConnection::lock(&mut tx).await?;
        write(&raw, unit, rows, now)?
    };
    if written.is_ok() {
        tx.commit().await?;
    }
    Ok(written)
}

fn write(
    raw: &RawConnection<'_>,
    unit: i64,
    rows: &[ContactRow],
    now: &str,
) -> Result<Result<Vec<i64>, usize>, StoreError> {
    let mut contact = raw.prepare(ADD_CONTACT)?;
    let mut phone = raw.prepare(ADD_PHONE)?;
    let mut email = raw.prepare(ADD_EMAIL)?;
    let (mut external, mut source_name, mut update) = (None, None, None);
    let mut ids = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let (keys, record) = (name_keys(&row.record), json(&row.record)?);
        let id = contact
            .first_int(&contact_params(unit, row, &keys, &record, "[]", now))?
            .ok_or_else(|| StoreError::Query("a new contact got no id".into()))?;
        let mut external_ids = Vec::new();
        for (source, value) in &row.new_external_ids {
            let added = prepared(&mut external, raw, ADD_EXTERNAL_ID)?;
            if added.first_int(&[Int(unit), Int(id), Int(*source), text(value), text(now)])?.is_none() {
                return Ok(Err(i));
            }
            let name = prepared(&mut source_name, raw, SOURCE_NAME)?
                .first_text(&[Int(unit), Int(*source)])?
                .ok_or_else(|| StoreError::Query(format!("no external source {source}")))?;
            external_ids.push(ExternalId { source: name, id: value.clone() });
        }
        for (field, p) in &row.record.phones {
            phone.execute(&phone_params(unit, id, field, p))?;
        }
        for (field, key) in &row.email_keys {
            email.execute(&email_params(unit, id, row, field, key))?;
        }
        // A new contact's row already holds everything but new external IDs.
        if !external_ids.is_empty() {
            let ids_json = json(&external_ids)?;
            let mut params = contact_params(unit, row, &keys, &record, &ids_json, now).to_vec();
            params.push(Int(id));
            prepared(&mut update, raw, UPDATE_CONTACT)?.execute(&params)?;
        }
        ids.push(id);
    }
    Ok(Ok(ids))
}
