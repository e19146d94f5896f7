//! Run budgets: how far a run may go before it is stopped.
//!
//! | budget | default | when hit |
//! |---|---|---|
//! | steps per run | 100,000 | the run ends with status `budget_exceeded` |
//! | wall clock per run | 5 minutes | the run ends with status `budget_exceeded` |
//! | call depth (RUNSUB nesting) | 32 | the RUNSUB takes `OnError`, `_ERR` names the limit |
//! | snippet operations per evaluation | 1,000,000 | the action takes `OnError` |
//! | string size | 1 MiB | the action takes `OnError` |
//! | array length | 1,000,000 | the action takes `OnError` |
//! | object members | 100,000 | the action takes `OnError` |
//! | value nesting (objects and arrays inside each other) | 256 levels (at most 1,024) | the action takes `OnError` |
//! | memory held by the run's values (estimated, snippets included) | 256 MiB | the run ends with status `budget_exceeded` |
//! | SPAWN depth (a spawned run spawning, ...) | 8 | the spawning run ends with status `budget_exceeded` |
//! | runs spawned from one root run, all generations | 1,000 | the spawning run ends with status `budget_exceeded` |
//! | trace bytes written by one run | 256 MiB | the run ends with status `budget_exceeded` (the trace ends with that status) |
//!
//! One more limit is process-wide rather than per run: the number of runs
//! executing at once (see [`super::admission`]).

use crate::snippet::Limits;
use std::time::Duration;

/// Limits on one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// Most actions a run may execute (sub scripts included).
    pub max_steps: u64,
    /// Longest real time a run may take.
    pub wall_clock: Duration,
    /// Deepest RUNSUB nesting.
    pub max_call_depth: usize,
    /// Most snippet operations per evaluation.
    pub snippet_operations: u64,
    /// Longest string, in bytes.
    pub max_string: usize,
    /// Longest array.
    pub max_array: usize,
    /// Most members of one object.
    pub max_object: usize,
    /// Deepest nesting of objects and arrays in one value (at most
    /// [`crate::value::HARD_DEPTH`]).
    pub max_depth: u32,
    /// Most bytes the run's values may hold (estimated, see
    /// [`crate::value::Extent`]).
    pub max_memory: u64,
    /// Deepest chain of SPAWNs (a root run is at depth 0).
    pub max_spawn_depth: u32,
    /// Most runs spawned from one root run, all generations together.
    pub max_spawns: u64,
    /// Most bytes of trace one run may write.
    pub max_trace_bytes: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_steps: 100_000,
            wall_clock: Duration::from_secs(300),
            max_call_depth: 32,
            snippet_operations: 1_000_000,
            max_string: 1 << 20,
            max_array: 1_000_000,
            max_object: 100_000,
            max_depth: crate::value::DEFAULT_MAX_DEPTH,
            max_memory: 256 << 20,
            max_spawn_depth: 8,
            max_spawns: 1_000,
            max_trace_bytes: 256 << 20,
        }
    }
}

impl Budgets {
    /// The value limits these budgets imply.
    pub fn value_limits(&self) -> crate::value::ValueLimits {
        crate::value::ValueLimits {
            max_array: self.max_array,
            max_object: self.max_object,
            max_depth: self.max_depth.min(crate::value::HARD_DEPTH),
        }
    }

    /// The snippet limits these budgets imply.
    pub fn limits(&self) -> Limits {
        Limits {
            operations: self.snippet_operations,
            string_size: self.max_string,
            array_size: self.max_array,
            object_size: self.max_object,
            call_depth: 64,
            max_depth: self.max_depth.min(crate::value::HARD_DEPTH),
            memory: self.max_memory,
        }
    }

    /// As JSON, for traces.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "max_steps": self.max_steps,
            "wall_clock_ms": self.wall_clock.as_millis() as u64,
            "max_call_depth": self.max_call_depth,
            "snippet_operations": self.snippet_operations,
            "max_string": self.max_string,
            "max_array": self.max_array,
            "max_object": self.max_object,
            "max_depth": self.max_depth,
            "max_memory": self.max_memory,
            "max_spawn_depth": self.max_spawn_depth,
            "max_spawns": self.max_spawns,
            "max_trace_bytes": self.max_trace_bytes,
        })
    }
}
