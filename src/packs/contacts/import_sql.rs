//! [`ImportStore`] on SQLite and PostgreSQL, written once
//! ([`import_store!`]) like the directory itself (`sql.rs`). The dialects
//! differ in how a query reads a list of keys (SQLite: `json_each`,
//! PostgreSQL: `json_array_elements_text` gathered into an array, so the
//! planner looks each key up in the index instead of hashing every key of
//! the unit), in how a batch keeps other imports of the unit out while it
//! reads, plans and writes (SQLite's `BEGIN IMMEDIATE` already holds the
//! write lock; PostgreSQL takes a transaction-scoped advisory lock per
//! unit), and in how the planned batch is written (`import_write.rs`).

use super::import_write::{self, BatchWrite, as_i64};
use super::imports::{Batch, BatchDone, ImportStore, Job, JobStatus, LogEntry, NewJob, Planner};
use super::sql::{
    ADD_SOURCE, COUNTRY, ContactCols, SOURCE_ID, SOURCE_NAME, TYPE_FIELDS, contact_of, corrupt, field_of, json,
};
use crate::contacts::batch::{MatchKey, Stored};
use crate::contacts::import::Reason;
use crate::contacts::model::name_key;
use crate::contacts::{ContactType, OrganizationRecord};
use crate::store::StoreError;
use crate::store::sql::{Cols, Param::Int, query, text};
use crate::store::sqlite::raw::RawConnection;
use std::collections::HashMap;

const PROFILE: &str = "SELECT profile FROM import_profiles WHERE unit_id = $1 AND name_key = $2";
const SAVE_PROFILE: &str =
    "INSERT INTO import_profiles (unit_id, name, name_key, profile, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (unit_id, name_key) DO UPDATE SET name = excluded.name, profile = excluded.profile,
     modified_at = excluded.modified_at";
const PROFILES: &str = "SELECT name, profile FROM import_profiles WHERE unit_id = $1 ORDER BY name_key";
const DELETE_PROFILE: &str = "DELETE FROM import_profiles WHERE unit_id = $1 AND name_key = $2";
const CREATE_JOB: &str = "INSERT INTO import_jobs (unit_id, status, file_name, checksum, profile, rows_total,
     created_at, modified_at) VALUES ($1, 'validating', $2, $3, $4, $5, $6, $6) RETURNING id";
const JOB_COLS: &str = "SELECT id, status, file_name, checksum, profile, rows_total, rows_done, last_line, created,
     updated, rejected, orgs_created, error, created_at, modified_at FROM import_jobs WHERE unit_id = $1";
const SET_STATUS: &str =
    "UPDATE import_jobs SET status = $3, error = $4, modified_at = $5 WHERE unit_id = $1 AND id = $2";
const JOB_LOG: &str =
    "SELECT line, reason, detail FROM import_job_log WHERE unit_id = $1 AND job_id = $2 ORDER BY line, id";
const PROGRESS: &str = "SELECT rows_done, status FROM import_jobs WHERE unit_id = $1 AND id = $2";
const TYPES: &str = "SELECT id, name FROM contact_types WHERE unit_id = $1 ORDER BY id";

/// The queries that read a list of keys, for a dialect whose list reader
/// over the JSON array `$2` is `$texts` (text keys) and `$ints` (ids).
macro_rules! list_queries {
    ($texts:literal, $ints:literal) => {
        [
            concat!("SELECT contact_id FROM contact_emails WHERE unit_id = $1 AND email_key ", $texts),
            concat!("SELECT contact_id FROM contact_phones WHERE unit_id = $1 AND e164 ", $texts),
            concat!(
                "SELECT contact_id FROM contact_external_ids WHERE unit_id = $1 AND source_id = $3
                 AND external_id ",
                $texts
            ),
            concat!(
                "SELECT c.id, c.record, c.external_ids, c.created_at, c.modified_at, c.org_id, o.name, o.external_id
                 FROM contacts c LEFT JOIN organizations o ON o.id = c.org_id WHERE c.unit_id = $1 AND c.id ",
                $ints
            ),
            concat!("SELECT id, external_id, record FROM organizations WHERE unit_id = $1 AND external_id ", $texts),
        ]
    };
}

fn job_of(r: &impl Cols) -> Result<Job, StoreError> {
    let n = |c: &str| r.int(c).map(|v| u64::try_from(v).unwrap_or(0));
    let status = r.text("status")?;
    Ok(Job {
        id: r.int("id")?,
        status: JobStatus::parse(&status).ok_or_else(|| corrupt("job status", &status))?,
        file_name: r.text("file_name")?,
        checksum: r.text("checksum")?,
        profile: r.text("profile")?,
        rows_total: n("rows_total")?,
        rows_done: n("rows_done")?,
        last_line: n("last_line")?,
        created: n("created")?,
        updated: n("updated")?,
        rejected: n("rejected")?,
        organizations_created: n("orgs_created")?,
        error: r.opt_text("error")?,
        created_at: r.text("created_at")?,
        modified_at: r.text("modified_at")?,
    })
}

/// The keys of one kind as a JSON array.
fn keys_json(keys: &[MatchKey], pick: fn(&MatchKey) -> Option<&String>) -> Result<String, StoreError> {
    json(&keys.iter().filter_map(pick).collect::<Vec<_>>())
}

/// A stored log row.
fn entry_of((line, reason, detail): (i64, String, String)) -> Result<LogEntry, StoreError> {
    let reason = Reason::from_code(&reason).ok_or_else(|| corrupt("import log reason", &reason))?;
    Ok(LogEntry { line: u64::try_from(line).unwrap_or(0), reason, detail })
}

/// `ImportStore` for a store type with a `pool()`; `$begin` opens a write
/// transaction, `$lock` (bound to the unit as `$1`) keeps other imports of
/// the unit out until it ends; `$texts`/`$ints` read a JSON array `$2`.
macro_rules! import_store {
    ($store:ty, $begin:literal, $lock:literal, $texts:literal, $ints:literal, $write:path) => {
        #[async_trait::async_trait]
        impl ImportStore for $store {
            async fn save_profile(&self, unit: i64, name: &str, profile: &str, now: &str) -> Result<bool, StoreError> {
                let mut tx = self.pool().begin_with($begin).await?;
                let key = name_key(name);
                let had: Option<(String,)> =
                    sqlx::query_as(PROFILE).bind(unit).bind(&key).fetch_optional(&mut *tx).await?;
                let params = [Int(unit), text(name.trim()), text(&key), text(profile), text(now)];
                query(SAVE_PROFILE, &params).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(had.is_none())
            }

            async fn profile(&self, unit: i64, name: &str) -> Result<Option<String>, StoreError> {
                let row: Option<(String,)> =
                    sqlx::query_as(PROFILE).bind(unit).bind(name_key(name)).fetch_optional(self.pool()).await?;
                Ok(row.map(|r| r.0))
            }

            async fn profiles(&self, unit: i64) -> Result<Vec<(String, String)>, StoreError> {
                Ok(sqlx::query_as(PROFILES).bind(unit).fetch_all(self.pool()).await?)
            }

            async fn delete_profile(&self, unit: i64, name: &str) -> Result<bool, StoreError> {
                let done = sqlx::query(DELETE_PROFILE).bind(unit).bind(name_key(name)).execute(self.pool()).await?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_job(&self, unit: i64, job: &NewJob, now: &str) -> Result<i64, StoreError> {
                let params = [
                    Int(unit),
                    text(&job.file_name),
                    text(&job.checksum),
                    text(&job.profile),
                    Int(as_i64(job.rows_total)),
                    text(now),
                ];
                query(CREATE_JOB, &params).fetch_one(self.pool()).await?.int("id")
            }

            async fn job(&self, unit: i64, id: i64) -> Result<Option<Job>, StoreError> {
                let sql = format!("{JOB_COLS} AND id = $2");
                let row = query(sqlx::AssertSqlSafe(sql), &[Int(unit), Int(id)]).fetch_optional(self.pool()).await?;
                row.as_ref().map(job_of).transpose()
            }

            async fn jobs(&self, unit: i64, limit: i64) -> Result<Vec<Job>, StoreError> {
                let sql = format!("{JOB_COLS} ORDER BY id DESC LIMIT CAST($2 AS BIGINT)");
                let rows = query(sqlx::AssertSqlSafe(sql), &[Int(unit), Int(limit)]).fetch_all(self.pool()).await?;
                rows.iter().map(job_of).collect()
            }

            async fn set_job_status(
                &self,
                unit: i64,
                id: i64,
                status: JobStatus,
                error: Option<&str>,
                now: &str,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(SET_STATUS)
                    .bind(unit)
                    .bind(id)
                    .bind(status.name())
                    .bind(error)
                    .bind(now)
                    .execute(self.pool())
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn unit_context(&self, unit: i64) -> Result<(String, Vec<ContactType>), StoreError> {
                let mut types = Vec::new();
                let named: Vec<(i64, String)> = sqlx::query_as(TYPES).bind(unit).fetch_all(self.pool()).await?;
                for (id, name) in named {
                    let fields: Vec<(String, String, String)> =
                        sqlx::query_as(TYPE_FIELDS).bind(unit).bind(id).fetch_all(self.pool()).await?;
                    let fields = fields.into_iter().map(field_of).collect::<Result<Vec<_>, _>>()?;
                    types.push(ContactType::new(&name, fields).map_err(|e| corrupt("contact type", e))?);
                }
                let country: Option<(String,)> = sqlx::query_as(COUNTRY).bind(unit).fetch_optional(self.pool()).await?;
                let country =
                    country.map(|r| r.0).unwrap_or_else(|| crate::contacts::phone::DEFAULT_COUNTRY.to_string());
                Ok((country, types))
            }

            async fn job_log(&self, unit: i64, id: i64) -> Result<Vec<LogEntry>, StoreError> {
                let rows: Vec<(i64, String, String)> =
                    sqlx::query_as(JOB_LOG).bind(unit).bind(id).fetch_all(self.pool()).await?;
                rows.into_iter().map(entry_of).collect()
            }

            async fn import_batch(
                &self,
                unit: i64,
                job: i64,
                batch: &Batch,
                planner: Planner<'_>,
                now: &str,
            ) -> Result<BatchDone, StoreError> {
                const LISTS: [&str; 5] = list_queries!($texts, $ints);
                let mut tx = self.pool().begin_with($begin).await?;
                sqlx::query($lock).bind(unit).execute(&mut *tx).await?;
                let progress: Option<(i64, String)> =
                    sqlx::query_as(PROGRESS).bind(unit).bind(job).fetch_optional(&mut *tx).await?;
                match progress {
                    Some((done, status)) if done == as_i64(batch.after_rows) && status == "importing" => {}
                    _ => return Ok(BatchDone::Stale),
                }
                // The job's source, created on first use.
                sqlx::query(ADD_SOURCE)
                    .bind(unit)
                    .bind(batch.source.trim())
                    .bind(name_key(&batch.source))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                let (source_id,): (i64,) =
                    sqlx::query_as(SOURCE_ID).bind(unit).bind(name_key(&batch.source)).fetch_one(&mut *tx).await?;

                // What the rows' identifiers find.
                let lists = [
                    keys_json(&batch.keys, |k| if let MatchKey::Email(e) = k { Some(e) } else { None })?,
                    keys_json(&batch.keys, |k| if let MatchKey::Phone(p) = k { Some(p) } else { None })?,
                    keys_json(&batch.keys, |k| if let MatchKey::ExternalId(x) = k { Some(x) } else { None })?,
                ];
                let mut ids = Vec::new();
                for (i, list) in lists.iter().enumerate() {
                    let q = sqlx::query_as::<_, (i64,)>(LISTS[i]).bind(unit).bind(list);
                    // Only the external-ID query names the source.
                    let q = if i == 2 { q.bind(source_id) } else { q };
                    ids.extend(q.fetch_all(&mut *tx).await?.into_iter().map(|r| r.0));
                }
                ids.sort_unstable();
                ids.dedup();
                let rows: Vec<ContactCols> =
                    sqlx::query_as(LISTS[3]).bind(unit).bind(json(&ids)?).fetch_all(&mut *tx).await?;
                let contacts = rows.into_iter().map(contact_of).collect::<Result<Vec<_>, _>>()?;
                let orgs: Vec<(i64, String, String)> =
                    sqlx::query_as(LISTS[4]).bind(unit).bind(json(&batch.organizations)?).fetch_all(&mut *tx).await?;
                let mut org_records = HashMap::new();
                let mut organizations = HashMap::new();
                for (id, external_id, record) in orgs {
                    let record: OrganizationRecord =
                        serde_json::from_str(&record).map_err(|e| corrupt("organization", e))?;
                    organizations.insert(external_id, (id, record.name.clone()));
                    org_records.insert(id, record);
                }
                let external_ids = contacts.iter().map(|c| (c.id, c.external_ids.clone())).collect();
                let plan = planner(Stored { contacts, organizations, ..Stored::default() });
                let (source_name,): (String,) =
                    sqlx::query_as(SOURCE_NAME).bind(unit).bind(source_id).fetch_one(&mut *tx).await?;
                let write =
                    BatchWrite { unit, job, now, batch, source_id, source_name, plan, org_records, external_ids };
                let done = $write(&mut *tx, write).await?;
                tx.commit().await?;
                Ok(done)
            }
        }
    };
}

/// The SQLite batch write: through the C API on the transaction's connection.
async fn write_sqlite(tx: &mut sqlx::SqliteConnection, w: BatchWrite<'_>) -> Result<BatchDone, StoreError> {
    let raw = RawConnection::lock(tx).await?;
    import_write::write_sqlite(&raw, w)
}

import_store!(
    crate::store::SqliteStore,
    "BEGIN IMMEDIATE",
    "SELECT $1",
    "IN (SELECT value FROM json_each($2))",
    "IN (SELECT value FROM json_each($2))",
    write_sqlite
);
#[cfg(feature = "postgres")]
import_store!(
    crate::store::PgStore,
    "BEGIN",
    "SELECT pg_advisory_xact_lock(20011, CAST($1 AS INTEGER))",
    "= ANY(ARRAY(SELECT json_array_elements_text(CAST($2 AS JSON))))",
    "= ANY(ARRAY(SELECT CAST(json_array_elements_text(CAST($2 AS JSON)) AS BIGINT)))",
    import_write::write_pg
);
