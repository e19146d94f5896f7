//! Run traces: JSON Lines, one event per line.
//!
//! A trace holds what replay needs to re-run a run exactly: a `run` event
//! (script identity and hash, parameters, clock mode and start, random seed,
//! budgets, catalog and reference-data versions), one `step` event per
//! action (resolved inputs, outputs, result and branch taken, variables
//! changed, clock reading (written only when it differs from the previous
//! step's), duration, random numbers drawn, answers from outside the
//! script, notes), `return` events when a sub script hands back
//! its value, and an `end` event (status, return value, steps, error).
//! Every event carries the run id, so runs started with SPAWN can share a
//! trace file.

use serde_json::Value as J;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Where traces go. Cloned into every run that writes to it.
#[derive(Clone)]
pub struct TraceSink(Arc<Mutex<Box<dyn Write + Send>>>);

impl std::fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceSink")
    }
}

impl TraceSink {
    /// Write to a new file (truncating an existing one).
    pub fn file(path: &Path) -> std::io::Result<TraceSink> {
        let f = std::fs::File::create(path)?;
        Ok(TraceSink::writer(std::io::BufWriter::new(f)))
    }

    /// Write to any writer.
    pub fn writer(w: impl Write + Send + 'static) -> TraceSink {
        TraceSink(Arc::new(Mutex::new(Box::new(w))))
    }

    /// An in-memory sink and a handle to read what was written.
    pub fn memory() -> (TraceSink, SharedBuf) {
        let buf = SharedBuf::default();
        (TraceSink::writer(buf.clone()), buf)
    }

    fn write_all(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut w = self.0.lock().map_err(|_| std::io::Error::other("trace sink poisoned"))?;
        w.write_all(bytes)?;
        w.flush()
    }
}

/// A byte buffer shared between a sink and its reader.
#[derive(Clone, Default, Debug)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    /// What has been written so far.
    pub fn contents(&self) -> String {
        self.0.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("buffer poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Buffers one run's events and writes them to the sink in blocks, so
/// concurrent runs do not interleave mid-line.
pub(crate) struct Recorder {
    sink: TraceSink,
    buf: Vec<u8>,
    seq: u64,
    run: String,
    /// First write error, reported once in the run's notes.
    pub error: Option<String>,
}

impl Recorder {
    pub fn new(sink: TraceSink, run: &str) -> Recorder {
        Recorder { sink, buf: Vec::with_capacity(16 * 1024), seq: 0, run: run.to_string(), error: None }
    }

    /// Append an event; `event` is its kind and `fields` its members.
    pub fn event(&mut self, event: &str, fields: J) {
        // The members' text without the object's braces.
        let body = match &fields {
            J::Object(m) if !m.is_empty() => serde_json::to_vec(&fields).unwrap_or_default(),
            _ => b"{}".to_vec(),
        };
        self.raw_event(event, body.get(1..body.len().saturating_sub(1)).unwrap_or_default());
    }

    /// Append an event whose members (after `event`, `run` and `seq`) are
    /// already JSON text: `body` is `"name":value,...` without braces. Step
    /// events go this way, so tracing does not build a JSON tree per step.
    pub fn raw_event(&mut self, event: &str, body: &[u8]) {
        self.buf.extend_from_slice(b"{\"event\":");
        crate::value::write_json_str(&mut self.buf, event);
        self.buf.extend_from_slice(b",\"run\":");
        crate::value::write_json_str(&mut self.buf, &self.run);
        self.buf.extend_from_slice(b",\"seq\":");
        self.buf.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        if !body.is_empty() {
            self.buf.push(b',');
        }
        self.seq += 1;
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(b"}\n");
        if self.buf.len() > 256 * 1024 {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if let Err(e) = self.sink.write_all(&self.buf) {
            self.error.get_or_insert_with(|| format!("trace not written: {e}"));
        }
        self.buf.clear();
    }

    pub fn sink(&self) -> TraceSink {
        self.sink.clone()
    }
}
