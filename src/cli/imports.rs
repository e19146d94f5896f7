//! The bulk-import commands: `contacts import FILE`, `contacts profiles
//! add|list|show|edit|delete`, `contacts jobs [ID]`, `contacts resume ID`
//! and `contacts cancel ID`, over the contacts pack's [`Importer`].
//!
//! Exit codes: 0 done (an import that completed, whatever rows it
//! rejected: they are in the log); 1 no such job or profile; 2 a file
//! refused before anything was written, an unusable profile or argument,
//! a resume from another file, a store that cannot be opened; 3 the job
//! did not complete (cancelled, or it failed after it began: `resume`
//! goes on from its last committed batch).

use super::StoreArgs;
use super::outbound::{OpenUnit, UnitUse, no_unit_message, open_unit_of, store_refused};
use super::progress;
use crate::{check_db_url, tokio_rt, usage};
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use prospero::contacts::import::{
    FieldMapping, FileError, ImportLog, ImportProfile, Layout, Limits, MergeMode, Preview, RowContext, check_path,
    preview, validate,
};
use prospero::contacts::phone::DEFAULT_COUNTRY;
use prospero::packs::contacts::importer::{ImportError, Importer, Progress};
use prospero::packs::contacts::imports::{self, ImportStore, Job, JobStatus};
use prospero::store::Store;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Which header layout a file uses.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum LayoutArg {
    /// The default headers, case ignored.
    New,
    /// Contact Id / Account Id keys, case-sensitive.
    Legacy,
}

impl From<LayoutArg> for Layout {
    fn from(l: LayoutArg) -> Layout {
        match l {
            LayoutArg::New => Layout::New,
            LayoutArg::Legacy => Layout::Legacy,
        }
    }
}

/// How matched contacts take a row.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum MergeArg {
    /// Every contact the deciding identifier finds becomes one record.
    MergeAll,
    /// Only the first (oldest) match changes.
    UpdateFirst,
}

/// `contacts import`'s arguments.
#[derive(clap::Args, Clone)]
pub(crate) struct ImportArgs {
    /// The CSV file.
    file: PathBuf,
    /// A saved import profile (default: the layout's headers, match by
    /// external ID then emails then phones, merge all).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// The header layout, when no profile is named.
    #[arg(long, value_enum, conflicts_with = "profile")]
    layout: Option<LayoutArg>,
    /// Check the file and every row; write nothing, create no job.
    #[arg(long)]
    validate_only: bool,
    /// Show the first 10 rows as they will be read; write nothing.
    #[arg(long, conflicts_with = "validate_only")]
    preview: bool,
    /// Write the log here: CSV when the name ends in .csv, JSON otherwise.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Write the rejected rows (the original cells behind a Reason column) here.
    #[arg(long, value_name = "FILE")]
    rejected: Option<PathBuf>,
    /// Rows per committed batch.
    #[arg(long, value_name = "N", default_value_t = prospero::packs::contacts::importer::BATCH_ROWS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    batch: usize,
    #[command(flatten)]
    output: super::Output,
    #[command(flatten)]
    store: StoreArgs,
}

/// A profile's settings on the command line (`profiles add|edit`).
#[derive(clap::Args, Clone, Default)]
pub(crate) struct ProfileArgs {
    /// Start from this JSON profile file (`docs/contacts.md` lists its members).
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// The external source the rows' external IDs belong to.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// The header layout.
    #[arg(long, value_enum)]
    layout: Option<LayoutArg>,
    /// COLUMN=FIELD (repeatable); FIELD `ignore` drops the column.
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// The identifiers to match by, in order, comma separated
    /// (externalId, workEmail, ..., cellPhone, ...).
    #[arg(long = "match", value_name = "FIELDS", value_delimiter = ',')]
    match_on: Vec<String>,
    /// How matches merge.
    #[arg(long, value_enum)]
    merge: Option<MergeArg>,
    /// The country of national phones (ISO 3166 alpha-2).
    #[arg(long, value_name = "CC")]
    country: Option<String>,
    /// Only these fields are imported, comma separated.
    #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
    fields: Vec<String>,
    /// The contact type of `custom.*` columns.
    #[arg(long, value_name = "NAME")]
    contact_type: Option<String>,
    /// A blank cell clears the field (yes/no).
    #[arg(long, value_name = "BOOL")]
    blank_clears: Option<bool>,
}

#[derive(Subcommand)]
pub(crate) enum ProfilesCommand {
    /// Save a new profile (an existing name is refused: use edit).
    Add {
        /// Its name, unique in the unit (case ignored).
        name: String,
        #[command(flatten)]
        settings: ProfileArgs,
        #[command(flatten)]
        unit: JsonStore,
    },
    /// List the unit's profiles.
    List {
        #[command(flatten)]
        unit: JsonStore,
    },
    /// Show a profile as JSON.
    Show {
        /// Its name.
        name: String,
        #[command(flatten)]
        unit: JsonStore,
    },
    /// Change the settings given, keep the others.
    Edit {
        /// Its name.
        name: String,
        #[command(flatten)]
        settings: ProfileArgs,
        #[command(flatten)]
        unit: JsonStore,
    },
    /// Delete a profile.
    Delete {
        /// Its name.
        name: String,
        #[command(flatten)]
        unit: JsonStore,
    },
}

/// The store, unit and `--json` of the commands without a file.
#[derive(clap::Args, Clone)]
pub(crate) struct JsonStore {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// `contacts jobs [ID]`'s arguments.
#[derive(clap::Args, Clone)]
pub(crate) struct JobsArgs {
    /// One job: its counts and log.
    id: Option<i64>,
    /// Write the job's log here (CSV when the name ends in .csv, JSON otherwise).
    #[arg(long, value_name = "FILE", requires = "id")]
    log: Option<PathBuf>,
    /// Write the job's rejected rows here (read from the job's file).
    #[arg(long, value_name = "FILE", requires = "id")]
    rejected: Option<PathBuf>,
    /// The most jobs listed, newest first.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=1000))]
    limit: i64,
    #[command(flatten)]
    unit: JsonStore,
}

/// `contacts resume|cancel ID`'s arguments.
#[derive(clap::Args, Clone)]
pub(crate) struct JobArgs {
    /// The job.
    id: i64,
    /// The file (default: the path the job began with).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Write the log here (CSV when the name ends in .csv, JSON otherwise).
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    unit: JsonStore,
}

fn import_store(
    store: &std::sync::Arc<dyn prospero::store::Store>,
) -> Result<std::sync::Arc<dyn ImportStore>, prospero::store::StoreError> {
    imports::store_of(store)
        .ok_or_else(|| prospero::store::StoreError::Query("this store does not keep import jobs".into()))
}

/// Open the unit's import store, run `f`, close the store whatever happened.
fn with_imports<F>(args: &StoreArgs, mode: UnitUse, f: F) -> Result<ExitCode>
where
    F: AsyncFnOnce(&OpenUnit<dyn ImportStore>) -> Result<ExitCode>,
{
    let StoreArgs { db, unit } = args;
    tokio_rt()?.block_on(async {
        check_db_url(db)?;
        let o = open_unit_of(db, unit, mode, |e| store_refused(db, e), import_store).await?;
        let r = f(&o).await;
        o.close().await;
        r
    })
}

fn importer(o: &OpenUnit<dyn ImportStore>, batch: usize) -> Importer {
    let mut i = Importer::new(o.domain.clone(), o.unit);
    i.batch_rows = batch;
    i
}

/// An import error as the exit it makes.
fn refused(e: ImportError) -> anyhow::Error {
    match e {
        ImportError::Store(e) => anyhow::Error::new(e),
        other => usage(format!("{} ({})", other, other.code())),
    }
}

fn print_json(v: &Json) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Write `log` to `path`: CSV when it ends in `.csv`, JSON otherwise.
fn write_log(path: &Path, log: &ImportLog) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if csv {
        log.write_csv(std::io::BufWriter::new(file))?;
    } else {
        serde_json::to_writer_pretty(std::io::BufWriter::new(file), &log.to_json())?;
    }
    Ok(())
}

/// A job and its log as JSON.
fn job_json(job: &Job, log: &ImportLog) -> Json {
    let mut v = log.to_json();
    let j = serde_json::to_value(job).unwrap_or(Json::Null);
    if let (Json::Object(out), Json::Object(job)) = (&mut v, j) {
        for (k, val) in job {
            if k != "profile" {
                out.insert(k, val);
            }
        }
    }
    v
}

fn job_line(job: &Job) -> String {
    format!(
        "job {}: {} {} ({} of {} rows, up to line {}): {} created, {} updated, {} not imported",
        job.id,
        job.status.name(),
        job.file_name,
        job.rows_done,
        job.rows_total,
        job.last_line,
        job.created,
        job.updated,
        job.rejected
    )
}

/// The exit of a job that ran: 0 completed, 3 otherwise.
fn job_exit(job: &Job) -> ExitCode {
    if job.status == JobStatus::Completed { ExitCode::SUCCESS } else { ExitCode::from(3) }
}

/// Report a job that ran: its line (or JSON), its log file and rejected rows.
async fn report(
    imp: &Importer,
    job: &Job,
    file: &Path,
    json_out: bool,
    log_path: Option<&Path>,
    rejected: Option<&Path>,
) -> Result<ExitCode> {
    let log = imp.log(job.id).await.map_err(refused)?;
    if let Some(p) = log_path {
        write_log(p, &log)?;
    }
    if let Some(p) = rejected {
        let out = std::fs::File::create(p).map_err(|e| usage(format!("{}: {e}", p.display())))?;
        imp.write_rejected(job.id, file, std::io::BufWriter::new(out)).await.map_err(refused)?;
    }
    if json_out {
        print_json(&job_json(job, &log))?;
    } else {
        println!("{}", job_line(job));
        println!("{}", log.summary());
        for e in log.entries.iter().take(20) {
            println!("  line {}: {}: {}", e.line, e.reason, e.detail);
        }
        if log.entries.len() > 20 {
            println!("  ... {} more (use --log FILE)", log.entries.len() - 20);
        }
    }
    Ok(job_exit(job))
}

/// The profile a command names, or the default of `layout`; `None` when
/// the unit has no profile of that name.
async fn profile_of(
    store: &dyn ImportStore,
    unit: i64,
    name: Option<&str>,
    layout: Layout,
) -> Result<Option<ImportProfile>> {
    let Some(name) = name else { return Ok(Some(ImportProfile::default_for(layout))) };
    let Some(text) = store.profile(unit, name).await? else { return Ok(None) };
    serde_json::from_str(&text).map(Some).map_err(|e| usage(format!("import profile '{name}' is unreadable: {e}")))
}

fn no_profile(name: Option<&str>) -> Result<ExitCode> {
    let name = name.unwrap_or_default();
    not_found(&format!("no import profile named '{name}' (see `prospero contacts profiles list`)"))
}

/// A file refused whole, as the exit it makes: the message names the file
/// (then the line, the column or the byte where it applies) and the code.
fn file_refused(path: &Path, e: &FileError) -> anyhow::Error {
    let (file, text) = (path.display().to_string(), e.to_string());
    if text.contains(&file) {
        usage(format!("{text} ({})", e.code()))
    } else {
        usage(format!("{file}: {text} ({})", e.code()))
    }
}

/// An import error about `path`, as the exit it makes.
fn import_refused(path: &Path, e: ImportError) -> anyhow::Error {
    match e {
        ImportError::File(f) => file_refused(path, &f),
        other => refused(other),
    }
}

/// `contacts import`.
pub(crate) fn import(args: ImportArgs) -> Result<ExitCode> {
    let layout = args.layout.map(Layout::from).unwrap_or_default();
    // Without a profile the file is checked before the store is even
    // opened: a refused file leaves no trace.
    if args.profile.is_none() && !args.preview {
        let profile = ImportProfile::default_for(layout);
        check_path(&args.file, &profile, &Limits::default()).map_err(|e| file_refused(&args.file, &e))?;
    }
    if args.preview || args.validate_only {
        return without_writing(&args, layout);
    }
    // A named profile needs its unit; otherwise the unit is created on
    // first use, as by every command that writes.
    let mode = if args.profile.is_some() { UnitUse::Read } else { UnitUse::Write };
    with_imports(&args.store, mode, async |o| {
        let Some(profile) = profile_of(o.domain.as_ref(), o.unit, args.profile.as_deref(), layout).await? else {
            return no_profile(args.profile.as_deref());
        };
        let imp = importer(o, args.batch);
        let bar = progress::rows(0, "importing", args.output.quiet || args.output.json);
        let mut on_progress = |p: Progress| {
            bar.set_length(p.rows_total);
            bar.set_position(p.rows_done);
        };
        let job = imp.start(&args.file, &profile, &mut on_progress).await;
        bar.finish_and_clear();
        let job = job.map_err(|e| import_refused(&args.file, e))?;
        report(&imp, &job, &args.file, args.output.json, args.log.as_deref(), args.rejected.as_deref()).await
    })
}

/// `--preview` and `--validate-only`, which write nothing at all: the store
/// is opened to read only (an SQLite file stays byte for byte as it was,
/// [`prospero::store::open_read_only`]), and a store or unit that does not
/// exist yet is not created: the file is read with the defaults (country
/// [`DEFAULT_COUNTRY`], no contact types). A named profile needs its unit.
fn without_writing(args: &ImportArgs, layout: Layout) -> Result<ExitCode> {
    let db = &args.store.db;
    tokio_rt()?.block_on(async {
        check_db_url(db)?;
        let store = prospero::store::open_read_only(db).await.map_err(|e| store_refused(db, e))?;
        let r = read_only(store.as_ref(), args, layout).await;
        if let Some(s) = &store {
            s.close().await;
        }
        r
    })
}

async fn read_only(store: Option<&Arc<dyn Store>>, args: &ImportArgs, layout: Layout) -> Result<ExitCode> {
    let StoreArgs { db, unit } = &args.store;
    let found = match store {
        Some(s) => s.find_business_unit(unit).await.map_err(|e| store_refused(db, e))?.map(|id| (s, id)),
        None => None,
    };
    let (profile, country, types) = match found {
        Some((s, id)) => {
            let domain = import_store(s).map_err(|e| usage(e.to_string()))?;
            let Some(profile) = profile_of(domain.as_ref(), id, args.profile.as_deref(), layout).await? else {
                return no_profile(args.profile.as_deref());
            };
            let (country, types) = domain.unit_context(id).await?;
            (profile, country, types)
        }
        None if args.profile.is_some() => return Err(usage(no_unit_message(unit))),
        None => (ImportProfile::default_for(layout), DEFAULT_COUNTRY.to_string(), Vec::new()),
    };
    profile.validate().map_err(|e| usage(format!("{e} ({})", e.code())))?;
    let ctx = RowContext { unit_country: &country, contact_types: &types };
    let file = std::fs::File::open(&args.file)
        .map_err(|e| file_refused(&args.file, &FileError::Io(format!("{}: {e}", args.file.display()))))?;
    let file = std::io::BufReader::new(file);
    if args.preview {
        let p = preview(file, &profile, &ctx, &Limits::default()).map_err(|e| file_refused(&args.file, &e))?;
        return show_preview(args, &p);
    }
    let v = validate(file, &profile, &ctx, &Limits::default()).map_err(|e| file_refused(&args.file, &e))?;
    if let Some(p) = &args.log {
        write_log(p, &v.log)?;
    }
    if args.output.json {
        let mut out = v.log.to_json();
        out["validateOnly"] = json!(true);
        out["rows"] = json!(v.summary.rows);
        out["validRows"] = json!(v.valid_rows);
        out["file"] = json!(args.file.display().to_string());
        print_json(&out)?;
    } else {
        println!(
            "{}: {} rows, {} valid, {} not importable (validate only: nothing written)",
            args.file.display(),
            v.summary.rows,
            v.valid_rows,
            v.log.not_imported
        );
        for e in v.log.entries.iter().take(20) {
            println!("  line {}: {}: {}", e.line, e.reason, e.detail);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show_preview(args: &ImportArgs, p: &Preview) -> Result<ExitCode> {
    if args.output.json {
        let rows: Vec<Json> = p
            .rows
            .iter()
            .map(|r| {
                let fields: serde_json::Map<String, Json> =
                    r.fields.iter().map(|(f, v)| (f.clone(), Json::String(v.clone()))).collect();
                json!({
                    "line": r.line,
                    "fields": fields,
                    "rejected": r.rejected.as_ref().map(|x| json!({"reason": x.reason.code(), "detail": x.detail})),
                })
            })
            .collect();
        print_json(&json!({"file": args.file.display().to_string(), "rows": rows}))?;
    } else {
        for r in &p.rows {
            let fields: Vec<String> = r.fields.iter().map(|(f, v)| format!("{f}={v}")).collect();
            match &r.rejected {
                Some(x) => {
                    println!("line {}: {} [not imported: {}: {}]", r.line, fields.join(", "), x.reason, x.detail)
                }
                None => println!("line {}: {}", r.line, fields.join(", ")),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `contacts jobs [ID]`.
pub(crate) fn jobs(args: JobsArgs) -> Result<ExitCode> {
    with_imports(&args.unit.store, UnitUse::Read, async |o| {
        let imp = importer(o, 1);
        let Some(id) = args.id else {
            let jobs = o.domain.jobs(o.unit, args.limit).await?;
            if args.unit.json {
                print_json(&serde_json::to_value(&jobs)?)?;
            } else {
                for j in &jobs {
                    println!("{}", job_line(j));
                }
            }
            return Ok(ExitCode::SUCCESS);
        };
        let job = match imp.job(id).await {
            Ok(job) => job,
            Err(ImportError::NoJob(_)) => return not_found(&format!("no import job {id}")),
            Err(e) => return Err(refused(e)),
        };
        let file = PathBuf::from(&job.file_name);
        report(&imp, &job, &file, args.unit.json, args.log.as_deref(), args.rejected.as_deref()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn not_found(what: &str) -> Result<ExitCode> {
    eprintln!("prospero: {what}");
    Ok(ExitCode::from(1))
}

/// `contacts resume ID`.
pub(crate) fn resume(args: JobArgs) -> Result<ExitCode> {
    with_imports(&args.unit.store, UnitUse::Read, async |o| {
        let imp = importer(o, prospero::packs::contacts::importer::BATCH_ROWS);
        let job = match imp.job(args.id).await {
            Ok(job) => job,
            Err(ImportError::NoJob(_)) => return not_found(&format!("no import job {}", args.id)),
            Err(e) => return Err(refused(e)),
        };
        let file = args.file.clone().unwrap_or_else(|| PathBuf::from(&job.file_name));
        let bar = progress::rows(job.rows_total, "resuming", args.quiet || args.unit.json);
        bar.set_position(job.rows_done);
        let mut on_progress = |p: Progress| bar.set_position(p.rows_done);
        let done = imp.resume(args.id, &file, &mut on_progress).await;
        bar.finish_and_clear();
        let job = done.map_err(|e| import_refused(&file, e))?;
        report(&imp, &job, &file, args.unit.json, args.log.as_deref(), None).await
    })
}

/// `contacts cancel ID`.
pub(crate) fn cancel(args: JobArgs) -> Result<ExitCode> {
    with_imports(&args.unit.store, UnitUse::Read, async |o| {
        let imp = importer(o, 1);
        match imp.cancel(args.id).await {
            Ok(job) if args.unit.json => print_json(&serde_json::to_value(&job)?)?,
            Ok(job) => println!("{}", job_line(&job)),
            Err(ImportError::NoJob(_)) => return not_found(&format!("no import job {}", args.id)),
            Err(e) => return Err(refused(e)),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Lay `args` over `p`.
fn apply(mut p: ImportProfile, args: &ProfileArgs) -> Result<ImportProfile> {
    if let Some(s) = &args.source {
        p.external_source = Some(s.clone()).filter(|s| !s.trim().is_empty());
    }
    if let Some(l) = args.layout {
        p.layout = l.into();
    }
    for m in &args.map {
        let Some((column, field)) = m.split_once('=') else {
            return Err(usage(format!("--map {m}: write COLUMN=FIELD")));
        };
        p.mapping.retain(|x| !p.layout.same_header(&x.column, column));
        p.mapping.push(FieldMapping::new(column.trim(), field.trim()));
    }
    if !args.match_on.is_empty() {
        p.match_on = args.match_on.iter().map(|m| m.trim().to_string()).collect();
    }
    if let Some(m) = args.merge {
        p.merge_mode = match m {
            MergeArg::MergeAll => MergeMode::MergeAll,
            MergeArg::UpdateFirst => MergeMode::UpdateFirst,
        };
    }
    if let Some(c) = &args.country {
        p.default_country = Some(c.trim().to_string()).filter(|c| !c.is_empty());
    }
    if !args.fields.is_empty() {
        p.selected_fields = Some(args.fields.iter().map(|f| f.trim().to_string()).collect());
    }
    if let Some(t) = &args.contact_type {
        p.contact_type = Some(t.trim().to_string()).filter(|t| !t.is_empty());
    }
    if let Some(b) = args.blank_clears {
        p.blank_clears = b;
    }
    p.validate().map_err(|e| usage(format!("{e} ({})", e.code())))?;
    Ok(p)
}

fn from_file(path: &Path) -> Result<ImportProfile> {
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| usage(format!("{}: not an import profile: {e}", path.display())))
}

/// `contacts profiles ...`.
pub(crate) fn profiles(command: ProfilesCommand) -> Result<ExitCode> {
    let now = prospero::store::now_text();
    match command {
        ProfilesCommand::Add { name, settings, unit } => {
            let base = match &settings.from {
                Some(path) => from_file(path)?,
                None => ImportProfile::default_for(settings.layout.map(Layout::from).unwrap_or_default()),
            };
            let mut p = apply(base, &settings)?;
            p.name = name.trim().to_string();
            let text = serde_json::to_string(&p)?;
            with_imports(&unit.store, UnitUse::Write, async |o| {
                if o.domain.profile(o.unit, &name).await?.is_some() {
                    return Err(usage(format!("an import profile named '{name}' exists (use `profiles edit`)")));
                }
                o.domain.save_profile(o.unit, &name, &text, &now).await?;
                println!("import profile '{}' saved", p.name);
                Ok(ExitCode::SUCCESS)
            })
        }
        ProfilesCommand::Edit { name, settings, unit } => with_imports(&unit.store, UnitUse::Read, async |o| {
            let Some(text) = o.domain.profile(o.unit, &name).await? else {
                return not_found(&format!("no import profile named '{name}'"));
            };
            let current: ImportProfile = serde_json::from_str(&text)
                .map_err(|e| usage(format!("import profile '{name}' is unreadable: {e}")))?;
            let mut base = match &settings.from {
                Some(path) => from_file(path)?,
                None => current.clone(),
            };
            base.name = current.name.clone();
            let p = apply(base, &settings)?;
            o.domain.save_profile(o.unit, &p.name, &serde_json::to_string(&p)?, &now).await?;
            println!("import profile '{}' changed", p.name);
            Ok(ExitCode::SUCCESS)
        }),
        ProfilesCommand::List { unit } => with_imports(&unit.store, UnitUse::Read, async |o| {
            let all = o.domain.profiles(o.unit).await?;
            if unit.json {
                let list: Vec<Json> = all.iter().filter_map(|(_, t)| serde_json::from_str(t).ok()).collect();
                print_json(&Json::Array(list))?;
            } else {
                for (name, text) in &all {
                    let p: Option<ImportProfile> = serde_json::from_str(text).ok();
                    match p {
                        Some(p) => println!(
                            "{}: layout {}, match {}, {}",
                            p.name,
                            serde_json::to_value(p.layout)?.as_str().unwrap_or_default(),
                            p.match_on.join(" > "),
                            serde_json::to_value(p.merge_mode)?.as_str().unwrap_or_default()
                        ),
                        None => println!("{name}: (unreadable)"),
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }),
        ProfilesCommand::Show { name, unit } => with_imports(&unit.store, UnitUse::Read, async |o| {
            let Some(text) = o.domain.profile(o.unit, &name).await? else {
                return not_found(&format!("no import profile named '{name}'"));
            };
            let v: Json = serde_json::from_str(&text)?;
            print_json(&v)?;
            Ok(ExitCode::SUCCESS)
        }),
        ProfilesCommand::Delete { name, unit } => with_imports(&unit.store, UnitUse::Read, async |o| {
            if !o.domain.delete_profile(o.unit, &name).await? {
                return not_found(&format!("no import profile named '{name}'"));
            }
            println!("import profile '{name}' deleted");
            Ok(ExitCode::SUCCESS)
        }),
    }
}
