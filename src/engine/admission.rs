//! The process-wide cap on runs executing at once.
//!
//! Budgets bound one run; this bounds how many there are. Every run, root
//! or spawned, holds a `RunSlot` from start to report, in every
//! [`Runtime`](super::Runtime) of the process. At the cap a root run is
//! refused before it starts (its report says `budget_exceeded` with
//! [`BUSY`] at the head of the error, the answer an HTTP service gives as
//! 503), and a SPAWN ends its run `budget_exceeded`.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Default cap on runs executing at once in one process.
pub const DEFAULT_MAX_CONCURRENT_RUNS: usize = 1024;

/// The start of the error of a run refused at the cap.
pub const BUSY: &str = "too many concurrent runs";

static LIVE: AtomicUsize = AtomicUsize::new(0);
static CAP: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_CONCURRENT_RUNS);

/// Set the cap on runs executing at once in this process (at least 1).
pub fn set_max_concurrent_runs(n: usize) {
    CAP.store(n.max(1), Ordering::SeqCst);
}

/// The cap on runs executing at once in this process.
pub fn max_concurrent_runs() -> usize {
    CAP.load(Ordering::SeqCst)
}

/// Runs executing now in this process.
pub fn concurrent_runs() -> usize {
    LIVE.load(Ordering::SeqCst)
}

/// A place among the runs executing at once, given back when dropped.
#[derive(Debug)]
pub(crate) struct RunSlot(());

impl Drop for RunSlot {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A slot, or `None` at the cap.
pub(crate) fn admit() -> Option<RunSlot> {
    let cap = max_concurrent_runs();
    LIVE.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| (live < cap).then_some(live + 1)).ok()?;
    Some(RunSlot(()))
}

/// The error of a run (or SPAWN) refused at the cap.
pub(crate) fn busy_message() -> String {
    format!("{BUSY}: this process runs at most {} at once", max_concurrent_runs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let before = concurrent_runs();
        let a = admit().expect("below the default cap");
        assert_eq!(concurrent_runs(), before + 1);
        drop(a);
        assert_eq!(concurrent_runs(), before);
    }
}
