//! Lead files: reading a CSV lead list into records for a lead source.
//!
//! The first row names the columns. Each later row becomes one record: a
//! JSON object of column → text in column order, keyed either by a chosen
//! column or by its row number. Reading the CSV itself (header, byte order
//! mark, errors that name the file and the line) is [`crate::base::csv`]'s.

use super::model::NewLead;
use crate::base::csv::CsvRows;
use std::io::BufRead;
use std::path::Path;

/// A lead file that cannot be used.
pub use crate::base::csv::CsvError as LeadFileError;

/// Read `path`. With `key_column`, records are keyed by that column (rows
/// where it is blank are keyed `row:N`); otherwise by row number (2 for the
/// first record, as a spreadsheet shows it).
pub fn read_csv(path: &Path, key_column: Option<&str>) -> Result<Vec<NewLead>, LeadFileError> {
    leads_of(CsvRows::open(path)?, key_column)
}

/// Read CSV from `reader` (`file` names it in errors): a file read through
/// a progress counter, say.
pub fn read_csv_from<R: BufRead>(
    file: &str,
    reader: R,
    key_column: Option<&str>,
) -> Result<Vec<NewLead>, LeadFileError> {
    leads_of(CsvRows::from_reader(file, reader)?, key_column)
}

/// Read CSV text already in memory (`file` names it in errors).
pub fn read_csv_bytes(file: &str, bytes: &[u8], key_column: Option<&str>) -> Result<Vec<NewLead>, LeadFileError> {
    leads_of(CsvRows::from_bytes(file, bytes)?, key_column)
}

fn leads_of<R: BufRead>(mut rows: CsvRows<R>, key_column: Option<&str>) -> Result<Vec<NewLead>, LeadFileError> {
    let key_index = key_column.map(|k| rows.column(k)).transpose()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next_row()? {
        let mut obj = serde_json::Map::with_capacity(row.columns().len());
        for (h, v) in row.fields() {
            obj.insert(h.to_string(), serde_json::Value::String(v.to_string()));
        }
        let key = match key_index.and_then(|i| row.get(i)).map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => k.to_string(),
            None => format!("row:{}", row.line()),
        };
        out.push(NewLead { key, fields: serde_json::Value::Object(obj).to_string() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_ordered_records() {
        let leads =
            read_csv_bytes("x.csv", b"\xEF\xBB\xBFId,Name,Phone\n7,Ada,555\n,Bob,\"1, 2\"\n", Some("id")).unwrap();
        assert_eq!(leads.len(), 2);
        assert_eq!(leads[0].key, "7");
        assert_eq!(leads[0].fields, r#"{"Id":"7","Name":"Ada","Phone":"555"}"#);
        assert_eq!(leads[1].key, "row:3");
        assert!(leads[1].fields.contains(r#""Phone":"1, 2""#));
    }

    #[test]
    fn bad_files_name_file_and_line() {
        let e = read_csv_bytes("x.csv", b"a,b\n1,2\n3\n", None).unwrap_err().to_string();
        assert!(e.starts_with("x.csv:3:"), "{e}");
        let e = read_csv_bytes("x.csv", b"a,a\n1,2\n", None).unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
        let e = read_csv_bytes("x.csv", b"a,b\n1,2\n", Some("zz")).unwrap_err().to_string();
        assert!(e.contains("no column named 'zz'"), "{e}");
        let e = read_csv_bytes("x.csv", b"a,b\n\xff\xfe,2\n", None).unwrap_err().to_string();
        assert!(e.contains("x.csv:2"), "{e}");
        let e = read_csv("/nonexistent/leads.csv".as_ref(), None).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/leads.csv"), "{e}");
    }
}
