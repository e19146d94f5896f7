//! RUNSUB, RETURN, RUNSCRIPT and SPAWN: moving between scripts.

use crate::engine::action::{Control, Exec, Outcome};
use crate::value::Value;

action! {
    /// RUNSUB: run a sub script in a fresh scope and wait for its RETURN.
    RunSub = "RUNSUB", |_ctx, inputs| {
        let script = inputs.text("ScriptName").trim().to_string();
        if script.is_empty() {
            return Exec::fail("RUNSUB: ScriptName is empty");
        }
        let params = inputs.list("Parameters");
        if params.len() > 9 {
            return Exec::fail(format!("RUNSUB takes at most 9 parameters, got {}", params.len()));
        }
        let return_var = inputs.variable("ReturnVariable").cloned();
        Exec::Ready(Ok(Outcome::default().with_control(Control::Call { script, params, return_var })))
    }
}

action! {
    /// RETURN: end the sub script and hand one value back.
    Return = "RETURN", |_ctx, inputs| {
        let value = if inputs.is_given("ReturnValue") { inputs.get("ReturnValue").clone() } else { Value::Null };
        Exec::Ready(Ok(Outcome::default().with_control(Control::Return(value))))
    }
}

action! {
    /// RUNSCRIPT: continue in another script, keeping every variable.
    RunScript = "RUNSCRIPT", |_ctx, inputs| {
        let script = inputs.text("ScriptName").trim().to_string();
        if script.is_empty() {
            return Exec::fail("RUNSCRIPT: ScriptName is empty");
        }
        Exec::Ready(Ok(Outcome::default().with_control(Control::Transfer { script })))
    }
}

action! {
    /// SPAWN: start another run concurrently, with p1..p20.
    Spawn = "SPAWN", |ctx, inputs| {
        let script = inputs.text("ScriptName").trim().to_string();
        let params = inputs.list("Parameters");
        match ctx.spawn(&script, params) {
            Ok(id) => Exec::Ready(Ok(Outcome::default().output("SpawnIdVariable", Value::text(id)))),
            Err(e) => Exec::Ready(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::packs::testing::{path, run, var};

    const SUB: &str = r#"{"name": "adder", "actions": [
        {"id": "b", "action": "BEGIN", "Parameters": ["a", "b"], "next": "g"},
        {"id": "g", "action": "ASSIGN", "Variable": "global:calls", "Value": "{global:calls} + 1", "Type": "Numeric", "next": "r"},
        {"id": "r", "action": "RETURN", "ReturnValue": "{a + b}"}]}"#;

    #[tokio::test]
    async fn runsub_passes_parameters_returns_and_writes_globals() {
        let main = r#"{"name": "main", "actions": [
            {"id": "b", "action": "BEGIN", "next": "s"},
            {"id": "s", "action": "RUNSUB", "ScriptName": "adder", "Parameters": ["2", "{x}"], "ReturnVariable": "sum", "next": "s2"},
            {"id": "s2", "action": "RUNSUB", "ScriptName": "adder", "Parameters": ["{sum}", "10"], "ReturnVariable": "sum2", "next": "e"},
            {"id": "e", "action": "END"}]}"#;
        let script = main.replace("{x}", "40");
        let r = run(&script, &[SUB], &[]).await;
        assert_eq!(var(&r, "sum"), "42");
        assert_eq!(var(&r, "sum2"), "52");
        assert_eq!(var(&r, "calls"), "2");
        // The sub's locals stay in the sub.
        assert_eq!(var(&r, "a"), "<unset>");
        assert_eq!(r.path.iter().filter(|p| p.script == Some("adder")).count(), 6);
    }

    #[tokio::test]
    async fn runsub_depth_limit_takes_on_error() {
        let rec = r#"{"name": "rec", "actions": [
            {"id": "b", "action": "BEGIN", "Parameters": ["n"], "next": "s"},
            {"id": "s", "action": "RUNSUB", "ScriptName": "rec", "Parameters": ["{n + 1}"], "ReturnVariable": "r",
             "branches": {"Default": "ret", "OnError": "deep"}},
            {"id": "deep", "action": "RETURN", "ReturnValue": "{n}"},
            {"id": "ret", "action": "RETURN", "ReturnValue": "{r}"}]}"#;
        let main = r#"{"name": "main", "actions": [
            {"id": "b", "action": "BEGIN", "next": "s"},
            {"id": "s", "action": "RUNSUB", "ScriptName": "rec", "Parameters": ["1"], "ReturnVariable": "depth", "next": "e"},
            {"id": "e", "action": "END"}]}"#;
        let r = run(main, &[rec], &[]).await;
        assert_eq!(r.status.name(), "completed");
        // Main is depth 1; the deepest allowed sub sits at depth 33 (n = 32).
        assert_eq!(var(&r, "depth"), "32");
    }

    #[tokio::test]
    async fn runscript_keeps_variables_and_spawn_returns_an_id() {
        let next = r#"{"name": "next", "actions": [
            {"id": "b", "action": "BEGIN", "next": "a"},
            {"id": "a", "action": "ASSIGN", "Variable": "seen", "Value": "{carried}", "next": "e"},
            {"id": "e", "action": "END"}]}"#;
        let child = r#"{"name": "child", "actions": [
            {"id": "b", "action": "BEGIN", "next": "e"}, {"id": "e", "action": "END"}]}"#;
        let main = r#"{"name": "main", "actions": [
            {"id": "b", "action": "BEGIN", "next": "a"},
            {"id": "a", "action": "ASSIGN", "Variable": "carried", "Value": "yes", "next": "sp"},
            {"id": "sp", "action": "SPAWN", "ScriptName": "child", "Parameters": ["1"], "next": "go"},
            {"id": "go", "action": "RUNSCRIPT", "ScriptName": "next"}]}"#;
        let r = run(main, &[next, child], &[]).await;
        assert_eq!(var(&r, "seen"), "yes");
        assert!(var(&r, "SPAWNID").contains('.'), "{}", var(&r, "SPAWNID"));
        assert_eq!(path(&r).last().map(String::as_str), Some("e:"));
    }
}
