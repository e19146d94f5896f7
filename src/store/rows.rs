//! Reading outbound rows into the model, once for both backends.
//!
//! The two backends share their table layouts (`migrations/*/0002_outbound.sql`)
//! and differ only in SQL dialect, so the mapping from a row to a model
//! value lives here, over any row that reads text and integers by column
//! name ([`Cols`]).

use super::sql::Cols;
use super::{StoreError, kind_name, parse_json_list, parse_json_pairs};
use crate::outbound::fields::DataType;
use crate::outbound::model::{DestinationRow, Lead, MapEntry, Skill, SourceMap, StoredProspect, UserField};

/// An `outbound_skills` row.
pub(crate) fn skill(r: &impl Cols) -> Result<Skill, StoreError> {
    Ok(Skill {
        number: r.int("skill_no")?,
        name: r.text("name")?,
        channel: r.text("channel")?,
        max_destinations: r.int("max_destinations")?.clamp(0, u32::MAX as i64) as u32,
        threshold: r.int("threshold")?,
        allowed_zones: parse_json_list(&r.text("allowed_zones")?),
        windows: r.text("windows")?,
        filter_fields: parse_json_list(&r.text("filter_fields")?),
    })
}

/// A `user_fields` row.
pub(crate) fn user_field(r: &impl Cols) -> Result<UserField, StoreError> {
    let dt = r.text("data_type")?;
    Ok(UserField {
        name: r.text("name")?,
        data_type: DataType::parse(&dt).ok_or_else(|| StoreError::Query(format!("unknown data type '{dt}'")))?,
        default_value: r.opt_text("default_value")?,
        value_required: r.int("value_required")? != 0,
        associations: parse_json_pairs(&r.text("associations")?),
    })
}

/// A `source_maps` row (`version, mapping`).
pub(crate) fn source_map(r: &impl Cols) -> Result<SourceMap, StoreError> {
    let entries = parse_json_pairs(&r.text("mapping")?).into_iter().map(|(field, label)| MapEntry { field, label });
    Ok(SourceMap { version: r.int("version")?, entries: entries.collect() })
}

/// A `prospects` row (`id, external_id, skill_no, fields, expires_at,
/// time_zone, tz_source, status`), without its destinations.
pub(crate) fn prospect(r: &impl Cols) -> Result<StoredProspect, StoreError> {
    Ok(StoredProspect {
        id: r.int("id")?,
        external_id: r.text("external_id")?,
        skill_no: r.int("skill_no")?,
        fields: r.text("fields")?,
        expires_at: r.opt_text("expires_at")?,
        time_zone: r.text("time_zone")?,
        tz_source: r.text("tz_source")?,
        status: r.text("status")?,
        destinations: Vec::new(),
    })
}

/// A `destinations` row with the id of its prospect.
pub(crate) fn destination(r: &impl Cols) -> Result<(i64, DestinationRow), StoreError> {
    Ok((
        r.int("prospect_id")?,
        DestinationRow {
            field: r.text("field")?,
            e164: r.text("e164")?,
            raw: r.text("raw")?,
            kind: kind_name(&r.text("kind")?),
            time_zone: r.opt_text("time_zone")?,
            tz_source: r.text("tz_source")?,
            companions: r.opt_text("companions")?,
        },
    ))
}

/// A `lead_records` row (`id, record_key, fields`).
pub(crate) fn lead(r: &impl Cols) -> Result<Lead, StoreError> {
    Ok(Lead { id: r.int("id")?, key: r.text("record_key")?, fields: r.text("fields")? })
}

/// Destinations into their prospects (`prospects` sorted by nothing in
/// particular; `rows` in dialing order within each prospect).
pub(crate) fn attach_destinations<R: Cols>(prospects: &mut [StoredProspect], rows: &[R]) -> Result<(), StoreError> {
    let index: std::collections::HashMap<i64, usize> = prospects.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    for r in rows {
        let (pid, d) = destination(r)?;
        if let Some(&i) = index.get(&pid) {
            prospects[i].destinations.push(d);
        }
    }
    Ok(())
}
