//! How Studio reads and prints scalars: the boolean spellings, numeric
//! text, and the shortest decimal form of a number.

/// Parse the boolean spellings the catalog accepts: Yes/No, True/False,
/// On/Off, 1/0, in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("yes") || t.eq_ignore_ascii_case("on") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false")
        || t.eq_ignore_ascii_case("no")
        || t.eq_ignore_ascii_case("off")
        || t.is_empty()
    {
        Some(false)
    } else {
        parse_number(t).map(|n| n != 0.0)
    }
}

/// Read text as a number the way the product does: optional sign, digits,
/// optional decimal point and exponent, surrounding blanks ignored. Words
/// such as `inf` or `nan` are not numbers.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let bytes = t.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut digits = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => digits = true,
            b'.' => {}
            b'+' | b'-' if i == 0 => {}
            b'+' | b'-' if matches!(bytes[i - 1], b'e' | b'E') => {}
            b'e' | b'E' if digits => {}
            _ => return None,
        }
    }
    if !digits {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Print a number as Studio does: whole numbers without a decimal part,
/// others rounded to 15 significant digits.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if n == n.trunc() && n.abs() < 1e15 {
        // `-0` prints as `0`.
        return format!("{}", n as i64);
    }
    // Round to 15 significant digits, then print the shortest form that
    // reads back as the rounded value.
    let rounded: f64 = format!("{n:.14e}").parse().unwrap_or(n);
    let s = format!("{rounded}");
    if s.contains('e') || !s.contains('.') { s } else { s.trim_end_matches('0').trim_end_matches('.').to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_studio() {
        assert_eq!(format_number(2.0), "2");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(1.0 / 3.0), "0.333333333333333");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }

    #[test]
    fn numeric_text_reads_as_number() {
        assert_eq!(parse_number(" 42 "), Some(42.0));
        assert_eq!(parse_number("-1.5e2"), Some(-150.0));
        assert_eq!(parse_number("1e"), None);
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("."), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("5-3"), None);
    }
}
