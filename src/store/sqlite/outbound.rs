//! What SQLite does its own way on the outbound tables (the shared
//! queries, and the other dialect differences, are in `outbound_sql`):
//! writing and reading lists.
//!
//! SQLite has one writer at a time, so every write transaction starts with
//! `BEGIN IMMEDIATE`: it takes the write lock before reading, which makes a
//! read-then-write batch (which prospects exist already? then write) atomic
//! and free of lock-upgrade deadlocks. Holding that lock also lets a batch
//! number its new prospects itself, so destinations are written without a
//! round trip per prospect. Prospect batches are written through SQLite's
//! C API on the connection sqlx lends (`raw`): a bound text costs sqlx two
//! copies and a hand-off to its connection thread, about half of a bulk
//! write. Other lists are one single-row statement per item in one
//! transaction (PostgreSQL sends them as arrays instead); a list of ids to
//! read travels as one JSON array bound to `json_each`, which keeps the
//! statement's text fixed.

use super::SqliteStore;
use super::raw::RawConnection;
use crate::outbound::model::{NewLead, Saved, Search};
use crate::store::outbound_sql::{CHECK_OUT_SQLITE, SqlOutbound, search_sqlite};
use crate::store::{Batch, CheckIn, StoreError};

use crate::store::sql::{Param::Int, Param::Text, Result, SqlStore, query, text};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr, Sqlite, Transaction};

/// One prospect, inserted or (when its ExternalID exists) replaced in place.
const PROSPECT_UPSERT: &str = "INSERT INTO prospects (id, unit_id, source_id, external_id, skill_no, first_name,
         last_name, fields, expires_at, time_zone, tz_source, created_at, updated_at)
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT (id) DO UPDATE SET skill_no = excluded.skill_no, first_name = excluded.first_name,
         last_name = excluded.last_name, fields = excluded.fields, expires_at = excluded.expires_at,
         time_zone = excluded.time_zone, tz_source = excluded.tz_source, status = 'active',
         updated_at = excluded.updated_at";

const DESTINATION_INSERT: &str = "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind,
         time_zone, tz_source, companions)
     VALUES (?,?,?,?,?,?,?,?,?,?)";

/// The destinations of the prospects whose ids the JSON array `$1` lists.
const DESTINATIONS_OF: &str = "SELECT * FROM destinations WHERE prospect_id IN (SELECT value FROM json_each($1))
     ORDER BY prospect_id, ordinal";

/// One removal (PostgreSQL removes the whole list with `ANY`).
const PROSPECT_REMOVE: &str = "DELETE FROM prospects WHERE unit_id = $1 AND source_id = $2 AND external_id = $3";

/// One lead record, put in or replaced and made available again
/// (PostgreSQL writes the whole list through `UNNEST`).
const LEAD_IMPORT: &str = "INSERT INTO lead_records (unit_id, lead_source, record_key, fields) VALUES ($1, $2, $3, $4)
     ON CONFLICT (unit_id, lead_source, record_key) DO UPDATE SET fields = excluded.fields,
         status = 'waiting', checked_out_by = NULL, lease_until = NULL, outcome = NULL, checked_in_at = NULL";

/// One check-in, accepted only from the run holding the record (PostgreSQL
/// checks the whole list in through `UNNEST`).
const LEAD_CHECK_IN: &str =
    "UPDATE lead_records SET status = 'done', outcome = $4, checked_in_at = $5, lease_until = NULL
     WHERE id = $1 AND unit_id = $2 AND status = 'checked_out' AND checked_out_by = $3";

/// Write a batch of prospects inside `tx` (which holds SQLite's write lock
/// from its first statement: `BEGIN IMMEDIATE`), on the raw connection (see
/// `raw`), one prepared single-row statement per step: is this ExternalID
/// stored already? (then its old destinations go), write the prospect,
/// write its destinations. Returns the saved ids and the number of rows
/// written (for the checkpointer).
async fn write_prospects(
    tx: &mut Transaction<'static, Sqlite>,
    unit: i64,
    b: Batch<'_>,
) -> Result<(Vec<Saved>, usize)> {
    let Batch { source, skill_no, rows, now } = b;
    let raw = RawConnection::lock(tx).await?;
    // The write lock is ours until commit: new ids can be handed out here
    // without racing another writer.
    let mut last_id = raw.prepare("SELECT COALESCE(MAX(id), 0) FROM prospects")?.first_int(&[])?.unwrap_or(0);
    let mut find = raw.prepare("SELECT id FROM prospects WHERE source_id = ? AND external_id = ?")?;
    let mut clear = raw.prepare("DELETE FROM destinations WHERE prospect_id = ?")?;
    let mut prospect = raw.prepare(PROSPECT_UPSERT)?;
    let mut destination = raw.prepare(DESTINATION_INSERT)?;
    let mut saved = Vec::with_capacity(rows.len());
    let mut written = 0;
    for r in rows {
        let s = match find.first_int(&[Int(source), Text(Some(&r.external_id))])? {
            Some(id) => {
                clear.execute(&[Int(id)])?;
                Saved { id, created: false }
            }
            None => {
                last_id += 1;
                Saved { id: last_id, created: true }
            }
        };
        prospect.execute(&[
            Int(s.id),
            Int(unit),
            Int(source),
            Text(Some(&r.external_id)),
            Int(skill_no),
            Text(r.first_name.as_deref()),
            Text(r.last_name.as_deref()),
            Text(Some(&r.fields)),
            Text(r.expires_at.as_deref()),
            Text(Some(&r.time_zone)),
            Text(Some(&r.tz_source)),
            Text(Some(now)),
            Text(Some(now)),
        ])?;
        for (i, d) in r.destinations.iter().enumerate() {
            destination.execute(&[
                Int(s.id),
                Int(i as i64 + 1),
                Int(unit),
                Text(Some(&d.field)),
                Text(Some(&d.e164)),
                Text(Some(&d.raw)),
                Text(Some(d.kind)),
                Text(d.time_zone.as_deref()),
                Text(Some(&d.tz_source)),
                Text(d.companions.as_deref()),
            ])?;
        }
        written += 1 + r.destinations.len();
        saved.push(s);
    }
    Ok((saved, written))
}

#[async_trait]
impl SqlOutbound for SqliteStore {
    const SOURCE_LOCK: Option<&'static str> = None;
    const CHECK_OUT: &'static str = CHECK_OUT_SQLITE;

    async fn save_batch(&self, unit: i64, batch: Batch<'_>) -> Result<Vec<Saved>> {
        let mut tx = self.begin_write().await?;
        let (saved, written) = write_prospects(&mut tx, unit, batch).await?;
        tx.commit().await?;
        self.wrote(written);
        Ok(saved)
    }

    fn search_sql(search: &Search) -> SqlStr {
        AssertSqlSafe(search_sqlite(search)).into_sql_str()
    }

    async fn destination_rows(&self, prospects: &[i64]) -> Result<Vec<SqliteRow>> {
        let ids = serde_json::to_string(prospects).map_err(|e| StoreError::Query(e.to_string()))?;
        Ok(query(DESTINATIONS_OF, &[text(&ids)]).fetch_all(&self.pool).await?)
    }

    async fn remove_batch(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>> {
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(external_ids.len());
        for id in external_ids {
            let done = query(PROSPECT_REMOVE, &[Int(unit), Int(source), text(id)]).execute(&mut *tx).await?;
            out.push(done.rows_affected() > 0);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn import_batch(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for l in leads {
            let params = [Int(unit), text(lead_source), text(&l.key), text(&l.fields)];
            n += query(LEAD_IMPORT, &params).execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        self.wrote(n as usize);
        Ok(n)
    }

    async fn check_in_batch(&self, unit: i64, checkin: CheckIn<'_>) -> Result<Vec<bool>> {
        let CheckIn { run_id: run, items, now } = checkin;
        let mut tx = self.begin_write().await?;
        let mut out = Vec::with_capacity(items.len());
        for (id, outcome) in items {
            let params = [Int(*id), Int(unit), text(run), text(outcome), text(now)];
            out.push(query(LEAD_CHECK_IN, &params).execute(&mut *tx).await?.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(out)
    }
}
