//! What the integration tests share: running the real binary.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `prospero ARGS` from the repository root: (exit code, stdout, stderr).
pub fn prospero(args: &[&str]) -> (i32, String, String) {
    prospero_in(&root(), args)
}

/// Run `prospero ARGS` in `dir`.
pub fn prospero_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_prospero"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the prospero binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A logical dump of business unit `unit` in the store at `url` (an SQLite
/// file or `postgres://...`): every row of every table, ids and timestamps
/// included, one line `table|col=value|...` per row, tables by name and rows
/// in the order of their lines. Tables with a `unit_id` give the unit's rows, `business_units`
/// the unit's own row, any other table (the migration history) all its rows.
/// Tables listed in `skip` are left out.
pub async fn dump_unit(url: &str, unit: &str, skip: &[&str]) -> Vec<String> {
    use sqlx::Row;
    let pg = url.starts_with("postgres");
    let mut out = Vec::new();
    if pg {
        let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL at 127.0.0.1:5432, database `test`");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .expect("tables");
        for t in tables.iter().filter(|t| !skip.contains(&t.as_str())) {
            let cols: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(t)
            .fetch_all(&pool)
            .await
            .expect("columns");
            let shown: Vec<String> =
                cols.iter().map(|c| format!("'{c}=' || coalesce(\"{c}\"::text, 'NULL')")).collect();
            let sql = format!(
                "SELECT concat_ws('|', '{t}', {}) AS line FROM \"{t}\" {} ORDER BY 1",
                shown.join(", "),
                unit_filter(t, &cols, true)
            );
            // Table and column names come from the database's own catalog.
            for row in sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(unit)
                .fetch_all(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
            {
                out.push(row.get::<String, _>("line"));
            }
        }
        pool.close().await;
    } else {
        let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(url).read_only(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.expect("SQLite file");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .expect("tables");
        for t in tables.iter().filter(|t| !skip.contains(&t.as_str())) {
            let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                .bind(t)
                .fetch_all(&pool)
                .await
                .expect("columns");
            let shown: Vec<String> = cols.iter().map(|c| format!("'{c}=' || quote(\"{c}\")")).collect();
            let sql = format!(
                "SELECT '{t}' || '|' || {} AS line FROM \"{t}\" {} ORDER BY {}",
                shown.join(" || '|' || "),
                unit_filter(t, &cols, false),
                cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")
            );
            // Table and column names come from the database's own catalog.
            for row in sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(unit)
                .fetch_all(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
            {
                out.push(row.get::<String, _>("line"));
            }
        }
        pool.close().await;
    }
    out
}

fn unit_filter(table: &str, cols: &[String], pg: bool) -> String {
    let p = if pg { "$1::text" } else { "?1" };
    if table == "business_units" {
        format!("WHERE name = {p}")
    } else if cols.iter().any(|c| c == "unit_id") {
        format!("WHERE unit_id = (SELECT id FROM business_units WHERE name = {p})")
    } else {
        // Bind the parameter all the same.
        format!("WHERE {p} IS NOT NULL")
    }
}
