//! The log of an import (`contacts.md` §3, "log"): created and updated
//! counts, the rows not imported with their line and reason, as JSON or
//! CSV; and the rejected-rows file, which a user fixes and imports again.

use super::layout::REASON_COLUMN;
use super::row::{Reason, Rejected};
use serde_json::{Value as Json, json};
use std::io::{self, Write};

/// One row not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The physical line the row starts on.
    pub line: u64,
    /// Why.
    pub reason: Reason,
    /// What exactly.
    pub detail: String,
}

/// The counts and entries of one import (or of a validate-only run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportLog {
    /// Contacts created.
    pub created: u64,
    /// Contacts updated.
    pub updated: u64,
    /// Rows not imported (one entry each).
    pub not_imported: u64,
    /// Organizations created.
    pub organizations_created: u64,
    /// Organizations updated.
    pub organizations_updated: u64,
    /// Rows skipped because every cell is blank (neither imported nor rejected).
    pub blank_rows: u64,
    /// The rows not imported, in file order.
    pub entries: Vec<LogEntry>,
}

impl ImportLog {
    /// Contacts created or updated.
    pub fn imported(&self) -> u64 {
        self.created + self.updated
    }

    /// Note a row not imported.
    pub fn reject(&mut self, rejected: Rejected) {
        self.not_imported += 1;
        self.entries.push(LogEntry { line: rejected.line, reason: rejected.reason, detail: rejected.detail });
    }

    /// The log as JSON: `imported`, `created`, `updated`, `notImported`,
    /// `organizationsCreated`, `organizationsUpdated`, `blankRows`, and
    /// `entries` (`line`, `reason` code, `detail`).
    pub fn to_json(&self) -> Json {
        let entries: Vec<Json> = self
            .entries
            .iter()
            .map(|e| json!({"line": e.line, "reason": e.reason.code(), "detail": e.detail}))
            .collect();
        json!({
            "imported": self.imported(),
            "created": self.created,
            "updated": self.updated,
            "notImported": self.not_imported,
            "organizationsCreated": self.organizations_created,
            "organizationsUpdated": self.organizations_updated,
            "blankRows": self.blank_rows,
            "entries": entries,
        })
    }

    /// The log as CSV: a header `line,reason,detail`, one row per entry.
    /// The counts are in [`ImportLog::to_json`] and [`ImportLog::summary`].
    pub fn write_csv<W: Write>(&self, w: W) -> io::Result<()> {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(["line", "reason", "detail"])?;
        for e in &self.entries {
            out.write_record([e.line.to_string().as_str(), e.reason.code(), e.detail.as_str()])?;
        }
        out.flush()
    }

    /// One line of counts for people.
    pub fn summary(&self) -> String {
        format!(
            "{} imported ({} created, {} updated), {} not imported; organizations: {} created, {} updated",
            self.imported(),
            self.created,
            self.updated,
            self.not_imported,
            self.organizations_created,
            self.organizations_updated
        )
    }
}

/// The rejected-rows file: the original header with a `Reason` column in
/// front, then each rejected row's original cells after its reason. A
/// `Reason` column is ignored on import, so the fixed file imports as it
/// is; when the original header already has one (a second round), its
/// cells are replaced instead of adding another.
pub struct RejectedWriter<W: Write> {
    out: csv::Writer<W>,
    /// The original header's own `Reason` column, if it has one.
    reason_at: Option<usize>,
}

impl<W: Write> RejectedWriter<W> {
    /// Start the file with the header of the imported file.
    pub fn new(w: W, header: &[String]) -> io::Result<Self> {
        let mut out = csv::WriterBuilder::new().flexible(true).from_writer(w);
        let reason_at = header.iter().position(|h| h.trim().eq_ignore_ascii_case(REASON_COLUMN));
        match reason_at {
            Some(_) => out.write_record(header)?,
            None => out.write_record(std::iter::once(REASON_COLUMN).chain(header.iter().map(String::as_str)))?,
        }
        Ok(RejectedWriter { out, reason_at })
    }

    /// Write one rejected row: its reason and its original cells.
    pub fn write<'a>(&mut self, rejected: &Rejected, cells: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
        let reason = format!("{} (line {}): {}", rejected.reason.code(), rejected.line, rejected.detail);
        match self.reason_at {
            Some(at) => {
                let row = cells.into_iter().enumerate().map(|(i, c)| if i == at { reason.as_str() } else { c });
                self.out.write_record(row)
            }
            None => {
                let cells: Vec<&str> = cells.into_iter().collect();
                let mut row = Vec::with_capacity(cells.len() + 1);
                row.push(reason.as_str());
                row.extend(cells);
                self.out.write_record(row)
            }
        }
        .map_err(io::Error::from)
    }

    /// Flush and hand the writer back.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(line: u64, reason: Reason, detail: &str) -> Rejected {
        Rejected { line, reason, detail: detail.into() }
    }

    #[test]
    fn the_log_counts_and_lists_rejections_as_json_and_csv() {
        let mut log = ImportLog { created: 3, updated: 2, organizations_created: 1, ..ImportLog::default() };
        log.reject(rejected(4, Reason::IncompleteEmail, "column 2 'Work Email': incomplete email 'a@'"));
        log.reject(rejected(9, Reason::WrongColumnCount, "3 cells where the header has 2"));
        let j = log.to_json();
        assert_eq!((j["imported"].as_u64(), j["notImported"].as_u64()), (Some(5), Some(2)));
        assert_eq!(j["entries"][0]["reason"], "incomplete_email");
        assert_eq!(j["entries"][1]["line"], 9);
        let mut csv = Vec::new();
        log.write_csv(&mut csv).expect("csv");
        let text = String::from_utf8(csv).expect("utf-8");
        assert_eq!(
            text,
            "line,reason,detail\n4,incomplete_email,column 2 'Work Email': incomplete email 'a@'\n\
             9,wrong_column_count,3 cells where the header has 2\n"
        );
        assert_eq!(
            log.summary(),
            "5 imported (3 created, 2 updated), 2 not imported; organizations: 1 created, 0 updated"
        );
    }

    #[test]
    fn rejected_rows_keep_their_cells_behind_a_reason_column() {
        let header = vec!["First Name".to_string(), "Work Email".to_string()];
        let mut w = RejectedWriter::new(Vec::new(), &header).expect("header");
        w.write(&rejected(3, Reason::IncompleteEmail, "bad"), ["Ada", "ada@"]).expect("row");
        w.write(&rejected(5, Reason::WrongColumnCount, "3 cells"), ["Bo", "b@x.io", "extra, with comma"]).expect("row");
        let text = String::from_utf8(w.finish().expect("finish")).expect("utf-8");
        assert_eq!(
            text,
            "Reason,First Name,Work Email\nincomplete_email (line 3): bad,Ada,ada@\n\
             wrong_column_count (line 5): 3 cells,Bo,b@x.io,\"extra, with comma\"\n"
        );
        // A second round replaces the reasons instead of adding a column.
        let again: Vec<String> = ["Reason", "First Name", "Work Email"].map(String::from).to_vec();
        let mut w = RejectedWriter::new(Vec::new(), &again).expect("header");
        w.write(&rejected(2, Reason::IncompleteEmail, "still bad"), ["old", "Ada", "ada@x"]).expect("row");
        let text = String::from_utf8(w.finish().expect("finish")).expect("utf-8");
        assert_eq!(text, "Reason,First Name,Work Email\nincomplete_email (line 2): still bad,Ada,ada@x\n");
    }
}
