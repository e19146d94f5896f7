//! The core pack: what every script uses whatever its domain. BEGIN and
//! the terminators, WAIT, TRACE, TIMEZONE, ASSIGN, IF, CASE, LOOP, FOR,
//! SNIPPET, RUNSUB, RETURN, RUNSCRIPT and SPAWN. It stores nothing.

mod assign;
mod branching;
mod calls;
mod flow;
mod loops;
mod snippet;

pack! {
    /// The core pack.
    Core = "core",
    actions: [
        flow::Begin,
        flow::Terminate("END"),
        flow::Terminate("HANGUP"),
        flow::Terminate("EXIT"),
        flow::Terminate("DISCARD"),
        flow::Wait,
        flow::Trace,
        flow::TimeZone,
        assign::Assign,
        branching::If,
        branching::Case,
        loops::Loop,
        loops::For,
        snippet::Snippet,
        calls::RunSub,
        calls::Return,
        calls::RunScript,
        calls::Spawn,
    ],
}
