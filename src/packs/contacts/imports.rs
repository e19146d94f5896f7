//! [`ImportStore`]: what a bulk import of contacts reads and writes, per
//! business unit: saved import profiles, import jobs with their progress
//! and log, and the batch write that applies one planned batch
//! ([`crate::contacts::batch`]) together with the job's progress, in one
//! transaction. The SQLite and PostgreSQL stores serve it
//! (`import_sql.rs`).

use crate::contacts::ContactType;
use crate::contacts::batch::{MatchKey, Plan, Stored};
pub use crate::contacts::import::LogEntry;
use crate::store::{Store, StoreError};
use async_trait::async_trait;
use serde::Serialize;
use std::sync::Arc;

/// Where an import job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum JobStatus {
    /// The file is being checked.
    Validating,
    /// Checked; nothing written (a validate-only run ends here).
    Validated,
    /// Batches are being written (or were, when the process died).
    Importing,
    /// Every row was applied or logged.
    Completed,
    /// The file was refused or the import stopped on an error.
    Failed,
    /// Cancelled: what was committed stays.
    Cancelled,
}

impl JobStatus {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Validating => "validating",
            JobStatus::Validated => "validated",
            JobStatus::Importing => "importing",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// The status a stored name names.
    pub fn parse(name: &str) -> Option<JobStatus> {
        [
            JobStatus::Validating,
            JobStatus::Validated,
            JobStatus::Importing,
            JobStatus::Completed,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// A new job: the file it reads and the profile it applies (as JSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    /// The file, as given.
    pub file_name: String,
    /// SHA-256 of the file's bytes (hex): a resume refuses another file.
    pub checksum: String,
    /// The profile the job applies, as JSON.
    pub profile: String,
    /// Data rows in the file.
    pub rows_total: u64,
}

/// An import job as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Its id in the unit's store.
    pub id: i64,
    /// Where it stands.
    pub status: JobStatus,
    /// The file, as given.
    pub file_name: String,
    /// SHA-256 of the file's bytes (hex).
    pub checksum: String,
    /// The profile it applies, as JSON.
    pub profile: String,
    /// Data rows in the file.
    pub rows_total: u64,
    /// Data rows committed (applied or logged), from the first.
    pub rows_done: u64,
    /// The file line of the last committed row (0 before the first).
    pub last_line: u64,
    /// Contacts created.
    pub created: u64,
    /// Contacts updated.
    pub updated: u64,
    /// Rows not imported.
    pub rejected: u64,
    /// Organizations created.
    pub organizations_created: u64,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub modified_at: String,
}

/// One batch to apply: the identifiers and organization external IDs its
/// rows name (what the store reads before planning), the rows rejected
/// before planning, and the job's progress after it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// The job's `rows_done` this batch follows; a job elsewhere (another
    /// process resuming it) is refused rather than applied twice.
    pub after_rows: u64,
    /// Data rows in the batch, rejected ones included.
    pub rows: u64,
    /// The file line of the batch's last row.
    pub last_line: u64,
    /// Every identifier the rows are matched by.
    pub keys: Vec<MatchKey>,
    /// Every organization external ID the rows name.
    pub organizations: Vec<String>,
    /// The external source the job keeps external IDs in (created when
    /// missing).
    pub source: String,
    /// Rows refused before planning (file shape, field checks).
    pub rejected: Vec<LogEntry>,
}

/// How a batch write ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchDone {
    /// Written with the job's progress: contacts created, updated, rows
    /// rejected (before and in planning), organizations created.
    Applied {
        /// Contacts created.
        created: u64,
        /// Contacts updated.
        updated: u64,
        /// Rows not imported.
        rejected: u64,
        /// Organizations created.
        organizations_created: u64,
    },
    /// The job had moved on (its `rows_done` is not the batch's
    /// `after_rows`) or is not importing: nothing was written.
    Stale,
}

/// The planner a batch write calls once it has read what the rows match.
pub type Planner<'a> = &'a mut (dyn FnMut(Stored) -> Plan + Send);

/// Import profiles, jobs and batch writes of every business unit. Every
/// method reads or writes the unit it is given and nothing else.
#[async_trait]
pub trait ImportStore: Send + Sync + 'static {
    /// Save profile `name` (created, or replaced when the unit has one of
    /// that name, case ignored); `true` when created.
    async fn save_profile(&self, unit: i64, name: &str, profile: &str, now: &str) -> Result<bool, StoreError>;
    /// Profile `name` (case ignored), as JSON.
    async fn profile(&self, unit: i64, name: &str) -> Result<Option<String>, StoreError>;
    /// Every profile of the unit: `(name, JSON)`, by name.
    async fn profiles(&self, unit: i64) -> Result<Vec<(String, String)>, StoreError>;
    /// Delete profile `name`; `false` when there is none.
    async fn delete_profile(&self, unit: i64, name: &str) -> Result<bool, StoreError>;
    /// Create a job in status `validating`; its id.
    async fn create_job(&self, unit: i64, job: &NewJob, now: &str) -> Result<i64, StoreError>;
    /// Job `id`.
    async fn job(&self, unit: i64, id: i64) -> Result<Option<Job>, StoreError>;
    /// The unit's jobs, newest first, at most `limit`.
    async fn jobs(&self, unit: i64, limit: i64) -> Result<Vec<Job>, StoreError>;
    /// Move job `id` to `status` (with `error` for `failed`); `false` when
    /// there is no such job.
    async fn set_job_status(
        &self,
        unit: i64,
        id: i64,
        status: JobStatus,
        error: Option<&str>,
        now: &str,
    ) -> Result<bool, StoreError>;
    /// The unit's default country and contact types: what rows are read
    /// and planned with.
    async fn unit_context(&self, unit: i64) -> Result<(String, Vec<ContactType>), StoreError>;
    /// Job `id`'s rejected rows, by line.
    async fn job_log(&self, unit: i64, id: i64) -> Result<Vec<LogEntry>, StoreError>;
    /// In one transaction: read what `batch`'s identifiers and
    /// organizations find (the contacts and organizations of [`Stored`];
    /// the planner adds the unit's types and country, [`unit_context`]),
    /// plan with `planner`, write the plan, the rejected rows and the job's
    /// progress.
    ///
    /// [`unit_context`]: ImportStore::unit_context
    async fn import_batch(
        &self,
        unit: i64,
        job: i64,
        batch: &Batch,
        planner: Planner<'_>,
        now: &str,
    ) -> Result<BatchDone, StoreError>;
}

backend_stores!(ImportStore, "import", ImportsContext::imports);
