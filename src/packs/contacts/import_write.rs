//! The write half of an import batch ([`ImportStore::import_batch`]):
//! a planned batch ([`Plan`]) turned into rows, and those rows written
//! inside the batch's transaction, once per backend. The batch's read
//! half (what its keys find, the job's progress check) is shared SQL in
//! `import_sql.rs`; this module owns what differs.
//!
//! Why per backend: a batch of 2,000 rows with three emails and four
//! phones is some 20,000 rows. Through sqlx one statement per row costs a
//! thread hand-off (SQLite) or a network round trip (PostgreSQL) each,
//! which was nearly all of an import's time. On SQLite the rows go
//! through the C API ([`RawConnection`], statements prepared once per
//! batch and bound in place, as `bulk.rs` does for new contacts); on
//! PostgreSQL new contacts take ids from their sequence and go with their
//! phones, emails, external IDs and the log through COPY, and updated
//! contacts are rewritten by one statement over arrays. A batch is some
//! fifteen round trips whatever its size.
//!
//! [`ImportStore::import_batch`]: super::imports::ImportStore::import_batch

use super::imports::{Batch, BatchDone, LogEntry};
use super::sql::{
    ADD_CONTACT, ADD_EMAIL, ADD_EXTERNAL_ID, ADD_ORG, ADD_PHONE, DROP_CONTACT, DROP_EMAILS, DROP_PHONES,
    UPDATE_CONTACT, contact_params, email_params, json, name_keys, phone_params,
};
use crate::contacts::batch::{Plan, RowOutcome};
use crate::contacts::model::{ExternalId, name_key};
use crate::contacts::{ContactRow, OrganizationRecord};
use crate::store::StoreError;
use crate::store::sql::{Param::Int, text};
use crate::store::sqlite::raw::RawConnection;
use std::collections::HashMap;

pub(super) const ADD_LOG: &str =
    "INSERT INTO import_job_log (unit_id, job_id, line, reason, detail) VALUES ($1, $2, $3, $4, $5)";
pub(super) const ADVANCE: &str = "UPDATE import_jobs SET rows_done = rows_done + $3, last_line = $4,
     created = created + $5, updated = updated + $6, rejected = rejected + $7, orgs_created = orgs_created + $8,
     modified_at = $9 WHERE unit_id = $1 AND id = $2";
const RENAME_ORG: &str = "UPDATE organizations SET name = $3, name_key = $4, record = $5, modified_at = $6
     WHERE unit_id = $1 AND id = $2";
const ORG_BY_EXTERNAL_ID: &str = "SELECT id FROM organizations WHERE unit_id = $1 AND external_id = $2";
const MOVE_NOTES: &str = "UPDATE contact_notes SET contact_id = $3 WHERE unit_id = $1 AND contact_id = $2";
const MOVE_EXTERNAL_IDS: &str =
    "UPDATE contact_external_ids SET contact_id = $3 WHERE unit_id = $1 AND contact_id = $2";

/// A planned batch with what its write needs beside the plan.
pub(super) struct BatchWrite<'a> {
    pub unit: i64,
    pub job: i64,
    pub now: &'a str,
    pub batch: &'a Batch,
    /// The job's external source: its id and its name as stored.
    pub source_id: i64,
    pub source_name: String,
    pub plan: Plan,
    /// The records of the organizations the batch read (for renames).
    pub org_records: HashMap<i64, OrganizationRecord>,
    /// The external IDs (every source) of each contact the batch read, as
    /// read in this transaction: what an updated contact's column keeps.
    pub external_ids: HashMap<i64, Vec<ExternalId>>,
}

/// A contact to insert (`id` below zero: the plan's batch id) or rewrite,
/// with its columns ready.
pub(super) struct ContactWrite {
    pub id: i64,
    pub row: ContactRow,
    pub keys: [String; 2],
    pub record: String,
    /// Its external IDs (every source) as the column keeps them.
    pub external_ids: String,
}

impl BatchWrite<'_> {
    /// The organizations to create: `(batch id, external ID, name, record)`.
    fn new_orgs(&self) -> Result<Vec<(i64, &str, &str, String)>, StoreError> {
        self.plan
            .new_organizations
            .iter()
            .map(|(temp, external_id, name)| {
                let record = OrganizationRecord {
                    name: name.clone(),
                    external_id: Some(external_id.clone()),
                    ..Default::default()
                };
                Ok((*temp, external_id.as_str(), name.as_str(), json(&record)?))
            })
            .collect()
    }

    /// The renamed organizations: `(id, name, record)`.
    fn renames(&mut self) -> Result<Vec<(i64, String, String)>, StoreError> {
        let renamed = std::mem::take(&mut self.plan.renamed_organizations);
        renamed
            .into_iter()
            .map(|(id, name)| {
                let mut record = self.org_records.remove(&id).unwrap_or_default();
                record.name = name.clone();
                Ok((id, name, json(&record)?))
            })
            .collect()
    }

    /// The contacts to write, new ones first in the order the batch
    /// created them (so their ids and dates rank them in file order), then
    /// the existing ones by id; organization batch ids mapped through
    /// `org_ids`. A merged-away contact's external IDs (and those it took
    /// in from contacts merged into it before) go to its survivor.
    fn contacts(&mut self, org_ids: &HashMap<i64, i64>) -> Result<Vec<ContactWrite>, StoreError> {
        let mut moved: HashMap<i64, Vec<ExternalId>> = HashMap::new();
        for (gone, survivor) in &self.plan.merged_away {
            let mut ids = self.external_ids.remove(gone).unwrap_or_default();
            ids.extend(moved.remove(gone).unwrap_or_default());
            moved.entry(*survivor).or_default().extend(ids);
        }
        let mut planned: Vec<_> = std::mem::take(&mut self.plan.contacts).into_iter().collect();
        planned.sort_by_key(|(id, _)| if *id < 0 { (0, -id) } else { (1, *id) });
        let mut out = Vec::with_capacity(planned.len());
        for (id, p) in planned {
            let mut ids = if id < 0 { Vec::new() } else { self.external_ids.remove(&id).unwrap_or_default() };
            for x in moved.remove(&id).unwrap_or_default() {
                if !ids.contains(&x) {
                    ids.push(x);
                }
            }
            ids.extend(
                p.new_external_ids.iter().map(|x| ExternalId { source: self.source_name.clone(), id: x.clone() }),
            );
            let org_id = p.org_id.map(|o| org_ids.get(&o).copied().unwrap_or(o));
            let new_ids = p.new_external_ids.into_iter().map(|x| (self.source_id, x)).collect();
            let row = ContactRow::new(p.record, org_id, new_ids);
            out.push(ContactWrite {
                id,
                keys: name_keys(&row.record),
                record: json(&row.record)?,
                external_ids: json(&ids)?,
                row,
            });
        }
        Ok(out)
    }

    /// The batch's log: rows refused before planning, then by the plan.
    fn log(&self) -> Vec<LogEntry> {
        let mut log = self.batch.rejected.clone();
        log.extend(
            self.plan
                .outcomes
                .iter()
                .filter_map(|(line, o)| o.refusal().map(|(reason, detail)| LogEntry { line: *line, reason, detail })),
        );
        log
    }

    /// What the batch did, given the organizations it created.
    fn done(&self, organizations_created: u64) -> BatchDone {
        let (mut created, mut updated, mut rejected) = (0, 0, self.batch.rejected.len() as u64);
        for (_, o) in &self.plan.outcomes {
            match o {
                RowOutcome::Created(_) => created += 1,
                RowOutcome::Updated { .. } => updated += 1,
                RowOutcome::Organization { .. } => {}
                _ => rejected += 1,
            }
        }
        BatchDone::Applied { created, updated, rejected, organizations_created }
    }

    fn taken(&self) -> StoreError {
        StoreError::Query(format!("an external ID of line {} is taken", self.batch.last_line))
    }

    /// The job's progress after the batch (`ADVANCE`'s values but the time).
    fn advance(&self, done: &BatchDone) -> [i64; 8] {
        let BatchDone::Applied { created, updated, rejected, organizations_created } = *done else {
            return [self.unit, self.job, 0, 0, 0, 0, 0, 0];
        };
        [
            self.unit,
            self.job,
            as_i64(self.batch.rows),
            as_i64(self.batch.last_line),
            as_i64(created),
            as_i64(updated),
            as_i64(rejected),
            as_i64(organizations_created),
        ]
    }
}

pub(super) fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Write `w` on SQLite through the C API, inside the caller's transaction.
pub(super) fn write_sqlite(raw: &RawConnection<'_>, mut w: BatchWrite<'_>) -> Result<BatchDone, StoreError> {
    let unit = w.unit;
    let now = w.now;
    let mut org_ids: HashMap<i64, i64> = HashMap::new();
    let mut orgs_created = 0u64;
    let new_orgs = w.new_orgs()?;
    if !new_orgs.is_empty() {
        let (mut add, mut find) = (raw.prepare(ADD_ORG)?, raw.prepare(ORG_BY_EXTERNAL_ID)?);
        for (temp, external_id, name, record) in &new_orgs {
            let key = name_key(name);
            let params = [Int(unit), text(name), text(&key), text(external_id), text(record), text(now)];
            let id = match add.first_int(&params)? {
                Some(id) => {
                    orgs_created += 1;
                    id
                }
                None => find
                    .first_int(&[Int(unit), text(external_id)])?
                    .ok_or_else(|| StoreError::Query(format!("organization {external_id} vanished")))?,
            };
            org_ids.insert(*temp, id);
        }
    }
    drop(new_orgs);
    for (id, name, record) in w.renames()? {
        let key = name_key(&name);
        let params = [Int(unit), Int(id), text(&name), text(&key), text(&record), text(now)];
        raw.prepare(RENAME_ORG)?.execute(&params)?;
    }
    if !w.plan.merged_away.is_empty() {
        let mut moves = [raw.prepare(MOVE_NOTES)?, raw.prepare(MOVE_EXTERNAL_IDS)?];
        let mut drops = [raw.prepare(DROP_PHONES)?, raw.prepare(DROP_EMAILS)?, raw.prepare(DROP_CONTACT)?];
        for (gone, survivor) in &w.plan.merged_away {
            for q in &mut moves {
                q.execute(&[Int(unit), Int(*gone), Int(*survivor)])?;
            }
            for q in &mut drops {
                q.execute(&[Int(unit), Int(*gone)])?;
            }
        }
    }
    let contacts = w.contacts(&org_ids)?;
    let mut add = raw.prepare(ADD_CONTACT)?;
    let mut update = raw.prepare(UPDATE_CONTACT)?;
    let mut phone = raw.prepare(ADD_PHONE)?;
    let mut email = raw.prepare(ADD_EMAIL)?;
    let mut drops = [raw.prepare(DROP_PHONES)?, raw.prepare(DROP_EMAILS)?];
    let mut external = None;
    for c in &contacts {
        let params = contact_params(unit, &c.row, &c.keys, &c.record, &c.external_ids, now);
        let id = if c.id < 0 {
            add.first_int(&params)?.ok_or_else(|| StoreError::Query("a new contact got no id".into()))?
        } else {
            for q in &mut drops {
                q.execute(&[Int(unit), Int(c.id)])?;
            }
            let mut params = params.to_vec();
            params.push(Int(c.id));
            update.execute(&params)?;
            c.id
        };
        for (source, value) in &c.row.new_external_ids {
            if external.is_none() {
                external = Some(raw.prepare(ADD_EXTERNAL_ID)?);
            }
            let Some(q) = external.as_mut() else { continue };
            if q.first_int(&[Int(unit), Int(id), Int(*source), text(value), text(now)])?.is_none() {
                return Err(w.taken());
            }
        }
        for (field, p) in &c.row.record.phones {
            phone.execute(&phone_params(unit, id, field, p))?;
        }
        for (field, key) in &c.row.email_keys {
            email.execute(&email_params(unit, id, &c.row, field, key))?;
        }
    }
    let log = w.log();
    if !log.is_empty() {
        let mut add = raw.prepare(ADD_LOG)?;
        for e in &log {
            add.execute(&[Int(unit), Int(w.job), Int(as_i64(e.line)), text(e.reason.code()), text(&e.detail)])?;
        }
    }
    let done = w.done(orgs_created);
    let mut params: Vec<_> = w.advance(&done).into_iter().map(Int).collect();
    params.push(text(now));
    raw.prepare(ADVANCE)?.execute(&params)?;
    Ok(done)
}

#[cfg(feature = "postgres")]
mod pg {
    use super::super::sql::{CONTACT_COLUMNS, EMAIL_COLUMNS, EXTERNAL_ID_COLUMNS, PHONE_COLUMNS};
    use super::*;
    use crate::store::postgres::copy::CopyWriter;
    use sqlx::PgConnection;

    const CONTACT_IDS: &str = "SELECT nextval('contacts_id_seq'::regclass) FROM generate_series(1, $1)";
    const ADD_ORGS: &str =
        "INSERT INTO organizations (unit_id, name, name_key, external_id, record, created_at, modified_at)
         SELECT $1, v.name, v.name_key, v.external_id, v.record, $2, $2
         FROM UNNEST(CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[]))
              WITH ORDINALITY AS v(name, name_key, external_id, record, n)
         ORDER BY v.n ON CONFLICT (unit_id, external_id) DO NOTHING RETURNING id, external_id";
    const ORGS_BY_EXTERNAL_ID: &str =
        "SELECT id, external_id FROM organizations WHERE unit_id = $1 AND external_id = ANY(CAST($2 AS TEXT[]))";
    const DROP_PHONES_OF: &str =
        "DELETE FROM contact_phones WHERE unit_id = $1 AND contact_id = ANY(CAST($2 AS BIGINT[]))";
    const DROP_EMAILS_OF: &str =
        "DELETE FROM contact_emails WHERE unit_id = $1 AND contact_id = ANY(CAST($2 AS BIGINT[]))";
    const UPDATE_CONTACTS: &str = "UPDATE contacts c SET first_name = v.first_name, last_name = v.last_name,
         first_key = v.first_key, last_key = v.last_key, org_id = v.org_id, record = v.record,
         external_ids = v.external_ids, modified_at = $2
         FROM UNNEST(CAST($3 AS BIGINT[]), CAST($4 AS TEXT[]), CAST($5 AS TEXT[]), CAST($6 AS TEXT[]),
                     CAST($7 AS TEXT[]), CAST($8 AS BIGINT[]), CAST($9 AS TEXT[]), CAST($10 AS TEXT[]))
              AS v(id, first_name, last_name, first_key, last_key, org_id, record, external_ids)
         WHERE c.unit_id = $1 AND c.id = v.id";
    const LOG_COLUMNS: &[&str] = &["unit_id", "job_id", "line", "reason", "detail"];

    /// Write `w` on PostgreSQL inside the caller's transaction (`tx`).
    pub(in super::super) async fn write_pg(
        tx: &mut PgConnection,
        mut w: BatchWrite<'_>,
    ) -> Result<BatchDone, StoreError> {
        let (unit, now) = (w.unit, w.now);
        // Organizations first, in one statement: contacts link to them.
        let mut org_ids: HashMap<i64, i64> = HashMap::new();
        let mut orgs_created = 0u64;
        let new_orgs = w.new_orgs()?;
        if !new_orgs.is_empty() {
            let column = |f: fn(&(i64, &str, &str, String)) -> String| new_orgs.iter().map(f).collect::<Vec<_>>();
            let added: Vec<(i64, String)> = sqlx::query_as(ADD_ORGS)
                .bind(unit)
                .bind(now)
                .bind(column(|o| o.2.to_string()))
                .bind(column(|o| name_key(o.2)))
                .bind(column(|o| o.1.to_string()))
                .bind(column(|o| o.3.clone()))
                .fetch_all(&mut *tx)
                .await?;
            orgs_created = added.len() as u64;
            let mut by_external: HashMap<String, i64> = added.into_iter().map(|(id, x)| (x, id)).collect();
            if by_external.len() < new_orgs.len() {
                let missing: Vec<String> =
                    new_orgs.iter().filter(|o| !by_external.contains_key(o.1)).map(|o| o.1.to_string()).collect();
                let found: Vec<(i64, String)> =
                    sqlx::query_as(ORGS_BY_EXTERNAL_ID).bind(unit).bind(missing).fetch_all(&mut *tx).await?;
                by_external.extend(found.into_iter().map(|(id, x)| (x, id)));
            }
            for (temp, external_id, ..) in &new_orgs {
                let id = by_external
                    .get(*external_id)
                    .ok_or_else(|| StoreError::Query(format!("organization {external_id} vanished")))?;
                org_ids.insert(*temp, *id);
            }
        }
        drop(new_orgs);
        for (id, name, record) in w.renames()? {
            sqlx::query(RENAME_ORG)
                .bind(unit)
                .bind(id)
                .bind(&name)
                .bind(name_key(&name))
                .bind(&record)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        for (gone, survivor) in &w.plan.merged_away {
            for q in [MOVE_NOTES, MOVE_EXTERNAL_IDS] {
                sqlx::query(q).bind(unit).bind(gone).bind(survivor).execute(&mut *tx).await?;
            }
            for q in [DROP_PHONES, DROP_EMAILS, DROP_CONTACT] {
                sqlx::query(q).bind(unit).bind(gone).execute(&mut *tx).await?;
            }
        }
        let mut contacts = w.contacts(&org_ids)?;
        // New contacts: ids from the sequence, in creation order.
        let new = contacts.iter().filter(|c| c.id < 0).count();
        if new > 0 {
            let mut ids: Vec<i64> = sqlx::query_scalar(CONTACT_IDS).bind(new as i64).fetch_all(&mut *tx).await?;
            ids.sort_unstable();
            let mut copy = CopyWriter::start(&mut *tx, "contacts", CONTACT_COLUMNS).await?;
            for (c, id) in contacts.iter_mut().filter(|c| c.id < 0).zip(ids) {
                c.id = id;
                copy.int(id);
                for p in contact_params(unit, &c.row, &c.keys, &c.record, &c.external_ids, now) {
                    copy.param(p);
                }
                copy.text(now);
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        // Updated contacts: their phones and emails go, their columns are
        // rewritten in one statement.
        let updated: Vec<&ContactWrite> = contacts.iter().skip(new).collect();
        if !updated.is_empty() {
            let ids: Vec<i64> = updated.iter().map(|c| c.id).collect();
            for q in [DROP_PHONES_OF, DROP_EMAILS_OF] {
                sqlx::query(q).bind(unit).bind(&ids).execute(&mut *tx).await?;
            }
            let texts = |f: fn(&ContactWrite) -> &str| updated.iter().map(|c| f(c).to_string()).collect::<Vec<_>>();
            sqlx::query(UPDATE_CONTACTS)
                .bind(unit)
                .bind(now)
                .bind(&ids)
                .bind(texts(|c| &c.row.record.first_name))
                .bind(texts(|c| &c.row.record.last_name))
                .bind(texts(|c| &c.keys[0]))
                .bind(texts(|c| &c.keys[1]))
                .bind(updated.iter().map(|c| c.row.org_id).collect::<Vec<_>>())
                .bind(texts(|c| &c.record))
                .bind(texts(|c| &c.external_ids))
                .execute(&mut *tx)
                .await?;
        }
        if contacts.iter().any(|c| !c.row.new_external_ids.is_empty()) {
            let mut copy = CopyWriter::start(&mut *tx, "contact_external_ids", EXTERNAL_ID_COLUMNS).await?;
            for c in &contacts {
                for (source, value) in &c.row.new_external_ids {
                    copy.int(unit).int(c.id).int(*source).text(value).text(now);
                    copy.end_row().await?;
                }
            }
            match copy.finish().await {
                Err(e) if e.is_unique_violation() => return Err(w.taken()),
                done => {
                    done?;
                }
            }
        }
        if contacts.iter().any(|c| !c.row.record.phones.is_empty()) {
            let mut copy = CopyWriter::start(&mut *tx, "contact_phones", PHONE_COLUMNS).await?;
            for c in &contacts {
                for (field, p) in &c.row.record.phones {
                    copy.row(&phone_params(unit, c.id, field, p)).await?;
                }
            }
            copy.finish().await?;
        }
        if contacts.iter().any(|c| !c.row.email_keys.is_empty()) {
            let mut copy = CopyWriter::start(&mut *tx, "contact_emails", EMAIL_COLUMNS).await?;
            for c in &contacts {
                for (field, key) in &c.row.email_keys {
                    copy.row(&email_params(unit, c.id, &c.row, field, key)).await?;
                }
            }
            copy.finish().await?;
        }
        let log = w.log();
        if !log.is_empty() {
            let mut copy = CopyWriter::start(&mut *tx, "import_job_log", LOG_COLUMNS).await?;
            for e in &log {
                copy.int(unit).int(w.job).int(as_i64(e.line)).text(e.reason.code()).text(&e.detail);
                copy.end_row().await?;
            }
            copy.finish().await?;
        }
        let done = w.done(orgs_created);
        let mut q = sqlx::query(ADVANCE);
        for v in w.advance(&done) {
            q = q.bind(v);
        }
        q.bind(now).execute(&mut *tx).await?;
        Ok(done)
    }
}
#[cfg(feature = "postgres")]
pub(super) use pg::write_pg;
