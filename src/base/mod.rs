//! Foundations every layer shares: source positions, media types, time
//! text and date reading, JSON string writing. Depends on nothing else in
//! the crate, so data can flow one way above it (file → model → check →
//! run → trace) and domains need nothing from the layers that use them.

pub mod batch;
pub mod csv;
pub mod json;
mod media;
mod pos;
pub mod time;

pub use media::MediaType;
pub use pos::Pos;
