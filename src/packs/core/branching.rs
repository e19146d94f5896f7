//! IF and CASE.

use crate::engine::action::Exec;

action! {
    /// IF: `True` or `False` by the expression's truth.
    If = "IF", |_ctx, inputs| {
        Exec::branch(if inputs.get("Expression").truthy() { "True" } else { "False" })
    }
}

action! {
    /// CASE: the branch named after the value (or Default).
    Case = "CASE", |_ctx, inputs| {
        Exec::branch(inputs.text("Variable").to_string())
    }
}

#[cfg(test)]
mod tests {
    use crate::packs::testing::{path, run};

    const CASE: &str = r#"{"name": "t", "actions": [
        {"id": "b", "action": "BEGIN", "Parameters": ["color"], "next": "c"},
        {"id": "c", "action": "CASE", "Variable": "color",
         "branches": {"red": "r", "Blue": "bl", "2": "two", "Default": "d"}},
        {"id": "r", "action": "END"}, {"id": "bl", "action": "END"},
        {"id": "two", "action": "END"}, {"id": "d", "action": "END"}]}"#;

    #[tokio::test]
    async fn case_matches_exact_then_any_case_then_numeric() {
        for (input, want) in [("red", "r"), ("blue", "bl"), ("2.0", "two"), ("green", "d")] {
            let r = run(CASE, &[], &[("color", input)]).await;
            assert_eq!(path(&r)[2], format!("{want}:"), "{input}");
        }
    }

    #[tokio::test]
    async fn if_branches_and_unwired_falls_back_to_default() {
        let script = r#"{"name": "t", "actions": [
            {"id": "b", "action": "BEGIN", "Parameters": ["n"], "next": "i"},
            {"id": "i", "action": "IF", "Expression": "n > 5", "branches": {"True": "big", "Default": "other"}},
            {"id": "big", "action": "END"}, {"id": "other", "action": "END"}]}"#;
        let r = run(script, &[], &[("n", "9")]).await;
        assert_eq!(path(&r), ["b:Default", "i:True", "big:"]);
        let r = run(script, &[], &[("n", "1")]).await;
        // False is not wired: the run follows Default.
        assert_eq!(path(&r), ["b:Default", "i:Default", "other:"]);
    }
}
