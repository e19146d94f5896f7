//! The path a run took: every executed action and the branch it followed.
//!
//! Entries are recorded as indexes (program, action, branch) rather than
//! strings, so that recording one costs a few integer writes on the run's
//! hot loop; names are looked up when the path is read.

use super::program::Program;
use std::sync::Arc;

/// Which branch an entry followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BranchRef {
    /// A terminating action: no branch.
    None,
    /// A manifest branch, by index.
    Manifest(u32),
    /// A custom (CASE value) branch, by index.
    Custom(u32),
    /// A result name that matched no branch, by index into `others`.
    Other(u32),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct RawStep {
    program: u32,
    step: u32,
    branch: BranchRef,
    /// Executed inside a sub script (or after RUNSCRIPT moved on).
    nested: bool,
}

/// Every action a run executed, in order.
#[derive(Clone, Debug, Default)]
pub struct RunPath {
    programs: Vec<Arc<Program>>,
    entries: Vec<RawStep>,
    others: Vec<Arc<str>>,
}

/// One executed action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathStep<'a> {
    /// Action id.
    pub id: &'a str,
    /// Action type.
    pub action: &'a str,
    /// Branch followed (empty for terminating actions).
    pub branch: &'a str,
    /// The script the action belongs to, when it is not the root script.
    pub script: Option<&'a str>,
}

impl RunPath {
    /// Number of executed actions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing ran.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `i`.
    pub fn get(&self, i: usize) -> Option<PathStep<'_>> {
        self.entries.get(i).map(|e| self.view(e))
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = PathStep<'_>> + '_ {
        self.entries.iter().map(|e| self.view(e))
    }

    fn view(&self, e: &RawStep) -> PathStep<'_> {
        let program = &self.programs[e.program as usize];
        let step = &program.steps[e.step as usize];
        PathStep {
            id: &step.id,
            action: &step.kind,
            branch: self.branch_name(program, e.step as usize, e.branch),
            script: e.nested.then_some(program.script.name.as_str()),
        }
    }

    pub(crate) fn branch_name<'a>(&'a self, program: &'a Program, step: usize, b: BranchRef) -> &'a str {
        let step = &program.steps[step];
        match b {
            BranchRef::None => "",
            BranchRef::Manifest(i) => &step.manifest.branches[i as usize].name,
            BranchRef::Custom(i) => &step.linked.custom[i as usize].0,
            BranchRef::Other(i) => &self.others[i as usize],
        }
    }

    /// Index of `program` in this path's program list (added if new).
    pub(crate) fn program_index(&mut self, program: &Arc<Program>) -> u32 {
        match self.programs.iter().position(|p| Arc::ptr_eq(p, program)) {
            Some(i) => i as u32,
            None => {
                self.programs.push(program.clone());
                (self.programs.len() - 1) as u32
            }
        }
    }

    pub(crate) fn other(&mut self, name: &str) -> BranchRef {
        self.others.push(Arc::from(name));
        BranchRef::Other((self.others.len() - 1) as u32)
    }

    pub(crate) fn push(&mut self, program: u32, step: usize, branch: BranchRef, nested: bool) {
        self.entries.push(RawStep { program, step: step as u32, branch, nested });
    }

    pub(crate) fn set_branch(&mut self, i: usize, branch: BranchRef) {
        if let Some(e) = self.entries.get_mut(i) {
            e.branch = branch;
        }
    }
}
