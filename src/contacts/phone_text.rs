//! The written form of a contact phone, read the way libphonenumber reads
//! it before it looks at any country's rules: where the number starts and
//! ends, its extension, whether it is international (`+`), and its digits
//! with vanity letters converted on the telephone keypad (ITU E.161).
//!
//! The rules follow libphonenumber's `parse` front end (extract the
//! possible number, check it is viable, strip the extension, normalize),
//! so that the `phonenumber` crate and `timezone::parse_phone` are only
//! ever handed `+digits` or `digits`. The one deliberate difference: a
//! value that is an extension and nothing else (`x123`, `ext. 45`, `#12`)
//! is recognised as such, where libphonenumber reads its digits as a
//! (short, invalid) number.

use regex::Regex;
use std::sync::LazyLock;

/// What a phone's text holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// A number to check against a country's rules.
    Number(Written),
    /// An extension without a number.
    ExtensionOnly,
    /// Nothing libphonenumber would read as a phone number.
    NotANumber,
    /// Longer than libphonenumber reads ([`MAX_INPUT`] characters).
    TooLong,
}

/// A number as written, reduced to what the country rules read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Written {
    /// Whether it starts with `+` (the country code follows).
    pub plus: bool,
    /// ASCII digits, vanity letters converted.
    pub digits: String,
    /// The extension's digits, when one is written.
    pub extension: Option<String>,
}

/// libphonenumber's longest input; longer text is not read at all.
pub(crate) const MAX_INPUT: usize = 250;

/// Punctuation libphonenumber allows inside a number (its
/// `VALID_PUNCTUATION`, `x` included), as a regex class body.
const PUNCT: &str = r"\-x\x{2010}-\x{2015}\x{2212}\x{30FC}\x{FF0D}-\x{FF0F} \x{A0}\x{AD}\x{200B}\x{2060}\x{3000}()\x{FF08}\x{FF09}\x{FF3B}\x{FF3D}.\[\]/~\x{2053}\x{223C}\x{FF5E}";

/// The ways an extension is written after a number, each with one group
/// for its digits: RFC 3966 `;ext=`, explicit labels (`ext`, `extn`,
/// `extension`, `anexo`, `доб`), one-character and short labels (`x`, `#`,
/// `~`, `int`), American `- 503#`, auto-dialling `,,` / `;`, and commas.
fn extension_alternatives() -> String {
    let sep = r"[ \x{A0}\t,]*";
    let after = r"[:\.\x{FF0E}]?[ \x{A0}\t,\-]*";
    let explicit =
        r"(?:e?xt(?:ensi(?:o\x{301}?|\x{F3}))?n?|\x{FF45}?\x{FF58}\x{FF54}\x{FF4E}?|\x{434}\x{43E}\x{431}|anexo)";
    let ambiguous = r"(?:[x\x{FF58}#\x{FF03}~\x{FF5E}]|int|\x{FF49}\x{FF4E}\x{FF54})";
    let no_comma = r"[ \x{A0}\t]*";
    [
        r";ext=(\d{1,20})".to_string(),
        format!(r"{sep}{explicit}{after}(\d{{1,20}})#?"),
        format!(r"{sep}{ambiguous}{after}(\d{{1,9}})#?"),
        r"[\- ]+(\d{1,6})#".to_string(),
        format!(r"{no_comma}(?:,{{2}}|;){after}(\d{{1,15}})#?"),
        format!(r"{no_comma},+{after}(\d{{1,9}})#?"),
    ]
    .join("|")
}

fn compile(pattern: &str) -> Regex {
    // The patterns are constants of this file; a test compiles each.
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("phone pattern: {e}"))
}

/// An extension at the end of the text.
static EXTENSION: LazyLock<Regex> = LazyLock::new(|| compile(&format!(r"(?i)(?:{})$", extension_alternatives())));

/// A text libphonenumber calls viable: two digits, or three or more among
/// punctuation, then letters and digits, and an optional extension.
static VIABLE: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^(?:\d{{2}}|[+\x{{FF0B}}]*(?:[{PUNCT}*]*\d){{3,}}[{PUNCT}*A-Za-z\d]*)(?:{})?$",
        extension_alternatives()
    ))
});

/// Trailing characters that are neither letters, digits nor `#`.
static UNWANTED_END: LazyLock<Regex> = LazyLock::new(|| compile(r"(?:_|[^#\w])+$"));

/// Where a second number starts (`(530) 583-6985 x302/x2303`).
static SECOND_NUMBER: LazyLock<Regex> = LazyLock::new(|| compile(r"[\\/] *x"));

/// The value of a decimal digit: ASCII, full-width, Arabic-Indic, Extended
/// Arabic-Indic, Devanagari or Bengali.
fn digit_value(c: char) -> Option<u8> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        '\u{0966}'..='\u{096F}' => '\u{0966}',
        '\u{09E6}'..='\u{09EF}' => '\u{09E6}',
        _ => return None,
    };
    u8::try_from(u32::from(c) - u32::from(zero)).ok()
}

/// A letter's key on the telephone keypad (ITU E.161).
fn keypad(c: char) -> Option<u8> {
    Some(match c.to_ascii_uppercase() {
        'A'..='C' => 2,
        'D'..='F' => 3,
        'G'..='I' => 4,
        'J'..='L' => 5,
        'M'..='O' => 6,
        'P'..='S' => 7,
        'T'..='V' => 8,
        'W'..='Z' => 9,
        _ => return None,
    })
}

/// Plain text: ASCII digits and the usual separators, `+` only first.
/// Nothing of libphonenumber's front end changes such text but dropping
/// its separators.
fn plain(text: &str) -> Option<Written> {
    let mut digits = String::with_capacity(text.len());
    let mut plus = false;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => digits.push(char::from(b)),
            b'+' if digits.is_empty() && !plus => plus = true,
            b' ' | b'-' | b'.' | b'(' | b')' | b'/' => {}
            _ => return None,
        }
    }
    // Fewer than three digits: the full reading decides.
    (digits.len() >= 3).then_some(Written { plus, digits, extension: None })
}

/// Read a phone's text (trimmed, not empty).
pub(crate) fn read(text: &str) -> Read {
    if text.len() > MAX_INPUT && text.chars().count() > MAX_INPUT {
        return Read::TooLong;
    }
    if let Some(w) = plain(text) {
        return Read::Number(w);
    }
    if let Some(m) = EXTENSION.find(text)
        && !text[..m.start()].chars().any(|c| digit_value(c).is_some() || c.is_numeric())
    {
        return Read::ExtensionOnly;
    }
    let number = extract(text);
    if !viable(number) {
        return Read::NotANumber;
    }
    let (number, extension) = split_extension(number);
    let rest = number.trim_start_matches(['+', '\u{FF0B}']);
    let plus = rest.len() < number.len();
    let digits = normalize(rest);
    if digits.is_empty() {
        return Read::NotANumber;
    }
    Read::Number(Written { plus, digits, extension })
}

/// The possible number inside the text: from its first digit or `+`,
/// without trailing punctuation, cut before a second number, without an
/// RFC 3966 sub-address.
fn extract(text: &str) -> &str {
    let Some(start) = text.find(|c: char| c == '+' || c == '\u{FF0B}' || c.is_numeric()) else {
        return "";
    };
    let mut number = &text[start..];
    if let Some(m) = UNWANTED_END.find(number) {
        number = &number[..m.start()];
    }
    if let Some(m) = SECOND_NUMBER.find(number) {
        number = &number[..m.start()];
    }
    if let Some(i) = number.find(";isub=")
        && i > 0
    {
        number = &number[..i];
    }
    number
}

fn viable(number: &str) -> bool {
    number.chars().count() >= 2 && VIABLE.is_match(number)
}

/// The number without its extension, and the extension's digits.
fn split_extension(number: &str) -> (&str, Option<String>) {
    let Some(caps) = EXTENSION.captures(number) else {
        return (number, None);
    };
    let Some(whole) = caps.get(0) else {
        return (number, None);
    };
    let before = &number[..whole.start()];
    if !viable(before) {
        return (number, None);
    }
    let digits = caps.iter().skip(1).flatten().next().map(|g| g.as_str());
    let ext: Option<String> = digits.map(|d| d.chars().filter_map(digit_value).map(|v| char::from(b'0' + v)).collect());
    (before, ext.filter(|e| !e.is_empty()))
}

/// The digits of a number: with three or more ASCII letters, letters are
/// keypad digits and only ASCII digits count besides; otherwise every
/// decimal digit counts and letters are dropped (libphonenumber's
/// `normalize`).
fn normalize(number: &str) -> String {
    let vanity = number.chars().filter(char::is_ascii_alphabetic).count() >= 3;
    number
        .chars()
        .filter_map(|c| {
            if vanity { if c.is_ascii_digit() { Some(c as u8 - b'0') } else { keypad(c) } } else { digit_value(c) }
        })
        .map(|v| char::from(b'0' + v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> (bool, String, Option<String>) {
        match read(text) {
            Read::Number(w) => (w.plus, w.digits, w.extension),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn patterns_compile() {
        for re in [&EXTENSION, &VIABLE, &UNWANTED_END, &SECOND_NUMBER] {
            assert!(!re.as_str().is_empty());
        }
    }

    #[test]
    fn plain_text_keeps_digits_and_plus() {
        assert_eq!(number("(212) 736-5000"), (false, "2127365000".into(), None));
        assert_eq!(number("+1 212.736.5000"), (true, "12127365000".into(), None));
    }

    #[test]
    fn extensions_in_the_written_forms() {
        for text in [
            "212-736-5000 x123",
            "212-736-5000x123",
            "212-736-5000 X 123",
            "212-736-5000 ext. 123",
            "212-736-5000 ext 123",
            "212-736-5000 Ext: 123",
            "212-736-5000 extension 123",
            "212-736-5000 #123",
            "212-736-5000,,123",
            "212-736-5000;ext=123",
            "212-736-5000 - 123#",
            "212-736-5000 int 123",
        ] {
            assert_eq!(number(text), (false, "2127365000".into(), Some("123".into())), "{text}");
        }
    }

    #[test]
    fn an_extension_alone_is_told_apart() {
        for text in ["x123", "X 123", "ext. 123", "ext 123", "Ext: 45", "#123", ";ext=123", ",,123", "extension 9"] {
            assert_eq!(read(text), Read::ExtensionOnly, "{text}");
        }
    }

    #[test]
    fn vanity_letters_take_their_keypad_digits() {
        assert_eq!(number("1-800-FLOWERS").1, "18003569377");
        assert_eq!(number("1-800-my-apple").1, "18006927753");
        // Two letters are typos, dropped rather than converted.
        assert_eq!(number("212 736 50AB00").1, "2127365000");
    }

    #[test]
    fn text_around_the_number() {
        assert_eq!(number("tel:+1-212-736-5000").1, "12127365000");
        assert_eq!(number("(home) 212 736 5000").1, "2127365000");
        assert_eq!(number("\u{FF0B}\u{FF11} \u{FF12}\u{FF11}\u{FF12}").1, "1212");
        assert_eq!(number("(530) 583-6985 x302/x2303").2, Some("302".into()));
        for text in ["call me", "N/A", "---", "+", "x", "ext.", "12AB"] {
            assert_eq!(read(text), Read::NotANumber, "{text}");
        }
        assert_eq!(read(&"9".repeat(MAX_INPUT + 1)), Read::TooLong);
        assert_eq!(read(&"é".repeat(MAX_INPUT)), Read::NotANumber);
    }
}
