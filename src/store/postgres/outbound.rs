//! What PostgreSQL does its own way on the outbound tables (the shared
//! queries are in `outbound_sql`): lists travel as arrays.
//!
//! Lists travel as arrays through `UNNEST` (or `ANY`): one statement per
//! table per batch, where SQLite runs one single-row statement per item
//! under its one write lock.
//!
//! CREATEPROSPECTS' batches are the bulk of the writes, and go through
//! COPY (`copy`), about twice as fast for the server as an `INSERT ...
//! SELECT FROM UNNEST`. COPY has no `ON CONFLICT`, so a batch is written in
//! one transaction as: lock the batch's keys that exist (`FOR UPDATE`, in
//! external-id order) and update those rows in place; number the new ones
//! from the table's sequence and COPY them in, in external-id order; COPY
//! every destination (the replaced prospects' old ones deleted first).
//!
//! Several runtime processes may write the same source at once. The
//! unique `(source_id, external_id)` keeps a key to one row whatever the
//! interleaving. Two batches that share keys take their row locks, and
//! insert their new keys, in the same order, so neither waits for the
//! other in a cycle. A key another writer inserted between our lock and
//! our COPY fails the COPY with a unique violation: the whole batch is
//! rolled back and tried again, and then finds that key existing.
//!
//! A load of new records, the common case, needs no lock at all: the
//! unique index refuses a key that exists just as the lock query would
//! have found it, and the lock query (a probe of that index per key, a
//! round trip and the keys sent as an array: about 1.7 ms of server time
//! per 1,000 new keys) is work the COPY does again. So when the store's last batch found none of its keys stored,
//! the next is first copied as all new, with no lock query; a unique
//! violation rolls it back and the batch goes the locking way above,
//! whose attempts it does not count. Inserts still follow the batch's key
//! order, so this first attempt waits for other writers in that order too
//! and cannot deadlock with them. A batch that found keys stored makes the
//! next start with the locks: a reload of a list pays one failed COPY,
//! not one per batch. Results are the same either way; only the sequence
//! values the failed attempt drew are lost.

use super::PgStore;
use crate::outbound::model::{NewLead, ProspectRow, Saved, Search};
use crate::store::outbound_sql::{CHECK_OUT_POSTGRES, SEARCH_POSTGRES, SOURCE_LOCK_POSTGRES, SqlOutbound};
use crate::store::{Batch, CheckIn, StoreError};

use super::copy::{CopyError, CopyWriter};
use crate::store::sql::{Param::Int, Result, query, text};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use sqlx::{Row, SqlSafeStr, SqlStr};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

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

/// The prospects of source `$1` among the external ids `$2` (sorted) that
/// exist, locked in the array's order: two batches that share keys take
/// their locks in the same order and so cannot deadlock. Each key is one
/// probe of the unique index: the subquery with `FOR UPDATE` stays a
/// per-key lookup, where a plain `external_id = ANY($2)` may be planned
/// (generic plan, one row per source estimated) as a scan of the whole
/// source with the array as a filter, which grows with every batch.
const PROSPECTS_LOCK: &str = "SELECT p.id, p.external_id FROM UNNEST($2::text[]) AS k(ext),
     LATERAL (SELECT id, external_id FROM prospects WHERE source_id = $1 AND external_id = k.ext FOR UPDATE) p";

/// Existing prospects (ids `$5`, already locked), updated in place: `$1`
/// unit, `$2` source, `$3` skill, `$4` the time, then one array per column.
const PROSPECTS_UPDATE: &str = "UPDATE prospects p SET skill_no = $3, first_name = u.first, last_name = u.last,
         fields = u.fields, expires_at = u.expires, time_zone = u.tz, tz_source = u.tz_source, status = 'active',
         updated_at = $4
     FROM UNNEST($5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
         AS u(id, first, last, fields, expires, tz, tz_source)
     WHERE p.id = u.id AND p.unit_id = $1 AND p.source_id = $2";

/// `$1` fresh prospect ids, from the sequence the table's own inserts use.
const PROSPECT_IDS: &str = "SELECT nextval('prospects_id_seq'::regclass) FROM generate_series(1, $1)";

/// The old destinations of replaced prospects (ids in the array `$1`).
const DESTINATIONS_CLEAR: &str = "DELETE FROM destinations WHERE prospect_id = ANY($1)";

/// The columns a new prospect is copied with (`status` takes its default).
const PROSPECT_COLUMNS: &[&str] = &[
    "id",
    "unit_id",
    "source_id",
    "external_id",
    "skill_no",
    "first_name",
    "last_name",
    "fields",
    "expires_at",
    "time_zone",
    "tz_source",
    "created_at",
    "updated_at",
];

/// The columns a destination is copied with.
const DESTINATION_COLUMNS: &[&str] =
    &["prospect_id", "ordinal", "unit_id", "field", "e164", "raw", "kind", "time_zone", "tz_source", "companions"];

/// How often a batch is tried again when another writer inserted one of
/// its new keys first: each retry finds at least that key existing, so a
/// handful is plenty even among many writers of the same keys.
const SAVE_ATTEMPTS: usize = 8;

/// Why one attempt at a batch failed.
enum Attempt {
    /// Another writer inserted one of the keys this attempt took for new:
    /// the whole batch is tried again.
    KeyTaken,
    /// Anything else.
    Failed(StoreError),
}

impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Attempt {
        Attempt::Failed(e)
    }
}

impl From<sqlx::Error> for Attempt {
    fn from(e: sqlx::Error) -> Attempt {
        Attempt::Failed(e.into())
    }
}

impl From<CopyError> for Attempt {
    fn from(e: CopyError) -> Attempt {
        Attempt::Failed(e.into())
    }
}

/// Lock the batch's existing prospects (`order`: the batch sorted by
/// external id) and update them in place; returns the id of each existing
/// row, by its index in the batch.
async fn update_existing(
    tx: &mut PgConnection,
    unit: i64,
    b: Batch<'_>,
    order: &[usize],
) -> Result<HashMap<usize, i64>> {
    let rows = b.rows;
    let keys: Vec<&str> = order.iter().map(|&i| rows[i].external_id.as_str()).collect();
    let found = sqlx::query(PROSPECTS_LOCK).bind(b.source).bind(&keys).fetch_all(&mut *tx).await?;
    if found.is_empty() {
        return Ok(HashMap::new());
    }
    let index: HashMap<&str, usize> = order.iter().map(|&i| (rows[i].external_id.as_str(), i)).collect();
    let mut existing = HashMap::with_capacity(found.len());
    for r in &found {
        let key: String = r.try_get(1)?;
        let at = index.get(key.as_str()).ok_or_else(|| StoreError::Query(format!("unexpected prospect '{key}'")))?;
        existing.insert(*at, r.try_get::<i64, _>(0)?);
    }
    // In lock order, like the rows themselves.
    let updated: Vec<usize> = order.iter().copied().filter(|i| existing.contains_key(i)).collect();
    let ids: Vec<i64> = updated.iter().map(|i| existing[i]).collect();
    let col = |f: &dyn Fn(&ProspectRow) -> Option<&str>| -> Vec<Option<&str>> {
        updated.iter().map(|&i| f(&rows[i])).collect()
    };
    // `$6` to `$11`, in the order of the UNNEST.
    let columns = [
        col(&|r| r.first_name.as_deref()),
        col(&|r| r.last_name.as_deref()),
        col(&|r| Some(r.fields.as_str())),
        col(&|r| r.expires_at.as_deref()),
        col(&|r| Some(r.time_zone.as_str())),
        col(&|r| Some(r.tz_source.as_str())),
    ];
    let update = sqlx::query(PROSPECTS_UPDATE).bind(unit).bind(b.source).bind(b.skill_no).bind(b.now).bind(&ids);
    columns.iter().fold(update, |q, c| q.bind(c)).execute(&mut *tx).await?;
    sqlx::query(DESTINATIONS_CLEAR).bind(&ids).execute(&mut *tx).await?;
    Ok(existing)
}

/// Copy the batch's new prospects (those of `order` not in `existing`),
/// numbered from the table's sequence in external-id order; returns what
/// became of every row, in the batch's order.
async fn copy_new(
    tx: &mut PgConnection,
    unit: i64,
    b: Batch<'_>,
    order: &[usize],
    existing: &HashMap<usize, i64>,
) -> Result<Vec<Saved>, Attempt> {
    let rows = b.rows;
    let mut saved: Vec<Saved> = vec![Saved { id: 0, created: false }; rows.len()];
    for (&i, &id) in existing {
        saved[i] = Saved { id, created: false };
    }
    let new: Vec<usize> = order.iter().copied().filter(|i| !existing.contains_key(i)).collect();
    if new.is_empty() {
        return Ok(saved);
    }
    let mut ids: Vec<i64> = sqlx::query_scalar(PROSPECT_IDS).bind(new.len() as i64).fetch_all(&mut *tx).await?;
    ids.sort_unstable();
    let mut w = CopyWriter::start(tx, "prospects", PROSPECT_COLUMNS).await?;
    for (&i, &id) in new.iter().zip(&ids) {
        let r = &rows[i];
        w.int(id).int(unit).int(b.source).text(&r.external_id).int(b.skill_no);
        w.opt_text(r.first_name.as_deref()).opt_text(r.last_name.as_deref()).text(&r.fields);
        w.opt_text(r.expires_at.as_deref()).text(&r.time_zone).text(&r.tz_source).text(b.now).text(b.now);
        w.end_row().await?;
        saved[i] = Saved { id, created: true };
    }
    match w.finish().await {
        Err(e) if e.is_unique_violation() => Err(Attempt::KeyTaken),
        done => Ok(done.map(|_| saved)?),
    }
}

/// Copy the destinations of a batch's prospects (saved as `saved`),
/// numbered in dialing order.
async fn copy_destinations(tx: &mut PgConnection, unit: i64, rows: &[ProspectRow], saved: &[Saved]) -> Result<()> {
    if rows.iter().all(|r| r.destinations.is_empty()) {
        return Ok(());
    }
    let mut w = CopyWriter::start(tx, "destinations", DESTINATION_COLUMNS).await?;
    for (r, s) in rows.iter().zip(saved) {
        for (i, d) in r.destinations.iter().enumerate() {
            w.int(s.id).int(i as i64 + 1).int(unit).text(&d.field).text(&d.e164).text(&d.raw).text(d.kind);
            w.opt_text(d.time_zone.as_deref()).text(&d.tz_source).opt_text(d.companions.as_deref());
            w.end_row().await?;
        }
    }
    w.finish().await?;
    Ok(())
}

/// How an attempt at a batch meets the keys already stored.
#[derive(Clone, Copy)]
enum Keys {
    /// Lock the existing ones and update them in place.
    Lock,
    /// Take every key for new: any stored one fails the COPY.
    AllNew,
}

/// One attempt at a batch, in one transaction: existing keys locked and
/// updated (unless the attempt takes them all for new), new ones copied,
/// then every destination copied.
async fn try_save(pool: &PgPool, unit: i64, b: Batch<'_>, order: &[usize], keys: Keys) -> Result<Vec<Saved>, Attempt> {
    let mut tx = pool.begin().await?;
    let existing = match keys {
        Keys::Lock => update_existing(&mut tx, unit, b, order).await?,
        Keys::AllNew => HashMap::new(),
    };
    let saved = copy_new(&mut tx, unit, b, order, &existing).await?;
    copy_destinations(&mut tx, unit, b.rows, &saved).await?;
    tx.commit().await?;
    Ok(saved)
}

impl PgStore {
    /// Save a batch sorted by `order`: first as all new when the last
    /// batch was, then with locks, retried while other writers win races
    /// for its new keys.
    async fn save_sorted(&self, unit: i64, batch: Batch<'_>, order: &[usize]) -> Result<Vec<Saved>> {
        if self.batches_new.load(Ordering::Relaxed) {
            match try_save(&self.pool, unit, batch, order, Keys::AllNew).await {
                Err(Attempt::KeyTaken) => {}
                Err(Attempt::Failed(e)) => return Err(e),
                Ok(saved) => return Ok(saved),
            }
        }
        for _ in 1..SAVE_ATTEMPTS {
            match try_save(&self.pool, unit, batch, order, Keys::Lock).await {
                Err(Attempt::KeyTaken) => continue,
                Err(Attempt::Failed(e)) => return Err(e),
                Ok(saved) => return Ok(saved),
            }
        }
        match try_save(&self.pool, unit, batch, order, Keys::Lock).await {
            Err(Attempt::KeyTaken) => Err(StoreError::Query(format!(
                "other writers kept inserting this batch's new prospects ({SAVE_ATTEMPTS} attempts)"
            ))),
            Err(Attempt::Failed(e)) => Err(e),
            Ok(saved) => Ok(saved),
        }
    }
}

#[async_trait]
impl SqlOutbound for PgStore {
    const SOURCE_LOCK: Option<&'static str> = Some(SOURCE_LOCK_POSTGRES);
    const CHECK_OUT: &'static str = CHECK_OUT_POSTGRES;

    fn search_sql(_: &Search) -> SqlStr {
        SEARCH_POSTGRES.into_sql_str()
    }

    async fn save_batch(&self, unit: i64, batch: Batch<'_>) -> Result<Vec<Saved>> {
        // The lock and insert order: by external id (bytewise, the same
        // for every writer).
        let rows = batch.rows;
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|x, y| rows[*x].external_id.cmp(&rows[*y].external_id));
        let saved = self.save_sorted(unit, batch, &order).await?;
        // What this batch found predicts the next (see the module notes).
        self.batches_new.store(saved.iter().all(|s| s.created), Ordering::Relaxed);
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
