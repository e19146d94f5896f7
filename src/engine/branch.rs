//! Branch choice: which branch of a step a result takes, and the action
//! it leads to. A wired branch named by the result wins; otherwise
//! Default, when it is wired.

use super::path::BranchRef;
use super::program::Step;
use crate::value::Value;

/// The branch a choice settled on.
pub(super) enum Taken {
    /// A branch of the step (wired or not).
    Ref(BranchRef),
    /// Nothing wired and the result names no branch of the action.
    Unmatched,
}

/// The step's Default branch (none for a terminating action).
pub(super) fn default_ref(step: &Step) -> BranchRef {
    step.manifest.default_branch().map(|d| BranchRef::Manifest(d as u32)).unwrap_or(BranchRef::None)
}

/// The name of branch `taken` of `step`, for a result named `result`
/// (a result no branch matched goes by its own name).
pub(super) fn branch_name<'a>(step: &'a Step, taken: BranchRef, result: &'a str) -> &'a str {
    match taken {
        BranchRef::None => "",
        BranchRef::Manifest(i) => step.manifest.branches.get(i as usize).map_or("", |b| b.name.as_str()),
        BranchRef::Custom(i) => step.linked.custom.get(i as usize).map_or("", |c| c.0.as_str()),
        BranchRef::Other(_) => result,
    }
}

/// Pick the branch for `result`: the wired branch of that name, else
/// Default. Returns the branch taken and the next action.
pub(super) fn choose(step: &Step, result: &str) -> (Taken, Option<usize>) {
    let m = &step.manifest;
    let named = m.branch(result);
    if let Some(i) = named {
        if let Some(n) = step.linked.next.get(i).copied().flatten() {
            return (Taken::Ref(BranchRef::Manifest(i as u32)), Some(n));
        }
    } else if m.custom_branches {
        let custom = &step.linked.custom;
        let probe = Value::text(result);
        let numeric = |name: &str| {
            let v = Value::text(name);
            v.as_number().is_some() && v.loose_eq(&probe)
        };
        let found = custom
            .iter()
            .position(|(name, _)| name == result)
            .or_else(|| custom.iter().position(|(name, _)| name.eq_ignore_ascii_case(result)))
            .or_else(|| custom.iter().position(|(name, _)| numeric(name)));
        if let Some(k) = found {
            return (Taken::Ref(BranchRef::Custom(k as u32)), Some(custom[k].1));
        }
    }
    let default = m.default_branch().and_then(|d| step.linked.next.get(d).copied().flatten().map(|n| (d, n)));
    match (default, named) {
        (Some((d, n)), _) => (Taken::Ref(BranchRef::Manifest(d as u32)), Some(n)),
        (None, Some(i)) => (Taken::Ref(BranchRef::Manifest(i as u32)), None),
        (None, None) => (Taken::Unmatched, None),
    }
}
