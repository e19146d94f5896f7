//! What CREATEPROSPECTS and GETPROSPECT report: the record report of
//! [`crate::base::batch`] (every input record once, in input order, with its
//! ResultCode) with outbound's members on top: each stored record's zone,
//! its destinations with their zones and calling windows, and its warnings.

use super::model::{DestinationRow, ProspectRow, Saved};
use super::prospects::{Prepared, RecordOutcome, ResultCode};
use crate::base::batch::{RecordCode, ReportDraft, SharedTexts, add_member};
use crate::timezone::{ZoneRule, rule_data_version};
use crate::value::{Object, Str, Value};
use std::sync::Arc;

impl RecordCode for ResultCode {
    const STORED: &'static [ResultCode] = &[ResultCode::Created, ResultCode::Updated];

    fn as_str(self) -> &'static str {
        ResultCode::as_str(self)
    }
}

/// Counts of a batch (the `Summary` member).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records received.
    pub received: usize,
    /// New prospects.
    pub created: usize,
    /// Replaced prospects.
    pub updated: usize,
    /// Refused records.
    pub failed: usize,
}

/// The `Results` lists built before the batch is stored: everything but
/// each stored record's ResultCode (Created or Updated) and ProspectID,
/// which [`ResultsDraft::finish`] fills in. Building the draft while the
/// store writes lets a batch use two cores.
pub struct ResultsDraft(ReportDraft<ResultCode>);

/// The member names outbound adds to records and destinations, made once.
struct MemberNames {
    time_zone: Str,
    time_zone_source: Str,
    time_zone_data_version: Str,
    record_time_zone: Str,
    time_zone_mismatch: Str,
    callable_window: Str,
    window_zones: Str,
    field: Str,
    phone_number: Str,
    destinations: Str,
    warnings: Str,
}

impl Default for MemberNames {
    fn default() -> MemberNames {
        MemberNames {
            time_zone: Str::from("TimeZone"),
            time_zone_source: Str::from("TimeZoneSource"),
            time_zone_data_version: Str::from("TimeZoneDataVersion"),
            record_time_zone: Str::from("RecordTimeZone"),
            time_zone_mismatch: Str::from("TimeZoneMismatch"),
            callable_window: Str::from("CallableWindow"),
            window_zones: Str::from("WindowZones"),
            field: Str::from("Field"),
            phone_number: Str::from("PhoneNumber"),
            destinations: Str::from("Destinations"),
            warnings: Str::from("Warnings"),
        }
    }
}

/// The texts outbound's reports repeat (member names, zone names, rules,
/// data versions, the skill's window spec, field names), each made once
/// (see [`SharedTexts`]).
#[derive(Default)]
pub struct ReportTexts {
    texts: SharedTexts,
    /// The member names the report adds.
    names: MemberNames,
    /// `WindowZones` arrays by (number zone, record zone).
    zone_lists: foldhash::HashMap<(Str, Str), Value>,
    /// Per stored provenance name: its text and its data version.
    sources: foldhash::HashMap<Str, (Value, Value)>,
}

impl ReportTexts {
    /// An empty cache.
    pub fn new() -> ReportTexts {
        ReportTexts::default()
    }

    /// `s` as a shared text.
    pub fn name(&mut self, s: &str) -> Str {
        self.texts.name(s)
    }

    /// `s` as a shared text value.
    pub fn text(&mut self, s: &str) -> Value {
        self.texts.text(s)
    }

    /// A stored provenance name as a shared text, and the reference data
    /// behind it (`Null` for the default zone, which no data decided).
    pub fn source(&mut self, tz_source: &str) -> (Value, Value) {
        if let Some(pair) = self.sources.get(tz_source) {
            return pair.clone();
        }
        let version = match tz_source.parse::<ZoneRule>().ok().and_then(rule_data_version) {
            Some(v) => self.text(v),
            None => Value::Null,
        };
        let name = self.name(tz_source);
        let pair = (Value::Text(name.clone()), version);
        self.sources.insert(name, pair.clone());
        pair
    }

    /// A destination's zone and window members, as CREATEPROSPECTS and
    /// GETPROSPECT report them: its zone with rule and data version, the
    /// record's zone, whether the two differ, and its calling window. The
    /// window is derived, never stored: the skill's local hours, which must
    /// hold in every zone of `WindowZones` (the number's, and the record's
    /// when it differs), so a mismatched destination is callable only in the
    /// intersection. `record` is the record's zone and `window` the skill's
    /// hours, both from [`ReportTexts::text`].
    pub fn destination_fields(&mut self, m: &mut Object, d: &DestinationRow, record: &Str, window: &Value) {
        let (zone, mismatch) = match d.time_zone.as_deref() {
            Some(z) if z != record.as_str() => (self.name(z), true),
            _ => (record.clone(), false),
        };
        let record = record.clone();
        let (source, version) = self.source(&d.tz_source);
        m.insert(self.names.time_zone.clone(), Value::Text(zone.clone()));
        m.insert(self.names.time_zone_source.clone(), source);
        m.insert(self.names.time_zone_data_version.clone(), version);
        m.insert(self.names.record_time_zone.clone(), Value::Text(record.clone()));
        m.insert(self.names.time_zone_mismatch.clone(), Value::Bool(mismatch));
        m.insert(self.names.callable_window.clone(), window.clone());
        let zones = self
            .zone_lists
            .entry((zone.clone(), record.clone()))
            .or_insert_with(|| {
                let list =
                    if mismatch { vec![Value::Text(zone), Value::Text(record)] } else { vec![Value::Text(zone)] };
                Value::array(list)
            })
            .clone();
        m.insert(self.names.window_zones.clone(), zones);
    }

    /// The members a stored record gets after its ResultCode and ProspectID
    /// (as many as [`STORED_MEMBERS`]): its zone, provenance and data
    /// version, its destinations, its warnings.
    fn stored_members(&mut self, o: &mut Object, r: &ProspectRow, window: &Value, warnings: Value) {
        let record = self.name(&r.time_zone);
        let (source, version) = self.source(&r.tz_source);
        add_member(o, self.names.time_zone.clone(), Value::Text(record.clone()));
        add_member(o, self.names.time_zone_source.clone(), source);
        add_member(o, self.names.time_zone_data_version.clone(), version);
        let dests: Vec<Value> = r
            .destinations
            .iter()
            .map(|d| {
                let mut m = Object::with_capacity(9);
                m.insert(self.names.field.clone(), self.text(&d.field));
                m.insert(self.names.phone_number.clone(), Value::text(d.e164.as_str()));
                self.destination_fields(&mut m, d, &record, window);
                Value::Object(Arc::new(m))
            })
            .collect();
        add_member(o, self.names.destinations.clone(), Value::array(dests));
        add_member(o, self.names.warnings.clone(), warnings);
    }
}

/// How many members [`ReportTexts::stored_members`] adds.
const STORED_MEMBERS: usize = 5;

/// Build the [`ResultsDraft`] of a prepared batch; `windows` is the skill's
/// calling windows, reported per destination.
pub fn draft_results(records: &[Value], prepared: &Prepared, windows: &str) -> ResultsDraft {
    let mut report = ReportDraft::new("ProspectID", records.len(), prepared.rows.len());
    let mut texts = ReportTexts::new();
    let no_warnings = Value::array(Vec::new());
    let window = texts.text(windows);
    for (rec, outcome) in records.iter().zip(&prepared.outcomes) {
        match outcome {
            RecordOutcome::Valid { row, warnings } => {
                let warnings = if warnings.is_empty() {
                    no_warnings.clone()
                } else {
                    Value::array(warnings.iter().map(|w| Value::text(w.as_str())).collect())
                };
                let row = &prepared.rows[*row];
                report.stored(rec, STORED_MEMBERS, |o| texts.stored_members(o, row, &window, warnings));
            }
            RecordOutcome::Failed { code, message } => report.refused(rec, *code, message),
        }
    }
    ResultsDraft(report)
}

impl ResultsDraft {
    /// Fill in what storing decided (`saved`, in the order of the prepared
    /// rows) and assemble `Results`.
    pub fn finish(self, saved: &[Saved]) -> (Value, Summary) {
        let outcomes = saved
            .iter()
            .map(|s| (if s.created { ResultCode::Created } else { ResultCode::Updated }, s.id))
            .chain(std::iter::repeat((ResultCode::Created, 0)));
        let (results, tally) = self.0.finish(outcomes);
        let summary = Summary {
            received: tally.received,
            created: tally.count(ResultCode::Created),
            updated: tally.count(ResultCode::Updated),
            failed: tally.failed,
        };
        (results, summary)
    }
}
