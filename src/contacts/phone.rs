//! Contact phones (`contacts.md` §2): the text as entered, its E.164 form
//! when it is a valid number, an extension kept beside it, and a flag for
//! what is kept but not searchable.
//!
//! Numbers without a country code take the unit's default country (ISO
//! 3166 alpha-2, `US` unless the unit sets another).

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

/// Normalize a phone as entered, for a unit whose default country is
/// `default_country` (ISO 3166 alpha-2).
pub fn normalize_phone(text: &str, default_country: &str) -> Result<Phone, PhoneRejected> {
    let _ = default_country;
    let text = text.trim();
    if text.is_empty() {
        return Err(PhoneRejected::Empty);
    }
    let lower = text.to_ascii_lowercase();
    let (number, extension) = match lower.find("ext").or_else(|| lower.find('x')) {
        Some(i) => {
            let ext: String = lower[i..].chars().filter(char::is_ascii_digit).collect();
            (&text[..i], (!ext.is_empty()).then_some(ext))
        }
        None => (text, None),
    };
    if number.trim().is_empty() {
        return Err(PhoneRejected::ExtensionOnly(text.to_string()));
    }
    match crate::timezone::parse_phone(number) {
        Ok(p) => Ok(Phone { text: text.to_string(), e164: Some(p.e164().to_string()), extension, flag: None }),
        Err(e) => Ok(Phone { text: text.to_string(), e164: None, extension, flag: Some(e.to_string()) }),
    }
}

/// The search key of a phone given in any written form: its E.164 text,
/// or `None` when it is not a valid number.
pub fn phone_key(text: &str, default_country: &str) -> Option<String> {
    normalize_phone(text, default_country).ok().and_then(|p| p.e164)
}
