//! CSV files read row by row, for any import: the first row names the
//! columns, a UTF-8 byte order mark is accepted, every later row must have
//! as many fields as the header, and every error names the file and the
//! line. What a row becomes is the importer's business.
//!
//! Rows stream through the `csv` crate into one reused buffer, so a large
//! file is never held in memory as a whole.
//!
//! The `csv` crate reads a quote that never closes as a field running to
//! the end of the file, and says nothing; [`QuoteCount`] counts the quotes
//! that pass, so a row that swallowed the rest of the file is reported as
//! the unterminated quote it is.

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
    reader: csv::Reader<QuoteCount<R>>,
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
        let reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(QuoteCount::new(reader));
        let mut rows =
            CsvRows { file: file.to_string(), reader, columns: Vec::new(), record: csv::StringRecord::new() };
        let header = match rows.reader.headers() {
            Ok(h) => h,
            Err(e) => return Err(rows.read_error(e)),
        };
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
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                // The last row, with an odd number of quotes in the file,
                // whose last field runs through the final line break: its
                // quote never closed (a closed field ends at its quote).
                if self.reader.get_ref().unbalanced()
                    && self.record.iter().next_back().is_some_and(|f| f.ends_with(['\n', '\r']))
                {
                    return Err(unterminated(&self.file, line));
                }
                Ok(Some(Row { line, columns: &self.columns, record: &self.record }))
            }
            Err(e) => Err(self.read_error(e)),
        }
    }

    /// A read error as the importer reports it: a wrong field count on a
    /// row that ran to the end of the file past an odd quote is that quote.
    fn read_error(&self, e: csv::Error) -> CsvError {
        if let csv::ErrorKind::UnequalLengths { pos: Some(pos), .. } = e.kind()
            && self.reader.get_ref().unbalanced()
            && self.reader.position().line() > pos.line()
        {
            return unterminated(&self.file, pos.line());
        }
        syntax(&self.file, e)
    }
}

/// The error for a quote opened on the row at `line` that never closes.
fn unterminated(file: &str, line: u64) -> CsvError {
    CsvError::Syntax {
        file: file.to_string(),
        line,
        reason: "a quoted field opened on this row is never closed (unterminated '\"')".into(),
    }
}

/// A reader that counts the quote characters passing through it and
/// notes the end of the input.
pub struct QuoteCount<R> {
    inner: R,
    quotes: u64,
    ended: bool,
}

impl<R> QuoteCount<R> {
    fn new(inner: R) -> Self {
        QuoteCount { inner, quotes: 0, ended: false }
    }

    /// The whole input has been read and holds an odd number of quotes:
    /// well-formed CSV quoting always pairs them.
    fn unbalanced(&self) -> bool {
        self.ended && self.quotes % 2 == 1
    }
}

impl<R: std::io::Read> std::io::Read for QuoteCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.ended = true;
        }
        self.quotes += buf[..n].iter().filter(|&&b| b == b'"').count() as u64;
        Ok(n)
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

    /// Regression (issue 16): a quote that never closes was reported as
    /// "2 fields where the header has 3" on the row that swallowed the
    /// rest of the file.
    #[test]
    fn csv_unterminated_quote_is_named_as_such() {
        let want =
            |line: u64| format!("x.csv:{line}: a quoted field opened on this row is never closed (unterminated '\"')");
        for (bytes, line) in
            [(&b"a,b,c\n1,\"2,3\n4,5,6\n"[..], 2), (b"a,b,c\n1,2,3\n4,5,\"6\n7,8,9\n", 3), (b"a,b,c\n1,2,\"3\n", 2)]
        {
            assert_eq!(error(bytes), want(line), "{}", String::from_utf8_lossy(bytes));
        }
        // Quotes inside unquoted fields and fields spanning lines stay
        // what they were.
        let got = rows(b"a,b\n5'11\",\"x\ny\"\n").expect("rows");
        assert_eq!(got[0].1[0].1, "5'11\"");
        assert_eq!(got[0].1[1].1, "x\ny");
        for (bytes, want) in [
            (&b"a,b\n1,2\n3\n"[..], "x.csv:3: 1 fields where the header has 2"),
            (b"a,b\n1,\"x\ny\",3\n", "x.csv:2: 3 fields where the header has 2"),
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
