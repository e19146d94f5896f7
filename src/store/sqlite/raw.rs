//! Bulk row writes straight through SQLite's C API, on a connection that
//! sqlx owns.
//!
//! sqlx hands every bound text to its connection thread as a fresh
//! `Arc<str>`, which SQLite then copies again; for a load of a hundred
//! thousand prospects that is more than a million allocations and a
//! thread hand-off per statement, about half of a bulk write's time. sqlx's
//! documented escape hatch, [`SqliteConnection::lock_handle`], lends the
//! raw `sqlite3*` while its worker thread waits. Here one prepared
//! single-row statement is bound in place (`SQLITE_STATIC`: SQLite reads
//! our borrowed bytes, copies nothing), stepped and reset per row.
//! Everything else (the pool, transactions, migrations, reads) stays with
//! sqlx; the write still happens inside the caller's sqlx transaction.
//!
//! This is the only module with `unsafe` code. The invariants:
//! - the handle is used only while the [`LockedSqliteHandle`] lives, which
//!   [`RawConnection`] owns, and statements borrow the connection, so no
//!   statement outlives the lock;
//! - bound text is borrowed for the duration of one call of a
//!   [`RawStatement`] only, and bindings are cleared before it returns, so SQLite never
//!   holds a pointer past the borrow;
//! - every statement is finalized on drop.

#![allow(unsafe_code)]

use crate::store::StoreError;
use libsqlite3_sys as ffi;
use sqlx::sqlite::{LockedSqliteHandle, SqliteConnection};
use std::ffi::{CStr, c_int};
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

    fn error(&self, context: &str) -> StoreError {
        // SAFETY: the handle is valid while the lock lives; errmsg returns a
        // NUL-terminated string owned by SQLite, copied before any other call.
        let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.db.as_ptr())) };
        StoreError::Query(format!("{context}: {}", msg.to_string_lossy()))
    }

    /// Prepare one statement.
    pub fn prepare(&self, sql: &str) -> Result<RawStatement<'_, 'c>, StoreError> {
        let mut stmt = std::ptr::null_mut();
        let len = c_int::try_from(sql.len()).map_err(|_| StoreError::Query("statement too long".into()))?;
        // SAFETY: `sql` is valid for `len` bytes; SQLite copies what it needs.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.db.as_ptr(),
                sql.as_ptr().cast(),
                len,
                ffi::SQLITE_PREPARE_PERSISTENT as _,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => {
                let slots = match value_slots(stmt) {
                    Ok(slots) => slots,
                    Err(e) => {
                        // SAFETY: finalizing the statement we got, once.
                        unsafe { ffi::sqlite3_finalize(stmt.as_ptr()) };
                        return Err(e);
                    }
                };
                Ok(RawStatement { conn: self, stmt, slots })
            }
            Some(stmt) => {
                let err = self.error("preparing a statement");
                // SAFETY: finalizing the statement we got, once.
                unsafe { ffi::sqlite3_finalize(stmt.as_ptr()) };
                Err(err)
            }
            None => Err(self.error("preparing a statement")),
        }
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
                .ok_or_else(|| StoreError::Query(format!("parameter {name}: bulk statements take ? or $N")))
        })
        .collect()
}

/// A prepared statement, run once per [`RawStatement::execute`],
/// [`RawStatement::first_int`] or [`RawStatement::first_text`].
pub struct RawStatement<'s, 'c> {
    conn: &'s RawConnection<'c>,
    stmt: NonNull<ffi::sqlite3_stmt>,
    /// The value each parameter takes (see [`value_slots`]).
    slots: Vec<usize>,
}

impl RawStatement<'_, '_> {
    /// Bind `values` to the parameters in order and run the statement to
    /// its end (an INSERT, UPDATE or DELETE).
    pub fn execute(&mut self, values: &[Param<'_>]) -> Result<(), StoreError> {
        self.run(values, |_| ()).map(|_| ())
    }

    /// Bind `values`, run the statement to its end, and say whether it
    /// changed a row: for an `INSERT ... ON CONFLICT DO NOTHING`, whether
    /// it inserted (cheaper than a `RETURNING` clause, whose rows SQLite
    /// buffers in a table of their own).
    pub fn execute_changed(&mut self, values: &[Param<'_>]) -> Result<bool, StoreError> {
        self.run(values, |_| ())?;
        // SAFETY: the handle is valid while the lock lives; the count is the
        // one the statement just run set (nothing else ran in between).
        Ok(unsafe { ffi::sqlite3_changes64(self.conn.db.as_ptr()) } > 0)
    }

    /// Bind `values` and return the first column of the first row as an
    /// integer, or `None` when there is no row.
    pub fn first_int(&mut self, values: &[Param<'_>]) -> Result<Option<i64>, StoreError> {
        self.run(values, |stmt| {
            // SAFETY: called only while `stmt` sits on a row.
            unsafe { ffi::sqlite3_column_int64(stmt, 0) }
        })
    }

    /// Bind `values` and return the first column of the first row as text
    /// (`None` when there is no row; a NULL reads as empty text).
    pub fn first_text(&mut self, values: &[Param<'_>]) -> Result<Option<String>, StoreError> {
        self.run(values, |stmt| {
            // SAFETY: called only while `stmt` sits on a row; the text is
            // owned by SQLite until the next step, and copied before it.
            unsafe {
                let text = ffi::sqlite3_column_text(stmt, 0);
                let len = ffi::sqlite3_column_bytes(stmt, 0);
                if text.is_null() || len <= 0 {
                    return String::new();
                }
                String::from_utf8_lossy(std::slice::from_raw_parts(text, len as usize)).into_owned()
            }
        })
    }

    /// Bind, step until done (reading the first row with `row`), reset and
    /// unbind.
    fn run<T>(
        &mut self,
        values: &[Param<'_>],
        row: impl FnOnce(*mut ffi::sqlite3_stmt) -> T,
    ) -> Result<Option<T>, StoreError> {
        let wanted = self.slots.iter().max().map_or(0, |m| m + 1);
        if values.len() != wanted {
            return Err(StoreError::Query(format!("statement takes {wanted} values, {} given", values.len())));
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
        let mut first = None;
        let mut row = Some(row);
        if rc == ffi::SQLITE_OK {
            loop {
                // SAFETY: a fully bound, live statement.
                rc = unsafe { ffi::sqlite3_step(stmt) };
                if rc != ffi::SQLITE_ROW {
                    break;
                }
                if let Some(f) = row.take() {
                    first = Some(f(stmt));
                }
            }
        }
        let result = if rc == ffi::SQLITE_DONE { Ok(first) } else { Err(self.conn.error("bulk write")) };
        // SAFETY: resetting and unbinding a live statement; after this SQLite
        // holds no pointer into `values`.
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        result
    }
}

impl Drop for RawStatement<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once, while the connection is still lent.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
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
