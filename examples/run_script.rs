//! Embedding Prospero: build a runtime, load a script, run it, read the report.
//!
//! Run with `cargo run --example run_script`.

use prospero::{RunOptions, RunStatus, Runtime};
use std::process::ExitCode;

/// A small script in Prospero's native JSON format. BEGIN names the first
/// parameter `caller`; `{...}` in ASSIGN values is substituted when the action
/// runs; IF evaluates a snippet expression and follows True or False.
const SCRIPT: &str = r#"{
  "name": "greet_caller",
  "actions": [
    {"id": "start", "action": "BEGIN", "Parameters": ["caller"], "next": "greet"},
    {"id": "greet", "action": "ASSIGN", "Variable": "greeting",
     "Value": "Hello, {caller}! It is {now()}.", "next": "vip"},
    {"id": "vip", "action": "IF", "Expression": "caller = \"Ada\"",
     "branches": {"True": "gold", "False": "standard"}},
    {"id": "gold", "action": "ASSIGN", "Variable": "queue", "Value": "gold", "next": "done"},
    {"id": "standard", "action": "ASSIGN", "Variable": "queue", "Value": "standard", "next": "done"},
    {"id": "done", "action": "RETURN", "ReturnValue": "{greeting} Routing to the {queue} queue."}
  ]
}"#;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    // One runtime per process is enough: it is cheap to clone and shared by
    // every run. The store is only opened when something needs it; an
    // in-memory SQLite database keeps this example self-contained.
    let runtime = Runtime::builder().db("sqlite::memory:").build();

    // Parse the text (format detected from its shape), then check it against
    // the action catalog and compile it. Check errors are all reported at once.
    let script = prospero::script::load_text(SCRIPT, None)?;
    let program = runtime.load_script(script)?;

    // Run with one named parameter on a virtual clock: `now()` reads this
    // instant, and WAIT would advance it without sleeping.
    let opts = RunOptions::new().param("caller", "Ada").at("2026-03-08T14:30:00Z".parse()?);
    let report = runtime.run(&program, opts).await?;

    println!("status:  {}", report.status.name());
    if let Some(value) = &report.return_value {
        println!("return:  {}", value.to_text());
    }
    println!("variables:");
    for (name, value) in report.variables.iter() {
        println!("  {name} = {}", value.to_text());
    }
    println!(
        "path:    {}",
        report.path.iter().map(|s| format!("{}:{}", s.id, s.branch)).collect::<Vec<_>>().join(" -> ")
    );

    if report.status != RunStatus::Completed {
        eprintln!("run did not complete: {}", report.error.as_deref().unwrap_or("no reason given"));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
