//! Prospero: a runtime that loads, checks, runs, traces and replays
//! contact-center studio scripts.
//!
//! A script is a graph of actions (BEGIN, ASSIGN, IF, RUNSUB, ...) joined by
//! named result branches. Prospero reads scripts in three formats (its own
//! hand-writable JSON, web Studio JSON and Desktop Studio XML) into one
//! model, checks them against the action catalog, and runs them on tokio
//! with budgets, a clock that can be virtual, and an optional trace.
//!
//! ```
//! use prospero::{Runtime, RunOptions, RunStatus};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let script = prospero::script::load_text(r#"{
//!   "name": "hello",
//!   "actions": [
//!     {"id": "start", "action": "BEGIN", "Parameters": ["who"], "next": "greet"},
//!     {"id": "greet", "action": "ASSIGN", "Variable": "greeting",
//!      "Value": "Hello, {who}!", "next": "done"},
//!     {"id": "done", "action": "RETURN", "ReturnValue": "{greeting}"}
//!   ]
//! }"#, None).unwrap();
//! let runtime = Runtime::builder().db("sqlite::memory:").build();
//! let program = runtime.load_script(script).unwrap();
//! let report = runtime.run(&program, RunOptions::new().param("who", "Ada")).await.unwrap();
//! assert_eq!(report.status, RunStatus::Completed);
//! assert_eq!(report.return_value.unwrap().to_text(), "Hello, Ada!");
//! # });
//! ```
//!
//! | module | owns |
//! |---|---|
//! | [`value`] | text-first scalars, ordered objects, 1-based arrays, JSON |
//! | [`script`] | the script model, the three formats, the static checker |
//! | [`catalog`] | action manifests (`actions/*.toml`) |
//! | [`snippet`] | the snippet dialect, compiled to rhai |
//! | [`engine`] | the runtime, runs, budgets, clock, traces, replay |
//! | [`scripttest`] | script tests (`prospero test`): parameters, clock, mocks, expected path and variables |
//! | [`graph`] | Mermaid and DOT export, with a traced path highlighted |
//! | [`packs`] | the domain packs (`core`, `outbound`): manifests, actions with their tests, store traits; `Runtime::builder()` composes them |
//! | [`base`] | what every layer shares: positions, media types, time text and dates, the JSON escaper, the CSV reader, the record report |
//! | [`contacts`] | the contacts domain: contacts, organizations, notes, phone and email rules |
//! | [`addressbook`] | the address book: recipients, their statuses, the fixed 8-field import layout read line by line |
//! | [`outbound`] | the dialing domain: skills, sources, user fields, source maps, the CREATEPROSPECTS record pipeline, lead sources |
//! | [`timezone`] | zone names, phone numbers, per-number and per-record zones from versioned reference data |
//! | [`store`] | the core store trait (business units, run log), the SQLite and PostgreSQL backends, every pack's migrations in one history per backend |

#![warn(missing_docs)]
// Unsafe code is refused everywhere but in the one module that calls
// SQLite's C API for bulk writes (`store::sqlite::raw`), which allows it.
#![deny(unsafe_code)]

pub mod addressbook;
pub mod base;
pub mod catalog;
pub mod contacts;
pub mod engine;
pub mod graph;
pub mod outbound;
pub mod packs;
pub mod script;
pub mod scripttest;
pub mod snippet;
pub mod store;
pub mod timezone;
pub mod value;

/// Every error the library's entry points return, for a host that handles
/// them in one place: each converts with `?` (`From`), and the variants keep
/// the typed error so a host can still match on the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A script file did not load (format, size, syntax), with its location.
    #[error(transparent)]
    Load(#[from] script::LoadError),
    /// A script did not become a program (load, check, library).
    #[error(transparent)]
    Program(#[from] engine::program::LoadFailure),
    /// A run's parameters were refused.
    #[error(transparent)]
    Params(#[from] engine::ParamError),
    /// A store failed or refused.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// An action failed.
    #[error(transparent)]
    Action(#[from] engine::action::ActionError),
    /// A manifest did not parse.
    #[error(transparent)]
    Manifest(#[from] catalog::ManifestError),
    /// A trace did not read.
    #[error(transparent)]
    Trace(#[from] engine::replay::TraceError),
    /// Snippet text did not compile.
    #[error(transparent)]
    Snippet(#[from] snippet::SnippetError),
}

/// A result with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use catalog::{Catalog, Manifest};
pub use engine::action::{Action, ActionError, Context, Exec, Inputs, Outcome};
pub use engine::budget::Budgets;
pub use engine::program::{LoadFailure, Program};
pub use engine::trace::TraceSink;
pub use engine::{Failure, PathStep, Principal, RunOptions, RunPath, RunReport, RunStatus, Runtime, RuntimeBuilder};
pub use script::check::{Diagnostic, Severity};
pub use script::{LoadError, LoadLimits, Script};
pub use value::Value;
