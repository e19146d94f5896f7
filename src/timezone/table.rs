//! The phone reference table (`data/phone_zones.tsv`), loaded once into the
//! shapes the parser and the zone lookup need.
//!
//! This module owns reading the committed table: zone sets, country calling
//! codes, the NANP number types per area code and exchange, and the
//! prefix → zone-set entries, split into an O(1) NANP index and a
//! longest-prefix map for the other countries. `phone.rs` and `prefix.rs`
//! ask it questions; neither reads the text.

use chrono_tz::Tz;
use std::sync::LazyLock;

/// The committed table; `tools/gen_phone_zones.py` writes it and
/// `tests/phone_data.rs` checks it is what the generator gives.
pub(crate) const PHONE_TABLE: &str = include_str!("../../data/phone_zones.tsv");

/// "No entry" in the u16 indexes below.
pub(crate) const NONE: u16 = u16::MAX;

/// Marks an area code whose exchanges differ in type (see `kind_blocks`),
/// and, among an area code's exchange letters, an exchange whose 1,000-line
/// blocks differ (see `line_kinds`): the table's own `*`.
const PER_EXCHANGE: u8 = b'*';
const PER_BLOCK: u8 = b'*';

/// A zone set of the table: the zones chrono-tz knows, and whether the data
/// named exactly one zone (only then is the answer determined).
pub(crate) struct ZoneSet {
    pub(crate) zones: Box<[Tz]>,
    pub(crate) single: Option<Tz>,
}

/// The loaded table.
pub(crate) struct PhoneTable {
    pub(crate) version: String,
    pub(crate) sets: Vec<ZoneSet>,
    /// Indexed by the code's value: calling codes are prefix-free and never
    /// start with 0, so the value fixes the length.
    country_codes: Box<[bool; 1000]>,
    /// Per NPA: the kind letter of all its exchanges, 0 when not in use, or
    /// `PER_EXCHANGE` (then `kind_block[npa]` indexes `kind_blocks`).
    npa_kind: Box<[u8; 1000]>,
    kind_block: Box<[u16; 1000]>,
    /// 800 letters per block, for exchanges 200..=999.
    kind_blocks: Vec<u8>,
    /// Exchanges (key `npa * 1000 + nxx`) whose letter is `PER_BLOCK`: one
    /// letter per first digit of the line number. A handful in all (parts of
    /// Barbados and Jamaica), so a map costs nothing on the common path.
    line_kinds: foldhash::HashMap<u32, [u8; 10]>,
    /// Zone set of the bare `1` prefix.
    pub(crate) nanp_country: u16,
    /// Zone set of each NPA-level prefix (`1NPA`).
    nanp_npa: Box<[u16; 1000]>,
    /// For NPAs with exchange-level prefixes: a block of `nanp_nxx` holding
    /// the zone set of each of the 1000 NXX values (`NONE` where only the
    /// NPA-level entry applies). Only ~30 NPAs are split, so this stays far
    /// smaller than a full NPA×NXX array and lookups remain two indexings.
    nxx_block: Box<[u16; 1000]>,
    nanp_nxx: Vec<u16>,
    /// Non-NANP prefixes: key = (length << 32) | value.
    intl: foldhash::HashMap<u64, u16>,
    intl_max_len: usize,
    /// Non-NANP entries (same keys as `intl`) under which numbers may be of
    /// a non-geographic type: bit n set = numbers with n national digits.
    non_geographic: foldhash::HashMap<u64, u32>,
}

static TABLE: LazyLock<PhoneTable> = LazyLock::new(|| PhoneTable::parse(PHONE_TABLE).0);

/// The shared, lazily loaded table.
pub(crate) fn table() -> &'static PhoneTable {
    &TABLE
}

/// Where a NANP number's zone set came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NanpLevel {
    Exchange,
    AreaCode,
    Country,
}

/// An exchange-level NANP prefix entry: (prefix length, NPA, first NXX,
/// last NXX, zone set).
type ExchangeEntry = (usize, u16, u16, u16, u16);

fn prefix_key(len: usize, value: u64) -> u64 {
    ((len as u64) << 32) | value
}

fn digits_value(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl PhoneTable {
    /// Read the table text. Malformed lines are skipped and described in the
    /// returned list (a unit test requires it to be empty for the committed
    /// table), so a bad edit can never panic the process.
    pub(crate) fn parse(text: &str) -> (PhoneTable, Vec<String>) {
        let mut problems = Vec::new();
        let mut t = PhoneTable::empty();
        // Exchange-level NANP entries, applied shortest first at the end so
        // the longest prefix wins whatever the line order.
        let mut exchanges: Vec<ExchangeEntry> = Vec::new();
        for (no, line) in text.lines().enumerate() {
            if let Some(rest) = line.strip_prefix("# version: ") {
                t.version = rest.trim().to_string();
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut bad = |why: &str| problems.push(format!("line {}: {why}: {line:?}", no + 1));
            t.read_record(line, &mut exchanges, &mut bad);
        }
        t.check_line_kinds(&mut problems);
        t.apply_exchanges(exchanges);
        (t, problems)
    }

    fn empty() -> PhoneTable {
        PhoneTable {
            version: String::new(),
            sets: Vec::new(),
            country_codes: Box::new([false; 1000]),
            npa_kind: Box::new([0; 1000]),
            kind_block: Box::new([NONE; 1000]),
            kind_blocks: Vec::new(),
            line_kinds: foldhash::HashMap::default(),
            nanp_country: NONE,
            nanp_npa: Box::new([NONE; 1000]),
            nxx_block: Box::new([NONE; 1000]),
            nanp_nxx: Vec::new(),
            intl: foldhash::HashMap::default(),
            intl_max_len: 0,
            non_geographic: foldhash::HashMap::default(),
        }
    }

    /// One record line; `bad` hears each problem (a line may have several).
    fn read_record(&mut self, line: &str, exchanges: &mut Vec<ExchangeEntry>, bad: &mut dyn FnMut(&str)) {
        let mut fields = line.split('\t');
        match (fields.next(), fields.next(), fields.next()) {
            (Some("Z"), Some(id), Some(zones)) => self.read_zone_set(id, zones, bad),
            (Some("C"), Some(codes), None) => {
                for c in codes.split(' ') {
                    match c.parse::<usize>() {
                        Ok(v) if (1..1000).contains(&v) => self.country_codes[v] = true,
                        _ => bad("country code"),
                    }
                }
            }
            (Some("P"), Some(prefix), Some(set)) => self.read_prefix(prefix, set, exchanges, bad),
            (Some("X"), Some(prefix), Some(lengths)) => self.read_non_geographic(prefix, lengths, bad),
            (Some("N"), Some(npa), Some(kinds)) => self.read_area_kinds(npa, kinds, bad),
            (Some("B"), Some(exchange), Some(kinds)) => {
                let key = digits_value(exchange).filter(|v| exchange.len() == 6 && *v >= 200_200);
                let (Some(key), Ok(kinds)) = (key, <[u8; 10]>::try_from(kinds.as_bytes())) else {
                    return bad("NANP exchange blocks must be an NPA-NXX and 10 letters");
                };
                self.line_kinds.insert(key as u32, kinds);
            }
            _ => bad("unknown record"),
        }
    }

    /// `Z id zones`: zone set `id` (numbered in order), zones joined by `&`.
    fn read_zone_set(&mut self, id: &str, zones: &str, bad: &mut dyn FnMut(&str)) {
        if id.parse::<usize>().ok() != Some(self.sets.len()) {
            return bad("zone sets must be numbered in order");
        }
        let names: Vec<&str> = zones.split('&').filter(|z| !z.is_empty()).collect();
        // A name chrono-tz does not know is dropped, but the set still
        // counts it: a two-zone set never becomes a guess.
        let parsed: Box<[Tz]> = names.iter().filter_map(|z| z.parse::<Tz>().ok()).collect();
        if parsed.len() != names.len() {
            bad("zone chrono-tz does not know");
        }
        let single = if names.len() == 1 { parsed.first().copied() } else { None };
        self.sets.push(ZoneSet { zones: parsed, single });
    }

    /// `P prefix set`: the zone set of a prefix, at NANP country, NPA or
    /// exchange level (exchanges wait in `exchanges`), or international.
    fn read_prefix(&mut self, prefix: &str, set: &str, exchanges: &mut Vec<ExchangeEntry>, bad: &mut dyn FnMut(&str)) {
        let (Some(value), Ok(set)) = (digits_value(prefix), set.parse::<u16>()) else {
            return bad("prefix entry");
        };
        if usize::from(set) >= self.sets.len() {
            return bad("zone set not defined before use");
        }
        if !prefix.starts_with('1') {
            self.intl.insert(prefix_key(prefix.len(), value), set);
            self.intl_max_len = self.intl_max_len.max(prefix.len());
            return;
        }
        let npa = prefix.get(1..4).and_then(digits_value);
        match (prefix.len(), npa) {
            (1, _) => self.nanp_country = set,
            (4, Some(npa)) => self.nanp_npa[npa as usize] = set,
            (5..=7, Some(npa)) => {
                // 1-NPA-N, 1-NPA-NX, 1-NPA-NXX: a block of exchanges.
                let tail = &prefix[4..];
                let width = 10u16.pow(3 - tail.len() as u32);
                let first = digits_value(tail).unwrap_or(0) as u16 * width;
                exchanges.push((prefix.len(), npa as u16, first, first + width - 1, set));
            }
            _ => bad("NANP prefix is not at country, NPA or NPA-NXX level"),
        }
    }

    /// `X prefix lengths`: national number lengths under an international
    /// prefix that may be non-geographic.
    fn read_non_geographic(&mut self, prefix: &str, lengths: &str, bad: &mut dyn FnMut(&str)) {
        let Some(value) = digits_value(prefix).filter(|_| !prefix.starts_with('1')) else {
            return bad("non-geographic range prefix");
        };
        let mut mask = 0u32;
        for n in lengths.split(',') {
            match n.parse::<u32>() {
                Ok(n) if n < 32 => mask |= 1 << n,
                _ => bad("non-geographic range length"),
            }
        }
        self.non_geographic.insert(prefix_key(prefix.len(), value), mask);
    }

    /// `N npa kinds`: one kind letter for the whole area code, or 800, one
    /// per exchange 200..=999.
    fn read_area_kinds(&mut self, npa: &str, kinds: &str, bad: &mut dyn FnMut(&str)) {
        let Some(npa) = digits_value(npa).filter(|v| (200..1000).contains(v)) else {
            return bad("NANP area code");
        };
        let npa = npa as usize;
        match kinds.len() {
            1 => self.npa_kind[npa] = kinds.as_bytes()[0],
            800 => {
                self.npa_kind[npa] = PER_EXCHANGE;
                self.kind_block[npa] = (self.kind_blocks.len() / 800) as u16;
                self.kind_blocks.extend_from_slice(kinds.as_bytes());
            }
            _ => bad("NANP kinds must be 1 or 800 letters"),
        }
    }

    /// An exchange marked per block without its blocks would read as not
    /// in use; say so rather than lose numbers silently.
    fn check_line_kinds(&self, problems: &mut Vec<String>) {
        for npa in 200..1000u32 {
            if self.npa_kind[npa as usize] != PER_EXCHANGE {
                continue;
            }
            let block = usize::from(self.kind_block[npa as usize]) * 800;
            for (i, &k) in self.kind_blocks[block..block + 800].iter().enumerate() {
                let key = npa * 1000 + 200 + i as u32;
                if k == PER_BLOCK && !self.line_kinds.contains_key(&key) {
                    problems.push(format!("exchange {key} is marked per block but has no B record"));
                }
            }
        }
    }

    /// Write the exchange-level entries, shortest prefix first so the
    /// longest wins.
    fn apply_exchanges(&mut self, mut exchanges: Vec<ExchangeEntry>) {
        exchanges.sort_by_key(|e| e.0);
        for (_, npa, first, last, set) in exchanges {
            let npa = usize::from(npa);
            if self.nxx_block[npa] == NONE {
                self.nxx_block[npa] = (self.nanp_nxx.len() / 1000) as u16;
                self.nanp_nxx.extend(std::iter::repeat_n(NONE, 1000));
            }
            let base = usize::from(self.nxx_block[npa]) * 1000;
            for nxx in usize::from(first)..=usize::from(last) {
                self.nanp_nxx[base + nxx] = set;
            }
        }
    }

    /// Whether `code` is a country calling code.
    #[inline]
    pub(crate) fn is_country_code(&self, code: u16) -> bool {
        self.country_codes.get(usize::from(code)).copied().unwrap_or(false)
    }

    /// The kind letter libphonenumber's metadata gives the lines of NPA-NXX
    /// whose number starts with `block` (0..=9), or `None` when that area
    /// code, exchange or block is not in use.
    #[inline]
    pub(crate) fn nanp_kind(&self, npa: u16, nxx: u16, block: u8) -> Option<u8> {
        let k = *self.npa_kind.get(usize::from(npa))?;
        let letter = match k {
            0 => return None,
            PER_EXCHANGE => {
                let row = usize::from(self.kind_block[usize::from(npa)]);
                let nxx = usize::from(nxx).checked_sub(200)?;
                *self.kind_blocks.get(row * 800 + nxx)?
            }
            k => k,
        };
        let letter = if letter == PER_BLOCK {
            let key = u32::from(npa) * 1000 + u32::from(nxx);
            *self.line_kinds.get(&key)?.get(usize::from(block))?
        } else {
            letter
        };
        (letter != b'-').then_some(letter)
    }

    /// Whether any line of NPA-NXX is in use.
    #[inline]
    pub(crate) fn nanp_exchange_in_use(&self, npa: u16, nxx: u16) -> bool {
        (0..10).any(|b| self.nanp_kind(npa, nxx, b).is_some())
    }

    /// Whether any exchange of `npa` is in use.
    #[inline]
    pub(crate) fn nanp_area_in_use(&self, npa: u16) -> bool {
        self.npa_kind.get(usize::from(npa)).is_some_and(|&k| k != 0)
    }

    /// The zone set of a geographic NANP number: exchange-level entry, else
    /// area-code entry, else the country-level one.
    #[inline]
    pub(crate) fn nanp_zone_set(&self, npa: u16, nxx: u16) -> Option<(u16, NanpLevel)> {
        let (npa, nxx) = (usize::from(npa), usize::from(nxx));
        if npa >= 1000 || nxx >= 1000 {
            return None;
        }
        let block = self.nxx_block[npa];
        if block != NONE {
            let set = self.nanp_nxx[usize::from(block) * 1000 + nxx];
            if set != NONE {
                return Some((set, NanpLevel::Exchange));
            }
        }
        let set = self.nanp_npa[npa];
        if set != NONE {
            return Some((set, NanpLevel::AreaCode));
        }
        (self.nanp_country != NONE).then_some((self.nanp_country, NanpLevel::Country))
    }

    /// The zone set of the longest prefix of `digits` (E.164 without '+')
    /// among the non-NANP entries, and whether numbers with
    /// `national_len` digits under that entry may be non-geographic.
    pub(crate) fn intl_zone_set(&self, digits: &[u8], national_len: usize) -> Option<(u16, bool)> {
        let mut value = 0u64;
        let mut values = [0u64; 10];
        let max = digits.len().min(self.intl_max_len).min(9);
        for (i, d) in digits.iter().take(max).enumerate() {
            value = value * 10 + u64::from(d.saturating_sub(b'0'));
            values[i + 1] = value;
        }
        (1..=max).rev().find_map(|len| {
            let key = prefix_key(len, values[len]);
            let set = *self.intl.get(&key)?;
            let mask = self.non_geographic.get(&key).copied().unwrap_or(0);
            let non_geographic = national_len < 32 && mask & (1 << national_len) != 0;
            Some((set, non_geographic))
        })
    }

    /// The zone set of the country code alone (what libphonenumber answers
    /// for non-geographic numbers).
    pub(crate) fn country_zone_set(&self, code: u16) -> Option<u16> {
        if code == 1 {
            return (self.nanp_country != NONE).then_some(self.nanp_country);
        }
        let len = if code < 10 {
            1
        } else if code < 100 {
            2
        } else {
            3
        };
        self.intl.get(&prefix_key(len, u64::from(code))).copied()
    }

    pub(crate) fn set(&self, id: u16) -> Option<&ZoneSet> {
        self.sets.get(usize::from(id))
    }

    /// Every prefix entry as (digits, set id), for tests.
    #[cfg(test)]
    pub(crate) fn entries(text: &str) -> Vec<(String, u16)> {
        text.lines()
            .filter_map(|l| {
                let mut f = l.split('\t');
                match (f.next(), f.next(), f.next()) {
                    (Some("P"), Some(p), Some(s)) => Some((p.to_string(), s.parse().ok()?)),
                    _ => None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_table_parses_cleanly() {
        let (t, problems) = PhoneTable::parse(PHONE_TABLE);
        assert!(problems.is_empty(), "{problems:#?}");
        assert_eq!(t.version, "9.0.43");
        assert!(t.sets.len() > 200);
        assert!(t.is_country_code(1) && t.is_country_code(44) && t.is_country_code(880));
        assert!(!t.is_country_code(0) && !t.is_country_code(42) && !t.is_country_code(999));
        assert_ne!(t.nanp_country, NONE);
    }

    #[test]
    fn every_zone_name_in_the_table_parses_in_chrono_tz() {
        let mut names = 0;
        for line in PHONE_TABLE.lines().filter(|l| l.starts_with("Z\t")) {
            let zones = line.split('\t').nth(2).unwrap_or("");
            for z in zones.split('&') {
                names += 1;
                assert!(z.parse::<Tz>().is_ok(), "{z} in {line}");
            }
        }
        assert!(names > 280, "only {names} zone names");
    }

    #[test]
    fn a_zone_chrono_tz_does_not_know_is_skipped_without_a_guess() {
        let text = "Z\t0\tMars/Olympus\nZ\t1\tEurope/Paris&Mars/Olympus\nC\t33\nP\t33\t1\nP\t331\t0\n";
        let (t, problems) = PhoneTable::parse(text);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let s0 = t.set(0).expect("set 0");
        assert!(s0.zones.is_empty() && s0.single.is_none());
        let s1 = t.set(1).expect("set 1");
        assert_eq!(&*s1.zones, &[chrono_tz::Europe::Paris]);
        assert_eq!(s1.single, None, "one known zone of two is still undetermined");
    }

    #[test]
    fn malformed_lines_are_reported_not_fatal() {
        let text = "Z\t0\tEurope/Paris\nZ\t7\tEurope/Rome\nP\t33x\t0\nP\t33\t9\nN\t12\tG\nN\t212\tGG\nQ\nC\t33 abc\n\
                    X\t1212\t10\nX\t336\t9,x,40\nB\t246521\tGM\nB\t24652\tGGGGGGGGGG\n";
        let (t, problems) = PhoneTable::parse(text);
        assert_eq!(problems.len(), 12, "{problems:#?}");
        assert_eq!(t.sets.len(), 1);
        assert!(t.is_country_code(33));
    }

    #[test]
    fn exchanges_split_by_line_block_answer_per_block() {
        let mut kinds = vec![b'-'; 800];
        kinds[321] = b'*'; // exchange 521
        kinds[322] = b'*'; // exchange 522, no B record
        kinds[0] = b'G';
        let text = format!("N\t246\t{}\nB\t246521\tGM-GM-GM-G\n", String::from_utf8(kinds).expect("ascii"));
        let (t, problems) = PhoneTable::parse(&text);
        assert_eq!(problems, ["exchange 246522 is marked per block but has no B record"]);
        assert_eq!(t.nanp_kind(246, 521, 0), Some(b'G'));
        assert_eq!(t.nanp_kind(246, 521, 1), Some(b'M'));
        assert_eq!(t.nanp_kind(246, 521, 2), None);
        assert_eq!(t.nanp_kind(246, 521, 9), Some(b'G'));
        assert_eq!(t.nanp_kind(246, 200, 5), Some(b'G'));
        assert!(t.nanp_exchange_in_use(246, 521));
        assert!(!t.nanp_exchange_in_use(246, 522));
        // The committed table: Barbados 246-521 mixes fixed, mobile and unused blocks.
        let real = table();
        assert_eq!(real.nanp_kind(246, 521, 3), Some(b'G'));
        assert_eq!(real.nanp_kind(246, 521, 4), Some(b'M'));
        assert_eq!(real.nanp_kind(246, 521, 5), None);
    }

    #[test]
    fn later_nanp_lines_do_not_depend_on_order() {
        // The exchange entry comes first in the text but is longer, so it wins.
        let text = "Z\t0\tAmerica/Chicago\nZ\t1\tAmerica/New_York\nP\t1219555\t1\nP\t12195\t0\nP\t1219\t0\n";
        let (t, problems) = PhoneTable::parse(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(t.nanp_zone_set(219, 555), Some((1, NanpLevel::Exchange)));
        assert_eq!(t.nanp_zone_set(219, 556), Some((0, NanpLevel::Exchange)));
        assert_eq!(t.nanp_zone_set(219, 400), Some((0, NanpLevel::AreaCode)));
        assert_eq!(t.nanp_zone_set(220, 400), None);
    }
}
