//! `prospero`: the command line, thin over the library.
//!
//! Exit codes: 0 success (a completed run, a clean check), 1 a run that
//! failed or went over budget / a check with errors, 2 a script or
//! arguments that cannot be used.

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand, ValueEnum};
use prospero::engine::trace::TraceSink;
use prospero::script;
use prospero::{RunOptions, RunStatus, Runtime, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

// The binary's allocator. Loading a large script makes and frees millions
// of small allocations (each action's JSON is freed as soon as the action
// is built, to keep the peak low); glibc's malloc spent a third of that
// time consolidating and unlinking chunks. A 200,000-action chain checks
// in about 1.1 s instead of 2.1 s (`cargo bench --bench hostile`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Print a run report as JSON, streamed (values can be large), with
/// [`emit`]'s handling of a closed or failing stdout.
fn emit_report_json(report: &prospero::RunReport) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(e) = report.write_json(&mut out, &[]).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("prospero: cannot write output: {e}");
        std::process::exit(2);
    }
}

macro_rules! outln {
    ($($t:tt)*) => { $crate::emit(format_args!($($t)*), true) };
}
macro_rules! out {
    ($($t:tt)*) => { $crate::emit(format_args!($($t)*), false) };
}

mod cli;

use cli::StoreArgs;
use cli::inspect::{CheckFormat, TzRecord, actions, check, export, graph, replay, tz};
use cli::outbound::{DemoArgs, ImportArgs, LeadsCommand, SkillsCommand, demo, import_leads, open_store, skills};

/// Run budgets (defaults in `docs/decisions.md`).
#[derive(clap::Args, Clone, Debug, Default)]
struct BudgetArgs {
    /// Most actions a run may execute (default 100000).
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Longest real time a run may take, in seconds (default 300).
    #[arg(long, value_name = "SECONDS")]
    max_seconds: Option<f64>,
    /// Most memory the run's values may hold, in MiB (default 256).
    #[arg(long, value_name = "MIB")]
    max_memory_mb: Option<u64>,
    /// Deepest nesting of objects and arrays in a value (default 256, at most 1024).
    #[arg(long, value_name = "LEVELS")]
    max_depth: Option<u32>,
    /// Most runs spawned from the run, all generations (default 1000).
    #[arg(long, value_name = "N")]
    max_spawns: Option<u64>,
    /// Deepest chain of SPAWNs (default 8).
    #[arg(long, value_name = "N")]
    max_spawn_depth: Option<u32>,
    /// Most trace a run may write, in MiB (default 256).
    #[arg(long, value_name = "MIB")]
    max_trace_mb: Option<u64>,
    /// Most runs executing at once in this process (default 1024).
    #[arg(long, value_name = "N")]
    max_concurrent_runs: Option<usize>,
}

impl BudgetArgs {
    /// The budgets with these flags applied; a value that cannot work is
    /// refused (exit 2).
    fn budgets(&self) -> Result<prospero::Budgets> {
        let mut b = prospero::Budgets::default();
        if let Some(n) = self.max_steps {
            b.max_steps = n;
        }
        if let Some(s) = self.max_seconds {
            if !(s.is_finite() && s > 0.0 && s <= 1e9) {
                return Err(usage(format!("--max-seconds {s}: expected a number of seconds above 0")));
            }
            b.wall_clock = std::time::Duration::from_secs_f64(s);
        }
        if let Some(m) = self.max_memory_mb {
            b.max_memory = m.saturating_mul(1 << 20);
        }
        if let Some(d) = self.max_depth {
            if !(1..=prospero::value::HARD_DEPTH).contains(&d) {
                return Err(usage(format!("--max-depth {d}: expected 1 to {}", prospero::value::HARD_DEPTH)));
            }
            b.max_depth = d;
        }
        if let Some(n) = self.max_spawns {
            b.max_spawns = n;
        }
        if let Some(n) = self.max_spawn_depth {
            b.max_spawn_depth = n;
        }
        if let Some(m) = self.max_trace_mb {
            b.max_trace_bytes = m.saturating_mul(1 << 20);
        }
        if let Some(n) = self.max_concurrent_runs {
            if n == 0 {
                return Err(usage("--max-concurrent-runs 0: at least one run must be allowed".to_string()));
            }
            prospero::engine::admission::set_max_concurrent_runs(n);
        }
        Ok(b)
    }
}

#[derive(Parser)]
#[command(name = "prospero", version, about = "Load, check, run and trace contact-center studio scripts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Re-run a traced run with the trace's clock, parameters, seed and
    /// outside answers, and report "identical" or the first divergence.
    ///
    /// External actions (store, network, other runs) are not executed: they
    /// give back their recorded outputs, so a replay writes nothing. Exit 0
    /// when identical, 1 at the first divergence, 2 when the trace or the
    /// script cannot be used.
    Replay {
        /// The JSON Lines trace (`prospero run --trace FILE`).
        trace: PathBuf,
        /// Replay against this script instead of the traced file (QA: what
        /// would the new version have done with this run?).
        #[arg(long, value_name = "FILE")]
        script: Option<PathBuf>,
        /// Folder of sub scripts (the script's own folder is searched too).
        #[arg(long, value_name = "DIR")]
        scripts: Option<PathBuf>,
        /// Print exactly one JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Run script tests (`*.test.toml`, format in docs/testing.md):
    /// parameters, clock, mocked actions, and the expected path, branches,
    /// variables and return value.
    ///
    /// Prints one line per test and a closing `N passed, N failed` line, or
    /// one JSON object; writes JUnit XML and coverage reports on request.
    /// Exit 1 when any test fails (an unusable test file counts as failed)
    /// or no test ran, 2 when a PATH or report file cannot be used.
    Test(cli::testing::TestArgs),
    /// Draw a script's actions and labelled branches as Mermaid or DOT;
    /// with a trace, the path it executed is highlighted.
    Graph {
        /// The script file.
        script: PathBuf,
        /// A JSON Lines trace of a run of this script.
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// A coverage report (`prospero test --coverage-out FILE`): marks
        /// the actions and branches the tests covered and those they missed.
        #[arg(long, value_name = "FILE", conflicts_with = "trace")]
        coverage: Option<PathBuf>,
        /// `mermaid` or `dot`.
        #[arg(long, value_name = "FORMAT", default_value = "mermaid")]
        format: prospero::graph::GraphFormat,
        #[command(flatten)]
        limits: LimitArgs,
    },
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
        /// The business unit the run works in (trimmed, lowercased; created
        /// by the first command that writes to it).
        #[arg(long, value_name = "NAME", default_value = "default", value_parser = prospero::store::unit_name)]
        unit: String,
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
        /// Run for this principal: a TOML or JSON file with `permissions =
        /// [...]` or `user = "NAME"`, and optionally `unit` (default: every
        /// permission of the unit).
        #[arg(long, value_name = "FILE")]
        principal: Option<PathBuf>,
        #[command(flatten)]
        budgets: BudgetArgs,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Time zones of phone numbers, and whether they may be called.
    ///
    /// Each PHONE gets its own zone (from its prefix), the record's zone
    /// (the record rules over --zip, --city/--state, --lat/--lng and the
    /// phone), a mismatch flag, and with --at and --window whether it may
    /// be called then and when its window next opens. A PHONE of `-` reads
    /// phones from standard input, one per line.
    Tz {
        /// Phone numbers, any common format.
        #[arg(value_name = "PHONE")]
        phones: Vec<String>,
        /// The record's US ZIP code.
        #[arg(long)]
        zip: Option<String>,
        /// The record's city (with --state).
        #[arg(long)]
        city: Option<String>,
        /// The record's state (with --city).
        #[arg(long)]
        state: Option<String>,
        /// The record's latitude (with --lng).
        #[arg(long, allow_hyphen_values = true)]
        lat: Option<String>,
        /// The record's longitude (with --lat).
        #[arg(long, allow_hyphen_values = true)]
        lng: Option<String>,
        /// The instant to check, RFC 3339 (with --window).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Allowed local hours, e.g. "Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00".
        #[arg(long, value_name = "SPEC")]
        window: Option<String>,
        /// One JSON object per phone, one per line, in input order.
        #[arg(long)]
        json: bool,
    },
    /// Check scripts and report every problem with its location.
    ///
    /// Exit 0 when there is no error (with --strict: nor warning), 1 when
    /// there is, 2 when a file cannot be read or the arguments are wrong.
    Check {
        /// Script files.
        #[arg(required = true)]
        scripts: Vec<PathBuf>,
        /// Folder of sub scripts (each script's own folder is searched too).
        #[arg(long, value_name = "DIR")]
        library: Option<PathBuf>,
        /// Print one JSON object (the same as `--format json`).
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// `text`, `json`, or `sarif` (SARIF 2.1.0, for code-scanning tools).
        #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
        format: CheckFormat,
        /// Count warnings as errors: exit 1 when there is any (for CI).
        #[arg(long)]
        strict: bool,
        /// Also report every action this principal may not run (the file
        /// `run --principal` takes).
        #[arg(long, value_name = "FILE")]
        principal: Option<PathBuf>,
        /// The store a `user` principal is read from.
        #[arg(long, value_name = "URL", default_value = "prospero.db", requires = "principal")]
        db: String,
        /// The unit of the principal.
        #[arg(long, value_name = "NAME", default_value = "default", value_parser = prospero::store::unit_name, requires = "principal")]
        unit: String,
        #[command(flatten)]
        limits: LimitArgs,
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
    /// The contacts directory of a business unit: contacts, their notes,
    /// contact types, external sources and settings.
    #[cfg(feature = "contacts")]
    Contacts {
        #[command(subcommand)]
        command: cli::contacts::ContactsCommand,
    },
    /// The address book of a business unit: recipients (imported from a
    /// fixed 8-field CSV layout, or one by one) and their statuses.
    #[cfg(feature = "addressbook")]
    #[command(name = "addressbook")]
    AddressBook {
        #[command(subcommand)]
        command: cli::addressbook::AddressBookCommand,
    },
    /// External organizations of a business unit.
    #[cfg(feature = "contacts")]
    Orgs {
        #[command(subcommand)]
        command: cli::contacts::OrgsCommand,
    },
    /// Outbound skills of a business unit.
    Skills {
        #[command(subcommand)]
        command: SkillsCommand,
    },
    /// Lead sources: the records scripts check out with CHECKOUTLEADS.
    Leads {
        #[command(subcommand)]
        command: LeadsCommand,
    },
    /// The outbound demo: set up a skill, a source and its map, fill a lead
    /// source from scripts/data/leads.csv, run the brain script, and print
    /// what was created, updated and refused. Run it again to see updates.
    ///
    /// The scripts and leads are built into the binary, so it runs from any
    /// folder. Exit 1 when a script failed (each reason is printed).
    Demo {
        #[command(flatten)]
        store: StoreArgs,
        /// Folder with the demo scripts and data/leads.csv (default: the
        /// ones built into the binary).
        #[arg(long, value_name = "DIR")]
        scripts: Option<PathBuf>,
        /// Run on a virtual clock starting at this instant (the brain's
        /// pauses then take no time); default: the real clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<String>,
        /// Brain-script cycles, 1 to 1000.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=cli::outbound::DEMO_MAX_CYCLES as i64))]
        cycles: u32,
        /// Leads per batch, 1 to 10000 (what CHECKOUTLEADS takes).
        #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u32).range(1..=prospero::packs::outbound::MAX_CHECKOUT))]
        batch: u32,
        /// Seconds the brain script pauses between cycles (real clock only).
        #[arg(long, default_value_t = 0)]
        pause: u32,
        /// Print one JSON object: status, skill, source, lead source,
        /// brain totals, counts per ResultCode, dialable prospects, reasons.
        #[arg(long)]
        json: bool,
        /// No progress spinner (it is drawn only on a terminal anyway).
        #[arg(long)]
        quiet: bool,
        /// Run the demo's scripts for this principal (as `run --principal`).
        #[arg(long, value_name = "FILE")]
        principal: Option<PathBuf>,
    },
    /// Add, list, change and remove the users of a business unit and
    /// their roles.
    Users {
        #[command(subcommand)]
        command: cli::users::UsersCommand,
    },
    /// Change a business unit's settings (its top supervisor).
    Units {
        #[command(subcommand)]
        command: cli::users::UnitsCommand,
    },
    /// Convert a script to another format.
    Export {
        /// The script file.
        script: PathBuf,
        /// Target format.
        #[arg(long, value_enum, default_value = "studio-json")]
        format: ExportFormat,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

/// Size limits for loading scripts (see `prospero::script::LoadLimits`).
#[derive(clap::Args, Clone, Copy)]
struct LimitArgs {
    /// Refuse script files larger than N bytes (default 64 MiB).
    #[arg(long, value_name = "N", default_value_t = script::LoadLimits::DEFAULT_MAX_SCRIPT_BYTES)]
    max_script_bytes: u64,
    /// Refuse a script with a property (a text, or a list's items together)
    /// larger than N bytes (default 1 MiB).
    #[arg(long, value_name = "N", default_value_t = script::LoadLimits::DEFAULT_MAX_PROPERTY_BYTES)]
    max_property_bytes: usize,
}

impl LimitArgs {
    fn limits(self) -> script::LoadLimits {
        script::LoadLimits { max_script_bytes: self.max_script_bytes, max_property_bytes: self.max_property_bytes }
    }
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
        Command::Run { script, params, scripts, db, unit, now, trace, seed, json, principal, budgets, limits } => run(
            &script,
            &params,
            scripts.as_deref(),
            &db,
            &unit,
            now.as_deref(),
            trace.as_deref(),
            seed,
            json,
            principal.as_deref(),
            &budgets,
            limits.limits(),
        ),
        Command::Users { command } => cli::users::users(command),
        Command::Units { command } => cli::users::units(command),
        Command::Replay { trace, script, scripts, json, limits } => {
            replay(&trace, script.as_deref(), scripts.as_deref(), json, limits.limits())
        }
        Command::Test(args) => cli::testing::script_tests(&args),
        Command::Graph { script, trace, coverage, format, limits } => {
            graph(&script, trace.as_deref(), coverage.as_deref(), format, limits.limits())
        }
        Command::Skills { command } => skills(command),
        #[cfg(feature = "contacts")]
        Command::Contacts { command } => cli::contacts::contacts(command),
        #[cfg(feature = "contacts")]
        Command::Orgs { command } => cli::contacts::orgs(command),
        #[cfg(feature = "addressbook")]
        Command::AddressBook { command } => cli::addressbook::addressbook(command),
        Command::Leads { command: LeadsCommand::Import { file, lead_source, key, output, store } } => {
            import_leads(&ImportArgs {
                file: &file,
                lead_source: &lead_source,
                key: key.as_deref(),
                json: output.json,
                quiet: output.quiet,
                store: &store,
            })
        }
        Command::Demo { store, scripts, now, cycles, batch, pause, json, quiet, principal } => demo(&DemoArgs {
            store: &store,
            scripts: scripts.as_deref(),
            now: now.as_deref(),
            cycles,
            batch,
            pause,
            json,
            quiet,
            principal: principal.as_deref(),
        }),
        Command::Check { scripts, library, json, format, strict, principal, db, unit, limits } => {
            let format = if json { CheckFormat::Json } else { format };
            cli::users::check_principal(principal.as_deref(), &db, &unit)
                .and_then(|p| check(&scripts, library.as_deref(), format, strict, p.as_ref(), limits.limits()))
        }
        Command::Tz { phones, zip, city, state, lat, lng, at, window, json } => {
            let record = TzRecord { zip, city, state, lat, lng };
            tz(&phones, &record, at.as_deref(), window.as_deref(), json)
        }
        Command::Actions { markdown: true, .. } => {
            out!("{}", prospero::Catalog::builtin().markdown());
            Ok(ExitCode::SUCCESS)
        }
        Command::Actions { name, json, .. } => actions(name.as_deref(), json),
        Command::Export { script, format, limits } => export(&script, format, limits.limits()),
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
    unit: &str,
    now: Option<&str>,
    trace: Option<&Path>,
    seed: Option<u64>,
    json: bool,
    principal: Option<&Path>,
    budgets: &BudgetArgs,
    limits: script::LoadLimits,
) -> Result<ExitCode> {
    let mut builder = Runtime::builder().db(db).business_unit(unit).budgets(budgets.budgets()?).load_limits(limits);
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
        opts = opts.at(parse_now(t)?);
    }
    opts.seed = seed;
    check_db_url(db)?;
    // Everything that can be refused is, before the store is opened.
    runtime.positional_params(&program, &opts.params).map_err(|e| usage(e.to_string()))?;
    let principal = principal.map(|p| cli::users::read_principal(p, runtime.business_unit())).transpose()?;

    let rt = tokio_rt()?;
    rt.block_on(open_store(&runtime, db))?;
    if let Some(spec) = principal {
        let resolved = rt.block_on(cli::users::resolve_principal(&runtime, spec));
        opts.principal = Some(resolved.inspect_err(|_| rt.block_on(runtime.close()))?);
    }
    let report = rt.block_on(async {
        let r = async {
            if let Some(file) = trace {
                let sink = TraceSink::file(file).map_err(|e| usage(format!("--trace {}: {e}", file.display())))?;
                opts = opts.trace(sink);
            }
            let report = runtime.run(&program, opts).await.map_err(|e| usage(e.to_string()))?;
            let spawned = runtime.wait_spawned().await;
            let note = runtime.record(&program, &report).await.err().map(|e| format!("run not logged: {e}"));
            Ok::<_, anyhow::Error>((report, spawned, note))
        }
        .await;
        runtime.close().await;
        r
    })?;
    let (report, spawned, store_note) = (report.0, report.1, report.2);
    if let Some(n) = store_note {
        eprintln!("prospero: warning: {n}");
    }
    // Runs the script spawned count: one that did not complete (a spawn
    // budget, say) makes the command fail too.
    let unfinished: Vec<&prospero::RunReport> = spawned.iter().filter(|r| r.status != RunStatus::Completed).collect();
    if json {
        emit_report_json(&report);
    } else {
        print_report(&report);
        if !spawned.is_empty() {
            outln!("spawned: {} runs, {} did not complete", spawned.len(), unfinished.len());
        }
    }
    // A completed run may still have failed steps its script handled: say
    // so, so a run that loaded nothing does not look like one that did.
    if let Some(first) = report.handled.first() {
        let n = report.handled.len();
        let more = if n >= prospero::RunReport::HANDLED_KEPT { " or more" } else { "" };
        eprintln!("prospero: the script handled {n}{more} failed step(s); the first: {first}");
    }
    // The JSON object is the root run's alone (the contract): spawned runs
    // that did not complete are named on stderr in both modes.
    for r in unfinished.iter().take(10) {
        eprintln!(
            "prospero: spawned run {} ({}) {}: {}",
            r.run_id,
            r.script,
            r.status.name(),
            r.error.as_deref().unwrap_or("")
        );
    }
    if unfinished.len() > 10 {
        eprintln!("prospero: ... and {} more spawned runs that did not complete", unfinished.len() - 10);
    }
    Ok(match report.status {
        RunStatus::Completed if unfinished.is_empty() => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}

fn print_report(r: &prospero::RunReport) {
    outln!("{} {} in {} steps", r.script, r.status.name(), r.steps);
    if let Some(e) = &r.error {
        outln!("error: {e}");
    }
    if let Some(v) = &r.return_value {
        outln!("return: {}", v.preview(2000));
    }
    for note in &r.notes {
        outln!("note: {note}");
    }
    if !r.variables.is_empty() {
        outln!("variables:");
        for (name, v) in r.variables.iter() {
            outln!("  {name} = {}", v.preview(200));
        }
    }
}

fn parse_now(t: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    let at = chrono::DateTime::parse_from_rfc3339(t.trim())
        .map_err(|e| usage(format!("--now {t}: not an RFC 3339 instant ({e})")))?;
    Ok(at.with_timezone(&chrono::Utc))
}

fn check_db_url(db: &str) -> Result<()> {
    if db.contains("://") && !(db.starts_with("postgres") || db.starts_with("sqlite:")) {
        return Err(usage(format!("--db {db}: use a file path, sqlite:..., sqlite::memory: or postgres://...")));
    }
    Ok(())
}

fn tokio_rt() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")
}
