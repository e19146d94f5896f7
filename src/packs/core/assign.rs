//! ASSIGN: set a variable, as text, as the value of an expression
//! (`Numeric`), or as a date (`Datetime`).

use crate::engine::action::{ActionError, Context, Exec, Inputs, Outcome};
use crate::snippet::{Template, dates};
use crate::value::Value;

action! {
    /// ASSIGN.
    Assign = "ASSIGN", |ctx, inputs| {
        Exec::Ready(assign(ctx, inputs))
    }
}

fn assign(ctx: &mut Context<'_>, inputs: &Inputs<'_>) -> Result<Outcome, ActionError> {
    let target = inputs.variable("Variable").ok_or_else(|| ActionError::failed("ASSIGN: Variable is missing"))?;
    let kind = match inputs.get("Type") {
        Value::Text(t) => t.as_str(),
        _ => "String",
    };
    let (template, expr) = match inputs.lazy("Value") {
        Some((t, e)) => (Some(t), e),
        None => (None, None),
    };
    // Literal enum values arrive in the manifest's spelling.
    let kind = if kind == "Numeric" || kind.eq_ignore_ascii_case("numeric") {
        "numeric"
    } else if kind == "String" {
        "string"
    } else if kind.eq_ignore_ascii_case("datetime") {
        "datetime"
    } else {
        "string"
    };
    let value = match kind {
        "numeric" => match (template, expr) {
            // `{}` parts are substituted first, then the text is evaluated.
            (Some(t @ (Template::Concat(_) | Template::Single(_))), _) => {
                let text = ctx.eval_template(t)?.to_text();
                ctx.eval_text(&text)?
            }
            (_, Some(e)) => ctx.eval(e)?,
            (Some(Template::Literal(s)), None) if s.trim().is_empty() => Value::Number(0.0),
            (Some(Template::Literal(s)), None) => ctx.eval_text(s)?,
            (None, _) => Value::Number(0.0),
        },
        "datetime" => {
            let v = match template {
                Some(t) => ctx.eval_template(t)?,
                None => Value::Null,
            };
            let text = v.to_text();
            match dates::parse_datetime(&text) {
                Some(dt) => Value::text(dates::format_datetime(&dt)),
                None if text.trim().is_empty() => Value::text(""),
                None => {
                    // Not a date as written: maybe an expression yielding one.
                    let v = ctx
                        .eval_text(&text)
                        .map_err(|_| ActionError::failed(format!("ASSIGN: '{text}' is not a date")))?;
                    let dt = dates::parse_datetime(&v.to_text())
                        .ok_or_else(|| ActionError::failed(format!("ASSIGN: '{text}' is not a date")))?;
                    Value::text(dates::format_datetime(&dt))
                }
            }
        }
        _ => match template {
            Some(t) => match ctx.eval_template(t)? {
                // String type: scalars become text; objects stay objects.
                v @ (Value::Object(_) | Value::Array(_) | Value::Text(_)) => v,
                Value::Null => Value::text(""),
                scalar => Value::Text(scalar.to_text()),
            },
            None => Value::text(""),
        },
    };
    ctx.assign(target, value)?;
    Ok(Outcome::default())
}

#[cfg(test)]
mod tests {
    use crate::packs::testing::{run, var};

    fn script(assigns: &[(&str, &str, &str)]) -> String {
        let mut actions = vec![r#"{"id": "b", "action": "BEGIN", "next": "a0"}"#.to_string()];
        for (i, (var, value, ty)) in assigns.iter().enumerate() {
            let next = if i + 1 == assigns.len() { "e".to_string() } else { format!("a{}", i + 1) };
            actions.push(format!(
                r#"{{"id": "a{i}", "action": "ASSIGN", "Variable": {}, "Value": {}, "Type": "{ty}", "next": "{next}"}}"#,
                serde_json::to_string(var).unwrap(),
                serde_json::to_string(value).unwrap()
            ));
        }
        actions.push(r#"{"id": "e", "action": "END"}"#.into());
        format!(r#"{{"name": "t", "actions": [{}]}}"#, actions.join(","))
    }

    #[tokio::test]
    async fn string_numeric_and_datetime() {
        let r = run(
            &script(&[
                ("s", "1+1", "String"),
                ("n", "1+1", "Numeric"),
                ("m", "{n} * 10 + 1", "Numeric"),
                ("d", "2/9/2023 1:05 PM", "Datetime"),
                ("greeting", "Hello {upper('ada')}, n={n}", "String"),
                ("o.name", "Ada", "String"),
                ("o.tags[2]", "b", "String"),
                ("copy", "{o}", "String"),
            ]),
            &[],
            &[],
        )
        .await;
        assert_eq!(var(&r, "s"), "1+1");
        assert_eq!(var(&r, "n"), "2");
        assert_eq!(var(&r, "m"), "21");
        assert_eq!(var(&r, "d"), "2023-02-09 13:05:00");
        assert_eq!(var(&r, "greeting"), "Hello ADA, n=2");
        assert_eq!(var(&r, "o"), r#"{"name":"Ada","tags":["","b"]}"#);
        assert_eq!(var(&r, "copy"), var(&r, "o"));
    }

    #[tokio::test]
    async fn bad_numeric_value_takes_the_error_path() {
        let r = run(&script(&[("n", "1 / (x - x)", "Numeric"), ("after", "yes", "String")]), &[], &[]).await;
        // ASSIGN has no OnError branch: the failure falls back to Default
        // with _ERR set.
        assert!(var(&r, "_ERR").contains("division by zero"), "{}", var(&r, "_ERR"));
        assert_eq!(var(&r, "after"), "yes");
    }
}
