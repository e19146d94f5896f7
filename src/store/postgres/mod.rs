//! The PostgreSQL store (several runtime processes sharing units).

mod outbound;

use super::{BusinessUnit, RunRecord, Store, StoreError, redact, unit_name};
use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

/// PostgreSQL through sqlx.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
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
        Ok(PgStore { pool })
    }

    /// The connection pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    async fn ensure_business_unit(&self, name: &str) -> Result<BusinessUnit, StoreError> {
        let name = unit_name(name)?;
        // RETURNING gives a row only when this statement inserted one.
        let inserted = sqlx::query(
            "INSERT INTO business_units (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(&name)
        .bind(chrono::Utc::now().to_rfc3339())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = inserted {
            return Ok(BusinessUnit { id: row.try_get::<i64, _>(0)?, name, created: true });
        }
        let row =
            sqlx::query("SELECT id FROM business_units WHERE name = $1").bind(&name).fetch_one(&self.pool).await?;
        Ok(BusinessUnit { id: row.try_get::<i64, _>(0)?, name, created: false })
    }

    async fn find_business_unit(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let name = unit_name(name)?;
        let row =
            sqlx::query("SELECT id FROM business_units WHERE name = $1").bind(&name).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?)
    }

    async fn record_run(&self, unit: i64, r: &RunRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO runs (unit_id, run_id, script, script_hash, status, steps, error, return_value, finished_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(unit)
        .bind(&r.run_id)
        .bind(&r.script)
        .bind(&r.script_hash)
        .bind(&r.status)
        .bind(r.steps)
        .bind(&r.error)
        .bind(&r.return_value)
        .bind(&r.finished_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn recent_runs(&self, unit: i64, limit: i64) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, script, script_hash, status, steps, error, return_value, finished_at
             FROM runs WHERE unit_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(unit)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RunRecord {
                    run_id: r.try_get(0)?,
                    script: r.try_get(1)?,
                    script_hash: r.try_get(2)?,
                    status: r.try_get(3)?,
                    steps: r.try_get(4)?,
                    error: r.try_get(5)?,
                    return_value: r.try_get(6)?,
                    finished_at: r.try_get(7)?,
                })
            })
            .collect()
    }
}
