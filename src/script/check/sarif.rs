//! Diagnostics as SARIF 2.1.0 (`prospero check --format sarif`), the
//! format code-scanning tools read.
//!
//! One run whose tool is `prospero`, with one rule per diagnostic code
//! that occurs (its meaning from [`super::codes`]) and one result per
//! diagnostic: `ruleId`, `level` (`error` / `warning`), `message.text` (the
//! action and the message), and one physical location (the file as a URI
//! reference, the line and column).

use super::{Diagnostic, Severity, codes};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value as J, json};

/// The SARIF 2.1.0 JSON schema.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Characters a URI reference cannot carry as they are.
const URI_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'\\');

/// A SARIF log of `diagnostics`.
pub fn sarif<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> J {
    let diagnostics: Vec<&Diagnostic> = diagnostics.into_iter().collect();
    let mut rule_ids: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<J> = rule_ids
        .iter()
        .map(|id| {
            let text = codes::describe(id).unwrap_or(id);
            json!({"id": id, "shortDescription": {"text": text}})
        })
        .collect();
    let results: Vec<J> = diagnostics
        .iter()
        .map(|d| {
            let text = match &d.action {
                Some(a) => format!("{a}: {}", d.message),
                None => d.message.clone(),
            };
            let index = rule_ids.iter().position(|r| *r == d.code).unwrap_or(0);
            json!({
                "ruleId": d.code,
                "ruleIndex": index,
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&d.file)},
                        "region": {"startLine": d.pos.line.max(1), "startColumn": d.pos.column.max(1)},
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "prospero",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// A file name as a URI reference: `/` separators, reserved characters
/// escaped.
fn uri(file: &str) -> String {
    utf8_percent_encode(&file.replace('\\', "/"), URI_ESCAPES).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Pos;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(uri("scripts/hello.json"), "scripts/hello.json");
        assert_eq!(uri("my scripts\\a#1.json"), "my%20scripts/a%231.json");
    }

    #[test]
    fn a_log_has_the_required_members() {
        let d = Diagnostic {
            severity: Severity::Warning,
            code: "unreachable",
            file: "a.json".into(),
            pos: Pos::new(3, 5),
            action: None,
            message: "no path".into(),
        };
        let log = sarif([&d]);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "unreachable");
        assert_eq!(run["results"][0]["level"], "warning");
        assert_eq!(run["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"], 5);
    }
}
