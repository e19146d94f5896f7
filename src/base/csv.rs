//! CSV files read row by row, for any import: the first row names the
//! columns, a UTF-8 byte order mark is accepted, every later row must have
//! as many fields as the header, and every error names the file and the
//! line. What a row becomes is the importer's business.
//!
//! Rows stream through the `csv` crate into one reused buffer, so a large
//! file is never held in memory as a whole.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// A CSV file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The file cannot be read.
    #[error("{file}: {reason}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The CSV is malformed.
    #[error("{file}:{line}: {reason}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: u64,
        /// Why.
        reason: String,
    },
    /// The header row is unusable.
    #[error("{file}:1: {reason}")]
    Header {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The rows of a CSV file after its header.
pub struct CsvRows<R> {
    file: String,
    reader: csv::Reader<R>,
    columns: Vec<String>,
    record: csv::StringRecord,
}

impl CsvRows<BufReader<File>> {
    /// Open `path` and read its header row.
    pub fn open(path: &Path) -> Result<Self, CsvError> {
        let file = path.display().to_string();
        match File::open(path) {
            Ok(f) => CsvRows::from_reader(&file, BufReader::new(f)),
            Err(e) => Err(CsvError::Io { file, reason: e.to_string() }),
        }
    }
}

impl<'a> CsvRows<&'a [u8]> {
    /// CSV text already in memory; `file` names it in errors.
    pub fn from_bytes(file: &str, bytes: &'a [u8]) -> Result<Self, CsvError> {
        CsvRows::from_reader(file, bytes)
    }
}

impl<R: BufRead> CsvRows<R> {
    /// Read the header row of `reader`; `file` names it in errors. Column
    /// names are trimmed and must be present and distinct.
    pub fn from_reader(file: &str, mut reader: R) -> Result<Self, CsvError> {
        let io = |e: std::io::Error| CsvError::Io { file: file.to_string(), reason: e.to_string() };
        if reader.fill_buf().map_err(io)?.starts_with(BOM) {
            reader.consume(BOM.len());
        }
        let reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
        let mut rows =
            CsvRows { file: file.to_string(), reader, columns: Vec::new(), record: csv::StringRecord::new() };
        let header = rows.reader.headers().map_err(|e| syntax(file, e))?;
        rows.columns = header.iter().map(|h| h.trim().to_string()).collect();
        rows.check_columns()?;
        Ok(rows)
    }

    fn header_error(&self, reason: String) -> CsvError {
        CsvError::Header { file: self.file.clone(), reason }
    }

    fn check_columns(&self) -> Result<(), CsvError> {
        if self.columns.iter().all(String::is_empty) {
            return Err(self.header_error("the header row is empty".into()));
        }
        for (i, h) in self.columns.iter().enumerate() {
            if h.is_empty() {
                return Err(self.header_error(format!("column {} has no name", i + 1)));
            }
            if self.columns[..i].contains(h) {
                return Err(self.header_error(format!("column '{h}' appears twice")));
            }
        }
        Ok(())
    }

    /// The column names, in file order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The index of the column `name` (surrounding spaces and ASCII case
    /// ignored); a header error when there is none.
    pub fn column(&self, name: &str) -> Result<usize, CsvError> {
        self.columns
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| self.header_error(format!("no column named '{name}'")))
    }

    /// The next row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, CsvError> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => Ok(Some(Row {
                line: self.record.position().map_or(0, |p| p.line()),
                columns: &self.columns,
                record: &self.record,
            })),
            Err(e) => Err(syntax(&self.file, e)),
        }
    }
}

/// One row of a [`CsvRows`], as many fields as there are columns.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    line: u64,
    columns: &'a [String],
    record: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    /// The 1-based line the row starts on, as the `csv` crate counts it: a
    /// row after blank lines is numbered from the first of them (importers
    /// key rows by this number, so it stays as it is).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The column names, in file order.
    pub fn columns(&self) -> &'a [String] {
        self.columns
    }

    /// The field in column `i`.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.record.get(i)
    }

    /// (column name, field) pairs in column order.
    pub fn fields(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        self.columns.iter().map(String::as_str).zip(self.record.iter())
    }
}

/// A read error of `file` as the importer reports it.
fn syntax(file: &str, e: csv::Error) -> CsvError {
    let line = e.position().map_or(0, |p| p.line());
    let reason = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Io(io) => return CsvError::Io { file: file.to_string(), reason: io.to_string() },
        _ => e.to_string(),
    };
    CsvError::Syntax { file: file.to_string(), line, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as its line and its (column, field) pairs.
    type Read = (u64, Vec<(String, String)>);

    /// Every row of `bytes`.
    fn rows(bytes: &[u8]) -> Result<Vec<Read>, CsvError> {
        let mut rows = CsvRows::from_bytes("x.csv", bytes)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next_row()? {
            out.push((row.line(), row.fields().map(|(c, v)| (c.to_string(), v.to_string())).collect()));
        }
        Ok(out)
    }

    fn error(bytes: &[u8]) -> String {
        rows(bytes).expect_err("an error").to_string()
    }

    #[test]
    fn rows_stream_with_their_lines_and_columns() {
        // Blank lines are skipped; the row after them keeps the number of
        // the first one (see `Row::line`).
        let got = rows(b"\xEF\xBB\xBF Id ,Name\n7,Ada\n\n\n8,\"Bob\nJr\"\n9,\"1, 2\"\n").expect("rows");
        let pair = |c: &str, v: &str| (c.to_string(), v.to_string());
        assert_eq!(
            got,
            [
                (2, vec![pair("Id", "7"), pair("Name", "Ada")]),
                (3, vec![pair("Id", "8"), pair("Name", "Bob\nJr")]),
                (7, vec![pair("Id", "9"), pair("Name", "1, 2")]),
            ]
        );
        let r = CsvRows::from_bytes("x.csv", b"Id,Account Number\n").expect("header");
        assert_eq!(r.columns(), ["Id", "Account Number"]);
        assert_eq!(r.column(" account NUMBER ").ok(), Some(1));
        assert_eq!(r.column("zz").expect_err("no column").to_string(), "x.csv:1: no column named 'zz'");
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        for (bytes, want) in [
            (&b""[..], "x.csv:1: the header row is empty"),
            (b" , \n", "x.csv:1: the header row is empty"),
            (b"a,,b\n", "x.csv:1: column 2 has no name"),
            (b"a, a\n", "x.csv:1: column 'a' appears twice"),
            (b"a,b\n1,2\n3\n", "x.csv:3: 1 fields where the header has 2"),
            (b"a,b\n\xff\xfe,2\n", "x.csv:2: not UTF-8 text"),
            (b"\xff,b\n", "x.csv:1: not UTF-8 text"),
        ] {
            assert_eq!(error(bytes), want, "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn files_are_read_from_disk() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("leads.csv");
        std::fs::write(&path, "\u{feff}a,b\n1,2\n").expect("write");
        let mut rows = CsvRows::open(&path).expect("open");
        let row = rows.next_row().expect("row").expect("one row");
        assert_eq!((row.line(), row.get(0), row.get(1), row.get(2)), (2, Some("1"), Some("2"), None));
        assert!(rows.next_row().expect("end").is_none());
        let missing = dir.path().join("none.csv");
        let e = CsvRows::open(&missing).err().expect("missing file").to_string();
        assert!(e.starts_with(&format!("{}: ", missing.display())), "{e}");
        let e = CsvRows::open(dir.path()).err().expect("a directory").to_string();
        assert!(e.starts_with(&format!("{}: ", dir.path().display())), "{e}");
    }
}
