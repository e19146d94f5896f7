//! The outbound commands: `skills`, `leads import` and `demo`, over the
//! outbound pack's store.

use crate::{check_db_url, parse_now, tokio_rt, usage};
use anyhow::Result;
use clap::Subcommand;
use prospero::packs::outbound::OutboundStore;
use prospero::{RunOptions, RunStatus, Runtime};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the store is and which business unit to work in.
#[derive(clap::Args, Clone)]
pub(crate) struct StoreArgs {
    /// Store URL: a file path, sqlite::memory:, or postgres://...
    #[arg(long, value_name = "URL", default_value = "prospero.db")]
    db: String,
    /// The business unit (trimmed, lowercased; created by the first command
    /// that writes to it, an error for commands that only read).
    #[arg(long, value_name = "NAME", default_value = "default", value_parser = prospero::store::unit_name)]
    unit: String,
}

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

/// Open the store and find the business unit; for [`UnitUse::Write`],
/// create it when new (and say so on stderr, once: the first time).
pub(crate) async fn open_unit(args: &StoreArgs, mode: UnitUse) -> Result<(std::sync::Arc<dyn OutboundStore>, i64)> {
    let store = prospero::store::open(&args.db).await.map_err(|e| usage(e.to_string()))?;
    let unit = match mode {
        UnitUse::Write => {
            let unit = store.ensure_business_unit(&args.unit).await.map_err(|e| usage(e.to_string()))?;
            if unit.created {
                note_created_unit(&unit.name);
            }
            unit.id
        }
        UnitUse::Read => store
            .find_business_unit(&args.unit)
            .await
            .map_err(|e| usage(e.to_string()))?
            .ok_or_else(|| usage(no_unit_message(&args.unit)))?,
    };
    Ok((prospero::packs::outbound::store(&store).map_err(|e| usage(e.to_string()))?, unit))
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
            tokio_rt()?.block_on(async {
                let (st, unit) = open_unit(&store, UnitUse::Write).await?;
                let mut skill = st.skill(unit, number).await?.unwrap_or_else(|| Skill::new(number, name.trim()));
                skill.name = name.trim().to_string();
                skill.channel = channel;
                if let Some(m) = max_destinations {
                    skill.max_destinations = m;
                }
                if let Some(t) = threshold {
                    skill.threshold = t;
                }
                if let Some(w) = windows {
                    // Stored in canonical form; an unreadable spec is refused
                    // before anything is written.
                    let parsed: prospero::timezone::CallingWindows =
                        w.parse().map_err(|e: prospero::timezone::WindowError| anyhow::anyhow!("--windows: {e}"))?;
                    skill.windows = parsed.to_string();
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
            })
        }
        SkillsCommand::List { json, store } => {
            check_db_url(&store.db)?;
            tokio_rt()?.block_on(async {
                let (st, unit) = open_unit(&store, UnitUse::Read).await?;
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
                    outln!("no outbound skills in business unit '{}' (add one with `prospero skills add`)", store.unit);
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
            })
        }
    }
}

pub(crate) fn import_leads(file: &Path, lead_source: &str, key: Option<&str>, store: &StoreArgs) -> Result<ExitCode> {
    check_db_url(&store.db)?;
    if lead_source.trim().is_empty() {
        return Err(usage("--lead-source must not be blank"));
    }
    let leads = prospero::outbound::leads::read_csv(file, key).map_err(|e| usage(e.to_string()))?;
    tokio_rt()?.block_on(async {
        let (st, unit) = open_unit(store, UnitUse::Write).await?;
        let n = st.import_leads(unit, lead_source.trim(), &leads).await?;
        outln!("{n} record(s) from {} are waiting in lead source '{}'", file.display(), lead_source.trim());
        Ok(ExitCode::SUCCESS)
    })
}

/// The demo's fixed names.
pub(crate) const DEMO_SKILL: i64 = 4001;

pub(crate) const DEMO_SOURCE: &str = "Spring Leads";

pub(crate) const DEMO_LEAD_SOURCE: &str = "crm";

pub(crate) fn demo(
    store: &StoreArgs,
    scripts: &Path,
    now: Option<&str>,
    cycles: u32,
    batch: u32,
    pause: u32,
) -> Result<ExitCode> {
    use prospero::outbound::model::Skill;
    check_db_url(&store.db)?;
    let at = now.map(parse_now).transpose()?;
    let csv = scripts.join("data").join("leads.csv");
    let leads = prospero::outbound::leads::read_csv(&csv, None).map_err(|e| usage(e.to_string()))?;
    let runtime =
        Runtime::builder().db(store.db.as_str()).business_unit(store.unit.as_str()).scripts_dir(scripts).build();
    let setup = runtime.load(&scripts.join("source_setup.json")).map_err(|e| usage(e.lines().join("\n")))?;
    let brain = runtime.load(&scripts.join("brain.json")).map_err(|e| usage(e.lines().join("\n")))?;
    tokio_rt()?.block_on(async {
        let st = runtime.domain::<dyn OutboundStore>().await.map_err(|e| usage(e.to_string()))?;
        let unit = runtime.unit_id().await.map_err(|e| usage(e.to_string()))?;
        if runtime.created_unit() {
            note_created_unit(runtime.business_unit());
        }
        let mut skill = st.skill(unit, DEMO_SKILL).await?.unwrap_or_else(|| Skill::new(DEMO_SKILL, "Spring campaign"));
        skill.threshold = skill.threshold.max(5000);
        st.upsert_skill(unit, &skill).await?;
        let imported = st.import_leads(unit, DEMO_LEAD_SOURCE, &leads).await?;

        let mut opts = RunOptions::new().param("sourceName", DEMO_SOURCE);
        if let Some(t) = at {
            opts = opts.at(t);
        }
        let report = runtime.run(&setup, opts).await.map_err(|e| usage(e.to_string()))?;
        let setup_status = report.return_value.as_ref().map(|v| v.to_text().to_string()).unwrap_or_default();
        let _ = runtime.record(&setup, &report).await;
        if report.status != RunStatus::Completed || setup_status.starts_with("failed") {
            outln!("source setup {}: {}", report.status.name(), report.error.as_deref().unwrap_or(&setup_status));
            return Ok(ExitCode::from(1));
        }

        let mut opts = RunOptions::new()
            .param("skill", DEMO_SKILL.to_string())
            .param("sourceName", DEMO_SOURCE)
            .param("leadSource", DEMO_LEAD_SOURCE)
            .param("cycles", cycles.to_string())
            .param("batchSize", batch.to_string())
            .param("pause", pause.to_string());
        if let Some(t) = at {
            opts = opts.at(t);
        }
        let report = runtime.run(&brain, opts).await.map_err(|e| usage(e.to_string()))?;
        let _ = runtime.record(&brain, &report).await;
        if report.status != RunStatus::Completed {
            outln!("brain script {}: {}", report.status.name(), report.error.as_deref().unwrap_or(""));
            return Ok(ExitCode::from(1));
        }
        let totals: serde_json::Value = report
            .return_value
            .as_ref()
            .and_then(|v| serde_json::from_str(&v.to_text()).ok())
            .unwrap_or(serde_json::Value::Null);
        let num = |k: &str| totals[k].as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0) as i64;
        let dialable = st
            .count_dialable(unit, DEMO_SKILL, &prospero::store::time_text(at.unwrap_or_else(chrono::Utc::now)))
            .await?;
        outln!("Prospero outbound demo: business unit '{}', store {}", store.unit, prospero::store::redact(&store.db));
        outln!("  skill {} '{}': up to {} destinations per prospect", skill.number, skill.name, skill.max_destinations);
        outln!("  source '{DEMO_SOURCE}': {setup_status}");
        outln!("  lead source '{DEMO_LEAD_SOURCE}': {imported} records from {}", csv.display());
        outln!("  brain script: {} cycles, {} batches, {} errors", num("Cycles"), num("Batches"), num("Errors"));
        outln!("  received {:>6}", num("Received"));
        outln!("  created  {:>6}", num("Created"));
        outln!("  updated  {:>6}", num("Updated"));
        outln!("  failed   {:>6}", num("Failed"));
        if let Some(codes) = totals["Codes"].as_object() {
            let mut codes: Vec<(&String, i64)> = codes
                .iter()
                .map(|(k, v)| (k, v.as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0) as i64))
                .collect();
            codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            for (code, n) in codes {
                outln!("    {code:<24}{n:>6}");
            }
        }
        outln!("  dialable prospects on skill {DEMO_SKILL}: {dialable}");
        Ok(ExitCode::SUCCESS)
    })
}
