//! What the SQLite and PostgreSQL stores share: one way to bind
//! parameters, read columns and run a statement on either sqlx driver, so
//! that an operation both dialects can run is written once.
//!
//! Shared SQL uses numbered placeholders (`$1`, `$2`, ...). PostgreSQL
//! knows no other kind; SQLite reads `$1` as a named parameter, and sqlx's
//! SQLite driver binds a parameter named `$N` to the N-th bound value
//! whatever order the names stand in, so `$N` means the same on both (a
//! number may repeat, as on PostgreSQL). Values are only ever integers and
//! text or NULL ([`Param`]); rows are read by column name ([`Cols`]).
//!
//! A backend is an [`SqlStore`]: its pool, its name and how it opens a
//! write transaction. The queries themselves live in `core_sql` (business
//! units and the run log) and `outbound_sql` (the outbound tables), which
//! also say where the dialects differ.

use super::StoreError;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, IntoArguments, Pool, Row, SqlSafeStr, Transaction, Type};
use std::future::Future;

/// What the store's own functions return.
pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One value bound to a statement parameter.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    /// An integer.
    Int(i64),
    /// An integer, or NULL (a typed NULL: PostgreSQL refuses a text NULL
    /// in an integer column).
    OptInt(Option<i64>),
    /// Text, or NULL.
    Text(Option<&'a str>),
}

/// A text value that is never NULL.
pub(crate) fn text(s: &str) -> Param<'_> {
    Param::Text(Some(s))
}

/// A row whose columns decode as text and integers by name.
pub trait Cols {
    /// A text column.
    fn text(&self, col: &str) -> Result<String>;
    /// A text column that may be NULL.
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    /// An integer column.
    fn int(&self, col: &str) -> Result<i64>;
}

impl<R: Row> Cols for R
where
    for<'a> &'a str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, col: &str) -> Result<String> {
        Ok(self.try_get(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
    fn int(&self, col: &str) -> Result<i64> {
        Ok(self.try_get(col)?)
    }
}

/// An sqlx driver the shared queries run on: its rows read through
/// [`Cols`] and it binds a [`Param`]. Both SQLite and PostgreSQL are one.
pub trait Backend: Database<Row: Cols, Arguments: IntoArguments<Self>> {
    /// `query` with `param` bound as its next parameter.
    fn bind(query: Query<'static, Self, Self::Arguments>, param: Param<'_>) -> Query<'static, Self, Self::Arguments>;
}

impl<DB> Backend for DB
where
    DB: Database<Row: Cols, Arguments: IntoArguments<DB>>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    Option<i64>: for<'q> Encode<'q, DB> + Type<DB>,
    for<'a> Option<&'a str>: Encode<'a, DB> + Type<DB>,
{
    fn bind(query: Query<'static, DB, DB::Arguments>, param: Param<'_>) -> Query<'static, DB, DB::Arguments> {
        match param {
            Param::Int(n) => query.bind(n),
            Param::OptInt(n) => query.bind(n),
            Param::Text(t) => query.bind(t),
        }
    }
}

/// The statement `sql` with `params` bound in order.
pub(crate) fn query<DB: Backend>(sql: impl SqlSafeStr, params: &[Param<'_>]) -> Query<'static, DB, DB::Arguments> {
    params.iter().fold(sqlx::query(sql), |q, p| DB::bind(q, *p))
}

/// The row type of store `S`'s driver.
pub(crate) type RowOf<S> = <<S as SqlStore>::Db as Database>::Row;

/// A store over one sqlx pool. The shared queries run on any of them (see
/// `core_sql` and `outbound_sql`).
pub trait SqlStore: Send + Sync + 'static {
    /// The sqlx driver.
    type Db: Backend;

    /// `sqlite` or `postgres`, as [`Store::backend`](super::Store::backend) says.
    const NAME: &'static str;

    /// The connection pool.
    fn sql_pool(&self) -> &Pool<Self::Db>;

    /// A transaction for a step that reads and then writes: a plain one,
    /// in which the statements lock the rows they touch (PostgreSQL).
    /// SQLite takes its one write lock up front instead (`BEGIN
    /// IMMEDIATE`), so that no two writers deadlock upgrading a read lock.
    fn begin_write(&self) -> impl Future<Output = Result<Transaction<'static, Self::Db>>> + Send {
        async { Ok(self.sql_pool().begin().await?) }
    }

    /// Close the pool, waiting for its connections to finish
    /// ([`Store::close`](super::Store::close)).
    fn close(&self) -> impl Future<Output = ()> + Send {
        async { self.sql_pool().close().await }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    /// Every shared query relies on `$N` naming the N-th bound value on
    /// SQLite as on PostgreSQL, whatever order the names stand in and
    /// however often one repeats.
    #[tokio::test]
    async fn numbered_placeholders_bind_by_number_on_sqlite() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("store");
        let row = query(
            "SELECT $2 AS b, $1 AS a, $2 AS b_again, $3 AS n, $4 AS none",
            &[text("one"), text("two"), Param::Int(3), Param::Text(None)],
        )
        .fetch_one(store.sql_pool())
        .await
        .expect("query");
        assert_eq!(row.text("a").expect("a"), "one");
        assert_eq!(row.text("b").expect("b"), "two");
        assert_eq!(row.text("b_again").expect("b_again"), "two");
        assert_eq!(row.int("n").expect("n"), 3);
        assert_eq!(row.opt_text("none").expect("none"), None);
    }
}
