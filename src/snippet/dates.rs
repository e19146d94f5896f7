//! Reading and writing dates as the dialect sees them.
//!
//! Dates are text like every other scalar. Prospero's canonical form is
//! `YYYY-MM-DD HH:MM:SS` (24-hour clock, sortable, unambiguous); the readers
//! accept ISO 8601 / RFC 3339 and the US `M/D/YYYY [h:mm[:ss] [AM|PM]]`
//! forms the product's examples use.

use super::coerce::{round_half_away, text};
pub use crate::base::time::{format_datetime, parse_datetime};
use chrono::{NaiveDate, NaiveDateTime};

/// Normalize a `#"..."` literal to canonical text.
pub fn parse_date_literal(s: &str) -> Option<String> {
    parse_datetime(s).map(|d| format_datetime(&d))
}

/// Read a date from text (see [`parse_datetime`]).
pub fn read_date_text(s: &str) -> Option<NaiveDateTime> {
    parse_datetime(s)
}

/// Read a date from a value: date text, or a number of days since
/// 1899-12-30 (an OLE Automation date, as the product's date functions
/// accept; the fraction is the time of day).
pub fn read_date(d: &rhai::Dynamic) -> Option<NaiveDateTime> {
    if let Ok(days) = d.as_float() {
        return ole_date(days);
    }
    let t = text(d);
    parse_datetime(&t).or_else(|| crate::value::parse_number(&t).and_then(ole_date))
}

fn ole_date(days: f64) -> Option<NaiveDateTime> {
    if !days.is_finite() || days.abs() > 3_000_000.0 {
        return None;
    }
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let millis = (days * 86_400_000.0).round() as i64;
    epoch.checked_add_signed(chrono::Duration::milliseconds(millis))
}

/// Units of date arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Calendar years.
    Year,
    /// Quarters (3 months).
    Quarter,
    /// Calendar months.
    Month,
    /// Weeks (7 days).
    Week,
    /// Days.
    Day,
    /// Day of the week (0 = Sunday; for `datepart` and `dow`).
    Weekday,
    /// Day of the year (1..366; for `datepart`).
    DayOfYear,
    /// Hours.
    Hour,
    /// Minutes.
    Minute,
    /// Seconds.
    Second,
}

impl Unit {
    /// Read a unit name: full names, plurals and the VB abbreviations
    /// (`yyyy`, `q`, `m`, `ww`, `d`, `w`, `y`, `h`, `n`, `s`).
    pub fn parse(s: &str) -> Option<Unit> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_suffix('s').filter(|r| r.len() > 2).unwrap_or(&t);
        Some(match t {
            "year" | "yyyy" | "yy" => Unit::Year,
            "quarter" | "q" | "qq" => Unit::Quarter,
            "month" | "m" | "mm" => Unit::Month,
            "week" | "ww" | "wk" => Unit::Week,
            "day" | "d" | "dd" => Unit::Day,
            "weekday" | "w" | "dw" | "dayofweek" | "dow" => Unit::Weekday,
            "dayofyear" | "y" | "dy" => Unit::DayOfYear,
            "hour" | "h" | "hh" => Unit::Hour,
            "minute" | "n" | "mi" | "min" => Unit::Minute,
            "second" | "s" | "ss" | "sec" => Unit::Second,
            _ => return None,
        })
    }
}

/// `d` plus `n` units (fractions allowed below a day; months clamp to the
/// last day, as 31 January + 1 month is 28/29 February).
pub fn add(d: NaiveDateTime, unit: Unit, n: f64) -> Option<NaiveDateTime> {
    use chrono::Months;
    let secs = |k: f64| d.checked_add_signed(chrono::Duration::milliseconds((n * k * 1000.0).round() as i64));
    match unit {
        Unit::Year | Unit::Quarter | Unit::Month => {
            let months = n.trunc() as i64
                * match unit {
                    Unit::Year => 12,
                    Unit::Quarter => 3,
                    _ => 1,
                };
            if months >= 0 {
                d.checked_add_months(Months::new(u32::try_from(months).ok()?))
            } else {
                d.checked_sub_months(Months::new(u32::try_from(-months).ok()?))
            }
        }
        Unit::Week => secs(7.0 * 86_400.0),
        Unit::Day | Unit::Weekday | Unit::DayOfYear => secs(86_400.0),
        Unit::Hour => secs(3_600.0),
        Unit::Minute => secs(60.0),
        Unit::Second => secs(1.0),
    }
}

/// Whole `unit`s from `a` to `b` (negative when `b` is earlier); calendar
/// units count boundaries crossed, as VB's DateDiff does.
pub fn diff(unit: Unit, a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    use chrono::Datelike;
    let span = b.signed_duration_since(a);
    match unit {
        Unit::Year => (b.year() - a.year()) as i64,
        Unit::Quarter => ((b.year() - a.year()) * 4 + (b.month0() / 3) as i32 - (a.month0() / 3) as i32) as i64,
        Unit::Month => ((b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32) as i64,
        Unit::Week => span.num_days() / 7,
        Unit::Day | Unit::Weekday | Unit::DayOfYear => b.date().signed_duration_since(a.date()).num_days(),
        Unit::Hour => span.num_hours(),
        Unit::Minute => span.num_minutes(),
        Unit::Second => span.num_seconds(),
    }
}

/// One part of a date (the weekday counts from 0 = Sunday).
pub fn part(unit: Unit, d: &NaiveDateTime) -> i64 {
    use chrono::{Datelike, Timelike};
    match unit {
        Unit::Year => d.year() as i64,
        Unit::Quarter => (d.month0() / 3 + 1) as i64,
        Unit::Month => d.month() as i64,
        Unit::Week => d.iso_week().week() as i64,
        Unit::Day => d.day() as i64,
        Unit::Weekday => d.weekday().num_days_from_sunday() as i64,
        Unit::DayOfYear => d.ordinal() as i64,
        Unit::Hour => d.hour() as i64,
        Unit::Minute => d.minute() as i64,
        Unit::Second => d.second() as i64,
    }
}

/// A date from its parts.
pub fn build(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<NaiveDateTime> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, u32::try_from(mo).ok()?, u32::try_from(d).ok()?)?;
    date.and_hms_opt(u32::try_from(h).ok()?, u32::try_from(mi).ok()?, u32::try_from(s).ok()?)
}

/// Local wall-clock time in `tz` to UTC (the earlier instant when the hour
/// repeats; `None` in a daylight-saving gap).
pub fn local_to_utc(local: &NaiveDateTime, tz: chrono_tz::Tz) -> Option<NaiveDateTime> {
    use chrono::TimeZone;
    tz.from_local_datetime(local).earliest().map(|t| t.naive_utc())
}

/// Format with .NET-style tokens: `yyyy yy MM M dd d HH H hh h mm m ss s
/// fff tt zzz`; `'quoted'` text and other characters are copied.
pub fn format_pattern(d: &NaiveDateTime, pattern: &str, tz: chrono_tz::Tz) -> String {
    use chrono::{Datelike, Offset, TimeZone, Timelike};
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\'' {
                out.push(chars[j]);
                j += 1;
            }
            i = j + 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let piece = match (c, n) {
            ('y', 1 | 2) => format!("{:02}", d.year() % 100),
            ('y', _) => format!("{:04}", d.year()),
            ('M', 1) => d.month().to_string(),
            ('M', _) => format!("{:02}", d.month()),
            ('d', 1) => d.day().to_string(),
            ('d', _) => format!("{:02}", d.day()),
            ('H', 1) => d.hour().to_string(),
            ('H', _) => format!("{:02}", d.hour()),
            ('h', 1) => (((d.hour() + 11) % 12) + 1).to_string(),
            ('h', _) => format!("{:02}", ((d.hour() + 11) % 12) + 1),
            ('m', 1) => d.minute().to_string(),
            ('m', _) => format!("{:02}", d.minute()),
            ('s', 1) => d.second().to_string(),
            ('s', _) => format!("{:02}", d.second()),
            ('f', k) => format!("{:03}", d.nanosecond() / 1_000_000).chars().take(k.min(3)).collect(),
            ('t', 1) => (if d.hour() < 12 { "A" } else { "P" }).to_string(),
            ('t', _) => (if d.hour() < 12 { "AM" } else { "PM" }).to_string(),
            ('z', _) => {
                let offset =
                    tz.offset_from_local_datetime(d).earliest().map(|o| o.fix().local_minus_utc()).unwrap_or(0);
                if offset == 0 && n >= 3 {
                    "Z".to_string()
                } else {
                    let sign = if offset < 0 { '-' } else { '+' };
                    let a = offset.abs();
                    match n {
                        1 => format!("{sign}{}", a / 3600),
                        2 => format!("{sign}{:02}", a / 3600),
                        _ => format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60),
                    }
                }
            }
            (other, k) => other.to_string().repeat(k),
        };
        out.push_str(&piece);
        i += n;
    }
    out
}

/// Format a number with a .NET-style pattern: `0` digits are always
/// written, `#` only when significant, `,` groups thousands, `.` starts
/// the decimals (rounded half away from zero).
pub fn format_number_pattern(n: f64, pattern: &str) -> String {
    let (int_pat, dec_pat) = pattern.split_once('.').unwrap_or((pattern, ""));
    let min_int = int_pat.chars().filter(|c| *c == '0').count();
    let group = int_pat.contains(',');
    let max_dec = dec_pat.chars().filter(|c| *c == '0' || *c == '#').count();
    let min_dec = dec_pat.chars().filter(|c| *c == '0').count();
    let rounded = round_half_away(n, max_dec as i32);
    let neg = rounded < 0.0;
    let s = format!("{:.*}", max_dec, rounded.abs());
    let (int_part, mut dec_part) = match s.split_once('.') {
        Some((a, b)) => (a.to_string(), b.to_string()),
        None => (s.clone(), String::new()),
    };
    while dec_part.len() > min_dec && dec_part.ends_with('0') {
        dec_part.pop();
    }
    let mut int_part = if int_part == "0" && min_int == 0 { String::new() } else { int_part };
    while int_part.len() < min_int {
        int_part.insert(0, '0');
    }
    if group {
        let digits: Vec<char> = int_part.chars().collect();
        let mut g = String::new();
        for (k, c) in digits.iter().enumerate() {
            if k > 0 && (digits.len() - k).is_multiple_of(3) {
                g.push(',');
            }
            g.push(*c);
        }
        int_part = g;
    }
    let mut out = String::new();
    if neg && (int_part.chars().any(|c| c != '0' && c != ',') || dec_part.chars().any(|c| c != '0')) {
        out.push('-');
    }
    out.push_str(&int_part);
    if !dec_part.is_empty() {
        out.push('.');
        out.push_str(&dec_part);
    }
    if out.is_empty() || out == "-" {
        out = "0".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_parts_and_formats() {
        let d = parse_datetime("2026-01-31 13:05:09").unwrap();
        assert_eq!(format_datetime(&add(d, Unit::Month, 1.0).unwrap()), "2026-02-28 13:05:09");
        assert_eq!(format_datetime(&add(d, Unit::Day, -31.0).unwrap()), "2025-12-31 13:05:09");
        assert_eq!(diff(Unit::Month, d, parse_datetime("2026-03-01").unwrap()), 2);
        assert_eq!(diff(Unit::Day, d, parse_datetime("2026-02-01 00:00").unwrap()), 1);
        assert_eq!(part(Unit::Weekday, &d), 6); // a Saturday
        assert_eq!(format_pattern(&d, "yyyy-MM-dd h:mm tt", chrono_tz::UTC), "2026-01-31 1:05 PM");
        assert_eq!(format_pattern(&d, "dd/MM/yy 'at' HH", chrono_tz::UTC), "31/01/26 at 13");
        assert_eq!(format_pattern(&d, "zzz", chrono_tz::America::New_York), "-05:00");
        assert_eq!(format_number_pattern(1234.567, "#,##0.00"), "1,234.57");
        assert_eq!(format_number_pattern(0.5, "0.##"), "0.5");
        assert_eq!(format_number_pattern(7.0, "000"), "007");
        assert_eq!(format_number_pattern(-0.001, "0.00"), "0.00");
        assert_eq!(Unit::parse("Months"), Some(Unit::Month));
        assert_eq!(Unit::parse("n"), Some(Unit::Minute));
        assert_eq!(Unit::parse("fortnight"), None);
    }

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
        assert_eq!(ole_date(45000.5).map(|d| format_datetime(&d)).as_deref(), Some("2023-03-15 12:00:00"));
        assert_eq!(parse_date_literal("soon"), None);
    }
}
