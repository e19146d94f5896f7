//! Bulk row writes through PostgreSQL's `COPY ... FROM STDIN`, in its text
//! format: the fastest way to put many rows into a table short of a file
//! on the server. This module owns the encoding (escaping, NULL, typed
//! values) and the streaming (bounded chunks); what is written, and how
//! it meets the rows already there, is its callers' (`outbound` here, the
//! contacts import later).
//!
//! An `INSERT ... SELECT FROM UNNEST($1::text[], ...)` of the same rows
//! costs the server a parse of every array, a projection and an executor
//! node per row; COPY hands the rows straight to the table's insert path,
//! in batches. The price is that COPY has no `ON CONFLICT` and returns
//! nothing: callers number the rows themselves (ids from the table's
//! sequence) and treat a unique violation as "someone else got there
//! first" (see [`CopyError::is_unique_violation`]).
//!
//! Text format, as the server reads it: columns separated by a tab, rows
//! ended by a newline, `\N` for NULL, and a backslash, tab, newline or
//! carriage return inside a value written as `\\`, `\t`, `\n`, `\r`
//! (nothing else needs escaping in UTF-8; a literal text `\N` goes as
//! `\\N`). A NUL character cannot be stored in PostgreSQL text at all; the
//! server refuses it, as it would refuse a bound parameter holding one.

use crate::store::StoreError;
use crate::store::sql::Param;
use sqlx::PgConnection;
use sqlx::postgres::PgCopyIn;

/// How much encoded data is buffered before it goes to the server: large
/// enough that a message costs little per row, small enough that a write
/// of millions of rows holds only this much at once.
pub const CHUNK: usize = 64 * 1024;

/// A failed COPY.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// The server refused the COPY or one of its rows, or the connection
    /// failed.
    #[error("COPY into {table}: {source}")]
    Database {
        /// The table written.
        table: String,
        /// What sqlx reported.
        source: sqlx::Error,
    },
    /// A row had more or fewer values than the COPY names columns (a bug
    /// of the caller: the server would misread every later row).
    #[error("COPY into {table}: a row of {got} values for {expected} columns")]
    RowWidth {
        /// The table written.
        table: String,
        /// The columns named.
        expected: usize,
        /// The values given.
        got: usize,
    },
    /// The writer was used after a row of the wrong width aborted it.
    #[error("COPY into {table}: used after it was aborted")]
    Aborted {
        /// The table written.
        table: String,
    },
}

impl CopyError {
    /// Whether the server refused a row for a unique constraint (SQLSTATE
    /// 23505): for a caller that checked for existing keys first, another
    /// writer inserted one of them since.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            CopyError::Database { source, .. } => {
                source.as_database_error().and_then(|e| e.code()).is_some_and(|c| c == "23505")
            }
            CopyError::RowWidth { .. } | CopyError::Aborted { .. } => false,
        }
    }
}

impl From<CopyError> for StoreError {
    fn from(e: CopyError) -> StoreError {
        StoreError::Query(e.to_string())
    }
}

/// One COPY in progress on a connection (which may be inside a
/// transaction: the rows are then the transaction's).
///
/// Values go in column order with the typed methods ([`text`](Self::text),
/// [`int`](Self::int), ...), each row closed by [`end_row`](Self::end_row);
/// [`finish`](Self::finish) sends the rest and returns the server's row
/// count. A writer given up part-way must be [`abort`](Self::abort)ed
/// (a row of the wrong width aborts it itself): one merely dropped leaves
/// an unread error on the connection, which then fails its next use.
pub struct CopyWriter<'c> {
    /// `None` once aborted.
    copy: Option<PgCopyIn<&'c mut PgConnection>>,
    table: String,
    buf: Vec<u8>,
    columns: usize,
    /// Values written in the current row.
    in_row: usize,
}

impl<'c> CopyWriter<'c> {
    /// Start `COPY table (columns) FROM STDIN` on `conn`. `table` and
    /// `columns` are the caller's own identifiers, written into the
    /// statement as they are (never data).
    pub async fn start(conn: &'c mut PgConnection, table: &str, columns: &[&str]) -> Result<CopyWriter<'c>, CopyError> {
        let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let copy = conn
            .copy_in_raw(&statement)
            .await
            .map_err(|source| CopyError::Database { table: table.to_string(), source })?;
        Ok(CopyWriter {
            copy: Some(copy),
            table: table.to_string(),
            buf: Vec::with_capacity(CHUNK + CHUNK / 4),
            columns: columns.len(),
            in_row: 0,
        })
    }

    /// Before a value: the column separator, unless it is the row's first.
    fn next_value(&mut self) {
        if self.in_row > 0 {
            self.buf.push(b'\t');
        }
        self.in_row += 1;
    }

    /// A text value.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.next_value();
        escape_into(&mut self.buf, s);
        self
    }

    /// A text value, or NULL.
    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    /// An integer.
    pub fn int(&mut self, n: i64) -> &mut Self {
        self.next_value();
        self.buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self
    }

    /// An integer, or NULL.
    pub fn opt_int(&mut self, n: Option<i64>) -> &mut Self {
        match n {
            Some(n) => self.int(n),
            None => self.null(),
        }
    }

    /// A boolean.
    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.next_value();
        self.buf.push(if b { b't' } else { b'f' });
        self
    }

    /// NULL.
    pub fn null(&mut self) -> &mut Self {
        self.next_value();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    /// A value as the shared sqlx queries bind it, so that a row built
    /// once as parameters can go either way.
    pub fn param(&mut self, p: Param<'_>) -> &mut Self {
        match p {
            Param::Int(n) => self.int(n),
            Param::OptInt(n) => self.opt_int(n),
            Param::Text(t) => self.opt_text(t),
        }
    }

    fn database(&self, source: sqlx::Error) -> CopyError {
        CopyError::Database { table: self.table.clone(), source }
    }

    /// Close the current row; send the buffer once it holds a chunk. A
    /// row of the wrong width aborts the COPY.
    pub async fn end_row(&mut self) -> Result<(), CopyError> {
        if self.in_row != self.columns {
            return Err(self.refuse_row().await);
        }
        self.buf.push(b'\n');
        self.in_row = 0;
        if self.buf.len() >= CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    /// A whole row of parameters ([`param`](Self::param) each, then
    /// [`end_row`](Self::end_row)).
    pub async fn row(&mut self, values: &[Param<'_>]) -> Result<(), CopyError> {
        for v in values {
            self.param(*v);
        }
        self.end_row().await
    }

    /// Abort the COPY for a row of the wrong width (sending it would make
    /// the server misread the rest), and say so.
    async fn refuse_row(&mut self) -> CopyError {
        let (expected, got) = (self.columns, self.in_row);
        self.in_row = 0;
        if let Some(copy) = self.copy.take()
            && let Err(e) = copy.abort("a row of the wrong width").await
        {
            return self.database(e);
        }
        CopyError::RowWidth { table: self.table.clone(), expected, got }
    }

    /// The COPY, unless it was aborted.
    fn copy(&mut self) -> Result<&mut PgCopyIn<&'c mut PgConnection>, CopyError> {
        let table = &self.table;
        self.copy.as_mut().ok_or_else(|| CopyError::Aborted { table: table.clone() })
    }

    async fn flush(&mut self) -> Result<(), CopyError> {
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            let sent = self.copy()?.send(buf.as_slice()).await.map(|_| ());
            sent.map_err(|e| self.database(e))?;
            self.buf = buf;
            self.buf.clear();
        }
        Ok(())
    }

    /// Send what is buffered and end the COPY: the number of rows the
    /// server wrote, or the error of the first row it refused (the COPY
    /// then wrote nothing).
    pub async fn finish(mut self) -> Result<u64, CopyError> {
        if self.in_row != 0 {
            return Err(self.refuse_row().await);
        }
        self.flush().await?;
        let copy = self.copy.take().ok_or_else(|| CopyError::Aborted { table: self.table.clone() })?;
        copy.finish().await.map_err(|e| self.database(e))
    }

    /// Cancel the COPY: the server discards its rows, and the connection
    /// is ready for its next statement.
    pub async fn abort(mut self, why: &str) -> Result<(), CopyError> {
        match self.copy.take() {
            Some(copy) => copy.abort(why).await.map_err(|e| self.database(e)),
            None => Ok(()),
        }
    }
}

/// Append `s` to `out` in COPY text form. Most values need no escape at
/// all, so runs without a special byte are copied whole.
fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, Row};

    const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        escape_into(&mut out, s);
        String::from_utf8(out).expect("UTF-8 in, UTF-8 out")
    }

    #[test]
    fn escapes_exactly_the_four_special_bytes() {
        assert_eq!(escaped("plain text"), "plain text");
        assert_eq!(escaped(""), "");
        assert_eq!(escaped("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
        assert_eq!(escaped("\\N"), "\\\\N");
        assert_eq!(escaped("é\t東京"), "é\\t東京");
    }

    async fn connect() -> sqlx::PgConnection {
        sqlx::PgConnection::connect(PG_URL).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at {PG_URL}: {e}\nhint: is PostgreSQL running on 127.0.0.1:5432 (database `test`)?")
        })
    }

    /// Every kind of value, tricky texts among them, comes back exactly as
    /// written, over more than one chunk.
    #[tokio::test]
    async fn values_round_trip_through_the_server() {
        let mut conn = connect().await;
        let mut tx = conn.begin().await.expect("tx");
        sqlx::query("CREATE TEMP TABLE copy_rt (n BIGINT, t TEXT, o TEXT, i BIGINT, b BOOLEAN) ON COMMIT DROP")
            .execute(&mut *tx)
            .await
            .expect("table");
        let long = "x\\y\t".repeat(10_000);
        let texts: Vec<&str> = vec![
            "plain",
            "",
            "tab\there",
            "new\nline",
            "carriage\rreturn",
            "back\\slash",
            "\\N",
            "\\",
            "\\\\N\t\\n",
            "unicode: é 東京 🚀",
            "trailing backslash\\",
            "\u{7f}\u{1}control",
            &long,
        ];
        // Enough rows to cross several chunks.
        // n, t, o, i, b.
        type Row<'a> = (i64, &'a str, Option<&'a str>, Option<i64>, bool);
        let rows: Vec<Row> = (0..3000)
            .map(|n| {
                let t = texts[n % texts.len()];
                let o = if n % 3 == 0 { None } else { Some(texts[(n + 1) % texts.len()]) };
                let i = if n % 4 == 0 { None } else { Some(n as i64 * if n % 2 == 0 { -1 } else { 1 }) };
                (n as i64, t, o, i, n % 5 == 0)
            })
            .collect();
        let mut w = CopyWriter::start(&mut tx, "copy_rt", &["n", "t", "o", "i", "b"]).await.expect("start");
        for (n, t, o, i, b) in &rows {
            w.int(*n).text(t).opt_text(*o).opt_int(*i).bool(*b);
            w.end_row().await.expect("row");
        }
        assert_eq!(w.finish().await.expect("finish"), rows.len() as u64);
        let back = sqlx::query("SELECT n, t, o, i, b FROM copy_rt ORDER BY n").fetch_all(&mut *tx).await.expect("read");
        assert_eq!(back.len(), rows.len());
        for (r, (n, t, o, i, b)) in back.iter().zip(&rows) {
            assert_eq!(r.get::<i64, _>(0), *n);
            assert_eq!(r.get::<String, _>(1), *t, "row {n}");
            assert_eq!(r.get::<Option<String>, _>(2).as_deref(), *o, "row {n}: empty text and NULL stay apart");
            assert_eq!(r.get::<Option<i64>, _>(3), *i);
            assert_eq!(r.get::<bool, _>(4), *b);
        }
        tx.rollback().await.expect("rollback");
    }

    /// A row of the wrong width is refused before the server misreads it;
    /// a refused row fails the COPY and leaves the connection usable.
    #[tokio::test]
    async fn bad_rows_fail_the_copy_and_leave_the_connection_usable() {
        let mut conn = connect().await;
        sqlx::query("CREATE TEMP TABLE copy_bad (n BIGINT NOT NULL, t TEXT)").execute(&mut conn).await.expect("table");
        let mut w = CopyWriter::start(&mut conn, "copy_bad", &["n", "t"]).await.expect("start");
        w.int(1);
        let err = w.end_row().await.expect_err("one value for two columns");
        assert!(matches!(err, CopyError::RowWidth { expected: 2, got: 1, .. }), "{err}");
        assert!(matches!(w.finish().await, Err(CopyError::Aborted { .. })));
        let mut w = CopyWriter::start(&mut conn, "copy_bad", &["n", "t"]).await.expect("start");
        w.int(i64::MIN).text("first");
        w.end_row().await.expect("row");
        w.null().text("no n");
        w.end_row().await.expect("row");
        let err = w.finish().await.expect_err("NULL in a NOT NULL column");
        assert!(err.to_string().contains("copy_bad"), "{err}");
        assert!(!err.is_unique_violation());
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM copy_bad").fetch_one(&mut conn).await.expect("count");
        assert_eq!(n, 0, "a failed COPY writes nothing");
        let mut w = CopyWriter::start(&mut conn, "copy_bad", &["n", "t"]).await.expect("start");
        w.row(&[Param::Int(i64::MAX), Param::Text(Some(""))]).await.expect("row");
        w.row(&[Param::OptInt(Some(i64::MIN)), Param::Text(None)]).await.expect("row");
        assert_eq!(w.finish().await.expect("finish"), 2);
        let back: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT n, t FROM copy_bad ORDER BY n").fetch_all(&mut conn).await.expect("read");
        assert_eq!(back, vec![(i64::MIN, None), (i64::MAX, Some(String::new()))]);
        // An abort discards the rows sent and leaves the connection ready.
        let mut w = CopyWriter::start(&mut conn, "copy_bad", &["n", "t"]).await.expect("start");
        w.row(&[Param::Int(7), Param::Text(Some("discarded"))]).await.expect("row");
        w.abort("changed my mind").await.expect("abort");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM copy_bad").fetch_one(&mut conn).await.expect("count");
        assert_eq!(n, 2);
    }

    /// A key that exists already is reported as a unique violation, which
    /// callers retry on.
    #[tokio::test]
    async fn a_duplicate_key_is_a_unique_violation() {
        let mut conn = connect().await;
        sqlx::query("CREATE TEMP TABLE copy_key (k TEXT PRIMARY KEY)").execute(&mut conn).await.expect("table");
        sqlx::query("INSERT INTO copy_key VALUES ('taken')").execute(&mut conn).await.expect("insert");
        let mut w = CopyWriter::start(&mut conn, "copy_key", &["k"]).await.expect("start");
        for k in ["free", "taken"] {
            w.text(k);
            w.end_row().await.expect("row");
        }
        let err = w.finish().await.expect_err("taken is taken");
        assert!(err.is_unique_violation(), "{err}");
    }
}
