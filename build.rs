//! Embeds what the packs are made of, so the binary works from any
//! directory: each folder `actions/<pack>/` becomes a list of manifests
//! (`$OUT_DIR/manifests_<pack>.rs`, included by that pack), and each folder
//! `migrations/<backend>/<pack>/` one `sqlx::migrate!` set of the backend's
//! single migration history (`$OUT_DIR/migrations_<backend>.rs`, included by
//! the store). A new pack adds folders; this file does not change.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (pack, dir) in subfolders(&root.join("actions")) {
        let mut text = String::from("// Embedded manifests of this pack: (file name, TOML text).\n&[\n");
        for p in files(&dir, "toml") {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            text.push_str(&format!("    ({name:?}, include_str!({:?})),\n", p.display().to_string()));
        }
        text.push_str("]\n");
        write(&out.join(format!("manifests_{pack}.rs")), &text);
    }
    for backend in ["sqlite", "postgres"] {
        // `sqlx::migrate!` embeds the migrations: rebuild when they change.
        let mut text = String::from("// Every pack's migrations for this backend, by pack.\n&[\n");
        for (pack, dir) in subfolders(&root.join("migrations").join(backend)) {
            for f in files(&dir, "sql") {
                println!("cargo:rerun-if-changed={}", f.display());
            }
            text.push_str(&format!("    ({pack:?}, sqlx::migrate!(\"./migrations/{backend}/{pack}\")),\n"));
        }
        text.push_str("]\n");
        write(&out.join(format!("migrations_{backend}.rs")), &text);
    }
}

/// The sub-folders of `dir`, by name, each watched for new files.
fn subfolders(dir: &Path) -> Vec<(String, PathBuf)> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut v: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), p))
        .collect();
    v.sort();
    for (_, p) in &v {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    v
}

/// The files of `dir` ending in `.ext`, sorted, each watched.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == ext));
    v.sort();
    for p in &v {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    v
}

fn write(path: &Path, text: &str) {
    // Unchanged output keeps its timestamp, so nothing rebuilds for nothing.
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).expect("OUT_DIR is writable");
    }
}
