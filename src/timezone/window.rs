//! Calling windows: the local hours a skill may dial (timezones.md §3).
//!
//! A window spec names days and local time ranges, for example
//! `Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00`. Parts are separated by `;`;
//! each part is a day list (`Mon-Fri`, `Sat,Sun`, `Daily`) followed by one
//! or more ranges (`08:00-12:00, 13:00-21:00`). A range may end at `24:00`;
//! a day named twice gets both parts' ranges. Days not named are closed.
//!
//! Times are local to a zone given at use time, so daylight saving comes
//! out of chrono-tz, never from stored offsets. A destination whose record
//! zone and number zone differ may be called only when both zones' local
//! clocks are inside the windows: the intersection.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Allowed local hours per weekday (Monday first), as minute ranges
/// `[start, end)` of the day, sorted and not overlapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallingWindows {
    days: [Vec<(u16, u16)>; 7],
}

/// A window spec that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("calling window '{spec}': {reason}")]
pub struct WindowError {
    /// The spec as given.
    pub spec: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A weekday by name: three letters or more of its English name ("Mon",
/// "Tues", "Wednesday"), any case.
fn day_index(name: &str) -> Option<usize> {
    const FULL: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let n = name.trim().to_ascii_lowercase();
    FULL.iter().position(|f| n.len() >= 3 && f.starts_with(&n))
}

fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

impl FromStr for CallingWindows {
    type Err = WindowError;

    fn from_str(spec: &str) -> Result<CallingWindows, WindowError> {
        let fail = |reason: String| WindowError { spec: spec.to_string(), reason };
        let mut w = CallingWindows::default();
        for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (days, ranges) = part
                .split_once(char::is_whitespace)
                .ok_or_else(|| fail(format!("'{part}' needs days and then time ranges")))?;
            let mut selected = [false; 7];
            for d in days.split(',').map(str::trim) {
                if d.eq_ignore_ascii_case("daily") {
                    selected = [true; 7];
                } else if let Some((a, b)) = d.split_once('-') {
                    let (a, b) = (day_index(a), day_index(b));
                    let (Some(a), Some(b)) = (a, b) else {
                        return Err(fail(format!("'{d}' is not a day range")));
                    };
                    // Wrapping ranges such as Sat-Mon are allowed.
                    let mut i = a;
                    loop {
                        selected[i] = true;
                        if i == b {
                            break;
                        }
                        i = (i + 1) % 7;
                    }
                } else {
                    selected[day_index(d).ok_or_else(|| fail(format!("'{d}' is not a day")))?] = true;
                }
            }
            for r in ranges.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                let (a, b) = r.split_once('-').ok_or_else(|| fail(format!("'{r}' is not a time range")))?;
                let (Some(a), Some(b)) = (minutes(a), minutes(b)) else {
                    return Err(fail(format!("'{r}' is not a time range (HH:MM-HH:MM)")));
                };
                if a >= b {
                    return Err(fail(format!("'{r}' ends before it starts")));
                }
                for (i, on) in selected.iter().enumerate() {
                    if *on {
                        w.days[i].push((a, b));
                    }
                }
            }
        }
        for day in &mut w.days {
            day.sort_unstable();
            // Merge overlapping or touching ranges.
            let mut merged: Vec<(u16, u16)> = Vec::with_capacity(day.len());
            for &(a, b) in day.iter() {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            *day = merged;
        }
        Ok(w)
    }
}

impl fmt::Display for CallingWindows {
    /// The canonical spec: consecutive days with the same ranges grouped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let mut i = 0;
        while i < 7 {
            let mut j = i;
            while j + 1 < 7 && self.days[j + 1] == self.days[i] {
                j += 1;
            }
            if !self.days[i].is_empty() {
                let days = if i == j { DAYS[i].to_string() } else { format!("{}-{}", DAYS[i], DAYS[j]) };
                let ranges: Vec<String> =
                    self.days[i].iter().map(|&(a, b)| format!("{}-{}", hhmm(a), hhmm(b))).collect();
                parts.push(format!("{days} {}", ranges.join(", ")));
            }
            i = j + 1;
        }
        f.write_str(&parts.join("; "))
    }
}

impl CallingWindows {
    /// No hour of any day is open.
    pub fn is_closed(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Is the local time at `at` in `tz` inside the windows?
    pub fn open_in(&self, tz: Tz, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&tz);
        let day = local.weekday().num_days_from_monday() as usize;
        let m = (local.hour() * 60 + local.minute()) as u16;
        self.days[day].iter().any(|&(a, b)| a <= m && m < b)
    }

    /// May a destination be called at `at`: inside the windows in every
    /// one of `zones` (the record's and the number's when they differ).
    pub fn callable(&self, zones: &[Tz], at: DateTime<Utc>) -> bool {
        !zones.is_empty() && zones.iter().all(|&tz| self.open_in(tz, at))
    }

    /// The first instant at or after `at` when [`CallingWindows::callable`]
    /// holds, within the coming eight days; `None` when the windows never
    /// open together (closed windows, or zones too far apart).
    ///
    /// The intersection of the zones' open hours can only begin at `at` or
    /// where one zone's window begins, so those instants are the only
    /// candidates.
    pub fn next_open(&self, zones: &[Tz], at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if zones.is_empty() || self.is_closed() {
            return None;
        }
        if self.callable(zones, at) {
            return Some(at);
        }
        let mut candidates: Vec<DateTime<Utc>> = Vec::new();
        for &tz in zones {
            let today = at.with_timezone(&tz).date_naive();
            for offset in 0..9 {
                let Some(date) = today.checked_add_signed(Duration::days(offset)) else { continue };
                let day = date.weekday().num_days_from_monday() as usize;
                for &(start, _) in &self.days[day] {
                    if let Some(t) = local_instant(tz, date, start)
                        && t > at
                    {
                        candidates.push(t);
                    }
                }
            }
        }
        candidates.sort_unstable();
        candidates.into_iter().find(|&t| self.callable(zones, t))
    }
}

/// The instant of local `minute` on `date` in `tz`. A time skipped by a
/// daylight-saving change (02:30 on the spring-forward day) becomes the
/// first instant after the gap; a repeated one (fall back) the earlier.
fn local_instant(tz: Tz, date: NaiveDate, minute: u16) -> Option<DateTime<Utc>> {
    let naive = if minute >= 24 * 60 {
        date.succ_opt()?.and_time(NaiveTime::MIN)
    } else {
        date.and_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)?
    };
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, _) => Some(a.with_timezone(&Utc)),
        LocalResult::None => {
            // Inside a gap: step forward a minute at a time (gaps are at
            // most a few hours) to the first local time that exists.
            (1..=180)
                .find_map(|k| tz.from_local_datetime(&(naive + Duration::minutes(k))).earliest())
                .map(|t| t.with_timezone(&Utc))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    fn w(spec: &str) -> CallingWindows {
        spec.parse().expect("spec")
    }

    const STD: &str = "Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00";

    #[test]
    fn reads_and_writes_specs() {
        assert_eq!(w(STD).to_string(), STD);
        assert_eq!(w("mon,tue,wed,thu,fri 8:00-12:00, 13:00-21:00").to_string(), "Mon-Fri 08:00-12:00, 13:00-21:00");
        assert_eq!(w("Daily 09:00-17:00").to_string(), "Mon-Sun 09:00-17:00");
        assert_eq!(w("Sat-Mon 10:00-24:00").to_string(), "Mon 10:00-24:00; Sat-Sun 10:00-24:00");
        assert_eq!(w("Mon 08:00-10:00; Mon 09:00-12:00").to_string(), "Mon 08:00-12:00");
        for bad in ["Mon", "Funday 08:00-09:00", "Mon 09:00-08:00", "Mon 25:00-26:00", "Mon 08:00", "Mon 8-9"] {
            assert!(bad.parse::<CallingWindows>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ordinary_weekday_and_weekend() {
        let ny = America::New_York;
        // Friday 2026-11-20 14:00 UTC = 09:00 EST.
        assert!(w(STD).callable(&[ny], utc("2026-11-20T14:00:00Z")));
        // 07:59 EST is too early; the window opens at 08:00 local.
        let early = utc("2026-11-20T12:59:00Z");
        assert!(!w(STD).callable(&[ny], early));
        assert_eq!(w(STD).next_open(&[ny], early), Some(utc("2026-11-20T13:00:00Z")));
        // Friday 21:30 EST: next is Saturday 10:00 EST.
        assert_eq!(w(STD).next_open(&[ny], utc("2026-11-21T02:30:00Z")), Some(utc("2026-11-21T15:00:00Z")));
    }

    #[test]
    fn dst_start_and_end_days_2026() {
        let ny = America::New_York;
        let sat_sun = w("Daily 08:00-21:00");
        // Sunday March 8, 2026: clocks go 02:00 EST -> 03:00 EDT. 08:00 local
        // is 12:00 UTC (EDT), not 13:00.
        assert_eq!(sat_sun.next_open(&[ny], utc("2026-03-08T06:00:00Z")), Some(utc("2026-03-08T12:00:00Z")));
        assert!(sat_sun.callable(&[ny], utc("2026-03-08T12:00:00Z")));
        assert!(!sat_sun.callable(&[ny], utc("2026-03-08T11:59:00Z")));
        // Sunday November 1, 2026: 02:00 EDT -> 01:00 EST. 08:00 local is
        // 13:00 UTC; 21:00 local ends at 02:00 UTC next day.
        assert_eq!(sat_sun.next_open(&[ny], utc("2026-11-01T06:00:00Z")), Some(utc("2026-11-01T13:00:00Z")));
        assert!(sat_sun.callable(&[ny], utc("2026-11-02T01:59:00Z")));
        assert!(!sat_sun.callable(&[ny], utc("2026-11-02T02:00:00Z")));
        // A window starting inside the spring-forward gap opens at 03:00 EDT.
        let night = w("Sun 02:30-04:00");
        assert_eq!(night.next_open(&[ny], utc("2026-03-08T05:00:00Z")), Some(utc("2026-03-08T07:00:00Z")));
    }

    #[test]
    fn zones_without_dst_and_half_hour_zones() {
        let std = w(STD);
        // Arizona stays on UTC-7 all year: 08:00 local = 15:00 UTC in
        // January and in July.
        for day in ["2026-01-14", "2026-07-15"] {
            let at = utc(&format!("{day}T14:00:00Z"));
            assert_eq!(std.next_open(&[America::Phoenix], at), Some(utc(&format!("{day}T15:00:00Z"))));
        }
        // Hawaii, UTC-10 all year.
        assert_eq!(
            std.next_open(&[chrono_tz::Pacific::Honolulu], utc("2026-07-15T12:00:00Z")),
            Some(utc("2026-07-15T18:00:00Z"))
        );
        // Newfoundland, UTC-3:30 in winter: 08:00 local = 11:30 UTC.
        assert_eq!(std.next_open(&[America::St_Johns], utc("2026-01-14T10:00:00Z")), Some(utc("2026-01-14T11:30:00Z")));
        assert!(!std.callable(&[America::St_Johns], utc("2026-01-14T11:29:00Z")));
    }

    #[test]
    fn mismatched_zones_intersect() {
        let std = w(STD);
        let zones = [America::New_York, America::Los_Angeles];
        // 08:00 in New York is 05:00 in Los Angeles: wait for 08:00 there.
        let at = utc("2026-11-20T13:00:00Z");
        assert!(std.callable(&[America::New_York], at));
        assert!(!std.callable(&zones, at));
        assert_eq!(std.next_open(&zones, at), Some(utc("2026-11-20T16:00:00Z")));
        // 20:59 New York (17:59 LA) is the last callable minute.
        assert!(std.callable(&zones, utc("2026-11-21T01:59:00Z")));
        assert!(!std.callable(&zones, utc("2026-11-21T02:00:00Z")));
        // Windows that never overlap across the zones never open.
        let short = w("Daily 08:00-09:00");
        assert_eq!(short.next_open(&zones, at), None);
        assert_eq!(CallingWindows::default().next_open(&[America::New_York], at), None);
    }
}
