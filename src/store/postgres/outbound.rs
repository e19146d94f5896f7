//! The outbound tables on PostgreSQL.
//!
//! Several runtime processes may write the same source at once. Prospects
//! are upserted with `INSERT ... ON CONFLICT (source_id, external_id)`, so a
//! key exists at most once whatever the interleaving; rows go in sorted by
//! external id, so two batches that share keys lock them in the same order
//! and cannot deadlock. Whole batches travel as arrays through `UNNEST`: one
//! statement per table per batch. Lead check-out uses `FOR UPDATE SKIP
//! LOCKED`, so concurrent runs take disjoint records without waiting.

use super::PgStore;
use crate::outbound::model::{
    Lead, MapEntry, NewLead, ProspectRow, Saved, Search, Skill, Source, SourceMap, StoredProspect, UserField,
};
use crate::store::rows as decode;
use crate::store::{OutboundStore, StoreError, json_list, json_pairs, parse_json_pairs};
use async_trait::async_trait;
use sqlx::Row;
use std::collections::HashMap;

#[async_trait]
impl OutboundStore for PgStore {
    async fn upsert_skill(&self, unit: i64, s: &Skill) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO outbound_skills (unit_id, skill_no, name, channel, max_destinations, threshold, allowed_zones,
                 windows, filter_fields, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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
        let row = sqlx::query("SELECT * FROM outbound_skills WHERE unit_id = $1 AND skill_no = $2")
            .bind(unit)
            .bind(number)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode::skill).transpose()
    }

    async fn skills(&self, unit: i64) -> Result<Vec<Skill>, StoreError> {
        let rows = sqlx::query("SELECT * FROM outbound_skills WHERE unit_id = $1 ORDER BY skill_no")
            .bind(unit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode::skill).collect()
    }

    async fn create_source(&self, unit: i64, name: &str, now: &str) -> Result<Option<Source>, StoreError> {
        let row = sqlx::query(
            "INSERT INTO sources (unit_id, name, name_key, created_at) VALUES ($1, $2, $3, $4)
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
        let row = sqlx::query("SELECT id, name FROM sources WHERE unit_id = $1 AND name_key = $2")
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
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (unit_id, name_key) DO NOTHING",
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
        let rows = sqlx::query("SELECT * FROM user_fields WHERE unit_id = $1 ORDER BY id")
            .bind(unit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode::user_field).collect()
    }

    async fn source_map(&self, unit: i64, source: i64) -> Result<Option<SourceMap>, StoreError> {
        let row = sqlx::query(
            "SELECT version, mapping FROM source_maps WHERE unit_id = $1 AND source_id = $2 ORDER BY version DESC LIMIT 1",
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
        let mut tx = self.pool.begin().await?;
        // Serialize map writers of one source: the version number is read
        // and written in the same transaction.
        sqlx::query("SELECT id FROM sources WHERE id = $1 FOR UPDATE").bind(source).execute(&mut *tx).await?;
        let row = sqlx::query(
            "INSERT INTO source_maps (unit_id, source_id, version, mapping, created_at)
             SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4 FROM source_maps WHERE source_id = $2
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
        // A fixed lock order (by external id) across concurrent batches.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|a, b| rows[*a].external_id.cmp(&rows[*b].external_id));
        let col = |f: &dyn Fn(&ProspectRow) -> Option<&str>| -> Vec<Option<&str>> {
            order.iter().map(|&i| f(&rows[i])).collect()
        };
        let ext = col(&|r| Some(r.external_id.as_str()));
        let first = col(&|r| r.first_name.as_deref());
        let last = col(&|r| r.last_name.as_deref());
        let fields = col(&|r| Some(r.fields.as_str()));
        let expires = col(&|r| r.expires_at.as_deref());
        let tz = col(&|r| Some(r.time_zone.as_str()));
        let tz_source = col(&|r| Some(r.tz_source.as_str()));

        let mut tx = self.pool.begin().await?;
        let returned = sqlx::query(
            "INSERT INTO prospects (unit_id, source_id, external_id, skill_no, first_name, last_name, fields,
                 expires_at, time_zone, tz_source, created_at, updated_at)
             SELECT $1, $2, u.ext, $3, u.first, u.last, u.fields, u.expires, u.tz, u.tz_source, $4, $4
             FROM UNNEST($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
                 WITH ORDINALITY AS u(ext, first, last, fields, expires, tz, tz_source, n)
             ORDER BY u.n
             ON CONFLICT (source_id, external_id) DO UPDATE SET skill_no = excluded.skill_no,
                 first_name = excluded.first_name, last_name = excluded.last_name, fields = excluded.fields,
                 expires_at = excluded.expires_at, time_zone = excluded.time_zone, tz_source = excluded.tz_source,
                 status = 'active', updated_at = excluded.updated_at
             RETURNING id, external_id, (xmax = 0) AS created",
        )
        .bind(unit)
        .bind(source)
        .bind(skill_no)
        .bind(now)
        .bind(&ext)
        .bind(&first)
        .bind(&last)
        .bind(&fields)
        .bind(&expires)
        .bind(&tz)
        .bind(&tz_source)
        .fetch_all(&mut *tx)
        .await?;
        let mut by_key: HashMap<String, Saved> = HashMap::with_capacity(returned.len());
        for r in &returned {
            by_key.insert(r.try_get(1)?, Saved { id: r.try_get(0)?, created: r.try_get(2)? });
        }
        let mut saved = Vec::with_capacity(rows.len());
        for r in rows {
            saved.push(
                *by_key
                    .get(&r.external_id)
                    .ok_or_else(|| StoreError::Query(format!("prospect '{}' was not written", r.external_id)))?,
            );
        }
        let replaced: Vec<i64> = saved.iter().filter(|s| !s.created).map(|s| s.id).collect();
        if !replaced.is_empty() {
            sqlx::query("DELETE FROM destinations WHERE prospect_id = ANY($1)")
                .bind(&replaced)
                .execute(&mut *tx)
                .await?;
        }
        let n: usize = rows.iter().map(|r| r.destinations.len()).sum();
        let mut pid = Vec::with_capacity(n);
        let mut ordinal = Vec::with_capacity(n);
        let mut field = Vec::with_capacity(n);
        let mut e164 = Vec::with_capacity(n);
        let mut raw = Vec::with_capacity(n);
        let mut kind = Vec::with_capacity(n);
        let mut dtz = Vec::with_capacity(n);
        let mut dsrc = Vec::with_capacity(n);
        let mut companions = Vec::with_capacity(n);
        for (r, s) in rows.iter().zip(&saved) {
            for (i, d) in r.destinations.iter().enumerate() {
                pid.push(s.id);
                ordinal.push(i as i64 + 1);
                field.push(d.field.as_str());
                e164.push(d.e164.as_str());
                raw.push(d.raw.as_str());
                kind.push(d.kind);
                dtz.push(d.time_zone.as_deref());
                dsrc.push(d.tz_source.as_str());
                companions.push(d.companions.as_deref());
            }
        }
        if n > 0 {
            sqlx::query(
                "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind, time_zone, tz_source,
                     companions)
                 SELECT u.pid, u.ordinal, $1, u.field, u.e164, u.raw, u.kind, u.tz, u.src, u.comp
                 FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[]) AS u(pid, ordinal, field, e164, raw, kind, tz, src, comp)",
            )
            .bind(unit)
            .bind(&pid)
            .bind(&ordinal)
            .bind(&field)
            .bind(&e164)
            .bind(&raw)
            .bind(&kind)
            .bind(&dtz)
            .bind(&dsrc)
            .bind(&companions)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn find_prospects(&self, unit: i64, source: i64, search: &Search) -> Result<Vec<StoredProspect>, StoreError> {
        let (first, last) = search.name.clone().unzip();
        let rows = sqlx::query(
            "SELECT id, external_id, skill_no, fields, expires_at, time_zone, tz_source, status FROM prospects p
             WHERE p.unit_id = $1 AND p.source_id = $2
               AND ($3::text IS NULL OR p.external_id = $3)
               AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM destinations d WHERE d.prospect_id = p.id AND d.e164 = $4))
               AND ($5::text IS NULL OR (lower(p.first_name) = lower($5) AND lower(p.last_name) = lower($6)))
             ORDER BY p.id",
        )
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
        let dests = sqlx::query("SELECT * FROM destinations WHERE prospect_id = ANY($1) ORDER BY prospect_id, ordinal")
            .bind(&ids)
            .fetch_all(&self.pool)
            .await?;
        decode::attach_destinations(&mut out, &dests)?;
        Ok(out)
    }

    async fn remove_prospects(&self, unit: i64, source: i64, external_ids: &[String]) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query(
            "DELETE FROM prospects WHERE unit_id = $1 AND source_id = $2 AND external_id = ANY($3) RETURNING external_id",
        )
        .bind(unit)
        .bind(source)
        .bind(external_ids)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut gone: std::collections::HashSet<String> = std::collections::HashSet::new();
        for r in &deleted {
            gone.insert(r.try_get(0)?);
        }
        // A key listed twice is removed once: the first mention reports it.
        Ok(external_ids.iter().map(|k| gone.remove(k)).collect())
    }

    async fn count_dialable(&self, unit: i64, skill_no: i64, now: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM prospects WHERE unit_id = $1 AND skill_no = $2 AND status = 'active'
             AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(unit)
        .bind(skill_no)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    async fn import_leads(&self, unit: i64, lead_source: &str, leads: &[NewLead]) -> Result<u64, StoreError> {
        let keys: Vec<&str> = leads.iter().map(|l| l.key.as_str()).collect();
        let fields: Vec<&str> = leads.iter().map(|l| l.fields.as_str()).collect();
        let done = sqlx::query(
            "INSERT INTO lead_records (unit_id, lead_source, record_key, fields)
             SELECT $1, $2, u.k, u.f FROM UNNEST($3::text[], $4::text[]) AS u(k, f)
             ON CONFLICT (unit_id, lead_source, record_key) DO UPDATE SET fields = excluded.fields,
                 status = 'waiting', checked_out_by = NULL, lease_until = NULL, outcome = NULL, checked_in_at = NULL",
        )
        .bind(unit)
        .bind(lead_source)
        .bind(&keys)
        .bind(&fields)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
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
        let rows = sqlx::query(
            "UPDATE lead_records SET status = 'checked_out', checked_out_by = $4, lease_until = $6
             WHERE id IN (SELECT id FROM lead_records WHERE unit_id = $1 AND lead_source = $2
                 AND (status = 'waiting' OR (status = 'checked_out' AND lease_until <= $5))
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING id, record_key, fields",
        )
        .bind(unit)
        .bind(lead_source)
        .bind(max)
        .bind(run_id)
        .bind(now)
        .bind(lease_until)
        .fetch_all(&self.pool)
        .await?;
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
        let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
        let outcomes: Vec<&str> = items.iter().map(|(_, o)| o.as_str()).collect();
        let rows = sqlx::query(
            "UPDATE lead_records l SET status = 'done', outcome = u.outcome, checked_in_at = $3, lease_until = NULL
             FROM UNNEST($4::bigint[], $5::text[]) AS u(id, outcome)
             WHERE l.id = u.id AND l.unit_id = $1 AND l.status = 'checked_out' AND l.checked_out_by = $2
             RETURNING l.id",
        )
        .bind(unit)
        .bind(run_id)
        .bind(now)
        .bind(&ids)
        .bind(&outcomes)
        .fetch_all(&self.pool)
        .await?;
        let mut done: std::collections::HashSet<i64> = std::collections::HashSet::new();
        for r in &rows {
            done.insert(r.try_get(0)?);
        }
        Ok(ids.iter().map(|id| done.remove(id)).collect())
    }
}
