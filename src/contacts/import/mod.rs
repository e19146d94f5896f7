//! Bulk CSV import of contacts and organizations (`contacts.md` §3), the
//! part without a store: the file check, the header layouts, import
//! profiles, rows read into checked changes or rejections, the preview and
//! the log. The importer that matches rows to stored contacts and writes
//! them lives with the store (`packs::contacts`).
//!
//! The flow: [`check_file`] (or [`validate`], which also reads every row)
//! passes over the whole file before anything is written; an import then
//! reads it again through an [`ImportReader`], and [`ImportReader::verify`]
//! proves the second pass read the same bytes. Both passes stream: memory
//! holds one record and a few kilobytes of input.

pub mod file;
mod guard;
pub mod layout;
pub mod log;
pub mod preview;
pub mod profile;
pub mod row;

pub use file::{FileError, FileSummary, Limits, Record, Records, check_file, check_path, check_with};
pub use layout::{Field, Layout, Plan, Target, resolve};
pub use log::{ImportLog, LogEntry, RejectedWriter};
pub use preview::{Preview, PreviewRow, preview};
pub use profile::{FieldMapping, ImportProfile, MergeMode, ProfileError};
pub use row::{ImportRow, OrgRef, Reason, Rejected, RowContext, lay_over, read_row};

use std::io::Read;

/// What a validate-only run found: the file summary, how many rows would
/// go on to matching, and the log of the rows refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    /// The file check's summary.
    pub summary: FileSummary,
    /// Rows that passed the row checks (names are checked after matching).
    pub valid_rows: u64,
    /// The rejected rows (counts of created and updated stay 0).
    pub log: ImportLog,
}

/// Check the file and every row of it for `profile`, writing nothing.
pub fn validate<R: Read>(
    input: R,
    profile: &ImportProfile,
    ctx: &RowContext<'_>,
    limits: &Limits,
) -> Result<Validation, FileError> {
    let (mut valid_rows, mut log) = (0, ImportLog::default());
    let summary = check_with(input, profile, limits, |plan, record| match read_row(record, plan, profile, ctx) {
        Ok(_) => valid_rows += 1,
        Err(r) => log.reject(r),
    })?;
    log.blank_rows = summary.blank_rows;
    Ok(Validation { summary, valid_rows, log })
}

/// One row as an import reads it: the record (for the rejected-rows file)
/// and what it became.
pub struct ReadRow<'a> {
    /// The row's cells and line.
    pub record: Record<'a>,
    /// The row, or why it is not imported.
    pub outcome: Result<ImportRow, Rejected>,
}

/// The rows of a checked file, read again for the import.
pub struct ImportReader<'c, R: Read> {
    records: Records<R>,
    plan: Plan,
    profile: ImportProfile,
    ctx: RowContext<'c>,
    blank_rows: u64,
}

impl<'c, R: Read> ImportReader<'c, R> {
    /// Open `input` for `profile` (its header resolves as [`check_file`] resolved it).
    pub fn open(input: R, profile: &ImportProfile, ctx: RowContext<'c>, limits: &Limits) -> Result<Self, FileError> {
        let records = Records::open(input, limits)?;
        let plan = resolve(records.header(), records.header_line(), profile)?;
        Ok(ImportReader { records, plan, profile: profile.clone(), ctx, blank_rows: 0 })
    }

    /// What each column feeds.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The header's cells.
    pub fn header(&self) -> &[String] {
        self.records.header()
    }

    /// The next non-blank row, or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<ReadRow<'_>>, FileError> {
        let Some(record) = self.records.next_filled(&mut self.blank_rows)? else { return Ok(None) };
        let outcome = read_row(&record, &self.plan, &self.profile, &self.ctx);
        Ok(Some(ReadRow { record, outcome }))
    }

    /// Blank rows skipped so far.
    pub fn blank_rows(&self) -> u64 {
        self.blank_rows
    }

    /// After the last row: that the file's SHA-256 is still `expected` (the
    /// checked file's), so the import wrote exactly what was checked.
    pub fn verify(&self, expected: &str) -> Result<(), FileError> {
        match self.records.sha256() {
            Some(found) if found == expected => Ok(()),
            found => Err(FileError::Changed {
                expected: expected.to_string(),
                found: found.unwrap_or("(not read to the end)").to_string(),
            }),
        }
    }
}
