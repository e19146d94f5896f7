//! JSON string writing: the one escaper for traces, reports and exports.

/// Append `s` as a JSON string literal.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    // Most trace strings (ids, names, clock readings) need no escaping.
    if !needs_json_escape(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    // serde_json's escaper writes straight into the buffer; a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Whether `s` holds a byte JSON escapes: a control character, `"` or `\`.
/// Eight bytes at a time, a trace writes several strings per step.
fn needs_json_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Non-zero exactly when a byte of `x` is below `n` (n ≤ 0x80): a borrow
    // may mark a byte above a marked one too, but never marks one alone.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * n as u64) & !x & HIGH;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_ne_bytes(w);
        // A byte equal to `b` is a zero byte of `x ^ b…b`, and zero is below 1.
        if below(x, 0x20) | below(x ^ (ONES * b'"' as u64), 1) | below(x ^ (ONES * b'\\' as u64), 1) != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// serde_json reports a `\\uD800`-style escape that is not half of a
/// surrogate pair as "unexpected end of hex escape" or "lone leading
/// surrogate" at the character after it. Name it instead: the escape as
/// written, its byte offset in `text`, and a sentence.
pub fn lone_surrogate(text: &str, e: &serde_json::Error) -> Option<(usize, String)> {
    let reason = e.to_string();
    if !(reason.contains("surrogate") || reason.contains("hex escape")) || e.line() == 0 {
        return None;
    }
    // serde_json counts lines from 1 and columns in bytes from 1.
    let line_start = if e.line() == 1 { 0 } else { text.match_indices('\n').nth(e.line() - 2).map(|(i, _)| i + 1)? };
    let at = (line_start + e.column()).min(text.len());
    let b = text.as_bytes();
    // The offending escape ends within a few bytes before the error.
    let from = at.saturating_sub(14);
    (from..at).rev().find_map(|i| {
        let hex = b.get(i + 2..i + 6)?;
        if b[i] != b'\\' || b.get(i + 1) != Some(&b'u') || !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let code = u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
        if !(0xD800..=0xDFFF).contains(&code) {
            return None;
        }
        let escape = String::from_utf8_lossy(&b[i..i + 6]).into_owned();
        let half = if code < 0xDC00 {
            "a high (leading) half not followed by a low \\uDC00-\\uDFFF escape"
        } else {
            "a low (trailing) half without a high \\uD800-\\uDBFF escape before it"
        };
        Some((i, format!("lone surrogate {escape} in a string: {half}; a character outside the BMP needs both halves")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_scan_agrees_with_a_byte_by_byte_scan() {
        let naive = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
        // Every byte value at every position of strings 1 to 19 bytes long,
        // over a background of plain and of high (non-ASCII) bytes.
        for len in 1..20 {
            for background in [b'a', 0xC3, 0x7F, 0x20, 0x80] {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut s = vec![background; len];
                        s[at] = b;
                        assert_eq!(needs_json_escape(&s), naive(&s), "{s:?}");
                    }
                }
            }
        }
        let mut out = Vec::new();
        write_json_str(&mut out, "tab\there \"quoted\" back\\slash é");
        assert_eq!(String::from_utf8(out).unwrap(), r#""tab\there \"quoted\" back\\slash é""#);
    }
}
