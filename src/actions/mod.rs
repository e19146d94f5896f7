//! Built-in action implementations, one file per action or small family.
//!
//! Each implementation is a unit struct implementing
//! [`Action`](crate::engine::action::Action), listed once in [`builtins`],
//! with its manifest in `actions/<name>.toml` and its tests right beside it.

mod assign;
mod branching;
mod calls;
mod flow;
mod leads;
mod loops;
mod outbound;
mod snippet;

use crate::engine::action::Action;
use std::sync::Arc;

/// Every built-in action.
pub fn builtins() -> Vec<Arc<dyn Action>> {
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
        Arc::new(outbound::CreateSource),
        Arc::new(outbound::CreateUserField),
        Arc::new(outbound::GetUserFields),
        Arc::new(outbound::CreateSourceMap),
        Arc::new(outbound::GetSourceMap),
        Arc::new(outbound::CreateProspects),
        Arc::new(outbound::GetProspect),
        Arc::new(outbound::RemoveProspects),
        Arc::new(leads::CheckOutLeads),
        Arc::new(leads::CheckInLeads),
        Arc::new(leads::GetQueue),
    ]
}

/// Helpers for the action tests: build a runtime, load native JSON, run.
#[cfg(test)]
pub(crate) mod testing {
    use crate::engine::{RunOptions, RunReport, Runtime};
    use crate::value::Value;

    /// Run a native-format script given as JSON text (sub scripts may be
    /// passed in `subs`), on a virtual clock.
    pub async fn run(json: &str, subs: &[&str], params: &[(&str, &str)]) -> RunReport {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in subs {
            let v: serde_json::Value = serde_json::from_str(sub).expect("sub script JSON");
            let name = v["name"].as_str().expect("sub scripts need a name");
            std::fs::write(dir.path().join(format!("{name}.json")), sub).expect("write sub");
        }
        let main = dir.path().join("main_under_test.json");
        std::fs::write(&main, json).expect("write script");
        let rt = Runtime::builder().db("sqlite::memory:").build();
        let program = rt.load(&main).unwrap_or_else(|e| panic!("load failed: {e}"));
        let mut opts = RunOptions::new().at("2026-03-08T06:30:00Z".parse().expect("time"));
        for (k, v) in params {
            opts = opts.param(*k, Value::text(*v));
        }
        let report = rt.run(&program, opts).await.expect("params");
        rt.wait_spawned().await;
        report
    }

    /// The text of variable `name` in a report.
    pub fn var(r: &RunReport, name: &str) -> String {
        r.var(name).map(|v| v.to_text().to_string()).unwrap_or_else(|| "<unset>".into())
    }

    /// The path as "id:branch" items.
    pub fn path(r: &RunReport) -> Vec<String> {
        r.path.iter().map(|p| format!("{}:{}", p.id, p.branch)).collect()
    }
}
