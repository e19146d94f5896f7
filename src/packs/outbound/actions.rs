//! The outbound actions: CREATESOURCE, CREATEUSERFIELD, GETUSERFIELDS,
//! CREATESOURCEMAP, GETSOURCEMAP, CREATEPROSPECTS (v2), GETPROSPECT and
//! REMOVEPROSPECTS.
//!
//! Each reads and writes only the run's business unit, through
//! [`crate::store::OutboundStore`]; the domain rules live in
//! [`crate::outbound`]. Domain outcomes are branches; a store failure is
//! an [`ActionError`] (OnError with `_ERR`).

use super::OutboundContext;
use crate::engine::action::{Action, ActionError, Context, Exec, Inputs, Outcome};
use crate::outbound::fields::{
    COMPANION_ROLES, DEFAULT_VALUE_MAX_LEN, DataType, FIELD_NAME_MAX_LEN, companion_role, system_field,
};
use crate::outbound::model::{DEFAULT_MAX_DESTINATIONS, SOURCE_NAME_MAX_LEN, Search, StoredProspect, UserField};
use crate::outbound::prospects::{self, BatchSettings};
use crate::outbound::source_map::{self, MapVerdict};
use crate::store::{Batch, NewSourceMap, time_text};
use crate::value::{Object, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn obj(members: Vec<(&str, Value)>) -> Value {
    let mut o = Object::with_capacity(members.len());
    for (k, v) in members {
        o.insert(k.into(), v);
    }
    Value::Object(Arc::new(o))
}

/// The unit's source by name; a missing one fails the action.
async fn existing_source(
    store: &dyn crate::store::OutboundStore,
    unit: i64,
    name: &str,
) -> Result<crate::outbound::model::Source, ActionError> {
    store.source(unit, name).await?.ok_or_else(|| ActionError::failed(format!("source '{name}' does not exist")))
}

/// Read a `dynamic` input that may also arrive as JSON text.
fn dynamic(v: &Value) -> Result<Value, String> {
    match v {
        Value::Text(t) if matches!(t.trim().chars().next(), Some('{' | '[')) => {
            serde_json::from_str::<serde_json::Value>(t).map(|j| Value::from_json(&j)).map_err(|e| e.to_string())
        }
        other => Ok(other.clone()),
    }
}

action! {
    /// CREATESOURCE.
    CreateSource = "CREATESOURCE", |ctx, inputs| {
        let name = inputs.text("Name").trim().to_string();
        if name.is_empty() {
            return Exec::branch("NoNameProvided");
        }
        if name.chars().count() > SOURCE_NAME_MAX_LEN {
            return Exec::branch("NameExceededLength");
        }
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let now = time_text(ctx.now());
            Ok(match store.create_source(unit, &name, &now).await? {
                Some(_) => Outcome::default(),
                None => Outcome::branch("NameAlreadyUsed"),
            })
        })
    }
}

action! {
    /// CREATEUSERFIELD.
    CreateUserField = "CREATEUSERFIELD", |ctx, inputs| {
        let name = inputs.text("Name").trim().to_string();
        if name.is_empty() {
            return Exec::branch("NoNameProvided");
        }
        let default = inputs.text("DefaultValue").trim().to_string();
        if name.chars().count() > FIELD_NAME_MAX_LEN || default.chars().count() > DEFAULT_VALUE_MAX_LEN {
            return Exec::branch("FieldExceededLength");
        }
        let Some(data_type) = DataType::parse(&inputs.text("DataType")) else {
            return Exec::branch("InvalidDataType");
        };
        if system_field(&name).is_some() {
            ctx.note(format!("'{name}' is a system field"));
            return Exec::branch("FieldAlreadyExists");
        }
        let default_value = if default.is_empty() {
            None
        } else if data_type == DataType::Phone {
            if crate::timezone::parse_phone(&default).is_err() {
                return Exec::branch("DefaultValueDoesntMatchDataType");
            }
            Some(default)
        } else {
            match data_type.normalize(&default) {
                Some(v) => Some(v),
                None => return Exec::branch("DefaultValueDoesntMatchDataType"),
            }
        };
        let assoc = match dynamic(inputs.get("Associations")) {
            Ok(v) => v,
            Err(e) => return Exec::fail(format!("Associations is not valid JSON: {e}")),
        };
        let pairs: Vec<(String, String)> = match &assoc {
            Value::Null => Vec::new(),
            Value::Text(t) if t.trim().is_empty() => Vec::new(),
            Value::Object(o) => o.iter().map(|(k, v)| (k.to_string(), v.to_text().trim().to_string())).collect(),
            other => return Exec::fail(format!("Associations must be a dynamic object, not '{}'", other.to_text())),
        };
        let value_required = inputs.boolean("ValueRequired");
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let mut associations = Vec::new();
            if !pairs.is_empty() {
                if data_type != DataType::Phone {
                    ctx.note("Associations are for Phone fields only");
                    return Ok(Outcome::branch("InvalidSubField"));
                }
                let existing = store.user_fields(unit).await?;
                for (role, field) in pairs {
                    let Some((role, wanted)) = companion_role(&role) else {
                        let roles: Vec<&str> = COMPANION_ROLES.iter().map(|(r, _)| *r).collect();
                        ctx.note(format!("unknown companion role '{role}' (known: {})", roles.join(", ")));
                        return Ok(Outcome::branch("InvalidSubField"));
                    };
                    match existing.iter().find(|u| u.name.eq_ignore_ascii_case(&field)) {
                        Some(u) if u.data_type == wanted => associations.push((role.to_string(), u.name.clone())),
                        Some(u) => {
                            ctx.note(format!(
                                "{role} must be a {} field; '{}' is {}",
                                wanted.name(),
                                u.name,
                                u.data_type.name()
                            ));
                            return Ok(Outcome::branch("InvalidSubField"));
                        }
                        None => {
                            ctx.note(format!("companion field '{field}' does not exist"));
                            return Ok(Outcome::branch("InvalidSubField"));
                        }
                    }
                }
            }
            let field = UserField { name, data_type, default_value, value_required, associations };
            let now = time_text(ctx.now());
            Ok(if store.create_user_field(unit, &field, &now).await? {
                Outcome::default()
            } else {
                Outcome::branch("FieldAlreadyExists")
            })
        })
    }
}

fn user_field_value(u: &UserField) -> Value {
    let mut assoc = Object::new();
    for (role, field) in &u.associations {
        assoc.insert(role.as_str().into(), Value::text(field.as_str()));
    }
    obj(vec![
        ("Name", Value::text(u.name.as_str())),
        ("DataType", Value::text(u.data_type.name())),
        ("DefaultValue", u.default_value.as_deref().map(Value::text).unwrap_or_default()),
        ("ValueRequired", Value::text(if u.value_required { "true" } else { "false" })),
        ("Associations", Value::Object(Arc::new(assoc))),
    ])
}

action! {
    /// GETUSERFIELDS.
    GetUserFields = "GETUSERFIELDS", |ctx, _inputs| {
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let fields = store.user_fields(unit).await?;
            let list: Vec<Value> = fields.iter().map(user_field_value).collect();
            Ok(Outcome::default().output("Fields", Value::array(list)))
        })
    }
}

/// The most phone destinations a map may have in a unit: the largest cap of
/// its skills, or the default when it has none.
async fn unit_max_destinations(store: &dyn super::OutboundStore, unit: i64) -> Result<u32, ActionError> {
    let skills = store.skills(unit).await?;
    Ok(skills.iter().map(|s| s.max_destinations).max().unwrap_or(DEFAULT_MAX_DESTINATIONS))
}

action! {
    /// CREATESOURCEMAP.
    CreateSourceMap = "CREATESOURCEMAP", |ctx, inputs| {
        let source_name = inputs.text("SourceName").trim().to_string();
        let mapping = inputs.get("Mapping").clone();
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let Some(source) = store.source(unit, &source_name).await? else {
                ctx.note(format!("no source named '{source_name}'"));
                return Ok(Outcome::branch("InvalidSource"));
            };
            let user_fields = store.user_fields(unit).await?;
            let current = store.source_map(unit, source.id).await?;
            let filters: Vec<String> =
                store.skills(unit).await?.into_iter().flat_map(|s| s.filter_fields).collect();
            let max = unit_max_destinations(store.as_ref(), unit).await?;
            let verdict = source_map::check_map(&mapping, &user_fields, current.as_ref(), &filters, max);
            let branch = match verdict {
                MapVerdict::Store(entries) => {
                    let now = time_text(ctx.now());
                    let map = NewSourceMap { source: source.id, entries: &entries, now: &now };
                    let v = store.store_source_map(unit, map).await?;
                    ctx.note(format!("stored version {v} of the map of '{}'", source.name));
                    return Ok(Outcome::default());
                }
                MapVerdict::Unreadable(e) => return Err(ActionError::failed(e)),
                MapVerdict::InvalidRootNode(why) => ("InvalidRootNode", why),
                MapVerdict::InvalidFieldName(why) => ("InvalidFieldName", why),
                MapVerdict::MissingRequiredField(why) => ("MissingRequiredField", why),
                MapVerdict::ExceededMaxDestinations { count, max } => {
                    ("ExceededMaxDestinations", format!("{count} phone destinations mapped; at most {max} allowed"))
                }
                MapVerdict::NoChangesMade => ("NoChangesMade", "the map is identical to the current one".into()),
                MapVerdict::FieldsInUseCantApply(why) => ("FieldsInUseCantApply", why),
            };
            ctx.note(branch.1);
            Ok(Outcome::branch(branch.0))
        })
    }
}

action! {
    /// GETSOURCEMAP.
    GetSourceMap = "GETSOURCEMAP", |ctx, inputs| {
        let source_name = inputs.text("SourceName").trim().to_string();
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let Some(source) = store.source(unit, &source_name).await? else {
                return Ok(Outcome::branch("InvalidSource"));
            };
            let map = store.source_map(unit, source.id).await?;
            Ok(Outcome::default().output("Results", source_map::map_value(map.as_ref())))
        })
    }
}

/// Batches larger than this are checked on the blocking pool, so a big
/// load does not hold up other runs on the same worker thread.
const INLINE_BATCH: usize = 256;

/// CREATEPROSPECTS (version 2).
pub struct CreateProspects;

impl Action for CreateProspects {
    fn name(&self) -> &str {
        "CREATEPROSPECTS"
    }
    fn version(&self) -> u32 {
        2
    }
    fn execute<'a>(&'a self, ctx: &'a mut Context<'_>, inputs: &'a Inputs<'_>) -> Exec<'a> {
        let skill_no = match inputs.number("SkillNo") {
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n < 9.0e15 => n as i64,
            _ => return Exec::fail(format!("SkillNo '{}' is not a skill number", inputs.text("SkillNo"))),
        };
        let source_name = inputs.text("SourceName").trim().to_string();
        let records = match prospects::records_of(inputs.get("Data")) {
            Ok(r) => r,
            Err(e) => return Exec::fail(e.to_string()),
        };
        let use_default_zone = inputs.boolean("NoTimeZoneReject");
        let zone_text = inputs.text("TimeZone");
        let default_zone = if zone_text.trim().is_empty() {
            None
        } else {
            match crate::timezone::parse_zone(&zone_text) {
                Some(z) => Some(z),
                None => return Exec::fail(format!("TimeZone '{zone_text}' is not a known time zone")),
            }
        };
        let default_expiration = inputs.text("DefaultExpirationDate").trim().to_string();
        if !default_expiration.is_empty()
            && prospects::expiration_instant(&default_expiration, chrono_tz::UTC).is_none()
        {
            return Exec::fail(format!("DefaultExpirationDate '{default_expiration}' is not a date"));
        }
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            // Independent reads, side by side (a file store has several
            // connections).
            let (skill, source, user_fields) = tokio::try_join!(
                store.skill(unit, skill_no),
                store.source(unit, &source_name),
                store.user_fields(unit)
            )?;
            let skill = skill.ok_or_else(|| {
                ActionError::failed(format!("skill {skill_no} is not an outbound skill of this business unit"))
            })?;
            let source = source.ok_or_else(|| ActionError::failed(format!("source '{source_name}' does not exist")))?;
            let map = store.source_map(unit, source.id).await?.ok_or_else(|| {
                ActionError::failed(format!(
                    "Missing External ID: source '{}' has no source map (create one with CREATESOURCEMAP)",
                    source.name
                ))
            })?;
            let now = ctx.now();
            let prepare = move |records: Vec<Value>| {
                let settings = BatchSettings {
                    map: &map,
                    user_fields: &user_fields,
                    max_destinations: skill.max_destinations,
                    use_default_zone,
                    default_zone,
                    default_expiration: (!default_expiration.is_empty()).then_some(default_expiration.as_str()),
                    now,
                };
                let prepared = prospects::prepare_batch(&settings, &records);
                (records, prepared)
            };
            let (records, prepared) = if records.len() > INLINE_BATCH {
                tokio::task::spawn_blocking(move || prepare(records))
                    .await
                    .map_err(|e| ActionError::failed(format!("checking the batch failed: {e}")))?
            } else {
                prepare(records)
            };
            let stamp = time_text(now);
            let (draft, saved) = if records.len() > INLINE_BATCH {
                // The results are drafted on another thread while the store
                // writes: a large batch then keeps two cores busy.
                let batch = Arc::new((records, prepared));
                let drafting = {
                    let b = batch.clone();
                    let windows = skill.windows.clone();
                    tokio::task::spawn_blocking(move || prospects::draft_results(&b.0, &b.1, &windows))
                };
                let saved = store
                    .save_prospects(unit, Batch { source: source.id, skill_no, rows: &batch.1.rows, now: &stamp })
                    .await;
                let draft =
                    drafting.await.map_err(|e| ActionError::failed(format!("building the results failed: {e}")))?;
                (draft, saved)
            } else {
                let saved = store
                    .save_prospects(unit, Batch { source: source.id, skill_no, rows: &prepared.rows, now: &stamp })
                    .await;
                (prospects::draft_results(&records, &prepared, &skill.windows), saved)
            };
            let saved = saved.map_err(|e| ActionError::failed(format!("nothing of the batch was stored: {e}")))?;
            let (results, sum) = draft.finish(&saved);
            ctx.note(format!(
                "received {}, created {}, updated {}, failed {}",
                sum.received, sum.created, sum.updated, sum.failed
            ));
            Ok(Outcome::default().output("Results", results))
        })
    }
}

/// A stored prospect as GETPROSPECT reports it; `windows` are its skill's.
fn prospect_value(p: &StoredProspect, windows: &str, texts: &mut prospects::ReportTexts) -> Value {
    let mut o = Object::new();
    o.insert("ProspectID".into(), Value::Number(p.id as f64));
    o.insert("ExternalID".into(), Value::text(p.external_id.as_str()));
    o.insert("SkillNo".into(), Value::Number(p.skill_no as f64));
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(&p.fields) {
        for (k, v) in fields {
            if k != "ExternalID" {
                o.insert(k.into(), Value::from_json(&v));
            }
        }
    }
    let record = texts.name(&p.time_zone);
    let window = texts.text(windows);
    let (source, version) = texts.source(&p.tz_source);
    o.insert("TimeZone".into(), Value::Text(record.clone()));
    o.insert("TimeZoneSource".into(), source);
    o.insert("TimeZoneDataVersion".into(), version);
    o.insert("ExpirationDate".into(), p.expires_at.as_deref().map(Value::text).unwrap_or_default());
    o.insert("Status".into(), Value::text(p.status.as_str()));
    let dests: Vec<Value> = p
        .destinations
        .iter()
        .map(|d| {
            let mut m = Object::new();
            m.insert("Field".into(), Value::text(d.field.as_str()));
            m.insert("PhoneNumber".into(), Value::text(d.e164.as_str()));
            m.insert("Original".into(), Value::text(d.raw.as_str()));
            m.insert("Kind".into(), Value::text(d.kind));
            texts.destination_fields(&mut m, d, &record, &window);
            if let Some(c) = d.companions.as_deref().and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok()) {
                m.insert("Companions".into(), Value::from_json(&c));
            }
            Value::Object(Arc::new(m))
        })
        .collect();
    o.insert("Destinations".into(), Value::array(dests));
    Value::Object(Arc::new(o))
}

action! {
    /// GETPROSPECT.
    GetProspect = "GETPROSPECT", |ctx, inputs| {
        let source_name = inputs.text("SourceName").trim().to_string();
        let options = match dynamic(inputs.get("SearchOptions")) {
            Ok(v) => v,
            Err(e) => return Exec::fail(format!("SearchOptions is not valid JSON: {e}")),
        };
        let get = |name: &str| -> Option<String> {
            let Value::Object(o) = &options else { return None };
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_text().trim().to_string())
                .filter(|s| !s.is_empty())
        };
        match &options {
            Value::Null | Value::Object(_) => {}
            Value::Text(t) if t.trim().is_empty() => {}
            other => return Exec::fail(format!("SearchOptions must be a dynamic object, not '{}'", other.to_text())),
        }
        let mut search = Search { external_id: get("ExternalID"), ..Search::default() };
        if let Some(p) = get("PhoneNumber") {
            match crate::timezone::parse_phone(&p) {
                Ok(n) => search.phone_e164 = Some(n.e164().to_string()),
                Err(e) => return Exec::fail(format!("SearchOptions.PhoneNumber: {e}")),
            }
        }
        match (get("FirstName"), get("LastName")) {
            (Some(f), Some(l)) => search.name = Some((f, l)),
            (None, None) => {}
            _ => return Exec::fail("SearchOptions: FirstName and LastName must be given together"),
        }
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let source = existing_source(store.as_ref(), unit, &source_name).await?;
            let found = store.find_prospects(unit, source.id, &search).await?;
            // Destination windows derive from each prospect's skill.
            let mut windows: HashMap<i64, String> = HashMap::new();
            for p in &found {
                if let std::collections::hash_map::Entry::Vacant(slot) = windows.entry(p.skill_no) {
                    let skill = store.skill(unit, p.skill_no).await?;
                    slot.insert(skill.map(|s| s.windows).unwrap_or_default());
                }
            }
            let mut texts = prospects::ReportTexts::new();
            let list: Vec<Value> = found
                .iter()
                .map(|p| prospect_value(p, windows.get(&p.skill_no).map_or("", String::as_str), &mut texts))
                .collect();
            ctx.note(format!("{} prospect(s) found", list.len()));
            Ok(Outcome::default().output("Results", Value::array(list)))
        })
    }
}

action! {
    /// REMOVEPROSPECTS.
    RemoveProspects = "REMOVEPROSPECTS", |ctx, inputs| {
        let source_name = inputs.text("SourceName").trim().to_string();
        let records = match prospects::records_of(inputs.get("ProspectsToRemove")) {
            Ok(r) => r,
            Err(e) => return Exec::fail(e.to_string().replacen("Data", "ProspectsToRemove", 1)),
        };
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let source = existing_source(store.as_ref(), unit, &source_name).await?;
            let label = store
                .source_map(unit, source.id)
                .await?
                .and_then(|m| m.entries.into_iter().find(|e| e.field == "ExternalID").map(|e| e.label));
            let key_of = |r: &Value| -> Option<String> {
                let Value::Object(o) = r else { return None };
                let by = |name: &str| {
                    o.get(name)
                        .or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
                        .map(|v| v.to_text().trim().to_string())
                        .filter(|s| !s.is_empty())
                };
                label.as_deref().and_then(by).or_else(|| by("ExternalID"))
            };
            let keys: Vec<Option<String>> = records.iter().map(key_of).collect();
            let present: Vec<String> = keys.iter().flatten().cloned().collect();
            let removed = store.remove_prospects(unit, source.id, &present).await?;
            let mut removed = removed.into_iter();
            let (mut n_removed, mut n_missing) = (0, 0);
            let out: Vec<Value> = records
                .iter()
                .zip(&keys)
                .map(|(r, k)| {
                    let mut o = match r {
                        Value::Object(o) => Object::clone(o),
                        _ => Object::new(),
                    };
                    // `removed` has one answer per present key, in order.
                    let (code, msg) = match k {
                        None => ("NotFound", Some("the record has no ExternalID")),
                        Some(_) if removed.next().unwrap_or(false) => ("Removed", None),
                        Some(_) => ("NotFound", None),
                    };
                    if code == "Removed" {
                        n_removed += 1;
                    } else {
                        n_missing += 1;
                    }
                    o.insert("ResultCode".into(), Value::text(code));
                    if let Some(m) = msg {
                        o.insert("ResultMessage".into(), Value::text(m));
                    }
                    Value::Object(Arc::new(o))
                })
                .collect();
            let summary = obj(vec![
                ("Received", Value::Number(records.len() as f64)),
                ("Removed", Value::Number(n_removed as f64)),
                ("NotFound", Value::Number(n_missing as f64)),
            ]);
            let results = obj(vec![("Records", Value::array(out)), ("Summary", summary)]);
            Ok(Outcome::default().output("Results", results))
        })
    }
}

#[cfg(test)]
mod tests {
    //! Each outbound action's branches through a script on an in-memory
    //! store (the full CREATEPROSPECTS pipeline is in `tests/outbound.rs`).

    use crate::packs::testing::{path, run, var};

    /// A script of `steps` (JSON action objects, joined in order with
    /// `next`) after a BEGIN, ending with END.
    fn script(steps: &[&str]) -> String {
        let mut actions = vec![r#"{"id": "b", "action": "BEGIN", "next": "s0"}"#.to_string()];
        for (i, s) in steps.iter().enumerate() {
            actions.push(s.replace("NEXT", &format!("s{}", i + 1)).replace("SELF", &format!("s{i}")));
        }
        actions.push(format!(r#"{{"id": "s{}", "action": "END"}}"#, steps.len()));
        format!(r#"{{"name": "main", "actions": [{}]}}"#, actions.join(","))
    }

    /// A step whose every listed branch continues to the next step.
    fn step(action: &str, props: &str, branches: &[&str]) -> String {
        let b: Vec<String> = branches.iter().map(|b| format!(r#""{b}": "NEXT""#)).collect();
        format!(r#"{{"id": "SELF", "action": "{action}", {props} "branches": {{{}}}}}"#, b.join(", "))
    }

    #[tokio::test]
    async fn createsource_creates_once_and_names_each_refusal() {
        let long = "x".repeat(super::SOURCE_NAME_MAX_LEN + 1);
        let branches = ["Default", "NameAlreadyUsed", "NoNameProvided", "NameExceededLength", "OnError"];
        let s = script(&[
            &step("CREATESOURCE", r#""Name": "Spring","#, &branches),
            &step("CREATESOURCE", r#""Name": " spring ","#, &branches),
            &step("CREATESOURCE", r#""Name": "  ","#, &branches),
            &step("CREATESOURCE", &format!(r#""Name": "{long}","#), &branches),
        ]);
        let r = run(&s, &[], &[]).await;
        assert_eq!(
            path(&r)[1..5],
            ["s0:Default", "s1:NameAlreadyUsed", "s2:NoNameProvided", "s3:NameExceededLength"],
            "{:?}",
            r.error
        );
    }

    #[tokio::test]
    async fn user_fields_are_created_listed_and_refused_when_repeated_or_mistyped() {
        let branches = ["Default", "FieldAlreadyExists", "InvalidDataType", "NoNameProvided", "OnError"];
        let s = script(&[
            &step("CREATEUSERFIELD", r#""Name": "Region", "DataType": "String","#, &branches),
            &step("CREATEUSERFIELD", r#""Name": "region", "DataType": "String","#, &branches),
            &step("CREATEUSERFIELD", r#""Name": "Score", "DataType": "Colour","#, &branches),
            &step("CREATEUSERFIELD", r#""Name": "","#, &branches),
            &step("GETUSERFIELDS", r#""Fields": "fields","#, &["Default", "OnError"]),
        ]);
        let r = run(&s, &[], &[]).await;
        assert_eq!(
            path(&r)[1..6],
            ["s0:Default", "s1:FieldAlreadyExists", "s2:InvalidDataType", "s3:NoNameProvided", "s4:Default"],
            "{:?}",
            r.error
        );
        let fields = var(&r, "fields");
        assert!(fields.contains("Region") && !fields.contains("Score"), "{fields}");
    }

    #[tokio::test]
    async fn source_maps_of_an_unknown_source_are_refused() {
        let s = script(&[
            &step(
                "GETSOURCEMAP",
                r#""SourceName": "Nowhere", "Results": "m","#,
                &["Default", "InvalidSource", "OnError"],
            ),
            &step(
                "CREATESOURCEMAP",
                r#""SourceName": "Nowhere", "Mapping": "{\"mapping\": {}}","#,
                &["Default", "InvalidSource", "InvalidRootNode", "OnError"],
            ),
        ]);
        let r = run(&s, &[], &[]).await;
        assert_eq!(path(&r)[1..3], ["s0:InvalidSource", "s1:InvalidSource"], "{:?}", r.error);
    }

    #[tokio::test]
    async fn prospect_lookups_and_removals_on_an_empty_source_find_nothing() {
        let s = script(&[
            &step("CREATESOURCE", r#""Name": "Spring","#, &["Default", "OnError"]),
            &step(
                "GETPROSPECT",
                r#""SourceName": "Spring", "SearchOptions": "{\"ExternalID\": \"nope\"}", "Results": "found","#,
                &["Default", "OnError"],
            ),
            &step(
                "REMOVEPROSPECTS",
                r#""SourceName": "Spring", "ProspectsToRemove": "[{\"ExternalID\": \"nope\"}]", "Results": "removed","#,
                &["Default", "OnError"],
            ),
            &step("GETQUEUE", r#""Skills": "4100", "NumberQueued": "queued","#, &["Default", "OnError"]),
        ]);
        let r = run(&s, &[], &[]).await;
        assert_eq!(path(&r)[1..5], ["s0:Default", "s1:Default", "s2:Default", "s3:OnError"], "{:?}", var(&r, "_ERR"));
        assert_eq!(var(&r, "found"), "[]");
        let removed = r.var("removed").expect("REMOVEPROSPECTS wrote its results");
        let summary = removed.member("Summary").expect("a summary");
        assert_eq!(summary.member("NotFound").map(|v| v.to_text().to_string()).as_deref(), Some("1"), "{removed}");
        assert_eq!(summary.member("Removed").map(|v| v.to_text().to_string()).as_deref(), Some("0"), "{removed}");
        // GETQUEUE on a skill the unit does not have names it.
        assert!(var(&r, "_ERR").contains("4100"), "{}", var(&r, "_ERR"));
    }
}
