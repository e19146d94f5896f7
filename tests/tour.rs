//! The README's tour, command by command, as a new user types it: the
//! commands are read from the README itself (its `## A short tour` block)
//! and run by bash in a fresh folder holding copies of `scripts/` and
//! `tests/fixtures/`, with `prospero` on the PATH and no database yet.
//! Each command's exit code and the key line of its output are checked, so
//! the README cannot drift from what the binary does.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one tour command must do: the start of its text, its exit code,
/// and a line (or part of one) its output must hold.
struct Step {
    starts: &'static str,
    code: i32,
    key: &'static str,
}

const STEPS: &[Step] = &[
    Step {
        starts: "prospero check scripts/hello.json tests/fixtures/check/many_problems.json",
        code: 1,
        key: "many_problems.json:",
    },
    Step { starts: "prospero run tests/fixtures/order_flow.xml", code: 0, key: "\"status\": \"completed\"" },
    Step { starts: "prospero run scripts/hello.json --now", code: 0, key: "completed" },
    Step { starts: "prospero replay run.jsonl   ", code: 0, key: "identical" },
    Step { starts: "prospero replay run.jsonl --script scripts/hello.v2.json", code: 1, key: "Main" },
    Step { starts: "prospero test scripts   ", code: 0, key: " passed, 0 failed" },
    Step { starts: "prospero test scripts --junit report.xml --coverage-out coverage.json", code: 0, key: "branches" },
    Step { starts: "prospero graph scripts/hello.json --coverage coverage.json", code: 0, key: "uncovered" },
    Step { starts: "prospero graph scripts/hello.json --trace run.jsonl --format dot | dot -Tsvg", code: 0, key: "" },
    Step { starts: "prospero export scripts/hello.json --format studio-json", code: 0, key: "\"actions\"" },
    Step { starts: "prospero actions   ", code: 0, key: "CREATEPROSPECTS" },
    Step { starts: "prospero actions RUNSUB", code: 0, key: "ReturnVariable" },
    Step { starts: "prospero actions SNIPPET", code: 0, key: "SNIPPET" },
    Step { starts: "prospero skills add 4100", code: 0, key: "4100" },
    Step { starts: "prospero skills list", code: 0, key: "Renewals" },
    Step { starts: "prospero leads import scripts/data/leads.csv", code: 0, key: "crm" },
    Step { starts: "prospero run scripts/source_setup.json", code: 0, key: "return: map stored" },
    Step { starts: "prospero run scripts/brain.json", code: 0, key: "\"Received\":\"500\"" },
    Step { starts: "prospero demo --db postgres://", code: 0, key: "received   1200" },
    Step { starts: "prospero users add ann --role agent", code: 0, key: "added ann" },
    Step { starts: "prospero contacts add --first-name Ada", code: 0, key: "+12127365000 (added)" },
    Step { starts: "prospero contacts find --phone", code: 0, key: "1 contact(s) found" },
    Step { starts: "prospero contacts import scripts/data/crm-export.csv --validate-only", code: 0, key: "6 valid" },
    Step { starts: "prospero contacts import scripts/data/crm-export.csv --log", code: 0, key: "7 not imported" },
    Step { starts: "prospero contacts jobs", code: 0, key: "completed" },
    Step {
        starts: "prospero run scripts/caller_lookup.json --param ani=212.736.5000",
        code: 0,
        key: "return: known: Ada Lovelace (1 with this number)",
    },
    Step {
        starts: "prospero run scripts/caller_lookup.json --param ani=\"(646) 555-0123\"",
        code: 0,
        key: "permission denied: externalContacts:contact:add",
    },
    Step { starts: "prospero tz 270-202-0100 213-555-0142", code: 0, key: "mismatch" },
];

/// The tour's commands, continuation lines joined, in README order.
fn tour_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(common::root().join("README.md")).expect("README.md");
    let after = readme.split("## A short tour").nth(1).expect("the README has a tour");
    let block = after.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("a sh block");
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in block.lines() {
        let line = line.trim_end();
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line.trim_start());
        let cmd = std::mem::take(&mut current);
        if !cmd.trim().is_empty() {
            commands.push(cmd);
        }
    }
    commands
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

#[test]
fn every_readme_tour_command_works_as_written() {
    let dir = tempfile::tempdir().expect("temporary folder");
    copy_dir(&common::root().join("scripts"), &dir.path().join("scripts"));
    copy_dir(&common::root().join("tests/fixtures"), &dir.path().join("tests/fixtures"));
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_prospero"));
    let path = format!("{}:{}", bin.parent().expect("bin folder").display(), std::env::var("PATH").unwrap_or_default());
    let commands = tour_commands();
    assert!(commands.len() >= STEPS.len(), "the tour lost commands: {commands:#?}");
    for cmd in &commands {
        let padded = format!("{cmd}   ");
        let step = STEPS
            .iter()
            .find(|s| padded.starts_with(s.starts))
            .unwrap_or_else(|| panic!("tour command without an expectation in tests/tour.rs: {cmd}"));
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", cmd])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .expect("bash runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(step.code), "{cmd}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        assert!(
            stdout.contains(step.key) || stderr.contains(step.key),
            "{cmd}: no '{}' in its output\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            step.key
        );
    }
    for step in STEPS {
        assert!(
            commands.iter().any(|c| format!("{c}   ").starts_with(step.starts)),
            "tests/tour.rs expects a tour command the README no longer has: {}",
            step.starts
        );
    }
    let svg = std::fs::read_to_string(dir.path().join("hello.svg")).expect("the graph step wrote hello.svg");
    assert!(svg.contains("<svg"), "hello.svg is an SVG");
}
