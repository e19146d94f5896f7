//! `prospero`: the command line, thin over the library.
//!
//! Exit codes: 0 success (a completed run, a clean check), 1 a run that
//! failed or went over budget / a check with errors, 2 a script or
//! arguments that cannot be used.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand, ValueEnum};
use prospero::Severity;
use prospero::engine::trace::TraceSink;
use prospero::script::{self, LoadErrorKind};
use prospero::{RunOptions, RunStatus, Runtime, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Write to stdout; a closed pipe (`prospero check x | head`) ends the
/// program quietly, as ripgrep does, instead of panicking.
fn emit(args: std::fmt::Arguments, newline: bool) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let r = out.write_fmt(args).and_then(|_| if newline { out.write_all(b"\n") } else { Ok(()) });
    if let Err(e) = r.and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("prospero: cannot write output: {e}");
        std::process::exit(2);
    }
}

macro_rules! outln {
    ($($t:tt)*) => { emit(format_args!($($t)*), true) };
}
macro_rules! out {
    ($($t:tt)*) => { emit(format_args!($($t)*), false) };
}

#[derive(Parser)]
#[command(name = "prospero", version, about = "Load, check, run and trace contact-center studio scripts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script (native JSON, web Studio JSON or Desktop Studio XML).
    Run {
        /// The script file.
        script: PathBuf,
        /// A parameter, `NAME=VALUE` (NAME is p1..p20 or a name BEGIN declares).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Folder of sub scripts (the script's own folder is searched too).
        #[arg(long, value_name = "DIR")]
        scripts: Option<PathBuf>,
        /// Store URL: a file path, sqlite::memory:, or postgres://...
        #[arg(long, value_name = "URL", default_value = "prospero.db")]
        db: String,
        /// Run on a virtual clock starting at this instant (WAIT does not sleep).
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Write a JSON Lines trace of the run to FILE.
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Seed for random numbers.
        #[arg(long)]
        seed: Option<u64>,
        /// Print exactly one JSON object with the run's outcome.
        #[arg(long)]
        json: bool,
    },
    /// Check scripts and report every problem with its location.
    Check {
        /// Script files.
        #[arg(required = true)]
        scripts: Vec<PathBuf>,
        /// Folder of sub scripts (each script's own folder is searched too).
        #[arg(long, value_name = "DIR")]
        library: Option<PathBuf>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List the action catalog, or describe one action.
    Actions {
        /// An action type name.
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Print the whole reference as Markdown (docs/actions.md).
        #[arg(long, conflicts_with_all = ["name", "json"])]
        markdown: bool,
    },
    /// Convert a script to another format.
    Export {
        /// The script file.
        script: PathBuf,
        /// Target format.
        #[arg(long, value_enum, default_value = "studio-json")]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    /// Web Studio JSON.
    StudioJson,
    /// Prospero's native JSON.
    Native,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { script, params, scripts, db, now, trace, seed, json } => {
            run(&script, &params, scripts.as_deref(), &db, now.as_deref(), trace.as_deref(), seed, json)
        }
        Command::Check { scripts, library, json } => check(&scripts, library.as_deref(), json),
        Command::Actions { markdown: true, .. } => {
            out!("{}", prospero::Catalog::builtin().markdown());
            Ok(ExitCode::SUCCESS)
        }
        Command::Actions { name, json, .. } => actions(name.as_deref(), json),
        Command::Export { script, format } => export(&script, format),
    };
    match result {
        Ok(code) => code,
        Err(e) => match e.downcast::<UsageError>() {
            Ok(u) => {
                eprintln!("prospero: {}", u.0);
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("prospero: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// A script or argument that cannot be used: exit 2 with the message.
#[derive(Debug)]
struct UsageError(String);
impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

#[allow(clippy::too_many_arguments)]
fn run(
    path: &Path,
    params: &[String],
    scripts: Option<&Path>,
    db: &str,
    now: Option<&str>,
    trace: Option<&Path>,
    seed: Option<u64>,
    json: bool,
) -> Result<ExitCode> {
    let mut builder = Runtime::builder().db(db);
    if let Some(dir) = scripts {
        if !dir.is_dir() {
            return Err(usage(format!("--scripts {}: not a folder", dir.display())));
        }
        builder = builder.scripts_dir(dir);
    }
    let runtime = builder.build();
    let program = runtime.load(path).map_err(|e| usage(e.lines().join("\n")))?;

    let mut opts = RunOptions::new();
    for p in params {
        let (name, value) = p.split_once('=').ok_or_else(|| usage(format!("--param {p}: expected NAME=VALUE")))?;
        opts = opts.param(name.trim(), Value::text(value));
    }
    if let Some(t) = now {
        let at = chrono::DateTime::parse_from_rfc3339(t.trim())
            .map_err(|e| usage(format!("--now {t}: not an RFC 3339 instant ({e})")))?;
        opts = opts.at(at.with_timezone(&chrono::Utc));
    }
    if let Some(file) = trace {
        let sink = TraceSink::file(file).map_err(|e| usage(format!("--trace {}: {e}", file.display())))?;
        opts = opts.trace(sink);
    }
    opts.seed = seed;
    if db.contains("://") && !(db.starts_with("postgres") || db.starts_with("sqlite:")) {
        return Err(usage(format!("--db {db}: use a file path, sqlite:..., sqlite::memory: or postgres://...")));
    }

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    let (report, store_note) = rt.block_on(async {
        let report = runtime.run(&program, opts).await.map_err(|e| usage(e.to_string()))?;
        runtime.wait_spawned().await;
        let note = runtime.record(&program, &report).await.err().map(|e| format!("run not logged: {e}"));
        Ok::<_, anyhow::Error>((report, note))
    })?;
    if let Some(n) = store_note {
        eprintln!("prospero: warning: {n}");
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print_report(&report);
    }
    Ok(match report.status {
        RunStatus::Completed => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

fn print_report(r: &prospero::RunReport) {
    outln!("{} {} in {} steps", r.script, r.status.name(), r.steps);
    if let Some(e) = &r.error {
        outln!("error: {e}");
    }
    if let Some(v) = &r.return_value {
        outln!("return: {v}");
    }
    for note in &r.notes {
        outln!("note: {note}");
    }
    if !r.variables.is_empty() {
        outln!("variables:");
        for (name, v) in r.variables.iter() {
            outln!("  {name} = {v}");
        }
    }
}

fn check(paths: &[PathBuf], library: Option<&Path>, json: bool) -> Result<ExitCode> {
    let mut builder = Runtime::builder();
    if let Some(dir) = library {
        builder = builder.scripts_dir(dir);
    }
    let runtime = builder.build();
    let mut files = Vec::new();
    let (mut errors, mut warnings) = (0usize, 0usize);
    for path in paths {
        let diags: Vec<prospero::Diagnostic> = match script::load_file(path) {
            Ok(s) => runtime.check(&s),
            Err(e) => vec![prospero::Diagnostic {
                severity: Severity::Error,
                code: load_code(e.kind),
                file: e.file.clone(),
                pos: e.pos,
                action: e.action.clone(),
                message: e.message.clone(),
            }],
        };
        let e = diags.iter().filter(|d| d.severity == Severity::Error).count();
        let w = diags.len() - e;
        errors += e;
        warnings += w;
        if !json {
            for d in &diags {
                outln!("{d}");
            }
        }
        files.push(serde_json::json!({
            "file": path.display().to_string(),
            "errors": e,
            "warnings": w,
            "diagnostics": diags.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
        }));
    }
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"files": files, "errors": errors, "warnings": warnings}))?
        );
    } else {
        outln!(
            "{} error{}, {} warning{} in {} file{}",
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" },
            paths.len(),
            if paths.len() == 1 { "" } else { "s" }
        );
    }
    Ok(if errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn load_code(kind: LoadErrorKind) -> &'static str {
    match kind {
        LoadErrorKind::Io => "unreadable",
        LoadErrorKind::Empty => "empty-file",
        LoadErrorKind::NotText => "not-text",
        LoadErrorKind::UnknownFormat => "unknown-format",
        LoadErrorKind::Syntax => "syntax",
        LoadErrorKind::DuplicateId => "duplicate-id",
        LoadErrorKind::DuplicateKey => "duplicate-key",
        LoadErrorKind::MissingFile => "missing-file",
        _ => "bad-shape",
    }
}

fn actions(name: Option<&str>, json: bool) -> Result<ExitCode> {
    let catalog = prospero::Catalog::builtin();
    match name {
        Some(n) => {
            let versions = catalog.versions(n);
            if versions.is_empty() {
                return Err(usage(format!("no action named '{n}' (run `prospero actions` for the list)")));
            }
            let manifests: Vec<_> = versions.iter().filter_map(|v| catalog.get(n, *v)).collect();
            if json {
                let v: Vec<_> = manifests.iter().map(|m| serde_json::to_value(&***m)).collect::<Result<_, _>>()?;
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&if v.len() == 1 {
                        v[0].clone()
                    } else {
                        serde_json::Value::Array(v)
                    })?
                );
            } else {
                for m in manifests {
                    outln!("{}", m.describe());
                }
            }
        }
        None => {
            if json {
                let v: Vec<_> = catalog.all().map(|m| serde_json::to_value(&**m)).collect::<Result<_, _>>()?;
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let mut by_cat: std::collections::BTreeMap<&str, Vec<_>> = Default::default();
                for m in catalog.all() {
                    by_cat.entry(m.category.as_str()).or_default().push(m);
                }
                for (cat, ms) in by_cat {
                    outln!("{cat}:");
                    for m in ms {
                        let v = if m.version != 1 { format!(" v{}", m.version) } else { String::new() };
                        outln!("  {:<20} {}", format!("{}{v}", m.name), m.summary);
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export(path: &Path, format: ExportFormat) -> Result<ExitCode> {
    let s = script::load_file(path).map_err(|e| usage(e.to_string()))?;
    let text = match format {
        ExportFormat::StudioJson => script::studio_json::export_text(&s),
        ExportFormat::Native => script::native::export(&s),
    };
    outln!("{text}");
    Ok(ExitCode::SUCCESS)
}
