//! A host plugs in its own outbound backend: the outbound pack's actions
//! (CREATESOURCE, CREATESOURCEMAP, CREATEPROSPECTS, GETQUEUE, ...) then read
//! and write the host's data, while business units and the run log stay
//! on the store the runtime opens.
//!
//! The backend here keeps everything in memory behind a mutex; a dialing
//! platform would call its own database or service in the same methods.
//! It implements [`OutboundStore`], is handed to the builder with
//! `domain_store::<dyn OutboundStore>(...)`, and a script creates a
//! source, maps it, checks out the leads the host put in a lead source,
//! loads them as prospects, checks them back in and reads the queue. The
//! example then prints what the host's backend holds and checks that the
//! runtime's SQLite store received none of it.
//!
//! Run with `cargo run --example custom_outbound`.

use async_trait::async_trait;
use prospero::outbound::model::{Lead, NewLead, Saved, Search, Skill, Source, SourceMap, StoredProspect, UserField};
use prospero::packs::outbound::{Batch, CheckIn, CheckOut, NewSourceMap, OutboundStore};
use prospero::store::StoreError;
use prospero::{RunOptions, RunStatus, Runtime};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The host's outbound backend: one mutex over every table.
#[derive(Default)]
struct MemoryOutbound {
    data: Mutex<Tables>,
}

/// What the backend holds. Every row carries its business unit, as the
/// trait scopes every call to one.
#[derive(Default)]
struct Tables {
    /// The last id handed out (sources, prospects, lead records).
    last_id: i64,
    /// (unit, skill number) → skill.
    skills: BTreeMap<(i64, i64), Skill>,
    /// (unit, source).
    sources: Vec<(i64, Source)>,
    /// (unit, field), in creation order.
    user_fields: Vec<(i64, UserField)>,
    /// (unit, source id) → every map version, oldest first.
    maps: BTreeMap<(i64, i64), Vec<SourceMap>>,
    /// Prospect id → prospect.
    prospects: BTreeMap<i64, Prospect>,
    /// Lead id → lead-source record.
    leads: BTreeMap<i64, LeadRecord>,
}

/// A stored prospect with the keys the trait searches by.
struct Prospect {
    unit: i64,
    source: i64,
    first_name: Option<String>,
    last_name: Option<String>,
    stored: StoredProspect,
}

/// A lead-source record and where it stands.
struct LeadRecord {
    unit: i64,
    lead_source: String,
    lead: Lead,
    state: LeadState,
}

enum LeadState {
    Waiting,
    /// Held by a run until its lease ends.
    CheckedOut {
        run_id: String,
        lease_until: String,
    },
    Done {
        outcome: String,
    },
}

impl MemoryOutbound {
    fn tables(&self) -> Result<MutexGuard<'_, Tables>, StoreError> {
        // A panic while the lock was held leaves the tables half-written:
        // refuse to go on rather than serve them.
        self.data.lock().map_err(|_| StoreError::Query("the in-memory outbound store is poisoned".into()))
    }
}

impl Tables {
    fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    fn source_named(&self, unit: i64, name: &str) -> Option<&Source> {
        // Source names compare without regard to case.
        let key = name.to_lowercase();
        self.sources.iter().find(|(u, s)| *u == unit && s.name.to_lowercase() == key).map(|(_, s)| s)
    }
}

// Times arrive as UTC text `YYYY-MM-DDTHH:MM:SSZ`, so comparing the texts
// compares the instants.
#[async_trait]
impl OutboundStore for MemoryOutbound {
    async fn upsert_skill(&self, unit: i64, skill: &Skill) -> Result<(), StoreError> {
        self.tables()?.skills.insert((unit, skill.number), skill.clone());
        Ok(())
    }

    async fn skill(&self, unit: i64, number: i64) -> Result<Option<Skill>, StoreError> {
        Ok(self.tables()?.skills.get(&(unit, number)).cloned())
    }

    async fn skills(&self, unit: i64) -> Result<Vec<Skill>, StoreError> {
        Ok(self.tables()?.skills.range((unit, i64::MIN)..=(unit, i64::MAX)).map(|(_, s)| s.clone()).collect())
    }

    async fn create_source(&self, unit: i64, name: &str, _now: &str) -> Result<Option<Source>, StoreError> {
        let mut t = self.tables()?;
        if t.source_named(unit, name).is_some() {
            return Ok(None);
        }
        let source = Source { id: t.next_id(), name: name.to_string() };
        t.sources.push((unit, source.clone()));
        Ok(Some(source))
    }

    async fn source(&self, unit: i64, name: &str) -> Result<Option<Source>, StoreError> {
        Ok(self.tables()?.source_named(unit, name).cloned())
    }

    async fn create_user_field(&self, unit: i64, field: &UserField, _now: &str) -> Result<bool, StoreError> {
        let mut t = self.tables()?;
        let key = field.name.to_lowercase();
        if t.user_fields.iter().any(|(u, f)| *u == unit && f.name.to_lowercase() == key) {
            return Ok(false);
        }
        t.user_fields.push((unit, field.clone()));
        Ok(true)
    }

    async fn user_fields(&self, unit: i64) -> Result<Vec<UserField>, StoreError> {
        Ok(self.tables()?.user_fields.iter().filter(|(u, _)| *u == unit).map(|(_, f)| f.clone()).collect())
    }

    async fn source_map(&self, unit: i64, source: i64) -> Result<Option<SourceMap>, StoreError> {
        Ok(self.tables()?.maps.get(&(unit, source)).and_then(|versions| versions.last().cloned()))
    }

    async fn store_source_map(&self, unit: i64, map: NewSourceMap<'_>) -> Result<i64, StoreError> {
        let NewSourceMap { source, entries, .. } = map;
        let mut t = self.tables()?;
        let versions = t.maps.entry((unit, source)).or_default();
        let version = versions.len() as i64 + 1;
        versions.push(SourceMap { version, entries: entries.to_vec() });
        Ok(version)
    }

    async fn save_prospects(&self, unit: i64, batch: Batch<'_>) -> Result<Vec<Saved>, StoreError> {
        let Batch { source, skill_no, rows, .. } = batch;
        // All or nothing comes free: nothing below can fail half-way.
        let mut t = self.tables()?;
        let mut saved = Vec::with_capacity(rows.len());
        for row in rows {
            let existing = t
                .prospects
                .iter()
                .find(|(_, p)| p.source == source && p.stored.external_id == row.external_id)
                .map(|(id, _)| *id);
            let s = match existing {
                Some(id) => Saved { id, created: false },
                None => Saved { id: t.next_id(), created: true },
            };
            let stored = StoredProspect {
                id: s.id,
                external_id: row.external_id.clone(),
                skill_no,
                fields: row.fields.clone(),
                expires_at: row.expires_at.clone(),
                time_zone: row.time_zone.clone(),
                tz_source: row.tz_source.clone(),
                status: "active".into(),
                destinations: row.destinations.clone(),
            };
            let prospect =
                Prospect { unit, source, first_name: row.first_name.clone(), last_name: row.last_name.clone(), stored };
            t.prospects.insert(s.id, prospect);
            saved.push(s);
        }
        Ok(saved)
    }

    async fn find_prospects(&self, unit: i64, source: i64, search: &Search) -> Result<Vec<StoredProspect>, StoreError> {
        let same = |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
        let t = self.tables()?;
        Ok(t.prospects
            .values()
            .filter(|p| p.unit == unit && p.source == source)
            .filter(|p| search.external_id.as_ref().is_none_or(|id| *id == p.stored.external_id))
            .filter(|p| search.phone_e164.as_ref().is_none_or(|n| p.stored.destinations.iter().any(|d| d.e164 == *n)))
            .filter(|p| search.name.as_ref().is_none_or(|(f, l)| same(&p.first_name, f) && same(&p.last_name, l)))
            .map(|p| p.stored.clone())
            .collect())
    }

    async fn remove_prospects(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>, StoreError> {
        let mut t = self.tables()?;
        let mut removed = Vec::with_capacity(external_ids.len());
        for external_id in external_ids {
            let before = t.prospects.len();
            t.prospects.retain(|_, p| !(p.unit == unit && p.source == source && p.stored.external_id == *external_id));
            removed.push(t.prospects.len() < before);
        }
        Ok(removed)
    }

    async fn count_dialable(&self, unit: i64, skill_no: i64, now: &str) -> Result<i64, StoreError> {
        let t = self.tables()?;
        let dialable = t.prospects.values().filter(|p| {
            p.unit == unit
                && p.stored.skill_no == skill_no
                && p.stored.status == "active"
                && p.stored.expires_at.as_deref().is_none_or(|at| at > now)
        });
        Ok(dialable.count() as i64)
    }

    async fn import_leads(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64, StoreError> {
        let mut t = self.tables()?;
        for new in leads {
            let same_key = |r: &LeadRecord| r.unit == unit && r.lead_source == lead_source && r.lead.key == new.key;
            let id = match t.leads.values().find(|r| same_key(r)) {
                Some(r) => r.lead.id,
                None => t.next_id(),
            };
            // Importing a key again replaces the record and frees it.
            let lead = Lead { id, key: new.key.clone(), fields: new.fields.clone() };
            let record = LeadRecord { unit, lead_source: lead_source.to_string(), lead, state: LeadState::Waiting };
            t.leads.insert(id, record);
        }
        Ok(leads.len() as u64)
    }

    async fn check_out_leads(&self, unit: i64, checkout: CheckOut<'_>) -> Result<Vec<Lead>, StoreError> {
        let CheckOut { lead_source, max, run_id, now, lease_until } = checkout;
        let mut t = self.tables()?;
        let mut taken = Vec::new();
        // By id, so records go out in the order they came in.
        for r in t.leads.values_mut() {
            if taken.len() as i64 >= max {
                break;
            }
            let available = match &r.state {
                LeadState::Waiting => true,
                LeadState::CheckedOut { lease_until, .. } => lease_until.as_str() <= now,
                LeadState::Done { .. } => false,
            };
            if r.unit == unit && r.lead_source == lead_source && available {
                r.state = LeadState::CheckedOut { run_id: run_id.to_string(), lease_until: lease_until.to_string() };
                taken.push(r.lead.clone());
            }
        }
        Ok(taken)
    }

    async fn check_in_leads(&self, unit: i64, checkin: CheckIn<'_>) -> Result<Vec<bool>, StoreError> {
        let CheckIn { run_id, items, .. } = checkin;
        let mut t = self.tables()?;
        let mut accepted = Vec::with_capacity(items.len());
        for (id, outcome) in items {
            let record = t.leads.get_mut(id).filter(|r| r.unit == unit);
            let held = record.filter(|r| matches!(&r.state, LeadState::CheckedOut { run_id: by, .. } if by == run_id));
            accepted.push(match held {
                Some(r) => {
                    r.state = LeadState::Done { outcome: outcome.clone() };
                    true
                }
                None => false,
            });
        }
        Ok(accepted)
    }
}

/// Create a source and map it, check out the lead source `crm`, load its
/// records as prospects of skill 4001, check them back in and read the
/// skill's queue. Every branch that is not the happy one ends in `failed`,
/// so an unexpected answer shows in `_ERR` or in the path.
const SCRIPT: &str = r#"{
  "name": "load_spring_leads",
  "actions": [
    {"id": "start", "action": "BEGIN", "next": "source"},
    {"id": "source", "action": "CREATESOURCE", "Name": "Spring Leads",
     "branches": {"Default": "buildMap", "NameAlreadyUsed": "failed", "NoNameProvided": "failed",
                  "NameExceededLength": "failed", "OnError": "failed"}},
    {"id": "buildMap", "action": "SNIPPET", "next": "map", "branches": {"OnError": "failed"},
     "Code": [
       "DYNAMIC map",
       "map.Mappings.ExternalID = \"Account\"",
       "map.Mappings.FirstName = \"First\"",
       "map.Mappings.LastName = \"Last\"",
       "map.Mappings.PhoneNumber = \"Phone\""
     ]},
    {"id": "map", "action": "CREATESOURCEMAP", "SourceName": "Spring Leads", "Mapping": "map",
     "branches": {"Default": "checkout", "InvalidSource": "failed", "InvalidRootNode": "failed",
                  "InvalidFieldName": "failed", "MissingRequiredField": "failed", "FieldsInUseCantApply": "failed",
                  "NoChangesMade": "failed", "ExceededMaxDestinations": "failed", "OnError": "failed"}},
    {"id": "checkout", "action": "CHECKOUTLEADS", "LeadSource": "crm", "MaxRecords": "10", "Leads": "leads",
     "branches": {"Default": "load", "NoLeads": "failed", "OnError": "failed"}},
    {"id": "load", "action": "CREATEPROSPECTS", "version": 2, "SkillNo": "4001", "SourceName": "Spring Leads",
     "Data": "leads", "Results": "loaded", "branches": {"Default": "checkin", "OnError": "failed"}},
    {"id": "checkin", "action": "CHECKINLEADS", "Records": "leads", "Outcome": "Loaded",
     "branches": {"Default": "queue", "OnError": "failed"}},
    {"id": "queue", "action": "GETQUEUE", "Skills": "4001", "NumberQueued": "queued", "Threshold": "threshold",
     "branches": {"Default": "done", "OnError": "failed"}},
    {"id": "done", "action": "RETURN",
     "ReturnValue": "created {loaded.Summary.Created} of {loaded.Summary.Received}; {queued} queued (threshold {threshold})"},
    {"id": "failed", "action": "RETURN", "ReturnValue": "failed: {_ERR}"}
  ]
}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = Arc::new(MemoryOutbound::default());
    // The host's store replaces the one the outbound pack would make on
    // SQLite; business units and the run log still live in SQLite.
    let runtime = Runtime::builder().db("sqlite::memory:").domain_store::<dyn OutboundStore>(backend.clone()).build();

    // Skills come from the platform, never from scripts: seed one in the
    // host's backend, under the runtime's business unit.
    let unit = runtime.unit_id().await?;
    let mut skill = Skill::new(4001, "Spring campaign");
    skill.threshold = 50;
    backend.upsert_skill(unit, &skill).await?;
    // The platform also fills the lead source the script draws from.
    let leads = [
        r#"{"Account": "A-100", "First": "Ada", "Last": "Lovelace", "Phone": "(212) 736-5000"}"#,
        r#"{"Account": "A-200", "First": "Alan", "Last": "Turing", "Phone": "312-603-0142"}"#,
    ];
    let leads: Vec<NewLead> =
        leads.iter().zip(["A-100", "A-200"]).map(|(f, k)| NewLead { key: k.into(), fields: f.to_string() }).collect();
    backend.import_leads(unit, "crm", &leads).await?;

    let program = runtime.load_script(prospero::script::load_text(SCRIPT, None)?)?;
    let report = runtime.run(&program, RunOptions::new().at("2026-03-09T15:00:00Z".parse()?)).await?;
    let path: Vec<String> = report.path.iter().map(|s| format!("{}:{}", s.id, s.branch)).collect();
    let returned = report.return_value.as_ref().map(|v| v.to_text().to_string()).unwrap_or_default();
    println!("status: {}", report.status.name());
    println!("path:   {}", path.join(" -> "));
    println!("return: {returned}");
    assert_eq!(report.status, RunStatus::Completed, "the run did not complete: {returned}");
    assert_eq!(returned, "created 2 of 2; 2 queued (threshold 50)", "unexpected result (path {path:?})");

    // What the host's backend now holds.
    {
        let t = backend.tables()?;
        println!("\nThe host's outbound backend holds:");
        for (u, s) in &t.sources {
            println!("  source {} '{}' (unit {u})", s.id, s.name);
        }
        for ((u, source), versions) in &t.maps {
            for m in versions {
                let entries: Vec<String> = m.entries.iter().map(|e| format!("{} <- {}", e.field, e.label)).collect();
                println!("  map v{} of source {source} (unit {u}): {}", m.version, entries.join(", "));
            }
        }
        for p in t.prospects.values() {
            let numbers: Vec<String> = p.stored.destinations.iter().map(|d| d.e164.clone()).collect();
            println!(
                "  prospect {} '{}' skill {}: {} (zone {}, {})",
                p.stored.id,
                p.stored.external_id,
                p.stored.skill_no,
                numbers.join(", "),
                p.stored.time_zone,
                p.stored.status
            );
        }
        for r in t.leads.values() {
            let state = match &r.state {
                LeadState::Waiting => "waiting".to_string(),
                LeadState::CheckedOut { run_id, lease_until } => format!("held by {run_id} until {lease_until}"),
                LeadState::Done { outcome } => format!("done: {outcome}"),
            };
            println!("  lead {} '{}' in '{}' (unit {}): {state}", r.lead.id, r.lead.key, r.lead_source, r.unit);
        }
        assert_eq!(t.sources.len(), 1, "CREATESOURCE should have written one source to the host's backend");
        assert_eq!(t.maps.values().map(Vec::len).sum::<usize>(), 1, "CREATESOURCEMAP should have written one map");
        let ids: Vec<&str> = t.prospects.values().map(|p| p.stored.external_id.as_str()).collect();
        assert_eq!(ids, ["A-100", "A-200"], "CREATEPROSPECTS should have written both records");
        let loaded =
            t.leads.values().filter(|r| matches!(&r.state, LeadState::Done { outcome } if outcome == "Loaded"));
        assert_eq!(loaded.count(), 2, "CHECKINLEADS should have checked both leads in as Loaded");
    }

    // And the runtime's own SQLite store, where the outbound pack would
    // have written without the host's backend, has no such source.
    let sqlite = prospero::packs::outbound::store(&runtime.store().await?)?;
    let in_sqlite = sqlite.source(unit, "Spring Leads").await?;
    println!("\nSQLite's outbound tables hold source 'Spring Leads': {}", in_sqlite.is_some());
    assert!(in_sqlite.is_none(), "the source reached SQLite instead of the host's backend");
    Ok(())
}
