//! Time zones: reading zone names the way script authors write them, and
//! finding the zone of a record or of a phone number (`spec/timezones.md`).
//!
//! Zones are always kept as IANA names (`America/New_York`), never as fixed
//! offsets, so daylight saving is computed when a time is needed. Authors
//! and lead files also write Windows names (`Eastern Standard Time`), US
//! names (`Eastern`, `Arizona`) and abbreviations (`EST`, `PDT`); all of
//! them map to one IANA zone here.
//!
//! | module | owns |
//! |---|---|
//! | this file | [`parse_zone`]: IANA, Windows (CLDR windowsZones) and US names |
//! | `phone` | [`parse_phone`]: text → dialable E.164 number, NANP rules, number type |
//! | `prefix` | [`number_zone`]: a number's zone from libphonenumber's prefix map |
//! | `zip` | [`zip_zone`], [`city_state_zone`]: US ZIP and city+state → zone |
//! | `resolve` | [`resolve_record`]: the record-level order of rules |
//! | `answer` | [`answer`]: one phone's zones, mismatch and window, as `prospero tz` prints it |
//! | `window` | [`CallingWindows`]: skill hours, callable now, next opening, intersections |
//! | `table` | loading `data/phone_zones.tsv` (private) |
//!
//! Reference data is compiled in and versioned: [`PHONE_DATA_VERSION`],
//! [`ZIP_DATA_VERSION`], [`WINDOWS_ZONES_VERSION`], and the tzf-rs polygon
//! data ([`coordinates_data_version`]). `tools/gen_phone_zones.py` and
//! `tools/gen_windows_zones.py` regenerate the tables under `data/`.

mod answer;
mod phone;
mod prefix;
mod resolve;
mod table;
mod window;
mod zip;

pub use answer::{WindowCheck, ZoneAnswer, answer, record_answer, rule_data_version, window_zones};
pub use phone::{PhoneError, PhoneKind, PhoneNumber, parse_phone};
pub use prefix::{NumberZone, PHONE_DATA_VERSION, UnknownRule, ZoneRule, number_zone};
pub use resolve::{RecordHints, RecordZone, coordinates_data_version, resolve_record};
pub use window::{CallingWindows, WindowError};
pub use zip::{ZIP_DATA_VERSION, city_state_zone, zip_zone};

use chrono_tz::Tz;
use std::sync::LazyLock;

/// CLDR's Windows → IANA mapping (territory 001 rows), written by
/// `tools/gen_windows_zones.py`.
const WINDOWS_ZONES: &str = include_str!("../../data/windows_zones.tsv");

/// The version of the Windows-name data; a test checks it against the header
/// of `data/windows_zones.tsv`.
pub const WINDOWS_ZONES_VERSION: &str = "cldr-47";

/// Common US names and abbreviations, and the Windows names of the US zones
/// with the modern IANA name (CLDR keeps older canonical names such as
/// `America/Indianapolis`). These win over the CLDR table.
const ALIASES: &[(&str, &str)] = &[
    ("eastern", "America/New_York"),
    ("central", "America/Chicago"),
    ("mountain", "America/Denver"),
    ("pacific", "America/Los_Angeles"),
    ("alaska", "America/Anchorage"),
    ("hawaii", "Pacific/Honolulu"),
    ("arizona", "America/Phoenix"),
    ("atlantic", "America/Halifax"),
    ("newfoundland", "America/St_Johns"),
    ("est", "America/New_York"),
    ("edt", "America/New_York"),
    ("cst", "America/Chicago"),
    ("cdt", "America/Chicago"),
    ("mst", "America/Denver"),
    ("mdt", "America/Denver"),
    ("pst", "America/Los_Angeles"),
    ("pdt", "America/Los_Angeles"),
    ("akst", "America/Anchorage"),
    ("akdt", "America/Anchorage"),
    ("hst", "Pacific/Honolulu"),
    ("ast", "America/Halifax"),
    ("adt", "America/Halifax"),
    ("nst", "America/St_Johns"),
    ("ndt", "America/St_Johns"),
    ("utc", "UTC"),
    ("gmt", "UTC"),
    ("eastern standard time", "America/New_York"),
    ("central standard time", "America/Chicago"),
    ("mountain standard time", "America/Denver"),
    ("us mountain standard time", "America/Phoenix"),
    ("pacific standard time", "America/Los_Angeles"),
    ("alaskan standard time", "America/Anchorage"),
    ("hawaiian standard time", "Pacific/Honolulu"),
    ("atlantic standard time", "America/Halifax"),
    ("newfoundland standard time", "America/St_Johns"),
    ("us eastern standard time", "America/Indiana/Indianapolis"),
];

/// Keys longer than this cannot be a known name (the longest is ~35 bytes),
/// so lookups normalise into a stack buffer of this size.
const KEY_MAX: usize = 64;

/// The Windows → IANA rows of the CLDR table, skipping header lines.
fn windows_rows() -> impl Iterator<Item = (&'static str, &'static str)> {
    WINDOWS_ZONES.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('\t'))
}

static BY_NAME: LazyLock<foldhash::HashMap<String, Tz>> = LazyLock::new(|| {
    let mut m: foldhash::HashMap<String, Tz> =
        chrono_tz::TZ_VARIANTS.iter().map(|tz| (tz.name().to_ascii_lowercase(), *tz)).collect();
    for (windows, iana) in windows_rows() {
        // A zone chrono-tz does not know is skipped (a test requires none).
        if let Ok(tz) = iana.parse::<Tz>() {
            m.entry(windows.to_ascii_lowercase()).or_insert(tz);
        }
    }
    for (alias, iana) in ALIASES {
        if let Ok(tz) = iana.parse::<Tz>() {
            m.insert((*alias).to_string(), tz);
        }
    }
    m
});

/// Read a zone name: IANA (any case), Windows name, US name or abbreviation.
/// Surrounding and repeated whitespace is ignored. Allocates nothing.
pub fn parse_zone(name: &str) -> Option<Tz> {
    let mut buf = [0u8; KEY_MAX];
    let mut n = 0;
    let mut space = false;
    for c in name.chars() {
        if c.is_whitespace() {
            space = n > 0;
            continue;
        }
        let mut tmp = [0u8; 4];
        let s = c.to_ascii_lowercase().encode_utf8(&mut tmp);
        let need = s.len() + usize::from(space);
        if n + need > KEY_MAX {
            return None;
        }
        if space {
            buf[n] = b' ';
            n += 1;
            space = false;
        }
        buf[n..n + s.len()].copy_from_slice(s.as_bytes());
        n += s.len();
    }
    let key = std::str::from_utf8(&buf[..n]).ok().filter(|k| !k.is_empty())?;
    BY_NAME.get(key).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe, Pacific};

    #[test]
    fn reads_iana_windows_and_us_names() {
        for (name, zone) in [
            ("america/new_york", Some(America::New_York)),
            ("Eastern Standard Time", Some(America::New_York)),
            (" Arizona ", Some(America::Phoenix)),
            ("PDT", Some(America::Los_Angeles)),
            ("Mars/Olympus", None),
            ("", None),
            ("   ", None),
        ] {
            assert_eq!(parse_zone(name), zone, "{name:?}");
        }
    }

    #[test]
    fn reads_every_cldr_windows_name() {
        for (name, zone) in [
            ("W. Europe Standard Time", Europe::Berlin),
            ("tokyo standard time", Asia::Tokyo),
            ("  India   Standard Time ", Asia::Calcutta),
            ("Hawaiian Standard Time", Pacific::Honolulu),
            ("Dateline Standard Time", chrono_tz::Etc::GMTPlus12),
            // The US rows keep the hand-picked modern name.
            ("US Eastern Standard Time", America::Indiana::Indianapolis),
        ] {
            assert_eq!(parse_zone(name), Some(zone), "{name:?}");
        }
        let mut rows = 0;
        for (windows, iana) in windows_rows() {
            rows += 1;
            assert!(iana.parse::<Tz>().is_ok(), "{windows} -> {iana} is not a chrono-tz zone");
            assert!(parse_zone(windows).is_some(), "{windows}");
        }
        assert!(rows >= 130, "only {rows} Windows names");
    }

    #[test]
    fn windows_version_matches_the_table_header() {
        let header = WINDOWS_ZONES.lines().find_map(|l| l.strip_prefix("# version: CLDR ")).expect("version line");
        let cldr = header.split_whitespace().next().unwrap_or("");
        assert_eq!(WINDOWS_ZONES_VERSION, format!("cldr-{cldr}"));
    }

    #[test]
    fn every_alias_names_a_zone() {
        for (alias, iana) in ALIASES {
            assert!(iana.parse::<Tz>().is_ok(), "{alias} -> {iana}");
        }
    }

    #[test]
    fn every_name_fits_the_lookup_buffer() {
        let longest = BY_NAME.keys().map(String::len).max().unwrap_or(0);
        assert!(longest < KEY_MAX, "{longest}");
        assert_eq!(parse_zone(&"x".repeat(500)), None);
    }
}
