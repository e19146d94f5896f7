//! Storage: the traits actions talk to, and their SQLite and PostgreSQL
//! implementations.
//!
//! SQLite (a file, created and migrated on first use) is the embedded
//! default; PostgreSQL serves several runtime processes sharing the same
//! business units. Each backend has its own migrations (`migrations/sqlite`,
//! `migrations/postgres`) and its own queries — sqlx's `Any` driver does not
//! rewrite placeholders, so one implementation per backend is the honest
//! way. A platform can plug in its own backend by implementing [`Store`].
//! Every row belongs to one business unit.

mod postgres;
mod sqlite;

use async_trait::async_trait;
use std::sync::Arc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no backend Prospero knows.
    #[error("unsupported database URL '{0}' (use a file path, sqlite:..., sqlite::memory: or postgres://...)")]
    BadUrl(String),
    /// Connecting or migrating failed.
    #[error("cannot open the store at {url}: {reason}")]
    Open {
        /// The database URL (password removed).
        url: String,
        /// Why.
        reason: String,
    },
    /// A query failed.
    #[error("store error: {0}")]
    Query(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Query(e.to_string())
    }
}

/// One finished run, as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    /// The run id.
    pub run_id: String,
    /// Root script name.
    pub script: String,
    /// Hash of the root script.
    pub script_hash: String,
    /// `completed`, `failed` or `budget_exceeded`.
    pub status: String,
    /// Actions executed.
    pub steps: i64,
    /// Error text, when not completed.
    pub error: Option<String>,
    /// Return value as JSON text.
    pub return_value: Option<String>,
    /// When it ended (RFC 3339).
    pub finished_at: String,
}

/// What the runtime needs from storage.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `sqlite` or `postgres` (or a host's name).
    fn backend(&self) -> &'static str;

    /// The id of business unit `name`, created if new.
    async fn business_unit(&self, name: &str) -> Result<i64, StoreError>;

    /// Log a finished run.
    async fn record_run(&self, unit: i64, run: &RunRecord) -> Result<(), StoreError>;

    /// The latest runs of a unit, newest first.
    async fn recent_runs(&self, unit: i64, limit: i64) -> Result<Vec<RunRecord>, StoreError>;
}

/// Open the store named by `url`: a file path or `sqlite:` URL (created and
/// migrated on first use), `sqlite::memory:`, or `postgres://...`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let u = url.trim();
    if u.starts_with("postgres://") || u.starts_with("postgresql://") {
        return Ok(Arc::new(PgStore::connect(u).await?));
    }
    if u.contains("://") && !u.starts_with("sqlite:") {
        return Err(StoreError::BadUrl(redact(u)));
    }
    Ok(Arc::new(SqliteStore::open(u).await?))
}

/// A URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("x.db"), "x.db");
    }
}
