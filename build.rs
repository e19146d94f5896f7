//! Embeds the action catalog (`actions/*.toml`) into the library so the
//! binary works from any directory, and rebuilds when migrations change.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    // `sqlx::migrate!` embeds the migrations: rebuild when they change.
    for backend in ["sqlite", "postgres"] {
        let m = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        println!("cargo:rerun-if-changed={}", m.display());
        for f in fs::read_dir(&m)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            println!("cargo:rerun-if-changed={}", f.display());
        }
    }
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("actions");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut entries: Vec<PathBuf> =
        fs::read_dir(&dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    entries.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    entries.sort();
    let mut out = String::from(
        "/// Embedded manifests: (file name, TOML text).\npub(crate) static MANIFESTS: &[(&str, &str)] = &[\n",
    );
    for p in &entries {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push_str(&format!("    ({name:?}, include_str!({:?})),\n", p.display().to_string()));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("manifests.rs");
    fs::write(dest, out).expect("OUT_DIR is writable");
}
