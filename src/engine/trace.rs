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
//! its value, `resume` events when its caller's RUNSUB takes a branch
//! after it (result, branch, next), and an `end` event (status, return
//! value, steps, error).
//! Every event carries the run id, so runs started with SPAWN can share a
//! trace file. A file is written by a thread of its own: runs queue whole
//! blocks and go on, and a run's report comes back only once its last block
//! is in the file.

use super::action::InputsJson;
use crate::catalog::Manifest;
use crate::script::check::PropPlan;
use crate::value::write_json_str;
use serde_json::Value as J;
use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// A file written by a thread of its own.
///
/// Runs queue whole blocks and go on without waking the thread: it looks
/// at the queue every [`POLL`] while blocks come, and sleeps on a condition
/// variable (woken by the next block) once it has been idle for
/// [`IDLE_POLLS`] looks. On a virtual machine, waking a sleeping thread
/// costs the waker about 15 µs, as much as 30 traced steps; a run hands
/// off a block every few hundred microseconds.
///
/// Whichever thread writes takes the file's lock and writes queued blocks
/// in order, so when a run ends it writes what is still queued itself
/// (waiting only while the thread finishes a block) and its report never
/// comes back before its trace is complete. Written blocks are kept for
/// reuse.
struct Writer {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    /// The thread sleeps here when the queue has been empty a while.
    wake: std::sync::Condvar,
    /// Held while blocks are written.
    out: Mutex<Out>,
}

#[derive(Default)]
struct Queue {
    blocks: VecDeque<Vec<u8>>,
    /// Written blocks, empty, for runs to fill again.
    spare: Vec<Vec<u8>>,
    asleep: bool,
    /// The sink is gone: write what is left and stop.
    closed: bool,
}

struct Out {
    file: std::fs::File,
    /// The first failure, told to every later sync.
    failed: Option<String>,
}

/// How often a busy writer thread looks for blocks.
const POLL: Duration = Duration::from_millis(1);
/// Empty looks before the writer thread sleeps until woken.
const IDLE_POLLS: u32 = 50;

impl Shared {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A panic cannot leave the queue half-changed: take it as it is.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Write every queued block, in order; whether any was written.
    fn drain(&self) -> bool {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let mut wrote = false;
        loop {
            // The queue's lock is let go before the write: runs queue meanwhile.
            let next = self.queue().blocks.pop_front();
            let Some(mut b) = next else { break };
            if out.failed.is_none()
                && let Err(e) = out.file.write_all(&b)
            {
                out.failed = Some(e.to_string());
            }
            b.clear();
            self.queue().spare.push(b);
            wrote = true;
        }
        wrote
    }

    fn failed(&self) -> Option<String> {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).failed.clone()
    }

    /// The writer thread's loop.
    fn serve(&self) {
        // Blocks ready for the first runs, their pages touched here rather
        // than on a run's thread.
        for _ in 0..SPARE_BLOCKS {
            let mut b = Vec::with_capacity(BLOCK);
            b.resize(BLOCK, b' ');
            b.clear();
            self.queue().spare.push(b);
        }
        let mut idle = 0;
        loop {
            if self.drain() {
                idle = 0;
                continue;
            }
            let mut q = self.queue();
            if q.closed && q.blocks.is_empty() {
                return;
            }
            idle += 1;
            if idle < IDLE_POLLS {
                drop(q);
                std::thread::sleep(POLL);
                continue;
            }
            q.asleep = true;
            while q.blocks.is_empty() && !q.closed {
                q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            q.asleep = false;
            idle = 0;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.queue().closed = true;
        self.shared.wake.notify_one();
    }
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
        let file = std::fs::File::create(path)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: std::sync::Condvar::new(),
            out: Mutex::new(Out { file, failed: None }),
        });
        let started = std::thread::Builder::new().name("prospero-trace".into()).spawn({
            let shared = shared.clone();
            move || shared.serve()
        });
        Ok(match started {
            Ok(_) => TraceSink(Arc::new(Sink::Thread(Writer { shared }))),
            // No thread to be had: runs write their blocks themselves.
            Err(_) => match Arc::try_unwrap(shared) {
                Ok(s) => TraceSink::writer(s.out.into_inner().unwrap_or_else(|e| e.into_inner()).file),
                Err(_) => TraceSink::writer(std::fs::OpenOptions::new().append(true).open(path)?),
            },
        })
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

    /// An empty block to write events into: a written one when there is
    /// one spare, else a new one.
    fn block(&self) -> Vec<u8> {
        let spare = match &*self.0 {
            Sink::Thread(t) => t.shared.queue().spare.pop(),
            Sink::Direct(_) => None,
        };
        spare.unwrap_or_else(|| Vec::with_capacity(BLOCK))
    }

    /// Write (or queue) `block`; gives back an empty buffer for the next
    /// (without capacity when `more` is false: the run has ended).
    fn write_block(&self, mut block: Vec<u8>, more: bool) -> std::io::Result<Vec<u8>> {
        match &*self.0 {
            Sink::Direct(w) => {
                let mut w = w.lock().map_err(|_| std::io::Error::other("trace sink poisoned"))?;
                w.write_all(&block)?;
                w.flush()?;
                block.clear();
                Ok(block)
            }
            Sink::Thread(t) => {
                let mut q = t.shared.queue();
                q.blocks.push_back(block);
                let asleep = q.asleep;
                let next = if more { q.spare.pop() } else { None };
                drop(q);
                if asleep {
                    t.shared.wake.notify_one();
                }
                Ok(match next {
                    Some(b) => b,
                    None if more => Vec::with_capacity(BLOCK),
                    None => Vec::new(),
                })
            }
        }
    }

    /// Wait until everything written so far is in the file: queued blocks
    /// are written by the caller unless the writer thread is at them.
    fn sync(&self) -> std::io::Result<()> {
        match &*self.0 {
            Sink::Direct(w) => w.lock().map_err(|_| std::io::Error::other("trace sink poisoned"))?.flush(),
            Sink::Thread(t) => {
                t.shared.drain();
                t.shared.failed().map_or(Ok(()), |e| Err(std::io::Error::other(e)))
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
/// A block's capacity: room for the event that crosses `FLUSH_AT`.
const BLOCK: usize = FLUSH_AT + 16 * 1024;
/// Blocks a writer thread prepares when it starts: a run fills its first
/// block while the second is being written, and then takes back written
/// ones, so a traced run allocates none.
const SPARE_BLOCKS: usize = 2;

/// Buffers one run's events and writes them to the sink in blocks, so
/// concurrent runs do not interleave mid-line.
pub(crate) struct Recorder {
    sink: TraceSink,
    buf: Vec<u8>,
    seq: u64,
    /// `,"run":<run id>,"seq":`, the same in every event of the run.
    run_part: Vec<u8>,
    /// `{"event":"step"` and `run_part`: the start of every step event.
    step_head: Vec<u8>,
    /// First write error, reported once in the run's notes.
    pub error: Option<String>,
    /// Bytes handed to the sink so far (the trace-size budget).
    handed: u64,
}

impl Recorder {
    pub fn new(sink: TraceSink, run: &str) -> Recorder {
        let mut run_part = b",\"run\":".to_vec();
        crate::value::write_json_str(&mut run_part, run);
        run_part.extend_from_slice(b",\"seq\":");
        let step_head = [b"{\"event\":\"step\"".as_slice(), &run_part].concat();
        let buf = sink.block();
        Recorder { sink, buf, seq: 0, run_part, step_head, error: None, handed: 0 }
    }

    /// Start a step event in place: the block is handed out with the
    /// event's start (`event`, `run`, `seq`) and a comma written, for the
    /// members to follow; [`Recorder::end_step`] takes it back. Writing
    /// into the block saves copying each line from a buffer of its own.
    pub fn begin_step(&mut self) -> Vec<u8> {
        let mut b = std::mem::take(&mut self.buf);
        b.extend_from_slice(&self.step_head);
        b.extend_from_slice(itoa::Buffer::new().format(self.seq).as_bytes());
        b.push(b',');
        self.seq += 1;
        b
    }

    /// Close the step event begun with [`Recorder::begin_step`].
    pub fn end_step(&mut self, mut block: Vec<u8>) {
        block.extend_from_slice(b"}\n");
        self.buf = block;
        if self.buf.len() > FLUSH_AT {
            self.hand_off(true);
        }
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
            self.hand_off(true);
        }
    }

    /// Hand the buffered events to the sink; `more`: events will follow.
    fn hand_off(&mut self, more: bool) {
        if self.buf.is_empty() {
            return;
        }
        self.handed += self.buf.len() as u64;
        match self.sink.write_block(std::mem::take(&mut self.buf), more) {
            Ok(empty) => self.buf = empty,
            Err(e) => {
                self.error.get_or_insert_with(|| format!("trace not written: {e}"));
                self.buf = Vec::with_capacity(BLOCK);
            }
        }
    }

    /// Bytes of trace this run has written or buffered.
    pub fn bytes(&self) -> u64 {
        self.handed + self.buf.len() as u64
    }

    /// Write everything buffered and wait until it is written.
    pub fn flush(&mut self) {
        // The block goes back to the writer's spares for the sink's next run.
        self.hand_off(false);
        if let Err(e) = self.sink.sync() {
            self.error.get_or_insert_with(|| format!("trace not written: {e}"));
        }
    }

    pub fn sink(&self) -> TraceSink {
        self.sink.clone()
    }
}

/// What a step's events hold that is the same at every visit, rendered
/// once when the program is built, so a traced step mostly copies text.
///
/// A step event's members come in this order: `script`, `id`, `action`,
/// `caption`, `inputs` (the [`StepText::head`]), `outputs`, `result`,
/// `branch`, `next`, `depth` (a [`StepText::tails`] entry when the result
/// names a branch), then `changed`, `clock`, `duration_us` and the
/// optional members.
#[derive(Debug)]
pub(crate) struct StepText {
    /// `"script":…,"id":…,"action":…,"caption":…,"inputs":`, followed by
    /// the inputs object itself when none of it changes between visits.
    head: Box<[u8]>,
    /// Where the inputs object starts in `head` (`head.len()` when it is
    /// written at each visit).
    inputs_at: usize,
    /// How the inputs appear.
    pub inputs: InputsJson,
    /// Per manifest branch: `,"outputs":{},"result":…,"branch":…,"next":…,"depth":`
    /// for a result of the branch's own name (`next` is the branch's
    /// target, or `null`).
    tails: Box<[Box<[u8]>]>,
}

/// The start of every rendered tail: no outputs.
const NO_OUTPUTS: &[u8] = b",\"outputs\":{}";

impl StepText {
    /// Render step `id` of script `script`; `next[i]` is the id manifest
    /// branch `i` leads to.
    pub fn new(
        script: &str,
        id: &str,
        caption: &str,
        manifest: &Manifest,
        plans: &[PropPlan],
        next: &[Option<&str>],
    ) -> StepText {
        let mut head = b"\"script\":".to_vec();
        write_json_str(&mut head, script);
        head.extend_from_slice(b",\"id\":");
        write_json_str(&mut head, id);
        head.extend_from_slice(b",\"action\":");
        write_json_str(&mut head, &manifest.name);
        head.extend_from_slice(b",\"caption\":");
        write_json_str(&mut head, caption);
        head.extend_from_slice(b",\"inputs\":");
        let inputs_at = head.len();
        let inputs = InputsJson::new(manifest, plans);
        if inputs.is_fixed() {
            inputs.write(&mut head, &[]);
        }
        let tails = manifest
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut t = NO_OUTPUTS.to_vec();
                write_result(&mut t, &b.name, &b.name, next.get(i).copied().flatten().unwrap_or(""));
                t.into_boxed_slice()
            })
            .collect();
        StepText { head: head.into_boxed_slice(), inputs_at, inputs, tails }
    }

    /// The head; `with_inputs`: with the inputs object when it holds one.
    pub fn head(&self, with_inputs: bool) -> &[u8] {
        if with_inputs { &self.head } else { &self.head[..self.inputs_at] }
    }

    /// Whether the head holds the inputs object.
    pub fn has_inputs(&self) -> bool {
        self.inputs_at < self.head.len()
    }

    /// The tail for a result naming manifest branch `i`.
    pub fn tail(&self, i: usize) -> Option<&[u8]> {
        self.tails.get(i).map(|t| &t[..])
    }

    /// Write `outputs` (`"name":value,...`) and the rendered `tail`.
    pub fn write_tail(out: &mut Vec<u8>, outputs: &[u8], tail: &[u8]) {
        if outputs.is_empty() {
            out.extend_from_slice(tail);
        } else {
            write_outputs(out, outputs);
            out.extend_from_slice(&tail[NO_OUTPUTS.len()..]);
        }
    }
}

/// `,"outputs":{…}`.
pub(crate) fn write_outputs(out: &mut Vec<u8>, outputs: &[u8]) {
    out.extend_from_slice(b",\"outputs\":{");
    out.extend_from_slice(outputs);
    out.push(b'}');
}

/// `,"result":…,"branch":…,"next":…,"depth":` (`next` empty: `null`).
pub(crate) fn write_result(out: &mut Vec<u8>, result: &str, branch: &str, next: &str) {
    out.extend_from_slice(b",\"result\":");
    write_json_str(out, result);
    out.extend_from_slice(b",\"branch\":");
    write_json_str(out, branch);
    out.extend_from_slice(b",\"next\":");
    if next.is_empty() {
        out.extend_from_slice(b"null");
    } else {
        write_json_str(out, next);
    }
    out.extend_from_slice(b",\"depth\":");
}

/// Writes a run's clock readings as JSON strings in `to_rfc3339`'s form
/// (`2026-11-21T15:00:00.123456+00:00`, with as many fraction digits as
/// the reading needs), keeping the text up to the minute from one reading
/// to the next: a run on the real clock writes one reading per step, and
/// formatting each from scratch would cost more than the rest of the event.
#[derive(Debug, Default)]
pub(crate) struct ClockText {
    /// The minute (seconds since the epoch / 60) `prefix` is for.
    minute: Option<i64>,
    /// `"2026-11-21T15:00:` with the opening quote.
    prefix: Vec<u8>,
}

impl ClockText {
    pub fn write(&mut self, out: &mut Vec<u8>, t: chrono::DateTime<chrono::Utc>) {
        use chrono::Datelike;
        let secs = t.timestamp();
        let nanos = t.timestamp_subsec_nanos();
        let minute = secs.div_euclid(60);
        // Leap seconds and years outside 0..=9999 are left to chrono.
        if nanos >= 1_000_000_000 {
            write_json_str(out, &t.to_rfc3339());
            return;
        }
        if self.minute != Some(minute) {
            if !(0..=9999).contains(&t.year()) {
                write_json_str(out, &t.to_rfc3339());
                return;
            }
            self.prefix.clear();
            self.prefix.push(b'"');
            self.prefix.extend_from_slice(t.format("%Y-%m-%dT%H:%M:").to_string().as_bytes());
            self.minute = Some(minute);
        }
        out.extend_from_slice(&self.prefix);
        let second = secs.rem_euclid(60) as u8;
        out.extend_from_slice(&[b'0' + second / 10, b'0' + second % 10]);
        let (digits, fraction) = match nanos {
            0 => (0, 0),
            n if n % 1_000_000 == 0 => (3, n / 1_000_000),
            n if n % 1_000 == 0 => (6, n / 1_000),
            n => (9, n),
        };
        if digits > 0 {
            // A leading 1 keeps the fraction's zeros: 1_000_120 → "000120".
            let mut text = itoa::Buffer::new();
            let text = text.format(fraction + 10u32.pow(digits));
            out.push(b'.');
            out.extend_from_slice(&text.as_bytes()[1..]);
        }
        out.extend_from_slice(b"+00:00\"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn written(c: &mut ClockText, t: DateTime<Utc>) -> String {
        let mut out = Vec::new();
        c.write(&mut out, t);
        String::from_utf8(out).unwrap()
    }

    /// Wait (up to 10 s) until `path` holds `len` bytes.
    fn wait_for_len(path: &Path, len: u64) -> bool {
        for _ in 0..1000 {
            if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == len {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    #[test]
    fn the_writer_thread_writes_queued_blocks_and_wakes_for_new_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.trace");
        let sink = TraceSink::file(&path).unwrap();
        let spare = sink.write_block(b"one\n".to_vec(), true).unwrap();
        assert!(spare.is_empty() && spare.capacity() > 0);
        // Written by the thread, without a sync.
        assert!(wait_for_len(&path, 4), "the writer thread wrote the block");
        // Long enough for the thread to stop looking and sleep.
        std::thread::sleep(POLL * IDLE_POLLS * 2);
        sink.write_block(b"two\n".to_vec(), false).unwrap();
        assert!(wait_for_len(&path, 8), "the sleeping writer thread was woken");
        sink.sync().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }

    #[test]
    fn runs_sharing_a_file_write_whole_blocks_in_their_own_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.trace");
        let sink = TraceSink::file(&path).unwrap();
        let path = &path;
        std::thread::scope(|s| {
            for w in 0..4 {
                let sink = sink.clone();
                s.spawn(move || {
                    let mut block = sink.block();
                    for i in 0..2_000 {
                        block.extend_from_slice(format!("{w} {i} {}\n", "x".repeat(i % 300)).as_bytes());
                        if block.len() > 4096 {
                            block = sink.write_block(block, true).unwrap();
                        }
                    }
                    sink.write_block(block, false).unwrap();
                    // A run's report waits for this: its lines are all in.
                    sink.sync().unwrap();
                    let text = std::fs::read_to_string(path).unwrap();
                    let prefix = format!("{w} ");
                    assert_eq!(text.lines().filter(|l| l.starts_with(&prefix)).count(), 2_000);
                });
            }
        });
        sink.sync().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let mut next = [0usize; 4];
        for line in text.lines() {
            let mut parts = line.split(' ');
            let w: usize = parts.next().unwrap().parse().unwrap();
            let i: usize = parts.next().unwrap().parse().unwrap();
            assert_eq!(i, next[w], "writer {w}'s lines in order, none lost");
            assert_eq!(parts.next().unwrap().len(), i % 300, "whole line");
            next[w] += 1;
        }
        assert_eq!(next, [2_000; 4]);
    }

    #[test]
    fn clock_text_is_chronos_rfc3339() {
        let mut c = ClockText::default();
        let mut check = |t: DateTime<Utc>| {
            let want = serde_json::to_string(&t.to_rfc3339()).unwrap();
            assert_eq!(written(&mut c, t), want, "{t:?}");
        };
        // Fractions of every length, minute and day boundaries, before
        // 1970, and the ends of four-digit years.
        let base = Utc.with_ymd_and_hms(2026, 11, 21, 15, 59, 58).unwrap();
        for nanos in
            [0, 1, 7, 999, 1_000, 120_000, 999_000, 1_000_000, 5_000_000, 100_000_000, 123_456_789, 999_999_999]
        {
            for secs in [0, 1, 2, 61, 86_399, 86_400, -1, -59, -60, -61] {
                check(base + chrono::Duration::seconds(secs) + chrono::Duration::nanoseconds(nanos));
            }
        }
        check(Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap());
        check(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap());
        check(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap());
        // A pseudo-random walk of readings, as a run's steps give.
        let mut t = base;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t += chrono::Duration::nanoseconds((x % 3_000_000_000) as i64);
            check(t);
        }
    }

    #[test]
    fn clock_text_leaves_leap_seconds_and_years_past_9999_to_chrono() {
        let mut c = ClockText::default();
        let rfc = |t: DateTime<Utc>| serde_json::to_string(&t.to_rfc3339()).unwrap();
        let t = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(written(&mut c, t), rfc(t));
        // A leap second within a minute already written.
        let before = Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 58).unwrap();
        assert_eq!(written(&mut c, before), rfc(before));
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        assert_eq!(written(&mut c, leap), rfc(leap));
        assert!(rfc(leap).contains(":60."), "{}", rfc(leap));
    }
}

/// Deepest nesting a trace line may have: a value nested to the hard limit
/// ([`crate::value::HARD_DEPTH`]) inside an event's members.
pub const MAX_LINE_DEPTH: usize = crate::value::HARD_DEPTH as usize + 8;

/// Why a trace line could not be read.
#[derive(Debug)]
pub struct LineError {
    /// Column (1-based) of the problem.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Read one trace line as JSON. A trace holds values nested as deep as a
/// run allows, deeper than serde_json's default reader accepts (128), so
/// the nesting is first checked against [`MAX_LINE_DEPTH`] by a scan that
/// uses no stack, and only then read without serde_json's own limit.
pub fn parse_line<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, LineError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in raw.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_LINE_DEPTH {
                    return Err(LineError {
                        column: i + 1,
                        message: format!("nested deeper than {MAX_LINE_DEPTH} levels"),
                    });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    de.disable_recursion_limit();
    let v = T::deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    v.map_err(|e| LineError { column: e.column(), message: e.to_string() })
}

/// The `next` of a RUNSUB's step event: the sub script it entered.
pub fn call_marker(script: &str) -> String {
    format!("(call {script})")
}

/// The `next` of a RUNSCRIPT's step event: the script it continued in.
pub fn transfer_marker(script: &str) -> String {
    format!("(transfer {script})")
}

/// The script a step event's `next` names, when it is a
/// [`call_marker`] or [`transfer_marker`] rather than an action id.
pub fn marked_script(next: &str) -> Option<&str> {
    let inner = next.strip_prefix('(')?.strip_suffix(')')?;
    inner.strip_prefix("call ").or_else(|| inner.strip_prefix("transfer "))
}

#[cfg(test)]
mod marker_tests {
    use super::*;

    #[test]
    fn script_markers_are_read_back_as_written() {
        assert_eq!(marked_script(&call_marker("greeting")), Some("greeting"));
        assert_eq!(marked_script(&transfer_marker("next step")), Some("next step"));
        assert_eq!(marked_script("done"), None);
        assert_eq!(marked_script("(call greeting"), None);
    }
}
