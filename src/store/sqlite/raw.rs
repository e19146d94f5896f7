//! Statements run straight through SQLite's C API: bulk row writes on a
//! connection that sqlx owns, and the prepared statements and rows that
//! the read connections of `read` use too.
//!
//! sqlx hands every bound text to its connection thread as a fresh
//! `Arc<str>`, which SQLite then copies again; for a load of a hundred
//! thousand prospects that is more than a million allocations and a
//! thread hand-off per statement, about half of a bulk write's time. sqlx's
//! documented escape hatch, [`SqliteConnection::lock_handle`], lends the
//! raw `sqlite3*` while its worker thread waits. Here one prepared
//! single-row statement is bound in place (`SQLITE_STATIC`: SQLite reads
//! our borrowed bytes, copies nothing), stepped and reset per row.
//! Everything else (the pool, transactions, migrations, most reads) stays
//! with sqlx; the write still happens inside the caller's sqlx transaction.
//!
//! This module and `read` are the only ones with `unsafe` code. The
//! invariants:
//! - a lent handle is used only while the [`LockedSqliteHandle`] lives,
//!   which [`RawConnection`] owns, and statements borrow the connection, so
//!   no statement outlives the lock;
//! - a [`Prepared`] statement is run only with the connection that
//!   prepared it, by the one thread that holds that connection, and is
//!   finalized (on drop) before the connection closes;
//! - bound text is borrowed for the duration of one [`Prepared::run`]
//!   only, and bindings are cleared before it returns, so SQLite never
//!   holds a pointer past the borrow;
//! - a [`Row`] is read only inside the `run` callback that is given it,
//!   and text borrowed from it does not outlive it.

#![allow(unsafe_code)]

use crate::store::StoreError;
use libsqlite3_sys as ffi;
use sqlx::sqlite::{LockedSqliteHandle, SqliteConnection};
use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::NonNull;

/// One value bound to a statement parameter (the same values the shared
/// sqlx queries bind).
pub use crate::store::sql::Param;

/// A connection lent by sqlx for direct C API calls.
pub struct RawConnection<'c> {
    db: NonNull<ffi::sqlite3>,
    _lock: LockedSqliteHandle<'c>,
}

impl<'c> RawConnection<'c> {
    /// Borrow `conn`'s handle from its worker thread.
    pub async fn lock(conn: &'c mut SqliteConnection) -> Result<RawConnection<'c>, StoreError> {
        let mut lock = conn.lock_handle().await?;
        let db = lock.as_raw_handle();
        Ok(RawConnection { db, _lock: lock })
    }

    /// Prepare one statement.
    pub fn prepare(&self, sql: &str) -> Result<RawStatement<'_, 'c>, StoreError> {
        // SAFETY: the handle is live and ours while the lock lives, which
        // the returned statement's borrow of `self` outlasts.
        let prepared = unsafe { Prepared::new(self.db, sql)? };
        Ok(RawStatement { conn: self, prepared })
    }
}

/// The last error of connection `db`, with `context`.
///
/// # Safety
/// `db` is a live connection that no other thread is using.
pub(super) unsafe fn error(db: NonNull<ffi::sqlite3>, context: &str) -> StoreError {
    // SAFETY: per the contract; errmsg returns a NUL-terminated string
    // owned by SQLite, copied before any other call.
    let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) };
    StoreError::Query(format!("{context}: {}", msg.to_string_lossy()))
}

/// Why `rc` (not OK) came back from `db`: busy, or its last error.
///
/// # Safety
/// As for [`error`].
unsafe fn failure(db: NonNull<ffi::sqlite3>, rc: c_int, context: &str) -> RawError {
    match rc & 0xff {
        ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => RawError::Busy,
        // SAFETY: per the contract.
        _ => RawError::Store(unsafe { error(db, context) }),
    }
}

/// Why preparing or running a [`Prepared`] statement failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum RawError {
    /// Another connection holds a lock this statement waits for (only once
    /// the connection's busy timeout, if any, has passed).
    #[error("the database is busy")]
    Busy,
    /// Any other failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RawError> for StoreError {
    fn from(e: RawError) -> StoreError {
        match e {
            RawError::Busy => StoreError::Query("the database is busy".into()),
            RawError::Store(e) => e,
        }
    }
}

/// A prepared statement and the value each of its parameters takes, of a
/// connection its owner keeps live while it exists (finalized on drop).
#[derive(Debug)]
pub(super) struct Prepared {
    stmt: NonNull<ffi::sqlite3_stmt>,
    /// The value each parameter takes (see [`value_slots`]).
    slots: Vec<usize>,
}

// SAFETY: a statement is only ever used together with its connection, by
// whichever single thread holds that connection (see the owners: the lent
// handle of `RawConnection`, the checked-out connection of `read`).
unsafe impl Send for Prepared {}

impl Prepared {
    /// Prepare `sql` on `db` (kept by SQLite for reuse: `PERSISTENT`).
    ///
    /// # Safety
    /// `db` is a live connection that no other thread is using, and stays
    /// live until the statement is dropped.
    pub(super) unsafe fn new(db: NonNull<ffi::sqlite3>, sql: &str) -> Result<Prepared, RawError> {
        let mut stmt = std::ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| StoreError::Query("statement too long".into()))?;
        // SAFETY: `db` per the contract; `sql` is valid for `len` bytes and
        // SQLite copies what it needs.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT as _,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => {
                // Dropped (finalized) on the error path too.
                let mut prepared = Prepared { stmt, slots: Vec::new() };
                prepared.slots = value_slots(stmt)?;
                Ok(prepared)
            }
            Some(stmt) => {
                // SAFETY: `db` per the contract.
                let err = unsafe { failure(db, rc, "preparing a statement") };
                // SAFETY: finalizing the statement we got, once.
                unsafe { ffi::sqlite3_finalize(stmt.as_ptr()) };
                Err(err)
            }
            // SAFETY: `db` per the contract.
            None => Err(unsafe { failure(db, rc, "preparing a statement") }),
        }
    }

    /// Bind `values` to the parameters, step through every row (each read
    /// by `row` while the statement sits on it), then reset and unbind.
    ///
    /// # Safety
    /// `db` is the connection that prepared the statement, live, and no
    /// other thread is using it.
    pub(super) unsafe fn run(
        &mut self,
        db: NonNull<ffi::sqlite3>,
        values: &[Param<'_>],
        mut row: impl FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), RawError> {
        let wanted = self.slots.iter().max().map_or(0, |m| m + 1);
        if values.len() != wanted {
            return Err(StoreError::Query(format!("statement takes {wanted} values, {} given", values.len())).into());
        }
        let stmt = self.stmt.as_ptr();
        let mut rc = ffi::SQLITE_OK;
        for (i, slot) in self.slots.iter().enumerate() {
            let (at, v) = (i as c_int + 1, &values[*slot]);
            // SAFETY: `stmt` is live; text stays borrowed until the bindings
            // are cleared below (SQLITE_STATIC: SQLite does not copy it).
            rc = unsafe {
                match v {
                    Param::Int(n) | Param::OptInt(Some(n)) => ffi::sqlite3_bind_int64(stmt, at, *n),
                    Param::Text(None) | Param::OptInt(None) => ffi::sqlite3_bind_null(stmt, at),
                    Param::Text(Some(s)) => ffi::sqlite3_bind_text64(
                        stmt,
                        at,
                        s.as_ptr().cast(),
                        s.len() as u64,
                        ffi::SQLITE_STATIC(),
                        ffi::SQLITE_UTF8 as u8,
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                break;
            }
        }
        let mut read = Ok(());
        if rc == ffi::SQLITE_OK {
            loop {
                // SAFETY: a fully bound, live statement.
                rc = unsafe { ffi::sqlite3_step(stmt) };
                if rc != ffi::SQLITE_ROW {
                    break;
                }
                read = row(&Row { stmt: self.stmt, _on_row: PhantomData });
                if read.is_err() {
                    break;
                }
            }
        }
        let result = match (read, rc & 0xff) {
            (Err(e), _) => Err(e.into()),
            (Ok(()), ffi::SQLITE_DONE) => Ok(()),
            // SAFETY: `db` per the contract.
            (Ok(()), _) => Err(unsafe { failure(db, rc, "running a statement") }),
        };
        // SAFETY: resetting and unbinding a live statement; after this SQLite
        // holds no pointer into `values`.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        result
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once, while its connection is live (its
        // owner's invariant).
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

/// The row a statement sits on, read column by column (from 0) while a
/// [`Prepared::run`] callback has it.
pub struct Row<'s> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    _on_row: PhantomData<&'s mut ()>,
}

impl Row<'_> {
    fn is_null(&self, col: c_int) -> bool {
        // SAFETY: the statement sits on a row while `self` lives.
        unsafe { ffi::sqlite3_column_type(self.stmt.as_ptr(), col) == ffi::SQLITE_NULL }
    }

    /// An integer column (a NULL reads as 0, as SQLite gives it).
    pub fn int(&self, col: c_int) -> i64 {
        // SAFETY: the statement sits on a row while `self` lives.
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), col) }
    }

    /// An integer column that may be NULL.
    pub fn opt_int(&self, col: c_int) -> Option<i64> {
        (!self.is_null(col)).then(|| self.int(col))
    }

    /// A text column that may be NULL, borrowed from SQLite for as long as
    /// the row is; text that is not UTF-8 is an error.
    pub fn opt_text(&self, col: c_int) -> Result<Option<&str>, StoreError> {
        if self.is_null(col) {
            return Ok(None);
        }
        // SAFETY: the statement sits on a row while `self` lives; the text
        // (converted once, then stable) is owned by SQLite until the next
        // step or reset, which the borrow of `self` rules out meanwhile.
        let bytes = unsafe {
            let text = ffi::sqlite3_column_text(self.stmt.as_ptr(), col);
            let len = ffi::sqlite3_column_bytes(self.stmt.as_ptr(), col);
            if text.is_null() || len <= 0 {
                return Ok(Some(""));
            }
            std::slice::from_raw_parts(text, len as usize)
        };
        std::str::from_utf8(bytes).map(Some).map_err(|e| StoreError::Query(format!("column {col}: {e}")))
    }

    /// A text column that is never NULL.
    pub fn text(&self, col: c_int) -> Result<&str, StoreError> {
        self.opt_text(col)?.ok_or_else(|| StoreError::Query(format!("column {col} is NULL")))
    }
}

/// For each parameter of `stmt` (SQLite numbers them from 1), the index
/// of the value it takes: `?` parameters take the values in order, and
/// `$N` / `?N` take value N, so the queries written for both drivers
/// (`$N` may appear out of order, and twice) bind the same values here.
fn value_slots(stmt: NonNull<ffi::sqlite3_stmt>) -> Result<Vec<usize>, StoreError> {
    // SAFETY: a live, freshly prepared statement.
    let count = unsafe { ffi::sqlite3_bind_parameter_count(stmt.as_ptr()) };
    (1..=count)
        .map(|at| {
            // SAFETY: `at` is a parameter index of the live statement; the
            // name (NULL for a bare `?`) is owned by SQLite and read at once.
            let name = unsafe { ffi::sqlite3_bind_parameter_name(stmt.as_ptr(), at) };
            if name.is_null() {
                return Ok(at as usize - 1);
            }
            // SAFETY: a NUL-terminated string owned by the statement.
            let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
            name.get(1..)
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n >= 1)
                .map(|n| n - 1)
                .ok_or_else(|| StoreError::Query(format!("parameter {name}: raw statements take ? or $N")))
        })
        .collect()
}

/// A prepared statement of a lent connection, run once per
/// [`RawStatement::execute`], [`RawStatement::first_int`] or
/// [`RawStatement::first_text`].
pub struct RawStatement<'s, 'c> {
    conn: &'s RawConnection<'c>,
    prepared: Prepared,
}

impl RawStatement<'_, '_> {
    /// Bind `values` to the parameters in order and run the statement to
    /// its end (an INSERT, UPDATE or DELETE).
    pub fn execute(&mut self, values: &[Param<'_>]) -> Result<(), StoreError> {
        self.first(values, |_| Ok(()))?;
        Ok(())
    }

    /// Bind `values`, run the statement to its end, and say whether it
    /// changed a row: for an `INSERT ... ON CONFLICT DO NOTHING`, whether
    /// it inserted (cheaper than a `RETURNING` clause, whose rows SQLite
    /// buffers in a table of their own).
    pub fn execute_changed(&mut self, values: &[Param<'_>]) -> Result<bool, StoreError> {
        self.execute(values)?;
        // SAFETY: the handle is valid while the lock lives; the count is the
        // one the statement just run set (nothing else ran in between).
        Ok(unsafe { ffi::sqlite3_changes64(self.conn.db.as_ptr()) } > 0)
    }

    /// Bind `values` and return the first column of the first row as an
    /// integer, or `None` when there is no row.
    pub fn first_int(&mut self, values: &[Param<'_>]) -> Result<Option<i64>, StoreError> {
        self.first(values, |row| Ok(row.int(0)))
    }

    /// Bind `values` and return the first column of the first row as text
    /// (`None` when there is no row; a NULL reads as empty text).
    pub fn first_text(&mut self, values: &[Param<'_>]) -> Result<Option<String>, StoreError> {
        self.first(values, |row| Ok(row.opt_text(0)?.unwrap_or_default().to_string()))
    }

    /// Run the statement to its end, reading its first row with `read`.
    fn first<T>(
        &mut self,
        values: &[Param<'_>],
        mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut first = None;
        // SAFETY: the statement's connection is lent to us while `conn`'s
        // lock lives, which our borrow of it outlasts.
        unsafe {
            self.prepared.run(self.conn.db, values, |row| {
                if first.is_none() {
                    first = Some(read(row)?);
                }
                Ok(())
            })
        }?;
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    /// `$N` parameters take value N wherever they stand, and may repeat,
    /// as in the queries shared with the sqlx driver.
    #[tokio::test]
    async fn numbered_parameters_take_their_own_values_in_any_order() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.expect("memory database");
        let raw = RawConnection::lock(&mut conn).await.expect("handle");
        let mut swapped = raw.prepare("SELECT $2 || '-' || $1 || '-' || $2").expect("prepares");
        assert_eq!(
            swapped.first_text(&[Param::Text(Some("a")), Param::Text(Some("b"))]).expect("runs"),
            Some("b-a-b".into())
        );
        let err = swapped.first_text(&[Param::Text(Some("a"))]).expect_err("one value short");
        assert!(err.to_string().contains("takes 2 values, 1 given"), "{err}");
        let mut plain = raw.prepare("SELECT ? - ?").expect("prepares");
        assert_eq!(plain.first_int(&[Param::Int(10), Param::Int(3)]).expect("runs"), Some(7));
        let mut none = raw.prepare("SELECT 1 WHERE 0").expect("prepares");
        assert_eq!(none.first_text(&[]).expect("runs"), None);
        assert!(raw.prepare("SELECT :name").is_err(), "named parameters other than $N are refused");
    }

    /// `execute_changed` tells an insert from a conflict it ignored.
    #[tokio::test]
    async fn execute_changed_says_whether_a_row_changed() {
        let mut conn = SqliteConnection::connect("sqlite::memory:").await.expect("memory database");
        let raw = RawConnection::lock(&mut conn).await.expect("handle");
        raw.prepare("CREATE TABLE t (k TEXT PRIMARY KEY)").expect("prepares").execute(&[]).expect("runs");
        let mut insert = raw.prepare("INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO NOTHING").expect("prepares");
        assert!(insert.execute_changed(&[Param::Text(Some("a"))]).expect("runs"));
        assert!(!insert.execute_changed(&[Param::Text(Some("a"))]).expect("runs"), "a conflict changes nothing");
        assert!(insert.execute_changed(&[Param::Text(Some("b"))]).expect("runs"));
    }
}
