//! Foundations every layer shares: source positions, media types, time
//! text and date reading, JSON string writing, the CSV reader and the
//! record report of batch actions. Depends on nothing in the crate but
//! `value` (the batch report's records are values; no file of `value`
//! imports `batch` or `csv`), so data flows one way above it (file → model
//! → check → run → trace) and domains need nothing from the layers that
//! use them.

pub mod batch;
pub mod csv;
pub mod json;
mod media;
mod pos;
pub mod time;

pub use media::MediaType;
pub use pos::Pos;
