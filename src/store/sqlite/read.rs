//! Point lookups on an SQLite file through a few read-only connections the
//! store opens itself with the C API, beside sqlx's pool: the lookups a
//! script makes (FINDCONTACT, a contact by id, the unit's default country).
//!
//! Through sqlx a query is sent to its connection's worker thread and the
//! answer sent back: two thread wake-ups in the kernel per query, most of
//! an indexed lookup's time. Here the lookup runs on the calling thread: a
//! connection is taken from a small set, its statement (prepared the first
//! time, then kept) bound in place, stepped and reset, and the connection
//! put back, with no `.await` in between. An indexed lookup bounded by its
//! LIMIT takes tens of microseconds, less than the wake-ups it saves, so
//! running it on an async worker is cheaper than waiting for it there.
//!
//! Beside the writers: the file is in WAL mode, where readers and the
//! writer do not block each other, and each statement runs in a read
//! transaction of its own that sees every transaction committed before it
//! started, as a pool connection would. The connections are opened
//! read-only, with no busy timeout: a read that finds the database busy
//! (another connection holds it exclusively, or is recovering its log) is not
//! waited for on this thread but left to the pool ([`Readers::read`]
//! answers `None`), as is every read once the store is closing.
//!
//! How many: at most [`Readers::size`], one per CPU (at least 2, at most
//! [`MAX_READERS`], as many as the pool has). A thread uses one connection
//! at a time and never awaits while it holds one, so more threads than
//! CPUs would only queue for the CPU; the cap bounds memory and file
//! handles. Each connection has the pool's page cache (64 MiB at most,
//! filled by the pages it reads): with less, the inner pages of a
//! million-contact directory's tables and indexes no longer stay in it,
//! and every lookup reads them again from the OS. Connections open on
//! first use and close with the store, before it leaves WAL mode.

#![allow(unsafe_code)]

use super::raw::{self, Prepared, RawError, Row};
use crate::store::StoreError;
use crate::store::sql::Param;
use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::Semaphore;

/// The most read connections a store opens, whatever the CPU count.
pub const MAX_READERS: usize = super::POOL_SIZE as usize;

/// The read-only connections of one SQLite file.
#[derive(Debug)]
pub struct Readers {
    path: CString,
    /// One permit per connection: a read holds one from taking a
    /// connection until it has put it back.
    permits: Semaphore,
    size: usize,
    idle: Mutex<Idle>,
}

#[derive(Debug, Default)]
struct Idle {
    connections: Vec<Reader>,
    /// Closing (or a connection could not be opened): reads go to the pool.
    closed: bool,
}

impl Readers {
    /// Read connections to the database file at `path` (none opened yet);
    /// `None` for a path SQLite cannot be given (a NUL byte, not UTF-8).
    pub fn new(path: &Path) -> Option<Readers> {
        let path = CString::new(path.to_str()?).ok()?;
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        let size = cpus.clamp(2, MAX_READERS);
        Some(Readers { path, permits: Semaphore::new(size), size, idle: Mutex::default() })
    }

    /// How many connections this store may open at most.
    pub fn size(&self) -> usize {
        self.size
    }

    /// How many connections are open and idle (a test's view).
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.lock().connections.len()
    }

    fn lock(&self) -> MutexGuard<'_, Idle> {
        // Nothing panics while the lock is held; a poisoned lock still
        // holds a consistent list.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `sql` with `values` bound, each row read by `row`, on the
    /// calling thread; `None` when the read is left to the pool (closing,
    /// busy, or no connection could be opened).
    pub async fn read<T>(
        &self,
        sql: &'static str,
        values: &[Param<'_>],
        mut row: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<Vec<T>>, StoreError> {
        // Declared first, released last: after the connection is back.
        let Ok(_permit) = self.permits.acquire().await else { return Ok(None) };
        let taken = {
            let mut idle = self.lock();
            if idle.closed {
                return Ok(None);
            }
            idle.connections.pop()
        };
        let mut conn = match taken {
            Some(conn) => conn,
            None => match Reader::open(&self.path) {
                Ok(conn) => conn,
                // Reads go on through the pool, which reports any real
                // trouble with the file.
                Err(_) => {
                    self.lock().closed = true;
                    return Ok(None);
                }
            },
        };
        let mut found = Vec::new();
        let ran = conn.run(sql, values, |r| {
            found.push(row(r)?);
            Ok(())
        });
        {
            let mut idle = self.lock();
            if !idle.closed {
                idle.connections.push(conn);
            }
        }
        match ran {
            Ok(()) => Ok(Some(found)),
            Err(RawError::Busy) => Ok(None),
            Err(RawError::Store(e)) => Err(e),
        }
    }

    /// Wait for the reads in flight, then close every connection; later
    /// reads are left to the pool.
    pub async fn close(&self) {
        let size = u32::try_from(self.size).unwrap_or(u32::MAX);
        // Only `close` closes the semaphore, so this waits and succeeds;
        // should it not, the connections close as their reads end.
        let all = self.permits.acquire_many(size).await;
        let connections = {
            let mut idle = self.lock();
            idle.closed = true;
            std::mem::take(&mut idle.connections)
        };
        drop(connections);
        drop(all);
        self.permits.close();
    }
}

/// One read-only connection and the statements it has prepared.
#[derive(Debug)]
struct Reader {
    db: NonNull<ffi::sqlite3>,
    /// Whether its page cache is sized yet (on its first read: the pragma
    /// reads the schema, which a busy file refuses).
    sized: bool,
    /// By SQL text; a handful (one per kind of lookup).
    statements: Vec<(&'static str, Prepared)>,
}

// SAFETY: a connection opened with SQLITE_OPEN_NOMUTEX may move between
// threads as long as one thread uses it at a time: a `Reader` is used only
// by the read that took it out of `Readers::idle`.
unsafe impl Send for Reader {}

impl Reader {
    fn open(path: &CStr) -> Result<Reader, StoreError> {
        let mut db = std::ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_NOMUTEX | ffi::SQLITE_OPEN_PRIVATECACHE;
        // SAFETY: a NUL-terminated path; SQLite writes the handle (even on
        // failure, when it must still be closed: `Reader`'s drop does).
        let rc = unsafe { ffi::sqlite3_open_v2(path.as_ptr(), &mut db, flags, std::ptr::null()) };
        let db = NonNull::new(db).ok_or_else(|| StoreError::Query("opening a read connection: no memory".into()))?;
        let reader = Reader { db, sized: false, statements: Vec::new() };
        if rc != ffi::SQLITE_OK {
            // SAFETY: the handle is live (closed when `reader` drops) and ours.
            return Err(unsafe { raw::error(db, "opening a read connection") });
        }
        // Nothing is read yet (SQLite reads the schema on the first
        // statement): a busy file cannot make opening fail.
        Ok(reader)
    }

    /// Run `sql` (prepared on first use) with `values`, each row to `row`.
    fn run(
        &mut self,
        sql: &'static str,
        values: &[Param<'_>],
        row: impl FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), RawError> {
        if !self.sized {
            let cache = format!("PRAGMA cache_size = {}", super::CACHE_SIZE);
            // SAFETY: our live connection, used by this thread alone (we
            // hold `&mut self`); the statement is dropped at once.
            unsafe { Prepared::new(self.db, &cache)?.run(self.db, &[], |_| Ok(()))? };
            self.sized = true;
        }
        let at = match self.statements.iter().position(|(s, _)| *s == sql) {
            Some(at) => at,
            None => {
                // SAFETY: our live connection, used by this thread alone
                // (we hold `&mut self`); statements drop before it closes.
                let prepared = unsafe { Prepared::new(self.db, sql)? };
                self.statements.push((sql, prepared));
                self.statements.len() - 1
            }
        };
        let db = self.db;
        // SAFETY: the statement was prepared on `db`, live and ours alone.
        unsafe { self.statements[at].1.run(db, values, row) }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // Statements first: a connection closes once they are finalized.
        self.statements.clear();
        // SAFETY: the handle is ours, closed once, with no statement left.
        unsafe { ffi::sqlite3_close(self.db.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::Param::Int;
    use crate::store::{SqliteStore, Store};
    use sqlx::{ConnectOptions, Connection};

    async fn file_store() -> (tempfile::TempDir, String, SqliteStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("read.db").to_str().expect("UTF-8 path").to_string();
        let store = SqliteStore::open(&path).await.expect("opens");
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(store.pool()).await.expect("table");
        (dir, path, store)
    }

    const COUNT: &str = "SELECT count(*) FROM t WHERE n >= $1";

    fn first(r: &Row<'_>) -> Result<i64, StoreError> {
        Ok(r.int(0))
    }

    async fn count(readers: &Readers) -> Option<i64> {
        readers.read(COUNT, &[Int(0)], first).await.expect("reads").map(|v| v[0])
    }

    #[tokio::test]
    async fn reads_see_committed_rows_only_and_never_write() {
        let (_dir, _, store) = file_store().await;
        let readers = store.readers().expect("a file has read connections");
        assert_eq!(count(readers).await, Some(0));
        let mut tx = store.pool().begin_with("BEGIN IMMEDIATE").await.expect("begin");
        sqlx::query("INSERT INTO t VALUES (1), (2)").execute(&mut *tx).await.expect("insert");
        assert_eq!(count(readers).await, Some(0), "a write in progress is not seen");
        tx.commit().await.expect("commit");
        assert_eq!(count(readers).await, Some(2), "a committed write is");
        // The statement prepared before the schema changed is prepared again.
        sqlx::query("ALTER TABLE t ADD COLUMN m TEXT").execute(store.pool()).await.expect("alter");
        assert_eq!(count(readers).await, Some(2));
        let err = readers.read("INSERT INTO t VALUES ($1, NULL)", &[Int(3)], first).await.expect_err("read-only");
        assert!(err.to_string().contains("readonly"), "{err}");
        assert_eq!(count(readers).await, Some(2), "nothing was written");
        let err = readers.read(COUNT, &[], first).await.expect_err("a value short");
        assert!(err.to_string().contains("takes 1 values, 0 given"), "{err}");
        assert_eq!(readers.idle(), 1, "one caller at a time needs one connection");
        let cache = readers.read("PRAGMA cache_size", &[], first).await.expect("reads");
        assert_eq!(cache, Some(vec![crate::store::sqlite::CACHE_SIZE.parse::<i64>().expect("a number")]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn many_callers_beside_a_writer_share_a_bounded_set_and_see_rows_only_grow() {
        let (_dir, _, store) = file_store().await;
        let writer = {
            let pool = store.pool().clone();
            tokio::spawn(async move {
                for n in 0..200 {
                    sqlx::query("INSERT INTO t VALUES ($1)").bind(n).execute(&pool).await.expect("insert");
                }
            })
        };
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let store = store.clone();
            callers.spawn(async move {
                let readers = store.readers().expect("read connections");
                let mut seen = 0;
                for _ in 0..50 {
                    let now = count(readers).await.expect("served by the read connections");
                    assert!(now >= seen, "a later read saw fewer rows: {now} < {seen}");
                    seen = now;
                    tokio::task::yield_now().await;
                }
            });
        }
        callers.join_all().await;
        writer.await.expect("writer");
        let readers = store.readers().expect("read connections");
        assert_eq!(count(readers).await, Some(200));
        assert!((1..=readers.size()).contains(&readers.idle()), "{} open, at most {}", readers.idle(), readers.size());
        assert!((2..=MAX_READERS).contains(&readers.size()));
    }

    #[tokio::test]
    async fn a_busy_file_leaves_the_read_to_the_pool() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("busy.db");
        // A connection in exclusive locking mode (no store beside it: it
        // needs the file to itself) keeps every other one from reading
        // until it closes.
        let mut exclusive = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::ZERO)
            .connect()
            .await
            .expect("connects");
        sqlx::query("PRAGMA locking_mode = EXCLUSIVE").execute(&mut exclusive).await.expect("exclusive");
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&mut exclusive).await.expect("table");
        sqlx::query("INSERT INTO t VALUES (1)").execute(&mut exclusive).await.expect("insert");
        let readers = Readers::new(&path).expect("a plain path");
        assert_eq!(count(&readers).await, None, "busy: left to the pool");
        exclusive.close().await.expect("closes");
        assert_eq!(count(&readers).await, Some(1), "served once the lock is gone");
    }

    #[tokio::test]
    async fn closing_the_store_closes_the_read_connections_and_leaves_one_file() {
        let (_dir, path, store) = file_store().await;
        let readers = store.readers().expect("read connections");
        assert_eq!(count(readers).await, Some(0));
        Store::close(&store).await;
        for side in ["-wal", "-shm"] {
            assert!(!std::path::Path::new(&format!("{path}{side}")).exists(), "{side} left beside the file");
        }
        assert_eq!(count(readers).await, None, "reads after closing are left to the (closed) pool");
        assert_eq!(readers.idle(), 0);
    }
}
