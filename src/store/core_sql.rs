//! Business units and the run log, on either sqlx backend: every query
//! here is one text that SQLite and PostgreSQL both run (see `sql` for the
//! placeholders), so [`Store`] is implemented once for every [`SqlStore`].

use super::sql::{Cols, Param::Int, Param::Text, SqlStore, query, text};
use super::{BusinessUnit, RunRecord, Store, StoreError, unit_name};
use async_trait::async_trait;
use sqlx::{Database, Executor};

/// Create a unit unless one of that name exists: RETURNING gives a row
/// only when this statement inserted one.
const UNIT_CREATE: &str =
    "INSERT INTO business_units (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id";

const UNIT_FIND: &str = "SELECT id FROM business_units WHERE name = $1";

const RUN_RECORD: &str =
    "INSERT INTO runs (unit_id, run_id, script, script_hash, status, steps, error, return_value, finished_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

const RUNS_RECENT: &str = "SELECT run_id, script, script_hash, status, steps, error, return_value, finished_at
     FROM runs WHERE unit_id = $1 ORDER BY id DESC LIMIT $2";

/// A `runs` row.
fn run_record(r: &impl Cols) -> Result<RunRecord, StoreError> {
    Ok(RunRecord {
        run_id: r.text("run_id")?,
        script: r.text("script")?,
        script_hash: r.text("script_hash")?,
        status: r.text("status")?,
        steps: r.int("steps")?,
        error: r.opt_text("error")?,
        return_value: r.opt_text("return_value")?,
        finished_at: r.text("finished_at")?,
    })
}

#[async_trait]
impl<S> Store for S
where
    S: SqlStore,
    for<'c> &'c mut <S::Db as Database>::Connection: Executor<'c, Database = S::Db>,
{
    fn backend(&self) -> &'static str {
        S::NAME
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    async fn close(&self) {
        SqlStore::close(self).await
    }

    async fn ensure_business_unit(&self, name: &str) -> Result<BusinessUnit, StoreError> {
        let name = unit_name(name)?;
        let now = chrono::Utc::now().to_rfc3339();
        let inserted = query(UNIT_CREATE, &[text(&name), text(&now)]).fetch_optional(self.sql_pool()).await?;
        if let Some(row) = inserted {
            return Ok(BusinessUnit { id: row.int("id")?, name, created: true });
        }
        let row = query(UNIT_FIND, &[text(&name)]).fetch_one(self.sql_pool()).await?;
        Ok(BusinessUnit { id: row.int("id")?, name, created: false })
    }

    async fn find_business_unit(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let name = unit_name(name)?;
        let row = query(UNIT_FIND, &[text(&name)]).fetch_optional(self.sql_pool()).await?;
        row.map(|r| r.int("id")).transpose()
    }

    async fn record_run(&self, unit: i64, r: &RunRecord) -> Result<(), StoreError> {
        let params = [
            Int(unit),
            text(&r.run_id),
            text(&r.script),
            text(&r.script_hash),
            text(&r.status),
            Int(r.steps),
            Text(r.error.as_deref()),
            Text(r.return_value.as_deref()),
            text(&r.finished_at),
        ];
        query(RUN_RECORD, &params).execute(self.sql_pool()).await?;
        Ok(())
    }

    async fn recent_runs(&self, unit: i64, limit: i64) -> Result<Vec<RunRecord>, StoreError> {
        let rows = query(RUNS_RECENT, &[Int(unit), Int(limit)]).fetch_all(self.sql_pool()).await?;
        rows.iter().map(run_record).collect()
    }
}
