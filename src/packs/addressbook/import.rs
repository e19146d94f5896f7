//! An address-book import: a file checked for UTF-8 as a whole, then read
//! line by line and written in batches ([`AddressBookStore::write_batch`],
//! one transaction each), every refused line reported with its line
//! number and reason code while the others go in. The file is read on a
//! thread of its own while the store writes. Memory stays bounded
//! whatever the file's size: at most four batches of lines (one being
//! read, two waiting, one being written), and at most
//! [`LOG_ENTRIES_MAX`] log entries kept for the report (every entry still
//! reaches the caller's observer as it is found).

use super::store::AddressBookStore;
use crate::addressbook::{BookReader, Entry, FileError, ImportNameError, Recipient, check_file, import_name};
use crate::store::StoreError;
use serde::Serialize;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Lines per committed batch, unless the caller says otherwise.
pub const BATCH_LINES: usize = 10_000;

/// The most log entries an [`ImportReport`] keeps (the others are counted
/// in `entriesOmitted`; each was shown to the observer).
pub const LOG_ENTRIES_MAX: usize = 1_000;

/// A refused line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Its line in the file (1-based).
    pub line: u64,
    /// The stable reason code (`field-count`, `invalid-phone`, ...).
    pub reason: &'static str,
    /// What exactly is wrong.
    pub detail: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// The import's name, as every recipient it wrote shows it.
    pub name: String,
    /// The file, as given.
    pub file: String,
    /// Lines in the file.
    pub lines: u64,
    /// New recipients.
    pub created: u64,
    /// Lines that overwrote a recipient (stored before, or written by an
    /// earlier line of the file).
    pub updated: u64,
    /// Refused lines.
    pub rejected: u64,
    /// Whether line 1 was a header row, skipped.
    pub header_skipped: bool,
    /// Blank lines, skipped.
    pub blank: u64,
    /// Refused lines, in file order, at most [`LOG_ENTRIES_MAX`].
    pub entries: Vec<LogEntry>,
    /// Refused lines left out of `entries`.
    pub entries_omitted: u64,
    /// Remarks for people (the skipped header).
    pub notes: Vec<String>,
}

impl ImportReport {
    /// Lines written: created or updated.
    pub fn imported(&self) -> u64 {
        self.created + self.updated
    }

    /// As JSON (camelCase members, as above).
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        format!(
            "address book import '{}': {} line(s), {} created, {} updated, {} rejected",
            self.name, self.lines, self.created, self.updated, self.rejected
        )
    }
}

/// Why an import did not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The import's name cannot be used; nothing was written.
    #[error(transparent)]
    Name(#[from] ImportNameError),
    /// The file cannot be imported; nothing was written (unless it changed
    /// while it was read: the batches committed before stay).
    #[error(transparent)]
    File(#[from] FileError),
    /// The store failed; the batches committed before stay.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    /// A stable code for logs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Name(_) => "invalid-name",
            ImportError::File(e) => e.code(),
            ImportError::Store(_) => "store",
        }
    }
}

/// What an import tells its caller while it runs.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A line was refused.
    Rejected(&'a LogEntry),
    /// A batch was committed: lines read so far, of the file's total.
    Committed {
        /// Lines read.
        done: u64,
        /// Lines in the file.
        total: u64,
    },
}

/// What the reading thread hands over: the entries of up to one batch
/// of lines, in file order.
struct Chunk {
    /// Valid recipients, to write as one batch.
    rows: Vec<Recipient>,
    /// Every other entry (refused, header, blank).
    others: Vec<Entry>,
    /// Lines read so far.
    done: u64,
    /// The file's last chunk.
    end: bool,
}

/// Read `path` on a thread of its own, a chunk of at most `batch` entries
/// at a time, while the store writes the previous one: reading and
/// checking a line costs about as much as writing it, so on two cores the
/// import takes the longer of the two instead of their sum. At most two
/// chunks wait in the channel, so memory stays bounded.
fn read_ahead(path: PathBuf, batch: usize) -> mpsc::Receiver<Result<Chunk, FileError>> {
    let (tx, rx) = mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let mut reader = match BookReader::open(&path) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        let fresh =
            || Chunk { rows: Vec::with_capacity(batch.min(BATCH_LINES)), others: Vec::new(), done: 0, end: false };
        let mut chunk = fresh();
        loop {
            let entry = match reader.next_entry() {
                Ok(e) => e,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            let end = entry.is_none();
            match entry {
                Some(Entry::Recipient { recipient, .. }) => chunk.rows.push(recipient),
                Some(other) => chunk.others.push(other),
                None => {}
            }
            let full = chunk.rows.len() + chunk.others.len() >= batch;
            if full || end {
                chunk.done = reader.line();
                chunk.end = end;
                // A closed channel: the import stopped (a store error).
                if tx.blocking_send(Ok(std::mem::replace(&mut chunk, fresh()))).is_err() || end {
                    return;
                }
            }
        }
    });
    rx
}

/// Import the file at `path` into `unit`'s address book as import `name`,
/// `batch` lines per transaction (at least 1); `observe` sees each refused
/// line and each committed batch.
pub async fn import_file(
    store: &dyn AddressBookStore,
    unit: i64,
    path: &Path,
    name: &str,
    now: &str,
    batch: usize,
    observe: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<ImportReport, ImportError> {
    let name = import_name(name)?;
    let check = check_file(path)?;
    let mut report =
        ImportReport { name, file: path.display().to_string(), lines: check.lines, ..ImportReport::default() };
    let batch = batch.max(1);
    let mut chunks = read_ahead(path.to_path_buf(), batch);
    let mut finished = false;
    while let Some(chunk) = chunks.recv().await {
        let Chunk { rows, others, done, end } = chunk?;
        finished = end;
        for entry in others {
            match entry {
                Entry::Rejected { line, rejection } => {
                    let e = LogEntry { line, reason: rejection.reason.code(), detail: rejection.detail };
                    report.rejected += 1;
                    observe(Event::Rejected(&e));
                    if report.entries.len() < LOG_ENTRIES_MAX {
                        report.entries.push(e);
                    } else {
                        report.entries_omitted += 1;
                    }
                }
                Entry::Header { line } => {
                    report.header_skipped = true;
                    report.notes.push(format!("line {line} is a header row: skipped"));
                }
                Entry::Blank { .. } => report.blank += 1,
                Entry::Recipient { .. } => {}
            }
        }
        if !rows.is_empty() {
            let w = store.write_batch(unit, &report.name, &rows, now).await?;
            report.created += w.created;
            report.updated += w.updated;
            observe(Event::Committed { done, total: report.lines });
        }
    }
    if !finished {
        // Only a panic ends the reading thread without its last chunk.
        let reason = "the file's reader stopped before its end".to_string();
        return Err(FileError::Io { file: report.file, reason }.into());
    }
    Ok(report)
}
