//! [`AddressBookStore`] on SQLite and PostgreSQL: one query text per
//! operation (`$N` placeholders mean the same on both drivers, see
//! `store::sql`), and one implementation written once and expanded for
//! each backend's pool type ([`address_book_store!`]). Only an import's
//! batch write differs: on SQLite, single-row statements bound through the
//! C API (`bulk.rs`); on PostgreSQL, one multi-row upsert over UNNEST
//! arrays (a round trip per batch, not per row).

use super::store::{AddressBookStore, BatchWritten, Edited, StoredRecipient};
use crate::addressbook::{Civility, Recipient, Status, Statuses};
use crate::contacts::email::email_key;
use crate::store::StoreError;
use crate::store::sql::{Param, Param::Int, Param::Text, query, text};

/// The text of [`INSERT`] up to its `RETURNING`.
macro_rules! insert_new {
    () => {
        "INSERT INTO address_book (unit_id, email, email_key, civility, first_name, last_name,
     department, phone, address, city, is_expert, is_copy, is_transfer, import_name, created_at, modified_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
     ON CONFLICT (unit_id, email_key) DO NOTHING"
    };
}

/// A new recipient: the data, its statuses (`$11`-`$13`), the import's
/// name (`$14`, NULL by hand) and the time (`$15`); no row back when the
/// email is taken.
const INSERT: &str = concat!(insert_new!(), " RETURNING id");
/// [`INSERT`] without its `RETURNING` (the SQLite batch write asks SQLite
/// whether it changed a row instead).
pub(super) const INSERT_NEW: &str = insert_new!();

/// An import overwriting a recipient: its data, the import's name (`$11`)
/// and the time (`$12`); statuses untouched.
pub(super) const OVERWRITE: &str = "UPDATE address_book SET email = $2, civility = $4, first_name = $5,
     last_name = $6, department = $7, phone = $8, address = $9, city = $10, import_name = $11, modified_at = $12
     WHERE unit_id = $1 AND email_key = $3";
/// An edit by hand: the data and the time (`$11`); statuses and the
/// import's name untouched.
const EDIT: &str = "UPDATE address_book SET email = $2, civility = $4, first_name = $5, last_name = $6,
     department = $7, phone = $8, address = $9, city = $10, modified_at = $11 WHERE unit_id = $1 AND email_key = $3";
const DELETE: &str = "DELETE FROM address_book WHERE unit_id = $1 AND email_key = $2";
const SET_STATUSES: &str = "UPDATE address_book SET is_expert = $3, is_copy = $4, is_transfer = $5, modified_at = $6
     WHERE unit_id = $1 AND email_key = $2";
const SELECT: &str = "SELECT id, email, civility, first_name, last_name, department, phone, address, city,
     is_expert, is_copy, is_transfer, import_name, created_at, modified_at FROM address_book";
const ONE: &str = "WHERE unit_id = $1 AND email_key = $2";
/// A page by email key; `$3`-`$5` are 1 for a status the recipients must
/// have. The limit goes through a CAST (see `packs::contacts::sql`).
const PAGE: &str = "WHERE unit_id = $1 AND email_key > $2 AND (is_expert = 1 OR $3 = 0)
     AND (is_copy = 1 OR $4 = 0) AND (is_transfer = 1 OR $5 = 0) ORDER BY email_key LIMIT CAST($6 AS BIGINT)";

/// The upsert of a whole batch on PostgreSQL: the rows as arrays
/// (`$2`-`$10`, no two of the same key), the import's name and the time;
/// counts the rows it inserted.
#[cfg(feature = "postgres")]
const PG_UPSERT: &str = "WITH w AS (
     INSERT INTO address_book (unit_id, email, email_key, civility, first_name, last_name, department, phone,
         address, city, is_expert, is_copy, is_transfer, import_name, created_at, modified_at)
     SELECT $1, x.e, x.k, x.c, x.f, x.l, x.d, x.p, x.a, x.t, 1, 1, 0, $11, $12, $12
     FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
         $10::text[]) AS x(e, k, c, f, l, d, p, a, t)
     ON CONFLICT (unit_id, email_key) DO UPDATE SET email = excluded.email, civility = excluded.civility,
         first_name = excluded.first_name, last_name = excluded.last_name, department = excluded.department,
         phone = excluded.phone, address = excluded.address, city = excluded.city,
         import_name = excluded.import_name, modified_at = excluded.modified_at
     RETURNING (xmax = 0) AS inserted)
     SELECT count(*) FILTER (WHERE inserted) FROM w";

/// `$1` to `$10`: the unit and the data of `r` (its email key `key`).
fn data<'a>(unit: i64, r: &'a Recipient, key: &'a str) -> [Param<'a>; 10] {
    [
        Int(unit),
        text(&r.email),
        text(key),
        text(r.civility.as_str()),
        text(&r.first_name),
        text(&r.last_name),
        text(&r.department),
        text(&r.phone),
        text(&r.address),
        text(&r.city),
    ]
}

/// The values of [`INSERT`].
pub(super) fn insert_params<'a>(
    unit: i64,
    r: &'a Recipient,
    key: &'a str,
    s: Statuses,
    import: Option<&'a str>,
    now: &'a str,
) -> [Param<'a>; 15] {
    let [a, b, c, d, e, f, g, h, i, j] = data(unit, r, key);
    let flag = |on: bool| Int(i64::from(on));
    [a, b, c, d, e, f, g, h, i, j, flag(s.expert), flag(s.copy), flag(s.transfer), Text(import), text(now)]
}

/// The values of [`OVERWRITE`].
pub(super) fn overwrite_params<'a>(
    unit: i64,
    r: &'a Recipient,
    key: &'a str,
    import: &'a str,
    now: &'a str,
) -> [Param<'a>; 12] {
    let [a, b, c, d, e, f, g, h, i, j] = data(unit, r, key);
    [a, b, c, d, e, f, g, h, i, j, text(import), text(now)]
}

/// A row of [`SELECT`].
type Cols = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    String,
    String,
);

fn stored(c: Cols) -> Result<StoredRecipient, StoreError> {
    let (id, email, civility, first_name, last_name, department, phone, address, city, e, cp, t, import, at, mt) = c;
    let civility =
        Civility::parse(&civility).ok_or_else(|| StoreError::Query(format!("unreadable civility '{civility}'")))?;
    Ok(StoredRecipient {
        id,
        recipient: Recipient { civility, first_name, last_name, email, department, phone, address, city },
        statuses: Statuses { expert: e != 0, copy: cp != 0, transfer: t != 0 },
        import_name: import,
        created_at: at,
        modified_at: mt,
    })
}

/// `AddressBookStore` for a store type with a `pool()`; `$write_batch`
/// writes an import's batch (each other operation is one statement).
macro_rules! address_book_store {
    ($store:ty, $write_batch:path) => {
        #[async_trait::async_trait]
        impl AddressBookStore for $store {
            async fn write_batch(
                &self,
                unit: i64,
                import: &str,
                rows: &[Recipient],
                now: &str,
            ) -> Result<BatchWritten, StoreError> {
                $write_batch(self, unit, import, rows, now).await
            }

            async fn add_recipient(
                &self,
                unit: i64,
                r: &Recipient,
                statuses: Statuses,
                now: &str,
            ) -> Result<bool, StoreError> {
                let key = r.key();
                let added = query(INSERT, &insert_params(unit, r, &key, statuses, None, now))
                    .fetch_optional(self.pool())
                    .await?;
                Ok(added.is_some())
            }

            async fn edit_recipient(&self, unit: i64, r: &Recipient, now: &str) -> Result<Edited, StoreError> {
                let key = r.key();
                let [a, b, c, d, e, f, g, h, i, j] = data(unit, r, &key);
                let params = [a, b, c, d, e, f, g, h, i, j, text(now)];
                let done = query(EDIT, &params).execute(self.pool()).await?.rows_affected();
                Ok(if done > 0 { Edited::Done } else { Edited::NotFound })
            }

            async fn delete_recipient(&self, unit: i64, email: &str) -> Result<bool, StoreError> {
                let key = email_key(email);
                let params = [Int(unit), text(&key)];
                Ok(query(DELETE, &params).execute(self.pool()).await?.rows_affected() > 0)
            }

            async fn recipient(&self, unit: i64, email: &str) -> Result<Option<StoredRecipient>, StoreError> {
                let sql = format!("{SELECT} {ONE}");
                let row: Option<Cols> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(unit)
                    .bind(email_key(email))
                    .fetch_optional(self.pool())
                    .await?;
                row.map(stored).transpose()
            }

            async fn recipients(
                &self,
                unit: i64,
                status: Option<Status>,
                after: &str,
                limit: i64,
            ) -> Result<Vec<StoredRecipient>, StoreError> {
                let want = |s: Status| i64::from(status == Some(s));
                let sql = format!("{SELECT} {PAGE}");
                let rows: Vec<Cols> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(unit)
                    .bind(after)
                    .bind(want(Status::Expert))
                    .bind(want(Status::Copy))
                    .bind(want(Status::Transfer))
                    .bind(limit)
                    .fetch_all(self.pool())
                    .await?;
                rows.into_iter().map(stored).collect()
            }

            async fn set_statuses(&self, unit: i64, email: &str, s: Statuses, now: &str) -> Result<bool, StoreError> {
                let key = email_key(email);
                let flag = |on: bool| Int(i64::from(on));
                let params = [Int(unit), text(&key), flag(s.expert), flag(s.copy), flag(s.transfer), text(now)];
                Ok(query(SET_STATUSES, &params).execute(self.pool()).await?.rows_affected() > 0)
            }
        }
    };
}

/// An import's batch on PostgreSQL: one upsert of the whole batch. An
/// email repeated inside the batch keeps its last line (an upsert may not
/// touch a row twice), which is what applying the lines in order gives.
#[cfg(feature = "postgres")]
async fn write_batch_pg(
    store: &crate::store::PgStore,
    unit: i64,
    import: &str,
    rows: &[Recipient],
    now: &str,
) -> Result<BatchWritten, StoreError> {
    let keys: Vec<String> = rows.iter().map(Recipient::key).collect();
    let mut last = std::collections::HashMap::with_capacity(rows.len());
    for (i, k) in keys.iter().enumerate() {
        last.insert(k.as_str(), i);
    }
    let kept: Vec<usize> = (0..rows.len()).filter(|i| last.get(keys[*i].as_str()) == Some(i)).collect();
    let column = |f: fn(&Recipient) -> &str| kept.iter().map(|i| f(&rows[*i])).collect::<Vec<&str>>();
    let kept_keys: Vec<&str> = kept.iter().map(|i| keys[*i].as_str()).collect();
    let mut tx = store.pool().begin().await?;
    let (inserted,): (i64,) = sqlx::query_as(PG_UPSERT)
        .bind(unit)
        .bind(column(|r| &r.email))
        .bind(kept_keys)
        .bind(column(|r| r.civility.as_str()))
        .bind(column(|r| &r.first_name))
        .bind(column(|r| &r.last_name))
        .bind(column(|r| &r.department))
        .bind(column(|r| &r.phone))
        .bind(column(|r| &r.address))
        .bind(column(|r| &r.city))
        .bind(import)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    let created = u64::try_from(inserted).unwrap_or(0);
    Ok(BatchWritten { created, updated: rows.len() as u64 - created })
}

address_book_store!(crate::store::SqliteStore, super::bulk::write_batch);
#[cfg(feature = "postgres")]
address_book_store!(crate::store::PgStore, write_batch_pg);
