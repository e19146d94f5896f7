//! Lead files: reading a CSV lead list into records for a lead source.
//!
//! The first row names the columns. Each later row becomes one record: a
//! JSON object of column → text in column order, keyed either by a chosen
//! column or by its row number. Errors name the file and the line.

use super::model::NewLead;
use std::path::Path;

/// A lead file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeadFileError {
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

/// Read `path`. With `key_column`, records are keyed by that column (rows
/// where it is blank are keyed `row:N`); otherwise by row number (2 for the
/// first record, as a spreadsheet shows it).
pub fn read_csv(path: &Path, key_column: Option<&str>) -> Result<Vec<NewLead>, LeadFileError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| LeadFileError::Io { file: file.clone(), reason: e.to_string() })?;
    read_csv_bytes(&file, &bytes, key_column)
}

/// Read CSV text already in memory (`file` names it in errors).
pub fn read_csv_bytes(file: &str, bytes: &[u8], key_column: Option<&str>) -> Result<Vec<NewLead>, LeadFileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let syntax = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        let reason = match e.kind() {
            csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("{len} fields where the header has {expected_len}")
            }
            _ => e.to_string(),
        };
        LeadFileError::Syntax { file: file.to_string(), line, reason }
    };
    let headers: Vec<String> = rdr.headers().map_err(syntax)?.iter().map(|h| h.trim().to_string()).collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(LeadFileError::Header { file: file.into(), reason: "the header row is empty".into() });
    }
    for (i, h) in headers.iter().enumerate() {
        if h.is_empty() {
            return Err(LeadFileError::Header { file: file.into(), reason: format!("column {} has no name", i + 1) });
        }
        if headers[..i].contains(h) {
            return Err(LeadFileError::Header { file: file.into(), reason: format!("column '{h}' appears twice") });
        }
    }
    let key_index =
        match key_column {
            Some(k) => Some(headers.iter().position(|h| h.eq_ignore_ascii_case(k.trim())).ok_or_else(|| {
                LeadFileError::Header { file: file.into(), reason: format!("no column named '{k}'") }
            })?),
            None => None,
        };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(syntax)?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let mut obj = serde_json::Map::with_capacity(headers.len());
        for (h, v) in headers.iter().zip(rec.iter()) {
            obj.insert(h.clone(), serde_json::Value::String(v.to_string()));
        }
        let key = match key_index.and_then(|i| rec.get(i)).map(str::trim).filter(|k| !k.is_empty()) {
            Some(k) => k.to_string(),
            None => format!("row:{line}"),
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
