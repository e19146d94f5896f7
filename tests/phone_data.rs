//! The committed reference tables under `data/` are exactly what their
//! generators produce: rerun each generator into a temporary directory and
//! compare bytes. A missing Python package fails the test (it never skips),
//! since a skipped check would let a hand edit or a stale table through.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `tools/<script> <dir>/<table>` and compare every file it writes with
/// the committed copy under `data/`.
fn regenerate_and_compare(script: &str, table: &str, also: &[&str], install: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join(table);
    let run = Command::new("python3").arg(root().join("tools").join(script)).arg(&out).current_dir(root()).output();
    let run = match run {
        Ok(run) => run,
        Err(e) => panic!("cannot run python3 ({e}); install Python 3 and then `pip install {install}`"),
    };
    assert!(
        run.status.success(),
        "tools/{script} failed ({}); if a package is missing: `pip install {install}`\nstdout:\n{}\nstderr:\n{}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    for name in std::iter::once(&table).chain(also) {
        compare(&dir.path().join(name), &root().join("data").join(name), script, install);
    }
}

fn compare(fresh: &Path, committed: &Path, script: &str, install: &str) {
    let fresh_bytes =
        std::fs::read(fresh).unwrap_or_else(|e| panic!("{script} did not write {}: {e}", fresh.display()));
    let committed_bytes = std::fs::read(committed).unwrap_or_else(|e| panic!("{}: {e}", committed.display()));
    if fresh_bytes != committed_bytes {
        let fresh_text = String::from_utf8_lossy(&fresh_bytes);
        let committed_text = String::from_utf8_lossy(&committed_bytes);
        let first_diff = fresh_text
            .lines()
            .zip(committed_text.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}:\n  generated: {a}\n  committed: {b}", i + 1))
            .unwrap_or_else(|| "one file is a prefix of the other".to_string());
        panic!(
            "{} differs from what tools/{script} generates ({} vs {} bytes); {first_diff}\n\
             check the package version (`pip install {install}`), then rerun the generator and commit",
            committed.display(),
            fresh_bytes.len(),
            committed_bytes.len()
        );
    }
}

#[test]
fn phone_zone_table_matches_its_generator() {
    regenerate_and_compare(
        "gen_phone_zones.py",
        "phone_zones.tsv",
        &["LICENSE-libphonenumber.txt"],
        "phonenumbers==9.0.43",
    );
}

#[test]
fn windows_zone_table_matches_its_generator() {
    regenerate_and_compare("gen_windows_zones.py", "windows_zones.tsv", &["LICENSE-cldr.txt"], "babel==2.18.0");
}
