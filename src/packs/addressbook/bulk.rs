//! An import's batch written on SQLite straight through its C API
//! (`store::sqlite::raw`), inside one sqlx transaction: the shared
//! insert ([`INSERT_NEW`]) and [`OVERWRITE`] of `sql.rs`, prepared once per batch and
//! bound in place, so a million-line import costs no per-value
//! allocation or thread hand-off (see `packs::contacts::bulk`).

use super::sql::{INSERT_NEW, OVERWRITE, insert_params, overwrite_params};
use super::store::BatchWritten;
use crate::addressbook::{Recipient, Statuses};
use crate::contacts::email::email_key;
use crate::store::sqlite::raw::RawConnection;
use crate::store::{SqliteStore, StoreError};

/// Write `rows` of import `import` for `unit`, in order, in one
/// transaction: each is inserted as new, or (its email taken) overwrites
/// the stored recipient.
pub(super) async fn write_batch(
    store: &SqliteStore,
    unit: i64,
    import: &str,
    rows: &[Recipient],
    now: &str,
) -> Result<BatchWritten, StoreError> {
    let mut tx = store.pool().begin_with("BEGIN IMMEDIATE").await?;
    let written = {
        let raw = RawConnection::lock(&mut tx).await?;
        write(&raw, unit, import, rows, now)?
    };
    tx.commit().await?;
    Ok(written)
}

fn write(
    raw: &RawConnection<'_>,
    unit: i64,
    import: &str,
    rows: &[Recipient],
    now: &str,
) -> Result<BatchWritten, StoreError> {
    let mut insert = raw.prepare(INSERT_NEW)?;
    let mut overwrite = raw.prepare(OVERWRITE)?;
    let mut written = BatchWritten::default();
    for r in rows {
        let key = email_key(&r.email);
        // Most lines of an import are new: try the insert, which checks the
        // key on its way, and overwrite only when it was taken.
        if insert.execute_changed(&insert_params(unit, r, &key, Statuses::NEW, Some(import), now))? {
            written.created += 1;
        } else {
            overwrite.execute(&overwrite_params(unit, r, &key, import, now))?;
            written.updated += 1;
        }
    }
    Ok(written)
}
