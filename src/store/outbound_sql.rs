//! The outbound tables on either sqlx backend: the SQL both dialects run
//! (one text per operation, `$N` placeholders, see `sql`), the few places
//! where they differ, and [`OutboundStore`] implemented once over them.
//!
//! The dialects differ in three ways, each written down where it stands:
//! - **lists**: a batch of prospects, lead records, check-ins or removals
//!   is one statement per table on PostgreSQL (arrays through `UNNEST` or
//!   `ANY`), and one single-row statement per item on SQLite inside one
//!   `BEGIN IMMEDIATE` transaction (prospects through SQLite's C API, see
//!   `sqlite::raw`). Those operations are [`SqlOutbound`]'s methods, each
//!   backend's own code;
//! - **locking**: SQLite has one writer at a time, so a write transaction
//!   already serialises everything; PostgreSQL locks what it reads
//!   ([`SOURCE_LOCK_POSTGRES`], [`CHECK_OUT_POSTGRES`]);
//! - **optional conditions**: the prospect search is built per search on
//!   SQLite ([`search_sqlite`]) and one text on PostgreSQL
//!   ([`SEARCH_POSTGRES`]).

use super::rows as decode;
use super::sql::{Cols, Param, Param::Int, Param::Text, Result, RowOf, SqlStore, query, text};
use super::{Batch, CheckIn, CheckOut, NewSourceMap, OutboundStore, StoreError, json_list, json_pairs};
use crate::outbound::model::{Lead, NewLead, Saved, Search, Skill, Source, SourceMap, StoredProspect, UserField};
use async_trait::async_trait;
use sqlx::{Database, Executor, SqlStr};

const SKILL_UPSERT: &str =
    "INSERT INTO outbound_skills (unit_id, skill_no, name, channel, max_destinations, threshold, allowed_zones,
         windows, filter_fields, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (unit_id, skill_no) DO UPDATE SET name = excluded.name, channel = excluded.channel,
         max_destinations = excluded.max_destinations, threshold = excluded.threshold,
         allowed_zones = excluded.allowed_zones, windows = excluded.windows,
         filter_fields = excluded.filter_fields";

const SKILL: &str = "SELECT * FROM outbound_skills WHERE unit_id = $1 AND skill_no = $2";

const SKILLS: &str = "SELECT * FROM outbound_skills WHERE unit_id = $1 ORDER BY skill_no";

/// RETURNING gives a row only when this statement inserted one.
const SOURCE_CREATE: &str = "INSERT INTO sources (unit_id, name, name_key, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (unit_id, name_key) DO NOTHING RETURNING id";

const SOURCE: &str = "SELECT id, name FROM sources WHERE unit_id = $1 AND name_key = $2";

/// RETURNING gives a row only when this statement inserted one.
const USER_FIELD_CREATE: &str =
    "INSERT INTO user_fields (unit_id, name, name_key, data_type, default_value, value_required, associations,
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (unit_id, name_key) DO NOTHING RETURNING id";

const USER_FIELDS: &str = "SELECT * FROM user_fields WHERE unit_id = $1 ORDER BY id";

const SOURCE_MAP: &str = "SELECT version, mapping FROM source_maps WHERE unit_id = $1 AND source_id = $2
     ORDER BY version DESC LIMIT 1";

/// The next version is read and written by one statement, inside a write
/// transaction that keeps other writers of the source out (see
/// [`SqlOutbound::SOURCE_LOCK`]).
const SOURCE_MAP_STORE: &str = "INSERT INTO source_maps (unit_id, source_id, version, mapping, created_at)
     SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4 FROM source_maps WHERE source_id = $2
     RETURNING version";

/// PostgreSQL only: writers of one source's maps queue on the source's row
/// (`$1`) before numbering a version. SQLite needs nothing: its write
/// transaction already holds the database's one write lock.
#[cfg(feature = "postgres")]
pub(crate) const SOURCE_LOCK_POSTGRES: &str = "SELECT id FROM sources WHERE id = $1 FOR UPDATE";

const COUNT_DIALABLE: &str = "SELECT COUNT(*) AS n FROM prospects WHERE unit_id = $1 AND skill_no = $2
     AND status = 'active' AND (expires_at IS NULL OR expires_at > $3)";

/// Lead check-out: up to `$3` records of lead source `$2` that wait, or
/// whose lease ended by `$5`, go to run `$4` until `$6`. The dialects differ
/// in one clause, the `$lock` of the inner SELECT. The CAST keeps SQLite from
/// re-preparing the statement at every bind (see contacts' `contact_select`).
macro_rules! check_out {
    ($lock:literal) => {
        concat!(
            "UPDATE lead_records SET status = 'checked_out', checked_out_by = $4, lease_until = $6
             WHERE id IN (SELECT id FROM lead_records WHERE unit_id = $1 AND lead_source = $2
                 AND (status = 'waiting' OR (status = 'checked_out' AND lease_until <= $5))
                 ORDER BY id LIMIT CAST($3 AS BIGINT)",
            $lock,
            ") RETURNING id, record_key, fields"
        )
    };
}

/// SQLite: no row lock; the statement runs in a `BEGIN IMMEDIATE`
/// transaction (see [`SqlStore::begin_write`]), and one writer at a time
/// means no two runs take the same record.
pub(crate) const CHECK_OUT_SQLITE: &str = check_out!("");

/// PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent runs take disjoint
/// records without waiting for each other.
#[cfg(feature = "postgres")]
pub(crate) const CHECK_OUT_POSTGRES: &str = check_out!(" FOR UPDATE SKIP LOCKED");

/// The start of the prospect search: a source's prospects, by id.
macro_rules! search_head {
    () => {
        "SELECT id, external_id, skill_no, fields, expires_at, time_zone, tz_source, status FROM prospects p
         WHERE p.unit_id = $1 AND p.source_id = $2"
    };
}

/// The parameters of the prospect search: `$1` the unit, `$2` the source,
/// `$3` the external id, `$4` a destination's number, `$5` and `$6` the
/// first and last name (compared without regard to case); NULL for a
/// condition the search does not set.
fn search_params<'a>(unit: i64, source: i64, search: &'a Search) -> [Param<'a>; 6] {
    let (first, last) = search.name.as_ref().map(|(f, l)| (f.as_str(), l.as_str())).unzip();
    let (external_id, phone) = (search.external_id.as_deref(), search.phone_e164.as_deref());
    [Int(unit), Int(source), Text(external_id), Text(phone), Text(first), Text(last)]
}

/// The prospect search on SQLite: only the conditions `search` sets are
/// written, each a plain comparison that SQLite's planner can serve from
/// an index (a `$3 IS NULL OR ...` condition would keep it off the index).
pub(crate) fn search_sqlite(search: &Search) -> String {
    let mut sql = String::from(search_head!());
    if search.external_id.is_some() {
        sql.push_str(" AND p.external_id = $3");
    }
    if search.phone_e164.is_some() {
        sql.push_str(" AND EXISTS (SELECT 1 FROM destinations d WHERE d.prospect_id = p.id AND d.e164 = $4)");
    }
    if search.name.is_some() {
        sql.push_str(" AND lower(p.first_name) = lower($5) AND lower(p.last_name) = lower($6)");
    }
    sql.push_str(" ORDER BY p.id");
    sql
}

/// The prospect search on PostgreSQL: one text for every search, in which
/// an absent condition is a NULL parameter (typed by its cast), so the
/// statement is prepared once.
#[cfg(feature = "postgres")]
pub(crate) const SEARCH_POSTGRES: &str = concat!(
    search_head!(),
    "
       AND ($3::text IS NULL OR p.external_id = $3)
       AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM destinations d WHERE d.prospect_id = p.id AND d.e164 = $4))
       AND ($5::text IS NULL OR (lower(p.first_name) = lower($5) AND lower(p.last_name) = lower($6)))
     ORDER BY p.id"
);

/// What each backend does its own way (see the module notes); everything
/// else of [`OutboundStore`] is shared.
#[async_trait]
pub trait SqlOutbound: SqlStore {
    /// Run with the source's id as `$1` inside the write transaction before
    /// a source-map version is numbered, when that transaction does not
    /// already keep other writers out.
    const SOURCE_LOCK: Option<&'static str>;

    /// The lead check-out statement ([`CHECK_OUT_SQLITE`] or
    /// [`CHECK_OUT_POSTGRES`]).
    const CHECK_OUT: &'static str;

    /// [`OutboundStore::save_prospects`] of a batch that is not empty.
    async fn save_batch(&self, unit: i64, batch: Batch<'_>) -> Result<Vec<Saved>>;

    /// The prospect search for `search` ([`SEARCH_POSTGRES`], or
    /// [`search_sqlite`] of it).
    fn search_sql(search: &Search) -> SqlStr;

    /// The `destinations` rows of these prospects, by prospect and ordinal
    /// (the ids travel as an array on PostgreSQL, as a JSON array read by
    /// `json_each` on SQLite).
    async fn destination_rows(&self, prospects: &[i64]) -> Result<Vec<RowOf<Self>>>;

    /// [`OutboundStore::remove_prospects`].
    async fn remove_batch(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>>;

    /// [`OutboundStore::import_leads`].
    async fn import_batch(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64>;

    /// [`OutboundStore::check_in_leads`].
    async fn check_in_batch(&self, unit: i64, checkin: CheckIn<'_>) -> Result<Vec<bool>>;
}

#[async_trait]
impl<S> OutboundStore for S
where
    S: SqlOutbound,
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
{
    async fn upsert_skill(&self, unit: i64, s: &Skill) -> Result<(), StoreError> {
        let (zones, filter, now) =
            (json_list(&s.allowed_zones), json_list(&s.filter_fields), crate::base::time::now_text());
        let params = [
            Int(unit),
            Int(s.number),
            text(&s.name),
            text(&s.channel),
            Int(s.max_destinations as i64),
            Int(s.threshold),
            text(&zones),
            text(&s.windows),
            text(&filter),
            text(&now),
        ];
        query(SKILL_UPSERT, &params).execute(self.sql_pool()).await?;
        Ok(())
    }

    async fn skill(&self, unit: i64, number: i64) -> Result<Option<Skill>, StoreError> {
        let row = query(SKILL, &[Int(unit), Int(number)]).fetch_optional(self.sql_pool()).await?;
        row.as_ref().map(decode::skill).transpose()
    }

    async fn skills(&self, unit: i64) -> Result<Vec<Skill>, StoreError> {
        let rows = query(SKILLS, &[Int(unit)]).fetch_all(self.sql_pool()).await?;
        rows.iter().map(decode::skill).collect()
    }

    async fn create_source(&self, unit: i64, name: &str, now: &str) -> Result<Option<Source>, StoreError> {
        let key = name.to_lowercase();
        let params = [Int(unit), text(name), text(&key), text(now)];
        let row = query(SOURCE_CREATE, &params).fetch_optional(self.sql_pool()).await?;
        row.map(|r| Ok(Source { id: r.int("id")?, name: name.to_string() })).transpose()
    }

    async fn source(&self, unit: i64, name: &str) -> Result<Option<Source>, StoreError> {
        let key = name.to_lowercase();
        let row = query(SOURCE, &[Int(unit), text(&key)]).fetch_optional(self.sql_pool()).await?;
        row.map(|r| Ok(Source { id: r.int("id")?, name: r.text("name")? })).transpose()
    }

    async fn create_user_field(&self, unit: i64, f: &UserField, now: &str) -> Result<bool, StoreError> {
        let (key, associations) = (f.name.to_lowercase(), json_pairs(&f.associations));
        let params = [
            Int(unit),
            text(&f.name),
            text(&key),
            text(f.data_type.name()),
            Text(f.default_value.as_deref()),
            Int(f.value_required as i64),
            text(&associations),
            text(now),
        ];
        Ok(query(USER_FIELD_CREATE, &params).fetch_optional(self.sql_pool()).await?.is_some())
    }

    async fn user_fields(&self, unit: i64) -> Result<Vec<UserField>, StoreError> {
        let rows = query(USER_FIELDS, &[Int(unit)]).fetch_all(self.sql_pool()).await?;
        rows.iter().map(decode::user_field).collect()
    }

    async fn source_map(&self, unit: i64, source: i64) -> Result<Option<SourceMap>, StoreError> {
        let row = query(SOURCE_MAP, &[Int(unit), Int(source)]).fetch_optional(self.sql_pool()).await?;
        row.as_ref().map(decode::source_map).transpose()
    }

    async fn store_source_map(&self, unit: i64, map: NewSourceMap<'_>) -> Result<i64, StoreError> {
        let NewSourceMap { source, entries, now } = map;
        let pairs: Vec<(String, String)> = entries.iter().map(|e| (e.field.clone(), e.label.clone())).collect();
        let mapping = json_pairs(&pairs);
        let mut tx = self.begin_write().await?;
        if let Some(lock) = S::SOURCE_LOCK {
            query(lock, &[Int(source)]).execute(&mut *tx).await?;
        }
        let params = [Int(unit), Int(source), text(&mapping), text(now)];
        let row = query(SOURCE_MAP_STORE, &params).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        row.int("version")
    }

    async fn save_prospects(&self, unit: i64, batch: Batch<'_>) -> Result<Vec<Saved>, StoreError> {
        if batch.rows.is_empty() {
            return Ok(Vec::new());
        }
        self.save_batch(unit, batch).await
    }

    async fn find_prospects(&self, unit: i64, source: i64, search: &Search) -> Result<Vec<StoredProspect>, StoreError> {
        let rows =
            query(S::search_sql(search), &search_params(unit, source, search)).fetch_all(self.sql_pool()).await?;
        let mut out = rows.iter().map(decode::prospect).collect::<Result<Vec<_>, _>>()?;
        if out.is_empty() {
            return Ok(out);
        }
        let ids: Vec<i64> = out.iter().map(|p| p.id).collect();
        let dests = self.destination_rows(&ids).await?;
        decode::attach_destinations(&mut out, &dests)?;
        Ok(out)
    }

    async fn remove_prospects(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>, StoreError> {
        self.remove_batch(unit, source, external_ids).await
    }

    async fn count_dialable(&self, unit: i64, skill_no: i64, now: &str) -> Result<i64, StoreError> {
        let row = query(COUNT_DIALABLE, &[Int(unit), Int(skill_no), text(now)]).fetch_one(self.sql_pool()).await?;
        row.int("n")
    }

    async fn import_leads(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64, StoreError> {
        self.import_batch(unit, lead_source, leads).await
    }

    async fn check_out_leads(&self, unit: i64, c: CheckOut<'_>) -> Result<Vec<Lead>, StoreError> {
        let params = [Int(unit), text(c.lead_source), Int(c.max), text(c.run_id), text(c.now), text(c.lease_until)];
        let mut tx = self.begin_write().await?;
        let rows = query(S::CHECK_OUT, &params).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut leads = rows.iter().map(decode::lead).collect::<Result<Vec<_>, StoreError>>()?;
        leads.sort_by_key(|l| l.id);
        Ok(leads)
    }

    async fn check_in_leads(&self, unit: i64, checkin: CheckIn<'_>) -> Result<Vec<bool>, StoreError> {
        self.check_in_batch(unit, checkin).await
    }
}
