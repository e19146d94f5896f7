//! The contacts pack: ADDCONTACT, UPDATECONTACT, FINDCONTACT,
//! ADDORGANIZATION, ADDNOTE and DELETECONTACT over the contacts domain in
//! [`crate::contacts`] (which knows nothing of runs) and the
//! [`ContactsStore`] trait, served by the SQLite and PostgreSQL stores
//! (`sql.rs`) or by a host's own backend (`RuntimeBuilder::domain_store`).

mod actions;
pub mod api;
mod bulk;
mod sql;
mod store;

pub use store::{ContactsStore, Written};

use crate::engine::action::Action;
use crate::engine::action::{ActionError, Context};
use crate::engine::pack::{Domains, Pack};
use crate::store::{Store, StoreError};
use std::future::Future;
use std::sync::Arc;

/// The contacts pack.
pub struct Contacts;

impl Pack for Contacts {
    fn name(&self) -> &'static str {
        "contacts"
    }

    fn manifests(&self) -> &'static [(&'static str, &'static str)] {
        include!(concat!(env!("OUT_DIR"), "/manifests_contacts.rs"))
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![
            Arc::new(actions::AddContact),
            Arc::new(actions::UpdateContact),
            Arc::new(actions::FindContact),
            Arc::new(actions::AddOrganization),
            Arc::new(actions::AddNote),
            Arc::new(actions::DeleteContact),
        ]
    }

    fn open_stores(&self, store: &Arc<dyn Store>, domains: &mut Domains) {
        if let Some(s) = store_of(store) {
            domains.provide(s);
        }
    }
}

backend_stores!(ContactsStore, "contacts");

/// `ctx.contacts()`: the contacts store and the run's business unit, which
/// scopes every contacts read and write.
pub trait ContactsContext {
    /// The run's contacts store and business unit id.
    fn contacts(&self) -> impl Future<Output = Result<(Arc<dyn ContactsStore>, i64), ActionError>> + Send;
}

impl ContactsContext for Context<'_> {
    async fn contacts(&self) -> Result<(Arc<dyn ContactsStore>, i64), ActionError> {
        self.unit_domain::<dyn ContactsStore>().await
    }
}

#[cfg(test)]
mod tests;
