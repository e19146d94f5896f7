//! A phone number's own time zone, from libphonenumber's prefix map.
//!
//! This module owns the answer to "which zone does this number's prefix
//! say", with the same meaning as libphonenumber's `time_zones_for_number`
//! on a valid number: geographic numbers take the entry of their longest
//! matching prefix; toll-free, premium, personal and other non-geographic
//! NANP numbers (and Caribbean mobile-only ranges, which libphonenumber does
//! not treat as geographic) take the country-level entry. An entry naming
//! one zone determines the zone; an entry naming several leaves the number
//! *undetermined*, never "all of them" and never a pick.
//!
//! Outside the NANP the number type is not known here (that would take all
//! of libphonenumber's metadata). The generator marks, per prefix entry and
//! number length, where a non-geographic number may occur under an entry
//! whose zones differ from the country's (e.g. Australian mobiles under
//! 614, Russian mobiles under 79). Such a number is undetermined between
//! the country's zones and the entry's: libphonenumber would answer one of
//! the two depending on the exact type, and guessing would be unsafe.

use super::phone::{PhoneKind, PhoneNumber};
use super::table::{NanpLevel, table};
use chrono_tz::Tz;
use std::fmt;

/// The version of the phone prefix data; `table.rs` tests that it matches
/// the header of `data/phone_zones.tsv`.
pub const PHONE_DATA_VERSION: &str = "libphonenumber-9.0.43";

/// Which rule determined a zone (timezones.md §1–2), recorded with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZoneRule {
    /// The record's own `TimeZone` field.
    Explicit,
    /// Latitude and longitude, by zone polygons.
    Coordinates,
    /// The US ZIP code.
    Zip,
    /// City and state.
    CityState,
    /// The phone number's area code and exchange (or a block of exchanges).
    NpaNxx,
    /// The phone number's area code.
    Npa,
    /// The phone number's country calling code (or any prefix shorter than
    /// an area code; all international prefixes).
    Country,
    /// The configured default zone.
    Default,
}

impl ZoneRule {
    /// The rule's name in traces and records.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneRule::Explicit => "explicit",
            ZoneRule::Coordinates => "coordinates",
            ZoneRule::Zip => "zip",
            ZoneRule::CityState => "city-state",
            ZoneRule::NpaNxx => "npa-nxx",
            ZoneRule::Npa => "npa",
            ZoneRule::Country => "country",
            ZoneRule::Default => "default",
        }
    }
}

impl std::str::FromStr for ZoneRule {
    type Err = UnknownRule;

    /// The inverse of [`ZoneRule::as_str`] (stored provenance reads back).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "explicit" => ZoneRule::Explicit,
            "coordinates" => ZoneRule::Coordinates,
            "zip" => ZoneRule::Zip,
            "city-state" => ZoneRule::CityState,
            "npa-nxx" => ZoneRule::NpaNxx,
            "npa" => ZoneRule::Npa,
            "country" => ZoneRule::Country,
            "default" => ZoneRule::Default,
            _ => return Err(UnknownRule(s.to_string())),
        })
    }
}

/// A provenance name that is not one of [`ZoneRule`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a zone rule")]
pub struct UnknownRule(pub String);

impl fmt::Display for ZoneRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a number's prefix says about its zone.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NumberZone {
    /// One zone, and the rule that gave it.
    Zone {
        /// The zone.
        tz: Tz,
        /// `NpaNxx`, `Npa` or `Country`.
        rule: ZoneRule,
    },
    /// The matching entry names several zones; the number could be in any.
    Undetermined {
        /// The zones the entry names (those chrono-tz knows), in data order.
        candidates: Vec<Tz>,
    },
    /// No entry matches (e.g. the non-geographic +800 and +881 codes).
    Unknown,
}

impl NumberZone {
    /// The determined zone, if any.
    pub fn tz(&self) -> Option<Tz> {
        match self {
            NumberZone::Zone { tz, .. } => Some(*tz),
            _ => None,
        }
    }
}

fn from_set(set: Option<u16>, rule: ZoneRule) -> NumberZone {
    let Some(set) = set.and_then(|id| table().set(id)) else {
        return NumberZone::Unknown;
    };
    match set.single {
        Some(tz) => NumberZone::Zone { tz, rule },
        None if set.zones.is_empty() => NumberZone::Unknown,
        None => NumberZone::Undetermined { candidates: set.zones.to_vec() },
    }
}

/// The country's zones followed by the entry's other zones.
fn either_set(country: Option<u16>, entry: u16) -> NumberZone {
    let t = table();
    let mut candidates: Vec<Tz> = country.and_then(|c| t.set(c)).map(|s| s.zones.to_vec()).unwrap_or_default();
    for tz in t.set(entry).map(|s| &s.zones[..]).unwrap_or(&[]) {
        if !candidates.contains(tz) {
            candidates.push(*tz);
        }
    }
    match candidates.len() {
        0 => NumberZone::Unknown,
        _ => NumberZone::Undetermined { candidates },
    }
}

/// The zone of a number by its prefix. O(1) for NANP numbers.
///
/// ```
/// use prospero::timezone::{number_zone, parse_phone, NumberZone, ZoneRule};
/// let n = parse_phone("808-555-0123").unwrap();
/// assert_eq!(number_zone(&n), NumberZone::Zone { tz: chrono_tz::Pacific::Honolulu, rule: ZoneRule::Npa });
/// ```
pub fn number_zone(p: &PhoneNumber) -> NumberZone {
    let t = table();
    match (p.npa(), p.nxx(), p.kind()) {
        (Some(npa), Some(nxx), PhoneKind::Geographic) => match t.nanp_zone_set(npa, nxx) {
            Some((set, level)) => {
                let rule = match level {
                    NanpLevel::Exchange => ZoneRule::NpaNxx,
                    NanpLevel::AreaCode => ZoneRule::Npa,
                    NanpLevel::Country => ZoneRule::Country,
                };
                from_set(Some(set), rule)
            }
            None => NumberZone::Unknown,
        },
        (Some(_), _, _) => from_set(t.country_zone_set(1), ZoneRule::Country),
        _ => match t.intl_zone_set(p.digits(), p.national_number().len()) {
            Some((set, false)) => from_set(Some(set), ZoneRule::Country),
            Some((set, true)) => either_set(t.country_zone_set(p.country_code()), set),
            None => NumberZone::Unknown,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timezone::table::{PHONE_TABLE, PhoneTable};
    use crate::timezone::{PhoneError, parse_phone};
    use chrono_tz::{America, Europe, Pacific};

    fn zone(raw: &str) -> NumberZone {
        number_zone(&parse_phone(raw).unwrap_or_else(|e| panic!("{raw}: {e}")))
    }

    #[test]
    fn version_matches_the_table_header() {
        let header = PHONE_TABLE.lines().find_map(|l| l.strip_prefix("# version: ")).expect("version line");
        assert_eq!(PHONE_DATA_VERSION, format!("libphonenumber-{header}"));
    }

    #[test]
    fn rule_names() {
        let all = [
            (ZoneRule::Explicit, "explicit"),
            (ZoneRule::Coordinates, "coordinates"),
            (ZoneRule::Zip, "zip"),
            (ZoneRule::CityState, "city-state"),
            (ZoneRule::NpaNxx, "npa-nxx"),
            (ZoneRule::Npa, "npa"),
            (ZoneRule::Country, "country"),
            (ZoneRule::Default, "default"),
        ];
        for (rule, name) in all {
            assert_eq!(rule.as_str(), name);
            assert_eq!(rule.to_string(), name);
        }
    }

    #[test]
    fn single_zone_area_codes() {
        let npa = |tz| NumberZone::Zone { tz, rule: ZoneRule::Npa };
        assert_eq!(zone("808-234-5678"), npa(Pacific::Honolulu));
        assert_eq!(zone("602-234-5678"), npa(America::Phoenix));
        assert_eq!(zone("(212) 234-5678"), npa(America::New_York));
        assert_eq!(zone("+1 303 234 5678"), npa(America::Denver));
        // Alaska's 907 also covers the Aleutians.
        assert_eq!(
            zone("907-234-5678"),
            NumberZone::Undetermined { candidates: vec![America::Adak, America::Anchorage] }
        );
        assert_eq!(zone("+1 787 234 5678"), npa(America::Puerto_Rico));
    }

    #[test]
    fn newfoundland_area_code_is_undetermined_in_the_data() {
        // libphonenumber lists both Atlantic (Labrador) and Newfoundland time
        // for 709 and has no exchange-level split, so the number alone does
        // not decide; the record's other fields must.
        assert_eq!(
            zone("709-234-5678"),
            NumberZone::Undetermined { candidates: vec![America::Halifax, America::St_Johns] }
        );
    }

    #[test]
    fn exchange_level_splits() {
        // 1-219: Indiana, Chicago-area exchanges are Central, others Eastern;
        // 1-270: Kentucky; 1-208: Idaho north (Pacific) and south (Mountain).
        let t = table();
        let mut seen = 0;
        for (prefix, set) in PhoneTable::entries(PHONE_TABLE) {
            if prefix.len() != 7 || !["1219", "1270", "1208", "1812"].contains(&&prefix[..4]) {
                continue;
            }
            let Some(tz) = t.set(set).and_then(|s| s.single) else { continue };
            let raw = format!("+{prefix}4567");
            assert_eq!(zone(&raw), NumberZone::Zone { tz, rule: ZoneRule::NpaNxx }, "{raw}");
            seen += 1;
        }
        assert!(seen > 20, "only {seen} exchange-level entries checked");
    }

    #[test]
    fn a_known_exchange_split_in_indiana() {
        // Find an 1-219 exchange whose zone differs from the area-code entry.
        let t = table();
        let npa_zone = zone("219-234-5678");
        let split = PhoneTable::entries(PHONE_TABLE).into_iter().find_map(|(p, set)| {
            let tz = t.set(set)?.single?;
            (p.len() == 7 && p.starts_with("1219") && npa_zone.tz() != Some(tz)).then_some((p, tz))
        });
        let (prefix, tz) = split.expect("a 219 exchange in another zone");
        let z = zone(&format!("+{prefix}0000"));
        assert_eq!(z, NumberZone::Zone { tz, rule: ZoneRule::NpaNxx });
        assert!([America::Chicago, America::New_York].contains(&tz));
    }

    #[test]
    fn non_geographic_numbers_get_the_country_level_answer() {
        let Some(NumberZone::Undetermined { candidates }) = Some(zone("1-800-234-5678")) else {
            panic!("toll free must be undetermined");
        };
        assert!(candidates.len() > 30, "{candidates:?}");
        assert!(candidates.contains(&America::New_York) && candidates.contains(&Pacific::Honolulu));
        for raw in ["888-234-5678", "900-234-5678", "500-234-5678", "268-720-1234"] {
            assert!(matches!(zone(raw), NumberZone::Undetermined { .. }), "{raw}");
        }
        // The same area code's fixed lines are placed.
        assert_eq!(zone("268-460-1234").tz(), Some(America::Antigua));
    }

    #[test]
    fn international_prefixes() {
        assert_eq!(zone("+33 1 23 45 67 89"), NumberZone::Zone { tz: Europe::Paris, rule: ZoneRule::Country });
        assert_eq!(zone("+44 1481 234567").tz(), Some(Europe::Guernsey));
        assert_eq!(zone("+44 20 7946 0958").tz(), Some(Europe::London));
        assert!(matches!(zone("+44 7700 900123"), NumberZone::Undetermined { .. }));
        assert_eq!(zone("+34 922 123 456").tz(), Some(chrono_tz::Atlantic::Canary));
        assert_eq!(zone("+800 1234 5678"), NumberZone::Unknown);
    }

    #[test]
    fn international_ranges_that_may_be_non_geographic_are_undetermined() {
        // Australian mobiles: libphonenumber answers all Australian zones,
        // although its prefix map files 614 under Sydney.
        let Some(NumberZone::Undetermined { candidates }) = Some(zone("+61 412 345 678")) else {
            panic!("an Australian mobile must be undetermined");
        };
        assert!(
            candidates.contains(&chrono_tz::Australia::Perth) && candidates.contains(&chrono_tz::Australia::Sydney)
        );
        // A Sydney landline is placed.
        assert_eq!(zone("+61 2 9876 5432").tz(), Some(chrono_tz::Australia::Sydney));
        // Russian mobiles (79...) are not all in Moscow; a Moscow landline is.
        assert!(matches!(zone("+7 912 345 6789"), NumberZone::Undetermined { .. }));
        assert_eq!(zone("+7 495 123 4567").tz(), Some(Europe::Moscow));
    }

    #[test]
    fn every_single_zone_entry_is_reached_by_a_number_under_it() {
        let t = table();
        let entries = PhoneTable::entries(PHONE_TABLE);
        let prefixes: std::collections::HashSet<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
        let mut checked = 0;
        for (prefix, set) in &entries {
            let (prefix, set) = (prefix.as_str(), *set);
            let Some(tz) = t.set(set).and_then(|s| s.single) else { continue };
            let rule = match (prefix.starts_with('1'), prefix.len()) {
                (true, 1) => continue, // bare +1 names many zones
                (true, 4) => ZoneRule::Npa,
                (true, _) => ZoneRule::NpaNxx,
                (false, _) => ZoneRule::Country,
            };
            // Pad with 2s: keeps NANP exchanges valid (2-9, not N11), and
            // leaves the prefix the longest match unless a longer entry
            // starts with it followed by 2s, which is checked for below.
            let want = if prefix.starts_with('1') { 11 } else { prefix.len().clamp(12, 15) };
            let digits = format!("{prefix}{}", "2".repeat(want - prefix.len()));
            if (prefix.len() + 1..=digits.len()).any(|l| prefixes.contains(&digits[..l])) {
                continue;
            }
            let raw = format!("+{digits}");
            let n = match parse_phone(&raw) {
                Ok(n) => n,
                // A NANP entry for an area code or exchange the metadata no
                // longer lists: libphonenumber would not place it either.
                Err(
                    PhoneError::UnassignedAreaCode { .. }
                    | PhoneError::UnassignedExchange { .. }
                    | PhoneError::UnassignedLines { .. },
                ) => continue,
                Err(e) => panic!("{raw}: {e}"),
            };
            if n.is_nanp() && n.kind() != PhoneKind::Geographic {
                continue;
            }
            if !n.is_nanp() && t.intl_zone_set(n.digits(), n.national_number().len()).is_some_and(|(_, x)| x) {
                continue; // may be non-geographic: undetermined by design
            }
            assert_eq!(number_zone(&n), NumberZone::Zone { tz, rule }, "{raw}");
            checked += 1;
        }
        assert!(checked > 2500, "only {checked} entries checked");
    }
}
