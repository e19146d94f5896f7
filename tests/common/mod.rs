//! What the integration tests share: running the real binary.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `prospero ARGS` from the repository root: (exit code, stdout, stderr).
pub fn prospero(args: &[&str]) -> (i32, String, String) {
    prospero_in(&root(), args)
}

/// Run `prospero ARGS` in `dir`.
pub fn prospero_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prospero"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the prospero binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
