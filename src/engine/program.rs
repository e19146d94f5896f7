//! Programs: checked, linked scripts bound to their action implementations,
//! and the script library RUNSUB, RUNSCRIPT and SPAWN draw from.

use super::action::Action;
use crate::catalog::Manifest;
use crate::script::check::{Diagnostic, LinkedAction, Severity};
use crate::script::{self, LoadError, Script};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One action ready to run.
pub(crate) struct Step {
    pub id: Arc<str>,
    /// The manifest's action name.
    pub kind: Arc<str>,
    pub caption: String,
    pub action: Arc<dyn Action>,
    pub manifest: Arc<Manifest>,
    pub linked: LinkedAction,
    /// What the step's trace events hold at every visit, rendered once.
    pub trace: super::trace::StepText,
}

/// A script that passed the checker, with every action bound to its
/// implementation and every property compiled.
pub struct Program {
    /// The script model.
    pub script: Script,
    /// SHA-256 of the script file (or of its model when built in memory).
    pub hash: String,
    /// Warnings the checker reported.
    pub warnings: Vec<Diagnostic>,
    pub(crate) steps: Vec<Step>,
    pub(crate) begin: usize,
    pub(crate) name: Arc<str>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Program").field("name", &self.script.name).field("hash", &self.hash).finish()
    }
}

/// Why a script could not be made into a program.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadFailure {
    /// The file did not load.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The checker found errors (all of them are listed).
    #[error("{}", render(.0))]
    Check(Vec<Diagnostic>),
    /// A script named by RUNSUB, RUNSCRIPT or SPAWN is not in the library.
    #[error("script '{0}' is not in the script library")]
    NotFound(String),
}

fn render(diags: &[Diagnostic]) -> String {
    diags.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n")
}

impl LoadFailure {
    /// Every error as a diagnostic line.
    pub fn lines(&self) -> Vec<String> {
        match self {
            LoadFailure::Check(d) => {
                d.iter().filter(|d| d.severity == Severity::Error).map(|d| d.to_string()).collect()
            }
            other => vec![other.to_string()],
        }
    }
}

/// SHA-256 of `bytes`, hex.
pub fn hash_bytes(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The folders and in-memory scripts that sub scripts are found in, and the
/// programs built from them (each built once).
pub(crate) struct Library {
    dirs: Mutex<Vec<PathBuf>>,
    programs: Mutex<HashMap<String, Arc<Program>>>,
    index: Mutex<Option<HashMap<String, PathBuf>>>,
}

impl Library {
    pub fn new(dirs: Vec<PathBuf>) -> Library {
        Library { dirs: Mutex::new(dirs), programs: Mutex::new(HashMap::new()), index: Mutex::new(None) }
    }

    /// Add a folder (searched after the ones already known).
    pub fn add_dir(&self, dir: &Path) {
        if let Ok(mut dirs) = self.dirs.lock()
            && !dirs.iter().any(|d| d == dir)
        {
            dirs.push(dir.to_path_buf());
            if let Ok(mut idx) = self.index.lock() {
                *idx = None;
            }
        }
    }

    fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// The file holding script `name`: a `.json` or `.xml` file in a library
    /// folder whose name up to the first dot is `name` (any case).
    pub fn find_file(&self, name: &str) -> Option<PathBuf> {
        let mut idx = self.index.lock().ok()?;
        if idx.is_none() {
            let mut map = HashMap::new();
            let dirs = self.dirs.lock().map(|d| d.clone()).unwrap_or_default();
            for dir in dirs {
                let Ok(rd) = std::fs::read_dir(&dir) else {
                    continue;
                };
                let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                files.sort();
                for f in files {
                    let ext = f.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
                    if f.is_file() && (ext == "json" || ext == "xml") {
                        map.entry(Self::key(&script::script_stem(&f))).or_insert(f);
                    }
                }
            }
            *idx = Some(map);
        }
        idx.as_ref().and_then(|m| m.get(&Self::key(name)).cloned())
    }

    pub fn exists(&self, name: &str) -> bool {
        self.cached(name).is_some() || self.find_file(name).is_some()
    }

    pub fn cached(&self, name: &str) -> Option<Arc<Program>> {
        self.programs.lock().ok()?.get(&Self::key(name)).cloned()
    }

    pub fn insert(&self, name: &str, p: Arc<Program>) {
        if let Ok(mut m) = self.programs.lock() {
            m.insert(Self::key(name), p);
        }
    }
}
