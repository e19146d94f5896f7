//! The core pack: what every script uses whatever its domain. BEGIN and
//! the terminators, WAIT, TRACE, TIMEZONE, ASSIGN, IF, CASE, LOOP, FOR,
//! SNIPPET, RUNSUB, RETURN, RUNSCRIPT and SPAWN. It stores nothing.

mod assign;
mod branching;
mod calls;
mod flow;
mod loops;
mod snippet;

use crate::engine::action::Action;
use crate::engine::pack::Pack;
use std::sync::Arc;

/// The core pack.
pub struct Core;

impl Pack for Core {
    fn name(&self) -> &'static str {
        "core"
    }

    fn manifests(&self) -> &'static [(&'static str, &'static str)] {
        include!(concat!(env!("OUT_DIR"), "/manifests_core.rs"))
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![
            Arc::new(flow::Begin),
            Arc::new(flow::Terminate("END")),
            Arc::new(flow::Terminate("HANGUP")),
            Arc::new(flow::Terminate("EXIT")),
            Arc::new(flow::Terminate("DISCARD")),
            Arc::new(flow::Wait),
            Arc::new(flow::Trace),
            Arc::new(flow::TimeZone),
            Arc::new(assign::Assign),
            Arc::new(branching::If),
            Arc::new(branching::Case),
            Arc::new(loops::Loop),
            Arc::new(loops::For),
            Arc::new(snippet::Snippet),
            Arc::new(calls::RunSub),
            Arc::new(calls::Return),
            Arc::new(calls::RunScript),
            Arc::new(calls::Spawn),
        ]
    }
}
