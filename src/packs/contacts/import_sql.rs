//! [`ImportStore`] on SQLite and PostgreSQL, written once
//! ([`import_store!`]) like the directory itself (`sql.rs`). The dialects
//! differ in how a query reads a list of keys (SQLite: `json_each`,
//! PostgreSQL: `json_array_elements_text`) and in how a batch keeps other
//! imports of the unit out while it reads, plans and writes (SQLite's
//! `BEGIN IMMEDIATE` already holds the write lock; PostgreSQL takes a
//! transaction-scoped advisory lock per unit).

use super::imports::{Batch, BatchDone, ImportStore, Job, JobStatus, LogEntry, NewJob, Planner};
use super::sql::{
    ADD_CONTACT, ADD_EMAIL, ADD_EXTERNAL_ID, ADD_ORG, ADD_PHONE, ADD_SOURCE, COUNTRY, ContactCols, DROP_CONTACT,
    DROP_EMAILS, DROP_PHONES, EXTERNAL_IDS_OF, SOURCE_ID, SOURCE_NAME, TYPE_FIELDS, UPDATE_CONTACT, contact_of,
    contact_params, corrupt, email_params, field_of, json, name_keys, phone_params, write_links,
};
use super::store::Written;
use crate::contacts::batch::{MatchKey, Plan, RowOutcome, Stored};
use crate::contacts::import::Reason;
use crate::contacts::model::{ExternalId, name_key};
use crate::contacts::{ContactRow, ContactType, OrganizationRecord};
use crate::store::StoreError;
use crate::store::sql::{Cols, Param::Int, query, text};
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
const ADD_LOG: &str = "INSERT INTO import_job_log (unit_id, job_id, line, reason, detail) VALUES ($1, $2, $3, $4, $5)";
const PROGRESS: &str = "SELECT rows_done, status FROM import_jobs WHERE unit_id = $1 AND id = $2";
const ADVANCE: &str = "UPDATE import_jobs SET rows_done = rows_done + $3, last_line = $4, created = created + $5,
     updated = updated + $6, rejected = rejected + $7, orgs_created = orgs_created + $8, modified_at = $9
     WHERE unit_id = $1 AND id = $2";
const TYPES: &str = "SELECT id, name FROM contact_types WHERE unit_id = $1 ORDER BY id";
const RENAME_ORG: &str = "UPDATE organizations SET name = $3, name_key = $4, record = $5, modified_at = $6
     WHERE unit_id = $1 AND id = $2";
const ORG_BY_EXTERNAL_ID: &str = "SELECT id FROM organizations WHERE unit_id = $1 AND external_id = $2";
const MOVE_NOTES: &str = "UPDATE contact_notes SET contact_id = $3 WHERE unit_id = $1 AND contact_id = $2";
const MOVE_EXTERNAL_IDS: &str =
    "UPDATE contact_external_ids SET contact_id = $3 WHERE unit_id = $1 AND contact_id = $2";

/// The queries that read a list of keys, for a dialect whose list reader
/// over the JSON array `$2` is `$texts` (text keys) and `$ints` (ids).
macro_rules! list_queries {
    ($texts:literal, $ints:literal) => {
        [
            concat!("SELECT contact_id FROM contact_emails WHERE unit_id = $1 AND email_key IN (", $texts, ")"),
            concat!("SELECT contact_id FROM contact_phones WHERE unit_id = $1 AND e164 IN (", $texts, ")"),
            concat!(
                "SELECT contact_id FROM contact_external_ids WHERE unit_id = $1 AND source_id = $3
                 AND external_id IN (",
                $texts,
                ")"
            ),
            concat!(
                "SELECT c.id, c.record, c.external_ids, c.created_at, c.modified_at, c.org_id, o.name, o.external_id
                 FROM contacts c LEFT JOIN organizations o ON o.id = c.org_id WHERE c.unit_id = $1 AND c.id IN (",
                $ints,
                ")"
            ),
            concat!(
                "SELECT id, external_id, record FROM organizations WHERE unit_id = $1 AND external_id IN (",
                $texts,
                ")"
            ),
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

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The counts of a plan's outcomes: (created, updated, rejected).
fn counts(plan: &Plan) -> (u64, u64, u64) {
    let mut c = (0, 0, 0);
    for (_, o) in &plan.outcomes {
        match o {
            RowOutcome::Created(_) => c.0 += 1,
            RowOutcome::Updated { .. } => c.1 += 1,
            RowOutcome::Organization { .. } => {}
            _ => c.2 += 1,
        }
    }
    c
}

/// A planned rejection as a log entry.
fn rejection(line: u64, o: &RowOutcome) -> Option<LogEntry> {
    o.refusal().map(|(reason, detail)| LogEntry { line, reason, detail })
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
    ($store:ty, $begin:literal, $lock:literal, $texts:literal, $ints:literal) => {
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
                let mut plan = planner(Stored { contacts, organizations, ..Stored::default() });

                // Organizations first: contacts link to them.
                let mut org_ids: HashMap<i64, i64> = HashMap::new();
                let mut orgs_created = 0u64;
                for (temp, external_id, name) in &plan.new_organizations {
                    let record = OrganizationRecord {
                        name: name.clone(),
                        external_id: Some(external_id.clone()),
                        ..Default::default()
                    };
                    let (key, record) = (name_key(name), json(&record)?);
                    let params = [Int(unit), text(name), text(&key), text(external_id), text(&record), text(now)];
                    let id = match query(ADD_ORG, &params).fetch_optional(&mut *tx).await? {
                        Some(r) => {
                            orgs_created += 1;
                            r.int("id")?
                        }
                        None => {
                            sqlx::query_as::<_, (i64,)>(ORG_BY_EXTERNAL_ID)
                                .bind(unit)
                                .bind(external_id)
                                .fetch_one(&mut *tx)
                                .await?
                                .0
                        }
                    };
                    org_ids.insert(*temp, id);
                }
                for (id, name) in &plan.renamed_organizations {
                    let mut record = org_records.remove(id).unwrap_or_default();
                    record.name = name.clone();
                    let (key, record) = (name_key(name), json(&record)?);
                    let params = [Int(unit), Int(*id), text(name), text(&key), text(&record), text(now)];
                    query(RENAME_ORG, &params).execute(&mut *tx).await?;
                }
                // Merged-away contacts hand their notes and external IDs to
                // the survivor, then go.
                let mut moved: HashMap<i64, Vec<ExternalId>> = HashMap::new();
                for (gone, survivor) in &plan.merged_away {
                    let ids: Option<(String,)> =
                        sqlx::query_as(EXTERNAL_IDS_OF).bind(unit).bind(gone).fetch_optional(&mut *tx).await?;
                    let ids: Vec<ExternalId> = match ids {
                        Some((t,)) => serde_json::from_str(&t).map_err(|e| corrupt("external IDs", e))?,
                        None => Vec::new(),
                    };
                    moved.entry(*survivor).or_default().extend(ids);
                    for q in [MOVE_NOTES, MOVE_EXTERNAL_IDS] {
                        sqlx::query(q).bind(unit).bind(gone).bind(survivor).execute(&mut *tx).await?;
                    }
                    for q in [DROP_PHONES, DROP_EMAILS, DROP_CONTACT] {
                        sqlx::query(q).bind(unit).bind(gone).execute(&mut *tx).await?;
                    }
                }
                // New contacts in the order the batch created them (-1, -2,
                // ...), so their ids and dates rank them in file order.
                let mut planned_contacts: Vec<_> = std::mem::take(&mut plan.contacts).into_iter().collect();
                planned_contacts.sort_by_key(|(id, _)| if *id < 0 { (0, -id) } else { (1, *id) });
                for (id, planned) in planned_contacts {
                    let org_id = planned.org_id.map(|o| org_ids.get(&o).copied().unwrap_or(o));
                    let new_ids = planned.new_external_ids.iter().map(|x| (source_id, x.clone())).collect();
                    let row = ContactRow::new(planned.record, org_id, new_ids);
                    let (id, old, always) = if id < 0 {
                        let (keys, record) = (name_keys(&row.record), json(&row.record)?);
                        let added = query(ADD_CONTACT, &contact_params(unit, &row, &keys, &record, "[]", now))
                            .fetch_one(&mut *tx)
                            .await?;
                        (added.int("id")?, Vec::new(), false)
                    } else {
                        let old: Option<(String,)> =
                            sqlx::query_as(EXTERNAL_IDS_OF).bind(unit).bind(id).fetch_optional(&mut *tx).await?;
                        let mut old: Vec<ExternalId> = match old {
                            Some((t,)) => serde_json::from_str(&t).map_err(|e| corrupt("external IDs", e))?,
                            None => return Err(StoreError::Query(format!("contact {id} vanished during an import"))),
                        };
                        for x in moved.remove(&id).unwrap_or_default() {
                            if !old.contains(&x) {
                                old.push(x);
                            }
                        }
                        for q in [DROP_PHONES, DROP_EMAILS] {
                            sqlx::query(q).bind(unit).bind(id).execute(&mut *tx).await?;
                        }
                        (id, old, true)
                    };
                    if write_links!(tx, unit, id, &row, old, now, always) != Written::Done(id) {
                        return Err(StoreError::Query(format!("an external ID of line {} is taken", batch.last_line)));
                    }
                }
                let (created, updated, planned_rejects) = counts(&plan);
                let mut log: Vec<LogEntry> = batch.rejected.clone();
                log.extend(plan.outcomes.iter().filter_map(|(line, o)| rejection(*line, o)));
                for e in &log {
                    let params = [Int(unit), Int(job), Int(as_i64(e.line)), text(e.reason.code()), text(&e.detail)];
                    query(ADD_LOG, &params).execute(&mut *tx).await?;
                }
                let rejected = planned_rejects + batch.rejected.len() as u64;
                let params = [
                    Int(unit),
                    Int(job),
                    Int(as_i64(batch.rows)),
                    Int(as_i64(batch.last_line)),
                    Int(as_i64(created)),
                    Int(as_i64(updated)),
                    Int(as_i64(rejected)),
                    Int(as_i64(orgs_created)),
                    text(now),
                ];
                query(ADVANCE, &params).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(BatchDone::Applied { created, updated, rejected, organizations_created: orgs_created })
            }
        }
    };
}

import_store!(
    crate::store::SqliteStore,
    "BEGIN IMMEDIATE",
    "SELECT $1",
    "SELECT value FROM json_each($2)",
    "SELECT value FROM json_each($2)"
);
#[cfg(feature = "postgres")]
import_store!(
    crate::store::PgStore,
    "BEGIN",
    "SELECT pg_advisory_xact_lock(20011, CAST($1 AS INTEGER))",
    "SELECT json_array_elements_text(CAST($2 AS JSON))",
    "SELECT CAST(json_array_elements_text(CAST($2 AS JSON)) AS BIGINT)"
);
