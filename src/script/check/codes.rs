//! Every diagnostic code `prospero check` reports, with a one-line
//! meaning: the rules of its SARIF output and the table of
//! `docs/checks.md` (a test keeps the three in step).

/// Code, severity as reported without `--strict`, meaning.
pub const CODES: &[(&str, &str, &str)] = &[
    // The file itself (load errors).
    ("unreadable", "error", "the file cannot be read (missing, a folder, no permission): exit 2"),
    ("empty-file", "error", "the file is empty or blank"),
    ("not-text", "error", "the file is not UTF-8 text"),
    ("unknown-format", "error", "the content is none of the three script formats"),
    ("syntax", "error", "a JSON or XML syntax error"),
    ("bad-shape", "error", "valid JSON or XML without a script's shape"),
    ("duplicate-id", "error", "two actions share an id"),
    ("duplicate-key", "error", "a JSON object repeats a key"),
    ("missing-file", "error", "a sibling snippet file is missing"),
    ("too-large", "error", "the file or a property is over a load limit"),
    // The script graph.
    ("no-begin", "error", "the script has no BEGIN action"),
    ("several-begins", "error", "the script has more than one BEGIN action"),
    ("unknown-action", "error", "the action type is not in the catalog"),
    ("unknown-version", "error", "the catalog has the action type but not this version"),
    ("no-implementation", "error", "the action has a manifest but no implementation in this runtime"),
    ("media-type", "warning", "the action is not available in the script's media type"),
    ("branch-target-missing", "error", "a branch goes to an action that does not exist"),
    ("unknown-branch", "error", "the action has no branch of this name"),
    ("duplicate-branch", "error", "a branch is wired twice"),
    ("unreachable", "warning", "no path from BEGIN reaches the action"),
    ("unwired-error", "warning", "OnError is not wired"),
    ("unwired-default", "warning", "Default is not wired and some result falls through to it"),
    // Properties.
    (
        "unknown-property",
        "error",
        "the action's manifest has no such property, with a suggestion (a warning in Studio JSON and XML files)",
    ),
    ("duplicate-property", "error", "a property is given twice"),
    ("missing-property", "error", "a required property is missing"),
    ("bad-literal", "error", "a value the property's type refuses"),
    ("bad-expression", "error", "an expression that does not compile"),
    ("bad-snippet", "error", "snippet code that does not compile"),
    ("duplicate-function", "error", "two snippets define a FUNCTION of one name"),
    ("missing-script", "error", "a sub script that is not in the script library"),
    ("suspicious-substitution", "warning", "a {...} group that does not parse stays literal text"),
    ("unassigned-variable", "warning", "a variable is read that nothing in the script assigns, with a suggestion"),
    // With `--principal FILE`.
    (
        "permission-denied",
        "error",
        "the principal lacks a permission the action's manifest lists (only with --principal); the message names them",
    ),
];

/// The meaning of `code`, when it is one of [`CODES`].
pub fn describe(code: &str) -> Option<&'static str> {
    CODES.iter().find(|(c, _, _)| *c == code).map(|(_, _, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::CODES;

    /// Every code the checker's source pushes is in the table, and the
    /// table is in `docs/checks.md`.
    #[test]
    fn every_code_is_listed_and_documented() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("typos.rs"),
            include_str!("unassigned.rs"),
            include_str!("permissions.rs"),
            include_str!("../mod.rs"),
        ];
        let docs = include_str!("../../../docs/checks.md");
        let mut found = 0;
        for src in sources {
            for (i, _) in src.match_indices('"') {
                let rest = &src[i + 1..];
                let Some(end) = rest.find('"') else { continue };
                let word = &rest[..end];
                let is_code = word.len() > 3
                    && word.contains('-')
                    && word.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && !word.starts_with('-');
                if is_code {
                    found += 1;
                    assert!(CODES.iter().any(|(c, _, _)| *c == word), "code {word} is not in CODES");
                }
            }
        }
        assert!(found >= 20, "the scan found the codes ({found})");
        for (code, _, _) in CODES {
            assert!(docs.contains(&format!("`{code}`")), "docs/checks.md does not list `{code}`");
        }
    }
}
