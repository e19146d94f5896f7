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
//! trace file.
//!
//! | file | owns |
//! |---|---|
//! | `sink.rs` | where traces go: files (written by a thread of their own), writers, memory |
//! | `record.rs` | trace writing: a run's events, buffered in blocks; step events written as text |
//! | `step.rs` | what a step's events hold at every visit, rendered once per program; clock readings |
//! | `read.rs` | reading traces back, for replay and graph export; the script markers of `next` |

mod read;
mod record;
mod sink;
mod step;

pub use read::{
    Event, LineError, MAX_LINE_DEPTH, ReadError, call_marker, events, marked_script, parse_line, transfer_marker,
};
pub(crate) use record::{Gathered, NO_BRANCH, Recorder, RunEnd, RunHeader, StepEnd, StepTrace, StepWriter, Tail};
pub use sink::{SharedBuf, TraceSink};
pub(crate) use step::StepText;
