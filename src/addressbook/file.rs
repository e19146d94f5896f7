//! Reading an address-book import file line by line, in constant memory:
//! [`check_file`] makes sure the whole file is UTF-8 before anything is
//! written (naming the line of the first bad byte), and [`BookReader`]
//! turns each line into an [`Entry`]: a recipient, a refused line with its
//! reason, the skipped header, or a blank line.
//!
//! The layout has no quoting (no field may contain a comma), so lines are
//! split on `\n` alone (a `\r` before it is dropped) and never handed to a
//! CSV parser, which would read a quoted comma as part of a value. One
//! line buffer is reused; a line longer than any valid line can be
//! ([`MAX_LINE_BYTES`]) is refused without being held.

use super::recipient::{Reason, Recipient, Rejection, is_header, parse_line};
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;

/// The longest line read whole: a valid line has at most 598 characters
/// of data and 7 commas (at most 4 bytes a character), plus blanks around
/// values; anything longer cannot be a recipient.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file that cannot be imported at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file cannot be opened or read.
    #[error("{file}: {reason}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A byte sequence that is not UTF-8.
    #[error("{file}:{line}: not UTF-8 (byte {offset} of the file); an address book must be UTF-8")]
    Encoding {
        /// The file.
        file: String,
        /// The line of the first bad byte (1-based).
        line: u64,
        /// Its offset in the file (0-based).
        offset: u64,
    },
}

impl FileError {
    /// A stable code for logs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Io { .. } => "unreadable-file",
            FileError::Encoding { .. } => "not-utf8",
        }
    }

    fn io(file: &str, e: io::Error) -> FileError {
        FileError::Io { file: file.to_string(), reason: e.to_string() }
    }
}

/// What [`check_file`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileCheck {
    /// Lines in the file (a last line without a line end counts).
    pub lines: u64,
    /// Bytes in the file.
    pub bytes: u64,
}

/// Make sure the file at `path` is UTF-8 throughout (reading it in chunks),
/// and count its lines.
pub fn check_file(path: &Path) -> Result<FileCheck, FileError> {
    const CHUNK: usize = 64 * 1024;
    let name = path.display().to_string();
    let mut f = File::open(path).map_err(|e| FileError::io(&name, e))?;
    // An incomplete UTF-8 sequence at a chunk's end (at most 3 bytes) is
    // carried to the front for the next read.
    let mut buf = vec![0u8; CHUNK + 4];
    let (mut carry, mut offset, mut newlines, mut last) = (0usize, 0u64, 0u64, b'\n');
    loop {
        let n = match f.read(&mut buf[carry..carry + CHUNK]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FileError::io(&name, e)),
        };
        let len = carry + n;
        if n == 0 {
            if carry > 0 {
                return Err(FileError::Encoding { file: name, line: newlines + 1, offset });
            }
            break;
        }
        let (valid, bad) = match std::str::from_utf8(&buf[..len]) {
            Ok(_) => (len, false),
            Err(e) => (e.valid_up_to(), e.error_len().is_some()),
        };
        newlines += buf[..valid].iter().filter(|b| **b == b'\n').count() as u64;
        if bad {
            return Err(FileError::Encoding { file: name, line: newlines + 1, offset: offset + valid as u64 });
        }
        if valid > 0 {
            last = buf[valid - 1];
        }
        buf.copy_within(valid..len, 0);
        carry = len - valid;
        offset += valid as u64;
    }
    let lines = newlines + u64::from(offset > 0 && last != b'\n');
    Ok(FileCheck { lines, bytes: offset })
}

/// One line of an import file, as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A valid recipient.
    Recipient {
        /// Its line (1-based).
        line: u64,
        /// The recipient.
        recipient: Recipient,
    },
    /// A refused line.
    Rejected {
        /// Its line (1-based).
        line: u64,
        /// Why.
        rejection: Rejection,
    },
    /// The first line was the French or English header: skipped.
    Header {
        /// Always 1.
        line: u64,
    },
    /// A line with nothing but blanks: skipped.
    Blank {
        /// Its line (1-based).
        line: u64,
    },
}

/// The entries of an import file, one line at a time.
pub struct BookReader<R> {
    inner: R,
    file: String,
    line: u64,
    buf: Vec<u8>,
}

impl BookReader<io::BufReader<File>> {
    /// Open the file at `path`.
    pub fn open(path: &Path) -> Result<Self, FileError> {
        let name = path.display().to_string();
        let f = File::open(path).map_err(|e| FileError::io(&name, e))?;
        Ok(BookReader::new(io::BufReader::with_capacity(64 * 1024, f), name))
    }
}

impl<R: BufRead> BookReader<R> {
    /// Read from `inner`; `file` names it in errors.
    pub fn new(inner: R, file: impl Into<String>) -> Self {
        BookReader { inner, file: file.into(), line: 0, buf: Vec::with_capacity(1024) }
    }

    /// Lines read so far.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The next line into `buf` (without its `\n`): `None` at the end,
    /// `Some(true)` for a line too long to hold (then `buf` is empty).
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let (mut any, mut too_long) = (false, false);
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(any.then_some(too_long));
            }
            any = true;
            let end = avail.iter().position(|b| *b == b'\n');
            let part = &avail[..end.unwrap_or(avail.len())];
            if !too_long {
                if self.buf.len() + part.len() > MAX_LINE_BYTES {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(part);
                }
            }
            let used = end.map_or(avail.len(), |e| e + 1);
            self.inner.consume(used);
            if end.is_some() {
                return Ok(Some(too_long));
            }
        }
    }

    /// The next entry, `None` at the end of the file.
    pub fn next_entry(&mut self) -> Result<Option<Entry>, FileError> {
        let too_long = match self.read_line() {
            Ok(Some(t)) => t,
            Ok(None) => return Ok(None),
            Err(e) => return Err(FileError::io(&self.file, e)),
        };
        self.line += 1;
        let line = self.line;
        if too_long {
            let detail = format!("longer than {MAX_LINE_BYTES} bytes");
            return Ok(Some(Entry::Rejected { line, rejection: Rejection { reason: Reason::LineTooLong, detail } }));
        }
        let mut bytes = self.buf.as_slice();
        if line == 1 {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            // The file changed since `check_file`: still a precise error.
            let offset = e.valid_up_to() as u64;
            FileError::Encoding { file: self.file.clone(), line, offset }
        })?;
        Ok(Some(if text.trim().is_empty() {
            Entry::Blank { line }
        } else if line == 1 && is_header(text) {
            Entry::Header { line }
        } else {
            match parse_line(text) {
                Ok(recipient) => Entry::Recipient { line, recipient },
                Err(rejection) => Entry::Rejected { line, rejection },
            }
        }))
    }
}

impl<R: BufRead> Iterator for BookReader<R> {
    type Item = Result<Entry, FileError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &[u8]) -> Vec<Entry> {
        BookReader::new(text, "t.csv").collect::<Result<Vec<_>, _>>().expect("readable")
    }

    fn kinds(text: &[u8]) -> Vec<String> {
        entries(text)
            .iter()
            .map(|e| match e {
                Entry::Recipient { line, recipient } => format!("{line}:{}", recipient.email),
                Entry::Rejected { line, rejection } => format!("{line}:{}", rejection.reason.code()),
                Entry::Header { line } => format!("{line}:header"),
                Entry::Blank { line } => format!("{line}:blank"),
            })
            .collect()
    }

    #[test]
    fn lines_numbered_with_header_bom_crlf_and_blanks() {
        let text = "\u{feff}Civilité,Prénom,Nom,E-mail,Service,Téléphone,Adresse,Ville\r\n\
                    M.,Jean,Dupont,jean@example.fr,,,,\r\n\
                    \r\n\
                    Mme,Ana,B,ana@example.fr,,01X,,\n\
                    ,,,solo@example.fr,,,,";
        assert_eq!(
            kinds(text.as_bytes()),
            ["1:header", "2:jean@example.fr", "3:blank", "4:invalid-phone", "5:solo@example.fr"]
        );
    }

    #[test]
    fn a_header_elsewhere_than_line_one_is_a_bad_line() {
        let text =
            "M.,Jean,Dupont,jean@example.fr,,,,\nCivility,First name,Last name,Email,Department,Phone,Address,City\n";
        assert_eq!(kinds(text.as_bytes()), ["1:jean@example.fr", "2:invalid-civility"]);
    }

    #[test]
    fn an_endless_line_is_refused_without_being_held() {
        let mut text = vec![b'x'; MAX_LINE_BYTES * 3];
        text.extend_from_slice(b"\nM.,Jean,Dupont,jean@example.fr,,,,\n");
        assert_eq!(kinds(&text), ["1:line-too-long", "2:jean@example.fr"]);
    }

    #[test]
    fn the_first_bad_byte_is_named_by_its_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("b.csv");
        let mut text = b"M.,Jean,Dupont,jean@example.fr,,,,\n".repeat(5000);
        text.extend_from_slice(b"M.,J\xe9r\xf4me,X,j@example.fr,,,,\n");
        std::fs::write(&path, &text).expect("write");
        match check_file(&path) {
            Err(FileError::Encoding { line, offset, .. }) => {
                assert_eq!((line, offset), (5001, 35 * 5000 + 4));
            }
            other => panic!("{other:?}"),
        }
        // Multi-byte characters across the 64 KiB chunk boundaries are fine.
        let good = "M.,Jérôme,Dupont,jerome@example.fr,,,,\n".repeat(10_000);
        std::fs::write(&path, &good).expect("write");
        assert_eq!(check_file(&path).expect("UTF-8"), FileCheck { lines: 10_000, bytes: good.len() as u64 });
        std::fs::write(&path, "a\nb").expect("write");
        assert_eq!(check_file(&path).expect("UTF-8").lines, 2);
        std::fs::write(&path, b"a\n\xc3").expect("write");
        assert!(matches!(check_file(&path), Err(FileError::Encoding { line: 2, .. })));
    }
}
