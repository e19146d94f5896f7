//! Run traces: JSON Lines, one event per line.
//!
//! A trace holds what replay needs to re-run a run exactly: a `run` event
//! (script identity and hash, parameters, clock mode and start, random seed,
//! budgets, catalog and reference-data versions), one `step` event per
//! action (resolved inputs, outputs, result and branch taken, variables
//! changed, clock reading (written only when it differs from the previous
//! step's), duration (since the previous step event, so one clock read per
//! step), random numbers drawn, answers from outside the
//! script, notes), `return` events when a sub script hands back
//! its value, and an `end` event (status, return value, steps, error).
//! Every event carries the run id, so runs started with SPAWN can share a
//! trace file. A file is written by a thread of its own: runs hand it whole
//! blocks and go on, and a run's report comes back only once its last block
//! is in the file.

use serde_json::Value as J;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

/// Where traces go. Cloned into every run that writes to it.
#[derive(Clone)]
pub struct TraceSink(Arc<Sink>);

enum Sink {
    /// Blocks are written by the run that made them.
    Direct(Mutex<Box<dyn Write + Send>>),
    /// Blocks go to a writer thread, so a traced run does not wait for the
    /// kernel to copy its trace (see [`Writer`]).
    Thread(Writer),
}

/// A file written by its own thread. Blocks queue in order; a `Sync`
/// message answers once everything before it is written, so a run's report
/// never comes back before its trace is complete. Written blocks come back
/// empty for reuse.
struct Writer {
    jobs: mpsc::Sender<Job>,
    spent: Mutex<mpsc::Receiver<Vec<u8>>>,
}

enum Job {
    Block(Vec<u8>),
    Sync(mpsc::SyncSender<Result<(), String>>),
}

impl std::fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceSink")
    }
}

impl TraceSink {
    /// Write to a new file (truncating an existing one), on a writer thread
    /// of its own.
    pub fn file(path: &Path) -> std::io::Result<TraceSink> {
        let f = std::fs::File::create(path)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let (give_back, spent) = mpsc::channel::<Vec<u8>>();
        let started = std::thread::Builder::new().name("prospero-trace".into()).spawn({
            let mut f = f;
            move || {
                // The first failure is kept and told to every later sync.
                let mut failed: Option<String> = None;
                for job in queue {
                    match job {
                        Job::Block(mut b) => {
                            if failed.is_none()
                                && let Err(e) = f.write_all(&b)
                            {
                                failed = Some(e.to_string());
                            }
                            b.clear();
                            let _ = give_back.send(b);
                        }
                        Job::Sync(done) => {
                            let _ = done.send(failed.clone().map_or(Ok(()), Err));
                        }
                    }
                }
            }
        });
        match started {
            Ok(_) => Ok(TraceSink(Arc::new(Sink::Thread(Writer { jobs, spent: Mutex::new(spent) })))),
            // No thread to be had (the file went with the closure): write
            // from the run instead.
            Err(_) => Ok(TraceSink::writer(std::fs::File::create(path)?)),
        }
    }

    /// Write to any writer.
    pub fn writer(w: impl Write + Send + 'static) -> TraceSink {
        TraceSink(Arc::new(Sink::Direct(Mutex::new(Box::new(w)))))
    }

    /// An in-memory sink and a handle to read what was written.
    pub fn memory() -> (TraceSink, SharedBuf) {
        let buf = SharedBuf::default();
        (TraceSink::writer(buf.clone()), buf)
    }

    /// Write (or queue) `block`; gives back an empty buffer for the next.
    fn write_block(&self, mut block: Vec<u8>) -> std::io::Result<Vec<u8>> {
        match &*self.0 {
            Sink::Direct(w) => {
                let mut w = w.lock().map_err(|_| std::io::Error::other("trace sink poisoned"))?;
                w.write_all(&block)?;
                w.flush()?;
                block.clear();
                Ok(block)
            }
            Sink::Thread(t) => {
                let capacity = block.capacity();
                t.jobs.send(Job::Block(block)).map_err(|_| std::io::Error::other("trace writer stopped"))?;
                let reused = t.spent.lock().ok().and_then(|r| r.try_recv().ok());
                Ok(reused.unwrap_or_else(|| Vec::with_capacity(capacity)))
            }
        }
    }

    /// Wait until everything written so far is in the file.
    fn sync(&self) -> std::io::Result<()> {
        match &*self.0 {
            Sink::Direct(w) => w.lock().map_err(|_| std::io::Error::other("trace sink poisoned"))?.flush(),
            Sink::Thread(t) => {
                let (done, wait) = mpsc::sync_channel(1);
                t.jobs.send(Job::Sync(done)).map_err(|_| std::io::Error::other("trace writer stopped"))?;
                match wait.recv() {
                    Ok(r) => r.map_err(std::io::Error::other),
                    Err(_) => Err(std::io::Error::other("trace writer stopped")),
                }
            }
        }
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

/// A run hands its events to the sink in blocks of about this size.
const FLUSH_AT: usize = 256 * 1024;

/// Buffers one run's events and writes them to the sink in blocks, so
/// concurrent runs do not interleave mid-line.
pub(crate) struct Recorder {
    sink: TraceSink,
    buf: Vec<u8>,
    seq: u64,
    /// `,"run":<run id>,"seq":`, the same in every event of the run.
    run_part: Vec<u8>,
    /// First write error, reported once in the run's notes.
    pub error: Option<String>,
}

impl Recorder {
    pub fn new(sink: TraceSink, run: &str) -> Recorder {
        let mut run_part = b",\"run\":".to_vec();
        crate::value::write_json_str(&mut run_part, run);
        run_part.extend_from_slice(b",\"seq\":");
        Recorder { sink, buf: Vec::with_capacity(FLUSH_AT + 4096), seq: 0, run_part, error: None }
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
        self.buf.extend_from_slice(&self.run_part);
        self.buf.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        if !body.is_empty() {
            self.buf.push(b',');
        }
        self.seq += 1;
        self.buf.extend_from_slice(body);
        self.buf.extend_from_slice(b"}\n");
        if self.buf.len() > FLUSH_AT {
            self.hand_off();
        }
    }

    /// Hand the buffered events to the sink.
    fn hand_off(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        match self.sink.write_block(std::mem::take(&mut self.buf)) {
            Ok(empty) => self.buf = empty,
            Err(e) => {
                self.error.get_or_insert_with(|| format!("trace not written: {e}"));
                self.buf = Vec::with_capacity(FLUSH_AT);
            }
        }
    }

    /// Write everything buffered and wait until it is written.
    pub fn flush(&mut self) {
        self.hand_off();
        if let Err(e) = self.sink.sync() {
            self.error.get_or_insert_with(|| format!("trace not written: {e}"));
        }
    }

    pub fn sink(&self) -> TraceSink {
        self.sink.clone()
    }
}
