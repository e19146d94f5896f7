//! The reader between an import file and the `csv` crate (see
//! [`super::file`]): hashing, encoding, line ends, quote tracking, limits.

use super::file::{FileError, Limits};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::io::{self, Read};

/// What the guard's quote tracking is in, as `csv_core` would be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
}

/// Bytes read from the input at a time.
const CHUNK: usize = 8 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The reader between the input and the `csv` crate (see the module docs).
pub(super) struct Guard<R> {
    inner: R,
    limits: Limits,
    /// Input not yet processed: an incomplete UTF-8 sequence carried over.
    raw: Vec<u8>,
    /// Processed bytes not yet handed to the `csv` crate.
    out: Vec<u8>,
    out_pos: usize,
    hasher: Sha256,
    pub(super) offset: u64,
    line: u64,
    after_cr: bool,
    started: bool,
    eof: bool,
    state: State,
    quote_line: u64,
    field_line: u64,
    field_bytes: usize,
    fields: usize,
    record_bytes: usize,
    /// Lines where records start, not yet taken by [`Records`]: bounded by
    /// the bytes read ahead of the `csv` crate.
    pub(super) starts: VecDeque<u64>,
    pub(super) fault: Option<FileError>,
    pub(super) checksum: Option<String>,
}

impl<R: Read> Guard<R> {
    pub(super) fn new(inner: R, limits: Limits) -> Self {
        Guard {
            inner,
            limits,
            raw: Vec::with_capacity(CHUNK + 4),
            out: Vec::with_capacity(CHUNK + 4),
            out_pos: 0,
            hasher: Sha256::new(),
            offset: 0,
            line: 1,
            after_cr: false,
            started: false,
            eof: false,
            state: State::StartRecord,
            quote_line: 0,
            field_line: 0,
            field_bytes: 0,
            fields: 0,
            record_bytes: 0,
            starts: VecDeque::new(),
            fault: None,
            checksum: None,
        }
    }

    /// Read more input after what `raw` holds; 0 at the end.
    fn read_more(&mut self) -> io::Result<usize> {
        let have = self.raw.len();
        self.raw.resize(have + CHUNK, 0);
        let n = loop {
            match self.inner.read(&mut self.raw[have..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.raw.truncate(have);
                    return Err(e);
                }
            }
        };
        self.raw.truncate(have + n);
        Ok(n)
    }

    /// Fill `out` with the next processed bytes, or note the end or a fault.
    fn fill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        if self.read_more()? == 0 {
            self.eof = true;
        }
        if !self.started {
            while self.raw.len() < 3 && !self.eof {
                if self.read_more()? == 0 {
                    self.eof = true;
                }
            }
            self.started = true;
            if self.raw.starts_with(b"\xFF\xFE") || self.raw.starts_with(b"\xFE\xFF") {
                self.fault = Some(FileError::Utf16);
                return Ok(());
            }
            if self.raw.starts_with(BOM) {
                self.hasher.update(BOM);
                self.raw.drain(..BOM.len());
                self.offset = BOM.len() as u64;
            }
        }
        let (good, bad) = match std::str::from_utf8(&self.raw) {
            Ok(_) => (self.raw.len(), false),
            Err(e) if e.error_len().is_none() && !self.eof => (e.valid_up_to(), false),
            Err(e) => (e.valid_up_to(), true),
        };
        let raw = std::mem::take(&mut self.raw);
        self.hasher.update(&raw[..good]);
        self.process(&raw[..good]);
        if bad && self.fault.is_none() {
            self.fault = Some(FileError::NotUtf8 { line: self.line, offset: self.offset, byte: raw[good] });
        }
        self.raw = raw;
        self.raw.drain(..good);
        if self.eof && self.fault.is_none() {
            if self.state == State::InQuoted {
                self.fault = Some(FileError::UnterminatedQuote { line: self.quote_line });
            } else {
                self.checksum = Some(hex(&self.hasher.clone().finalize()));
            }
        }
        Ok(())
    }

    /// Run the valid UTF-8 `bytes` through line counting and quote tracking
    /// into `out`, stopping at the first fault.
    fn process(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == 0 {
                self.fault = Some(FileError::Binary { line: self.line, offset: self.offset });
                return;
            }
            self.offset += 1;
            let c = match b {
                b'\r' => {
                    self.after_cr = true;
                    b'\n'
                }
                b'\n' if self.after_cr => {
                    self.after_cr = false;
                    continue;
                }
                other => {
                    self.after_cr = false;
                    other
                }
            };
            if let Err(fault) = self.step(c) {
                self.fault = Some(fault);
                return;
            }
            self.out.push(c);
            if c == b'\n' {
                self.line += 1;
            }
        }
    }

    /// One byte through the quote tracking.
    fn step(&mut self, c: u8) -> Result<(), FileError> {
        if self.state != State::StartRecord {
            self.record_bytes += 1;
            if self.record_bytes > self.limits.max_record_bytes {
                let line = self.starts.back().copied().unwrap_or(self.line);
                return Err(FileError::RecordTooLarge { line, limit: self.limits.max_record_bytes });
            }
        }
        match (self.state, c) {
            (State::StartRecord, b'\n') => Ok(()),
            (State::StartRecord, _) => {
                self.starts.push_back(self.line);
                self.record_bytes = 1;
                self.fields = 1;
                self.start_field(c)
            }
            (State::StartField, _) => self.start_field(c),
            (State::InField | State::QuoteInQuoted, b',') => self.next_field(),
            (State::InField | State::QuoteInQuoted, b'\n') => {
                self.state = State::StartRecord;
                Ok(())
            }
            (State::InQuoted, b'"') => {
                self.state = State::QuoteInQuoted;
                self.grow()
            }
            (State::QuoteInQuoted, b'"') => {
                self.state = State::InQuoted;
                self.grow()
            }
            // `"Bo"xyz`: the `csv` crate would read `Boxyz`, silently; most
            // often a quote inside a quoted field that was not doubled.
            (State::QuoteInQuoted, _) => Err(FileError::TextAfterQuote { line: self.line, column: self.fields }),
            (State::InField | State::InQuoted, _) => self.grow(),
        }
    }

    fn start_field(&mut self, c: u8) -> Result<(), FileError> {
        self.field_bytes = 0;
        self.field_line = self.line;
        match c {
            b'"' => {
                self.state = State::InQuoted;
                self.quote_line = self.line;
                self.grow()
            }
            b',' => self.next_field(),
            b'\n' => {
                self.state = State::StartRecord;
                Ok(())
            }
            _ => {
                self.state = State::InField;
                self.grow()
            }
        }
    }

    fn next_field(&mut self) -> Result<(), FileError> {
        self.fields += 1;
        self.state = State::StartField;
        if self.fields > self.limits.max_columns {
            let line = self.starts.back().copied().unwrap_or(self.line);
            return Err(FileError::TooManyColumns { line, limit: self.limits.max_columns });
        }
        Ok(())
    }

    fn grow(&mut self) -> Result<(), FileError> {
        self.field_bytes += 1;
        if self.field_bytes > self.limits.max_field_bytes {
            return Err(FileError::FieldTooLarge {
                line: self.field_line,
                column: self.fields,
                limit: self.limits.max_field_bytes,
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.fault.is_some() {
                return Err(io::Error::other("the import file check stopped"));
            }
            if self.eof {
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

/// Lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
