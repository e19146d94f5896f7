//! The outbound commands: `skills`, `leads import` and `demo`, over the
//! outbound pack's store.

use super::{StoreArgs, progress};
use crate::{check_db_url, parse_now, tokio_rt, usage};
use anyhow::Result;
use clap::Subcommand;
use prospero::packs::outbound::OutboundStore;
use prospero::store::{Store, StoreError};
use prospero::{RunOptions, RunStatus, Runtime};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub(crate) enum SkillsCommand {
    /// Create an outbound skill, or change an existing one.
    Add {
        /// The skill number.
        number: i64,
        /// Display name.
        #[arg(long)]
        name: String,
        /// The most destinations a prospect keeps (default 6).
        #[arg(long, value_name = "N")]
        max_destinations: Option<u32>,
        /// The brain script loads more prospects below this count.
        #[arg(long, value_name = "N")]
        threshold: Option<i64>,
        /// phone, sms or email.
        #[arg(long, default_value = "phone")]
        channel: String,
        /// Calling windows, e.g. "Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00".
        #[arg(long, value_name = "SPEC")]
        windows: Option<String>,
        /// A field the skill's processing filters use (repeatable).
        #[arg(long = "filter-field", value_name = "FIELD")]
        filter_fields: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the outbound skills.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
pub(crate) enum LeadsCommand {
    /// Load a CSV file (first row: column names) into a lead source;
    /// records with the same key are replaced and become available again.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The lead source's name.
        #[arg(long, value_name = "NAME")]
        lead_source: String,
        /// The column that keys records (default: the row number).
        #[arg(long, value_name = "COLUMN")]
        key: Option<String>,
        /// `--json` prints one object: file, lead_source, unit, records.
        #[command(flatten)]
        output: super::Output,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// What a command does with the business unit: a command that writes
/// creates it on first use, one that only reads needs it to exist.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitUse {
    Write,
    Read,
}

/// An open store, one pack's side of it (`T`, the pack's store trait) and
/// the business unit's id.
pub(crate) struct OpenUnit<T: ?Sized> {
    store: Arc<dyn Store>,
    pub(crate) domain: Arc<T>,
    pub(crate) unit: i64,
}

impl<T: ?Sized> OpenUnit<T> {
    /// Close the store (every exit path after opening one goes through
    /// here, so an SQLite file is left complete on its own).
    pub(crate) async fn close(self) {
        self.store.close().await;
    }
}

/// Open the store at `db`, find business unit `unit` and take `domain` of
/// the store (a pack's `store`, its side of it); for [`UnitUse::Write`],
/// create the unit when new (and say so on stderr, once: the first time).
/// `refused` words a store error for the command; whatever cannot be had,
/// the store is closed again before the error (exit 2) returns. Every
/// command that works in one unit opens it here.
pub(crate) async fn open_unit_of<T: ?Sized>(
    db: &str,
    unit: &str,
    mode: UnitUse,
    refused: impl Fn(StoreError) -> anyhow::Error,
    domain: impl FnOnce(&Arc<dyn Store>) -> Result<Arc<T>, StoreError>,
) -> Result<OpenUnit<T>> {
    let store = prospero::store::open(db).await.map_err(&refused)?;
    let found = match mode {
        UnitUse::Write => store.ensure_business_unit(unit).await.map(|created| {
            if created.created {
                note_created_unit(&created.name);
            }
            Some(created.id)
        }),
        UnitUse::Read => store.find_business_unit(unit).await,
    };
    let failed = match (found, domain(&store)) {
        (Ok(Some(unit)), Ok(domain)) => return Ok(OpenUnit { store, domain, unit }),
        (Ok(None), _) => usage(no_unit_message(unit)),
        (Err(e), _) => refused(e),
        (_, Err(e)) => usage(e.to_string()),
    };
    store.close().await;
    Err(failed)
}

/// The outbound side of the store and unit `args` name (see
/// [`open_unit_of`]).
async fn open_unit(args: &StoreArgs, mode: UnitUse) -> Result<OpenUnit<dyn OutboundStore>> {
    open_unit_of(&args.db, &args.unit, mode, |e| store_refused(&args.db, e), prospero::packs::outbound::store).await
}

/// Open `runtime`'s store and its business unit (created when new) before
/// anything runs: a store that cannot be opened or migrated is exit 2
/// naming it, not a run that fails inside.
pub(crate) async fn open_store(runtime: &Runtime, db: &str) -> Result<()> {
    if let Err(e) = runtime.unit_id().await {
        runtime.close().await;
        return Err(store_refused(db, e));
    }
    if runtime.created_unit() {
        note_created_unit(runtime.business_unit());
    }
    Ok(())
}

/// A store error as a usage error (exit 2) that names the store (its
/// password hidden).
pub(crate) fn store_refused(db: &str, e: StoreError) -> anyhow::Error {
    match e {
        // These name the URL themselves.
        StoreError::Open { .. } | StoreError::BadUrl(_) => usage(e.to_string()),
        other => usage(format!("store {}: {other}", prospero::store::redact(db))),
    }
}

pub(crate) fn no_unit_message(unit: &str) -> String {
    format!("no business unit '{unit}' (units are created by the first command that writes)")
}

pub(crate) fn note_created_unit(unit: &str) {
    eprintln!("prospero: created business unit '{unit}'");
}

pub(crate) fn skills(command: SkillsCommand) -> Result<ExitCode> {
    use prospero::outbound::model::Skill;
    match command {
        SkillsCommand::Add { number, name, max_destinations, threshold, channel, windows, filter_fields, store } => {
            check_db_url(&store.db)?;
            if number < 1 {
                return Err(usage(format!("skill number {number}: must be 1 or more")));
            }
            if name.trim().is_empty() {
                return Err(usage("--name must not be blank"));
            }
            let channel = channel.trim().to_ascii_lowercase();
            if !["phone", "sms", "email"].contains(&channel.as_str()) {
                return Err(usage(format!("--channel {channel}: use phone, sms or email")));
            }
            if max_destinations == Some(0) {
                return Err(usage("--max-destinations must be 1 or more"));
            }
            // Refused before anything is opened or written.
            let windows = windows
                .map(|w| w.parse::<prospero::timezone::CallingWindows>())
                .transpose()
                .map_err(|e| usage(format!("--windows: {e}")))?;
            tokio_rt()?.block_on(async {
                let open = open_unit(&store, UnitUse::Write).await?;
                let (st, unit) = (&open.domain, open.unit);
                let r = async {
                    let mut skill = st.skill(unit, number).await?.unwrap_or_else(|| Skill::new(number, name.trim()));
                    skill.name = name.trim().to_string();
                    skill.channel = channel;
                    if let Some(m) = max_destinations {
                        skill.max_destinations = m;
                    }
                    if let Some(t) = threshold {
                        skill.threshold = t;
                    }
                    if let Some(w) = &windows {
                        // Stored in canonical form.
                        skill.windows = w.to_string();
                    }
                    if !filter_fields.is_empty() {
                        skill.filter_fields = filter_fields.iter().map(|f| f.trim().to_string()).collect();
                    }
                    st.upsert_skill(unit, &skill).await?;
                    outln!(
                        "skill {} '{}' ({}, up to {} destinations, threshold {}) in business unit '{}'",
                        skill.number,
                        skill.name,
                        skill.channel,
                        skill.max_destinations,
                        skill.threshold,
                        store.unit
                    );
                    Ok(ExitCode::SUCCESS)
                }
                .await;
                open.close().await;
                r
            })
        }
        SkillsCommand::List { json, store } => {
            check_db_url(&store.db)?;
            tokio_rt()?.block_on(async {
                let open = open_unit(&store, UnitUse::Read).await?;
                let (st, unit) = (&open.domain, open.unit);
                let r = async {
                    let skills = st.skills(unit).await?;
                    let now = prospero::store::now_text();
                    if json {
                        let mut list = Vec::new();
                        for s in &skills {
                            list.push(serde_json::json!({
                                "number": s.number, "name": s.name, "channel": s.channel,
                                "max_destinations": s.max_destinations, "threshold": s.threshold,
                                "windows": s.windows, "filter_fields": s.filter_fields,
                                "dialable": st.count_dialable(unit, s.number, &now).await?,
                            }));
                        }
                        outln!("{}", serde_json::to_string_pretty(&list)?);
                    } else if skills.is_empty() {
                        outln!(
                            "no outbound skills in business unit '{}' (add one with `prospero skills add`)",
                            store.unit
                        );
                    } else {
                        outln!(
                            "{:>8}  {:<24} {:<7} {:>5} {:>9} {:>9}",
                            "skill",
                            "name",
                            "channel",
                            "max",
                            "threshold",
                            "dialable"
                        );
                        for s in &skills {
                            outln!(
                                "{:>8}  {:<24} {:<7} {:>5} {:>9} {:>9}",
                                s.number,
                                s.name,
                                s.channel,
                                s.max_destinations,
                                s.threshold,
                                st.count_dialable(unit, s.number, &now).await?
                            );
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                .await;
                open.close().await;
                r
            })
        }
    }
}

/// How `leads import` runs: what to read, where to put it, how to report.
pub(crate) struct ImportArgs<'a> {
    pub file: &'a Path,
    pub lead_source: &'a str,
    pub key: Option<&'a str>,
    pub json: bool,
    pub quiet: bool,
    pub store: &'a StoreArgs,
}

pub(crate) fn import_leads(a: &ImportArgs<'_>) -> Result<ExitCode> {
    check_db_url(&a.store.db)?;
    let lead_source = a.lead_source.trim();
    if lead_source.is_empty() {
        return Err(usage("--lead-source must not be blank"));
    }
    let leads = read_leads(a.file, a.key, a.quiet)?;
    tokio_rt()?.block_on(async {
        let open = open_unit(a.store, UnitUse::Write).await?;
        let writing = progress::spinner(&format!("writing {} record(s)", leads.len()), a.quiet);
        let imported = open.domain.import_leads(open.unit, lead_source, &leads).await;
        writing.finish_and_clear();
        open.close().await;
        let n = imported?;
        if a.json {
            let unit = prospero::store::unit_name(&a.store.unit).map_err(|e| usage(e.to_string()))?;
            outln!(
                "{}",
                serde_json::json!({
                    "file": a.file.display().to_string(),
                    "lead_source": lead_source,
                    "unit": unit,
                    "records": n,
                })
            );
        } else {
            outln!("{n} record(s) from {} are waiting in lead source '{lead_source}'", a.file.display());
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Read a lead file with a progress bar over its bytes.
fn read_leads(file: &Path, key: Option<&str>, quiet: bool) -> Result<Vec<prospero::outbound::model::NewLead>> {
    let name = file.display().to_string();
    let f = std::fs::File::open(file).map_err(|e| usage(format!("{name}: {e}")))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(len, "reading", quiet);
    let leads = prospero::outbound::leads::read_csv_from(&name, std::io::BufReader::new(bar.wrap_read(f)), key)
        .map_err(|e| usage(e.to_string()));
    bar.finish_and_clear();
    leads
}

/// The demo's fixed names.
pub(crate) const DEMO_SKILL: i64 = 4001;

pub(crate) const DEMO_SOURCE: &str = "Spring Leads";

pub(crate) const DEMO_LEAD_SOURCE: &str = "crm";

/// The most brain-script cycles a demo runs (each takes about 20 steps of
/// the run's step budget).
pub(crate) const DEMO_MAX_CYCLES: u32 = 1000;

/// The demo's scripts, built into the binary so that `prospero demo` works
/// from any folder; sub scripts before the scripts that call them.
const BUILTIN_SCRIPTS: [(&str, &str); 3] = [
    ("create_prospects.json", include_str!("../../scripts/create_prospects.json")),
    ("source_setup.json", include_str!("../../scripts/source_setup.json")),
    ("brain.json", include_str!("../../scripts/brain.json")),
];

/// The demo's leads, built in with the scripts.
const BUILTIN_LEADS: &[u8] = include_bytes!("../../scripts/data/leads.csv");

/// How built-in files are named in messages.
const BUILTIN_PREFIX: &str = "builtin:scripts/";

/// What the demo runs: its two scripts and the leads it loads.
struct DemoFiles {
    setup: Arc<prospero::Program>,
    brain: Arc<prospero::Program>,
    leads: Vec<prospero::outbound::model::NewLead>,
    /// Where the leads came from, for the summary.
    leads_from: String,
}

impl DemoFiles {
    /// The files of `--scripts DIR`, or the built-in ones.
    fn load(runtime: &Runtime, dir: Option<&Path>) -> Result<DemoFiles> {
        let Some(dir) = dir else {
            let limits = runtime.load_limits();
            let mut programs = Vec::new();
            for (name, text) in BUILTIN_SCRIPTS {
                let file = format!("{BUILTIN_PREFIX}{name}");
                let script = prospero::script::load_text_with(text, Some(Path::new(&file)), limits)
                    .map_err(|e| usage(e.to_string()))?;
                programs.push(runtime.load_script(script).map_err(|e| usage(e.lines().join("\n")))?);
            }
            let file = format!("{BUILTIN_PREFIX}data/leads.csv");
            let leads = prospero::outbound::leads::read_csv_bytes(&file, BUILTIN_LEADS, None)
                .map_err(|e| usage(e.to_string()))?;
            let [_, setup, brain] =
                <[_; 3]>::try_from(programs).map_err(|_| usage("the built-in demo is incomplete"))?;
            return Ok(DemoFiles { setup, brain, leads, leads_from: file });
        };
        if !dir.is_dir() {
            return Err(usage(format!("--scripts {}: not a folder", dir.display())));
        }
        let csv = dir.join("data").join("leads.csv");
        let leads = prospero::outbound::leads::read_csv(&csv, None).map_err(|e| usage(e.to_string()))?;
        let load = |name: &str| runtime.load(&dir.join(name)).map_err(|e| usage(e.lines().join("\n")));
        Ok(DemoFiles {
            setup: load("source_setup.json")?,
            brain: load("brain.json")?,
            leads,
            leads_from: csv.display().to_string(),
        })
    }
}

/// The demo's settings from the command line.
pub(crate) struct DemoArgs<'a> {
    pub store: &'a StoreArgs,
    pub scripts: Option<&'a Path>,
    pub now: Option<&'a str>,
    pub cycles: u32,
    pub batch: u32,
    pub pause: u32,
    pub json: bool,
    pub quiet: bool,
    /// The principal file the demo's scripts run for.
    pub principal: Option<&'a Path>,
}

pub(crate) fn demo(args: &DemoArgs) -> Result<ExitCode> {
    let store = args.store;
    check_db_url(&store.db)?;
    let at = args.now.map(parse_now).transpose()?;
    let mut builder = Runtime::builder().db(store.db.as_str()).business_unit(store.unit.as_str());
    if let Some(dir) = args.scripts {
        builder = builder.scripts_dir(dir);
    }
    let runtime = builder.build();
    let files = DemoFiles::load(&runtime, args.scripts)?;
    let principal = args.principal.map(|p| super::users::read_principal(p, runtime.business_unit())).transpose()?;
    tokio_rt()?.block_on(async {
        open_store(&runtime, &store.db).await?;
        let r = match principal {
            Some(spec) => super::users::resolve_principal(&runtime, spec).await.map(Some),
            None => Ok(None),
        };
        let r = match r {
            Ok(principal) => demo_runs(&runtime, args, &files, at, principal).await,
            Err(e) => Err(e),
        };
        runtime.close().await;
        r
    })
}

/// Set up the skill, the lead source and the source, run the brain script,
/// and print what happened (text, or one JSON object); exit 1 when a script
/// failed.
async fn demo_runs(
    runtime: &Runtime,
    args: &DemoArgs<'_>,
    files: &DemoFiles,
    at: Option<chrono::DateTime<chrono::Utc>>,
    principal: Option<prospero::Principal>,
) -> Result<ExitCode> {
    use prospero::outbound::model::Skill;
    let st = runtime.domain::<dyn OutboundStore>().await.map_err(|e| usage(e.to_string()))?;
    let unit = runtime.unit_id().await.map_err(|e| usage(e.to_string()))?;
    let mut skill = st.skill(unit, DEMO_SKILL).await?.unwrap_or_else(|| Skill::new(DEMO_SKILL, "Spring campaign"));
    skill.threshold = skill.threshold.max(5000);
    st.upsert_skill(unit, &skill).await?;
    let imported = st.import_leads(unit, DEMO_LEAD_SOURCE, &files.leads).await?;

    let mut opts = RunOptions::new().param("sourceName", DEMO_SOURCE);
    opts.principal = principal.clone();
    if let Some(t) = at {
        opts = opts.at(t);
    }
    let report = runtime.run(&files.setup, opts).await.map_err(|e| usage(e.to_string()))?;
    let setup_status = report.return_value.as_ref().map(|v| v.to_text().to_string()).unwrap_or_default();
    let _ = runtime.record(&files.setup, &report).await;
    if report.status != RunStatus::Completed || setup_status.starts_with("failed") {
        let why = report.error.clone().unwrap_or_else(|| setup_status.clone());
        return Ok(demo_failed(args.json, "source setup", report.status.name(), &why, &report.handled));
    }

    let mut opts = RunOptions::new()
        .param("skill", DEMO_SKILL.to_string())
        .param("sourceName", DEMO_SOURCE)
        .param("leadSource", DEMO_LEAD_SOURCE)
        .param("cycles", args.cycles.to_string())
        .param("batchSize", args.batch.to_string())
        .param("pause", args.pause.to_string());
    opts.principal = principal;
    if let Some(t) = at {
        opts = opts.at(t);
    }
    let running = progress::spinner(&format!("brain script: {} cycle(s)", args.cycles), args.quiet || args.json);
    let report = runtime.run(&files.brain, opts).await.map_err(|e| usage(e.to_string()));
    running.finish_and_clear();
    let report = report?;
    let _ = runtime.record(&files.brain, &report).await;
    if report.status != RunStatus::Completed {
        let why = report.error.clone().unwrap_or_default();
        return Ok(demo_failed(args.json, "brain script", report.status.name(), &why, &report.handled));
    }
    let totals: serde_json::Value = report
        .return_value
        .as_ref()
        .and_then(|v| serde_json::from_str(&v.to_text()).ok())
        .unwrap_or(serde_json::Value::Null);
    let num = |k: &str| totals[k].as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0) as i64;
    let dialable =
        st.count_dialable(unit, DEMO_SKILL, &prospero::store::time_text(at.unwrap_or_else(chrono::Utc::now))).await?;
    // The brain counts a batch that failed and carries on; it stops on a
    // failure of its own, with the reason in `Error`.
    let stopped = totals["Error"].as_str().filter(|e| !e.is_empty());
    let failed = num("Errors") > 0 || stopped.is_some();
    let mut codes: Vec<(String, i64)> = totals["Codes"]
        .as_object()
        .map(|c| {
            c.iter()
                .map(|(k, v)| (k.clone(), v.as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0) as i64))
                .collect()
        })
        .unwrap_or_default();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let summary = serde_json::json!({
        "status": if failed { "failed" } else { "completed" },
        "unit": args.store.unit.trim().to_lowercase(),
        "store": prospero::store::redact(&args.store.db),
        "skill": {"number": skill.number, "name": skill.name, "max_destinations": skill.max_destinations},
        "source": {"name": DEMO_SOURCE, "setup": setup_status},
        "lead_source": {"name": DEMO_LEAD_SOURCE, "records": imported, "from": files.leads_from},
        "brain": {"cycles": num("Cycles"), "batches": num("Batches"), "errors": num("Errors"), "stopped": stopped},
        "received": num("Received"),
        "created": num("Created"),
        "updated": num("Updated"),
        "failed": num("Failed"),
        "codes": codes.iter().map(|(c, n)| serde_json::json!({"code": c, "count": n})).collect::<Vec<_>>(),
        "dialable": dialable,
        "reasons": if failed { reasons_json(&report.handled) } else { serde_json::json!([]) },
    });
    if args.json {
        outln!("{summary}");
    } else {
        print_summary(&summary, if failed { &report.handled } else { &[] });
    }
    if failed {
        eprintln!("prospero: the demo's scripts failed (see the errors above)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The demo's text summary, from its JSON form.
fn print_summary(s: &serde_json::Value, handled: &[prospero::Failure]) {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    let brain = &s["brain"];
    outln!("Prospero outbound demo: business unit '{}', store {}", text(&s["unit"]), text(&s["store"]));
    outln!(
        "  skill {} '{}': up to {} destinations per prospect",
        s["skill"]["number"],
        text(&s["skill"]["name"]),
        s["skill"]["max_destinations"]
    );
    outln!("  source '{DEMO_SOURCE}': {}", text(&s["source"]["setup"]));
    outln!(
        "  lead source '{DEMO_LEAD_SOURCE}': {} records from {}",
        s["lead_source"]["records"],
        text(&s["lead_source"]["from"])
    );
    outln!("  brain script: {} cycles, {} batches, {} errors", brain["cycles"], brain["batches"], brain["errors"]);
    print_reasons(handled);
    if let Some(why) = brain["stopped"].as_str() {
        outln!("    the brain script stopped: {why}");
    }
    for (label, key) in
        [("received", "received"), ("created ", "created"), ("updated ", "updated"), ("failed  ", "failed")]
    {
        outln!("  {label} {:>6}", s[key].as_i64().unwrap_or(0));
    }
    for c in s["codes"].as_array().into_iter().flatten() {
        outln!("    {:<24}{:>6}", text(&c["code"]), c["count"].as_i64().unwrap_or(0));
    }
    outln!("  dialable prospects on skill {DEMO_SKILL}: {}", s["dialable"]);
}

/// A script of the demo that did not complete: say which, why, and the
/// failures it handled before; exit 1.
fn demo_failed(json: bool, stage: &str, status: &str, why: &str, handled: &[prospero::Failure]) -> ExitCode {
    if json {
        outln!(
            "{}",
            serde_json::json!({"status": "failed", "stage": stage, "run_status": status, "error": why, "reasons": reasons_json(handled)})
        );
    } else {
        outln!("{stage} {status}: {why}");
        print_reasons(handled);
    }
    ExitCode::from(1)
}

/// The handled failures grouped by text, with how often each happened.
fn grouped(handled: &[prospero::Failure]) -> Vec<(String, usize)> {
    let mut reasons: Vec<(String, usize)> = Vec::new();
    for f in handled {
        let text = f.to_string();
        match reasons.iter_mut().find(|(t, _)| *t == text) {
            Some((_, n)) => *n += 1,
            None => reasons.push((text, 1)),
        }
    }
    reasons
}

fn reasons_json(handled: &[prospero::Failure]) -> serde_json::Value {
    grouped(handled).into_iter().map(|(text, n)| serde_json::json!({"error": text, "count": n})).collect()
}

/// Each failure a script handled, where and why; one line per reason, with
/// how often it happened.
fn print_reasons(handled: &[prospero::Failure]) {
    for (text, n) in grouped(handled) {
        match n {
            1 => outln!("    error: {text}"),
            n => outln!("    error ({n} times): {text}"),
        }
    }
}
