//! Hostile inputs, shared by `tests/hostile.rs` (outcome and peak memory)
//! and `benches/hostile.rs` (wall time): each runs the real binary and is
//! measured from the OS (`wait4`: exit status, signal, peak resident set).

#![allow(dead_code)] // the test and the bench use different parts

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How a process ended, as the OS saw it.
#[derive(Debug)]
pub struct Measured {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Peak resident set size, in KiB.
    pub peak_kib: u64,
    /// Wall time.
    pub wall: Duration,
    /// Standard output, whole when under [`WHOLE`]; otherwise its first and
    /// last 16 KiB (a report of hundreds of megabytes is not held here).
    pub stdout: String,
    /// Bytes of standard output.
    pub stdout_len: u64,
    pub stderr: String,
}

/// Outputs up to this size are kept whole.
pub const WHOLE: u64 = 4 << 20;

impl Measured {
    /// The stdout of a `--json` run, parsed (small outputs), or its
    /// `status`, `return` and `error` members read from their own lines
    /// (`run --json` writes one member per line).
    pub fn json(&self) -> serde_json::Value {
        if self.stdout_len <= WHOLE {
            return parse(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {:.2000}", self.stdout));
        }
        let mut j = serde_json::json!({});
        for line in self.stdout.lines() {
            for name in ["status", "return", "error"] {
                if let Some(rest) = line.strip_prefix(&format!("  \"{name}\": ")) {
                    let text = rest.strip_suffix(',').unwrap_or(rest);
                    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
                        j[name] = v;
                    }
                }
            }
        }
        j
    }
}

/// JSON text nested deeper than serde_json's default limit (reports of
/// values nested to the run's limit).
pub fn parse(text: &str) -> serde_json::Result<serde_json::Value> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let v = serde_json::Value::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Run `bin ARGS` in `dir` and measure it.
pub fn measure(bin: &Path, dir: &Path, args: &[String]) -> Measured {
    let started = Instant::now();
    // Output goes to a file: this process stays small, which matters
    // because Linux counts a spawning process's own peak into its child's
    // (the child starts as a copy of it, before exec).
    let out_file = tempfile::tempfile().expect("a temporary file");
    let child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out_file.try_clone().expect("the file again"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("the prospero binary starts");
    let pid = child.id() as libc::pid_t;
    let mut child = child;
    let mut err = child.stderr.take().expect("piped");
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut err, &mut s).ok();
        s
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child with valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    let wall = started.elapsed();
    let (stdout, stdout_len) = read_ends(out_file);
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Measured { code, signal, peak_kib: usage.ru_maxrss as u64, wall, stdout, stdout_len, stderr }
}

/// A file's text, or its first and last 16 KiB when it is large.
fn read_ends(mut f: std::fs::File) -> (String, u64) {
    use std::io::{Read, Seek, SeekFrom};
    let len = f.seek(SeekFrom::End(0)).unwrap_or(0);
    let mut text = Vec::new();
    if len <= WHOLE {
        f.seek(SeekFrom::Start(0)).ok();
        f.read_to_end(&mut text).ok();
    } else {
        let mut head = vec![0; 16 << 10];
        f.seek(SeekFrom::Start(0)).ok();
        f.read_exact(&mut head).ok();
        let mut tail = vec![0; 16 << 10];
        f.seek(SeekFrom::End(-(16 << 10))).ok();
        f.read_exact(&mut tail).ok();
        text = [head, b"\n".to_vec(), tail].concat();
    }
    (String::from_utf8_lossy(&text).into_owned(), len)
}

/// The fixture folder of hostile scripts.
pub fn fixtures(root: &Path) -> PathBuf {
    root.join("tests/fixtures/hostile")
}

/// One hostile case: the command line and what it must end with.
pub struct Case {
    pub name: &'static str,
    pub args: Vec<String>,
    /// Expected exit code.
    pub code: i32,
    /// Text the JSON report's `status` must be (when the case prints one).
    pub status: Option<&'static str>,
    /// Text the outcome must contain (`error`, `return` or stderr).
    pub says: &'static str,
}

fn run_args(root: &Path, script: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec!["run".into(), fixtures(root).join(script).display().to_string()];
    a.extend(["--db", "sqlite::memory:", "--json"].iter().map(|s| s.to_string()));
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// The run-time cases (loading cases are built by the tests that need
/// large generated files).
pub fn run_cases(root: &Path, tmp: &Path) -> Vec<Case> {
    let trace = tmp.join("flood.trace").display().to_string();
    vec![
        Case {
            name: "stack: 20,000 nested dialect objects",
            args: run_args(root, "deep_objects.json", &[]),
            code: 0,
            status: Some("completed"),
            says: "value nesting budget exceeded (limit 256 levels)",
        },
        Case {
            name: "stack: 5,000 nested rhai arrays and maps",
            args: run_args(root, "deep_rhai_arrays.json", &[]),
            code: 0,
            status: Some("completed"),
            says: "value nesting budget exceeded (limit 256 levels)",
        },
        Case {
            name: "stack: recursive rhai and dialect functions",
            args: run_args(root, "deep_recursion.json", &[]),
            code: 0,
            status: Some("completed"),
            says: "caught: line 2: call depth budget exceeded (limit 64) / line 7: call depth budget exceeded (limit 64)",
        },
        Case {
            name: "memory: members indexed near a million",
            args: run_args(root, "memory_indexed.json", &[]),
            code: 1,
            status: Some("budget_exceeded"),
            says: "memory budget exceeded",
        },
        Case {
            name: "memory: thousands of 512 KiB strings in one object",
            args: run_args(root, "memory_strings.json", &[]),
            code: 1,
            status: Some("budget_exceeded"),
            says: "memory budget exceeded",
        },
        Case {
            name: "spawn: a script that spawns itself twice",
            args: run_args(root, "spawn_self.json", &[]),
            code: 1,
            status: Some("completed"),
            says: "SPAWN depth budget exceeded",
        },
        Case {
            name: "spawn: total spawned runs per root",
            args: run_args(root, "spawn_self.json", &["--max-spawns", "20"]),
            code: 1,
            status: Some("completed"),
            says: "spawn budget exceeded: more than 20 runs",
        },
        Case {
            name: "spawn: process-wide cap on concurrent runs",
            args: run_args(root, "spawn_self.json", &["--max-concurrent-runs", "1"]),
            code: 1,
            status: Some("budget_exceeded"),
            says: "too many concurrent runs",
        },
        Case {
            name: "growth: 20,000 appended elements and members",
            args: run_args(root, "grow_array.json", &[]),
            code: 0,
            status: Some("completed"),
            says: "40000",
        },
        Case {
            name: "wait: an hour's WAIT on a 1 s wall-clock budget",
            args: run_args(root, "long_wait.json", &["--max-seconds", "1"]),
            code: 1,
            status: Some("budget_exceeded"),
            says: "wall-clock budget exceeded",
        },
        Case {
            name: "wait: a WAIT over a year",
            args: run_args(root, "wait_years.json", &[]),
            code: 0,
            status: Some("completed"),
            says: "between 0 and one year",
        },
        Case {
            name: "trace: TRACE of 64 KiB in a loop",
            args: run_args(root, "trace_flood.json", &["--trace", &trace, "--max-trace-mb", "4"]),
            code: 1,
            status: Some("budget_exceeded"),
            says: "trace budget exceeded",
        },
    ]
}

/// A native chain: BEGIN, then `n - 1` ASSIGNs, each wired to the next,
/// then END (it checks clean).
pub fn chain(n: usize) -> String {
    let mut s = String::from(r#"{"name":"chain","actions":[{"id":"a0","action":"BEGIN","next":"a1"}"#);
    for i in 1..n {
        let _ = write!(s, r#",{{"id":"a{i}","action":"ASSIGN","Variable":"x","Value":"1","next":"a{}"}}"#, i + 1);
    }
    let _ = write!(s, r#",{{"id":"a{n}","action":"END"}}]}}"#);
    s
}

/// The same chain as Desktop Studio XML.
pub fn xml_chain(n: usize) -> String {
    let mut s = String::from("<Script><ScriptName>chain</ScriptName><Actions>");
    for i in 0..n {
        let next = if i + 1 < n { i as i64 + 2 } else { -1 };
        let (kind, props) =
            if i == 0 { ("BEGIN", String::new()) } else { ("ASSIGN", "<Variable>x</Variable><Value>1</Value>".into()) };
        let _ = writeln!(
            s,
            "<ActionStruct><ActionID>{}</ActionID><Action>{kind}</Action>{props}\
             <DefaultNextAction><Text /><ActionID>{next}</ActionID></DefaultNextAction></ActionStruct>",
            i + 1
        );
    }
    s.push_str("</Actions></Script>");
    s
}

/// A script whose ASSIGN has `value` as its Value.
pub fn one_value(value: &str) -> String {
    let value = serde_json::to_string(value).expect("json string");
    format!(
        r#"{{"name":"v","actions":[{{"id":"a0","action":"BEGIN","next":"a1"}},
{{"id":"a1","action":"ASSIGN","Variable":"x","Value":{value}}}]}}"#
    )
}

/// `{` nested `n` deep around `x`: `{{{...x...}}}`.
pub fn nested(n: usize) -> String {
    format!("{}x{}", "{".repeat(n), "}".repeat(n))
}

/// `{1+1+...+1}`: a flat expression of `n` terms in one substitution.
pub fn flat(n: usize) -> String {
    let mut s = String::with_capacity(n * 2 + 2);
    s.push('{');
    for i in 0..n {
        if i > 0 {
            s.push('+');
        }
        s.push('1');
    }
    s.push('}');
    s
}

fn check_args(file: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = vec!["check".to_string(), file.display().to_string()];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// The loading cases: their files are written into `tmp`.
pub fn load_cases(tmp: &Path) -> Vec<Case> {
    let write = |name: &str, text: String| -> PathBuf {
        let p = tmp.join(name);
        std::fs::write(&p, text).expect("a temporary file");
        p
    };
    let chain_file = write("chain200k.json", chain(200_000));
    let nested_file = write("nested100k.json", one_value(&nested(100_000)));
    let flat_file = write("flat3m.json", one_value(&flat(3_000_000)));
    let flat_small = write("flat300.json", one_value(&flat(300)));
    vec![
        Case {
            name: "load: a chain of 200,000 actions",
            args: check_args(&chain_file, &[]),
            code: 0,
            status: None,
            says: "0 errors, 0 warnings",
        },
        Case {
            name: "load: 100,000 nested substitutions in one property",
            args: check_args(&nested_file, &[]),
            code: 1,
            status: None,
            says: "nested too deeply (more than 256 levels)",
        },
        Case {
            name: "load: a flat expression of 3 million terms (6 MB)",
            args: check_args(&flat_file, &[]),
            code: 1,
            status: None,
            says: "over the limit of 1048576 bytes for one property",
        },
        Case {
            name: "load: a flat expression of 300 terms",
            args: check_args(&flat_small, &[]),
            code: 1,
            status: None,
            says: "nested too deeply",
        },
        Case {
            name: "load: a script over the size limit",
            args: check_args(&chain_file, &["--max-script-bytes", "1000000"]),
            code: 1,
            status: None,
            says: "over the limit of 1000000 bytes",
        },
    ]
}

/// The business-unit cases: a name without a word, and a read of a unit
/// that does not exist (the store is a file in `tmp`).
pub fn unit_cases(tmp: &Path) -> Vec<Case> {
    let db = tmp.join("units.db").display().to_string();
    let args = |unit: &str| -> Vec<String> {
        ["skills", "list", "--db", &db, "--unit", unit].iter().map(|s| s.to_string()).collect()
    };
    vec![
        Case {
            name: "units: a name without a word",
            args: args(" \t"),
            code: 2,
            status: None,
            says: "[a-z0-9][a-z0-9._-]{0,63}",
        },
        Case {
            name: "units: listing a unit that does not exist",
            args: args(" VICTIM\t"),
            code: 2,
            status: None,
            says: "no business unit 'victim'",
        },
    ]
}

/// Everything a case's outcome says, for matching `says` against.
pub fn outcome_text(m: &Measured) -> String {
    let mut text = m.stderr.clone();
    if (m.stdout_len > WHOLE && m.stdout.starts_with('{')) || parse(&m.stdout).is_ok() {
        let j = m.json();
        text.push_str(&j["error"].to_string());
        text.push_str(&j["return"].to_string());
    } else {
        text.push_str(&m.stdout);
    }
    text
}
