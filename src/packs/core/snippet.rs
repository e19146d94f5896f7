//! SNIPPET: run compiled snippet code in the script's variables.

use crate::engine::action::{Exec, Outcome};

action! {
    /// SNIPPET.
    Snippet = "SNIPPET", |ctx, inputs| {
        let Some(code) = inputs.snippet("Code") else {
            return Exec::fail("SNIPPET: no code");
        };
        let max = match inputs.text("MaxStringSize").as_str() {
            "Limit2K" => Some(2 * 1024),
            "Limit4K" => Some(4 * 1024),
            "Limit8K" => Some(8 * 1024),
            "Limit16K" => Some(16 * 1024),
            "Limit32K" => Some(32 * 1024),
            _ => None,
        };
        Exec::Ready(ctx.run_snippet(code, max).map(|()| Outcome::default()))
    }
}

#[cfg(test)]
mod tests {
    use crate::packs::testing::{path, run, var};

    fn snippet(code: &str) -> String {
        format!(
            r#"{{"name": "t", "actions": [
            {{"id": "b", "action": "BEGIN", "next": "s"}},
            {{"id": "s", "action": "SNIPPET", "caption": "Work", "Code": {}, "branches": {{"Default": "e", "OnError": "err"}}}},
            {{"id": "err", "action": "END"}},
            {{"id": "e", "action": "END"}}]}}"#,
            serde_json::to_string(code).unwrap()
        )
    }

    #[tokio::test]
    async fn documented_loops() {
        let r = run(&snippet("FOR i = 1 TO 9 { ph = \"{ph}{i}\" }\nFOR j = 9 TO 1 { down = \"{down}{j}\" }"), &[], &[])
            .await;
        assert_eq!(var(&r, "ph"), "123456789");
        assert_eq!(var(&r, "down"), "987654321");
    }

    #[tokio::test]
    async fn runtime_errors_take_on_error_with_the_line() {
        let r = run(&snippet("a = 1\nb = 2\nc = a / (b - 2)\nd = 4"), &[], &[]).await;
        assert_eq!(path(&r)[1], "s:OnError");
        assert_eq!(var(&r, "_ERR"), "line 3: division by zero");
        assert_eq!(var(&r, "b"), "2", "statements before the failure keep their effects");
        assert_eq!(var(&r, "d"), "<unset>");
    }

    #[tokio::test]
    async fn a_loop_forever_ends_on_the_operations_budget() {
        let r = run(&snippet("WHILE 1 = 1 { }"), &[], &[]).await;
        assert_eq!(path(&r)[1], "s:OnError");
        assert!(var(&r, "_ERR").contains("operations budget"), "{}", var(&r, "_ERR"));
    }

    #[tokio::test]
    async fn plain_rhai_sees_and_sets_variables() {
        let script = r#"{"name": "t", "actions": [
            {"id": "b", "action": "BEGIN", "Parameters": ["n"], "next": "s"},
            {"id": "s", "action": "SNIPPET", "Language": "Rhai", "Code": "let doubled = n.parse_int() * 2; label = `n=${n}`;", "next": "e"},
            {"id": "e", "action": "END"}]}"#;
        let r = run(&script.replace("label = ", "let label = "), &[], &[("n", "21")]).await;
        assert_eq!(var(&r, "doubled"), "42");
        assert_eq!(var(&r, "label"), "n=21");
    }

    #[tokio::test]
    async fn budgets_stop_a_snippet_and_name_the_limit() {
        let script = r#"{"name": "t", "actions": [
            {"id": "b", "action": "BEGIN", "next": "s"},
            {"id": "s", "action": "SNIPPET", "MaxStringSize": "Limit2K",
             "Code": "s = \"x\"\nFOR i = 1 TO 20 { s = \"{s}{s}\" }", "branches": {"Default": "e", "OnError": "e"}},
            {"id": "e", "action": "END"}]}"#;
        let r = run(script, &[], &[]).await;
        assert!(var(&r, "_ERR").starts_with("line 2: string size budget exceeded"), "{}", var(&r, "_ERR"));
        assert_eq!(path(&r)[1], "s:OnError");
    }

    #[tokio::test]
    async fn functions_are_shared_between_snippets_and_trace_goes_to_the_trace() {
        let script = r#"{"name": "t", "actions": [
            {"id": "b", "action": "BEGIN", "next": "one"},
            {"id": "one", "action": "SNIPPET", "Code": ["FUNCTION greet(n)", "{", "  RETURN \"Hello {n}\"", "}", "a = greet(\"Ada\")"], "next": "two"},
            {"id": "two", "action": "SNIPPET", "Code": "b = \"Bo\".greet()\nTRACE b", "next": "e"},
            {"id": "e", "action": "END"}]}"#;
        let r = run(script, &[], &[]).await;
        assert_eq!(var(&r, "a"), "Hello Ada");
        assert_eq!(var(&r, "b"), "Hello Bo");
    }

    #[test]
    fn snippets_have_no_way_out_of_the_sandbox() {
        use crate::base::Pos;
        use crate::snippet::CompiledSnippet;
        for rhai in ["import \"std\" as s;", "eval(\"1\")", "let f = open_file(\"/etc/passwd\");"] {
            let compiled = CompiledSnippet::compile_rhai(rhai, Pos::new(1, 1));
            let ran = compiled.map(|c| {
                let mut vars = NoVars;
                c.run(&mut vars, &mut crate::snippet::EvalEnv::default(), &crate::snippet::Limits::default()).error
            });
            assert!(matches!(ran, Err(_) | Ok(Some(_))), "{rhai} must fail to compile or to run");
        }
        // The dialect has no statements or functions that reach outside.
        for dialect in ["x = open(\"f\")", "x = env(\"HOME\")", "x = exec(\"ls\")", "USES WebService"] {
            assert!(CompiledSnippet::compile(dialect, Pos::new(1, 1), &[]).is_err(), "{dialect}");
        }
    }

    struct NoVars;
    impl crate::snippet::SnippetVars for NoVars {
        fn get(&self, _: &crate::snippet::compile::VarSlot) -> Option<&crate::value::Value> {
            None
        }
        fn set(&mut self, _: &crate::snippet::compile::VarSlot, _: crate::value::Value) {}
        fn all(&self) -> Vec<(String, crate::value::Value)> {
            Vec::new()
        }
        fn set_named(&mut self, _: &str, _: crate::value::Value) {}
    }
}
