//! Hostile scripts, timed: every case of `tests/hostile.rs` through the
//! real (optimised) binary, with its exit, peak memory and wall time, so
//! the closing figures of the hardening work can be re-measured:
//!
//! ```sh
//! cargo bench --bench hostile
//! ```
//!
//! Each case must end in a few seconds at most; the table says how long
//! each took. Nothing here asserts a time (the machine is noisy); a case
//! that ends by a signal or with the wrong exit code fails the command.

#[path = "../tests/hostile_cases/mod.rs"]
mod hostile_cases;

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bin = Path::new(env!("CARGO_BIN_EXE_prospero"));
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let mut failed = 0;
    println!("{:<56} {:>5} {:>9} {:>9}", "case", "exit", "peak MiB", "wall s");
    let cases = hostile_cases::run_cases(&root, tmp.path())
        .into_iter()
        .chain(hostile_cases::load_cases(tmp.path()))
        .chain(hostile_cases::unit_cases(tmp.path()));
    for case in cases {
        let m = hostile_cases::measure(bin, &root, &case.args);
        let ok = m.signal.is_none() && m.code == Some(case.code) && hostile_cases::outcome_text(&m).contains(case.says);
        if !ok {
            failed += 1;
        }
        println!(
            "{:<56} {:>5} {:>9.1} {:>9.3}{}",
            case.name,
            m.code.map(|c| c.to_string()).unwrap_or_else(|| format!("sig{}", m.signal.unwrap_or(0))),
            m.peak_kib as f64 / 1024.0,
            m.wall.as_secs_f64(),
            if ok { "" } else { "  UNEXPECTED" }
        );
    }
    if failed > 0 {
        eprintln!("{failed} case(s) ended unexpectedly");
        std::process::exit(1);
    }
}
