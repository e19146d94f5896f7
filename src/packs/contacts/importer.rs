//! Import jobs (`contacts.md` §3): the runner that takes a CSV file from
//! its check to its last committed batch, over any [`ImportStore`]. The
//! CLI, the IMPORTCONTACTS action and a host call the same [`Importer`].
//!
//! A job goes `validating` (the whole file is checked: encoding, header,
//! row shapes, limits, SHA-256; nothing is written before it passes) →
//! `validated` → `importing` (rows read again as a stream, planned and
//! written in batches, each batch in one transaction with the job's
//! progress) → `completed`. A crash leaves it `importing`: [`Importer::resume`]
//! checks that the file is the same (SHA-256), skips the rows the job
//! already committed and goes on, so nothing is applied twice or skipped.
//! [`Importer::cancel`] stops it between batches; what was committed
//! stays and the job says up to which line. A validate-only run
//! ([`Importer::validate`]) creates no job and writes nothing.

use super::imports::{Batch, BatchDone, ImportStore, Job, JobStatus, LogEntry, NewJob};
use crate::contacts::ContactSearch;
use crate::contacts::ContactType;
use crate::contacts::batch::{MatchKey, RowInput, plan};
use crate::contacts::import::{
    self, FileError, ImportLog, ImportProfile, ImportReader, ImportRow, Limits, ProfileError, Records, Rejected,
    RejectedWriter, RowContext, Validation,
};
use crate::store::StoreError;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::Arc;

/// Rows per batch unless set: large enough that a batch's store round
/// trips are few per row, small enough that a batch's working set stays a
/// few megabytes and a crash redoes little.
pub const BATCH_ROWS: usize = 2_000;

/// The external source a job keeps its rows' external IDs in when its
/// profile names none.
pub const DEFAULT_SOURCE: &str = "import";

/// Why an import (or a resume, or a cancel) did not go through.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file cannot be imported (nothing was written).
    #[error(transparent)]
    File(#[from] FileError),
    /// The profile is not usable.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The unit has no such job.
    #[error("no import job {0} in this unit")]
    NoJob(i64),
    /// The job is not in a state this operation applies to.
    #[error("import job {id} is {status}: {why}")]
    WrongStatus {
        /// The job.
        id: i64,
        /// Its status name.
        status: &'static str,
        /// What cannot be done.
        why: &'static str,
    },
    /// The file to resume from is not the file the job began with.
    #[error(
        "the file is not the one import job {id} began with (SHA-256 {found}, the job's {expected}); nothing was written"
    )]
    ChangedFile {
        /// The job.
        id: i64,
        /// The job's checksum.
        expected: String,
        /// The file's.
        found: String,
    },
    /// Another process moved the job on while this one was writing.
    #[error("import job {0} was moved on by another process; nothing of this batch was written")]
    TakenOver(i64),
    /// The stored profile of a job cannot be read.
    #[error("import job {id} holds an unreadable profile: {why}")]
    BadJobProfile {
        /// The job.
        id: i64,
        /// Why.
        why: String,
    },
    /// The rejected-rows file could not be written.
    #[error("cannot write the rejected rows: {0}")]
    Output(String),
}

impl ImportError {
    /// A stable code for scripts and JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::File(e) => e.code(),
            ImportError::Profile(e) => e.code(),
            ImportError::Store(_) => "store",
            ImportError::NoJob(_) => "no_job",
            ImportError::WrongStatus { .. } => "wrong_status",
            ImportError::ChangedFile { .. } => "changed_file",
            ImportError::TakenOver(_) => "taken_over",
            ImportError::BadJobProfile { .. } => "bad_job_profile",
            ImportError::Output(_) => "output",
        }
    }
}

/// How far a job is: data rows committed of the file's total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Rows committed (applied or logged).
    pub rows_done: u64,
    /// Data rows in the file.
    pub rows_total: u64,
}

/// What the runner calls after each committed batch.
pub type OnProgress<'a> = &'a mut (dyn FnMut(Progress) + Send);

/// Import jobs of one business unit.
pub struct Importer {
    store: Arc<dyn ImportStore>,
    unit: i64,
    /// Rows per batch ([`BATCH_ROWS`] unless set).
    pub batch_rows: usize,
    /// The file limits ([`Limits::default`] unless set).
    pub limits: Limits,
}

impl Importer {
    /// The importer of `unit` over `store`.
    pub fn new(store: Arc<dyn ImportStore>, unit: i64) -> Importer {
        Importer { store, unit, batch_rows: BATCH_ROWS, limits: Limits::default() }
    }

    /// The store it writes to.
    pub fn store(&self) -> &dyn ImportStore {
        self.store.as_ref()
    }

    /// Check `path` and every row of it for `profile`; nothing is written
    /// and no job is created.
    pub async fn validate(&self, path: &Path, profile: &ImportProfile) -> Result<Validation, ImportError> {
        profile.validate()?;
        let (country, types) = self.store.unit_context(self.unit).await?;
        let ctx = RowContext { unit_country: &country, contact_types: &types };
        Ok(import::validate(open(path)?, profile, &ctx, &self.limits)?)
    }

    /// Import `path` with `profile`: the file is checked whole first (a
    /// file fault creates no job and writes nothing), then a job is created
    /// and run to its end. Returns the job as it ended.
    pub async fn start(
        &self,
        path: &Path,
        profile: &ImportProfile,
        progress: OnProgress<'_>,
    ) -> Result<Job, ImportError> {
        profile.validate()?;
        let summary = import::check_file(open(path)?, profile, &self.limits)?;
        let profile_json = serde_json::to_string(profile).map_err(|e| ImportError::Output(e.to_string()))?;
        let new = NewJob {
            file_name: path.display().to_string(),
            checksum: summary.sha256,
            profile: profile_json,
            rows_total: summary.rows,
        };
        let id = self.store.create_job(self.unit, &new, &now()).await?;
        self.set_status(id, JobStatus::Validated, None).await?;
        self.set_status(id, JobStatus::Importing, None).await?;
        let job = self.job(id).await?;
        self.run(job, path, profile, progress).await
    }

    /// Finish job `id` from `path`, which must be the file it began with:
    /// the rows it committed are skipped, the others imported.
    pub async fn resume(&self, id: i64, path: &Path, progress: OnProgress<'_>) -> Result<Job, ImportError> {
        let job = self.job(id).await?;
        if !matches!(job.status, JobStatus::Validating | JobStatus::Validated | JobStatus::Importing) {
            let why = "only a job that did not finish can be resumed";
            return Err(ImportError::WrongStatus { id, status: job.status.name(), why });
        }
        let profile: ImportProfile =
            serde_json::from_str(&job.profile).map_err(|e| ImportError::BadJobProfile { id, why: e.to_string() })?;
        let summary = import::check_file(open(path)?, &profile, &self.limits)?;
        if summary.sha256 != job.checksum {
            return Err(ImportError::ChangedFile { id, expected: job.checksum, found: summary.sha256 });
        }
        if job.status != JobStatus::Importing {
            self.set_status(id, JobStatus::Importing, None).await?;
        }
        let job = self.job(id).await?;
        self.run(job, path, &profile, progress).await
    }

    /// Cancel job `id`: a running import stops before its next batch;
    /// what it committed stays. Returns the job.
    pub async fn cancel(&self, id: i64) -> Result<Job, ImportError> {
        let job = self.job(id).await?;
        if !matches!(job.status, JobStatus::Validating | JobStatus::Validated | JobStatus::Importing) {
            let why = "only a job that did not finish can be cancelled";
            return Err(ImportError::WrongStatus { id, status: job.status.name(), why });
        }
        self.set_status(id, JobStatus::Cancelled, None).await?;
        self.job(id).await
    }

    /// Job `id`.
    pub async fn job(&self, id: i64) -> Result<Job, ImportError> {
        self.store.job(self.unit, id).await?.ok_or(ImportError::NoJob(id))
    }

    /// Job `id`'s log: its counts and every rejected row.
    pub async fn log(&self, id: i64) -> Result<ImportLog, ImportError> {
        let job = self.job(id).await?;
        let entries = self.store.job_log(self.unit, id).await?;
        Ok(log_of(&job, entries))
    }

    /// Write job `id`'s rejected-rows file from `path` (the job's file):
    /// the header with a `Reason` column, then each rejected row's original
    /// cells. Returns how many rows were written.
    pub async fn write_rejected<W: Write>(&self, id: i64, path: &Path, out: W) -> Result<u64, ImportError> {
        let job = self.job(id).await?;
        let entries = self.store.job_log(self.unit, id).await?;
        let by_line: HashMap<u64, LogEntry> = entries.into_iter().map(|e| (e.line, e)).collect();
        let mut records = Records::open(BufReader::new(open(path)?), &self.limits)?;
        let output = |e: std::io::Error| ImportError::Output(e.to_string());
        let mut writer = RejectedWriter::new(out, records.header()).map_err(output)?;
        let mut written = 0;
        let mut blank = 0;
        while let Some(record) = records.next_filled(&mut blank)? {
            if let Some(e) = by_line.get(&record.line()) {
                let rejected = Rejected { line: e.line, reason: e.reason, detail: e.detail.clone() };
                writer.write(&rejected, record.cells()).map_err(output)?;
                written += 1;
            }
        }
        if records.sha256() != Some(job.checksum.as_str()) {
            let found = records.sha256().unwrap_or_default().to_string();
            return Err(ImportError::ChangedFile { id, expected: job.checksum, found });
        }
        writer.finish().map_err(output)?;
        Ok(written)
    }

    async fn set_status(&self, id: i64, status: JobStatus, error: Option<&str>) -> Result<(), ImportError> {
        match self.store.set_job_status(self.unit, id, status, error, &now()).await? {
            true => Ok(()),
            false => Err(ImportError::NoJob(id)),
        }
    }

    /// Read `path` again, skip the rows `job` committed, plan and write the
    /// rest batch by batch; then check the bytes read were the checked
    /// file's and complete the job.
    ///
    /// The file is read, and its rows checked and normalized, on a thread
    /// of its own ([`read_batches`]) while the store writes the batch
    /// before: reading costs about what writing does, so overlapping them
    /// nearly halves an import. The channel holds one batch, so memory
    /// stays a few batches whatever the file's size.
    async fn run(
        &self,
        job: Job,
        path: &Path,
        profile: &ImportProfile,
        progress: OnProgress<'_>,
    ) -> Result<Job, ImportError> {
        let (unit_country, types) = self.store.unit_context(self.unit).await?;
        let planning = Planning::new(profile, &unit_country, &types);
        let reading = Reading {
            file: open(path)?,
            profile: profile.clone(),
            unit_country,
            types,
            limits: self.limits,
            batch_rows: self.batch_rows.max(1),
            skip: job.rows_done,
            checksum: job.checksum.clone(),
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        std::thread::Builder::new()
            .name("import-reader".into())
            .spawn(move || read_batches(reading, &tx))
            .map_err(|e| ImportError::Output(format!("cannot start the file reader: {e}")))?;
        let mut done = job.rows_done;
        loop {
            match rx.recv().await {
                Some(Read::Batch(mut batch, mut inputs)) => {
                    if let Some(stopped) = self.commit(&job, &planning, &mut batch, &mut inputs).await? {
                        return Ok(stopped);
                    }
                    done += batch.rows;
                    progress(Progress { rows_done: done, rows_total: job.rows_total });
                }
                Some(Read::End(Ok(()))) => break,
                Some(Read::End(Err(e))) => return self.fail(job.id, e.into()).await,
                None => return Err(ImportError::Output("the file reader stopped".into())),
            }
        }
        self.set_status(job.id, JobStatus::Completed, None).await?;
        self.job(job.id).await
    }

    /// Write one batch. `Some(job)` when the job was cancelled meanwhile
    /// (nothing of the batch was written).
    async fn commit(
        &self,
        job: &Job,
        planning: &Planning,
        batch: &mut Batch,
        inputs: &mut Vec<RowInput>,
    ) -> Result<Option<Job>, ImportError> {
        let rows = std::mem::take(inputs);
        let mut planner = |mut stored: crate::contacts::batch::Stored| {
            stored.types.clone_from(&planning.types);
            stored.default_country.clone_from(&planning.country);
            plan(&rows, stored, &planning.source, planning.mode)
        };
        match self.store.import_batch(self.unit, job.id, batch, &mut planner, &now()).await? {
            BatchDone::Applied { .. } => Ok(None),
            BatchDone::Stale => {
                let now = self.job(job.id).await?;
                match now.status {
                    JobStatus::Cancelled => Ok(Some(now)),
                    _ => Err(ImportError::TakenOver(job.id)),
                }
            }
        }
    }

    /// Mark the job failed with `e` and return `e`.
    async fn fail(&self, id: i64, e: ImportError) -> Result<Job, ImportError> {
        self.set_status(id, JobStatus::Failed, Some(&e.to_string())).await?;
        Err(e)
    }
}

/// What the file reader owns: the file, what its rows are read with,
/// the rows the job already committed, and the checksum the bytes must
/// have.
struct Reading {
    file: File,
    profile: ImportProfile,
    unit_country: String,
    types: Vec<ContactType>,
    limits: Limits,
    batch_rows: usize,
    skip: u64,
    checksum: String,
}

/// What the file reader sends: a batch ready to plan, or the end (the
/// file's checksum verified, or why reading stopped).
enum Read {
    Batch(Batch, Vec<RowInput>),
    End(Result<(), FileError>),
}

/// Read `r`'s file after its skipped rows into batches on `tx`, then its
/// end. Stops when the receiver is gone (the job stopped).
fn read_batches(r: Reading, tx: &tokio::sync::mpsc::Sender<Read>) {
    let ctx = RowContext { unit_country: &r.unit_country, contact_types: &r.types };
    let planning = Planning::new(&r.profile, &r.unit_country, &r.types);
    let mut reader = match ImportReader::open(BufReader::new(r.file), &r.profile, ctx, &r.limits) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = tx.blocking_send(Read::End(Err(e)));
            return;
        }
    };
    let mut rows_read = 0u64;
    let mut done = r.skip;
    let mut batch = planning.batch(done);
    let mut inputs = Vec::with_capacity(r.batch_rows);
    loop {
        let row = match reader.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                let _ = tx.blocking_send(Read::End(Err(e)));
                return;
            }
        };
        rows_read += 1;
        if rows_read <= r.skip {
            continue;
        }
        batch.rows += 1;
        batch.last_line = row.record.line();
        match row.outcome {
            Ok(row) => inputs.push(planning.input(row, &mut batch)),
            Err(x) => batch.rejected.push(LogEntry { line: x.line, reason: x.reason, detail: x.detail }),
        }
        if batch.rows as usize >= r.batch_rows {
            done += batch.rows;
            let full = std::mem::replace(&mut batch, planning.batch(done));
            let rows = std::mem::replace(&mut inputs, Vec::with_capacity(r.batch_rows));
            if tx.blocking_send(ready(full, rows)).is_err() {
                return;
            }
        }
    }
    if batch.rows > 0 && tx.blocking_send(ready(batch, inputs)).is_err() {
        return;
    }
    let _ = tx.blocking_send(Read::End(reader.verify(&r.checksum)));
}

/// `batch` with its keys and organizations sorted and deduplicated, as
/// the store reads them.
fn ready(mut batch: Batch, inputs: Vec<RowInput>) -> Read {
    batch.keys.sort_unstable();
    batch.keys.dedup();
    batch.organizations.sort_unstable();
    batch.organizations.dedup();
    Read::Batch(batch, inputs)
}

/// What every batch of a job plans with.
struct Planning {
    source: String,
    mode: crate::contacts::batch::MergeMode,
    country: String,
    types: HashMap<String, ContactType>,
}

impl Planning {
    fn new(profile: &ImportProfile, unit_country: &str, types: &[ContactType]) -> Planning {
        Planning {
            source: profile.external_source.clone().unwrap_or_else(|| DEFAULT_SOURCE.to_string()),
            mode: profile.merge_mode,
            country: profile.country(unit_country).to_string(),
            types: types.iter().map(|t| (t.name.to_lowercase(), t.clone())).collect(),
        }
    }

    fn batch(&self, after_rows: u64) -> Batch {
        Batch { after_rows, source: self.source.clone(), ..Batch::default() }
    }

    /// `row` as the planner takes it; its identifiers and organization
    /// join what `batch` reads from the store.
    fn input(&self, row: ImportRow, batch: &mut Batch) -> RowInput {
        let keys: Vec<MatchKey> = row
            .match_keys
            .into_iter()
            .filter_map(|k| match k {
                ContactSearch::Email(e) => Some(MatchKey::Email(e)),
                ContactSearch::Phone(p) => Some(MatchKey::Phone(p)),
                ContactSearch::ExternalId { id, .. } => Some(MatchKey::ExternalId(id)),
                _ => None,
            })
            .collect();
        batch.keys.extend(keys.iter().cloned());
        if let Some(x) = &row.external_id {
            batch.keys.push(MatchKey::ExternalId(x.clone()));
        }
        if let Some(o) = &row.organization {
            batch.organizations.push(o.external_id.clone());
        }
        RowInput {
            line: row.line,
            keys,
            changes: row.contact,
            organization: row.organization,
            external_id: row.external_id,
        }
    }
}

/// A job's log: its counts and `entries`.
pub fn log_of(job: &Job, entries: Vec<LogEntry>) -> ImportLog {
    ImportLog {
        created: job.created,
        updated: job.updated,
        not_imported: job.rejected,
        organizations_created: job.organizations_created,
        entries,
        ..ImportLog::default()
    }
}

fn open(path: &Path) -> Result<File, FileError> {
    File::open(path).map_err(|e| FileError::Io(format!("{}: {e}", path.display())))
}

fn now() -> String {
    crate::store::now_text()
}
