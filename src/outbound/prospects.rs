//! CREATEPROSPECTS v2's record pipeline: map each source record through the
//! source map, validate it, find its destinations and zones, and give it
//! exactly one [`ResultCode`].
//!
//! [`prepare_batch`] does everything but storage and is pure: the same
//! records, map and clock always give the same rows and outcomes. The
//! action stores the rows in one transaction while [`draft_results`]
//! builds the `Results` object, and [`ResultsDraft::finish`] adds what
//! storing decided (both in `outbound::report`, on the record report of
//! [`crate::base::batch`]).
//!
//! Checks run in a fixed order and the first failure names the record's
//! code: ExternalID (missing, duplicate), field lengths, user-field rules,
//! field values, phones (missing, invalid), time zone (invalid explicit,
//! not found), expiration (unreadable, past).

use super::fields::{DataType, SystemField, USER_FIELD_MAX_LEN, system_field};
use super::model::{DestinationRow, ProspectRow, SourceMap, UserField};
use crate::base::batch::{check_in_slices, checkers_for, member};
use crate::base::time::time_text;
use crate::timezone::{
    NumberZone, PhoneKind, PhoneNumber, RecordHints, RecordZone, ZoneRule, number_zone, parse_phone, resolve_record,
};
use crate::value::{Object, Str, Value};
use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;

pub use super::report::{ReportTexts, ResultsDraft, Summary, draft_results};
pub use crate::base::batch::{BatchError, COLLISION_PREFIX, records_of};

/// The outcome of one record. The identifiers are stable: scripts branch on
/// them and lead sources store them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResultCode {
    /// A new prospect.
    Created,
    /// A prospect with the same source and ExternalID existed and was replaced.
    Updated,
    /// The mapped ExternalID is absent or blank.
    MissingExternalID,
    /// The same ExternalID already appeared earlier in this batch.
    DuplicateExternalID,
    /// No destination field holds a value.
    MissingPhoneNumber,
    /// Destination values are present but none is dialable.
    InvalidPhoneNumber,
    /// No time zone could be determined and the record was rejected.
    TimeZoneNotFound,
    /// An explicit time zone that is not a known zone.
    InvalidTimeZone,
    /// An expiration that cannot be read as a date.
    InvalidExpirationDate,
    /// The expiration is already past.
    Expired,
    /// A user field marked "value required" is blank and has no default.
    RequiredFieldMissing,
    /// A value does not fit its field's type.
    InvalidFieldValue,
    /// A value is longer than its field allows.
    FieldTooLong,
}

impl ResultCode {
    /// Every code, in documentation order.
    pub const ALL: [ResultCode; 13] = [
        ResultCode::Created,
        ResultCode::Updated,
        ResultCode::MissingExternalID,
        ResultCode::DuplicateExternalID,
        ResultCode::MissingPhoneNumber,
        ResultCode::InvalidPhoneNumber,
        ResultCode::TimeZoneNotFound,
        ResultCode::InvalidTimeZone,
        ResultCode::InvalidExpirationDate,
        ResultCode::Expired,
        ResultCode::RequiredFieldMissing,
        ResultCode::InvalidFieldValue,
        ResultCode::FieldTooLong,
    ];

    /// The stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultCode::Created => "Created",
            ResultCode::Updated => "Updated",
            ResultCode::MissingExternalID => "MissingExternalID",
            ResultCode::DuplicateExternalID => "DuplicateExternalID",
            ResultCode::MissingPhoneNumber => "MissingPhoneNumber",
            ResultCode::InvalidPhoneNumber => "InvalidPhoneNumber",
            ResultCode::TimeZoneNotFound => "TimeZoneNotFound",
            ResultCode::InvalidTimeZone => "InvalidTimeZone",
            ResultCode::InvalidExpirationDate => "InvalidExpirationDate",
            ResultCode::Expired => "Expired",
            ResultCode::RequiredFieldMissing => "RequiredFieldMissing",
            ResultCode::InvalidFieldValue => "InvalidFieldValue",
            ResultCode::FieldTooLong => "FieldTooLong",
        }
    }

    /// The documented meaning.
    pub fn meaning(self) -> &'static str {
        match self {
            ResultCode::Created => "a new prospect was created",
            ResultCode::Updated => "a prospect with the same source and ExternalID existed and was replaced",
            ResultCode::MissingExternalID => "the mapped ExternalID is absent or blank",
            ResultCode::DuplicateExternalID => "the same ExternalID already appeared earlier in this batch",
            ResultCode::MissingPhoneNumber => "no destination field holds a value",
            ResultCode::InvalidPhoneNumber => "destination values are present but none is dialable",
            ResultCode::TimeZoneNotFound => "no time zone could be determined and the record was rejected",
            ResultCode::InvalidTimeZone => "the explicit time zone is not a known zone",
            ResultCode::InvalidExpirationDate => "the expiration is present but cannot be read as a date",
            ResultCode::Expired => "the expiration is already past at load time",
            ResultCode::RequiredFieldMissing => "a user field marked \"value required\" is blank and has no default",
            ResultCode::InvalidFieldValue => "a value does not fit its field's type",
            ResultCode::FieldTooLong => "a value is longer than its field allows",
        }
    }

    /// Whether the record was stored.
    pub fn is_success(self) -> bool {
        matches!(self, ResultCode::Created | ResultCode::Updated)
    }
}

/// Everything a batch is checked against.
#[derive(Clone, Debug)]
pub struct BatchSettings<'a> {
    /// The source's current map.
    pub map: &'a SourceMap,
    /// The unit's user fields.
    pub user_fields: &'a [UserField],
    /// The skill's destination cap.
    pub max_destinations: u32,
    /// `NoTimeZoneReject`: `true` (Yes) = give records without a zone the
    /// default zone; `false` (No) = reject them.
    pub use_default_zone: bool,
    /// The `TimeZone` property.
    pub default_zone: Option<Tz>,
    /// `DefaultExpirationDate` (already checked readable).
    pub default_expiration: Option<&'a str>,
    /// The run's clock.
    pub now: DateTime<Utc>,
}

/// One record's outcome before storage.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RecordOutcome {
    /// Valid: `row` indexes [`Prepared::rows`].
    Valid {
        /// Index into the rows.
        row: usize,
        /// Dropped values and other remarks.
        warnings: Vec<String>,
    },
    /// Refused.
    Failed {
        /// Why (never Created/Updated).
        code: ResultCode,
        /// Details for people.
        message: String,
    },
}

/// A checked batch.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    /// The rows to store, valid records only, in input order.
    pub rows: Vec<ProspectRow>,
    /// One outcome per input record, in input order.
    pub outcomes: Vec<RecordOutcome>,
}

#[derive(Clone, Copy, Debug)]
enum Rule {
    System(&'static SystemField),
    User(usize),
}

#[derive(Debug)]
struct FieldPlan<'a> {
    field: &'a str,
    label: &'a str,
    rule: Rule,
    data_type: DataType,
    destination: bool,
}

/// The map resolved against the unit's fields once per batch.
struct Plan<'a> {
    fields: Vec<FieldPlan<'a>>,
    external_id: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    tz: Option<usize>,
    lat: Option<usize>,
    lng: Option<usize>,
    zip: Option<usize>,
    city: Option<usize>,
    state: Option<usize>,
    expiration: Option<usize>,
}

impl<'a> Plan<'a> {
    fn new(s: &BatchSettings<'a>) -> Plan<'a> {
        let mut fields = Vec::with_capacity(s.map.entries.len());
        for e in &s.map.entries {
            let (rule, data_type) = match system_field(&e.field) {
                Some(f) => (Rule::System(f), f.data_type),
                None => match s.user_fields.iter().position(|u| u.name.eq_ignore_ascii_case(&e.field)) {
                    Some(i) => (Rule::User(i), s.user_fields[i].data_type),
                    // A user field deleted after the map was made: carry
                    // its value as text.
                    None => (Rule::User(usize::MAX), DataType::Text),
                },
            };
            fields.push(FieldPlan {
                field: &e.field,
                label: &e.label,
                rule,
                data_type,
                destination: data_type == DataType::Phone,
            });
        }
        let find = |name: &str| fields.iter().position(|f| f.field.eq_ignore_ascii_case(name));
        Plan {
            external_id: find("ExternalID"),
            first: find("FirstName"),
            last: find("LastName"),
            tz: find("TimeZone"),
            lat: find("Latitude"),
            lng: find("Longitude"),
            zip: find("Zip"),
            city: find("City"),
            state: find("State"),
            expiration: find("ExpirationDate"),
            fields,
        }
    }
}

/// `pairs` as a JSON object's text.
fn json_object<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>, capacity: usize) -> String {
    use crate::value::write_json_str;
    let mut out = Vec::with_capacity(capacity);
    out.push(b'{');
    for (n, (k, v)) in pairs.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_json_str(&mut out, k);
        out.push(b':');
        write_json_str(&mut out, v);
    }
    out.push(b'}');
    // Only whole UTF-8 texts and ASCII went in.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn kind_name(k: PhoneKind) -> &'static str {
    match k {
        PhoneKind::Geographic => "geographic",
        PhoneKind::Mobile => "mobile",
        PhoneKind::TollFree => "toll-free",
        PhoneKind::PremiumRate => "premium-rate",
        PhoneKind::NonGeographic => "non-geographic",
        PhoneKind::International => "international",
        #[allow(unreachable_patterns)]
        _ => "unknown",
    }
}

/// The instant an expiration text means for a record in zone `tz`: a value
/// with an offset is absolute; a wall-clock value is local to the record;
/// a bare date lasts until the end of that local day.
pub fn expiration_instant(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    let local: NaiveDateTime = if super::fields::is_date_only(t) {
        crate::base::time::parse_datetime(t)?.date().and_hms_opt(23, 59, 59)?
    } else {
        crate::base::time::parse_datetime(t)?
    };
    // A wall time skipped by a DST jump reads as the instant just after it;
    // a repeated one as the later of the two (the record lives longer).
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(d) => Some(d.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(_, late) => Some(late.with_timezone(&Utc)),
        chrono::LocalResult::None => {
            tz.from_local_datetime(&(local + chrono::Duration::hours(1))).earliest().map(|d| d.with_timezone(&Utc))
        }
    }
}

struct Fail(ResultCode, String);

type Checked = Result<(ProspectRow, Vec<String>), Fail>;
type Identified<'r> = Result<(&'r Object, String), Fail>;

/// Check a batch. Fails as a whole only when the batch itself is unusable.
///
/// ExternalIDs are judged first, in input order (a duplicate is the later
/// record); every other check depends on its record alone, so large batches
/// are checked in contiguous slices on several threads and put back in
/// input order: the result is the same as checking one record after another.
pub fn prepare_batch(s: &BatchSettings<'_>, records: &[Value]) -> Prepared {
    prepare_on(s, records, checkers_for(records.len()))
}

/// [`prepare_batch`] on `checkers` threads.
fn prepare_on(s: &BatchSettings<'_>, records: &[Value], checkers: usize) -> Prepared {
    let plan = Plan::new(s);
    let mut seen: foldhash::HashSet<Str> =
        foldhash::HashSet::with_capacity_and_hasher(records.len(), Default::default());
    let identified: Vec<Identified<'_>> = records.iter().map(|rec| identify(&plan, rec, &mut seen)).collect();
    let checked = check_in_slices(identified, checkers, |slice: Vec<Identified<'_>>| -> Vec<Checked> {
        let mut texts: Vec<Option<String>> = Vec::with_capacity(plan.fields.len());
        slice.into_iter().map(|r| r.and_then(|(obj, ext)| prepare_record(s, &plan, obj, ext, &mut texts))).collect()
    });
    let mut out = Prepared { rows: Vec::with_capacity(records.len()), outcomes: Vec::with_capacity(records.len()) };
    for r in checked {
        match r {
            Ok((row, warnings)) => {
                out.outcomes.push(RecordOutcome::Valid { row: out.rows.len(), warnings });
                out.rows.push(row);
            }
            Err(Fail(code, message)) => out.outcomes.push(RecordOutcome::Failed { code, message }),
        }
    }
    out
}

/// A record's ExternalID, or why it has none or a repeated one.
fn identify<'r>(
    plan: &Plan<'_>,
    rec: &'r Value,
    seen: &mut foldhash::HashSet<Str>,
) -> Result<(&'r Object, String), Fail> {
    let Value::Object(obj) = rec else {
        return Err(Fail(ResultCode::MissingExternalID, "the record is not a dynamic object".into()));
    };
    // ExternalID first: duplicates are judged on it alone, whatever else
    // is wrong with the earlier record.
    let ext = plan
        .external_id
        .and_then(|i| member(obj, plan.fields[i].label))
        .map(|v| v.to_text())
        .filter(|t| !t.trim().is_empty());
    let Some(ext) = ext else {
        return Err(Fail(
            ResultCode::MissingExternalID,
            match plan.external_id {
                Some(i) => format!("'{}' (ExternalID) is blank or absent", plan.fields[i].label),
                None => "the source map does not map ExternalID".into(),
            },
        ));
    };
    let trimmed = ext.trim();
    let key: Str = if trimmed.len() == ext.len() { ext.clone() } else { Str::from(trimmed) };
    let ext_key = key.to_string();
    if !seen.insert(key) {
        return Err(Fail(
            ResultCode::DuplicateExternalID,
            format!("ExternalID '{ext_key}' already appeared earlier in this batch"),
        ));
    }
    Ok((obj.as_ref(), ext_key))
}

/// Check one identified record and build its row, or say why it is
/// refused. `texts` is scratch space for the mapped values (one per map
/// entry, `None` when blank), reused from record to record.
fn prepare_record(
    s: &BatchSettings<'_>,
    plan: &Plan<'_>,
    obj: &Object,
    external_id: String,
    texts: &mut Vec<Option<String>>,
) -> Checked {
    texts.clear();
    for f in &plan.fields {
        texts.push(read_field(s, f, obj)?);
    }
    let texts: &[Option<String>] = texts;
    let text = |i: Option<usize>| i.and_then(|i| texts[i].as_deref());
    let (dests, warnings) = destinations(s, plan, texts)?;
    let (tz, tz_source) = record_zone(s, plan, texts, dests.first().map(|(_, p)| p))?;
    let expires_at = expiration(s, text(plan.expiration), tz)?;
    // Stored fields: every mapped value, normalized, as a JSON object.
    let fields = json_object(
        plan.fields.iter().zip(texts.iter()).filter_map(|(f, v)| Some((f.field, v.as_deref()?))),
        64 + plan.fields.len() * 24,
    );
    let destinations =
        dests.into_iter().map(|(i, p)| destination_row(s, plan, texts, i, &p, (tz, tz_source))).collect();
    Ok((
        ProspectRow {
            external_id,
            first_name: text(plan.first).map(str::to_string),
            last_name: text(plan.last).map(str::to_string),
            fields,
            expires_at,
            time_zone: tz.name().to_string(),
            tz_source: tz_source.to_string(),
            destinations,
        },
        warnings,
    ))
}

/// One mapped field's value, read, trimmed, defaulted, measured and
/// normalized; `None` when it is blank and has no default.
fn read_field(s: &BatchSettings<'_>, f: &FieldPlan<'_>, obj: &Object) -> Result<Option<String>, Fail> {
    let raw = match member(obj, f.label) {
        None | Some(Value::Null) => None,
        Some(Value::Object(_) | Value::Array(_)) => {
            return Err(Fail(
                ResultCode::InvalidFieldValue,
                format!("'{}' ({}) holds an object, not a value", f.label, f.field),
            ));
        }
        Some(v) => {
            let t = v.to_text();
            let t = t.trim();
            if t.is_empty() { None } else { Some(t.to_string()) }
        }
    };
    let user = match f.rule {
        Rule::User(i) => s.user_fields.get(i),
        Rule::System(_) => None,
    };
    let raw = match (raw, user) {
        (None, Some(u)) => match &u.default_value {
            Some(d) if !d.trim().is_empty() => Some(d.clone()),
            _ if u.value_required => {
                return Err(Fail(
                    ResultCode::RequiredFieldMissing,
                    format!("'{}' ({}) requires a value and has no default", f.label, f.field),
                ));
            }
            _ => None,
        },
        (r, _) => r,
    };
    let Some(raw) = raw else { return Ok(None) };
    let max = match f.rule {
        Rule::System(sf) => sf.max_len,
        Rule::User(_) => USER_FIELD_MAX_LEN,
    };
    if raw.len() > max && raw.chars().count() > max {
        return Err(Fail(
            ResultCode::FieldTooLong,
            format!(
                "'{}' ({}) has {} characters; the field takes at most {max}",
                f.label,
                f.field,
                raw.chars().count()
            ),
        ));
    }
    match f.data_type {
        DataType::Text | DataType::Phone => Ok(Some(raw)),
        dt => match dt.normalize(&raw) {
            Some(v) => Ok(Some(v)),
            None => Err(Fail(
                ResultCode::InvalidFieldValue,
                format!("'{}' ({}) = '{raw}' is not a valid {}", f.label, f.field, dt.name()),
            )),
        },
    }
}

/// A record's dialable destinations in map order (index of their field, the
/// number), and warnings for the numbers it dropped.
type Destinations = (Vec<(usize, PhoneNumber)>, Vec<String>);

/// The destinations of a record's mapped values.
fn destinations(s: &BatchSettings<'_>, plan: &Plan<'_>, texts: &[Option<String>]) -> Result<Destinations, Fail> {
    let mut warnings = Vec::new();
    let mut dests: Vec<(usize, PhoneNumber)> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    let mut any = false;
    for (i, f) in plan.fields.iter().enumerate() {
        if !f.destination {
            continue;
        }
        let Some(raw) = texts[i].as_deref() else { continue };
        any = true;
        match parse_phone(raw) {
            Ok(p) => {
                if dests.iter().any(|(_, q)| q.e164() == p.e164()) {
                    warnings.push(format!("{} '{raw}' repeats an earlier number and was skipped", f.field));
                } else if dests.len() >= s.max_destinations as usize {
                    warnings.push(format!(
                        "{} '{raw}' was dropped: the skill keeps at most {} destinations",
                        f.field, s.max_destinations
                    ));
                } else {
                    dests.push((i, p));
                }
            }
            Err(e) => bad.push(format!("{}: {e}", f.field)),
        }
    }
    if !any {
        return Err(Fail(ResultCode::MissingPhoneNumber, "no destination field holds a value".into()));
    }
    if dests.is_empty() {
        return Err(Fail(ResultCode::InvalidPhoneNumber, bad.join("; ")));
    }
    for b in bad {
        warnings.push(format!("dropped {b}"));
    }
    Ok((dests, warnings))
}

/// The record's zone and the rule that found it (the batch's default zone
/// when no rule did and the batch allows it).
fn record_zone(
    s: &BatchSettings<'_>,
    plan: &Plan<'_>,
    texts: &[Option<String>],
    primary_phone: Option<&PhoneNumber>,
) -> Result<(Tz, &'static str), Fail> {
    let text = |i: Option<usize>| i.and_then(|i| texts[i].as_deref());
    let hints = RecordHints {
        time_zone: text(plan.tz),
        latitude: text(plan.lat),
        longitude: text(plan.lng),
        zip: text(plan.zip),
        city: text(plan.city),
        state: text(plan.state),
        primary_phone,
    };
    match resolve_record(&hints) {
        RecordZone::Found { tz, rule } => Ok((tz, rule.as_str())),
        RecordZone::InvalidExplicit => Err(Fail(
            ResultCode::InvalidTimeZone,
            format!("'{}' is not a known time zone", text(plan.tz).unwrap_or_default()),
        )),
        RecordZone::NotFound => match (s.use_default_zone, s.default_zone) {
            (true, Some(tz)) => Ok((tz, ZoneRule::Default.as_str())),
            (true, None) => Err(Fail(
                ResultCode::TimeZoneNotFound,
                "no time zone could be determined and the TimeZone property is empty".into(),
            )),
            (false, _) => Err(Fail(
                ResultCode::TimeZoneNotFound,
                "no time zone could be determined (no explicit zone, ZIP, city and state, or area code) \
                 and NoTimeZoneReject is No"
                    .into(),
            )),
        },
    }
}

/// The stored expiration of a record in zone `tz`: its own, else the
/// batch's default; refused when unreadable or already past.
fn expiration(s: &BatchSettings<'_>, own: Option<&str>, tz: Tz) -> Result<Option<String>, Fail> {
    let Some(e) = own.or(s.default_expiration) else { return Ok(None) };
    match expiration_instant(e, tz) {
        None => Err(Fail(ResultCode::InvalidExpirationDate, format!("'{e}' cannot be read as a date"))),
        Some(t) if t <= s.now => {
            Err(Fail(ResultCode::Expired, format!("expired at {} (now {})", time_text(t), time_text(s.now))))
        }
        Some(t) => Ok(Some(time_text(t))),
    }
}

/// The stored row of destination `p` (from map entry `i`): its own zone
/// when its prefix determines one, else the record's `zone`.
fn destination_row(
    s: &BatchSettings<'_>,
    plan: &Plan<'_>,
    texts: &[Option<String>],
    i: usize,
    p: &PhoneNumber,
    zone: (Tz, &str),
) -> DestinationRow {
    let f = &plan.fields[i];
    let (dtz, dsrc) = match number_zone(p) {
        NumberZone::Zone { tz, rule } => (tz, rule.as_str()),
        _ => zone,
    };
    DestinationRow {
        field: f.field.to_string(),
        kind: kind_name(p.kind()),
        e164: p.e164().to_string(),
        raw: texts[i].clone().unwrap_or_default(),
        time_zone: Some(dtz.name().to_string()),
        tz_source: dsrc.to_string(),
        companions: companions(s, plan, texts, f),
    }
}

/// The companion values of a destination: CallerID and Compliance for the
/// system phone fields, the associated user fields for a phone user field.
fn companions(s: &BatchSettings<'_>, plan: &Plan<'_>, texts: &[Option<String>], f: &FieldPlan<'_>) -> Option<String> {
    let value_of = |field: &str| {
        plan.fields.iter().position(|p| p.field.eq_ignore_ascii_case(field)).and_then(|i| texts[i].as_deref())
    };
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    match f.rule {
        Rule::System(_) => {
            for role in ["CallerID", "Compliance"] {
                if let Some(v) = value_of(role) {
                    pairs.push((role, v));
                }
            }
        }
        Rule::User(i) => {
            if let Some(u) = s.user_fields.get(i) {
                for (role, field) in &u.associations {
                    if let Some(v) = value_of(field) {
                        pairs.push((role, v));
                    }
                }
            }
        }
    }
    if pairs.is_empty() {
        return None;
    }
    Some(json_object(pairs.into_iter(), 64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::model::MapEntry;
    use std::sync::Arc;

    fn record(i: usize) -> Value {
        let mut o = Object::new();
        // Every ninth id repeats one from far earlier (another slice), every
        // eleventh is blank, every thirteenth phone is bad, every seventeenth
        // record has expired.
        let id = match i {
            _ if i.is_multiple_of(11) => String::new(),
            _ if i.is_multiple_of(9) => format!("A{}", i / 3),
            _ => format!("A{i}"),
        };
        let phone = if i.is_multiple_of(13) { "555-12".to_string() } else { format!("(212) 555-{:04}", i % 10_000) };
        let expires = if i.is_multiple_of(17) { "2020-01-01" } else { "2030-01-01" };
        for (k, v) in [("Id", id), ("Phone", phone), ("Zip", "10001".into()), ("Until", expires.into())] {
            o.insert(k.into(), Value::text(v));
        }
        Value::Object(Arc::new(o))
    }

    #[test]
    fn slices_on_several_threads_give_what_one_thread_gives() {
        let map = SourceMap {
            version: 1,
            entries: [("ExternalID", "Id"), ("PhoneNumber", "Phone"), ("Zip", "Zip"), ("ExpirationDate", "Until")]
                .iter()
                .map(|(f, l)| MapEntry { field: f.to_string(), label: l.to_string() })
                .collect(),
        };
        let settings = BatchSettings {
            map: &map,
            user_fields: &[],
            max_destinations: 6,
            use_default_zone: false,
            default_zone: None,
            default_expiration: None,
            now: "2026-11-21T12:00:00Z".parse().expect("time"),
        };
        let records: Vec<Value> = (1..=1_001).map(record).collect();
        let one = prepare_on(&settings, &records, 1);
        let codes = |p: &Prepared, code: ResultCode| {
            p.outcomes.iter().filter(|o| matches!(o, RecordOutcome::Failed { code: c, .. } if *c == code)).count()
        };
        assert!(codes(&one, ResultCode::DuplicateExternalID) > 50);
        assert!(codes(&one, ResultCode::MissingExternalID) > 50);
        assert!(codes(&one, ResultCode::Expired) > 30);
        assert!(codes(&one, ResultCode::InvalidPhoneNumber) > 30);
        assert!(one.rows.len() > 500);
        for threads in [2, 3, 4] {
            let many = prepare_on(&settings, &records, threads);
            assert_eq!(many.outcomes, one.outcomes, "{threads} threads");
            assert_eq!(many.rows, one.rows, "{threads} threads");
        }
    }
}
