//! The packs compiled into this build, and the defaults they make.
//!
//! A pack is a domain: its manifests (`actions/<pack>/`), its action
//! implementations with their tests beside them, and, when it stores
//! anything, its store trait with SQLite and PostgreSQL implementations and
//! its migrations (`migrations/<backend>/<pack>/`). The engine knows packs
//! only through [`Pack`]; this module lists the ones Cargo features let in
//! and composes them into [`Runtime::builder`] and [`Catalog::builtin`].
//!
//! | pack | feature | owns |
//! |---|---|---|
//! | [`core`] | always | flow, assignment, branching, loops, snippets, sub scripts, SPAWN |
//! | `outbound` | `outbound` (default) | sources, user fields, source maps, CREATEPROSPECTS v2, lead sources |
//! | `contacts` | `contacts` (default) | contacts, organizations, notes (ADDCONTACT, FINDCONTACT, ...) |
//! | `addressbook` | `addressbook` (default) | address-book recipients and their statuses (IMPORTADDRESSBOOK, GETRECIPIENTS, SETRECIPIENTSTATUS) |

/// An action as a unit struct and its [`Action`](crate::engine::action::Action)
/// implementation (version 1): `action! { /// docs
/// Name = "TYPE", |ctx, inputs| { body returning Exec } }`. Packs write
/// each action as its body alone, without the impl around it.
macro_rules! action {
    ($(#[$doc:meta])* $ty:ident = $name:literal, |$ctx:pat_param, $inputs:pat_param| $body:block) => {
        $(#[$doc])*
        pub struct $ty;

        impl $crate::engine::action::Action for $ty {
            fn name(&self) -> &str {
                $name
            }
            fn execute<'a>(
                &'a self,
                $ctx: &'a mut $crate::engine::action::Context<'_>,
                $inputs: &'a $crate::engine::action::Inputs<'_>,
            ) -> $crate::engine::action::Exec<'a> $body
        }
    };
}

/// A built-in pack's unit struct and its [`Pack`] implementation:
/// `pack! { /// docs
/// Name = "name", actions: [module::Action, ...] }`, plus `stores:
/// StoreTrait` for a pack that stores anything (`+ OtherTrait in module`
/// for each further store trait, whose module has its `store_of`). Its manifests are the ones
/// build.rs embedded from `actions/<name>/`, so the pack's name and its
/// manifest folder are written once; a storing pack registers its store
/// for the opened backend through the `store_of` of [`backend_stores!`].
macro_rules! pack {
    (
        $(#[$doc:meta])* $ty:ident = $name:literal,
        actions: [$($action:expr),* $(,)?]
        $(, stores: $store:ident $(+ $more:ident in $module:ident)*)? $(,)?
    ) => {
        $(#[$doc])*
        pub struct $ty;

        impl $crate::engine::pack::Pack for $ty {
            fn name(&self) -> &'static str {
                $name
            }

            fn manifests(&self) -> &'static [(&'static str, &'static str)] {
                include!(concat!(env!("OUT_DIR"), "/manifests_", $name, ".rs"))
            }

            fn actions(&self) -> Vec<std::sync::Arc<dyn $crate::engine::action::Action>> {
                vec![$(std::sync::Arc::new($action)),*]
            }

            $(
                fn open_stores(
                    &self,
                    store: &std::sync::Arc<dyn $crate::store::Store>,
                    domains: &mut $crate::engine::pack::Domains,
                ) {
                    if let Some(s) = store_of(store) {
                        domains.provide::<dyn $store>(s);
                    }
                    $(
                        if let Some(s) = $module::store_of(store) {
                            domains.provide::<dyn $more>(s);
                        }
                    )*
                }
            )?
        }
    };
}

/// A storing pack's `store_of` and `store` for its store trait (the trait
/// object over an opened SQLite or PostgreSQL store, which implement every
/// built-in pack's store; `None` / an error for a host's own backend, which
/// then registers its own with `RuntimeBuilder::domain_store`), and its
/// context trait, `ctx.<method>()`, through which its actions reach that
/// store and the run's business unit.
#[allow(unused_macros)] // a build with no storing pack (features off)
macro_rules! backend_stores {
    ($trait:ident, $label:literal, $context:ident :: $method:ident) => {
        #[doc = concat!("The ", $label, " store of an opened SQLite or PostgreSQL store (`None` for")]
        /// a backend this pack does not know: a host then registers its own).
        pub fn store_of(store: &Arc<dyn Store>) -> Option<Arc<dyn $trait>> {
            let any = store.as_any();
            if let Some(s) = any.downcast_ref::<$crate::store::SqliteStore>() {
                return Some(Arc::new(s.clone()));
            }
            #[cfg(feature = "postgres")]
            if let Some(s) = any.downcast_ref::<$crate::store::PgStore>() {
                return Some(Arc::new(s.clone()));
            }
            None
        }

        #[doc = concat!("The ", $label, " store of a runtime's store, or why there is none.")]
        pub fn store(store: &Arc<dyn Store>) -> Result<Arc<dyn $trait>, StoreError> {
            store_of(store).ok_or_else(|| {
                StoreError::Unavailable(format!(
                    concat!("the {} store has no ", $label, " store (register one)"),
                    store.backend()
                ))
            })
        }

        #[doc = concat!("`ctx.", stringify!($method), "()`: the ", $label, " store and the run's business unit, which")]
        #[doc = concat!("scopes every ", $label, " read and write.")]
        pub trait $context {
            #[doc = concat!("The run's ", $label, " store and business unit id.")]
            fn $method(
                &self,
            ) -> impl std::future::Future<Output = Result<(Arc<dyn $trait>, i64), $crate::engine::action::ActionError>>
            + Send;
        }

        impl $context for $crate::engine::action::Context<'_> {
            async fn $method(&self) -> Result<(Arc<dyn $trait>, i64), $crate::engine::action::ActionError> {
                self.unit_domain::<dyn $trait>().await
            }
        }
    };
}

#[cfg(feature = "addressbook")]
pub mod addressbook;
#[cfg(feature = "contacts")]
pub mod contacts;
pub mod core;
#[cfg(feature = "outbound")]
pub mod outbound;

use crate::catalog::Catalog;
use crate::engine::pack::Pack;
use crate::engine::{Runtime, RuntimeBuilder};
use std::sync::Arc;

/// Every pack of this build, `core` first.
pub fn all() -> Vec<Arc<dyn Pack>> {
    vec![
        core(),
        #[cfg(feature = "outbound")]
        outbound(),
        #[cfg(feature = "contacts")]
        contacts(),
        #[cfg(feature = "addressbook")]
        addressbook(),
    ]
}

/// The core pack, for [`RuntimeBuilder::with_packs`].
pub fn core() -> Arc<dyn Pack> {
    Arc::new(core::Core)
}

/// The outbound pack, for [`RuntimeBuilder::with_packs`].
#[cfg(feature = "outbound")]
pub fn outbound() -> Arc<dyn Pack> {
    Arc::new(outbound::Outbound)
}

/// The contacts pack, for [`RuntimeBuilder::with_packs`].
#[cfg(feature = "contacts")]
pub fn contacts() -> Arc<dyn Pack> {
    Arc::new(contacts::Contacts)
}

/// The address-book pack, for [`RuntimeBuilder::with_packs`].
#[cfg(feature = "addressbook")]
pub fn addressbook() -> Arc<dyn Pack> {
    Arc::new(addressbook::AddressBook)
}

impl Runtime {
    /// Start building a runtime with every pack of this build (see
    /// [`all`]); [`RuntimeBuilder::with_packs`] picks others.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::with_packs(all())
    }
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        Runtime::builder()
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::builder().build()
    }
}

impl Catalog {
    /// The manifests of every pack of this build.
    pub fn builtin() -> Catalog {
        let mut c = Catalog::default();
        for p in all() {
            c.add_embedded(p.manifests());
        }
        c
    }
}

/// Helpers for the action tests: build a runtime, load native JSON, run.
#[cfg(test)]
pub(crate) mod testing {
    use crate::engine::{RunOptions, RunReport, Runtime};
    use crate::value::Value;

    /// Run a native-format script given as JSON text (sub scripts may be
    /// passed in `subs`), on a virtual clock.
    pub async fn run(json: &str, subs: &[&str], params: &[(&str, &str)]) -> RunReport {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in subs {
            let v: serde_json::Value = serde_json::from_str(sub).expect("sub script JSON");
            let name = v["name"].as_str().expect("sub scripts need a name");
            std::fs::write(dir.path().join(format!("{name}.json")), sub).expect("write sub");
        }
        let main = dir.path().join("main_under_test.json");
        std::fs::write(&main, json).expect("write script");
        let rt = Runtime::builder().db("sqlite::memory:").build();
        let program = rt.load(&main).unwrap_or_else(|e| panic!("load failed: {e}"));
        let mut opts = RunOptions::new().at("2026-03-08T06:30:00Z".parse().expect("time"));
        for (k, v) in params {
            opts = opts.param(*k, Value::text(*v));
        }
        let report = rt.run(&program, opts).await.expect("params");
        rt.wait_spawned().await;
        report
    }

    /// The text of variable `name` in a report.
    pub fn var(r: &RunReport, name: &str) -> String {
        r.var(name).map(|v| v.to_text().to_string()).unwrap_or_else(|| "<unset>".into())
    }

    /// The path as "id:branch" items.
    pub fn path(r: &RunReport) -> Vec<String> {
        r.path.iter().map(|p| format!("{}:{}", p.id, p.branch)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Manifest;
    use std::collections::BTreeSet;

    /// Each pack implements exactly the actions its manifests describe, and
    /// no two packs describe the same action.
    #[test]
    fn registered_actions_and_manifests_are_the_same_set() {
        let mut seen = BTreeSet::new();
        for p in all() {
            let manifests: BTreeSet<(String, u32)> = p
                .manifests()
                .iter()
                .map(|(f, t)| Manifest::from_toml(t, f).map(|m| (m.name, m.version)).unwrap_or_else(|e| panic!("{e}")))
                .collect();
            let actions: BTreeSet<(String, u32)> =
                p.actions().iter().map(|a| (a.name().to_ascii_uppercase(), a.version())).collect();
            assert_eq!(manifests, actions, "pack {}: manifests and actions differ", p.name());
            for key in manifests {
                assert!(seen.insert(key.clone()), "{key:?} is in two packs");
            }
        }
        assert_eq!(seen.len(), Catalog::builtin().all().count());
    }

    #[test]
    fn every_embedded_manifest_parses() {
        for p in all() {
            assert!(!p.manifests().is_empty(), "pack {} has no manifests", p.name());
            for (file, text) in p.manifests() {
                let m = Manifest::from_toml(text, file).unwrap_or_else(|e| panic!("{}: {e}", p.name()));
                assert!(!m.summary.is_empty(), "{file}: summary is empty");
            }
        }
    }

    #[test]
    fn branch_aliases_resolve() {
        let c = Catalog::builtin();
        let m = c.get("IF", 1).expect("IF is built in");
        assert_eq!(m.branch("True"), m.branch("OnTrue"));
        assert!(m.branch("True").is_some());
        assert_eq!(m.branch("Error"), m.branch("OnError"));
        assert!(m.branch("Error").is_some());
        assert!(m.branch("Maybe").is_none());
    }

    #[test]
    fn the_action_reference_in_docs_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/actions.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == Catalog::builtin().markdown(),
            "docs/actions.md is stale: run `cargo run -- actions --markdown > docs/actions.md`"
        );
    }
}
