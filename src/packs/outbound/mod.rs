//! The outbound pack: sources, user fields, source maps, CREATEPROSPECTS v2
//! and the lead-source pair, over the dialing domain in
//! [`crate::outbound`] (which knows nothing of runs) and the
//! [`OutboundStore`] trait, served by the SQLite and PostgreSQL stores or
//! by a host's own backend (`RuntimeBuilder::domain_store`).

mod actions;
mod leads;

pub use crate::outbound::model;
pub use crate::store::OutboundStore;

use crate::engine::action::{Action, ActionError, Context};
use crate::engine::pack::{Domains, Pack};
use crate::store::{SqliteStore, Store, StoreError};
use std::future::Future;
use std::sync::Arc;

pub use leads::MAX_CHECKOUT;

/// The outbound pack.
pub struct Outbound;

impl Pack for Outbound {
    fn name(&self) -> &'static str {
        "outbound"
    }

    fn manifests(&self) -> &'static [(&'static str, &'static str)] {
        include!(concat!(env!("OUT_DIR"), "/manifests_outbound.rs"))
    }

    fn actions(&self) -> Vec<Arc<dyn Action>> {
        vec![
            Arc::new(actions::CreateSource),
            Arc::new(actions::CreateUserField),
            Arc::new(actions::GetUserFields),
            Arc::new(actions::CreateSourceMap),
            Arc::new(actions::GetSourceMap),
            Arc::new(actions::CreateProspects),
            Arc::new(actions::GetProspect),
            Arc::new(actions::RemoveProspects),
            Arc::new(leads::CheckOutLeads),
            Arc::new(leads::CheckInLeads),
            Arc::new(leads::GetQueue),
        ]
    }

    fn open_stores(&self, store: &Arc<dyn Store>, domains: &mut Domains) {
        if let Some(s) = store_of(store) {
            domains.provide(s);
        }
    }
}

/// The outbound store of an opened SQLite or PostgreSQL store (`None` for
/// a backend this pack does not know: a host then registers its own).
pub fn store_of(store: &Arc<dyn Store>) -> Option<Arc<dyn OutboundStore>> {
    let any = store.as_any();
    if let Some(s) = any.downcast_ref::<SqliteStore>() {
        return Some(Arc::new(s.clone()));
    }
    #[cfg(feature = "postgres")]
    if let Some(s) = any.downcast_ref::<crate::store::PgStore>() {
        return Some(Arc::new(s.clone()));
    }
    None
}

/// The outbound store of a runtime's store, or why there is none.
pub fn store(store: &Arc<dyn Store>) -> Result<Arc<dyn OutboundStore>, StoreError> {
    store_of(store).ok_or_else(|| {
        StoreError::Unavailable(format!("the {} store has no outbound store (register one)", store.backend()))
    })
}

/// `ctx.outbound()`: the outbound store and the run's business unit, which
/// scopes every outbound read and write.
pub trait OutboundContext {
    /// The run's outbound store and business unit id.
    fn outbound(&self) -> impl Future<Output = Result<(Arc<dyn OutboundStore>, i64), ActionError>> + Send;
}

impl OutboundContext for Context<'_> {
    async fn outbound(&self) -> Result<(Arc<dyn OutboundStore>, i64), ActionError> {
        let store = self.domain::<dyn OutboundStore>().await?;
        Ok((store, self.unit_id().await?))
    }
}
