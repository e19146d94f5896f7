//! The record-level zone (timezones.md §1): the first rule that gives a zone
//! wins, in the product's order.
//!
//! This module owns that order and the coordinate lookup (tzf-rs polygons,
//! loaded once on first use). It allocates nothing per call.

use super::phone::PhoneNumber;
use super::prefix::{NumberZone, ZoneRule, number_zone};
use super::zip::{city_state_zone, zip_zone};
use chrono_tz::Tz;
use std::sync::LazyLock;
use tzf_rs::DefaultFinder;

/// What a record offers for finding its zone. Blank strings count as absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecordHints<'a> {
    /// The explicit `TimeZone` field.
    pub time_zone: Option<&'a str>,
    /// `Latitude`, decimal degrees.
    pub latitude: Option<&'a str>,
    /// `Longitude`, decimal degrees.
    pub longitude: Option<&'a str>,
    /// `Zip`: 5 digits or ZIP+4.
    pub zip: Option<&'a str>,
    /// `City`.
    pub city: Option<&'a str>,
    /// `State`: code or name.
    pub state: Option<&'a str>,
    /// The first non-blank mapped phone field, parsed.
    pub primary_phone: Option<&'a PhoneNumber>,
}

/// The record's zone, or why there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordZone {
    /// A zone and the rule that found it.
    Found {
        /// The zone.
        tz: Tz,
        /// Which rule: explicit, coordinates, zip, city-state, npa-nxx, npa or country.
        rule: ZoneRule,
    },
    /// The record names a zone that is not a known zone (the product's
    /// `InvalidTimeZone`); the other fields are not consulted.
    InvalidExplicit,
    /// No rule gave a zone; the caller applies its default or rejects.
    NotFound,
}

/// tzf-rs's finder and, per zone index, the chrono-tz zone (`None` for the
/// ocean `Etc/GMT±N` zones and names chrono-tz does not know).
struct Coordinates {
    finder: DefaultFinder,
    zones: Vec<Option<Tz>>,
}

static COORDINATES: LazyLock<Coordinates> = LazyLock::new(|| {
    let finder = DefaultFinder::new();
    let zones = finder
        .timezonenames()
        .iter()
        .map(|name| if name.starts_with("Etc/") { None } else { name.parse::<Tz>().ok() })
        .collect();
    Coordinates { finder, zones }
});

/// The version of tzf-rs's polygon data (loads it on first call).
pub fn coordinates_data_version() -> &'static str {
    COORDINATES.finder.data_version()
}

fn present(field: Option<&str>) -> Option<&str> {
    field.map(str::trim).filter(|s| !s.is_empty())
}

/// The land zone at a point; `None` for unreadable or out-of-range
/// coordinates and for points at sea.
fn coordinates_zone(latitude: &str, longitude: &str) -> Option<Tz> {
    let lat: f64 = latitude.parse().ok()?;
    let lng: f64 = longitude.parse().ok()?;
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
        return None; // also rejects NaN
    }
    let c = &*COORDINATES;
    let i = c.finder.get_tz_index(lng, lat)?;
    c.zones.get(i).copied().flatten()
}

/// Find a record's zone: explicit field, coordinates, ZIP, city+state, then
/// the primary phone's NPA-NXX / NPA / country prefix (only when that
/// determines a single zone).
pub fn resolve_record(h: &RecordHints) -> RecordZone {
    if let Some(name) = present(h.time_zone) {
        return match super::parse_zone(name) {
            Some(tz) => RecordZone::Found { tz, rule: ZoneRule::Explicit },
            None => RecordZone::InvalidExplicit,
        };
    }
    if let (Some(lat), Some(lng)) = (present(h.latitude), present(h.longitude))
        && let Some(tz) = coordinates_zone(lat, lng)
    {
        return RecordZone::Found { tz, rule: ZoneRule::Coordinates };
    }
    if let Some(tz) = present(h.zip).and_then(zip_zone) {
        return RecordZone::Found { tz, rule: ZoneRule::Zip };
    }
    if let (Some(city), Some(state)) = (present(h.city), present(h.state))
        && let Some(tz) = city_state_zone(city, state)
    {
        return RecordZone::Found { tz, rule: ZoneRule::CityState };
    }
    if let Some(phone) = h.primary_phone
        && let NumberZone::Zone { tz, rule } = number_zone(phone)
    {
        return RecordZone::Found { tz, rule };
    }
    RecordZone::NotFound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timezone::parse_phone;
    use chrono_tz::{America, Pacific};

    fn found(tz: Tz, rule: ZoneRule) -> RecordZone {
        RecordZone::Found { tz, rule }
    }

    #[test]
    fn each_rule_beats_the_ones_after_it_and_blank_is_absent() {
        let phone = parse_phone("808-234-5678").expect("phone");
        let mut h = RecordHints {
            time_zone: Some("Pacific"),
            latitude: Some("21.3069"),
            longitude: Some("-157.8583"),
            zip: Some("85001-1234"),
            city: Some("Honolulu"),
            state: Some("Hawaii"),
            primary_phone: Some(&phone),
        };
        assert_eq!(resolve_record(&h), found(America::Los_Angeles, ZoneRule::Explicit));
        h.time_zone = Some("   ");
        assert_eq!(resolve_record(&h), found(Pacific::Honolulu, ZoneRule::Coordinates));
        h.time_zone = Some("Mars/Olympus");
        assert_eq!(resolve_record(&h), RecordZone::InvalidExplicit);
        h.time_zone = None;
        h.latitude = None;
        assert_eq!(resolve_record(&h), found(America::Phoenix, ZoneRule::Zip));
        h.zip = Some("not a zip");
        assert_eq!(resolve_record(&h), found(Pacific::Honolulu, ZoneRule::CityState));
        h.city = Some("El Paso");
        h.state = Some("TX");
        assert_eq!(resolve_record(&h), found(Pacific::Honolulu, ZoneRule::Npa), "ambiguous city falls through");
        h.city = None;
        h.state = Some("AZ");
        assert_eq!(resolve_record(&h), found(Pacific::Honolulu, ZoneRule::Npa), "state alone is not enough");
    }

    #[test]
    fn coordinates_beat_zip_and_bad_coordinates_fall_through() {
        let mut h = RecordHints {
            latitude: Some(" 33.4484 "),
            longitude: Some("-112.0740"),
            zip: Some("96813"),
            ..Default::default()
        };
        assert_eq!(resolve_record(&h), found(America::Phoenix, ZoneRule::Coordinates));
        for (lat, lng) in [("0", "0"), ("95", "-112"), ("33.4", "-200"), ("abc", "-112"), ("NaN", "-112"), ("", "-112")]
        {
            h.latitude = Some(lat);
            h.longitude = Some(lng);
            assert_eq!(resolve_record(&h), found(Pacific::Honolulu, ZoneRule::Zip), "{lat},{lng}");
        }
        h.latitude = Some("33.4484");
        h.longitude = None;
        assert_eq!(resolve_record(&h), found(Pacific::Honolulu, ZoneRule::Zip));
    }

    #[test]
    fn mid_pacific_is_sea() {
        assert_eq!(coordinates_zone("0", "-140"), None);
        assert_eq!(coordinates_zone("39.7684", "-86.1581"), Some(America::Indiana::Indianapolis));
        assert!(!coordinates_data_version().is_empty());
    }

    #[test]
    fn phone_rules_and_undetermined_numbers() {
        let resolve = |raw: &str| {
            let phone = parse_phone(raw).expect(raw);
            resolve_record(&RecordHints { primary_phone: Some(&phone), ..Default::default() })
        };
        assert_eq!(resolve("602-234-5678"), found(America::Phoenix, ZoneRule::Npa));
        assert_eq!(resolve("+33 1 23 45 67 89"), found(chrono_tz::Europe::Paris, ZoneRule::Country));
        assert_eq!(resolve("800-234-5678"), RecordZone::NotFound);
        assert_eq!(resolve("709-234-5678"), RecordZone::NotFound);
        assert_eq!(resolve_record(&RecordHints::default()), RecordZone::NotFound);
    }
}
