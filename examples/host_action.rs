//! A host adds its own action: a manifest (what scripts and the checker see)
//! plus an implementation (what runs).
//!
//! Run with `cargo run --example host_action`.

use prospero::{Action, Context, Exec, Inputs, Manifest, Outcome, RunOptions, Runtime, Value};
use std::time::Duration;

/// The manifest, in the same TOML shape as the built-in `actions/*.toml`.
/// `media` is left out: an empty list means every media type.
const MANIFEST: &str = r#"
name = "LOOKUPCUSTOMER"
summary = "Find a customer in the host's CRM."
category = "host"

[[input]]
name = "CustomerId"
type = "text"
required = true
description = "The customer id ({expr} substituted)."

[[output]]
name = "Customer"
type = "object"
default = "Customer"
description = "The customer record: id, name, tier."

[[branch]]
name = "Default"
description = "The customer was found."

[[branch]]
name = "NotFound"
description = "No customer has this id."

[[branch]]
name = "OnError"
aliases = ["Error"]
description = "The lookup failed (empty id, CRM unreachable); _ERR says why."
"#;

/// The implementation. A real host would hold a client for its CRM here.
struct LookupCustomer;

impl Action for LookupCustomer {
    fn name(&self) -> &str {
        "LOOKUPCUSTOMER"
    }

    fn execute<'a>(&'a self, ctx: &'a mut Context<'_>, inputs: &'a Inputs<'_>) -> Exec<'a> {
        // Inputs arrive resolved: `{id}` in the script is already substituted.
        let id = inputs.text("CustomerId").trim().to_string();
        if id.is_empty() {
            // A failure: the engine takes OnError and sets _ERR.
            return Exec::fail("LOOKUPCUSTOMER: CustomerId is empty");
        }
        Exec::pending(async move {
            // Stand-in for a network call; on the run's clock, so a virtual
            // clock advances without sleeping.
            ctx.sleep(Duration::from_millis(250)).await?;
            let found = match id.as_str() {
                "C-1001" => Some(serde_json::json!({"id": "C-1001", "name": "Ada Lovelace", "tier": "gold"})),
                "C-1002" => Some(serde_json::json!({"id": "C-1002", "name": "Alan Turing", "tier": "silver"})),
                _ => None,
            };
            // Keep the answer in the trace so a replay can give it back.
            ctx.record_answer("crm lookup", found.clone().unwrap_or(serde_json::Value::Null));
            Ok(match found {
                Some(record) => Outcome::default().output("Customer", Value::from_json(&record)),
                None => Outcome::branch("NotFound"),
            })
        })
    }
}

/// A script using the new action like any built-in one, wiring NotFound.
const SCRIPT: &str = r#"{
  "name": "identify_caller",
  "actions": [
    {"id": "start", "action": "BEGIN", "Parameters": ["id"], "next": "lookup"},
    {"id": "lookup", "action": "LOOKUPCUSTOMER", "CustomerId": "{id}",
     "branches": {"Default": "known", "NotFound": "unknown", "Error": "failed"}},
    {"id": "known", "action": "RETURN", "ReturnValue": "Welcome back, {Customer.name} ({Customer.tier})"},
    {"id": "unknown", "action": "RETURN", "ReturnValue": "No customer {id}: routing to sign-up"},
    {"id": "failed", "action": "RETURN", "ReturnValue": "CRM error: {_ERR}"}
  ]
}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let manifest = Manifest::from_toml(MANIFEST, "lookupcustomer.toml")?;
    print!("{}", manifest.describe());

    // Register manifest and implementation together; the checker now accepts
    // LOOKUPCUSTOMER and knows its branches.
    let runtime = Runtime::builder().db("sqlite::memory:").action(manifest, LookupCustomer).build();
    let program = runtime.load_script(prospero::script::load_text(SCRIPT, None)?)?;

    // A known id (Default), an unknown one (NotFound), an empty one (OnError).
    for id in ["C-1001", "C-9999", ""] {
        let opts = RunOptions::new().param("id", id).at("2026-03-08T14:30:00Z".parse()?);
        let report = runtime.run(&program, opts).await?;
        let path: Vec<String> = report.path.iter().map(|s| format!("{}:{}", s.id, s.branch)).collect();
        println!("\n--- id = {id:?}");
        println!("status:    {}", report.status.name());
        println!("return:    {}", report.return_value.as_ref().map(|v| v.to_text().to_string()).unwrap_or_default());
        println!("path:      {}", path.join(" -> "));
        println!("variables: {}", report.variables.to_json());
    }
    Ok(())
}
