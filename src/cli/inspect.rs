//! The commands that read scripts and reference data without running
//! anything: `check`, `actions`, `graph`, `export` and `tz`.

use crate::{ExportFormat, usage};
use anyhow::{Context as _, Result};
use prospero::script::{self, LoadErrorKind};
use prospero::{RunOptions, Runtime, Severity};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The record fields `prospero tz` takes.
pub(crate) struct TzRecord {
    pub(crate) zip: Option<String>,
    pub(crate) city: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) lat: Option<String>,
    pub(crate) lng: Option<String>,
}

pub(crate) fn tz(
    phones: &[String],
    record: &TzRecord,
    at: Option<&str>,
    window: Option<&str>,
    json: bool,
) -> Result<ExitCode> {
    use prospero::timezone::{RecordHints, WindowCheck, answer};
    let check = match (at, window) {
        (None, None) => None,
        (Some(at), Some(spec)) => {
            let at = chrono::DateTime::parse_from_rfc3339(at)
                .map_err(|e| anyhow::anyhow!("--at '{at}' is not an RFC 3339 instant: {e}"))?
                .with_timezone(&chrono::Utc);
            let windows =
                spec.parse().map_err(|e: prospero::timezone::WindowError| anyhow::anyhow!("--window: {e}"))?;
            Some(WindowCheck { at, windows })
        }
        _ => anyhow::bail!("--at and --window go together"),
    };
    let hints = RecordHints {
        zip: record.zip.as_deref(),
        city: record.city.as_deref(),
        state: record.state.as_deref(),
        latitude: record.lat.as_deref(),
        longitude: record.lng.as_deref(),
        ..RecordHints::default()
    };
    let mut inputs: Vec<String> = Vec::new();
    for p in phones {
        if p == "-" {
            for line in std::io::stdin().lines() {
                let line = line?;
                if !line.trim().is_empty() {
                    inputs.push(line.trim().to_string());
                }
            }
        } else {
            inputs.push(p.clone());
        }
    }
    let has_record = [&record.zip, &record.city, &record.state, &record.lat, &record.lng].iter().any(|h| h.is_some());
    if inputs.is_empty() && !has_record {
        anyhow::bail!(
            "give at least one phone number (or - to read them from standard input), or a record (--zip, --city \
             and --state, --lat and --lng)"
        );
    }
    let answers: Vec<prospero::timezone::ZoneAnswer> = if inputs.is_empty() {
        vec![prospero::timezone::record_answer(&hints, check.as_ref())]
    } else {
        inputs.iter().map(|input| answer(input, &hints, check.as_ref())).collect()
    };
    for a in answers {
        if json {
            outln!("{}", serde_json::to_string(&a)?);
            continue;
        }
        let zone = |z: &Option<String>, src: &str| match z {
            Some(z) => format!("{z} ({src})"),
            None => src.to_string(),
        };
        let mut line = if a.input.is_empty() {
            format!("record: {}", zone(&a.record_time_zone, &a.record_source))
        } else {
            format!(
                "{}\t{}\t{}\trecord: {}",
                a.input,
                a.e164.as_deref().unwrap_or("not a phone number"),
                zone(&a.time_zone, &a.source),
                zone(&a.record_time_zone, &a.record_source)
            )
        };
        if a.mismatch {
            line.push_str("\tmismatch");
        }
        if a.time_zone.is_none() && a.candidates.len() > 1 {
            line.push_str(&format!("\tcandidates: {}", a.candidates.join(", ")));
        }
        match (a.callable, &a.next_open) {
            (Some(true), _) => line.push_str("\tcallable"),
            (Some(false), Some(Some(t))) => line.push_str(&format!("\tnot callable, opens {t}")),
            (Some(false), _) => line.push_str("\tnot callable, no window opens within a week"),
            _ => {}
        }
        outln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// How `prospero check` writes its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CheckFormat {
    /// One line per diagnostic and a closing count.
    Text,
    /// One JSON object (the same as `--json`).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

pub(crate) fn check(
    paths: &[PathBuf],
    library: Option<&Path>,
    format: CheckFormat,
    strict: bool,
    principal: Option<&prospero::Principal>,
    limits: script::LoadLimits,
) -> Result<ExitCode> {
    let mut builder = Runtime::builder().load_limits(limits);
    if let Some(dir) = library {
        builder = builder.scripts_dir(dir);
    }
    let runtime = builder.build();
    let mut files = Vec::new();
    let mut all: Vec<prospero::Diagnostic> = Vec::new();
    let (mut errors, mut warnings, mut unreadable) = (0usize, 0usize, 0usize);
    for path in paths {
        let mut diags: Vec<prospero::Diagnostic> = match script::load_file_with(path, &limits) {
            Ok(s) => {
                let mut d = runtime.check(&s);
                if let Some(p) = principal {
                    d.extend(script::check::permissions::denied(&s, runtime.catalog(), &|n| p.allows(n)));
                }
                d
            }
            Err(e) => {
                if e.kind == LoadErrorKind::Io {
                    // Not a script with problems but an argument that names
                    // no usable file: said on stderr, and exit 2.
                    unreadable += 1;
                    eprintln!("prospero: {}: {}", e.file, e.message);
                }
                vec![prospero::Diagnostic {
                    severity: Severity::Error,
                    code: e.kind.code(),
                    file: e.file.clone(),
                    pos: e.pos,
                    action: e.action.clone(),
                    message: e.message.clone(),
                }]
            }
        };
        if strict {
            // For CI: every warning fails the check, and is reported so.
            for d in &mut diags {
                d.severity = Severity::Error;
            }
        }
        let e = diags.iter().filter(|d| d.severity == Severity::Error).count();
        let w = diags.len() - e;
        errors += e;
        warnings += w;
        if format == CheckFormat::Text {
            for d in diags.iter().filter(|d| d.code != LoadErrorKind::Io.code()) {
                outln!("{d}");
            }
        }
        files.push(serde_json::json!({
            "file": path.display().to_string(),
            "errors": e,
            "warnings": w,
            "diagnostics": diags.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
        }));
        all.extend(diags);
    }
    match format {
        CheckFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"files": files, "errors": errors, "warnings": warnings}))?
        ),
        CheckFormat::Sarif => outln!("{}", serde_json::to_string_pretty(&prospero::script::check::sarif::sarif(&all))?),
        CheckFormat::Text => outln!(
            "{} error{}, {} warning{} in {} file{}{}",
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" },
            paths.len(),
            if paths.len() == 1 { "" } else { "s" },
            if strict { " (--strict: warnings count as errors)" } else { "" }
        ),
    }
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub(crate) fn actions(name: Option<&str>, json: bool) -> Result<ExitCode> {
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

pub(crate) fn graph(
    path: &Path,
    trace: Option<&Path>,
    coverage: Option<&Path>,
    format: prospero::graph::GraphFormat,
    limits: script::LoadLimits,
) -> Result<ExitCode> {
    use prospero::graph;
    let s = script::load_file_with(path, &limits).map_err(|e| usage(e.to_string()))?;
    if let Some(c) = coverage {
        let text =
            std::fs::read_to_string(c).map_err(|e| usage(format!("{}: cannot read the coverage: {e}", c.display())))?;
        let entry = prospero::scripttest::coverage::entry_for(&text, path, &s.name)
            .map_err(|e| usage(format!("{}: {e}", c.display())))?;
        out!("{}", graph::render_coverage(&s, format, &entry.marks()));
        return Ok(ExitCode::SUCCESS);
    }
    let highlight = match trace {
        None => None,
        Some(t) => {
            let text = std::fs::read_to_string(t)
                .map_err(|e| usage(format!("{}: cannot read the trace: {e}", t.display())))?;
            Some(graph::highlight_from_trace(&text, &s.name).map_err(|e| usage(format!("{}: {e}", t.display())))?)
        }
    };
    out!("{}", graph::render(&s, format, highlight.as_ref()));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn export(path: &Path, format: ExportFormat, limits: script::LoadLimits) -> Result<ExitCode> {
    let s = script::load_file_with(path, &limits).map_err(|e| usage(e.to_string()))?;
    let text = match format {
        ExportFormat::StudioJson => script::studio_json::export_text(&s),
        ExportFormat::Native => script::native::export(&s),
    };
    outln!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// `prospero replay`: re-run a trace and report "identical" or the first divergence.
pub(crate) fn replay(
    trace_path: &Path,
    script: Option<&Path>,
    scripts: Option<&Path>,
    json: bool,
    limits: script::LoadLimits,
) -> Result<ExitCode> {
    use prospero::engine::replay::Trace;
    let text = std::fs::read_to_string(trace_path)
        .map_err(|e| usage(format!("{}: cannot read the trace: {e}", trace_path.display())))?;
    let trace = Trace::parse(&text).map_err(|e| usage(format!("{}: {e}", trace_path.display())))?;
    let script_path = match script {
        Some(p) => p.to_path_buf(),
        None => {
            let file = trace.script.file.as_deref().ok_or_else(|| {
                usage(format!(
                    "{}: the traced script '{}' did not come from a file; give it with --script",
                    trace_path.display(),
                    trace.script.name
                ))
            })?;
            // As recorded (relative to where the run started), else beside the trace.
            let p = PathBuf::from(file);
            match (p.exists(), trace_path.parent()) {
                (false, Some(dir)) if dir.join(&p).exists() => dir.join(p),
                _ => p,
            }
        }
    };
    // No store: an action that reached for one would fail instead of
    // writing (external actions never do: they give back their recorded
    // answers).
    let mut builder = Runtime::builder().without_store("a replay writes nothing").load_limits(limits);
    if let Some(dir) = scripts {
        builder = builder.scripts_dir(dir);
    }
    let runtime = builder.build();
    let program = runtime.load(&script_path).map_err(|e| usage(e.lines().join("\n")))?;
    let changed = program.hash != trace.script.hash;
    let trace = std::sync::Arc::new(trace);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    let report = rt
        .block_on(runtime.run(&program, RunOptions::new().replay(trace.clone())))
        .map_err(|e| usage(format!("{}: {e}", trace_path.display())))?;
    if json {
        let out = serde_json::json!({
            "identical": report.divergence.is_none(),
            "script": report.script,
            "script_changed": changed,
            "steps": report.steps,
            "divergence": report.divergence,
        });
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if changed {
            outln!("note: {} differs from the traced script (hash {})", script_path.display(), trace.script.hash);
        }
        match &report.divergence {
            None => outln!("identical: {} steps of {}", report.steps, report.script),
            Some(d) => {
                outln!(
                    "diverged at step {}: action {} ({}) in {}: {} differs",
                    d.step,
                    d.action,
                    d.caption,
                    d.script,
                    d.what
                );
                outln!("  expected: {}", d.expected);
                outln!("  actual:   {}", d.actual);
            }
        }
    }
    Ok(if report.divergence.is_none() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
