//! The pack seam, through the public API only: a host's own pack (an
//! action and a store method on SQLite and PostgreSQL) lands without an
//! engine edit; a host's domain store wins over the pack's; a runtime has
//! exactly the actions of the packs it was built with; and an action whose
//! domain store nobody serves fails with a message naming it.
//!
//! The PostgreSQL test uses 127.0.0.1:5432, database `test`, and fails
//! when the server cannot be reached. Every test works in a business unit
//! of its own, so repeated runs on the shared database never meet.

use async_trait::async_trait;
use prospero::engine::pack::{Domains, Pack};
use prospero::outbound::model::{Lead, NewLead, Saved, Search, Skill, Source, SourceMap, StoredProspect, UserField};
use prospero::packs::outbound::{Batch, CheckIn, CheckOut, NewSourceMap, OutboundStore};
use prospero::store::{PgStore, SqliteStore, Store, StoreError};
use prospero::{
    Action, Context, Exec, Inputs, Outcome, RunOptions, RunReport, RunStatus, Runtime, RuntimeBuilder, Severity, Value,
};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A name no other run of these tests uses (business units, note texts).
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Load a native-format script and run it once on a fixed clock.
async fn run(rt: &Runtime, script: &str, params: &[(&str, &str)]) -> RunReport {
    let script = prospero::script::load_text(script, None).expect("the test script parses");
    let program = rt.load_script(script).unwrap_or_else(|e| panic!("load: {e}"));
    let mut opts = RunOptions::new().at("2026-03-09T15:00:00Z".parse().expect("time"));
    for (k, v) in params {
        opts = opts.param(*k, *v);
    }
    rt.run(&program, opts).await.expect("parameters accepted")
}

fn path(r: &RunReport) -> Vec<String> {
    r.path.iter().map(|s| format!("{}:{}", s.id, s.branch)).collect()
}

fn var(r: &RunReport, name: &str) -> String {
    r.var(name).map(|v| v.to_text().to_string()).unwrap_or_else(|| "<unset>".into())
}

// ---------------------------------------------------------------------
// A host's pack: NOTE writes a note through the pack's own store trait.
// ---------------------------------------------------------------------

/// The notes domain's store: one method, served by both backends.
#[async_trait]
trait NotesStore: Send + Sync + 'static {
    /// Store `text` as a note of business unit `unit`; returns its id.
    async fn add_note(&self, unit: i64, text: &str) -> Result<i64, StoreError>;
}

// A host pack keeps its own schema: the table is made on first use rather
// than by the runtime's migrations.
#[async_trait]
impl NotesStore for SqliteStore {
    async fn add_note(&self, unit: i64, text: &str) -> Result<i64, StoreError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS host_notes
                 (id INTEGER PRIMARY KEY AUTOINCREMENT, unit_id INTEGER NOT NULL, text TEXT NOT NULL)",
        )
        .execute(self.pool())
        .await?;
        let (id,): (i64,) = sqlx::query_as("INSERT INTO host_notes (unit_id, text) VALUES (?1, ?2) RETURNING id")
            .bind(unit)
            .bind(text)
            .fetch_one(self.pool())
            .await?;
        Ok(id)
    }
}

#[async_trait]
impl NotesStore for PgStore {
    async fn add_note(&self, unit: i64, text: &str) -> Result<i64, StoreError> {
        const CREATE: &str = "CREATE TABLE IF NOT EXISTS host_notes
             (id BIGSERIAL PRIMARY KEY, unit_id BIGINT NOT NULL, text TEXT NOT NULL)";
        // Two sessions creating the table at once can both miss it and one
        // then fails on PostgreSQL's catalog; the second try sees it.
        if sqlx::query(CREATE).execute(self.pool()).await.is_err() {
            sqlx::query(CREATE).execute(self.pool()).await?;
        }
        let (id,): (i64,) = sqlx::query_as("INSERT INTO host_notes (unit_id, text) VALUES ($1, $2) RETURNING id")
            .bind(unit)
            .bind(text)
            .fetch_one(self.pool())
            .await?;
        Ok(id)
    }
}

const NOTE_MANIFEST: &str = r#"
name = "NOTE"
summary = "Keep a note in the host's notes table."
category = "notes"
external = true

[[input]]
name = "Text"
type = "text"
required = true
description = "The note ({expr} substituted)."

[[output]]
name = "NoteId"
type = "number"
default = "NoteId"
description = "The stored note's id."

[[branch]]
name = "Default"
description = "The note was stored."

[[branch]]
name = "OnError"
aliases = ["Error"]
description = "The store failed; _ERR says why."
"#;

/// NOTE: the action asks its run for the notes store by trait.
struct Note;

impl Action for Note {
    fn name(&self) -> &str {
        "NOTE"
    }

    fn execute<'a>(&'a self, ctx: &'a mut Context<'_>, inputs: &'a Inputs<'_>) -> Exec<'a> {
        let text = inputs.text("Text").to_string();
        Exec::pending(async move {
            let notes = ctx.domain::<dyn NotesStore>().await?;
            let unit = ctx.unit_id().await?;
            let id = notes.add_note(unit, &text).await?;
            Ok(Outcome::default().output("NoteId", Value::Number(id as f64)))
        })
    }
}

/// The notes pack. `serves_backends: false` makes a pack whose store
/// trait no backend provides.
struct Notes {
    serves_backends: bool,
}

impl Pack for Notes {
    fn name(&self) -> &'static str {
        "notes"
    }

    fn manifests(&self) -> &'static [(&'static str, &'static str)] {
        &[("note.toml", NOTE_MANIFEST)]
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![Arc::new(Note)]
    }

    fn open_stores(&self, store: &Arc<dyn Store>, domains: &mut Domains) {
        if !self.serves_backends {
            return;
        }
        let any = store.as_any();
        if let Some(s) = any.downcast_ref::<SqliteStore>() {
            domains.provide::<dyn NotesStore>(Arc::new(s.clone()));
        } else if let Some(s) = any.downcast_ref::<PgStore>() {
            domains.provide::<dyn NotesStore>(Arc::new(s.clone()));
        }
    }
}

const NOTE_SCRIPT: &str = r#"{
  "name": "take_note",
  "actions": [
    {"id": "start", "action": "BEGIN", "Parameters": ["msg"], "next": "note"},
    {"id": "note", "action": "NOTE", "Text": "{msg}", "branches": {"Default": "done", "OnError": "done"}},
    {"id": "done", "action": "END"}
  ]
}"#;

/// Run NOTE on the store at `url` and return the runtime, the note's id
/// and the text it was given.
async fn take_note(url: &str) -> (Runtime, i64, String) {
    let rt = Runtime::builder()
        .pack(Arc::new(Notes { serves_backends: true }))
        .db(url)
        .business_unit(unique("notes"))
        .build();
    rt.store().await.unwrap_or_else(|e| {
        panic!("opening {url}: {e}\nhint: is PostgreSQL running on 127.0.0.1:5432 (database `test`)?")
    });
    let text = unique("a note");
    let r = run(&rt, NOTE_SCRIPT, &[("msg", &text)]).await;
    assert_eq!(r.status, RunStatus::Completed);
    assert_eq!(path(&r), ["start:Default", "note:Default", "done:"], "_ERR: {}", var(&r, "_ERR"));
    let id: i64 = var(&r, "NoteId").parse().unwrap_or_else(|e| panic!("NoteId '{}': {e}", var(&r, "NoteId")));
    (rt, id, text)
}

#[tokio::test]
async fn a_new_pack_with_one_action_and_one_store_method_runs_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("notes.db").to_str().expect("UTF-8 path").to_string();
    let (rt, id, text) = take_note(&url).await;
    let store = rt.store().await.expect("store");
    let sqlite = store.as_any().downcast_ref::<SqliteStore>().expect("a file URL opens SQLite");
    let row: (i64, String) = sqlx::query_as("SELECT unit_id, text FROM host_notes WHERE id = ?1")
        .bind(id)
        .fetch_one(sqlite.pool())
        .await
        .expect("the note is in the table");
    assert_eq!(row, (rt.unit_id().await.expect("unit"), text));
}

#[tokio::test]
async fn a_new_pack_with_one_action_and_one_store_method_runs_on_postgres() {
    let (rt, id, text) = take_note(PG_URL).await;
    let store = rt.store().await.expect("store");
    let pg = store.as_any().downcast_ref::<PgStore>().expect("a postgres URL opens PostgreSQL");
    let row: (i64, String) = sqlx::query_as("SELECT unit_id, text FROM host_notes WHERE id = $1")
        .bind(id)
        .fetch_one(pg.pool())
        .await
        .expect("the note is in the table");
    assert_eq!(row, (rt.unit_id().await.expect("unit"), text));
}

#[tokio::test]
async fn an_action_whose_domain_store_nobody_serves_takes_on_error_naming_it() {
    let rt = Runtime::builder().pack(Arc::new(Notes { serves_backends: false })).db("sqlite::memory:").build();
    let r = run(&rt, NOTE_SCRIPT, &[("msg", "lost")]).await;
    assert_eq!(r.status, RunStatus::Completed);
    assert_eq!(path(&r), ["start:Default", "note:OnError", "done:"]);
    let err = var(&r, "_ERR");
    assert!(err.contains("NotesStore"), "_ERR should name the missing store: {err}");
    assert!(err.contains("sqlite"), "_ERR should name the backend: {err}");
    assert!(err.contains("RuntimeBuilder::pack"), "_ERR should say how to serve it: {err}");
    assert_eq!(var(&r, "NoteId"), "<unset>");
}

// ---------------------------------------------------------------------
// A host's outbound store wins over the outbound pack's.
// ---------------------------------------------------------------------

/// An outbound backend that serves sources only: it records what
/// CREATESOURCE asks it to create, and refuses everything else.
#[derive(Default)]
struct SourcesOnly {
    created: Mutex<Vec<(i64, String)>>,
}

fn not_here<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable("this test's outbound store keeps sources only".into()))
}

#[async_trait]
impl OutboundStore for SourcesOnly {
    async fn upsert_skill(&self, _: i64, _: &Skill) -> Result<(), StoreError> {
        not_here()
    }
    async fn skill(&self, _: i64, _: i64) -> Result<Option<Skill>, StoreError> {
        not_here()
    }
    async fn skills(&self, _: i64) -> Result<Vec<Skill>, StoreError> {
        not_here()
    }
    async fn create_source(&self, unit: i64, name: &str, _: &str) -> Result<Option<Source>, StoreError> {
        let mut created = self.created.lock().expect("not poisoned");
        if created.iter().any(|(u, n)| *u == unit && n.eq_ignore_ascii_case(name)) {
            return Ok(None);
        }
        created.push((unit, name.to_string()));
        Ok(Some(Source { id: created.len() as i64, name: name.to_string() }))
    }
    async fn source(&self, _: i64, _: &str) -> Result<Option<Source>, StoreError> {
        not_here()
    }
    async fn create_user_field(&self, _: i64, _: &UserField, _: &str) -> Result<bool, StoreError> {
        not_here()
    }
    async fn user_fields(&self, _: i64) -> Result<Vec<UserField>, StoreError> {
        not_here()
    }
    async fn source_map(&self, _: i64, _: i64) -> Result<Option<SourceMap>, StoreError> {
        not_here()
    }
    async fn store_source_map(&self, _: i64, _: NewSourceMap<'_>) -> Result<i64, StoreError> {
        not_here()
    }
    async fn save_prospects(&self, _: i64, _: Batch<'_>) -> Result<Vec<Saved>, StoreError> {
        not_here()
    }
    async fn find_prospects(&self, _: i64, _: i64, _: &Search) -> Result<Vec<StoredProspect>, StoreError> {
        not_here()
    }
    async fn remove_prospects(&self, _: i64, _: i64, _: &[String]) -> Result<Vec<bool>, StoreError> {
        not_here()
    }
    async fn count_dialable(&self, _: i64, _: i64, _: &str) -> Result<i64, StoreError> {
        not_here()
    }
    async fn import_leads(&self, _: i64, _: &str, _: &[NewLead]) -> Result<u64, StoreError> {
        not_here()
    }
    async fn check_out_leads(&self, _: i64, _: CheckOut<'_>) -> Result<Vec<Lead>, StoreError> {
        not_here()
    }
    async fn check_in_leads(&self, _: i64, _: CheckIn<'_>) -> Result<Vec<bool>, StoreError> {
        not_here()
    }
}

#[tokio::test]
async fn a_host_outbound_store_wins_over_the_packs_own() {
    let host = Arc::new(SourcesOnly::default());
    let rt = Runtime::builder().db("sqlite::memory:").domain_store::<dyn OutboundStore>(host.clone()).build();
    let script = r#"{"name": "make_source", "actions": [
        {"id": "start", "action": "BEGIN", "next": "source"},
        {"id": "source", "action": "CREATESOURCE", "Name": "Spring Leads",
         "branches": {"Default": "done", "NameAlreadyUsed": "done", "NoNameProvided": "done",
                      "NameExceededLength": "done", "OnError": "done"}},
        {"id": "done", "action": "END"}]}"#;
    let r = run(&rt, script, &[]).await;
    assert_eq!(path(&r), ["start:Default", "source:Default", "done:"], "_ERR: {}", var(&r, "_ERR"));

    // The source went to the host's store, under the runtime's unit...
    let unit = rt.unit_id().await.expect("unit");
    assert_eq!(*host.created.lock().expect("not poisoned"), [(unit, "Spring Leads".to_string())]);
    // ...and the outbound store the pack makes on SQLite never saw it.
    let sqlite = prospero::packs::outbound::store(&rt.store().await.expect("store")).expect("SQLite serves outbound");
    assert_eq!(sqlite.source(unit, "Spring Leads").await.expect("read"), None);
    // The host's store is what the runtime hands out for the domain.
    let handed = rt.domain::<dyn OutboundStore>().await.expect("outbound store");
    assert!(
        std::ptr::addr_eq(Arc::as_ptr(&handed), Arc::as_ptr(&host)),
        "the runtime hands out another outbound store"
    );
}

// ---------------------------------------------------------------------
// A runtime has the actions of its packs, and no others.
// ---------------------------------------------------------------------

#[test]
fn a_runtime_of_the_core_pack_alone_does_not_know_outbound_actions() {
    let script = r#"{"name": "load", "actions": [
        {"id": "start", "action": "BEGIN", "next": "load"},
        {"id": "load", "action": "CREATEPROSPECTS", "version": 2, "SkillNo": "4001", "SourceName": "Spring Leads",
         "Data": "batch", "branches": {"Default": "done", "OnError": "done"}},
        {"id": "done", "action": "END"}]}"#;
    let script = prospero::script::load_text(script, None).expect("the test script parses");
    let errors = |rt: &Runtime| -> Vec<String> {
        rt.check(&script)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}: {}", d.code, d.message))
            .collect()
    };

    // `as`: a `Vec<Arc<Core>>` is not a list of `Arc<dyn Pack>`.
    let core_only = RuntimeBuilder::with_packs(vec![prospero::packs::core()]).build();
    assert_eq!(errors(&core_only), ["unknown-action: unknown action type 'CREATEPROSPECTS'"]);
    assert!(core_only.catalog().get("CREATEPROSPECTS", 2).is_none());
    assert!(core_only.catalog().get("ASSIGN", 1).is_some());

    let every_pack = Runtime::builder().build();
    assert_eq!(errors(&every_pack), Vec::<String>::new());
}
