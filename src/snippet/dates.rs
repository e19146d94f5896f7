//! Reading and writing dates as the dialect sees them.
//!
//! Dates are text like every other scalar. Prospero's canonical form is
//! `YYYY-MM-DD HH:MM:SS` (24-hour clock, sortable, unambiguous); the readers
//! accept ISO 8601 / RFC 3339 and the US `M/D/YYYY [h:mm[:ss] [AM|PM]]`
//! forms the product's examples use.

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

/// Normalize a `#"..."` literal to canonical text.
pub fn parse_date_literal(s: &str) -> Option<String> {
    parse_datetime(s).map(|d| format_datetime(&d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_forms() {
        for (input, want) in [
            ("02/09/2023", "2023-02-09 00:00:00"),
            ("2/9/2023 1:05 PM", "2023-02-09 13:05:00"),
            ("2023-02-09", "2023-02-09 00:00:00"),
            ("2023-02-09T08:30:00", "2023-02-09 08:30:00"),
            ("2023-02-09T08:30:00-05:00", "2023-02-09 13:30:00"),
            ("2023-02-09 08:30", "2023-02-09 08:30:00"),
        ] {
            assert_eq!(parse_date_literal(input).as_deref(), Some(want), "{input}");
        }
        assert_eq!(parse_date_literal("13/45/2023"), None);
        assert_eq!(parse_date_literal("soon"), None);
    }
}
