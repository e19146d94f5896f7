//! The command implementations too large to sit in `main.rs`, by family.

#[cfg(feature = "addressbook")]
pub(crate) mod addressbook;
#[cfg(feature = "contacts")]
pub(crate) mod contacts;
#[cfg(feature = "contacts")]
pub(crate) mod imports;
pub(crate) mod inspect;
pub(crate) mod outbound;
pub(crate) mod progress;
pub(crate) mod testing;
pub(crate) mod users;

/// Where the store is and which business unit to work in: the `--db` and
/// `--unit` every command that works in one unit takes.
#[derive(clap::Args, Clone)]
pub(crate) struct StoreArgs {
    /// Store URL: a file path, sqlite::memory:, or postgres://...
    #[arg(long, value_name = "URL", default_value = "prospero.db")]
    pub(crate) db: String,
    /// The business unit (trimmed, lowercased; created by the first command
    /// that writes to it; a command that only reads fails while it does not
    /// exist).
    #[arg(long, value_name = "NAME", default_value = "default", value_parser = prospero::store::unit_name)]
    pub(crate) unit: String,
}

/// How a long command reports: one JSON object instead of text, and no
/// progress bar (drawn only on a terminal anyway).
#[derive(clap::Args, Clone, Copy)]
pub(crate) struct Output {
    /// Print one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress bar (it is drawn only on a terminal anyway).
    #[arg(long)]
    pub(crate) quiet: bool,
}
