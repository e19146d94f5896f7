//! Outbound dialing: sources, user fields, source maps, prospects and
//! their result codes.
//!
//! This module knows the domain and nothing of the engine, the actions or
//! the store: it turns a mapping object into a checked [`model::SourceMap`],
//! and a batch of source records into prospects ready to store plus one
//! outcome per record ([`prospects::prepare_batch`]) and the report of the
//! batch ([`prospects::draft_results`]). The outbound actions call it and
//! persist what it prepares through the store's outbound trait; benchmarks
//! and hosts can call it directly. It builds on the shared batch and CSV
//! machinery of [`crate::base`] and on [`crate::timezone`].

pub mod fields;
pub mod leads;
pub mod model;
pub mod prospects;
mod report;
pub mod source_map;
