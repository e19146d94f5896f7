//! The outbound pack: sources, user fields, source maps, CREATEPROSPECTS v2
//! and the lead-source pair, over the dialing domain in
//! [`crate::outbound`] (which knows nothing of runs) and the
//! [`OutboundStore`] trait, served by the SQLite and PostgreSQL stores or
//! by a host's own backend (`RuntimeBuilder::domain_store`).

mod actions;
mod leads;

pub use crate::outbound::model;
pub use crate::store::{Batch, CheckIn, CheckOut, NewSourceMap, OutboundStore};

use crate::store::{Store, StoreError};
use std::sync::Arc;

pub use leads::MAX_CHECKOUT;

pack! {
    /// The outbound pack.
    Outbound = "outbound",
    actions: [
        actions::CreateSource,
        actions::CreateUserField,
        actions::GetUserFields,
        actions::CreateSourceMap,
        actions::GetSourceMap,
        actions::CreateProspects,
        actions::GetProspect,
        actions::RemoveProspects,
        leads::CheckOutLeads,
        leads::CheckInLeads,
        leads::GetQueue,
    ],
    stores: OutboundStore,
}

backend_stores!(OutboundStore, "outbound", OutboundContext::outbound);
