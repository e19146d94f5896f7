//! Hostile scripts load in time and memory proportional to their size, or
//! are refused early with a limit error naming the file (and the action,
//! line and column). Runs the real binary; sizes are large enough that a
//! quadratic step would time the suite out, but nothing asserts a time.

mod common;
mod hostile_cases;

use common::prospero;
use hostile_cases::{chain as native_chain, one_value, xml_chain};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the script");
    path.display().to_string()
}

#[test]
fn long_chains_check_clean_in_all_three_formats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let n = 15_000;
    let native = write(dir.path(), "chain.json", &native_chain(n));
    let xml = write(dir.path(), "chainx.xml", &xml_chain(n));
    let (code, studio, err) = prospero(&["export", &native, "--format", "studio-json"]);
    assert_eq!(code, 0, "{err}");
    let studio = write(dir.path(), "chains.studio.json", &studio);
    for file in [&native, &studio, &xml] {
        let (code, out, err) = prospero(&["check", file]);
        assert_eq!(code, 0, "{file}: {out}{err}");
        assert!(out.contains("0 errors"), "{file}: {out}");
        assert!(!out.contains("unreachable"), "{file}: every action is reached: {out}");
    }
    let (code, out, err) = prospero(&["run", &native, "--db", "sqlite::memory:", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn hundred_thousand_nested_substitutions_are_refused_with_a_limit_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let n = 100_000;
    for (name, value) in [
        ("braces.json", format!("{}x{}", "{".repeat(n), "}".repeat(n))),
        ("strings.json", format!("{}x{}", "{\"".repeat(n), "\"}".repeat(n))),
    ] {
        let file = write(dir.path(), name, &one_value(&value));
        let (code, out, _) = prospero(&["check", &file]);
        assert_eq!(code, 1, "{out}");
        let line = out.lines().find(|l| l.contains("error[")).unwrap_or_else(|| panic!("an error: {out}"));
        assert!(line.starts_with(&format!("{file}:2:")), "file, line and column: {line}");
        assert!(line.contains("action a1") && line.contains("nested too deeply (more than 256 levels)"), "{line}");
        let (code, _, err) = prospero(&["run", &file, "--db", "sqlite::memory:"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("nested too deeply"), "{err}");
    }
}

#[test]
fn flat_expression_beyond_the_nesting_limit_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let expr = vec!["1"; 300_000].join("+");
    let script = one_value(&expr).replace(r#""Variable":"x","#, r#""Variable":"x","Type":"Numeric","#);
    let file = write(dir.path(), "flat.json", &script);
    let (code, out, _) = prospero(&["check", &file]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("nested too deeply"), "{out}");
}

#[test]
fn property_over_the_size_limit_is_refused_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(dir.path(), "big.json", &one_value(&"x".repeat(1024 * 1024 + 1)));
    let (code, out, _) = prospero(&["check", &file]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with(&format!("{file}:2:")), "{out}");
    assert!(out.contains("error[too-large]: action a1: property \"Value\" is 1048577 bytes"), "{out}");
    assert!(out.contains("limit of 1048576 bytes"), "{out}");
    // The limit is a flag.
    let (code, out, _) = prospero(&["check", &file, "--max-property-bytes", "2000000"]);
    assert_eq!(code, 0, "{out}");
    let small = write(dir.path(), "small.json", &one_value("hello"));
    let (code, _, err) = prospero(&["run", &small, "--db", "sqlite::memory:", "--max-property-bytes", "3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("property \"Value\" is 5 bytes, over the limit of 3 bytes"), "{err}");
}

#[test]
fn script_over_the_size_limit_is_refused_before_parsing() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Not even JSON: the size is checked before the content is looked at.
    let file = write(dir.path(), "huge.json", &"{".repeat(5000));
    let (code, out, _) = prospero(&["check", &file, "--max-script-bytes", "4096"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{file}:1:1: error[too-large]: the file is 5000 bytes, over the limit of 4096 bytes")),
        "{out}"
    );
    let (code, _, err) = prospero(&["run", &file, "--db", "sqlite::memory:", "--max-script-bytes", "4096"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("over the limit of 4096 bytes"), "{err}");
    for cmd in ["graph", "export"] {
        let (code, _, err) = prospero(&[cmd, &file, "--max-script-bytes", "4096"]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert!(err.contains("over the limit of 4096 bytes"), "{cmd}: {err}");
    }
}

#[test]
fn doubled_bom_is_refused() {
    let (code, out, _) = prospero(&["check", "tests/fixtures/malformed/doubled_bom.json"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("two byte order marks"), "{out}");
    // One BOM is fine.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(dir.path(), "bom.json", &format!("\u{feff}{}", native_chain(3)));
    let (code, out, _) = prospero(&["check", &file]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn lone_surrogate_escape_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(dir.path(), "sur.json", &one_value("x").replace(r#""Value":"x""#, r#""Value":"ab\ud800""#));
    let (code, out, _) = prospero(&["check", &file]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{file}:2:56: error[syntax]: invalid JSON: lone surrogate \\ud800 in a string")),
        "{out}"
    );
}
