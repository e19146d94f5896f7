//! The command implementations too large to sit in `main.rs`, by family.

#[cfg(feature = "contacts")]
pub(crate) mod contacts;
pub(crate) mod inspect;
pub(crate) mod outbound;
pub(crate) mod progress;
pub(crate) mod testing;
pub(crate) mod users;
