//! Contact emails (`contacts.md` §2): `local@domain` rules, and the key
//! matching and search use (case ignored).

/// Why an email is refused: it is "incomplete", with the part at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("incomplete email '{text}': {reason}")]
pub struct EmailError {
    /// The email as given.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

/// The longest email, in characters.
pub const EMAIL_MAX: usize = 255;

/// Check an email as entered; the trimmed text when it is complete.
pub fn check_email(text: &str) -> Result<String, EmailError> {
    let t = text.trim();
    let bad = |reason: &str| EmailError { text: t.to_string(), reason: reason.to_string() };
    if t.chars().count() > EMAIL_MAX {
        return Err(bad("longer than 255 characters"));
    }
    let mut parts = t.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("it needs exactly one '@'"));
    };
    if local.is_empty() || local.chars().count() > 64 || local.chars().any(char::is_whitespace) {
        return Err(bad("the part before '@' must be 1 to 64 characters without spaces"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad("the domain needs two or more labels of letters, digits and inner hyphens"));
    }
    Ok(t.to_string())
}

/// The key an email is matched and searched by: trimmed, lowercased.
pub fn email_key(text: &str) -> String {
    text.trim().to_lowercase()
}
