//! The outbound tables on SQLite.
//!
//! SQLite has one writer at a time, so every write transaction starts with
//! `BEGIN IMMEDIATE`: it takes the write lock before reading, which makes a
//! read-then-write batch (which prospects exist already? then write) atomic
//! and free of lock-upgrade deadlocks. Holding that lock also lets a batch
//! number its new prospects itself, so destinations are written without a
//! round trip per prospect. Prospect batches are written through SQLite's
//! C API on the connection sqlx lends (`raw`): a bound text costs sqlx two
//! copies and a hand-off to its connection thread, about half of a bulk
//! write. Elsewhere lists of keys travel as one JSON array bound to
//! `json_each`, which keeps statements few and their text fixed.

use super::SqliteStore;
use super::raw::{Param, RawConnection};
use crate::outbound::model::{
    Lead, MapEntry, NewLead, ProspectRow, Saved, Search, Skill, Source, SourceMap, StoredProspect, UserField,
};
use crate::store::rows as decode;
use crate::store::{OutboundStore, StoreError, json_list, json_pairs, parse_json_pairs};
use async_trait::async_trait;
use sqlx::{Row, Sqlite, Transaction};

/// One prospect, inserted or (when its ExternalID exists) replaced in place.
const PROSPECT_UPSERT: &str = "INSERT INTO prospects (id, unit_id, source_id, external_id, skill_no, first_name,
         last_name, fields, expires_at, time_zone, tz_source, created_at, updated_at)
     VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
     ON CONFLICT (id) DO UPDATE SET skill_no = excluded.skill_no, first_name = excluded.first_name,
         last_name = excluded.last_name, fields = excluded.fields, expires_at = excluded.expires_at,
         time_zone = excluded.time_zone, tz_source = excluded.tz_source, status = 'active',
         updated_at = excluded.updated_at";

const DESTINATION_INSERT: &str = "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind,
         time_zone, tz_source, companions)
     VALUES (?,?,?,?,?,?,?,?,?,?)";

impl SqliteStore {
    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Write a batch of prospects inside `tx` (which holds SQLite's write lock
/// from its first statement: `BEGIN IMMEDIATE`), on the raw connection (see
/// `raw`), one prepared single-row statement per step: is this ExternalID
/// stored already? (then its old destinations go), write the prospect,
/// write its destinations. Returns the saved ids and the number of rows
/// written (for the checkpointer).
async fn write_prospects(
    tx: &mut Transaction<'static, Sqlite>,
    unit: i64,
    source: i64,
    skill_no: i64,
    rows: &[ProspectRow],
    now: &str,
) -> Result<(Vec<Saved>, usize), StoreError> {
    use Param::{Int, Text};
    let raw = RawConnection::lock(tx).await?;
    // The write lock is ours until commit: new ids can be handed out here
    // without racing another writer.
    let mut last_id = raw.prepare("SELECT COALESCE(MAX(id), 0) FROM prospects")?.first_int(&[])?.unwrap_or(0);
    let mut find = raw.prepare("SELECT id FROM prospects WHERE source_id = ? AND external_id = ?")?;
    let mut clear = raw.prepare("DELETE FROM destinations WHERE prospect_id = ?")?;
    let mut prospect = raw.prepare(PROSPECT_UPSERT)?;
    let mut destination = raw.prepare(DESTINATION_INSERT)?;
    let mut saved = Vec::with_capacity(rows.len());
    let mut written = 0;
    for r in rows {
        let s = match find.first_int(&[Int(source), Text(Some(&r.external_id))])? {
            Some(id) => {
                clear.execute(&[Int(id)])?;
                Saved { id, created: false }
            }
            None => {
                last_id += 1;
                Saved { id: last_id, created: true }
            }
        };
        prospect.execute(&[
            Int(s.id),
            Int(unit),
            Int(source),
            Text(Some(&r.external_id)),
            Int(skill_no),
            Text(r.first_name.as_deref()),
            Text(r.last_name.as_deref()),
            Text(Some(&r.fields)),
            Text(r.expires_at.as_deref()),
            Text(Some(&r.time_zone)),
            Text(Some(&r.tz_source)),
            Text(Some(now)),
            Text(Some(now)),
        ])?;
        for (i, d) in r.destinations.iter().enumerate() {
            destination.execute(&[
                Int(s.id),
                Int(i as i64 + 1),
                Int(unit),
                Text(Some(&d.field)),
                Text(Some(&d.e164)),
                Text(Some(&d.raw)),
                Text(Some(d.kind)),
                Text(d.time_zone.as_deref()),
                Text(Some(&d.tz_source)),
                Text(d.companions.as_deref()),
            ])?;
        }
        written += 1 + r.destinations.len();
        saved.push(s);
    }
    Ok((saved, written))
}

#[async_trait]
impl OutboundStore for SqliteStore {
    async fn upsert_skill(&self, unit: i64, s: &Skill) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO outbound_skills (unit_id, skill_no, name, channel, max_destinations, threshold, allowed_zones,
                 windows, filter_fields, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (unit_id, skill_no) DO UPDATE SET name = excluded.name, channel = excluded.channel,
                 max_destinations = excluded.max_destinations, threshold = excluded.threshold,
                 allowed_zones = excluded.allowed_zones, windows = excluded.windows,
                 filter_fields = excluded.filter_fields",
        )
        .bind(unit)
        .bind(s.number)
        .bind(&s.name)
        .bind(&s.channel)
        .bind(s.max_destinations as i64)
        .bind(s.threshold)
        .bind(json_list(&s.allowed_zones))
        .bind(&s.windows)
        .bind(json_list(&s.filter_fields))
        .bind(crate::base::time::now_text())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn skill(&self, unit: i64, number: i64) -> Result<Option<Skill>, StoreError> {
        let row = sqlx::query("SELECT * FROM outbound_skills WHERE unit_id = ?1 AND skill_no = ?2")
            .bind(unit)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode::skill).transpose()
    }

    async fn skills(&self, unit: i64) -> Result<Vec<Skill>, StoreError> {
        let rows = sqlx::query("SELECT * FROM outbound_skills WHERE unit_id = ?1 ORDER BY skill_no")
            .bind(unit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode::skill).collect()
    }

    async fn create_source(&self, unit: i64, name: &str, now: &str) -> Result<Option<Source>, StoreError> {
        let row = sqlx::query(
            "INSERT INTO sources (unit_id, name, name_key, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (unit_id, name_key) DO NOTHING RETURNING id",
        )
        .bind(unit)
        .bind(name)
        .bind(name.to_lowercase())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(Source { id: r.try_get(0)?, name: name.to_string() }),
            None => None,
        })
    }

    async fn source(&self, unit: i64, name: &str) -> Result<Option<Source>, StoreError> {
        let row = sqlx::query("SELECT id, name FROM sources WHERE unit_id = ?1 AND name_key = ?2")
            .bind(unit)
            .bind(name.to_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(Source { id: r.try_get(0)?, name: r.try_get(1)? }),
            None => None,
        })
    }

    async fn create_user_field(&self, unit: i64, f: &UserField, now: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO user_fields (unit_id, name, name_key, data_type, default_value, value_required, associations,
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (unit_id, name_key) DO NOTHING",
        )
        .bind(unit)
        .bind(&f.name)
        .bind(f.name.to_lowercase())
        .bind(f.data_type.name())
        .bind(f.default_value.as_deref())
        .bind(f.value_required as i64)
        .bind(json_pairs(&f.associations))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn user_fields(&self, unit: i64) -> Result<Vec<UserField>, StoreError> {
        let rows = sqlx::query("SELECT * FROM user_fields WHERE unit_id = ?1 ORDER BY id")
            .bind(unit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode::user_field).collect()
    }

    async fn source_map(&self, unit: i64, source: i64) -> Result<Option<SourceMap>, StoreError> {
        let row = sqlx::query(
            "SELECT version, mapping FROM source_maps WHERE unit_id = ?1 AND source_id = ?2 ORDER BY version DESC LIMIT 1",
        )
        .bind(unit)
        .bind(source)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some(SourceMap {
                version: r.try_get(0)?,
                entries: parse_json_pairs(&r.try_get::<String, _>(1)?)
                    .into_iter()
                    .map(|(field, label)| MapEntry { field, label })
                    .collect(),
            }),
            None => None,
        })
    }

    async fn store_source_map(
        &self,
        unit: i64,
        source: i64,
        entries: &[MapEntry],
        now: &str,
    ) -> Result<i64, StoreError> {
        let pairs: Vec<(String, String)> = entries.iter().map(|e| (e.field.clone(), e.label.clone())).collect();
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "INSERT INTO source_maps (unit_id, source_id, version, mapping, created_at)
             SELECT ?1, ?2, COALESCE(MAX(version), 0) + 1, ?3, ?4 FROM source_maps WHERE source_id = ?2
             RETURNING version",
        )
        .bind(unit)
        .bind(source)
        .bind(json_pairs(&pairs))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.try_get(0)?)
    }

    async fn save_prospects(
        &self,
        unit: i64,
        source: i64,
        skill_no: i64,
        rows: &[ProspectRow],
        now: &str,
    ) -> Result<Vec<Saved>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let (saved, written) = write_prospects(&mut tx, unit, source, skill_no, rows, now).await?;
        tx.commit().await?;
        self.wrote(written);
        Ok(saved)
    }

    async fn find_prospects(&self, unit: i64, source: i64, search: &Search) -> Result<Vec<StoredProspect>, StoreError> {
        let mut sql = String::from(
            "SELECT id, external_id, skill_no, fields, expires_at, time_zone, tz_source, status FROM prospects p
             WHERE p.unit_id = ?1 AND p.source_id = ?2",
        );
        if search.external_id.is_some() {
            sql.push_str(" AND p.external_id = ?3");
        }
        if search.phone_e164.is_some() {
            sql.push_str(" AND EXISTS (SELECT 1 FROM destinations d WHERE d.prospect_id = p.id AND d.e164 = ?4)");
        }
        if search.name.is_some() {
            sql.push_str(" AND lower(p.first_name) = lower(?5) AND lower(p.last_name) = lower(?6)");
        }
        sql.push_str(" ORDER BY p.id");
        let (first, last) = search.name.clone().unzip();
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(unit)
            .bind(source)
            .bind(search.external_id.as_deref())
            .bind(search.phone_e164.as_deref())
            .bind(first)
            .bind(last)
            .fetch_all(&self.pool)
            .await?;
        let mut out = rows.iter().map(decode::prospect).collect::<Result<Vec<_>, _>>()?;
        if out.is_empty() {
            return Ok(out);
        }
        let ids: Vec<i64> = out.iter().map(|p| p.id).collect();
        let dests = sqlx::query(
            "SELECT * FROM destinations WHERE prospect_id IN (SELECT value FROM json_each(?1))
             ORDER BY prospect_id, ordinal",
        )
        .bind(serde_json::to_string(&ids).map_err(|e| StoreError::Query(e.to_string()))?)
        .fetch_all(&self.pool)
        .await?;
        decode::attach_destinations(&mut out, &dests)?;
        Ok(out)
    }

    async fn remove_prospects(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut out = Vec::with_capacity(external_ids.len());
        for id in external_ids {
            let done = sqlx::query("DELETE FROM prospects WHERE unit_id = ?1 AND source_id = ?2 AND external_id = ?3")
                .bind(unit)
                .bind(source)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            out.push(done.rows_affected() > 0);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn count_dialable(&self, unit: i64, skill_no: i64, now: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM prospects WHERE unit_id = ?1 AND skill_no = ?2 AND status = 'active'
             AND (expires_at IS NULL OR expires_at > ?3)",
        )
        .bind(unit)
        .bind(skill_no)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    async fn import_leads(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut n = 0;
        for l in leads {
            n += sqlx::query(
                "INSERT INTO lead_records (unit_id, lead_source, record_key, fields) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (unit_id, lead_source, record_key) DO UPDATE SET fields = excluded.fields,
                     status = 'waiting', checked_out_by = NULL, lease_until = NULL, outcome = NULL,
                     checked_in_at = NULL",
            )
            .bind(unit)
            .bind(lead_source)
            .bind(&l.key)
            .bind(&l.fields)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        self.wrote(n as usize);
        Ok(n)
    }

    async fn check_out_leads(
        &self,
        unit: i64,
        lead_source: &str,
        max: i64,
        run_id: &str,
        now: &str,
        lease_until: &str,
    ) -> Result<Vec<Lead>, StoreError> {
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(
            "UPDATE lead_records SET status = 'checked_out', checked_out_by = ?4, lease_until = ?6
             WHERE id IN (SELECT id FROM lead_records WHERE unit_id = ?1 AND lead_source = ?2
                 AND (status = 'waiting' OR (status = 'checked_out' AND lease_until <= ?5))
                 ORDER BY id LIMIT ?3)
             RETURNING id, record_key, fields",
        )
        .bind(unit)
        .bind(lead_source)
        .bind(max)
        .bind(run_id)
        .bind(now)
        .bind(lease_until)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut leads = rows.iter().map(decode::lead).collect::<Result<Vec<_>, StoreError>>()?;
        leads.sort_by_key(|l| l.id);
        Ok(leads)
    }

    async fn check_in_leads(
        &self,
        unit: i64,
        run_id: &str,
        items: &[(i64, String)],
        now: &str,
    ) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut out = Vec::with_capacity(items.len());
        for (id, outcome) in items {
            let done = sqlx::query(
                "UPDATE lead_records SET status = 'done', outcome = ?4, checked_in_at = ?5, lease_until = NULL
                 WHERE id = ?1 AND unit_id = ?2 AND status = 'checked_out' AND checked_out_by = ?3",
            )
            .bind(id)
            .bind(unit)
            .bind(run_id)
            .bind(outcome)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            out.push(done.rows_affected() == 1);
        }
        tx.commit().await?;
        Ok(out)
    }
}
