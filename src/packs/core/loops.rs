//! LOOP and FOR: counting loops built from branches that lead back to the
//! action. The count lives in per-action run state, so leaving the loop
//! (Finish/Finished) resets it and a later visit starts over.

use crate::engine::action::{ActionError, Context, Exec, Inputs, Outcome};
use crate::value::Value;

action! {
    /// LOOP: take `Repeat` N times, then `Finish`.
    Loop = "LOOP", |ctx, inputs| {
        Exec::Ready(run_loop(ctx, inputs))
    }
}

fn run_loop(ctx: &mut Context<'_>, inputs: &Inputs<'_>) -> Result<Outcome, ActionError> {
    let repeat = inputs.number("Repeat").unwrap_or(1.0).trunc();
    if repeat < 0.0 {
        return Err(ActionError::failed(format!("LOOP: Repeat must not be negative, got {repeat}")));
    }
    let done = ctx.state().as_ref().and_then(Value::as_number).unwrap_or(0.0);
    if done < repeat {
        let n = done + 1.0;
        *ctx.state() = Some(Value::Number(n));
        if let Some(counter) = inputs.variable("CounterName") {
            ctx.assign(counter, Value::Number(n))?;
        }
        Ok(Outcome::branch("Repeat"))
    } else {
        *ctx.state() = None;
        Ok(Outcome::branch("Finish"))
    }
}

action! {
    /// FOR: count from FromValue to ToValue (down when ToValue is smaller).
    For = "FOR", |ctx, inputs| {
        Exec::Ready(run_for(ctx, inputs))
    }
}

fn run_for(ctx: &mut Context<'_>, inputs: &Inputs<'_>) -> Result<Outcome, ActionError> {
    // State: [current, to, step] fixed at the first visit.
    let state = ctx.state().clone();
    let (current, to, step) = match state {
        Some(Value::Array(s)) if s.len() == 3 => {
            let n = |i: usize| s[i].as_number().unwrap_or(0.0);
            let (cur, to, step) = (n(0), n(1), n(2));
            let next = cur + step;
            if (step > 0.0 && next > to) || (step < 0.0 && next < to) {
                *ctx.state() = None;
                return Ok(Outcome::branch("Finished"));
            }
            (next, to, step)
        }
        _ => {
            let from = inputs.number("FromValue").unwrap_or(1.0);
            let to = inputs.number("ToValue").unwrap_or(from);
            let magnitude = inputs.number("Step").unwrap_or(1.0).abs();
            if magnitude == 0.0 {
                return Err(ActionError::failed("FOR: Step must not be 0"));
            }
            (from, to, if to < from { -magnitude } else { magnitude })
        }
    };
    *ctx.state() = Some(Value::array(vec![current.into(), to.into(), step.into()]));
    if let Some(counter) = inputs.variable("CounterName") {
        ctx.assign(counter, Value::Number(current))?;
    }
    Ok(Outcome::branch("Repeat"))
}

#[cfg(test)]
mod tests {
    use crate::packs::testing::{run, var};

    fn for_script(from: &str, to: &str, step: &str) -> String {
        format!(
            r#"{{"name": "t", "actions": [
            {{"id": "b", "action": "BEGIN", "next": "f"}},
            {{"id": "f", "action": "FOR", "FromValue": "{from}", "ToValue": "{to}", "Step": "{step}", "CounterName": "i",
              "branches": {{"Repeat": "body", "Finished": "e"}}}},
            {{"id": "body", "action": "ASSIGN", "Variable": "seen", "Value": "{{seen}}{{i}},", "next": "f"}},
            {{"id": "e", "action": "END"}}]}}"#
        )
    }

    #[tokio::test]
    async fn for_counts_up_down_and_runs_once_when_equal() {
        assert_eq!(var(&run(&for_script("1", "4", "1"), &[], &[]).await, "seen"), "1,2,3,4,");
        assert_eq!(var(&run(&for_script("9", "5", "2"), &[], &[]).await, "seen"), "9,7,5,");
        assert_eq!(var(&run(&for_script("3", "3", "1"), &[], &[]).await, "seen"), "3,");
    }

    #[tokio::test]
    async fn loop_repeats_then_finishes_and_resets() {
        let script = r#"{"name": "t", "actions": [
            {"id": "b", "action": "BEGIN", "next": "outer"},
            {"id": "outer", "action": "LOOP", "Repeat": "2", "CounterName": "o", "branches": {"Repeat": "inner", "Finish": "e"}},
            {"id": "inner", "action": "LOOP", "Repeat": "3", "CounterName": "k", "branches": {"Repeat": "count", "Finished": "outer"}},
            {"id": "count", "action": "ASSIGN", "Variable": "total", "Value": "total + 1", "Type": "Numeric", "next": "inner"},
            {"id": "e", "action": "END"}]}"#;
        let r = run(script, &[], &[]).await;
        assert_eq!(var(&r, "total"), "6");
        assert_eq!(var(&r, "o"), "2");
    }
}
