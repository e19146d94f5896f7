//! The interpreter: the [`Runtime`] a host builds, loads scripts into and
//! runs scripts on, and everything a run needs (call stack, budgets, clock,
//! trace).
//!
//! Runs execute concurrently on tokio and share nothing but the store and
//! the read-only script library. A run never panics the host: every failure
//! becomes a branch, a run status, or an error value (a panic inside a host
//! action is caught at the task boundary and reported as a failed run).

pub mod action;
pub mod admission;
mod branch;
pub mod budget;
pub mod clock;
mod compare;
pub mod context;
pub mod pack;
pub mod path;
pub mod principal;
pub mod program;
pub mod replay;
mod report;
pub(crate) mod run;
mod services;
mod state;
pub mod trace;
pub mod vars;

use crate::catalog::{Catalog, Manifest};
use crate::script::check::{self, CheckEnv, Diagnostic, Severity};
use crate::script::{self as sc, Script};
use crate::store::{RunRecord, Store, StoreError};
use crate::value::Value;
use action::Action;
use budget::Budgets;
use clock::{ClockMode, RunClock};
use pack::{Domains, Pack};
pub use path::{PathStep, RunPath};
pub use principal::Principal;
use program::{Library, LoadFailure, Program, Step, hash_bytes};
use report::crash_report;
pub use report::{ActionAt, Failure, RunReport, RunStatus};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use trace::TraceSink;

/// Options for one run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Parameters: `p1`..`p9` or the names BEGIN declares.
    pub params: Vec<(String, Value)>,
    /// Run on a virtual clock starting here (WAIT does not sleep).
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Write a trace here.
    pub trace: Option<TraceSink>,
    /// Seed for random numbers (random when absent).
    pub seed: Option<u64>,
    /// Budgets for this run (the runtime's when absent).
    pub budgets: Option<Budgets>,
    /// Replay this trace: its parameters, clock and seed, and its recorded
    /// answers for external actions (see [`replay`]).
    pub replay: Option<Arc<replay::Trace>>,
    /// Canned answers for chosen actions (script tests).
    pub mocks: Option<replay::Mocks>,
    /// Who the run acts for (default: every permission of the runtime's unit).
    pub principal: Option<Principal>,
}

impl RunOptions {
    /// Default options.
    pub fn new() -> RunOptions {
        RunOptions::default()
    }

    /// Add a parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> RunOptions {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Use a virtual clock starting at `t`.
    pub fn at(mut self, t: chrono::DateTime<chrono::Utc>) -> RunOptions {
        self.now = Some(t);
        self
    }

    /// Trace to `sink`.
    pub fn trace(mut self, sink: TraceSink) -> RunOptions {
        self.trace = Some(sink);
        self
    }

    /// Replay `trace`: its parameters, clock, seed and zone, and its
    /// recorded answers for external actions.
    pub fn replay(mut self, trace: Arc<replay::Trace>) -> RunOptions {
        self.params = trace.run_params();
        self.now = Some(trace.clock_start);
        self.seed = Some(trace.seed);
        self.principal = trace.principal.clone().map(Principal::replayed);
        self.replay = Some(trace);
        self
    }

    /// Give chosen actions canned answers instead of running them.
    pub fn mocks(mut self, m: replay::Mocks) -> RunOptions {
        self.mocks = Some(m);
        self
    }

    /// Run for `p`: actions whose manifest needs a permission it lacks take OnError.
    pub fn principal(self, p: Principal) -> RunOptions {
        RunOptions { principal: Some(p), ..self }
    }

    /// Use these budgets.
    pub fn budgets(mut self, b: Budgets) -> RunOptions {
        self.budgets = Some(b);
        self
    }
}

/// Bad run parameters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamError {
    /// A name that is neither `pN` nor one of BEGIN's parameter names.
    #[error("script '{script}' has no parameter '{name}' (it takes {known})")]
    Unknown {
        /// Script name.
        script: String,
        /// The parameter given.
        name: String,
        /// What it accepts.
        known: String,
    },
    /// More than 9 (RUNSUB) / 20 (SPAWN) parameters.
    #[error("parameter p{0} is out of range (p1..p20)")]
    OutOfRange(usize),
}

/// What a [`RuntimeBuilder`] gathers and the built [`Runtime`] keeps as
/// it was given: declared once, so a new setting is one field here.
struct Settings {
    catalog: Catalog,
    packs: Vec<Arc<dyn Pack>>,
    /// Domain stores a host registered (they win over the packs' own).
    provided: Domains,
    budgets: Budgets,
    load_limits: sc::LoadLimits,
    timezone: chrono_tz::Tz,
    business_unit: String,
    db_url: String,
    /// Built without a store: why (every store access fails with it).
    no_store: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            catalog: Catalog::default(),
            packs: Vec::new(),
            provided: Domains::default(),
            budgets: Budgets::default(),
            load_limits: sc::LoadLimits::default(),
            timezone: chrono_tz::UTC,
            business_unit: "default".into(),
            db_url: "prospero.db".into(),
            no_store: None,
        }
    }
}

struct Inner {
    settings: Settings,
    actions: HashMap<(String, u32), Arc<dyn Action>>,
    library: Library,
    store: OnceCell<Arc<dyn Store>>,
    /// The store was opened from `db_url` (not given by the host), so
    /// [`Runtime::close`] closes it.
    owns_store: bool,
    /// The provided stores and those the packs made for the opened store.
    domains: OnceCell<Domains>,
    unit_id: OnceCell<i64>,
    /// Set when this runtime created its business unit in the store.
    created_unit: std::sync::atomic::AtomicBool,
    spawned: Mutex<Vec<tokio::task::JoinHandle<RunReport>>>,
    counter: AtomicU64,
    fingerprint: String,
}

/// The script runtime. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

/// Builds a [`Runtime`] from packs (see [`Pack`]): `Runtime::builder()`
/// starts with every pack compiled into this build,
/// [`RuntimeBuilder::with_packs`] with the ones given.
pub struct RuntimeBuilder {
    settings: Settings,
    actions: Vec<Arc<dyn Action>>,
    dirs: Vec<PathBuf>,
    store: Option<Arc<dyn Store>>,
}

impl RuntimeBuilder {
    /// A builder with these packs (in order: a later pack's manifest or
    /// action of the same name and version replaces an earlier one's).
    pub fn with_packs(packs: impl IntoIterator<Item = Arc<dyn Pack>>) -> RuntimeBuilder {
        let mut b =
            RuntimeBuilder { settings: Settings::default(), actions: Vec::new(), dirs: Vec::new(), store: None };
        for p in packs {
            b = b.pack(p);
        }
        b
    }

    /// Add a pack: its manifests, its actions and its stores.
    pub fn pack(mut self, pack: Arc<dyn Pack>) -> RuntimeBuilder {
        self.settings.catalog.add_embedded(pack.manifests());
        self.actions.extend(pack.actions());
        self.settings.packs.push(pack);
        self
    }

    /// Use `store` as the `T` domain store (`dyn OutboundStore`, say)
    /// instead of the one its pack makes for the opened backend: a
    /// platform's own backend for one domain, with the rest on SQLite or
    /// PostgreSQL.
    pub fn domain_store<T: ?Sized + Send + Sync + 'static>(mut self, store: Arc<T>) -> RuntimeBuilder {
        self.settings.provided.provide(store);
        self
    }

    /// Add a host action: its manifest and its implementation.
    pub fn action(mut self, manifest: Manifest, implementation: impl Action) -> RuntimeBuilder {
        self.settings.catalog.add(manifest);
        self.actions.push(Arc::new(implementation));
        self
    }

    /// Add a folder of scripts for RUNSUB, RUNSCRIPT and SPAWN.
    pub fn scripts_dir(mut self, dir: impl Into<PathBuf>) -> RuntimeBuilder {
        self.dirs.push(dir.into());
        self
    }

    /// Default budgets for runs.
    pub fn budgets(mut self, b: Budgets) -> RuntimeBuilder {
        self.settings.budgets = b;
        self
    }

    /// Size limits for loading scripts (the script and the sub scripts it
    /// names); see [`LoadLimits`](crate::script::LoadLimits).
    pub fn load_limits(mut self, limits: sc::LoadLimits) -> RuntimeBuilder {
        self.settings.load_limits = limits;
        self
    }

    /// The business unit's time zone (what `now()` reads in until a
    /// TIMEZONE action changes it).
    pub fn timezone(mut self, tz: chrono_tz::Tz) -> RuntimeBuilder {
        self.settings.timezone = tz;
        self
    }

    /// The business unit runs work in, normalised by
    /// [`crate::store::unit_name`] (trimmed, lowercased). A name the pattern
    /// refuses is kept as given, and every store access of the runtime then
    /// fails with [`StoreError::UnitName`]; check names first with
    /// `unit_name` to refuse them early.
    pub fn business_unit(mut self, name: impl Into<String>) -> RuntimeBuilder {
        let name = name.into();
        self.settings.business_unit = crate::store::unit_name(&name).unwrap_or(name);
        self
    }

    /// The store URL (default: `prospero.db` in the working directory).
    pub fn db(mut self, url: impl Into<String>) -> RuntimeBuilder {
        self.settings.db_url = url.into();
        self
    }

    /// Build without a store: every action that reaches for one fails with
    /// `why`, and nothing is opened or written (a replay runs this way).
    pub fn without_store(mut self, why: impl Into<String>) -> RuntimeBuilder {
        self.settings.no_store = Some(why.into());
        self
    }

    /// Use an already open store (shared by several runtimes, or a
    /// platform's own backend) instead of opening the `db` URL.
    pub fn store(mut self, store: Arc<dyn Store>) -> RuntimeBuilder {
        self.store = Some(store);
        self
    }

    /// Build the runtime.
    pub fn build(self) -> Runtime {
        let actions = self.actions.into_iter().map(|a| ((a.name().to_ascii_uppercase(), a.version()), a)).collect();
        let fingerprint = self.settings.catalog.fingerprint();
        Runtime {
            inner: Arc::new(Inner {
                settings: self.settings,
                actions,
                library: Library::new(self.dirs),
                owns_store: self.store.is_none(),
                store: OnceCell::new_with(self.store),
                domains: OnceCell::new(),
                unit_id: OnceCell::new(),
                created_unit: std::sync::atomic::AtomicBool::new(false),
                spawned: Mutex::new(Vec::new()),
                counter: AtomicU64::new(0),
                fingerprint,
            }),
        }
    }
}

impl Runtime {
    /// The action catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.settings.catalog
    }

    pub(crate) fn catalog_fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// The limits scripts are loaded within.
    pub fn load_limits(&self) -> &sc::LoadLimits {
        &self.inner.settings.load_limits
    }

    /// The business unit runs work in.
    pub fn business_unit(&self) -> &str {
        &self.inner.settings.business_unit
    }

    /// Check a script without running it: every problem, errors and
    /// warnings, sorted by position.
    pub fn check(&self, script: &Script) -> Vec<Diagnostic> {
        if let Some(dir) = script.origin.path.as_deref().and_then(sc::script_folder) {
            self.inner.library.add_dir(dir);
        }
        let exists = |name: &str| self.inner.library.exists(name) || name.eq_ignore_ascii_case(&script.name);
        let lend = |name: &str, f: &mut dyn FnMut(&Script)| self.lend_script(name, f);
        let env = CheckEnv {
            catalog: &self.inner.settings.catalog,
            script_exists: &exists,
            implemented: None,
            lend_script: Some(&lend),
        };
        let (diags, linked) = check::check(script, &env);
        // Freeing a large script's compiled form takes a tenth of checking
        // it: hand that to another thread and answer now.
        if script.actions.len() >= 10_000 {
            let _ = std::thread::Builder::new().name("prospero-free".into()).spawn(move || drop(linked));
        }
        diags
    }

    /// Lend the library's script `name` (built, or read from its file) to
    /// `f`: the checker reads what a sub script assigns as `global:`.
    fn lend_script(&self, name: &str, f: &mut dyn FnMut(&Script)) {
        if let Some(p) = self.inner.library.cached(name) {
            return f(&p.script);
        }
        if let Some(path) = self.inner.library.find_file(name)
            && let Ok(s) = sc::load_file_with(&path, &self.inner.settings.load_limits)
        {
            f(&s);
        }
    }

    /// Load, check and compile a script file, and the sub scripts it names
    /// (so their problems show before anything runs). The script's folder
    /// joins the library.
    pub fn load(&self, path: &Path) -> Result<Arc<Program>, LoadFailure> {
        let limits = &self.inner.settings.load_limits;
        let bytes = sc::read_file(path, limits)?;
        let text = sc::bytes_to_text(&path.display().to_string(), &bytes)?;
        let script = sc::load_text_with(&text, Some(path), limits)?;
        if let Some(dir) = path.parent() {
            self.inner.library.add_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir });
        }
        let program = self.build(script, hash_bytes(&bytes))?;
        self.load_closure(&program)?;
        Ok(program)
    }

    /// Check and compile a script built in memory (it joins the library
    /// under its name).
    pub fn load_script(&self, script: Script) -> Result<Arc<Program>, LoadFailure> {
        let hash = hash_bytes(sc::native::export(&script).as_bytes());
        let program = self.build(script, hash)?;
        self.load_closure(&program)?;
        Ok(program)
    }

    fn build(&self, script: Script, hash: String) -> Result<Arc<Program>, LoadFailure> {
        let inner = &self.inner;
        let own_name = script.name.clone();
        let exists = |name: &str| inner.library.exists(name) || name.eq_ignore_ascii_case(&own_name);
        let implemented = |name: &str, version: u32| inner.actions.contains_key(&(name.to_string(), version));
        let lend = |name: &str, f: &mut dyn FnMut(&Script)| self.lend_script(name, f);
        let env = CheckEnv {
            catalog: &inner.settings.catalog,
            script_exists: &exists,
            implemented: Some(&implemented),
            lend_script: Some(&lend),
        };
        let (diags, linked) = check::check(&script, &env);
        if diags.iter().any(|d| d.severity == Severity::Error) {
            return Err(LoadFailure::Check(diags));
        }
        let mut steps = Vec::with_capacity(script.actions.len());
        for (a, la) in script.actions.iter().zip(linked.actions) {
            let manifest = la.manifest.clone().ok_or_else(|| LoadFailure::Check(diags.clone()))?;
            let action = inner
                .actions
                .get(&(manifest.name.clone(), manifest.version))
                .cloned()
                .ok_or_else(|| LoadFailure::Check(diags.clone()))?;
            let next: Vec<Option<&str>> = la.next.iter().map(|n| n.map(|n| script.actions[n].id.as_str())).collect();
            let trace = trace::StepText::new(&script.name, &a.id, &a.caption, &manifest, &la.inputs, &next);
            steps.push(Step {
                trace,
                id: Arc::from(a.id.as_str()),
                kind: Arc::from(manifest.name.as_str()),
                caption: a.caption.clone(),
                action,
                manifest,
                linked: la,
            });
        }
        let begin = linked.begin.ok_or_else(|| LoadFailure::Check(diags.clone()))?;
        let name = Arc::from(script.name.as_str());
        let program = Arc::new(Program { script, hash, warnings: diags, steps, begin, name });
        inner.library.insert(&program.script.name, program.clone());
        if let Some(stem) = program.script.origin.path.as_deref().map(sc::script_stem) {
            inner.library.insert(&stem, program.clone());
        }
        Ok(program)
    }

    /// Load every script reachable through literal RUNSUB/RUNSCRIPT/SPAWN
    /// targets.
    fn load_closure(&self, root: &Arc<Program>) -> Result<(), LoadFailure> {
        let mut queue = vec![root.clone()];
        while let Some(p) = queue.pop() {
            for step in &p.steps {
                for (spec, plan) in step.manifest.inputs.iter().zip(&step.linked.inputs) {
                    if !spec.script_ref {
                        continue;
                    }
                    if let check::PropPlan::Literal(name, _) = plan {
                        let name = name.trim();
                        if name.is_empty() || self.inner.library.cached(name).is_some() {
                            continue;
                        }
                        queue.push(self.load_named(name)?);
                    }
                }
            }
        }
        Ok(())
    }

    fn load_named(&self, name: &str) -> Result<Arc<Program>, LoadFailure> {
        if let Some(p) = self.inner.library.cached(name) {
            return Ok(p);
        }
        let path = self.inner.library.find_file(name).ok_or_else(|| LoadFailure::NotFound(name.to_string()))?;
        let limits = &self.inner.settings.load_limits;
        let bytes = sc::read_file(&path, limits)?;
        let text = sc::bytes_to_text(&path.display().to_string(), &bytes)?;
        let script = sc::load_text_with(&text, Some(&path), limits)?;
        let program = self.build(script, hash_bytes(&bytes))?;
        self.inner.library.insert(name, program.clone());
        Ok(program)
    }

    /// A program from the library by name (loaded on first use).
    pub(crate) fn program(&self, name: &str) -> Result<Arc<Program>, String> {
        self.load_named(name).map_err(|e| match e {
            LoadFailure::NotFound(n) => format!("script '{n}' is not in the script library"),
            other => format!("script '{name}' cannot be loaded: {}", other.lines().join("; ")),
        })
    }

    /// Turn named parameters into positional ones (`p1`..).
    pub fn positional_params(&self, program: &Program, params: &[(String, Value)]) -> Result<Vec<Value>, ParamError> {
        let names = program.script.parameter_names();
        let mut out: Vec<Value> = Vec::new();
        for (name, value) in params {
            let lower = name.trim().to_ascii_lowercase();
            let index = match lower.strip_prefix('p').and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if (1..=20).contains(&n) => n,
                Some(n) => return Err(ParamError::OutOfRange(n)),
                None => match names.iter().position(|n| n.eq_ignore_ascii_case(name.trim())) {
                    Some(i) => i + 1,
                    None => {
                        let mut known: Vec<String> = names.clone();
                        known.push("p1..p20".into());
                        return Err(ParamError::Unknown {
                            script: program.script.name.clone(),
                            name: name.clone(),
                            known: known.join(", "),
                        });
                    }
                },
            };
            if out.len() < index {
                out.resize(index, Value::Null);
            }
            out[index - 1] = value.clone();
        }
        Ok(out)
    }

    /// Run `program` to its end.
    pub async fn run(&self, program: &Arc<Program>, opts: RunOptions) -> Result<RunReport, ParamError> {
        let params = self.positional_params(program, &opts.params)?;
        // Only a trace reads the parameters as JSON; a batch of records
        // passed as a parameter is not worth converting otherwise.
        let params_json = if opts.trace.is_some() {
            serde_json::Value::Object(opts.params.iter().map(|(k, v)| (k.clone(), v.to_report_json())).collect())
        } else {
            serde_json::Value::Null
        };
        let n = self.inner.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let seed = opts.seed.unwrap_or_else(|| fastrand::u64(..));
        // Lead check-outs are owned by run id, across processes sharing a
        // store: 64 random bits make a clash between processes negligible.
        let id = format!("r{:016x}-{n}", fastrand::u64(..));
        let clock = RunClock::new(match opts.now {
            Some(t) => ClockMode::Virtual(t),
            None => ClockMode::Real,
        });
        let start = state::Start {
            id,
            program: program.clone(),
            params,
            clock,
            tz: opts.replay.as_ref().and_then(|t| t.timezone.parse().ok()).unwrap_or(self.inner.settings.timezone),
            seed,
            budgets: opts.budgets.unwrap_or_else(|| self.inner.settings.budgets.clone()),
            trace: opts.trace,
            params_json,
            replay: opts.replay.clone().map(replay::ReplayState::new),
            mocks: opts.mocks,
            principal: Arc::new(opts.principal.unwrap_or_default()),
            spawn_depth: 0,
            spawn_total: Default::default(),
        };
        let Some(slot) = admission::admit() else {
            return Ok(RunReport::without_steps(
                start.id,
                RunStatus::BudgetExceeded,
                program.script.name.clone(),
                admission::busy_message(),
            ));
        };
        let mut core = state::RunCore::new(self.clone(), start);
        core.slot = Some(slot);
        let name = program.script.name.clone();
        let id = core.id.clone();
        let report = match tokio::spawn(run::drive(core)).await {
            Ok(r) => r,
            Err(e) => crash_report(id, name, e),
        };
        Ok(report)
    }

    pub(crate) fn spawn_core(&self, core: state::RunCore) -> Result<(), String> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| "SPAWN needs a tokio runtime".to_string())?;
        let jh = handle.spawn(run::drive(core));
        self.inner.spawned.lock().map_err(|_| "spawn registry poisoned".to_string())?.push(jh);
        Ok(())
    }

    /// Wait for every run started with SPAWN (including runs they start).
    pub async fn wait_spawned(&self) -> Vec<RunReport> {
        let mut reports = Vec::new();
        loop {
            let batch: Vec<_> = match self.inner.spawned.lock() {
                Ok(mut v) => std::mem::take(&mut *v),
                Err(_) => break,
            };
            if batch.is_empty() {
                break;
            }
            for h in batch {
                match h.await {
                    Ok(r) => reports.push(r),
                    Err(e) => reports.push(crash_report("spawned".into(), "?".into(), e)),
                }
            }
        }
        reports
    }

    /// The store, opened (and migrated) on first use.
    pub async fn store(&self) -> Result<Arc<dyn Store>, StoreError> {
        if let Some(why) = &self.inner.settings.no_store {
            return Err(StoreError::Unavailable(why.clone()));
        }
        self.inner.store.get_or_try_init(|| crate::store::open(&self.inner.settings.db_url)).await.cloned()
    }

    /// Finish with the store on a clean exit, once the runtime's runs are
    /// over: a store this runtime opened from its URL is closed (see
    /// [`Store::close`]: an SQLite file is left complete on its own); one
    /// given to [`RuntimeBuilder::store`] is the host's to close.
    pub async fn close(&self) {
        if self.inner.owns_store
            && let Some(store) = self.inner.store.get()
        {
            store.close().await;
        }
    }

    /// The `T` domain store (`dyn OutboundStore`, say): the one the host
    /// gave [`RuntimeBuilder::domain_store`], or else the one a pack made
    /// for the opened store.
    pub async fn domain<T: ?Sized + Send + Sync + 'static>(&self) -> Result<Arc<T>, StoreError> {
        if let Some(s) = self.inner.settings.provided.get::<T>() {
            return Ok(s);
        }
        let store = self.store().await?;
        let domains = self
            .inner
            .domains
            .get_or_init(|| async {
                let mut d = self.inner.settings.provided.clone();
                for p in &self.inner.settings.packs {
                    p.open_stores(&store, &mut d);
                }
                d
            })
            .await;
        domains.get::<T>().ok_or_else(|| StoreError::MissingDomain {
            backend: store.backend().to_string(),
            store: std::any::type_name::<T>().trim_start_matches("dyn ").to_string(),
        })
    }

    /// The store id of the runtime's business unit (created on first use; see [`Runtime::created_unit`]).
    pub async fn unit_id(&self) -> Result<i64, StoreError> {
        let store = self.store().await?;
        self.inner
            .unit_id
            .get_or_try_init(|| async {
                let unit = store.ensure_business_unit(&self.inner.settings.business_unit).await?;
                if unit.created {
                    self.inner.created_unit.store(true, Ordering::Release);
                }
                Ok::<_, StoreError>(unit.id)
            })
            .await
            .copied()
    }

    /// Whether this runtime created its business unit in the store (one of its runs wrote to it first).
    pub fn created_unit(&self) -> bool {
        self.inner.created_unit.load(Ordering::Acquire)
    }

    /// Log a finished run in the store.
    pub async fn record(&self, program: &Program, report: &RunReport) -> Result<(), StoreError> {
        let store = self.store().await?;
        let unit = self.unit_id().await?;
        let rec = RunRecord {
            run_id: report.run_id.clone(),
            script: report.script.clone(),
            script_hash: program.hash.clone(),
            status: report.status.name().into(),
            steps: report.steps as i64,
            error: report.error.clone(),
            return_value: report.return_value.as_ref().map(|v| v.to_report_json().to_string()),
            finished_at: chrono::Utc::now().to_rfc3339(),
        };
        store.record_run(unit, &rec).await
    }
}
