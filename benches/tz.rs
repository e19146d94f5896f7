//! Zone lookups on one core, against libphonenumber's own mapper (the
//! Python `phonenumbers` package) on the same numbers, in the same run:
//!
//! - **NPA-NXX lookups**: `number_zone` on parsed valid NANP numbers drawn
//!   across every area code (exchange, area-code and country entries alike);
//! - **text to zone**: `parse_phone` then `number_zone`, from the raw text;
//! - **ZIP lookups**: `zip_zone` over every ZIP of the `zipcodes` data;
//! - **Python anchor**: `tools/bench_phonenumbers.py` times
//!   `time_zones_for_number` on the first `BENCH_PY_NUMBERS` of the same
//!   numbers, parsed and from text.
//! - **contact phones**: `contacts::phone::normalize_phone` on the same
//!   numbers written `(NPA) NXX-XXXX` (NANP: `parse_phone` underneath), and
//!   on every region's example fixed-line and mobile numbers outside the
//!   NANP, national (with the region as default country) and international
//!   (the `phonenumber` crate underneath), against libphonenumber's `parse`
//!   then `is_valid_number` (Python) on the same texts.
//!
//! Targets (issue 5): at least 10 million NPA-NXX lookups/s and 3 million
//! ZIP lookups/s on one core, and at least 50× the Python mapper. Run with
//! `cargo bench --bench tz`; `BENCH_NUMBERS` (default 1,000,000),
//! `BENCH_PY_NUMBERS` (default 100,000) and `BENCH_REPS` (default 5, median
//! reported) change the load. Needs `python3` with `phonenumbers==9.0.43`.

use prospero::contacts::phone::normalize_phone;
use prospero::timezone::{NumberZone, PhoneKind, PhoneNumber, number_zone, parse_phone, zip_zone};
use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `count` valid geographic NANP numbers, uniform over area code, exchange
/// and line among those the table accepts.
fn numbers(count: usize) -> Vec<(String, PhoneNumber)> {
    // Seeded: the same numbers every run.
    let mut rng = fastrand::Rng::with_seed(0x005E_ED0F_2026);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let text = format!("+1{}{}{:04}", rng.u32(200..1000), rng.u32(200..1000), rng.u32(..10_000));
        if let Ok(p) = parse_phone(&text)
            && p.kind() == PhoneKind::Geographic
        {
            out.push((text, p));
        }
    }
    out
}

/// Runs `f` `reps` times over `n` items and gives the median rate per second.
fn rate(reps: usize, n: usize, mut f: impl FnMut() -> usize) -> f64 {
    let mut rates = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        black_box(f());
        rates.push(n as f64 / start.elapsed().as_secs_f64());
    }
    median(&mut rates)
}

fn python_anchor(numbers: &[(String, PhoneNumber)]) -> Result<serde_json::Value, String> {
    // Removed on every way out.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("numbers.txt");
    let text: String = numbers.iter().map(|(t, _)| format!("{t}\n")).collect();
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/bench_phonenumbers.py");
    let out = Command::new("python3").arg(script).arg(&file).output().map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("python anchor output: {e}"))
}

/// libphonenumber's `parse` + `is_valid_number` rate on NANP texts (one a
/// line in `file`, default country US) and on the non-NANP example numbers
/// it lists (returned as `intl` rows of `[country, text]`).
const PY_CONTACT_PHONES: &str = r#"
import json, statistics, sys, time
import phonenumbers as p
from phonenumbers import PhoneNumberFormat as F, PhoneNumberType as T
nanp = [["US", l.strip()] for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
reps, passes = int(sys.argv[2]), int(sys.argv[3])
intl = []
for region in sorted(p.SUPPORTED_REGIONS):
    for t in (T.FIXED_LINE, T.MOBILE):
        n = p.example_number_for_type(region, t)
        if n is not None and n.country_code != 1:
            intl.append([region, p.format_number(n, F.NATIONAL)])
            intl.append(["US", p.format_number(n, F.INTERNATIONAL)])
def rate(rows, passes):
    rates = []
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(passes):
            for region, text in rows:
                p.is_valid_number(p.parse(text, region))
        rates.append(len(rows) * passes / (time.perf_counter() - start))
    return statistics.median(rates)
print(json.dumps({"nanp_per_s": rate(nanp, 1), "intl_per_s": rate(intl, passes), "intl": intl}))
"#;

fn python_contact_phones(texts: &[String], reps: usize, passes: usize) -> Result<serde_json::Value, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("texts.txt");
    std::fs::write(&file, texts.iter().map(|t| format!("{t}\n")).collect::<String>()).map_err(|e| e.to_string())?;
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_CONTACT_PHONES)
        .arg(&file)
        .arg(reps.to_string())
        .arg(passes.to_string())
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("python contact phones output: {e}"))
}

/// `normalize_phone` on NANP texts and on the non-NANP rows, against Python.
fn contact_phones(nums: &[(String, PhoneNumber)], py_count: usize, reps: usize) {
    let written: Vec<String> = nums
        .iter()
        .map(|(_, p)| {
            let n = p.national_number();
            format!("({}) {}-{}", &n[..3], &n[3..6], &n[6..])
        })
        .collect();
    let passes = 20;
    let py = match python_contact_phones(&written[..py_count], reps, passes) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("tz bench: the Python contact-phone anchor failed (pip install phonenumbers==9.0.43): {e}");
            std::process::exit(1);
        }
    };
    let intl: Vec<(String, String)> = serde_json::from_value(py["intl"].clone()).unwrap_or_default();
    let nanp = rate(reps, written.len(), || {
        written.iter().filter(|t| normalize_phone(black_box(t), "US").is_ok_and(|p| p.e164.is_some())).count()
    });
    let valid_intl = intl.iter().filter(|(c, t)| normalize_phone(t, c).is_ok_and(|p| p.e164.is_some())).count();
    let intl_rate = rate(reps, intl.len() * passes, || {
        let mut found = 0;
        for _ in 0..passes {
            found +=
                intl.iter().filter(|(c, t)| normalize_phone(black_box(t), c).is_ok_and(|p| p.e164.is_some())).count();
        }
        found
    });
    // The crate keeps 100 compiled patterns for all its metadata: numbers of
    // a few countries stay in it, numbers of every country do not.
    let few: Vec<&(String, String)> = intl
        .iter()
        .filter(|(c, t)| {
            ["GB", "FR", "DE"].contains(&c.as_str()) || ["+44", "+33", "+49"].iter().any(|p| t.starts_with(p))
        })
        .collect();
    let few_passes = (intl.len() * passes / few.len().max(1)).max(1);
    let few_rate = rate(reps, few.len() * few_passes, || {
        let mut found = 0;
        for _ in 0..few_passes {
            found +=
                few.iter().filter(|(c, t)| normalize_phone(black_box(t), c).is_ok_and(|p| p.e164.is_some())).count();
        }
        found
    });
    let py_nanp = py["nanp_per_s"].as_f64().unwrap_or(f64::NAN);
    let py_intl = py["intl_per_s"].as_f64().unwrap_or(f64::NAN);
    println!(
        "| contact phone, NANP `(NPA) NXX-XXXX` → E.164 | {:.2} M/s | {py_nanp:.0} /s | {:.0}× | |",
        nanp / 1e6,
        nanp / py_nanp
    );
    println!(
        "| contact phone, {} example numbers outside the NANP ({valid_intl} valid) | {:.0} /s | {py_intl:.0} /s | {:.1}× | |",
        intl.len(),
        intl_rate,
        intl_rate / py_intl
    );
    println!("| contact phone, {} of them from GB, FR and DE only | {few_rate:.0} /s | | | |", few.len());
}

fn main() {
    let count = env_usize("BENCH_NUMBERS", 1_000_000);
    let py_count = env_usize("BENCH_PY_NUMBERS", 100_000).min(count);
    let reps = env_usize("BENCH_REPS", 5).max(1);

    let nums = numbers(count);
    let determined = nums.iter().filter(|(_, p)| matches!(number_zone(p), NumberZone::Zone { .. })).count();
    println!(
        "tz bench: {count} valid geographic NANP numbers ({determined} with one zone), {reps} reps, median, one core"
    );

    let lookups = rate(reps, count, || nums.iter().filter(|(_, p)| number_zone(black_box(p)).tz().is_some()).count());
    let from_text = rate(reps, count, || {
        nums.iter().filter(|(t, _)| parse_phone(black_box(t)).ok().and_then(|p| number_zone(&p).tz()).is_some()).count()
    });

    let zips: Vec<String> = zipcodes::database().iter().map(|z| z.zip_code.to_string()).collect();
    // Enough passes over the ZIP list for a measurable span.
    let passes = (count / zips.len()).max(1);
    let zip_rate = rate(reps, zips.len() * passes, || {
        let mut found = 0;
        for _ in 0..passes {
            found += zips.iter().filter(|z| zip_zone(black_box(z)).is_some()).count();
        }
        found
    });

    let py = match python_anchor(&nums[..py_count]) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("tz bench: the Python anchor failed (pip install phonenumbers==9.0.43): {e}");
            std::process::exit(1);
        }
    };
    let py_lookup = py["lookup_per_s"].as_f64().unwrap_or(f64::NAN);
    let py_text = py["parse_lookup_per_s"].as_f64().unwrap_or(f64::NAN);

    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("| measure | Prospero | phonenumbers {} | ratio | target |", py["version"].as_str().unwrap_or("?"));
    println!("|---|---|---|---|---|");
    println!(
        "| NPA-NXX lookup (parsed number) | {:.1} M/s | {:.0} /s | {:.0}× | ≥ 10 M/s: {}; ≥ 50×: {} |",
        lookups / 1e6,
        py_lookup,
        lookups / py_lookup,
        verdict(lookups >= 10e6),
        verdict(lookups / py_lookup >= 50.0)
    );
    println!(
        "| text → zone (parse + lookup) | {:.2} M/s | {:.0} /s | {:.0}× | ≥ 50×: {} |",
        from_text / 1e6,
        py_text,
        from_text / py_text,
        verdict(from_text / py_text >= 50.0)
    );
    println!(
        "| ZIP lookup ({} ZIPs × {passes}) | {:.1} M/s | | | ≥ 3 M/s: {} |",
        zips.len(),
        zip_rate / 1e6,
        verdict(zip_rate >= 3e6)
    );
    contact_phones(&nums, py_count, reps);
    println!("(Python timed on the first {py_count} of the same numbers)");
}
