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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_emails_come_back_trimmed() {
        assert_eq!(check_email(" ada@example.com\t"), Ok("ada@example.com".to_string()));
        assert_eq!(check_email("ä.ß@mail-1.example.co.uk"), Ok("ä.ß@mail-1.example.co.uk".to_string()));
    }

    #[test]
    fn each_rule_names_its_reason() {
        let reason = |t: &str| check_email(t).expect_err(t).reason;
        assert!(reason("a@b@c.com").contains("exactly one '@'"));
        assert!(reason("a b@c.com").contains("without spaces"));
        assert!(reason(&format!("{}@c.com", "é".repeat(65))).contains("1 to 64"));
        assert!(check_email(&format!("{}@c.com", "é".repeat(64))).is_ok());
        assert!(reason("a@localhost").contains("two or more labels"));
        assert!(reason("a@ex-.com").contains("inner hyphens"));
        assert!(reason("a@ex.c_m").contains("letters, digits"));
        assert!(reason(&format!("a@{}.com", "x".repeat(300))).contains("255"));
        assert_eq!(check_email("").expect_err("empty").text, "");
    }

    #[test]
    fn keys_ignore_case_and_blanks() {
        assert_eq!(email_key(" Ada@EXAMPLE.com "), "ada@example.com");
        assert_eq!(email_key("ÄDA@example.com"), "äda@example.com");
    }
}
