//! The command implementations too large to sit in `main.rs`, by family.

pub(crate) mod inspect;
pub(crate) mod outbound;
pub(crate) mod progress;
pub(crate) mod testing;
pub(crate) mod users;
