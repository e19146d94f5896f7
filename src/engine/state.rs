//! The state of one run: its frames (one per script activation), clock,
//! budgets, trace recorder and replay state, and how a run starts.
//!
//! The loop that moves this state forward is in `run.rs`; what an action
//! may touch of it goes through [`super::context::Context`].

use super::Runtime;
use super::budget::Budgets;
use super::clock::RunClock;
use super::path::RunPath;
use super::program::Program;
use super::replay::{Mocks, ReplayState};
use super::report::Failure;
use super::trace::{Recorder, StepWriter, TraceSink};
use super::vars::Vars;
use crate::snippet::{CompiledExpr, Limits};
use crate::value::{Value, VarTarget};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// A RUNSUB waiting for its sub script.
pub(crate) struct CallSite {
    pub(super) return_var: Option<VarTarget>,
    /// Index in the path of the RUNSUB entry (its branch is settled on return).
    pub(super) path_index: usize,
}

/// One script's activation.
pub(crate) struct Frame {
    pub program: Arc<Program>,
    /// Index of `program` in the run's path.
    pub(super) program_index: u32,
    pub pc: usize,
    pub vars: Vars,
    /// Per-action state (LOOP and FOR counters), by action index.
    pub state: HashMap<usize, Option<Value>, foldhash::fast::FixedState>,
    pub(super) call: Option<CallSite>,
}

/// The state of one run.
pub(crate) struct RunCore {
    pub id: String,
    pub runtime: Runtime,
    pub frames: Vec<Frame>,
    pub clock: RunClock,
    pub step_now: DateTime<Utc>,
    pub tz: chrono_tz::Tz,
    pub rng: u64,
    pub seed: u64,
    pub budgets: Budgets,
    pub limits: Limits,
    pub(super) started: Instant,
    pub steps: u64,
    pub(super) path: RunPath,
    pub(super) notes: Vec<String>,
    pub trace: Option<Recorder>,
    pub step_notes: Vec<String>,
    pub step_answers: Vec<serde_json::Value>,
    pub(super) drawn: Vec<f64>,
    pub(super) expr_cache: HashMap<String, Arc<CompiledExpr>>,
    /// The input buffer, reused from step to step.
    pub(super) spare: Vec<Value>,
    /// Counts frame pushes, pops and transfers, so the run loop knows when
    /// to pick up the current program again.
    pub(super) frame_changes: u64,
    pub(super) spawned: u64,
    pub(super) spawn_depth: u32,
    pub(super) spawn_total: Arc<std::sync::atomic::AtomicU64>,
    /// This run's place among the process's concurrent runs.
    pub(crate) slot: Option<super::admission::RunSlot>,
    pub(super) root_name: Arc<str>,
    pub(super) params_json: serde_json::Value,
    /// Replaying: the trace's steps and the first divergence.
    pub(super) replay: Option<Box<ReplayState>>,
    /// Canned answers for chosen actions.
    pub(super) mocks: Option<Mocks>,
    /// Writes the step events (for a trace, or for a replay to compare).
    pub(super) events: StepWriter,
    /// The failure a script failed with, where it happened, until a
    /// caller's branch handles it or the run ends with it.
    pub(super) pending: Option<Failure>,
    /// Failures branches handled (the first few).
    pub(super) handled: Vec<Failure>,
    /// Who the run acts for.
    pub(super) principal: Arc<super::Principal>,
}

/// Settings a run starts with.
pub(crate) struct Start {
    pub id: String,
    pub program: Arc<Program>,
    pub params: Vec<Value>,
    pub clock: RunClock,
    pub tz: chrono_tz::Tz,
    pub seed: u64,
    pub budgets: Budgets,
    pub trace: Option<TraceSink>,
    pub params_json: serde_json::Value,
    pub replay: Option<ReplayState>,
    pub mocks: Option<Mocks>,
    /// Who the run acts for (SPAWNed runs inherit it).
    pub principal: Arc<super::Principal>,
    /// How many SPAWNs led to this run (0 for a root run).
    pub spawn_depth: u32,
    /// Runs spawned so far from this run's root, all generations.
    pub spawn_total: Arc<std::sync::atomic::AtomicU64>,
}

impl RunCore {
    pub fn new(runtime: Runtime, s: Start) -> RunCore {
        let mut vars = Vars::new();
        if s.trace.is_some() || s.replay.is_some() {
            vars.record_changes();
        }
        let vars = seed_params(vars, s.params);
        let begin = s.program.begin;
        let root_name = s.program.name.clone();
        let limits = s.budgets.limits();
        let now = s.clock.now();
        let mut path = RunPath::default();
        let root_index = path.program_index(&s.program);
        RunCore {
            trace: s.trace.map(|sink| Recorder::new(sink, &s.id)),
            id: s.id,
            runtime,
            frames: vec![Frame {
                program: s.program,
                program_index: root_index,
                pc: begin,
                vars,
                state: HashMap::default(),
                call: None,
            }],
            clock: s.clock,
            step_now: now,
            tz: s.tz,
            rng: s.seed,
            seed: s.seed,
            budgets: s.budgets,
            limits,
            started: Instant::now(),
            steps: 0,
            path,
            notes: Vec::new(),
            step_notes: Vec::new(),
            step_answers: Vec::new(),
            drawn: Vec::new(),
            expr_cache: HashMap::new(),
            spare: Vec::new(),
            frame_changes: 0,
            spawned: 0,
            spawn_depth: s.spawn_depth,
            spawn_total: s.spawn_total,
            slot: None,
            root_name,
            params_json: s.params_json,
            replay: s.replay.map(Box::new),
            mocks: s.mocks,
            events: StepWriter::new(),
            pending: None,
            handled: Vec::new(),
            principal: s.principal,
        }
    }

    pub fn frame(&self) -> &Frame {
        self.frames.last().expect("a run always has a frame")
    }

    pub fn frame_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a run always has a frame")
    }
}

pub(super) fn seed_params(mut vars: Vars, params: Vec<Value>) -> Vars {
    for (i, v) in params.into_iter().enumerate() {
        vars.set(&format!("p{}", i + 1), v);
    }
    vars
}
