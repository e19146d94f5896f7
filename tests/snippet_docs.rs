//! Every example in the snippet reference (`docs/snippet.md`) runs and
//! gives the documented result, and every built-in function is documented.

use prospero::Value;
use prospero::script::Pos;
use prospero::snippet::VarSlot;
use prospero::snippet::{EvalEnv, Limits, VarSource, compile_expression};

struct NoVars;
impl VarSource for NoVars {
    fn get(&self, _: &VarSlot) -> Option<&Value> {
        None
    }
}

/// Split a Markdown table row at `|` that are not escaped as `\|`.
fn cells(row: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = row.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    out
}

fn code(cell: &str) -> String {
    cell.trim().trim_start_matches('`').trim_end_matches('`').to_string()
}

#[test]
fn documented_examples_give_documented_results() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/snippet.md")).expect("docs/snippet.md");
    let section = doc.split("## Built-in functions").nth(1).expect("a functions section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut documented = Vec::new();
    let mut failures = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let c = cells(row);
        assert_eq!(c.len(), 5, "row {row:?}");
        let name = code(&c[0]);
        let (example, want) = (code(&c[3]), code(&c[4]));
        documented.push(name.clone());
        let env = &mut EvalEnv { now: "2026-11-21T10:00:00Z".parse().expect("time"), ..EvalEnv::default() };
        match compile_expression(&example, Pos::new(1, 1)).and_then(|e| e.eval(&NoVars, env, &Limits::default())) {
            Ok(v) if v.to_text().as_str() == want => {}
            Ok(v) => failures.push(format!("{name}: {example} gave {:?}, documented {want:?}", v.to_text())),
            Err(e) => failures.push(format!("{name}: {example} failed: {e}")),
        }
        assert!(example.to_lowercase().contains(&name), "{name}'s example does not use it: {example}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (name, ..) in prospero::snippet::BUILTINS {
        assert!(documented.iter().any(|d| d == name), "built-in {name} is not documented in docs/snippet.md");
    }
}
