//! What PostgreSQL does its own way on the outbound tables (the shared
//! queries are in `outbound_sql`): lists travel as arrays.
//!
//! Several runtime processes may write the same source at once. Prospects
//! are upserted with `INSERT ... ON CONFLICT (source_id, external_id)`, so a
//! key exists at most once whatever the interleaving; rows go in sorted by
//! external id, so two batches that share keys lock them in the same order
//! and cannot deadlock. Whole batches travel as arrays through `UNNEST` (or
//! `ANY`): one statement per table per batch, where SQLite runs one
//! single-row statement per item under its one write lock.

use super::PgStore;
use crate::outbound::model::{NewLead, ProspectRow, Saved, Search};
use crate::store::outbound_sql::{CHECK_OUT_POSTGRES, SEARCH_POSTGRES, SOURCE_LOCK_POSTGRES, SqlOutbound};
use crate::store::{Batch, CheckIn, StoreError};

use crate::store::sql::{Param::Int, Result, query, text};
use async_trait::async_trait;
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use sqlx::{Row, SqlSafeStr, SqlStr};
use std::collections::{HashMap, HashSet};

/// The destinations of the prospects whose ids the array `$1` lists.
const DESTINATIONS_OF: &str = "SELECT * FROM destinations WHERE prospect_id = ANY($1) ORDER BY prospect_id, ordinal";

/// Remove the source's prospects whose external ids the array `$3` lists
/// (SQLite: one DELETE per id).
const PROSPECTS_REMOVE: &str =
    "DELETE FROM prospects WHERE unit_id = $1 AND source_id = $2 AND external_id = ANY($3) RETURNING external_id";

/// Put lead records (keys `$3`, fields `$4`) into lead source `$2`,
/// replacing those with the same key and making them available again
/// (SQLite: one INSERT per record).
const LEADS_IMPORT: &str = "INSERT INTO lead_records (unit_id, lead_source, record_key, fields)
     SELECT $1, $2, u.k, u.f FROM UNNEST($3::text[], $4::text[]) AS u(k, f)
     ON CONFLICT (unit_id, lead_source, record_key) DO UPDATE SET fields = excluded.fields,
         status = 'waiting', checked_out_by = NULL, lease_until = NULL, outcome = NULL, checked_in_at = NULL";

/// Check records (ids `$4`, outcomes `$5`) back in, accepting only those
/// run `$2` holds; RETURNING names the accepted ones (SQLite: one UPDATE
/// per record).
const LEADS_CHECK_IN: &str =
    "UPDATE lead_records l SET status = 'done', outcome = u.outcome, checked_in_at = $3, lease_until = NULL
     FROM UNNEST($4::bigint[], $5::text[]) AS u(id, outcome)
     WHERE l.id = u.id AND l.unit_id = $1 AND l.status = 'checked_out' AND l.checked_out_by = $2
     RETURNING l.id";

/// A batch's prospects, inserted or (when their ExternalID exists) updated
/// in place: `$1` unit, `$2` source, `$3` skill, `$4` the time, then one
/// array per column; RETURNING tells new rows from replaced ones.
const PROSPECTS_UPSERT: &str = "INSERT INTO prospects (unit_id, source_id, external_id, skill_no, first_name,
         last_name, fields, expires_at, time_zone, tz_source, created_at, updated_at)
     SELECT $1, $2, u.ext, $3, u.first, u.last, u.fields, u.expires, u.tz, u.tz_source, $4, $4
     FROM UNNEST($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
         WITH ORDINALITY AS u(ext, first, last, fields, expires, tz, tz_source, n)
     ORDER BY u.n
     ON CONFLICT (source_id, external_id) DO UPDATE SET skill_no = excluded.skill_no,
         first_name = excluded.first_name, last_name = excluded.last_name, fields = excluded.fields,
         expires_at = excluded.expires_at, time_zone = excluded.time_zone, tz_source = excluded.tz_source,
         status = 'active', updated_at = excluded.updated_at
     RETURNING id, external_id, (xmax = 0) AS created";

/// The old destinations of replaced prospects (ids in the array `$1`).
const DESTINATIONS_CLEAR: &str = "DELETE FROM destinations WHERE prospect_id = ANY($1)";

/// A batch's destinations: `$1` unit, then one array per column.
const DESTINATIONS_INSERT: &str = "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind,
         time_zone, tz_source, companions)
     SELECT u.pid, u.ordinal, $1, u.field, u.e164, u.raw, u.kind, u.tz, u.src, u.comp
     FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
         $9::text[], $10::text[]) AS u(pid, ordinal, field, e164, raw, kind, tz, src, comp)";

/// Upsert a batch's prospects in one statement; returns what became of
/// each row, in the batch's order.
async fn upsert_prospects(tx: &mut PgConnection, unit: i64, b: Batch<'_>) -> Result<Vec<Saved>> {
    let rows = b.rows;
    // A fixed lock order (by external id) across concurrent batches.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|x, y| rows[*x].external_id.cmp(&rows[*y].external_id));
    let col = |f: &dyn Fn(&ProspectRow) -> Option<&str>| -> Vec<Option<&str>> {
        order.iter().map(|&i| f(&rows[i])).collect()
    };
    // `$5` to `$11`, in the order of the UNNEST.
    let columns = [
        col(&|r| Some(r.external_id.as_str())),
        col(&|r| r.first_name.as_deref()),
        col(&|r| r.last_name.as_deref()),
        col(&|r| Some(r.fields.as_str())),
        col(&|r| r.expires_at.as_deref()),
        col(&|r| Some(r.time_zone.as_str())),
        col(&|r| Some(r.tz_source.as_str())),
    ];
    let upsert = sqlx::query(PROSPECTS_UPSERT).bind(unit).bind(b.source).bind(b.skill_no).bind(b.now);
    let returned = columns.iter().fold(upsert, |q, c| q.bind(c)).fetch_all(&mut *tx).await?;
    let mut by_key: HashMap<String, Saved> = HashMap::with_capacity(returned.len());
    for r in &returned {
        by_key.insert(r.try_get(1)?, Saved { id: r.try_get(0)?, created: r.try_get(2)? });
    }
    rows.iter()
        .map(|r| {
            let saved = by_key.get(&r.external_id);
            saved.copied().ok_or_else(|| StoreError::Query(format!("prospect '{}' was not written", r.external_id)))
        })
        .collect()
}

/// Insert the destinations of a batch's prospects (saved as `saved`) in
/// one statement, numbered in dialing order.
async fn insert_destinations(tx: &mut PgConnection, unit: i64, rows: &[ProspectRow], saved: &[Saved]) -> Result<()> {
    let n: usize = rows.iter().map(|r| r.destinations.len()).sum();
    if n == 0 {
        return Ok(());
    }
    let (mut pid, mut ordinal) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // `$4` to `$10`, in the order of the UNNEST.
    let mut text: [Vec<Option<&str>>; 7] = std::array::from_fn(|_| Vec::with_capacity(n));
    for (r, s) in rows.iter().zip(saved) {
        for (i, d) in r.destinations.iter().enumerate() {
            pid.push(s.id);
            ordinal.push(i as i64 + 1);
            let values = [
                Some(d.field.as_str()),
                Some(d.e164.as_str()),
                Some(d.raw.as_str()),
                Some(d.kind),
                d.time_zone.as_deref(),
                Some(d.tz_source.as_str()),
                d.companions.as_deref(),
            ];
            for (column, v) in text.iter_mut().zip(values) {
                column.push(v);
            }
        }
    }
    let insert = sqlx::query(DESTINATIONS_INSERT).bind(unit).bind(&pid).bind(&ordinal);
    text.iter().fold(insert, |q, c| q.bind(c)).execute(tx).await?;
    Ok(())
}

#[async_trait]
impl SqlOutbound for PgStore {
    const SOURCE_LOCK: Option<&'static str> = Some(SOURCE_LOCK_POSTGRES);
    const CHECK_OUT: &'static str = CHECK_OUT_POSTGRES;

    fn search_sql(_: &Search) -> SqlStr {
        SEARCH_POSTGRES.into_sql_str()
    }

    async fn save_batch(&self, unit: i64, batch: Batch<'_>) -> Result<Vec<Saved>> {
        let mut tx = self.pool.begin().await?;
        let saved = upsert_prospects(&mut tx, unit, batch).await?;
        let replaced: Vec<i64> = saved.iter().filter(|s| !s.created).map(|s| s.id).collect();
        if !replaced.is_empty() {
            sqlx::query(DESTINATIONS_CLEAR).bind(&replaced).execute(&mut *tx).await?;
        }
        insert_destinations(&mut tx, unit, batch.rows, &saved).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn destination_rows(&self, prospects: &[i64]) -> Result<Vec<PgRow>> {
        Ok(sqlx::query(DESTINATIONS_OF).bind(prospects).fetch_all(&self.pool).await?)
    }

    async fn remove_batch(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>> {
        let mut tx = self.pool.begin().await?;
        let deleted = query(PROSPECTS_REMOVE, &[Int(unit), Int(source)]).bind(external_ids).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut gone: HashSet<String> = HashSet::new();
        for r in &deleted {
            gone.insert(r.try_get(0)?);
        }
        // A key listed twice is removed once: the first mention reports it.
        Ok(external_ids.iter().map(|k| gone.remove(k)).collect())
    }

    async fn import_batch(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64> {
        let keys: Vec<&str> = leads.iter().map(|l| l.key.as_str()).collect();
        let fields: Vec<&str> = leads.iter().map(|l| l.fields.as_str()).collect();
        let import = query(LEADS_IMPORT, &[Int(unit), text(lead_source)]).bind(&keys).bind(&fields);
        Ok(import.execute(&self.pool).await?.rows_affected())
    }

    async fn check_in_batch(&self, unit: i64, checkin: CheckIn<'_>) -> Result<Vec<bool>> {
        let CheckIn { run_id: run, items, now } = checkin;
        let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
        let outcomes: Vec<&str> = items.iter().map(|(_, o)| o.as_str()).collect();
        let check_in = query(LEADS_CHECK_IN, &[Int(unit), text(run), text(now)]).bind(&ids).bind(&outcomes);
        let rows = check_in.fetch_all(&self.pool).await?;
        let mut done: HashSet<i64> = HashSet::new();
        for r in &rows {
            done.insert(r.try_get(0)?);
        }
        Ok(ids.iter().map(|id| done.remove(id)).collect())
    }
}
