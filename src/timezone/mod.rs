//! Time zones: reading zone names the way script authors write them.
//!
//! Zones are always kept as IANA names (`America/New_York`), never as fixed
//! offsets, so daylight saving is computed when a time is needed. Authors
//! and lead files also write Windows names (`Eastern Standard Time`), US
//! names (`Eastern`, `Arizona`) and abbreviations (`EST`, `PDT`); all of
//! them map to one IANA zone here.

use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Common US names, abbreviations and Windows names, with their IANA zone.
/// Windows names follow CLDR's windowsZones mapping (territory 001).
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
    ("utc", "UTC"),
];

static BY_NAME: LazyLock<HashMap<String, Tz>> = LazyLock::new(|| {
    let mut m: HashMap<String, Tz> =
        chrono_tz::TZ_VARIANTS.iter().map(|tz| (tz.name().to_ascii_lowercase(), *tz)).collect();
    for (alias, iana) in ALIASES {
        if let Ok(tz) = iana.parse::<Tz>() {
            m.insert((*alias).to_string(), tz);
        }
    }
    m
});

/// Read a zone name: IANA (any case), Windows name, US name or abbreviation.
pub fn parse_zone(name: &str) -> Option<Tz> {
    let key: String = name.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    if key.is_empty() {
        return None;
    }
    BY_NAME.get(&key).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_iana_windows_and_us_names() {
        assert_eq!(parse_zone("america/new_york"), Some(chrono_tz::America::New_York));
        assert_eq!(parse_zone("Eastern Standard Time"), Some(chrono_tz::America::New_York));
        assert_eq!(parse_zone(" Arizona "), Some(chrono_tz::America::Phoenix));
        assert_eq!(parse_zone("PDT"), Some(chrono_tz::America::Los_Angeles));
        assert_eq!(parse_zone("Mars/Olympus"), None);
        assert_eq!(parse_zone(""), None);
    }

    #[test]
    fn every_alias_names_a_zone() {
        for (alias, iana) in ALIASES {
            assert!(iana.parse::<Tz>().is_ok(), "{alias} -> {iana}");
        }
    }
}
