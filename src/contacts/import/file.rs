//! The file check of a bulk import (`contacts.md` §3, "file rules"): one
//! streaming pass over any [`Read`] that decides whether the file can be
//! imported at all, before anything is written.
//!
//! A guard reader sits between the input and the `csv` crate. It sees every
//! byte once and, in the same pass:
//!
//! - hashes the file's bytes (SHA-256, the BOM included), so a second pass
//!   can prove the file did not change in between;
//! - accepts a UTF-8 BOM and refuses UTF-16 and any byte that is not UTF-8,
//!   naming the physical line and the byte offset of the first bad byte;
//! - refuses NUL bytes (binary files, UTF-16 without a BOM);
//! - turns lone CR and CRLF line ends into LF, so old Mac files read and
//!   the `csv` crate counts the same lines a text editor shows;
//! - refuses text after a closing quote (`"Bo"xyz`), which RFC 4180 does
//!   not allow and the `csv` crate would silently glue on (`Boxyz`);
//! - follows RFC 4180 quoting as the `csv` crate does, to name the line where
//!   a quote that never closes was opened, to cap a field's bytes, a record's
//!   bytes and a record's columns ([`Limits`]), so memory stays bounded
//!   whatever the file holds, and to note the physical line each record
//!   starts on (the `csv` crate numbers a record after blank lines from the
//!   first of them).
//!
//! Faults of the file as a whole are [`FileError`]s; a row with the wrong
//! number of cells is a row-level fault (`wrong_column_count`) that
//! [`check_file`] only counts.

use super::guard::Guard;
use super::layout::{Plan, resolve};
use super::profile::ImportProfile;
use std::io::Read;
use std::path::Path;

/// The default cap on a record's columns (header included).
pub const MAX_COLUMNS: usize = 1_000;
/// The default cap on one field's bytes (64 KiB). More usually means a
/// quote that was never closed swallowed the rest of the file.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// The default cap on one record's bytes (1 MiB), which bounds memory.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// How many lines of rows with the wrong shape a [`FileSummary`] keeps.
pub const SHAPE_LINES_KEPT: usize = 100;

/// The caps of a file check; each breach is a file-level fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Columns of any record ([`MAX_COLUMNS`]).
    pub max_columns: usize,
    /// Bytes of one field as written, quotes included ([`MAX_FIELD_BYTES`]).
    pub max_field_bytes: usize,
    /// Bytes of one record as written ([`MAX_RECORD_BYTES`]).
    pub max_record_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_columns: MAX_COLUMNS, max_field_bytes: MAX_FIELD_BYTES, max_record_bytes: MAX_RECORD_BYTES }
    }
}

/// Why a file cannot be imported at all. Nothing is written for such a
/// file. Lines are the file's physical lines (1-based), columns 1-based,
/// byte offsets 0-based from the file's first byte.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file cannot be read.
    #[error("the file cannot be read: {0}")]
    Io(String),
    /// No bytes, or only a BOM and blank lines.
    #[error("the file is empty: it needs a header row and at least one row")]
    EmptyFile,
    /// A header row and nothing else.
    #[error("line {line}: the file has a header row but no rows to import")]
    NoRows {
        /// The header's line.
        line: u64,
    },
    /// A byte that is not UTF-8.
    #[error(
        "line {line}: byte 0x{byte:02X} at offset {offset} is not UTF-8; save the file as UTF-8 (Latin-1 and Windows-1252 are not read)"
    )]
    NotUtf8 {
        /// The line.
        line: u64,
        /// The offset of the bad byte.
        offset: u64,
        /// The byte.
        byte: u8,
    },
    /// A UTF-16 byte order mark.
    #[error("line 1: the file is UTF-16 text; save it as UTF-8")]
    Utf16,
    /// A NUL byte: a binary file, or UTF-16 without its mark.
    #[error("line {line}: a NUL byte at offset {offset}: this is not a text file")]
    Binary {
        /// The line.
        line: u64,
        /// The offset.
        offset: u64,
    },
    /// A quote that opens a field and never closes.
    #[error("line {line}: a quoted field opened on this line is never closed (unterminated '\"')")]
    UnterminatedQuote {
        /// Where the quote opened.
        line: u64,
    },
    /// Text between a quoted field's closing quote and the next comma or
    /// line end (`"Bo"xyz`): usually a quote inside a quoted field that was
    /// not doubled; read on, the row would be silently changed.
    #[error(
        "line {line}, column {column}: text after the closing quote of a quoted field (a quote inside a quoted field is written twice: \"\")"
    )]
    TextAfterQuote {
        /// The line of the text.
        line: u64,
        /// Its column.
        column: usize,
    },
    /// A field over [`Limits::max_field_bytes`].
    #[error("line {line}, column {column}: a field longer than {limit} bytes (often a quote that is never closed)")]
    FieldTooLarge {
        /// Where the field starts.
        line: u64,
        /// Its column.
        column: usize,
        /// The cap.
        limit: usize,
    },
    /// A record over [`Limits::max_record_bytes`].
    #[error("line {line}: a row longer than {limit} bytes")]
    RecordTooLarge {
        /// Where the record starts.
        line: u64,
        /// The cap.
        limit: usize,
    },
    /// A record with more than [`Limits::max_columns`] columns.
    #[error("line {line}: more than {limit} columns")]
    TooManyColumns {
        /// Where the record starts.
        line: u64,
        /// The cap.
        limit: usize,
    },
    /// A header cell that is blank.
    #[error("line {line}, column {column}: the header cell is blank; every column needs a name")]
    BlankHeader {
        /// The header's line.
        line: u64,
        /// The column.
        column: usize,
    },
    /// Two header cells with one name (case ignored in the new layout).
    #[error("line {line}, column {column}: the header '{name}' repeats column {first}")]
    DuplicateHeader {
        /// The header's line.
        line: u64,
        /// The later column.
        column: usize,
        /// The earlier one.
        first: usize,
        /// The name.
        name: String,
    },
    /// A header the layout does not know and the profile does not map.
    #[error(
        "line {line}, column {column}: unknown header '{name}'; map it to a field or to \"ignore\" in the import profile"
    )]
    UnknownHeader {
        /// The header's line.
        line: u64,
        /// The column.
        column: usize,
        /// The name.
        name: String,
    },
    /// A column the layout requires is missing.
    #[error("line {line}: the column '{name}' is required{hint}")]
    MissingColumn {
        /// The header's line.
        line: u64,
        /// The column's name.
        name: String,
        /// A hint (a column that differs only in case), or "".
        hint: String,
    },
    /// Two columns feed one field.
    #[error("line {line}, column {column}: the field {field} is already read from column {first}")]
    DuplicateField {
        /// The header's line.
        line: u64,
        /// The later column.
        column: usize,
        /// The earlier one.
        first: usize,
        /// The field.
        field: String,
    },
    /// No column is imported (all unknown to the selection).
    #[error("line {line}: no column of the header is imported")]
    NoImportedColumn {
        /// The header's line.
        line: u64,
    },
    /// The file's bytes differ from the checked file's (a second pass).
    #[error("the file changed since it was checked (SHA-256 {expected}, now {found})")]
    Changed {
        /// The checked checksum.
        expected: String,
        /// This pass's.
        found: String,
    },
}

impl FileError {
    /// The stable code of the fault (`not_utf8`, `empty_file`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Io(_) => "io",
            FileError::EmptyFile => "empty_file",
            FileError::NoRows { .. } => "no_rows",
            FileError::NotUtf8 { .. } => "not_utf8",
            FileError::Utf16 => "utf16",
            FileError::Binary { .. } => "binary",
            FileError::UnterminatedQuote { .. } => "unterminated_quote",
            FileError::TextAfterQuote { .. } => "text_after_quote",
            FileError::FieldTooLarge { .. } => "field_too_large",
            FileError::RecordTooLarge { .. } => "record_too_large",
            FileError::TooManyColumns { .. } => "too_many_columns",
            FileError::BlankHeader { .. } => "blank_header",
            FileError::DuplicateHeader { .. } => "duplicate_header",
            FileError::UnknownHeader { .. } => "unknown_header",
            FileError::MissingColumn { .. } => "missing_column",
            FileError::DuplicateField { .. } => "duplicate_field",
            FileError::NoImportedColumn { .. } => "no_imported_column",
            FileError::Changed { .. } => "file_changed",
        }
    }
}

/// One record of the file: its cells and the physical line it starts on.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    line: u64,
    cells: &'a csv::StringRecord,
}

impl<'a> Record<'a> {
    /// A record of `cells` starting on `line` (for tests and callers that
    /// build rows themselves).
    pub fn new(line: u64, cells: &'a csv::StringRecord) -> Self {
        Record { line, cells }
    }

    /// The physical line the record starts on (1-based).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// How many cells it has.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether it has no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The cell in column `i` (0-based), as written.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.cells.get(i)
    }

    /// The cells in column order, as written.
    pub fn cells(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.cells.iter()
    }

    /// Whether every cell is blank (such rows are skipped, not rejected).
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// The records of a file after its header row, read as a stream through
/// the guard: memory holds one record and a few kilobytes of input.
pub struct Records<R: Read> {
    reader: csv::Reader<Guard<R>>,
    record: csv::StringRecord,
    header: Vec<String>,
    header_line: u64,
}

impl<R: Read> Records<R> {
    /// Start reading `input` and read its header row (cells trimmed, none
    /// blank).
    pub fn open(input: R, limits: &Limits) -> Result<Self, FileError> {
        let guard = Guard::new(input, *limits);
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(guard);
        let mut records = Records { reader, record: csv::StringRecord::new(), header: Vec::new(), header_line: 1 };
        let Some(line) = records.advance()? else {
            return Err(FileError::EmptyFile);
        };
        records.header_line = line;
        records.header = records.record.iter().map(|h| h.trim().to_string()).collect();
        if let Some(i) = records.header.iter().position(String::is_empty) {
            return Err(FileError::BlankHeader { line, column: i + 1 });
        }
        Ok(records)
    }

    /// The header's cells, trimmed.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The header's physical line (1 unless blank lines come first).
    pub fn header_line(&self) -> u64 {
        self.header_line
    }

    /// Read the next record into the buffer; its line, or `None` at the end.
    fn advance(&mut self) -> Result<Option<u64>, FileError> {
        match self.reader.read_record(&mut self.record) {
            Ok(true) => {
                let guard = self.reader.get_mut();
                let line = guard.starts.pop_front();
                Ok(Some(line.unwrap_or_else(|| self.record.position().map_or(0, csv::Position::line))))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(self.fault(e)),
        }
    }

    fn fault(&mut self, e: csv::Error) -> FileError {
        if let Some(fault) = self.reader.get_mut().fault.take() {
            return fault;
        }
        let (line, offset) = e.position().map_or((0, 0), |p| (p.line(), p.byte()));
        match e.into_kind() {
            csv::ErrorKind::Io(io) => FileError::Io(io.to_string()),
            // The guard lets no byte that is not UTF-8 through; kept for safety.
            csv::ErrorKind::Utf8 { .. } => FileError::NotUtf8 { line, offset, byte: 0 },
            other => FileError::Io(format!("{other:?}")),
        }
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, FileError> {
        Ok(self.advance()?.map(|line| Record { line, cells: &self.record }))
    }

    /// The next record with a non-blank cell, counting the blank ones
    /// skipped in `blank`; `None` at the end of the file.
    pub fn next_filled(&mut self, blank: &mut u64) -> Result<Option<Record<'_>>, FileError> {
        loop {
            let Some(line) = self.advance()? else { return Ok(None) };
            if self.record.iter().all(|c| c.trim().is_empty()) {
                *blank += 1;
                continue;
            }
            return Ok(Some(Record { line, cells: &self.record }));
        }
    }

    /// The SHA-256 of the file's bytes (lowercase hex), once the whole
    /// file has been read.
    pub fn sha256(&self) -> Option<&str> {
        self.reader.get_ref().checksum.as_deref()
    }

    /// The bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.reader.get_ref().offset
    }
}

/// What a file check found: the file can be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// The header's cells, trimmed.
    pub header: Vec<String>,
    /// What each column feeds.
    pub plan: Plan,
    /// Rows after the header (blank ones not counted).
    pub rows: u64,
    /// Rows whose cells are all blank: skipped, neither imported nor rejected.
    pub blank_rows: u64,
    /// Rows whose cell count differs from the header's (`wrong_column_count`).
    pub wrong_shape: u64,
    /// The lines of the first [`SHAPE_LINES_KEPT`] such rows.
    pub wrong_shape_lines: Vec<u64>,
    /// The SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// Check a whole file for `profile`: encoding, header, row shapes, limits.
/// Row contents are the row step's business ([`super::row`]).
pub fn check_file<R: Read>(input: R, profile: &ImportProfile, limits: &Limits) -> Result<FileSummary, FileError> {
    check_with(input, profile, limits, |_, _| {})
}

/// [`check_file`], handing each non-blank row to `on_row` with the plan as
/// it passes (a validate-only run reads the rows in the same pass).
pub fn check_with<R: Read>(
    input: R,
    profile: &ImportProfile,
    limits: &Limits,
    mut on_row: impl FnMut(&Plan, &Record<'_>),
) -> Result<FileSummary, FileError> {
    let mut records = Records::open(input, limits)?;
    let plan = resolve(records.header(), records.header_line(), profile)?;
    let width = records.header().len();
    let (mut rows, mut blank_rows, mut wrong_shape, mut wrong_shape_lines) = (0, 0, 0, Vec::new());
    while let Some(record) = records.next_filled(&mut blank_rows)? {
        rows += 1;
        if record.len() != width {
            wrong_shape += 1;
            if wrong_shape_lines.len() < SHAPE_LINES_KEPT {
                wrong_shape_lines.push(record.line());
            }
        }
        on_row(&plan, &record);
    }
    if rows == 0 {
        return Err(FileError::NoRows { line: records.header_line() });
    }
    let sha256 = records.sha256().unwrap_or_default().to_string();
    Ok(FileSummary {
        header: records.header().to_vec(),
        plan,
        rows,
        blank_rows,
        wrong_shape,
        wrong_shape_lines,
        sha256,
        bytes: records.bytes_read(),
    })
}

/// [`check_file`] of the file at `path`.
pub fn check_path(path: &Path, profile: &ImportProfile, limits: &Limits) -> Result<FileSummary, FileError> {
    let file = std::fs::File::open(path).map_err(|e| FileError::Io(format!("{}: {e}", path.display())))?;
    check_file(file, profile, limits)
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
