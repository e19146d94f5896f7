//! Where traces go: a [`TraceSink`] takes whole blocks of events from
//! runs and writes them to a file (on a writer thread of its own) or to
//! any writer, so concurrent runs never interleave mid-line and a run's
//! report comes back only once its last block is in the file.

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
    pub(super) fn block(&self) -> Vec<u8> {
        let spare = match &*self.0 {
            Sink::Thread(t) => t.shared.queue().spare.pop(),
            Sink::Direct(_) => None,
        };
        spare.unwrap_or_else(|| Vec::with_capacity(BLOCK))
    }

    /// Write (or queue) `block`; gives back an empty buffer for the next
    /// (without capacity when `more` is false: the run has ended).
    pub(super) fn write_block(&self, mut block: Vec<u8>, more: bool) -> std::io::Result<Vec<u8>> {
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
    pub(super) fn sync(&self) -> std::io::Result<()> {
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
pub(super) const FLUSH_AT: usize = 256 * 1024;
/// A block's capacity: room for the event that crosses `FLUSH_AT`.
pub(super) const BLOCK: usize = FLUSH_AT + 16 * 1024;
/// Blocks a writer thread prepares when it starts: a run fills its first
/// block while the second is being written, and then takes back written
/// ones, so a traced run allocates none.
const SPARE_BLOCKS: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

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
}
