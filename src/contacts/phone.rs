//! Contact phones (`contacts.md` §2): the text as entered, its E.164 form
//! when it is a valid number, an extension kept beside it, and a flag for
//! what is kept but not searchable.
//!
//! Numbers without a country code take the unit's default country (ISO
//! 3166 alpha-2, `US` unless the unit sets another).
//!
//! One normaliser serves contacts and time zones: the text is read the way
//! libphonenumber reads it (`phone_text`), then a North American number
//! (`+1`, or no country code with a NANP default country) is checked by
//! [`crate::timezone::parse_phone`], the fast NANP parser over
//! libphonenumber's tables, so both always agree; every other number is
//! checked by the `phonenumber` crate (libphonenumber's rules and
//! metadata). Where the crate departs from libphonenumber it is corrected
//! here (`docs/decisions.md`, "Contacts (issue 17)"): a number with its own
//! country code is parsed without the default country (the crate would
//! strip the default country's national prefix from it, which made
//! `+882 16 1234 5678` invalid), an international dialing prefix (`00`,
//! `011`, ...) is turned into `+` here for the same reason, and an
//! extension alone (`x123`, which the crate reads as `+123`) is rejected.

use super::phone_text::{self, Read, Written};
use crate::timezone::{PhoneError, parse_phone};
use phonenumber::metadata::{DATABASE, Database};
use std::sync::{LazyLock, Once};

/// A phone as stored: what was entered, and what makes it searchable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone {
    /// The text as entered, trimmed.
    pub text: String,
    /// E.164 (`+12127365000`) when the number parses and is valid for its
    /// region; only these are searchable.
    pub e164: Option<String>,
    /// The extension, digits only, kept beside the number.
    pub extension: Option<String>,
    /// Why a kept value is not searchable; `None` when it is.
    pub flag: Option<String>,
}

impl Phone {
    /// Whether searches can find the contact by this phone.
    pub fn searchable(&self) -> bool {
        self.e164.is_some()
    }
}

/// A phone value refused outright.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneRejected {
    /// Nothing but blanks.
    #[error("the phone is empty")]
    Empty,
    /// An extension without a number (`x123`, `ext. 45`).
    #[error("'{0}' is an extension without a number")]
    ExtensionOnly(String),
}

/// The unit's default country when none is set.
pub const DEFAULT_COUNTRY: &str = "US";

/// The `phonenumber` crate and the libphonenumber metadata it carries,
/// which check every number outside the NANP; a test checks it against
/// `Cargo.lock`. NANP numbers are checked against
/// [`crate::timezone::PHONE_DATA_VERSION`].
pub const PHONE_METADATA_VERSION: &str = "phonenumber 0.3.10 (libphonenumber metadata 9.0.33)";

/// Every phone data version behind [`normalize_phone`], the way `prospero
/// tz` reports its `data_version`: the crate's metadata, then the NANP
/// table's.
pub fn phone_data_version() -> &'static str {
    static VERSION: LazyLock<String> =
        LazyLock::new(|| format!("{PHONE_METADATA_VERSION}, {}", crate::timezone::PHONE_DATA_VERSION));
    VERSION.as_str()
}

/// Compiled patterns the crate keeps (it keeps 100 for its whole
/// metadata, so numbers of many countries in turn recompiled patterns on
/// nearly every call; libphonenumber 9.0.43 has about 2,100 distinct ones).
const PATTERN_CACHE: usize = 4096;

/// The crate's metadata, its pattern cache widened to [`PATTERN_CACHE`]
/// once. Every crate call goes through here first.
fn database() -> &'static Database {
    static WIDENED: Once = Once::new();
    WIDENED.call_once(|| {
        // The cache is shared by every pattern of the metadata.
        if let Ok(mut cache) = DATABASE.cache().lock() {
            *cache = regex_cache::RegexCache::new(PATTERN_CACHE);
        }
    });
    &DATABASE
}

/// Whether `country` (ISO 3166 alpha-2, any case) is a region
/// libphonenumber knows, so it can be a unit's default country.
pub fn is_known_country(country: &str) -> bool {
    let id = country.trim().to_ascii_uppercase();
    is_nanp_fast(&id) || database().by_id(id.as_str()).is_some()
}

/// Whether reading `text` depends on the default country: a number written
/// with `+` and its country code reads the same in every unit, so a
/// search for it need not look the unit's country up.
pub fn needs_default_country(text: &str) -> bool {
    !text.trim_start().starts_with('+')
}

/// `country` as a unit's default country: trimmed and upper-cased when it
/// is a region libphonenumber knows (`" gb "` gives `"GB"`), `None`
/// otherwise, so an unknown code never reaches a unit's settings.
pub fn known_country_code(country: &str) -> Option<String> {
    let id = country.trim().to_ascii_uppercase();
    is_known_country(&id).then_some(id)
}

/// The two NANP regions that need no metadata lookup.
fn is_nanp_fast(region: &str) -> bool {
    matches!(region, "US" | "CA")
}

/// Normalize a phone as entered, for a unit whose default country is
/// `default_country` (ISO 3166 alpha-2, any case).
///
/// ```
/// use prospero::contacts::phone::normalize_phone;
/// let p = normalize_phone("(212) 736-5000 ext. 12", "US").unwrap();
/// assert_eq!((p.e164.as_deref(), p.extension.as_deref()), (Some("+12127365000"), Some("12")));
/// let uk = normalize_phone("020 7946 0958", "GB").unwrap();
/// assert_eq!(uk.e164.as_deref(), Some("+442079460958"));
/// let junk = normalize_phone("call me", "US").unwrap();
/// assert!(!junk.searchable() && junk.flag.is_some() && junk.text == "call me");
/// ```
pub fn normalize_phone(text: &str, default_country: &str) -> Result<Phone, PhoneRejected> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PhoneRejected::Empty);
    }
    let kept = |extension, flag: String| Phone { text: text.to_string(), e164: None, extension, flag: Some(flag) };
    let written = match phone_text::read(text) {
        Read::Number(w) => w,
        Read::ExtensionOnly => return Err(PhoneRejected::ExtensionOnly(text.to_string())),
        Read::NotANumber => return Ok(kept(None, "not a phone number: no number to dial in it".to_string())),
        Read::TooLong => {
            return Ok(kept(None, format!("longer than {} characters, not read as a phone", phone_text::MAX_INPUT)));
        }
    };
    let region = default_country.trim().to_ascii_uppercase();
    // The crate once panicked on odd input (rust-phonenumber issues 32 and
    // 43); a panic there must not take the caller down.
    let checked = std::panic::catch_unwind(|| e164_of(&written, &region))
        .unwrap_or_else(|_| Err("not a valid number: the phone library failed on it".to_string()));
    Ok(match checked {
        Ok(e164) => Phone { text: text.to_string(), e164: Some(e164), extension: written.extension, flag: None },
        Err(flag) => kept(written.extension, flag),
    })
}

/// The search key of a phone given in any written form: its E.164 text,
/// or `None` when it is not a valid number.
pub fn phone_key(text: &str, default_country: &str) -> Option<String> {
    normalize_phone(text, default_country).ok().and_then(|p| p.e164)
}

/// Longest run of digits handed to the crate: a country code of three and
/// libphonenumber's longest national number (17).
const MAX_DIGITS: usize = 20;

/// The E.164 form of a written number, or why it is not valid.
fn e164_of(w: &Written, region: &str) -> Result<String, String> {
    if w.digits.len() > MAX_DIGITS {
        return Err(format!("{} digits, more than any phone number has", w.digits.len()));
    }
    if w.plus {
        return international(&w.digits);
    }
    if is_nanp_fast(region) {
        return match w.digits.strip_prefix("011") {
            Some(rest) if !rest.starts_with('0') => international(rest),
            _ => nanp_national(&w.digits, region),
        };
    }
    let Some(meta) = database().by_id(region) else {
        return Err(format!("no country code, and the default country '{region}' is not a known country"));
    };
    if let Some(rest) = strip_idd(meta, &w.digits) {
        return international(rest);
    }
    if meta.country_code() == 1 {
        return nanp_national(&w.digits, region);
    }
    national(&w.digits, region)
}

/// The digits after the region's international dialing prefix, when they
/// start with it and a country code (never 0) follows.
fn strip_idd<'a>(meta: &phonenumber::Metadata, digits: &'a str) -> Option<&'a str> {
    let idd = meta.international_prefix()?.find(digits).filter(|m| m.start() == 0)?;
    let rest = &digits[idd.end()..];
    (!rest.is_empty() && !rest.starts_with('0')).then_some(rest)
}

/// A number with its country code (`digits` follow the `+`).
fn international(digits: &str) -> Result<String, String> {
    if digits.starts_with('1') {
        return parse_phone(&format!("+{digits}")).map(|n| n.e164().to_string()).map_err(|e| invalid(&e));
    }
    // Without the default country: the crate would apply its national
    // prefix to a number of another country.
    let parsed = phonenumber::parse_with(database(), None, format!("+{digits}"));
    let parsed = parsed.map(|n| {
        let cc = n.code().value().to_string();
        let after_cc = digits.strip_prefix(cc.as_str()).unwrap_or(digits);
        unstripped(n, after_cc)
    });
    checked(parsed, &format!("+{digits}"))
}

/// The crate strips a national prefix or a country code from a national
/// number whether or not what is left is valid; libphonenumber keeps them
/// then (Russia's `8 800 ...` toll free numbers are `+7 800 ...`, Rwanda's
/// `250 123 456` is `+250 250 123 456`). An invalid number the crate cut
/// short is checked again as written.
fn unstripped(n: phonenumber::PhoneNumber, written: &str) -> phonenumber::PhoneNumber {
    if phonenumber::is_valid(&n) || n.national().to_string() == written {
        return n;
    }
    match rebuilt(n.code().value(), written) {
        Some(whole) if phonenumber::is_valid(&whole) => whole,
        _ => n,
    }
}

/// A number of country code `cc` with exactly the national digits
/// `national`, built through the crate's serde form (it has no constructor
/// that skips its prefix stripping; a test pins the form).
fn rebuilt(cc: u16, national: &str) -> Option<phonenumber::PhoneNumber> {
    let zeros = national.bytes().take_while(|&b| b == b'0').count();
    let value: u64 = national.get(zeros..)?.parse().ok()?;
    let packed = (u64::try_from(zeros).ok()? << 56) | value;
    (value < 1 << 56 && zeros < 8).then_some(())?;
    let form = serde_json::json!({
        "code": {"value": cc, "source": "plus"},
        "national": {"value": packed},
        "extension": null,
        "carrier": null,
    });
    serde_json::from_value(form).ok()
}

/// A national number of a NANP region: the NANP parser decides, except
/// for a length it refuses, where the region's own rules may complete a
/// local number (Bahamas 357-1000 is +1 242 357 1000).
fn nanp_national(digits: &str, region: &str) -> Result<String, String> {
    match parse_phone(digits) {
        Ok(n) => Ok(n.e164().to_string()),
        Err(e @ PhoneError::NanpLength { .. }) if !is_nanp_fast(region) => {
            national(digits, region).ok().filter(|e164| e164.starts_with("+1")).ok_or_else(|| invalid(&e))
        }
        Err(e) => Err(invalid(&e)),
    }
}

/// A national number of a non-NANP region, by the crate.
fn national(digits: &str, region: &str) -> Result<String, String> {
    let Ok(id) = region.parse::<phonenumber::country::Id>() else {
        return Err(format!("no country code, and the default country '{region}' is not a known country"));
    };
    let parsed = phonenumber::parse_with(database(), Some(id), digits).map(|n| {
        // Cut short by the region's country code (`250 123 456` in Rwanda)?
        // Then the number as written, or without the national prefix.
        let cc = n.code().value();
        let prefix = database().by_id(region).and_then(|m| m.national_prefix()).unwrap_or("");
        let written = digits.strip_prefix(prefix).filter(|_| !prefix.is_empty());
        let n = unstripped(n, digits);
        match written {
            Some(w) if !phonenumber::is_valid(&n) && n.code().value() == cc => unstripped(n, w),
            _ => n,
        }
    });
    checked(parsed, &format!("{digits} ({region})"))
}

/// The crate's verdict on a parse.
fn checked(parsed: Result<phonenumber::PhoneNumber, phonenumber::ParseError>, shown: &str) -> Result<String, String> {
    use phonenumber::ParseError as P;
    match parsed {
        Ok(n) if phonenumber::is_valid(&n) => Ok(n.format().mode(phonenumber::Mode::E164).to_string()),
        Ok(n) => Err(format!(
            "not a valid number: {} is not in use in {}",
            n.format().mode(phonenumber::Mode::E164),
            n.country().id().map_or_else(|| format!("+{}", n.code().value()), |id| id.as_ref().to_string())
        )),
        Err(P::InvalidCountryCode) => {
            Err(format!("not a valid number: {shown} does not start with a known country code"))
        }
        Err(P::TooShortNsn | P::TooShortAfterIdd | P::NoNumber) => {
            Err(format!("not a valid number: {shown} is too short"))
        }
        Err(P::TooLong) => Err(format!("not a valid number: {shown} is too long")),
        Err(e) => Err(format!("not a valid number: {shown}: {e}")),
    }
}

fn invalid(e: &PhoneError) -> String {
    format!("not a valid number: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(text: &str, country: &str) -> Option<String> {
        normalize_phone(text, country).expect(text).e164
    }

    /// Each case: a number as written, the default country, and its E.164
    /// form (`None`: not a valid number).
    fn assert_e164(cases: &[(&str, &str, Option<&str>)]) {
        for &(text, country, expected) in cases {
            assert_eq!(e164(text, country).as_deref(), expected, "{text} in {country}");
        }
    }

    #[test]
    fn us_and_canadian_numbers_in_the_usual_forms() {
        for text in
            ["(212) 736-5000", "212-736-5000", "212.736.5000", "+1 212 736 5000", "1-212-736-5000", "12127365000"]
        {
            assert_eq!(e164(text, "US").as_deref(), Some("+12127365000"), "{text}");
        }
        assert_e164(&[("(416) 979-5000", "US", Some("+14169795000")), ("416 979 5000", "CA", Some("+14169795000"))]);
    }

    #[test]
    fn national_numbers_take_the_default_country() {
        assert_e164(&[
            ("020 7946 0958", "GB", Some("+442079460958")),
            ("020 7946 0958", "gb", Some("+442079460958")),
            ("01 23 45 67 89", "FR", Some("+33123456789")),
            ("01 23 45 67 89", "US", None),
            ("+1 212 736 5000", "FR", Some("+12127365000")),
            // The Bahamas completes a 7-digit local number with its area code.
            ("357-1000", "BS", Some("+12423571000")),
            ("357-1000", "US", None),
        ]);
    }

    #[test]
    fn the_crate_is_corrected_where_it_departs_from_libphonenumber() {
        // Parsed with the default country, the crate strips US's national
        // prefix 1 from these and calls them invalid.
        assert_e164(&[
            ("+882 16 1234 5678", "US", Some("+8821612345678")),
            ("011 882 16 1234 5678", "US", Some("+8821612345678")),
            ("+33 1 23 45 67 89", "US", Some("+33123456789")),
            ("+86 10 1234 5678", "US", Some("+861012345678")),
            ("00 882 16 1234 5678", "FR", Some("+8821612345678")),
        ]);
        // The crate reads an extension alone as +123.
        assert_eq!(normalize_phone("x123", "US"), Err(PhoneRejected::ExtensionOnly("x123".into())));
    }

    #[test]
    fn prefixes_the_crate_cuts_wrongly_are_kept() {
        assert_e164(&[
            ("+7 800 123-45-67", "US", Some("+78001234567")),
            ("8 (800) 123-45-67", "RU", Some("+78001234567")),
            ("+375 801 123 4567", "GB", Some("+3758011234567")),
            ("+370 800 12 345", "US", Some("+37080012345")),
            ("250 123 456", "RW", Some("+250250123456")),
            // Still invalid when neither reading is valid.
            ("+7 800 123", "US", None),
        ]);
    }

    #[test]
    fn rebuilt_numbers_keep_their_digits() {
        for (cc, national, e164) in [(39u16, "0612345678", "+390612345678"), (44, "2079460958", "+442079460958")] {
            let n = rebuilt(cc, national).expect("the crate's serde form");
            assert_eq!(n.code().value(), cc);
            assert_eq!(n.national().to_string(), national);
            assert_eq!(n.format().mode(phonenumber::Mode::E164).to_string(), e164);
            assert!(phonenumber::is_valid(&n), "{e164}");
        }
        assert!(rebuilt(44, "").is_none());
        assert!(rebuilt(44, &"9".repeat(30)).is_none());
    }

    #[test]
    fn unknown_default_country_flags_national_numbers_only() {
        let p = normalize_phone("020 7946 0958", "XX").expect("kept");
        assert!(!p.searchable());
        assert!(p.flag.as_deref().is_some_and(|f| f.contains("'XX' is not a known country")), "{p:?}");
        assert_eq!(e164("+44 20 7946 0958", "XX").as_deref(), Some("+442079460958"));
        assert!(is_known_country("fr") && is_known_country("US") && !is_known_country("XX"));
        assert_eq!(known_country_code(" gb "), Some("GB".into()));
        // FINDCONTACT skips the unit's default country for these.
        assert!(needs_default_country("(212) 736-5000") && !needs_default_country(" +1 212 736 5000"));
        for text in
            ["+1 212-736-5000", " +44 20 7946 0018", "+33 6 12 34 56 78", "+882 16 1234 5678", "+1 (800) FLOWERS"]
        {
            let us = phone_key(text, "US");
            assert!(us.is_some(), "{text}");
            for country in ["GB", "FR", "DE", "CA", "JP"] {
                assert_eq!(phone_key(text, country), us, "{text} in {country}");
            }
        }
        assert_eq!(known_country_code("ZZ"), None);
        assert_eq!(known_country_code("Narnia"), None);
    }

    #[test]
    fn too_many_digits_never_reach_the_crate() {
        let p = normalize_phone(&format!("+44 {}", "1".repeat(60)), "GB").expect("kept");
        assert!(p.flag.as_deref().is_some_and(|f| f.contains("more than any phone number")), "{p:?}");
    }

    proptest::proptest! {
        #[test]
        fn nanp_numbers_agree_with_the_time_zone_parser(
            prefix in proptest::sample::select(vec!["", "1", "1-", "+1 ", "+1-", "1 "]),
            // An area code starts with 2-9: ten digits that start with 0 or 1
            // are not a NANP number (`011 30 00000` is the US exit code, then
            // a too-short Greek number: the time-zone parser reads it, the
            // contacts rules flag it), regression test below.
            digits in "[2-9][0-9]{9}",
            sep in proptest::sample::select(vec!["", " ", "-", "."]),
        ) {
            let text = format!("{prefix}{}{sep}{}{sep}{}", &digits[..3], &digits[3..6], &digits[6..]);
            let tz = parse_phone(&text).ok().map(|n| n.e164().to_string());
            let contact = normalize_phone(&text, "US").expect("a number");
            proptest::prop_assert_eq!(&contact.e164, &tz, "{}", text);
            proptest::prop_assert_eq!(contact.flag.is_none(), tz.is_some());
        }
    }

    #[test]
    fn ten_digits_starting_with_the_us_exit_code_are_kept_but_not_searchable() {
        let p = normalize_phone("0113000000", "US").expect("kept");
        assert_eq!(p.e164, None);
        assert!(p.flag.is_some(), "{p:?}");
    }

    #[test]
    fn every_region_takes_odd_digits_without_panicking() {
        let mut rng = fastrand::Rng::with_seed(17);
        let regions: Vec<String> = database().iter().map(|m| m.id().to_string()).collect();
        assert!(regions.len() > 200, "{} regions", regions.len());
        let mut valid = 0;
        for region in &regions {
            for _ in 0..2 {
                let len = rng.usize(2..=21);
                let digits: String = (0..len).map(|_| char::from(b'0' + rng.u8(..10))).collect();
                let text = if rng.bool() { format!("+{digits}") } else { format!("{digits} x{}", rng.u8(..)) };
                let p = normalize_phone(&text, region).expect("a number");
                assert_eq!(p.searchable(), p.flag.is_none(), "{text} ({region}): {p:?}");
                valid += usize::from(p.searchable());
            }
        }
        // Some random digits are valid somewhere; the loop reached the crate.
        assert!(valid > 0);
    }

    #[test]
    fn data_versions_name_both_tables() {
        assert!(phone_data_version().starts_with(PHONE_METADATA_VERSION));
        assert!(phone_data_version().ends_with(crate::timezone::PHONE_DATA_VERSION));
    }
}
