//! One phone's full zone answer, as `prospero tz` prints it: the number's
//! own zone with its rule and the other candidates, the record's zone from
//! the record rules (with this phone as the primary phone), whether the two
//! disagree, and, for an instant and a window spec, whether it may be
//! called and when its window next opens.

use super::{
    CallingWindows, NumberZone, PhoneNumber, RecordHints, RecordZone, ZoneRule, number_zone, parse_phone,
    resolve_record,
};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// The answer for one phone. Field names are the CLI's JSON contract.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneAnswer {
    /// The phone as given.
    pub input: String,
    /// E.164 form; `None` when the input is not a phone number.
    pub e164: Option<String>,
    /// Why the input is not a phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The number's own zone; `None` when undetermined or unknown.
    pub time_zone: Option<String>,
    /// The rule that gave `time_zone` (`npa-nxx`, `npa`, `country`), or
    /// `undetermined` / `unknown`.
    pub source: String,
    /// Every zone the number's prefix allows (one when determined).
    pub candidates: Vec<String>,
    /// The record's zone from the record rules.
    pub record_time_zone: Option<String>,
    /// The rule that gave `record_time_zone`, or `none`.
    pub record_source: String,
    /// Number zone and record zone are both known and differ.
    pub mismatch: bool,
    /// The reference data behind the answer.
    pub data_version: String,
    /// With an instant and a window: may it be called then (in every known
    /// zone of the two; never when no zone is known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callable: Option<bool>,
    /// With an instant and a window: when the window next opens (RFC 3339
    /// UTC); `None` when callable now or never within a week.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_open: Option<Option<String>>,
}

/// The instant and window to check a phone against.
#[derive(Clone, Debug)]
pub struct WindowCheck {
    /// The instant.
    pub at: DateTime<Utc>,
    /// The allowed local hours.
    pub windows: CallingWindows,
}

/// The zones a destination's window must hold in: its number's zone and its
/// record's, once each, the known ones only.
pub fn window_zones(number: Option<Tz>, record: Option<Tz>) -> Vec<Tz> {
    let mut zones: Vec<Tz> = number.into_iter().collect();
    if let Some(r) = record
        && !zones.contains(&r)
    {
        zones.push(r);
    }
    zones
}

/// Answer for one phone, the record described by `hints` (its
/// `primary_phone` is replaced by this phone).
pub fn answer(input: &str, hints: &RecordHints<'_>, check: Option<&WindowCheck>) -> ZoneAnswer {
    let parsed: Result<PhoneNumber, _> = parse_phone(input);
    let (number, e164, error) = match &parsed {
        Ok(p) => (number_zone(p), Some(p.e164().to_string()), None),
        Err(e) => (NumberZone::Unknown, None, Some(e.to_string())),
    };
    let (time_zone, source, candidates) = match &number {
        NumberZone::Zone { tz, rule } => (Some(*tz), rule.as_str(), vec![*tz]),
        NumberZone::Undetermined { candidates } => (None, "undetermined", candidates.clone()),
        NumberZone::Unknown => (None, "unknown", Vec::new()),
    };
    let record_hints = RecordHints { primary_phone: parsed.as_ref().ok(), ..*hints };
    let number = NumberPart { input, e164, error, time_zone, source, candidates };
    finish(number, &record_hints, check)
}

/// The answer for a record without a phone (`prospero tz --zip 10001`):
/// the record's zone alone, `source` `none`.
pub fn record_answer(hints: &RecordHints<'_>, check: Option<&WindowCheck>) -> ZoneAnswer {
    let number =
        NumberPart { input: "", e164: None, error: None, time_zone: None, source: "none", candidates: Vec::new() };
    finish(number, &RecordHints { primary_phone: None, ..*hints }, check)
}

/// What the phone itself gave.
struct NumberPart<'a> {
    input: &'a str,
    e164: Option<String>,
    error: Option<String>,
    time_zone: Option<Tz>,
    source: &'a str,
    candidates: Vec<Tz>,
}

/// The record's zone, the versions behind both and the window check.
fn finish(n: NumberPart<'_>, record_hints: &RecordHints<'_>, check: Option<&WindowCheck>) -> ZoneAnswer {
    let NumberPart { input, e164, error, time_zone, source, candidates } = n;
    let (record, record_rule) = match resolve_record(record_hints) {
        RecordZone::Found { tz, rule } => (Some(tz), Some(rule)),
        _ => (None, None),
    };
    let mut versions = if e164.is_some() || !input.is_empty() { vec![super::PHONE_DATA_VERSION] } else { Vec::new() };
    if let Some(rule) = record_rule
        && let Some(v) = rule_data_version(rule)
        && !versions.contains(&v)
    {
        versions.push(v);
    }
    let (callable, next_open) = match check {
        Some(c) => {
            let zones = window_zones(time_zone, record);
            let callable = c.windows.callable(&zones, c.at);
            let next = if callable { None } else { c.windows.next_open(&zones, c.at) };
            (Some(callable), Some(next.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))))
        }
        None => (None, None),
    };
    ZoneAnswer {
        input: input.to_string(),
        e164,
        error,
        time_zone: time_zone.map(|t| t.name().to_string()),
        source: source.to_string(),
        candidates: candidates.iter().map(|t| t.name().to_string()).collect(),
        record_time_zone: record.map(|t| t.name().to_string()),
        record_source: record_rule.map_or("none", ZoneRule::as_str).to_string(),
        mismatch: matches!((time_zone, record), (Some(a), Some(b)) if a != b),
        data_version: if versions.is_empty() { "none".to_string() } else { versions.join(", ") },
        callable,
        next_open,
    }
}

/// The reference data a rule reads.
pub fn rule_data_version(rule: ZoneRule) -> Option<&'static str> {
    static COORDINATES: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("tzf-rs {}", super::coordinates_data_version()));
    match rule {
        ZoneRule::Explicit => Some(super::WINDOWS_ZONES_VERSION),
        ZoneRule::Coordinates => Some(COORDINATES.as_str()),
        ZoneRule::Zip | ZoneRule::CityState => Some(super::ZIP_DATA_VERSION),
        ZoneRule::NpaNxx | ZoneRule::Npa | ZoneRule::Country => Some(super::PHONE_DATA_VERSION),
        ZoneRule::Default => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_and_area_code_mismatch_intersects_windows() {
        // A Los Angeles number for a record whose ZIP is in New York City.
        let hints = RecordHints { zip: Some("10001"), ..RecordHints::default() };
        let check = WindowCheck {
            at: "2026-11-20T13:30:00Z".parse().expect("time"),
            windows: "Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00".parse().expect("spec"),
        };
        let a = answer("(213) 555-0142", &hints, Some(&check));
        assert_eq!(a.time_zone.as_deref(), Some("America/Los_Angeles"));
        assert_eq!(a.record_time_zone.as_deref(), Some("America/New_York"));
        assert_eq!(a.record_source, "zip");
        assert!(a.mismatch);
        // 08:30 in New York, 05:30 in Los Angeles: not yet; opens at 08:00
        // Los Angeles time.
        assert_eq!(a.callable, Some(false));
        assert_eq!(a.next_open, Some(Some("2026-11-20T16:00:00Z".to_string())));
    }

    /// Regression (issue 16): `tz --zip 99999` refused to answer without
    /// a phone; a record alone has an answer.
    #[test]
    fn tz_zip_alone_answers_the_record_zone() {
        let a = record_answer(&RecordHints { zip: Some("10001"), ..RecordHints::default() }, None);
        assert_eq!((a.input.as_str(), a.e164.as_deref(), a.source.as_str()), ("", None, "none"));
        assert_eq!(a.record_time_zone.as_deref(), Some("America/New_York"));
        assert_eq!(a.record_source, "zip");
        assert!(!a.mismatch);
        assert_eq!(a.data_version, rule_data_version(ZoneRule::Zip).expect("zip data"));
        let unknown = record_answer(&RecordHints { zip: Some("99999"), ..RecordHints::default() }, None);
        assert_eq!((unknown.record_time_zone, unknown.record_source.as_str()), (None, "none"));
    }

    #[test]
    fn bad_input_and_undetermined_numbers() {
        let a = answer("call me", &RecordHints::default(), None);
        assert_eq!(a.e164, None);
        assert!(a.error.is_some());
        assert_eq!(a.source, "unknown");
        // Toll-free numbers carry the whole country's zones: undetermined.
        let t = answer("1-800-555-0199", &RecordHints::default(), None);
        assert_eq!(t.time_zone, None);
        assert_eq!(t.source, "undetermined");
        assert!(t.candidates.len() > 1, "{:?}", t.candidates);
        assert!(!t.mismatch);
    }
}
