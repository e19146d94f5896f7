//! Outbound dialing: sources, user fields, source maps, prospects and
//! their result codes.
//!
//! This module knows the domain and nothing of the engine: it turns a
//! mapping object into a checked [`model::SourceMap`], and a batch of
//! source records into prospects ready to store plus one outcome per record
//! ([`prospects::prepare_batch`]). The actions in `crate::actions::outbound`
//! call it and persist through [`crate::store::OutboundStore`]; benchmarks
//! and hosts can call it directly.

pub mod fields;
pub mod leads;
pub mod model;
pub mod prospects;
pub mod source_map;
