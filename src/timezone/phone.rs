//! Phone numbers as a dialer takes them: parsing, NANP validation, number
//! type.
//!
//! This module owns turning the text of a lead-file or contact field into a
//! dialable E.164 number, or into an error that says what is wrong with the
//! text. It does not format numbers for display and does not know carriers.
//!
//! Rules (`docs` of `parse_phone` has the details):
//! - Without '+': 10 digits, or 11 starting with 1, are a North American
//!   (NANP) number; a leading `011` is the NANP international dialing prefix.
//! - With '+': a real country calling code, 7 to 15 digits in all; `+1`
//!   numbers follow the NANP rules.
//! - NANP: area code (NPA) and exchange (NXX) start with 2-9, are not N11
//!   service codes, and must be in use according to libphonenumber's
//!   metadata (area code level everywhere, exchange level where the
//!   metadata lists exchanges, e.g. the Caribbean).
//! - Letters (vanity numbers) and extensions are errors: a dialer can dial
//!   neither, and guessing would dial the wrong party.
//! - The fictional 555-0100..555-0199 numbers parse (libphonenumber calls
//!   them valid and test fixtures use them); `is_fictional` tells them
//!   apart so a caller can refuse to dial them.
//!
//! Parsing allocates nothing on success: a number is a small `Copy` value
//! with its E.164 text inline.

use super::table::table;
use std::fmt;
use std::str::FromStr;

/// Longest E.164 number (ITU-T E.164), country code included.
const MAX_E164: usize = 15;
/// Shortest international number accepted, country code included. Niue and
/// Tokelau still have 4-digit subscriber numbers after a 3-digit code.
const MIN_E164: usize = 7;
/// Digits kept while scanning; more are only counted for the message.
const SCAN: usize = 20;
/// Longest input quoted back in an error message, in characters.
const QUOTE_MAX: usize = 60;

/// What kind of number a parsed number is, as libphonenumber's metadata
/// classifies it. It decides which zone rule applies: libphonenumber places
/// only geographic numbers, and answers "the whole country" for the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PhoneKind {
    /// A NANP fixed line, or a range shared by fixed lines and mobiles (all
    /// of the US and Canada: mobiles cannot be told apart there).
    Geographic,
    /// A NANP range for mobiles only (some Caribbean exchanges).
    Mobile,
    /// NANP toll free: 800, 833, 844, 855, 866, 877, 888.
    TollFree,
    /// NANP premium rate: 900.
    PremiumRate,
    /// Other NANP numbers tied to no place: personal (5XX), VoIP, pager,
    /// UAN, voicemail, shared cost.
    NonGeographic,
    /// A number outside the NANP; its type is not determined.
    International,
}

impl PhoneKind {
    fn from_letter(letter: u8) -> PhoneKind {
        match letter {
            b'G' => PhoneKind::Geographic,
            b'M' => PhoneKind::Mobile,
            b'T' => PhoneKind::TollFree,
            b'P' => PhoneKind::PremiumRate,
            _ => PhoneKind::NonGeographic,
        }
    }
}

/// A dialable phone number. Small and `Copy`; its E.164 text is stored
/// inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    /// '+' then up to 15 ASCII digits.
    buf: [u8; 1 + MAX_E164],
    len: u8,
    cc_len: u8,
    cc: u16,
    npa: u16,
    nxx: u16,
    kind: PhoneKind,
}

impl PhoneNumber {
    /// The number in E.164 form, with its '+': `+12125550123`.
    pub fn e164(&self) -> &str {
        // The buffer only ever holds '+' and ASCII digits.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or("")
    }

    /// The E.164 digits without '+', as ASCII bytes.
    pub(crate) fn digits(&self) -> &[u8] {
        &self.buf[1..usize::from(self.len)]
    }

    /// The country calling code: 1 for the NANP, 44 for the UK...
    pub fn country_code(&self) -> u16 {
        self.cc
    }

    /// The digits after the country calling code.
    pub fn national_number(&self) -> &str {
        self.e164().get(1 + usize::from(self.cc_len)..).unwrap_or("")
    }

    /// Whether the number belongs to the North American Numbering Plan (+1).
    pub fn is_nanp(&self) -> bool {
        self.cc == 1
    }

    /// The NANP area code (NPA), for +1 numbers.
    pub fn npa(&self) -> Option<u16> {
        self.is_nanp().then_some(self.npa)
    }

    /// The NANP exchange (NXX, the three digits after the area code), for +1 numbers.
    pub fn nxx(&self) -> Option<u16> {
        self.is_nanp().then_some(self.nxx)
    }

    /// The number type; see [`PhoneKind`].
    pub fn kind(&self) -> PhoneKind {
        self.kind
    }

    /// Whether the number is NANP toll free (800, 833, ..., 888).
    pub fn is_toll_free(&self) -> bool {
        self.kind == PhoneKind::TollFree
    }

    /// Whether the number is one of NANP's fictional numbers, NXX 555 with
    /// line 0100 to 0199, reserved for films and examples.
    pub fn is_fictional(&self) -> bool {
        self.is_nanp() && self.nxx == 555 && self.national_number().get(6..8) == Some("01")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.e164())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({}, {:?})", self.e164(), self.kind)
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_phone(s)
    }
}

/// Why a text is not a dialable phone number. Every message quotes the
/// offending text (cut to 60 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Blank text.
    #[error("no phone number given")]
    Empty,
    /// Text without any digit.
    #[error("'{text}' has no digits")]
    NoDigits {
        /// The offending text.
        text: String,
    },
    /// Letters, e.g. a vanity number.
    #[error("'{text}' contains letters; write vanity numbers with their digits (a dialer cannot dial letters)")]
    Letters {
        /// The offending text.
        text: String,
    },
    /// An extension or a dialing pause.
    #[error("'{text}' has an extension; a dialer cannot dial extensions, give the main number alone")]
    Extension {
        /// The offending text.
        text: String,
    },
    /// A character that is neither a digit nor usual formatting.
    #[error("'{text}' contains {ch:?}, which is not part of a phone number")]
    InvalidCharacter {
        /// The offending text.
        text: String,
        /// The first such character.
        ch: char,
    },
    /// A '+' after the start.
    #[error("'{text}' has a '+' that is not at the start")]
    MisplacedPlus {
        /// The offending text.
        text: String,
    },
    /// A number without '+' that is not 10 digits (or 11 starting with 1).
    #[error(
        "'{text}' has {digits} digits; a North American number needs 10 (or 11 starting with 1), \
         and other countries' numbers start with + or 011 and the country code"
    )]
    NanpLength {
        /// The offending text.
        text: String,
        /// How many digits it has.
        digits: usize,
    },
    /// A +1 number without exactly 10 digits after the 1.
    #[error("'{text}' has {digits} digits after +1; a North American number needs 10")]
    NanpLengthAfterOne {
        /// The offending text.
        text: String,
        /// How many digits follow the country code.
        digits: usize,
    },
    /// An international number shorter than 7 or longer than 15 digits.
    #[error("'{text}' has {digits} digits after the + or 011; an international number has 7 to 15")]
    InternationalLength {
        /// The offending text.
        text: String,
        /// How many digits follow the '+' or 011.
        digits: usize,
    },
    /// No country calling code starts the international number.
    #[error("'{text}' does not start with a known country calling code")]
    UnknownCountryCode {
        /// The offending text.
        text: String,
    },
    /// A NANP area code starting with 0 or 1.
    #[error("'{text}': area code {npa:03} cannot start with 0 or 1")]
    AreaCodeStart {
        /// The offending text.
        text: String,
        /// The area code.
        npa: u16,
    },
    /// A N11 service code in the area-code place.
    #[error("'{text}': {npa} is a service code (N11), not an area code")]
    AreaCodeN11 {
        /// The offending text.
        text: String,
        /// The area code.
        npa: u16,
    },
    /// A NANP area code the metadata does not list.
    #[error("'{text}': area code {npa} is not in use in the North American Numbering Plan")]
    UnassignedAreaCode {
        /// The offending text.
        text: String,
        /// The area code.
        npa: u16,
    },
    /// A NANP exchange starting with 0 or 1.
    #[error("'{text}': exchange {nxx:03} cannot start with 0 or 1")]
    ExchangeStart {
        /// The offending text.
        text: String,
        /// The exchange.
        nxx: u16,
    },
    /// A N11 service code in the exchange place.
    #[error("'{text}': exchange {nxx} is a service code (N11)")]
    ExchangeN11 {
        /// The offending text.
        text: String,
        /// The exchange.
        nxx: u16,
    },
    /// An exchange the metadata does not list for its area code.
    #[error("'{text}': exchange {nxx} is not in use in area code {npa}")]
    UnassignedExchange {
        /// The offending text.
        text: String,
        /// The area code.
        npa: u16,
        /// The exchange.
        nxx: u16,
    },
    /// A block of 1,000 lines the metadata does not list, in an exchange
    /// whose other blocks are in use.
    #[error("'{text}': lines {npa}-{nxx}-{block}000 to {block}999 are not in use")]
    UnassignedLines {
        /// The offending text.
        text: String,
        /// The area code.
        npa: u16,
        /// The exchange.
        nxx: u16,
        /// The first digit of the line number.
        block: u8,
    },
}

/// The text as quoted in messages: trimmed, and cut so that a huge field
/// cannot make a huge message.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// What the character scan found.
struct Scanned {
    digits: [u8; SCAN],
    /// All digits seen, also those past `SCAN`.
    count: usize,
    plus: bool,
}

impl Scanned {
    fn kept(&self) -> &[u8] {
        &self.digits[..self.count.min(SCAN)]
    }
}

/// Extension markers, lower case, longest first.
const EXTENSION_MARKERS: [&str; 7] = [";ext=", "extension", "extn", "ext", "x", "#", ","];

/// Whether `rest` (lower or upper case) starts with an extension marker
/// followed by the extension's digits, e.g. "x12", " ext. 12", "#12", ",12".
fn is_extension(rest: &str) -> bool {
    let Some(marker) =
        EXTENSION_MARKERS.iter().find(|m| rest.get(..m.len()).is_some_and(|head| head.eq_ignore_ascii_case(m)))
    else {
        return false;
    };
    let tail = rest[marker.len()..].trim_start_matches([' ', '.', ':', '=', '-', ',']);
    let mut digits = 0;
    for b in tail.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b' ' | b'-' => {}
            _ => return false,
        }
    }
    digits > 0
}

/// Dashes and minus signs other than '-' that spreadsheets put in numbers.
fn is_unicode_dash(c: char) -> bool {
    matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}')
}

fn scan(quoted: &str, body: &str) -> Result<Scanned, PhoneError> {
    let mut s = Scanned { digits: [0; SCAN], count: 0, plus: false };
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let mut digit = None;
        match b {
            b'0'..=b'9' => digit = Some(b),
            b' ' | b'-' | b'.' | b')' | b'/' | b'\t' => {}
            b'(' => {
                // "+44 (0)20 ...": the bracketed trunk 0 is not dialed from abroad.
                if s.plus && s.count > 0 && bytes.get(i + 1) == Some(&b'0') && bytes.get(i + 2) == Some(&b')') {
                    i += 3;
                    continue;
                }
            }
            b'+' => {
                if s.count > 0 || s.plus {
                    return Err(PhoneError::MisplacedPlus { text: quote(quoted) });
                }
                s.plus = true;
            }
            _ if s.count > 0 && is_extension(&body[i..]) => {
                return Err(PhoneError::Extension { text: quote(quoted) });
            }
            _ if b.is_ascii_alphabetic() => return Err(PhoneError::Letters { text: quote(quoted) }),
            _ if b >= 0x80 => {
                let c = body[i..].chars().next().unwrap_or('\u{FFFD}');
                i += c.len_utf8();
                match c {
                    '\u{FF10}'..='\u{FF19}' => digit = Some(b'0' + (c as u32 - 0xFF10) as u8),
                    '\u{FF0B}' if s.count == 0 && !s.plus => s.plus = true,
                    _ if c.is_whitespace() || is_unicode_dash(c) => {}
                    _ if c.is_alphabetic() => return Err(PhoneError::Letters { text: quote(quoted) }),
                    _ => return Err(PhoneError::InvalidCharacter { text: quote(quoted), ch: c }),
                }
                if let Some(d) = digit {
                    if s.count < SCAN {
                        s.digits[s.count] = d;
                    }
                    s.count += 1;
                }
                continue;
            }
            _ => return Err(PhoneError::InvalidCharacter { text: quote(quoted), ch: char::from(b) }),
        }
        if let Some(d) = digit {
            if s.count < SCAN {
                s.digits[s.count] = d;
            }
            s.count += 1;
        }
        i += 1;
    }
    Ok(s)
}

/// The value of a run of ASCII digits (at most 4 used here).
#[inline]
fn value(digits: &[u8]) -> u16 {
    digits.iter().fold(0u16, |v, d| v * 10 + u16::from(d - b'0'))
}

/// Parse the text of a phone field into a dialable number.
///
/// Accepts spaces, dashes (also Unicode dashes), dots, parentheses and
/// slashes as formatting, a leading '+' (or `tel:+`), full-width digits,
/// and the "(0)" trunk digit of international formats such as
/// `+44 (0)20 7946 0958`.
///
/// ```
/// use prospero::timezone::{parse_phone, PhoneKind};
/// let n = parse_phone("(212) 555-0123").unwrap();
/// assert_eq!(n.e164(), "+12125550123");
/// assert_eq!((n.npa(), n.nxx(), n.kind()), (Some(212), Some(555), PhoneKind::Geographic));
/// let e = parse_phone("555-123").unwrap_err();
/// assert!(e.to_string().starts_with("'555-123' has 6 digits; a North American number needs 10"));
/// ```
pub fn parse_phone(raw: &str) -> Result<PhoneNumber, PhoneError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    let body = match text.get(..4) {
        Some(head) if head.eq_ignore_ascii_case("tel:") => text[4..].trim_start(),
        _ => text,
    };
    let s = scan(text, body)?;
    let d = s.kept();
    if s.count == 0 {
        return Err(PhoneError::NoDigits { text: quote(text) });
    }
    if s.plus {
        return international(text, d, s.count);
    }
    if d.starts_with(b"011") {
        return international(text, &d[3..], s.count - 3);
    }
    match s.count {
        10 => nanp(text, d),
        11 if d[0] == b'1' => nanp(text, &d[1..]),
        n => Err(PhoneError::NanpLength { text: quote(text), digits: n }),
    }
}

/// `d`: the digits after '+' or 011 (the first `SCAN` of `count`).
fn international(text: &str, d: &[u8], count: usize) -> Result<PhoneNumber, PhoneError> {
    let t = table();
    let cc_len = (1..=3.min(d.len())).find(|&len| d[0] != b'0' && t.is_country_code(value(&d[..len])));
    let Some(cc_len) = cc_len else {
        if !(MIN_E164..=MAX_E164).contains(&count) {
            return Err(PhoneError::InternationalLength { text: quote(text), digits: count });
        }
        return Err(PhoneError::UnknownCountryCode { text: quote(text) });
    };
    let cc = value(&d[..cc_len]);
    if cc == 1 {
        if count != 11 {
            return Err(PhoneError::NanpLengthAfterOne { text: quote(text), digits: count - 1 });
        }
        return nanp(text, &d[1..11]);
    }
    if !(MIN_E164..=MAX_E164).contains(&count) {
        return Err(PhoneError::InternationalLength { text: quote(text), digits: count });
    }
    let mut buf = [0u8; 1 + MAX_E164];
    buf[0] = b'+';
    buf[1..=count].copy_from_slice(&d[..count]);
    Ok(PhoneNumber {
        buf,
        len: (count + 1) as u8,
        cc_len: cc_len as u8,
        cc,
        npa: 0,
        nxx: 0,
        kind: PhoneKind::International,
    })
}

/// `d`: exactly the 10 national digits of a NANP number.
fn nanp(text: &str, d: &[u8]) -> Result<PhoneNumber, PhoneError> {
    let (npa, nxx) = (value(&d[0..3]), value(&d[3..6]));
    if d[0] < b'2' {
        return Err(PhoneError::AreaCodeStart { text: quote(text), npa });
    }
    if d[1] == b'1' && d[2] == b'1' {
        return Err(PhoneError::AreaCodeN11 { text: quote(text), npa });
    }
    if d[3] < b'2' {
        return Err(PhoneError::ExchangeStart { text: quote(text), nxx });
    }
    if d[4] == b'1' && d[5] == b'1' {
        return Err(PhoneError::ExchangeN11 { text: quote(text), nxx });
    }
    let t = table();
    let block = d[6] - b'0';
    let Some(letter) = t.nanp_kind(npa, nxx, block) else {
        if t.nanp_exchange_in_use(npa, nxx) {
            return Err(PhoneError::UnassignedLines { text: quote(text), npa, nxx, block });
        }
        if t.nanp_area_in_use(npa) {
            return Err(PhoneError::UnassignedExchange { text: quote(text), npa, nxx });
        }
        return Err(PhoneError::UnassignedAreaCode { text: quote(text), npa });
    };
    let mut buf = [0u8; 1 + MAX_E164];
    buf[..2].copy_from_slice(b"+1");
    buf[2..12].copy_from_slice(&d[..10]);
    Ok(PhoneNumber { buf, len: 12, cc_len: 1, cc: 1, npa, nxx, kind: PhoneKind::from_letter(letter) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str) -> String {
        match parse_phone(raw) {
            Ok(n) => n.e164().to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn nanp_numbers_in_many_formats() {
        for raw in [
            "2125550123",
            "212-555-0123",
            "212.555.0123",
            "(212) 555-0123",
            "(212)555-0123",
            "212 555 0123",
            "212/555-0123",
            "1-212-555-0123",
            "1 (212) 555-0123",
            "12125550123",
            "+1 212 555 0123",
            "+1-212-555-0123",
            "+12125550123",
            "  +1 (212) 555-0123  ",
            "tel:+1-212-555-0123",
            "TEL:2125550123",
            "212\u{2013}555\u{2013}0123",
            "212\u{a0}555\u{a0}0123",
            "\u{FF0B}\u{FF11}\u{FF12}\u{FF11}\u{FF12}\u{FF15}\u{FF15}\u{FF15}\u{FF10}\u{FF11}\u{FF12}\u{FF13}",
            "011 1 212 555 0123",
        ] {
            assert_eq!(e164(raw), "+12125550123", "{raw}");
        }
    }

    #[test]
    fn parsed_nanp_number_exposes_its_parts() {
        let n = parse_phone("(808) 555-0123").expect("Hawaii number");
        assert_eq!(n.country_code(), 1);
        assert!(n.is_nanp());
        assert_eq!((n.npa(), n.nxx()), (Some(808), Some(555)));
        assert_eq!(n.national_number(), "8085550123");
        assert_eq!(n.kind(), PhoneKind::Geographic);
        assert!(!n.is_toll_free());
        assert!(n.is_fictional());
        assert!(!parse_phone("808 555 0200").expect("valid").is_fictional());
        assert_eq!(n.to_string(), "+18085550123");
        assert_eq!(format!("{n:?}"), "PhoneNumber(+18085550123, Geographic)");
        assert_eq!("808-555-0123".parse::<PhoneNumber>(), Ok(n));
    }

    #[test]
    fn number_types_follow_the_metadata() {
        let kind = |raw: &str| parse_phone(raw).map(|n| n.kind());
        for tf in ["800", "833", "844", "855", "866", "877", "888"] {
            let n = parse_phone(&format!("1-{tf}-234-5678")).expect(tf);
            assert_eq!(n.kind(), PhoneKind::TollFree, "{tf}");
            assert!(n.is_toll_free());
        }
        assert_eq!(kind("900-234-5678"), Ok(PhoneKind::PremiumRate));
        assert_eq!(kind("500-234-5678"), Ok(PhoneKind::NonGeographic));
        assert_eq!(kind("533-234-5678"), Ok(PhoneKind::NonGeographic));
        // Canada's VoIP area code.
        assert_eq!(kind("600-234-5678"), Ok(PhoneKind::NonGeographic));
        // Antigua: 268-7xx are mobile-only exchanges, 268-46x fixed lines.
        assert_eq!(kind("268-720-1234"), Ok(PhoneKind::Mobile));
        assert_eq!(kind("268-460-1234"), Ok(PhoneKind::Geographic));
        assert_eq!(kind("+44 20 7946 0958"), Ok(PhoneKind::International));
    }

    #[test]
    fn international_numbers() {
        let n = parse_phone("+44 20 7946 0958").expect("UK number");
        assert_eq!(n.e164(), "+442079460958");
        assert_eq!(n.country_code(), 44);
        assert_eq!(n.national_number(), "2079460958");
        assert!(!n.is_nanp());
        assert_eq!((n.npa(), n.nxx()), (None, None));
        for (raw, want) in [
            ("+44 (0)20 7946 0958", "+442079460958"),
            ("011 44 20 7946 0958", "+442079460958"),
            ("+33 1 23 45 67 89", "+33123456789"),
            ("+880 1712-345678", "+8801712345678"),
            ("+683 4002", "+6834002"),
            ("tel:+7-495-123-45-67", "+74951234567"),
        ] {
            assert_eq!(e164(raw), want, "{raw}");
        }
        assert_eq!(parse_phone("+7 495 123 4567").map(|n| n.country_code()), Ok(7));
        assert_eq!(parse_phone("+971 4 123 4567").map(|n| n.country_code()), Ok(971));
    }

    #[test]
    fn length_errors_say_how_many_digits() {
        let err = |raw: &str| parse_phone(raw).expect_err(raw).to_string();
        assert!(err("555-123").starts_with("'555-123' has 6 digits; a North American number needs 10"));
        assert!(err("212 555 01234").starts_with("'212 555 01234' has 11 digits;"));
        assert!(err("22125550123").contains("11 digits"));
        assert!(err("0033 1 10 20 30 40").contains("or 011 and the country code"));
        assert_eq!(err("+1 212 555 012"), "'+1 212 555 012' has 9 digits after +1; a North American number needs 10");
        assert!(err("+44 1234").contains("has 6 digits after the + or 011"));
        assert!(err("+44 1234 5678 9012 345").contains("has 17 digits"));
        assert!(err("011 44").contains("has 2 digits after the + or 011"));
        assert!(err("123456789012345678901234567890").contains("has 30 digits"));
        assert_eq!(parse_phone("   "), Err(PhoneError::Empty));
        assert_eq!(parse_phone("-- ()"), Err(PhoneError::NoDigits { text: "-- ()".into() }));
    }

    #[test]
    fn nanp_structure_errors() {
        let err = |raw: &str| parse_phone(raw).expect_err(raw);
        assert_eq!(err("012-555-0123"), PhoneError::AreaCodeStart { text: "012-555-0123".into(), npa: 12 });
        assert_eq!(err("1-112-555-0123"), PhoneError::AreaCodeStart { text: "1-112-555-0123".into(), npa: 112 });
        assert_eq!(err("911-555-0123"), PhoneError::AreaCodeN11 { text: "911-555-0123".into(), npa: 911 });
        assert_eq!(err("212-055-0123"), PhoneError::ExchangeStart { text: "212-055-0123".into(), nxx: 55 });
        assert_eq!(err("212-155-0123"), PhoneError::ExchangeStart { text: "212-155-0123".into(), nxx: 155 });
        assert_eq!(err("212-411-0123"), PhoneError::ExchangeN11 { text: "212-411-0123".into(), nxx: 411 });
        assert_eq!(err("999-555-0123"), PhoneError::UnassignedAreaCode { text: "999-555-0123".into(), npa: 999 });
        assert_eq!(err("+1 555 234 5678"), PhoneError::UnassignedAreaCode { text: "+1 555 234 5678".into(), npa: 555 });
        assert_eq!(
            err("268-999-1234"),
            PhoneError::UnassignedExchange { text: "268-999-1234".into(), npa: 268, nxx: 999 }
        );
        // Barbados 246-521: fixed, mobile and unused blocks of 1,000 lines.
        assert_eq!(
            err("246-521-5000"),
            PhoneError::UnassignedLines { text: "246-521-5000".into(), npa: 246, nxx: 521, block: 5 }
        );
        assert_eq!(err("246-521-5000").to_string(), "'246-521-5000': lines 246-521-5000 to 5999 are not in use");
        assert_eq!(parse_phone("246-521-3440").map(|n| n.kind()), Ok(PhoneKind::Geographic));
        assert_eq!(parse_phone("246-521-4440").map(|n| n.kind()), Ok(PhoneKind::Mobile));
        assert_eq!(err("012-555-0123").to_string(), "'012-555-0123': area code 012 cannot start with 0 or 1");
        assert_eq!(
            err("999-555-0123").to_string(),
            "'999-555-0123': area code 999 is not in use in the North American Numbering Plan"
        );
    }

    /// Each of `raws` is refused with the error `make` builds from it.
    fn refused_as(make: fn(String) -> PhoneError, raws: &[&str]) {
        for raw in raws {
            assert_eq!(parse_phone(raw), Err(make(raw.to_string())), "{raw}");
        }
    }

    #[test]
    fn letters_extensions_and_stray_characters() {
        let err = |raw: &str| parse_phone(raw).expect_err(raw);
        refused_as(
            |text| PhoneError::Letters { text },
            &["1-800-FLOWERS", "1-800-XEROX12", "call 212 555 0123", "212 555 é"],
        );
        refused_as(
            |text| PhoneError::Extension { text },
            &[
                "212-555-0123 x45",
                "212-555-0123x45",
                "212-555-0123 X 45",
                "212-555-0123 ext. 45",
                "212-555-0123 Ext 45",
                "212-555-0123 extension 45",
                "212-555-0123#45",
                "212-555-0123,,45",
                "tel:+1-212-555-0123;ext=45",
            ],
        );
        assert!(err("212-555-0123 x45").to_string().contains("a dialer cannot dial extensions"));
        for (raw, ch) in [("212*555*0123", '*'), ("212-555-0123#", '#'), ("212\u{2022}555", '\u{2022}')] {
            assert_eq!(err(raw), PhoneError::InvalidCharacter { text: raw.into(), ch }, "{raw}");
        }
        refused_as(|text| PhoneError::MisplacedPlus { text }, &["+1 +212 555 0123", "212+5550123"]);
    }

    #[test]
    fn country_codes_must_exist() {
        // Neither 8, 80 nor 801 is a calling code.
        refused_as(
            |text| PhoneError::UnknownCountryCode { text },
            &["+999 123 4567", "+0 44 20 7946 0958", "+80 1234 5678"],
        );
        let err = parse_phone("+999 123 4567").expect_err("unknown code").to_string();
        assert!(err.contains("known country calling code"), "{err}");
    }

    #[test]
    fn long_text_is_cut_in_messages() {
        let raw = format!("212 {}", "x".repeat(500));
        let msg = parse_phone(&raw).expect_err("letters").to_string();
        assert!(msg.len() < 200, "{msg}");
        assert!(msg.contains('…'));
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_to_e164_or_an_error_quoting_it(raw in "[-+0-9 ().xX#,;/telTEL:\u{a0}\u{ff10}-\u{ff19}é]{0,24}") {
            match parse_phone(&raw) {
                Ok(n) => {
                    let e = n.e164();
                    proptest::prop_assert!(e.starts_with('+') && (8..=16).contains(&e.len()), "{e}");
                    proptest::prop_assert!(e[1..].bytes().all(|b| b.is_ascii_digit()));
                }
                Err(PhoneError::Empty) => proptest::prop_assert!(raw.trim().is_empty()),
                Err(e) => proptest::prop_assert!(e.to_string().contains(raw.trim()), "{e}"),
            }
        }
    }

    #[test]
    fn odd_input_never_panics() {
        // Byte-boundary traps for the 'tel:' check and the scanners.
        for raw in ["é", "tél:+1", "t", "+", "(0)", "+(0)", "+1(0)", "011", "1", "x1", "#", "\u{FF0B}", "𝟙𝟚"] {
            let _ = parse_phone(raw);
        }
        assert!(parse_phone("+").is_err());
    }
}
