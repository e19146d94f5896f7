//! The PostgreSQL store (several runtime processes sharing units):
//! connecting and migrating. The queries it shares with SQLite are in
//! `core_sql` and `outbound_sql`; its own (array and COPY writes) in
//! `outbound`, on the COPY writer of [`copy`].

pub mod copy;
mod outbound;

use super::sql::SqlStore;
use super::{StoreError, redact};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// PostgreSQL through sqlx.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Whether the last prospect batch saved found none of its keys
    /// stored, so the next is first tried as all new (see `outbound`).
    /// Shared by the store's clones.
    batches_new: Arc<AtomicBool>,
}

impl PgStore {
    /// Connect and migrate (sqlx takes an advisory lock, so several
    /// processes may start at once).
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let fail = |reason: String| StoreError::Open { url: redact(url), reason };
        // One direct connection first: when the server is unreachable the
        // pool would only say it timed out, this says why.
        {
            use sqlx::Connection;
            let conn = sqlx::PgConnection::connect(url).await.map_err(|e| fail(e.to_string()))?;
            let _ = conn.close().await;
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| fail(e.to_string()))?;
        super::migrator("postgres").run(&pool).await.map_err(|e| fail(e.to_string()))?;
        Ok(PgStore { pool, batches_new: Arc::new(AtomicBool::new(true)) })
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl SqlStore for PgStore {
    type Db = Postgres;
    const NAME: &'static str = "postgres";

    fn sql_pool(&self) -> &PgPool {
        &self.pool
    }
}
