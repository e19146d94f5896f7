//! US ZIP code and city+state → time zone, from the `zipcodes` crate's
//! embedded data (MIT).
//!
//! This module owns two lookups built once, lazily, from that data: a dense
//! array of 100,000 entries (one per 5-digit ZIP) holding a small zone id,
//! and a map from state + normalised city name to a zone id or "ambiguous".
//!
//! Data notes: the 823 military ZIPs (states AA, AE, AP) have a blank zone,
//! and 99634 (Napakiak, AK) has the bogus zone "Napakiak"; those ZIPs give
//! no zone, and they are left out of the city+state map rather than making
//! a city ambiguous.

use chrono_tz::Tz;
use std::sync::LazyLock;

/// The version of the ZIP data (the `zipcodes` crate release).
pub const ZIP_DATA_VERSION: &str = "zipcodes-3.0.1";

/// Zone id meaning "no zone" in the dense array.
const NO_ZONE: u8 = 0;
/// Zone id meaning "the city's ZIPs span several zones".
const AMBIGUOUS: u8 = u8::MAX;
/// Longest normalised "st:city" key; longer input cannot match (the longest
/// city name in the data has 28 characters).
const KEY_MAX: usize = 72;

struct ZipIndex {
    /// Index = the 5-digit ZIP; value = 1 + index into `zones`, or `NO_ZONE`.
    by_zip: Box<[u8]>,
    zones: Vec<Tz>,
    /// Key = normalised `"st:city"` bytes.
    by_city: foldhash::HashMap<Box<[u8]>, u8>,
}

static INDEX: LazyLock<ZipIndex> = LazyLock::new(build);

fn build() -> ZipIndex {
    let mut idx = ZipIndex {
        by_zip: vec![NO_ZONE; 100_000].into_boxed_slice(),
        zones: Vec::new(),
        by_city: foldhash::HashMap::default(),
    };
    for z in zipcodes::database() {
        let Some(tz) = z.timezone.parse::<Tz>().ok() else { continue };
        let id = match idx.zones.iter().position(|&known| known == tz) {
            Some(i) => i + 1,
            None => {
                idx.zones.push(tz);
                idx.zones.len()
            }
        };
        // Far fewer than 254 zones in US data; a larger set would be dropped, not wrapped.
        let Ok(id) = u8::try_from(id) else { continue };
        if id == AMBIGUOUS {
            continue;
        }
        if let Some(i) = zip_index(&z.zip_code) {
            idx.by_zip[i] = id;
        }
        let Some(state) = state_code(&z.state) else { continue };
        for city in std::iter::once(&z.city).chain(&z.acceptable_cities) {
            let mut buf = [0u8; KEY_MAX];
            let Some(key) = city_key(state, city, &mut buf) else { continue };
            idx.by_city
                .entry(key.into())
                .and_modify(|known| {
                    if *known != id {
                        *known = AMBIGUOUS;
                    }
                })
                .or_insert(id);
        }
    }
    idx
}

/// The array index of a ZIP: "12345", "12345-6789", "12345 6789",
/// "123456789", surrounding spaces ignored.
fn zip_index(zip: &str) -> Option<usize> {
    let b = zip.trim().as_bytes();
    let plus4_ok = match b.len() {
        5 => true,
        9 => b[5..].iter().all(u8::is_ascii_digit),
        10 => (b[5] == b'-' || b[5] == b' ') && b[6..].iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !plus4_ok || !b[..5].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b[..5].iter().fold(0usize, |v, d| v * 10 + usize::from(d - b'0')))
}

/// The zone of a US ZIP code (5 digits, or ZIP+4 as "12345-6789" or
/// "123456789"). `None` for malformed, unknown, military and bogus-zone ZIPs.
///
/// ```
/// use prospero::timezone::zip_zone;
/// assert_eq!(zip_zone("85001"), Some(chrono_tz::America::Phoenix));
/// ```
pub fn zip_zone(zip: &str) -> Option<Tz> {
    let i = zip_index(zip)?;
    let idx = &*INDEX;
    let id = *idx.by_zip.get(i)?;
    idx.zones.get(usize::from(id).checked_sub(1)?).copied()
}

/// The zone of a US city in a state, when all of the city's ZIPs agree.
/// City: case, spacing, periods and hyphens do not matter, and a leading
/// "St", "Ste", "Ft" or "Mt" reads as "Saint", "Sainte", "Fort", "Mount".
/// State: the 2-letter code or the full name. `None` when unknown or when
/// the city's ZIPs span several zones (e.g. El Paso, TX in this data).
///
/// ```
/// use prospero::timezone::city_state_zone;
/// assert_eq!(city_state_zone("phoenix", "Arizona"), Some(chrono_tz::America::Phoenix));
/// ```
pub fn city_state_zone(city: &str, state: &str) -> Option<Tz> {
    let state = state_code(state)?;
    let mut buf = [0u8; KEY_MAX];
    let key = city_key(state, city, &mut buf)?;
    let idx = &*INDEX;
    match idx.by_city.get(key).copied()? {
        AMBIGUOUS | NO_ZONE => None,
        id => idx.zones.get(usize::from(id) - 1).copied(),
    }
}

/// First-word abbreviations; the data spells both forms, input may too.
const ABBREVIATIONS: [(&str, &str); 4] = [("st", "saint"), ("ste", "sainte"), ("ft", "fort"), ("mt", "mount")];

/// Write `"st:normalised city"` into `buf`; `None` if the city is blank or
/// too long to be a known one.
fn city_key<'a>(state: &str, city: &str, buf: &'a mut [u8; KEY_MAX]) -> Option<&'a [u8]> {
    let mut n = 0;
    let mut push = |buf: &mut [u8; KEY_MAX], bytes: &[u8]| -> Option<()> {
        let end = n + bytes.len();
        buf.get_mut(n..end)?.copy_from_slice(bytes);
        n = end;
        Some(())
    };
    push(buf, state.as_bytes())?;
    push(buf, b":")?;
    let start = 3;
    let mut words = city.split(|c: char| c.is_whitespace() || c == '-').filter(|w| !w.is_empty() && *w != ".");
    let mut first = true;
    for word in words.by_ref() {
        let word = word.trim_end_matches('.');
        if word.is_empty() {
            continue;
        }
        if !first {
            push(buf, b" ")?;
        }
        let expanded: &str = if first {
            ABBREVIATIONS.iter().find(|(short, _)| short.eq_ignore_ascii_case(word)).map_or(word, |(_, full)| full)
        } else {
            word
        };
        first = false;
        for b in expanded.bytes().filter(|&b| b != b'.') {
            push(buf, &[b.to_ascii_lowercase()])?;
        }
    }
    (n > start).then_some(&buf[..n])
}

/// US states, DC, territories and military "states", with their codes.
const STATES: &[(&str, &str)] = &[
    ("AL", "alabama"),
    ("AK", "alaska"),
    ("AZ", "arizona"),
    ("AR", "arkansas"),
    ("CA", "california"),
    ("CO", "colorado"),
    ("CT", "connecticut"),
    ("DE", "delaware"),
    ("DC", "district of columbia"),
    ("FL", "florida"),
    ("GA", "georgia"),
    ("HI", "hawaii"),
    ("ID", "idaho"),
    ("IL", "illinois"),
    ("IN", "indiana"),
    ("IA", "iowa"),
    ("KS", "kansas"),
    ("KY", "kentucky"),
    ("LA", "louisiana"),
    ("ME", "maine"),
    ("MD", "maryland"),
    ("MA", "massachusetts"),
    ("MI", "michigan"),
    ("MN", "minnesota"),
    ("MS", "mississippi"),
    ("MO", "missouri"),
    ("MT", "montana"),
    ("NE", "nebraska"),
    ("NV", "nevada"),
    ("NH", "new hampshire"),
    ("NJ", "new jersey"),
    ("NM", "new mexico"),
    ("NY", "new york"),
    ("NC", "north carolina"),
    ("ND", "north dakota"),
    ("OH", "ohio"),
    ("OK", "oklahoma"),
    ("OR", "oregon"),
    ("PA", "pennsylvania"),
    ("RI", "rhode island"),
    ("SC", "south carolina"),
    ("SD", "south dakota"),
    ("TN", "tennessee"),
    ("TX", "texas"),
    ("UT", "utah"),
    ("VT", "vermont"),
    ("VA", "virginia"),
    ("WA", "washington"),
    ("WV", "west virginia"),
    ("WI", "wisconsin"),
    ("WY", "wyoming"),
    ("PR", "puerto rico"),
    ("GU", "guam"),
    ("VI", "virgin islands"),
    ("VI", "us virgin islands"),
    ("VI", "u s virgin islands"),
    ("AS", "american samoa"),
    ("MP", "northern mariana islands"),
    ("FM", "federated states of micronesia"),
    ("FM", "micronesia"),
    ("MH", "marshall islands"),
    ("PW", "palau"),
    ("AA", "armed forces americas"),
    ("AE", "armed forces europe"),
    ("AP", "armed forces pacific"),
];

/// The 2-letter code of a state given as code or full name (case, spacing
/// and periods ignored).
fn state_code(state: &str) -> Option<&'static str> {
    let s = state.trim();
    if s.len() == 2 {
        return STATES.iter().find(|(code, _)| code.eq_ignore_ascii_case(s)).map(|(code, _)| *code);
    }
    let mut buf = [0u8; 40];
    let mut n = 0;
    for word in s.split(|c: char| c.is_whitespace() || c == '.').filter(|w| !w.is_empty()) {
        if n > 0 {
            *buf.get_mut(n)? = b' ';
            n += 1;
        }
        let end = n + word.len();
        buf.get_mut(n..end)?.copy_from_slice(word.as_bytes());
        n = end;
    }
    buf[..n].make_ascii_lowercase();
    STATES.iter().find(|(_, name)| name.as_bytes() == &buf[..n]).map(|(code, _)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Pacific};

    #[test]
    fn zips_of_no_dst_and_split_states() {
        for (zip, zone) in [
            ("85001", America::Phoenix),
            ("96813", Pacific::Honolulu),
            ("46201", America::Indiana::Indianapolis),
            ("00501", America::New_York),
            ("99501", America::Anchorage),
            ("00901", America::Puerto_Rico),
        ] {
            assert_eq!(zip_zone(zip), Some(zone), "{zip}");
        }
    }

    #[test]
    fn zip_plus_four_and_spacing() {
        for raw in ["85001-1234", "850011234", " 85001 ", "85001 1234", "\t85001-1234\n"] {
            assert_eq!(zip_zone(raw), Some(America::Phoenix), "{raw:?}");
        }
        for raw in ["8500", "850011", "85001-123", "85001-12345", "8500a", "85001-12a4", "", "8500١", "ab"] {
            assert_eq!(zip_zone(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn blank_and_bogus_zones_give_none() {
        // Military ZIPs have a blank zone; 99634 (Napakiak, AK) says "Napakiak".
        assert_eq!(zip_zone("09001"), None);
        assert_eq!(zip_zone("96201"), None);
        assert_eq!(zip_zone("99634"), None);
        // Unknown ZIP.
        assert_eq!(zip_zone("00000"), None);
        let blank = zipcodes::database().iter().filter(|z| z.timezone.is_empty()).count();
        assert_eq!(blank, 823);
    }

    #[test]
    fn every_zone_in_the_data_is_a_chrono_tz_zone_except_the_known_bogus_one() {
        let bad: Vec<&str> = zipcodes::database()
            .iter()
            .map(|z| z.timezone.as_str())
            .filter(|tz| !tz.is_empty() && tz.parse::<Tz>().is_err())
            .collect();
        assert_eq!(bad, ["Napakiak"]);
    }

    #[test]
    fn city_and_state() {
        assert_eq!(city_state_zone("Phoenix", "AZ"), Some(America::Phoenix));
        assert_eq!(city_state_zone("  indianapolis ", "indiana"), Some(America::Indiana::Indianapolis));
        assert_eq!(city_state_zone("HONOLULU", "hi"), Some(Pacific::Honolulu));
        assert_eq!(city_state_zone("winston salem", "North  Carolina"), Some(America::New_York));
        assert_eq!(city_state_zone("Winston-Salem", "NC"), Some(America::New_York));
        assert_eq!(city_state_zone("St. Louis", "MO"), Some(America::Chicago));
        assert_eq!(city_state_zone("Saint Louis", "Missouri"), Some(America::Chicago));
        assert_eq!(city_state_zone("Ft Lauderdale", "FL"), Some(America::New_York));
        assert_eq!(city_state_zone("San Juan", "Puerto Rico"), Some(America::Puerto_Rico));
        // Wrong state, unknown city, blank parts.
        assert_eq!(city_state_zone("Phoenix", "NV"), None);
        assert_eq!(city_state_zone("Atlantis", "NE"), None);
        assert_eq!(city_state_zone("", "AZ"), None);
        assert_eq!(city_state_zone("Phoenix", ""), None);
        assert_eq!(city_state_zone("Phoenix", "Arizona Territory"), None);
        assert_eq!(city_state_zone(&"a".repeat(200), "AZ"), None);
    }

    #[test]
    fn a_city_whose_zips_span_zones_is_ambiguous() {
        // El Paso's ZIPs are Mountain but one is marked Central in the data;
        // Flagstaff has a Navajo Nation ZIP on Mountain time with DST.
        assert_eq!(city_state_zone("El Paso", "TX"), None);
        assert_eq!(city_state_zone("Flagstaff", "AZ"), None);
        assert_eq!(zip_zone("79901"), Some(America::Denver));
    }

    #[test]
    fn state_names_and_codes() {
        let too_long = "new york ".repeat(20);
        for (name, code) in [
            ("tx", Some("TX")),
            (" Texas ", Some("TX")),
            ("NEW   YORK", Some("NY")),
            ("District of Columbia", Some("DC")),
            ("U.S. Virgin Islands", Some("VI")),
            ("XX", None),
            ("é", None),
            (too_long.as_str(), None),
        ] {
            assert_eq!(state_code(name), code, "{name:?}");
        }
    }
}
