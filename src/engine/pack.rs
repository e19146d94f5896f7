//! What the engine knows of a domain: a [`Pack`].
//!
//! A pack brings its manifests (`actions/<pack>/*.toml`), its action
//! implementations and, when it stores anything, its own store trait with a
//! SQLite and a PostgreSQL implementation. The runtime builder composes
//! packs; the engine sees them only through this trait, so a new domain
//! lands without an edit here. Domain stores are handed out by type: a
//! pack registers `Arc<dyn ItsStore>` in [`Domains`] for the backend the
//! runtime opened, a host may register its own first, and actions ask the
//! run's context for it.

use super::action::Action;
use crate::store::Store;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

/// A domain pack: manifests, actions, and the stores its actions use.
pub trait Pack: Send + Sync + 'static {
    /// The pack's name (`core`, `outbound`): its folders are
    /// `actions/<name>/` and `migrations/<backend>/<name>/`.
    fn name(&self) -> &'static str;

    /// Its manifests, as (file name, TOML text) pairs.
    fn manifests(&self) -> &'static [(&'static str, &'static str)];

    /// Its action implementations, one per manifest.
    fn actions(&self) -> Vec<Arc<dyn Action>>;

    /// Register the pack's domain stores for `store`, the backend the
    /// runtime opened (a pack that stores nothing registers nothing; one
    /// that does not know the backend leaves its store out, and its actions
    /// then fail with a clear error). Stores a host registered already are
    /// kept: [`Domains::provide`] never replaces one.
    fn open_stores(&self, store: &Arc<dyn Store>, domains: &mut Domains) {
        let _ = (store, domains);
    }
}

/// Domain stores by type: each entry is an `Arc<T>` for some store trait
/// `T` (`dyn OutboundStore`, say).
#[derive(Clone, Default)]
pub struct Domains {
    by_type: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Domains {
    /// Register `store` as the `T` store unless one is registered already.
    pub fn provide<T: ?Sized + Send + Sync + 'static>(&mut self, store: Arc<T>) {
        self.by_type.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(store));
    }

    /// The `T` store, when one is registered.
    pub fn get<T: ?Sized + Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.by_type.get(&TypeId::of::<T>()).and_then(|a| a.downcast_ref::<Arc<T>>()).cloned()
    }

    /// Whether a `T` store is registered.
    pub fn has<T: ?Sized + Send + Sync + 'static>(&self) -> bool {
        self.by_type.contains_key(&TypeId::of::<T>())
    }
}

impl std::fmt::Debug for Domains {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Domains({} stores)", self.by_type.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    trait Greeter: Send + Sync {
        fn hello(&self) -> String;
    }
    struct En;
    impl Greeter for En {
        fn hello(&self) -> String {
            "hello".into()
        }
    }
    struct Fr;
    impl Greeter for Fr {
        fn hello(&self) -> String {
            "bonjour".into()
        }
    }

    #[test]
    fn a_store_is_found_by_its_trait_and_the_first_one_stays() {
        let mut d = Domains::default();
        assert!(d.get::<dyn Greeter>().is_none());
        d.provide::<dyn Greeter>(Arc::new(Fr));
        d.provide::<dyn Greeter>(Arc::new(En));
        assert!(d.has::<dyn Greeter>());
        assert_eq!(d.get::<dyn Greeter>().map(|g| g.hello()).as_deref(), Some("bonjour"));
        // Another type is another entry.
        assert!(d.get::<String>().is_none());
        d.provide(Arc::new(String::from("x")));
        assert_eq!(d.get::<String>().as_deref().map(String::as_str), Some("x"));
    }
}
