//! Business units and the run log, on either sqlx backend: every query
//! here is one text that SQLite and PostgreSQL both run (see `sql` for the
//! placeholders), so [`Store`] is implemented once for every [`SqlStore`].

use super::sql::{Cols, Param::Int, Param::Text, SqlStore, query, text};
use super::users::{Role, UnitUser};
use super::{BusinessUnit, RunRecord, Store, StoreError, json_list, parse_json_list, unit_name};
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
     FROM runs WHERE unit_id = $1 ORDER BY id DESC LIMIT CAST($2 AS BIGINT)";

const USERS: &str = "SELECT name, roles, created_at, modified_at FROM unit_users WHERE unit_id = $1 ORDER BY name, id";

const USER: &str = "SELECT name, roles, created_at, modified_at FROM unit_users WHERE unit_id = $1 AND name = $2";

const USER_ADD: &str = "INSERT INTO unit_users (unit_id, name, roles, created_at, modified_at)
     VALUES ($1, $2, $3, $4, $4) ON CONFLICT (unit_id, name) DO NOTHING RETURNING id";

const USER_SET: &str =
    "UPDATE unit_users SET roles = $3, modified_at = $4 WHERE unit_id = $1 AND name = $2 RETURNING id";

const USER_REMOVE: &str = "DELETE FROM unit_users WHERE unit_id = $1 AND name = $2 RETURNING id";

const SETTING: &str = "SELECT value FROM unit_settings WHERE unit_id = $1 AND name = $2";

const SETTING_SET: &str = "INSERT INTO unit_settings (unit_id, name, value) VALUES ($1, $2, $3)
     ON CONFLICT (unit_id, name) DO UPDATE SET value = excluded.value";

/// A `unit_users` row (a role name this build does not know is dropped).
fn unit_user(r: &impl Cols) -> Result<UnitUser, StoreError> {
    Ok(UnitUser {
        name: r.text("name")?,
        roles: parse_json_list(&r.text("roles")?).iter().filter_map(|n| Role::parse(n).ok()).collect(),
        created_at: r.text("created_at")?,
        modified_at: r.text("modified_at")?,
    })
}

fn role_list(roles: &[Role]) -> String {
    let mut names: Vec<String> = Vec::new();
    for r in roles {
        if !names.iter().any(|n| n == r.name()) {
            names.push(r.name().to_string());
        }
    }
    json_list(&names)
}

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

    async fn users(&self, unit: i64) -> Result<Vec<UnitUser>, StoreError> {
        let rows = query(USERS, &[Int(unit)]).fetch_all(self.sql_pool()).await?;
        rows.iter().map(unit_user).collect()
    }

    async fn user(&self, unit: i64, name: &str) -> Result<Option<UnitUser>, StoreError> {
        let row = query(USER, &[Int(unit), text(name)]).fetch_optional(self.sql_pool()).await?;
        row.as_ref().map(unit_user).transpose()
    }

    async fn add_user(&self, unit: i64, name: &str, roles: &[Role]) -> Result<bool, StoreError> {
        let now = chrono::Utc::now().to_rfc3339();
        let roles = role_list(roles);
        let params = [Int(unit), text(name), text(&roles), text(&now)];
        Ok(query(USER_ADD, &params).fetch_optional(self.sql_pool()).await?.is_some())
    }

    async fn set_user_roles(&self, unit: i64, name: &str, roles: &[Role]) -> Result<bool, StoreError> {
        let now = chrono::Utc::now().to_rfc3339();
        let roles = role_list(roles);
        let params = [Int(unit), text(name), text(&roles), text(&now)];
        Ok(query(USER_SET, &params).fetch_optional(self.sql_pool()).await?.is_some())
    }

    async fn remove_user(&self, unit: i64, name: &str) -> Result<bool, StoreError> {
        Ok(query(USER_REMOVE, &[Int(unit), text(name)]).fetch_optional(self.sql_pool()).await?.is_some())
    }

    async fn unit_setting(&self, unit: i64, name: &str) -> Result<Option<String>, StoreError> {
        let row = query(SETTING, &[Int(unit), text(name)]).fetch_optional(self.sql_pool()).await?;
        row.map(|r| r.text("value")).transpose()
    }

    async fn set_unit_setting(&self, unit: i64, name: &str, value: &str) -> Result<(), StoreError> {
        query(SETTING_SET, &[Int(unit), text(name), text(value)]).execute(self.sql_pool()).await?;
        Ok(())
    }
}
