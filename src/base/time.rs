//! Time as every layer writes and reads it: the stored UTC instant text
//! (fixed width, so text order is time order) and the dialect's date
//! readers (ISO 8601 / RFC 3339 and the US forms the product's examples use,
//! canonical `YYYY-MM-DD HH:MM:SS`).

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// The canonical text form of a date and time.
pub const CANONICAL: &str = "%Y-%m-%d %H:%M:%S";

const FORMATS: [&str; 14] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S%p",
    "%m/%d/%Y %I:%M%p",
    "%m-%d-%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
];
const DATE_FORMATS: [&str; 5] = ["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m-%d-%Y", "%d.%m.%Y"];

/// Read a date and time. Values with a UTC offset (RFC 3339) are converted
/// to UTC; others are taken as written (wall-clock time).
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.naive_utc());
    }
    for f in FORMATS {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Some(dt);
        }
    }
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return d.and_hms_opt(0, 0, 0);
        }
    }
    None
}

/// Format in the canonical form.
pub fn format_datetime(dt: &NaiveDateTime) -> String {
    dt.format(CANONICAL).to_string()
}

/// The current wall-clock time as stored (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn now_text() -> String {
    time_text(chrono::Utc::now())
}

/// A UTC instant as stored: fixed width, so text order is time order.
pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
