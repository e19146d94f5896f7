//! "Did you mean ...?": the known name closest to a misspelt one.
//!
//! Used for properties a manifest does not know and for variables nothing
//! assigns. The rules, in order (the first that finds a candidate wins):
//!
//! 1. the same name in another letter case (`returnvariable`);
//! 2. the same name once `_`, `-` and blanks are dropped (`Return_Variable`);
//! 3. the smallest Damerau-Levenshtein distance (a transposition counts
//!    one, so `teir` is one edit from `tier`), ignoring case, within a
//!    limit that grows with the name: none up to 2 characters (`x` is not a
//!    typo of `i`), 1 up to 4, 2 up to 8, 3 beyond;
//! 4. one name is the start of the other and the shorter has at least 4
//!    characters (`ReturnVar` for `ReturnVariable`).

/// Longest name compared by edit distance (longer ones still match by
/// case, separators and prefix).
const MAX_FUZZY_CHARS: usize = 64;

/// The candidate `name` most likely misspells, if any is close enough.
pub(crate) fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let squeezed = squeeze(&lower);
    let len = lower.chars().count();
    let limit = match len {
        0..=2 => 0,
        3..=4 => 1,
        5..=8 => 2,
        _ => 3,
    };
    let mut by_case = None;
    let mut by_squeeze = None;
    let mut by_distance: Option<(usize, &str)> = None;
    let mut by_prefix: Option<(usize, &str)> = None;
    for c in candidates {
        let cl = c.to_lowercase();
        if cl == lower {
            by_case = by_case.or(Some(c));
            continue;
        }
        if squeeze(&cl) == squeezed {
            by_squeeze = by_squeeze.or(Some(c));
            continue;
        }
        // The distance costs the product of the lengths: only for names of
        // a typo's size whose lengths are within reach.
        let clen = cl.chars().count();
        let d = if len <= MAX_FUZZY_CHARS && clen.abs_diff(len) <= limit.max(1) * 4 {
            strsim::damerau_levenshtein(&lower, &cl)
        } else {
            usize::MAX
        };
        if d <= limit && by_distance.is_none_or(|(best, _)| d < best) {
            by_distance = Some((d, c));
        }
        let (short, long) = if cl.len() < lower.len() { (&cl, &lower) } else { (&lower, &cl) };
        if short.chars().count() >= 4 && long.starts_with(short.as_str()) && by_prefix.is_none_or(|(best, _)| d < best)
        {
            by_prefix = Some((d, c));
        }
    }
    by_case.or(by_squeeze).or(by_distance.map(|(_, c)| c)).or(by_prefix.map(|(_, c)| c))
}

/// `; did you mean `X`?` for a message, or nothing.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '_' | '-') && !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_find_their_names() {
        let props = ["ScriptName", "Parameters", "ReturnVariable"];
        assert_eq!(closest("ReturnVar", props), Some("ReturnVariable"));
        assert_eq!(closest("returnvariable", props), Some("ReturnVariable"));
        assert_eq!(closest("Return_Variable", props), Some("ReturnVariable"));
        assert_eq!(closest("ScriptNmae", props), Some("ScriptName"));
        assert_eq!(closest("Paramters", props), Some("Parameters"));
        assert_eq!(closest("teir", ["caller", "tier", "queue"]), Some("tier"));
    }

    #[test]
    fn far_names_get_no_suggestion() {
        let props = ["ScriptName", "Parameters", "ReturnVariable"];
        assert_eq!(closest("RootFolder", props), None);
        assert_eq!(closest("ParamCount", props), None);
        assert_eq!(closest("Application", props), None);
        // Short names: one letter apart is not a typo.
        assert_eq!(closest("x", ["i"]), None);
        assert_eq!(closest("ab", ["ac"]), None);
        assert_eq!(closest("Ret", props), None);
    }

    #[test]
    fn the_closest_of_several_wins() {
        assert_eq!(closest("totl", ["total", "totals"]), Some("total"));
        assert_eq!(closest("Vaule", ["Variable", "Value", "Type"]), Some("Value"));
    }
}
