//! The SQLite store (embedded default): opening and tuning the database
//! file, checkpointing its write-ahead log beside the writers, and the
//! read-only connections for point lookups (`read`). The queries it shares
//! with PostgreSQL are in `core_sql` and `outbound_sql`; its own (bulk
//! writes) in `outbound`.

mod outbound;
pub mod raw;
pub mod read;

use super::StoreError;
use super::sql::SqlStore;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// SQLite through sqlx.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Background WAL checkpoints of a file database (none in memory).
    checkpoints: Option<Arc<Checkpointer>>,
    /// How to reach a file database again once the pool is closed (none
    /// in memory).
    file: Option<SqliteConnectOptions>,
    /// Read-only connections for point lookups beside the pool (a file
    /// database only: each connection to a memory database would open a
    /// database of its own).
    readers: Option<Arc<read::Readers>>,
}

impl SqliteStore {
    /// Open (creating and migrating) the database at `url`: a path,
    /// `sqlite:path`, `sqlite://path` or `sqlite::memory:`.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let fail = |reason: String| StoreError::Open { url: url.to_string(), reason };
        let memory = url.contains(":memory:");
        let opts = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(|e| fail(e.to_string()))?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let opts = opts
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .journal_mode(if memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
            .synchronous(SqliteSynchronous::Normal)
            // Multi-row statements keep a statement journal; in memory it
            // costs no file writes. A larger page cache keeps the prospect
            // and destination indexes of big loads out of the OS's hands.
            .pragma("temp_store", "memory")
            .pragma("cache_size", CACHE_SIZE)
            // Checkpoints copy the WAL into the database and fsync it. Left
            // to the writer (every 1,000 pages by default), they stall every
            // large load; here a background task checkpoints every few
            // thousand rows (see `Checkpointer`), and this bound only stops
            // the WAL growing without limit should that task fall behind.
            .pragma("wal_autocheckpoint", "65536");
        // One connection for a memory database (each connection would get
        // its own), kept open for the pool's whole life: closing it would
        // drop the database. A file gets a few connections, of which SQLite
        // lets one write at a time.
        let pool = if memory {
            SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(POOL_SIZE)
        };
        let file = (!memory).then(|| opts.clone());
        let pool = pool.connect_with(opts).await.map_err(|e| fail(e.to_string()))?;
        super::migrator("sqlite").run(&pool).await.map_err(|e| fail(e.to_string()))?;
        let checkpoints = (!memory).then(|| Arc::new(Checkpointer::start(pool.clone())));
        // The file exists now; its absolute path keeps naming it should the
        // process change its working directory.
        let readers = file
            .as_ref()
            .and_then(|f| std::fs::canonicalize(f.get_filename()).ok())
            .and_then(|path| read::Readers::new(&path))
            .map(Arc::new);
        Ok(SqliteStore { pool, checkpoints, file, readers })
    }

    /// Open the existing database at `url` to read only: no migration, no
    /// change of journal mode, a read-only connection, so the file is left
    /// byte for byte as it was (a store opened by [`SqliteStore::open`]
    /// turns WAL on and off again, which rewrites the header). `None` when
    /// the file does not exist.
    pub async fn open_read_only(url: &str) -> Result<Option<SqliteStore>, StoreError> {
        let fail = |reason: String| StoreError::Open { url: url.to_string(), reason };
        let opts = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(|e| fail(e.to_string()))?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        if !opts.get_filename().exists() {
            return Ok(None);
        }
        let opts = opts.read_only(true).create_if_missing(false).busy_timeout(Duration::from_secs(10));
        let pool =
            SqlitePoolOptions::new().max_connections(2).connect_with(opts).await.map_err(|e| fail(e.to_string()))?;
        Ok(Some(SqliteStore { pool, checkpoints: None, file: None, readers: None }))
    }

    /// `rows` rows were committed: once enough have gathered since the last
    /// checkpoint, let the background task checkpoint the WAL. (Small
    /// writes alone would otherwise cost a checkpoint and its fsync each.)
    pub(crate) fn wrote(&self, rows: usize) {
        if let Some(c) = &self.checkpoints
            && c.pending.fetch_add(rows, Ordering::AcqRel) + rows >= CHECKPOINT_ROWS
        {
            c.pending.store(0, Ordering::Release);
            c.wake.notify_one();
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The read-only connections for point lookups (a file database only).
    pub fn readers(&self) -> Option<&read::Readers> {
        self.readers.as_deref()
    }
}

/// The pool's connections to a file. (The read connections of `read` are
/// as many at most.)
pub(crate) const POOL_SIZE: u32 = 4;

/// `PRAGMA cache_size` of every connection, the pool's and the readers':
/// 64 MiB (a negative size is in KiB).
pub(crate) const CACHE_SIZE: &str = "-65536";

/// Rows committed between background checkpoints: about a batch of 1,000
/// prospects with three numbers each, a few megabytes of WAL.
const CHECKPOINT_ROWS: usize = 4_000;

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` on a pool connection whenever
/// enough rows have been committed, so the copy and its fsync happen beside the
/// writers instead of inside their commits. PASSIVE never waits for a lock:
/// it copies what no reader still needs. Stops when the last clone of the
/// store is dropped.
#[derive(Debug)]
struct Checkpointer {
    wake: Arc<tokio::sync::Notify>,
    stop: Arc<AtomicBool>,
    /// Rows committed since the last wake-up.
    pending: AtomicUsize,
}

impl Checkpointer {
    fn start(pool: SqlitePool) -> Checkpointer {
        let wake = Arc::new(tokio::sync::Notify::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (w, s) = (wake.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                w.notified().await;
                if s.load(Ordering::Acquire) {
                    break;
                }
                // A failed checkpoint is retried after the next write; the
                // autocheckpoint bound still holds meanwhile.
                let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await;
            }
        });
        Checkpointer { wake, stop, pending: AtomicUsize::new(0) }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.wake.notify_one();
    }
}

impl SqlStore for SqliteStore {
    type Db = Sqlite;
    const NAME: &'static str = "sqlite";

    fn sql_pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Copy the write-ahead log into the database file, close every
    /// connection, and leave the file in rollback-journal mode: what is
    /// left is one file that holds everything (copied alone, even to
    /// read-only media, it opens with every row), without `-wal` or `-shm`
    /// beside it. While the store is open it stays in WAL mode (the next
    /// open sets it again), so a crash loses nothing either.
    async fn close(&self) {
        // First the read connections: leaving WAL mode below needs the
        // file to itself.
        if let Some(r) = &self.readers {
            r.close().await;
        }
        if let Some(c) = &self.checkpoints {
            c.stop.store(true, Ordering::Release);
            c.wake.notify_one();
            // A reader still open elsewhere (another process) can keep the
            // checkpoint from finishing; the log then stays, complete.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await;
        }
        self.pool.close().await;
        // Leaving WAL mode takes the only connection to the file: with the
        // pool closed, this one is it, unless another process has the file
        // open, and then the file stays in WAL mode, complete, for that
        // process to finish with (no waiting for it: a zero busy timeout).
        if let Some(opts) = &self.file {
            let opts = opts.clone().journal_mode(SqliteJournalMode::Delete).busy_timeout(Duration::ZERO);
            if let Ok(conn) = sqlx::ConnectOptions::connect(&opts).await {
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }
}
