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
use crate::store::{Store, StoreError};
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

backend_stores!(OutboundStore, "outbound");

/// `ctx.outbound()`: the outbound store and the run's business unit, which
/// scopes every outbound read and write.
pub trait OutboundContext {
    /// The run's outbound store and business unit id.
    fn outbound(&self) -> impl Future<Output = Result<(Arc<dyn OutboundStore>, i64), ActionError>> + Send;
}

impl OutboundContext for Context<'_> {
    async fn outbound(&self) -> Result<(Arc<dyn OutboundStore>, i64), ActionError> {
        self.unit_domain::<dyn OutboundStore>().await
    }
}
