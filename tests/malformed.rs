//! Every file in `tests/fixtures/malformed/` is rejected cleanly by the real
//! binary: `run` exits 2 and `check` exits 1, both name the file with a
//! `line:column` location, and nothing panics.
//!
//! The files are discovered by listing the folder, so a new malformed input
//! is covered as soon as it is dropped there (see the folder's README.md).

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_prospero");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The corpus, relative to the repository root (and passed that way on the
/// command line, so messages must repeat exactly this prefix).
const DIR: &str = "tests/fixtures/malformed";
/// The corpus must not shrink below this.
const MIN_FILES: usize = 24;

/// The corpus files as `tests/fixtures/malformed/NAME`, sorted.
fn fixtures() -> Vec<String> {
    let dir = Path::new(ROOT).join(DIR);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<String> = entries
        .map(|e| e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md")
        .map(|name| format!("{DIR}/{name}"))
        .collect();
    files.sort();
    files
}

/// Run the binary from the repository root.
fn prospero(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        // Keep panic output (if any) short and identical on every machine.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .output()
        .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"))
}

fn run(file: &str) -> Output {
    prospero(&["run", file, "--db", "sqlite::memory:"])
}

fn check(file: &str) -> Output {
    prospero(&["check", file])
}

/// Everything a failure message needs to be read without rerunning.
fn describe(file: &str, what: &str, out: &Output) -> String {
    format!(
        "{file}: {what}\n  command status: {}\n  --- stdout ---\n{}\n  --- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end(),
    )
}

/// Read `<digits>` at the start of `s`: the number and the rest.
fn number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Read `:<digits>:<digits>` at the start of `s`: line, column and the rest.
fn location(s: &str) -> Option<(u32, u32, &str)> {
    let (line, rest) = number(s.strip_prefix(':')?)?;
    let (column, rest) = number(rest.strip_prefix(':')?)?;
    Some((line, column, rest))
}

/// Whether `text` contains `:<digits>:<digits>` anywhere.
fn has_location(text: &str) -> bool {
    text.match_indices(':').any(|(i, _)| location(&text[i..]).is_some())
}

/// The first `FILE:<line>:<col>` in `text`, where FILE is exactly `file`.
fn location_after(text: &str, file: &str) -> Option<(u32, u32)> {
    text.match_indices(file).find_map(|(i, _)| location(&text[i + file.len()..]).map(|(l, c, _)| (l, c)))
}

/// The first `check` diagnostic line of the form `FILE:<line>:<col>: error[...]`.
fn check_error_location(stdout: &str, file: &str) -> Option<(u32, u32)> {
    stdout.lines().find_map(|line| {
        let (l, c, rest) = location(line.strip_prefix(file)?)?;
        rest.starts_with(": error[").then_some((l, c))
    })
}

/// `command` followed by one `- problem` line per problem.
fn bullets(command: &str, problems: &[&str]) -> String {
    let mut s = format!("`{command}`:");
    for p in problems {
        s.push_str("\n  - ");
        s.push_str(p);
    }
    s
}

fn no_panic(text: &str) -> bool {
    !text.contains("panicked") && !text.contains("RUST_BACKTRACE") && !text.contains("overflowed its stack")
}

#[test]
fn location_parsing_helpers() {
    assert!(has_location("a.json:12:3: bad"));
    assert!(has_location("x: a.json:1:1"));
    assert!(!has_location("a.json:12: bad"));
    assert!(!has_location("a.json::3"));
    assert!(!has_location("no location here"));
    assert_eq!(location_after("p: d/a.json:4:17: msg", "d/a.json"), Some((4, 17)));
    assert_eq!(location_after("d/a.json: d/a.json:2:9", "d/a.json"), Some((2, 9)));
    assert_eq!(
        check_error_location("d/a.json:3:5: warning[w]: x\nd/a.json:7:2: error[e]: y", "d/a.json"),
        Some((7, 2))
    );
    assert_eq!(check_error_location("d/a.json:3:5 error[e]", "d/a.json"), None);
}

#[test]
fn every_malformed_file_is_rejected_cleanly() {
    let files = fixtures();
    assert!(
        files.len() >= MIN_FILES,
        "expected at least {MIN_FILES} malformed inputs in {DIR}, found {}: {files:?}",
        files.len()
    );

    let mut failures: Vec<String> = Vec::new();
    for file in &files {
        // `prospero run`: a script that cannot be used exits 2.
        let out = run(file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems: Vec<&str> = Vec::new();
        if out.status.code() != Some(2) {
            problems.push("`run` must exit with code 2");
        }
        if !stderr.contains(file.as_str()) {
            problems.push("`run` stderr must name the file as given on the command line");
        }
        if !has_location(&stderr) {
            problems.push("`run` stderr must contain a :<line>:<col> location");
        }
        match location_after(&stderr, file) {
            None => problems.push("`run` stderr must have FILE:<line>:<col>"),
            Some((0, _)) | Some((_, 0)) => problems.push("`run` location must be 1-based (found a 0)"),
            Some(_) => {}
        }
        if !no_panic(&stderr) {
            problems.push("`run` must not panic or crash");
        }
        if !problems.is_empty() {
            failures.push(describe(file, &bullets("prospero run FILE --db sqlite::memory:", &problems), &out));
        }

        // `prospero check`: a check with errors exits 1 and prints one
        // `FILE:<line>:<col>: error[code]: ...` line per problem.
        let out = check(file);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems: Vec<&str> = Vec::new();
        if out.status.code() != Some(1) {
            problems.push("`check` must exit with code 1");
        }
        match check_error_location(&stdout, file) {
            None => problems.push("`check` must print a `FILE:<line>:<col>: error[...]` line"),
            Some((0, _)) | Some((_, 0)) => problems.push("`check` location must be 1-based (found a 0)"),
            Some(_) => {}
        }
        // One defect per file: exactly one error (warnings that follow from
        // the defect are allowed).
        if !stdout.lines().any(|l| l.starts_with("1 error,")) {
            problems.push("`check` must report exactly 1 error (one defect per file)");
        }
        if !no_panic(&stdout) || !no_panic(&stderr) {
            problems.push("`check` must not panic or crash");
        }
        if !problems.is_empty() {
            failures.push(describe(file, &bullets("prospero check FILE", &problems), &out));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing command(s) across {} malformed files:\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn errors_point_at_the_defect() {
    // (file, line, column). `None` for the column where only the line is
    // pinned: a truncated file is reported at the end of its last line, and
    // whether that is the last character or just past it is the parser's
    // convention.
    let expected: [(&str, u32, Option<u32>); 16] = [
        // The second `"id": "e"` value, not the first (line 5).
        ("native_duplicate_id.json", 6, Some(12)),
        // The second `"2"` key of "actions".
        ("studio_duplicate_action_key.json", 6, Some(5)),
        // The second <ActionStruct> with ActionID 2, not the first (line 8).
        ("xml_duplicate_actionid.xml", 13, Some(3)),
        // The second "Value" key in the same action.
        ("native_duplicate_property_key.json", 7, Some(6)),
        // Truncated files: the last line (5, 11 and 11 lines long).
        ("native_truncated.json", 5, None),
        ("studio_truncated.json", 11, None),
        ("xml_truncated_in_element.xml", 11, None),
        // The first NUL byte / the first invalid UTF-8 byte.
        ("nul_bytes.json", 3, Some(15)),
        ("binary_invalid_utf8.bin", 2, Some(15)),
        // The wrong end tag `</Action>`.
        ("xml_mismatched_end_tag.xml", 11, Some(17)),
        // The Expression property value.
        ("native_if_bad_expression.json", 6, Some(20)),
        // The {"file": "nope.snippet"} property value.
        ("native_missing_snippet_file.json", 6, Some(15)),
        // The "7" entry of "properties".
        ("studio_properties_for_missing_action.json", 9, Some(10)),
        // The FROBNICATE action object.
        ("native_unknown_action.json", 7, Some(5)),
        // The first non-blank character (line 1 is empty).
        ("plain_text.txt", 2, Some(1)),
        // The "Fax" value of "media".
        ("native_unknown_media.json", 3, Some(12)),
    ];

    let mut failures: Vec<String> = Vec::new();
    for (name, line, column) in expected {
        let file = format!("{DIR}/{name}");
        let want = match column {
            Some(c) => format!("{line}:{c}"),
            None => format!("{line}:*"),
        };
        let matches = |got: (u32, u32)| got.0 == line && column.is_none_or(|c| got.1 == c);

        let out = check(&file);
        match check_error_location(&String::from_utf8_lossy(&out.stdout), &file) {
            Some(got) if matches(got) => {}
            got => failures.push(describe(
                &file,
                &format!("`check` error should point at {want}, got {}", show(got)),
                &out,
            )),
        }
        let out = run(&file);
        match location_after(&String::from_utf8_lossy(&out.stderr), &file) {
            Some(got) if matches(got) => {}
            got => {
                failures.push(describe(&file, &format!("`run` error should point at {want}, got {}", show(got)), &out))
            }
        }
    }
    assert!(failures.is_empty(), "{} wrong location(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

fn show(pos: Option<(u32, u32)>) -> String {
    match pos {
        Some((l, c)) => format!("{l}:{c}"),
        None => "no FILE:<line>:<col> at all".into(),
    }
}

/// Inputs built at test time (some are large) that once crashed the
/// process: each must end in a clean diagnostic. Regression tests for the
/// bugs the malformed-input review found.
#[test]
fn hostile_inputs_are_diagnosed_not_crashed_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).expect("write input");
        p.display().to_string()
    };
    // Web Studio property keys that read as NaN once broke the sort (panic).
    let keys = ["NaN", "1", "nAN", "7", "NAN", "+nan", "6", "+Nan", "-nan", "4", "-Nan", "2"];
    let props: Vec<String> = keys.iter().map(|k| format!("\"{k}\": {{\"name\": \"P{k}\", \"value\": \"\"}}")).collect();
    let nan = write(
        "nan_keys.json",
        format!(
            r#"{{"header": {{"scriptName": "n"}}, "actions": {{"1": {{"name": "BEGIN"}}, "2": {{"name": "END"}}}},
            "properties": {{"1": {{{}}}}}, "branches": {{"1": [{{"to": 2, "type": "default"}}]}}}}"#,
            props.join(", ")
        )
        .as_bytes(),
    );
    // A deeply nested expression once overflowed the parser's stack.
    let deep_expr = write(
        "deep_expression.json",
        format!(
            r#"{{"name": "d", "actions": [{{"id": "b", "action": "BEGIN", "next": "i"}},
            {{"id": "i", "action": "IF", "Expression": "{}1{}", "next": "e"}}, {{"id": "e", "action": "END"}}]}}"#,
            "(".repeat(3000),
            ")".repeat(3000)
        )
        .as_bytes(),
    );
    // Deeply nested XML once overflowed the loader's stack.
    let deep_xml = write("deep.xml", format!("{}{}", "<a>".repeat(50_000), "</a>".repeat(50_000)).as_bytes());
    // A binary snippet file's error once named only the snippet file.
    write("bin.snippet", b"a\0b");
    let snippet = write(
        "uses_bin.json",
        br#"{"name": "u", "actions": [{"id": "b", "action": "BEGIN", "next": "a"},
        {"id": "a", "action": "ASSIGN", "Variable": "x", "Value": {"file": "bin.snippet"}, "next": "e"},
        {"id": "e", "action": "END"}]}"#,
    );
    for (file, expect) in [
        (&nan, "duplicate-property"),
        (&deep_expr, "nested too deeply"),
        (&deep_xml, "nested too deeply"),
        (&snippet, "bin.snippet"),
    ] {
        let out = check(file);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{file}: {text}");
        assert!(no_panic(&text) && !text.contains("overflow"), "{file}: {text}");
        assert!(text.contains(expect), "{file}: expected {expect:?} in {text}");
        assert!(text.contains(&format!("{file}:")), "{file}: the script file is named: {text}");
    }
}

/// Writing into a closed pipe (`prospero check x | head -1`) ends quietly.
#[test]
fn a_closed_stdout_pipe_is_not_a_crash() {
    use std::io::Read;
    // Far more output than a pipe buffers (3,000 warnings), so the writes
    // really meet the closed pipe.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut actions = vec![r#"{"id": "b", "action": "BEGIN", "next": "e"}, {"id": "e", "action": "END"}"#.to_string()];
    for i in 0..3000 {
        actions.push(format!(r#"{{"id": "orphan{i}", "action": "END", "caption": "Nobody comes here"}}"#));
    }
    let file = dir.path().join("noisy.json");
    std::fs::write(&file, format!(r#"{{"name": "noisy", "actions": [{}]}}"#, actions.join(","))).expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_prospero"))
        .args(["check", &file.display().to_string()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Read one byte, then close our end of the pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).expect("some output");
    drop(stdout);
    let status = child.wait().expect("exits");
    let mut err = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut err).expect("stderr");
    assert!(no_panic(&err), "{err}");
    assert_ne!(status.code(), Some(101), "a panic exit code: {err}");
}
