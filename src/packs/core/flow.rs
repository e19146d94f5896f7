//! BEGIN, the terminating actions (END, HANGUP, EXIT, DISCARD), WAIT, TRACE
//! and TIMEZONE.

use crate::engine::action::{Action, ActionError, Context, Control, Exec, Inputs, Outcome};
use std::time::Duration;

action! {
    /// BEGIN: the entry point; renames `p1..pN` to the declared parameter names.
    Begin = "BEGIN", |ctx, inputs| {
        for (i, name) in inputs.list("Parameters").iter().enumerate() {
            let name = name.to_text();
            let name = name.trim();
            if name.is_empty() {
                continue;
            }
            let p = format!("p{}", i + 1);
            if let Some(v) = ctx.core.frame_mut().vars.remove(&p) {
                ctx.set_var(name, v);
            }
        }
        Exec::branch("Default")
    }
}

/// END, HANGUP, EXIT, DISCARD: end the run.
pub struct Terminate(pub &'static str);

impl Action for Terminate {
    fn name(&self) -> &str {
        self.0
    }
    fn execute<'a>(&'a self, _ctx: &'a mut Context<'_>, _inputs: &'a Inputs<'_>) -> Exec<'a> {
        Exec::Ready(Ok(Outcome::default().with_control(Control::End)))
    }
}

action! {
    /// WAIT: sleep on the run's clock.
    Wait = "WAIT", |ctx, inputs| {
        let secs = inputs.number("Seconds").unwrap_or(0.0);
        if !(0.0..=86_400.0 * 366.0).contains(&secs) {
            return Exec::fail(format!("WAIT: Seconds must be between 0 and one year, got {secs}"));
        }
        Exec::pending(async move {
            ctx.sleep(Duration::from_secs_f64(secs)).await?;
            Ok(Outcome::default())
        })
    }
}

action! {
    /// TRACE: write a line to the run's trace.
    Trace = "TRACE", |ctx, inputs| {
        let text = inputs.text("Text");
        ctx.note(text.to_string());
        Exec::branch("Default")
    }
}

action! {
    /// TIMEZONE: set the run's time zone.
    TimeZone = "TIMEZONE", |ctx, inputs| {
        let name = inputs.text("TimeZone");
        match crate::timezone::parse_zone(&name) {
            Some(tz) => {
                ctx.set_timezone(tz);
                Exec::branch("Default")
            }
            None => Exec::Ready(Err(ActionError::failed(format!("unknown time zone '{name}'")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::packs::testing::{path, run, var};

    #[tokio::test]
    async fn begin_renames_parameters() {
        let r = run(
            r#"{"name": "t", "actions": [
                {"id": "b", "action": "BEGIN", "Parameters": ["who", "count"], "next": "e"},
                {"id": "e", "action": "END"}]}"#,
            &[],
            &[("who", "Ada"), ("p2", "3")],
        )
        .await;
        assert_eq!(var(&r, "who"), "Ada");
        assert_eq!(var(&r, "count"), "3");
        assert_eq!(var(&r, "p1"), "<unset>");
    }

    #[tokio::test]
    async fn wait_under_a_virtual_clock_does_not_sleep() {
        let r = run(
            r#"{"name": "t", "actions": [
                {"id": "b", "action": "BEGIN", "next": "w"},
                {"id": "w", "action": "WAIT", "Seconds": "3600", "next": "n"},
                {"id": "n", "action": "ASSIGN", "Variable": "t", "Value": "{now()}", "next": "e"},
                {"id": "e", "action": "END"}]}"#,
            &[],
            &[],
        )
        .await;
        assert_eq!(var(&r, "t"), "2026-03-08 07:30:00");
        assert_eq!(path(&r), ["b:Default", "w:Default", "n:Default", "e:"]);
    }

    #[tokio::test]
    async fn timezone_changes_local_time_and_bad_zone_errors() {
        let r = run(
            r#"{"name": "t", "actions": [
                {"id": "b", "action": "BEGIN", "next": "z"},
                {"id": "z", "action": "TIMEZONE", "TimeZone": "Eastern", "next": "n"},
                {"id": "n", "action": "ASSIGN", "Variable": "t", "Value": "{now()}", "next": "bad"},
                {"id": "bad", "action": "TIMEZONE", "TimeZone": "{zone}", "branches": {"Default": "e", "Error": "x"}},
                {"id": "x", "action": "END"},
                {"id": "e", "action": "END"}]}"#,
            &[],
            &[],
        )
        .await;
        // 06:30 UTC on 2026-03-08 is 01:30 EST (DST starts at 02:00 local).
        assert_eq!(var(&r, "t"), "2026-03-08 01:30:00");
        assert_eq!(path(&r).last().map(String::as_str), Some("x:"));
        assert!(var(&r, "_ERR").contains("time zone"), "{}", var(&r, "_ERR"));
    }
}
