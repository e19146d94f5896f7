//! Contact phones and emails (`contacts.md` §2) from outside the crate,
//! and the phone rules against libphonenumber itself: the Python
//! `phonenumbers` package parses the same table of inputs in the same run.
//! A missing `python3` or package fails the comparison (it never skips):
//! `pip install phonenumbers==9.0.43`.

use prospero::contacts::email::{EMAIL_MAX, check_email, email_key};
use prospero::contacts::phone::{
    DEFAULT_COUNTRY, PHONE_METADATA_VERSION, PhoneRejected, normalize_phone, phone_data_version, phone_key,
};
use std::path::PathBuf;
use std::process::Command;

fn e164(text: &str, country: &str) -> Option<String> {
    normalize_phone(text, country).unwrap_or_else(|e| panic!("{text}: {e}")).e164
}

#[test]
fn us_and_canadian_numbers_in_the_usual_written_forms() {
    for text in [
        "(212) 736-5000",
        "212-736-5000",
        "212.736.5000",
        "+1 212 736 5000",
        "1-212-736-5000",
        "12127365000",
        "tel:+1-212-736-5000",
    ] {
        let p = normalize_phone(text, DEFAULT_COUNTRY).expect(text);
        assert_eq!(p.e164.as_deref(), Some("+12127365000"), "{text}");
        assert_eq!(p.text, text);
        assert!(p.searchable() && p.flag.is_none() && p.extension.is_none(), "{p:?}");
    }
    // Toronto.
    assert_eq!(e164("(416) 979-5000", "US").as_deref(), Some("+14169795000"));
    assert_eq!(e164("+1 416 979 5000", "CA").as_deref(), Some("+14169795000"));
}

#[test]
fn phone_keys_agree_across_written_forms() {
    assert_eq!(phone_key("+1 212-736-5000", "US"), phone_key("(212) 736-5000", "US"));
    assert_eq!(phone_key("(212) 736-5000", "US").as_deref(), Some("+12127365000"));
    assert_eq!(phone_key("020 7946 0958", "GB"), phone_key("+44 20 7946 0958", "US"));
    assert_eq!(phone_key("call me", "US"), None);
    assert_eq!(phone_key("x123", "US"), None);
}

#[test]
fn uk_and_french_numbers_in_national_form() {
    assert_eq!(e164("020 7946 0958", "GB").as_deref(), Some("+442079460958"));
    assert_eq!(e164("01 23 45 67 89", "FR").as_deref(), Some("+33123456789"));
    // The same text with the US default is not a valid number.
    let p = normalize_phone("020 7946 0958", "US").expect("kept");
    assert!(!p.searchable() && p.flag.is_some(), "{p:?}");
}

#[test]
fn extensions_are_kept_beside_the_number() {
    for text in ["212-736-5000 x123", "212-736-5000 ext. 123", "212-736-5000 ext 123", "(212) 736-5000 #123"] {
        let p = normalize_phone(text, "US").expect(text);
        assert_eq!((p.e164.as_deref(), p.extension.as_deref()), (Some("+12127365000"), Some("123")), "{text}");
        assert_eq!(p.text, text);
    }
    let uk = normalize_phone("020 7946 0958 ext 12", "GB").expect("UK with extension");
    assert_eq!((uk.e164.as_deref(), uk.extension.as_deref()), (Some("+442079460958"), Some("12")));
}

#[test]
fn an_extension_alone_is_rejected() {
    for text in ["x123", "ext. 123", "ext 123", "  X 45 ", "#12"] {
        assert_eq!(normalize_phone(text, "US"), Err(PhoneRejected::ExtensionOnly(text.trim().to_string())), "{text}");
    }
    assert_eq!(normalize_phone("   ", "US"), Err(PhoneRejected::Empty));
    let msg = normalize_phone("x123", "US").expect_err("rejected").to_string();
    assert_eq!(msg, "'x123' is an extension without a number");
}

#[test]
fn satellite_numbers_keep_their_international_prefix() {
    assert_eq!(e164("+882 16 1234 5678", "US").as_deref(), Some("+8821612345678"));
    assert_eq!(e164("+881 6 1234 5678", "US").as_deref(), Some("+881612345678"));
    assert_eq!(e164("+870 773 111 632", "GB").as_deref(), Some("+870773111632"));
}

#[test]
fn vanity_letters_convert_and_garbage_is_kept_flagged() {
    assert_eq!(e164("1-800-FLOWERS", "US").as_deref(), Some("+18003569377"));
    assert_eq!(e164("1-800-GOT-JUNK", "US").as_deref(), Some("+18004685865"));
    for text in ["call me", "N/A", "none", "1-800-XEROX", "999-555-0123", "555-1234", "+999 123 4567", "12"] {
        let p = normalize_phone(text, "US").expect(text);
        assert_eq!(p.text, text);
        assert!(!p.searchable(), "{p:?}");
        assert!(p.flag.as_deref().is_some_and(|f| !f.is_empty()), "{p:?}");
    }
    let p = normalize_phone("999-555-0123", "US").expect("kept");
    assert!(p.flag.as_deref().is_some_and(|f| f.contains("area code 999 is not in use")), "{p:?}");
}

#[test]
fn hostile_text_never_panics() {
    let long = "9".repeat(10_000);
    let plus_long = format!("+44 {}", "1".repeat(300));
    for text in [long.as_str(), plus_long.as_str(), "++", "+\u{FF0B}", "ext", ";ext=", "\u{0}", "٠١٢٣٤٥٦٧٨٩", "𝟙𝟚𝟛"]
    {
        for country in ["US", "GB", "", "??", "ZZZ"] {
            let _ = normalize_phone(text, country);
        }
    }
    assert!(!normalize_phone(&long, "US").expect("kept").searchable());
}

#[test]
fn metadata_version_matches_cargo_lock() {
    let lock =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).expect("Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"phonenumber\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|v| v.strip_suffix('"'))
        .expect("phonenumber in Cargo.lock");
    let (crate_version, metadata) = version.split_once('+').expect("crate version carries its metadata version");
    assert_eq!(PHONE_METADATA_VERSION, format!("phonenumber {crate_version} (libphonenumber metadata {metadata})"));
    assert!(phone_data_version().contains(PHONE_METADATA_VERSION));
    assert!(phone_data_version().contains(prospero::timezone::PHONE_DATA_VERSION));
}

/// (default country, text) pairs compared with libphonenumber.
const TABLE: &[(&str, &str)] = &[
    ("US", "(212) 736-5000"),
    ("US", "212-736-5000"),
    ("US", "212.736.5000"),
    ("US", "+1 212 736 5000"),
    ("US", "1-212-736-5000"),
    ("US", "12127365000"),
    ("US", "(416) 979-5000"),
    ("CA", "416 979 5000"),
    ("US", "+1 (242) 357-1000"),
    ("BS", "357-1000"),
    ("JM", "876 922 1234"),
    ("US", "868-612-3456"),
    ("US", "+1 268 720 1234"),
    ("US", "246-521-5000"),
    ("US", "8005551212"),
    ("US", "900-234-5678"),
    ("US", "212 555 0199"),
    ("GB", "020 7946 0958"),
    ("GB", "07911 123456"),
    ("GB", "44 20 7946 0958"),
    ("GB", "00 33 1 23 45 67 89"),
    ("GB", "(212) 736-5000"),
    ("GB", "+1 212 736 5000"),
    ("FR", "01 23 45 67 89"),
    ("FR", "06 12 34 56 78"),
    ("FR", "00 44 20 7946 0958"),
    ("FR", "33 1 23 45 67 89"),
    ("DE", "030 123456"),
    ("AU", "0011 44 20 7946 0958"),
    ("AU", "0011 1 212 736 5000"),
    ("US", "+44 20 7946 0958"),
    ("US", "+44 (0)20 7946 0958"),
    ("US", "011 44 20 7946 0958"),
    ("US", "+33 1 23 45 67 89"),
    ("US", "+7 495 123 45 67"),
    ("US", "+49 30 123456"),
    ("US", "+61 2 9374 4000"),
    ("US", "+86 10 1234 5678"),
    ("US", "+91 98765 43210"),
    ("US", "+800 1234 5678"),
    ("US", "+882 16 1234 5678"),
    ("US", "011 882 16 1234 5678"),
    ("FR", "00 882 16 1234 5678"),
    ("US", "+882 34 1234 5678"),
    ("US", "+881 6 1234 5678"),
    ("US", "+8816 3123 4567"),
    ("US", "+870 773 111 632"),
    ("US", "+883 5100 0000 0000"),
    ("US", "212-736-5000 x123"),
    ("US", "212-736-5000 ext. 123"),
    ("US", "212-736-5000 ext 123"),
    ("US", "212-736-5000 extension 123"),
    ("US", "212-736-5000 #123"),
    ("US", "212-736-5000;ext=123"),
    ("US", "212-736-5000,,123"),
    ("US", "212-736-5000 - 123#"),
    ("US", "212-736-5000 int 123"),
    ("US", "tel:+1-212-736-5000;ext=123"),
    ("US", "+44 20 7946 0958 x12"),
    ("US", "+882 16 1234 5678 x5"),
    ("US", "212-736-5000 x1234567890"),
    ("US", "212 736 5000#"),
    ("US", "1-800-FLOWERS"),
    ("US", "1-800-FLOWERS x12"),
    ("US", "+1-800-FLOWERS"),
    ("US", "1-800-MY-APPLE"),
    ("US", "1-800-XEROX"),
    ("US", "1 800 AB"),
    ("US", "call me 212 555 0123"),
    ("US", "212 555 0123 call me"),
    ("US", "(home) 212 736 5000"),
    ("US", "212*736*5000"),
    ("US", "+\u{FF11} \u{FF12}\u{FF11}\u{FF12} \u{FF17}\u{FF13}\u{FF16} \u{FF15}\u{FF10}\u{FF10}\u{FF10}"),
    ("US", "212\u{2011}736\u{2011}5000"),
    ("US", "++44 20 7946 0958"),
    ("US", "(530) 583-6985 x302/x2303"),
    ("US", "call me"),
    ("US", "abc"),
    ("US", "N/A"),
    ("US", "---"),
    ("US", "+"),
    ("US", "12"),
    ("US", "555-1234"),
    ("US", "999-555-0123"),
    ("US", "+1 555 234 5678"),
    ("US", "+999 123 4567"),
    ("US", "01 23 45 67 89"),
    ("US", "212-736-5000 / 212-736-5001"),
    ("US", "+44 20 7946 0958 00"),
];

/// libphonenumber's reading of each `(country, text)`: its E.164 form when
/// valid (`None` when it does not parse or is not valid) and the extension.
fn libphonenumber(table: &[(&str, &str)]) -> Vec<(Option<String>, Option<String>)> {
    let script = r#"
import json, sys
import phonenumbers as p
out = []
for region, text in json.load(sys.stdin):
    try:
        n = p.parse(text, region)
    except p.NumberParseException:
        out.append([None, None])
        continue
    valid = p.is_valid_number(n)
    out.append([p.format_number(n, p.PhoneNumberFormat.E164) if valid else None, n.extension or None])
print(json.dumps(out))
"#;
    let input = serde_json::to_vec(table).expect("table as JSON");
    let child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = child.unwrap_or_else(|e| {
        panic!("cannot run python3 ({e}); install Python 3 and `pip install phonenumbers==9.0.43`")
    });
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&input).expect("write to python3");
    }
    let out = child.wait_with_output().expect("python3 output");
    assert!(
        out.status.success(),
        "python3 failed ({}); if phonenumbers is missing: `pip install phonenumbers==9.0.43`\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python3 printed JSON")
}

#[test]
fn the_table_agrees_with_libphonenumber() {
    let truth = libphonenumber(TABLE);
    assert_eq!(truth.len(), TABLE.len());
    let mut differences = Vec::new();
    for (&(country, text), (want_e164, want_ext)) in TABLE.iter().zip(&truth) {
        let got = normalize_phone(text, country).unwrap_or_else(|e| panic!("{text} ({country}): {e}"));
        // Extensions only count beside a valid number.
        let got_ext = if want_e164.is_some() { got.extension.clone() } else { want_ext.clone() };
        if (&got.e164, &got_ext) != (want_e164, want_ext) {
            differences.push(format!(
                "{text:?} ({country}): libphonenumber {want_e164:?} ext {want_ext:?}, Prospero {:?} ext {:?} ({:?})",
                got.e164, got.extension, got.flag
            ));
        }
        assert_eq!(got.searchable(), got.flag.is_none(), "{got:?}");
    }
    assert!(differences.is_empty(), "{} of {} differ:\n{}", differences.len(), TABLE.len(), differences.join("\n"));
    // Both sides found numbers: the table is not all invalid.
    assert!(truth.iter().filter(|(e, _)| e.is_some()).count() > 50);
}

/// Every region's example numbers of every type, in national and
/// international form, and the same numbers with their last three digits
/// drawn at random (seeded), as libphonenumber reads them.
const EXAMPLES: &str = r#"
import json, random
import phonenumbers as p
from phonenumbers import PhoneNumberFormat as F, PhoneNumberType as T
random.seed(7)
rows = []
types = [T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.VOIP, T.PERSONAL_NUMBER, T.UAN, T.SHARED_COST]
for region in sorted(p.SUPPORTED_REGIONS):
    for t in types:
        n = p.example_number_for_type(region, t)
        if n is None:
            continue
        rows.append([region, p.format_number(n, F.NATIONAL)])
        rows.append([random.choice(["US", "GB", "FR", "DE"]), p.format_number(n, F.INTERNATIONAL)])
        e164 = p.format_number(n, F.E164)
        for _ in range(2):
            mutated = e164[:-3] + "".join(random.choice("0123456789") for _ in range(3))
            rows.append([random.choice(["US", region]), mutated])
for cc in sorted(p.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
    n = p.example_number_for_non_geo_entity(cc)
    if n is not None:
        rows.append(["US", p.format_number(n, F.INTERNATIONAL)])
out = []
for region, text in rows:
    try:
        n = p.parse(text, region)
        valid = p.format_number(n, F.E164) if p.is_valid_number(n) else None
    except p.NumberParseException:
        valid = None
    out.append([region, text, valid])
print(json.dumps(out))
"#;

#[test]
fn every_regions_example_numbers_agree_with_libphonenumber() {
    let out = Command::new("python3").arg("-c").arg(EXAMPLES).output();
    let out = out.unwrap_or_else(|e| panic!("cannot run python3 ({e}); `pip install phonenumbers==9.0.43`"));
    assert!(out.status.success(), "python3 failed: {}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<(String, String, Option<String>)> = serde_json::from_slice(&out.stdout).expect("JSON rows");
    assert!(rows.len() > 4_000, "{} rows", rows.len());
    let mut differences = Vec::new();
    for (country, text, want) in &rows {
        let got = normalize_phone(text, country).unwrap_or_else(|e| panic!("{text} ({country}): {e}")).e164;
        // Canada's 8-digit +1 310 numbers: the NANP parser wants 10 digits
        // after +1 (docs/decisions.md).
        let nanp_short = want.as_deref().is_some_and(|w| w.starts_with("+1310") && w.len() == 9);
        if &got != want && !(nanp_short && got.is_none()) {
            differences.push(format!("{text:?} ({country}): libphonenumber {want:?}, Prospero {got:?}"));
        }
    }
    assert!(differences.is_empty(), "{} of {} differ:\n{}", differences.len(), rows.len(), differences.join("\n"));
    assert!(rows.iter().filter(|(_, _, w)| w.is_some()).count() > 1_500);
}

#[test]
fn an_extension_alone_is_where_prospero_departs_from_libphonenumber() {
    // libphonenumber reads the digits of a lone extension as a short number
    // (invalid); Prospero refuses the value.
    let table = [("US", "x123"), ("US", "ext. 123"), ("US", "#123")];
    for ((_, text), (e164, ext)) in table.iter().zip(libphonenumber(&table)) {
        assert_eq!((e164, ext), (None, None), "{text}");
        assert!(matches!(normalize_phone(text, "US"), Err(PhoneRejected::ExtensionOnly(_))), "{text}");
    }
}

#[test]
fn emails_follow_every_rule() {
    assert_eq!(check_email("  Ada@Example.com "), Ok("Ada@Example.com".to_string()));
    assert!(check_email("a@b.co").is_ok());
    assert!(check_email(&format!("{}@example.com", "a".repeat(64))).is_ok());
    assert!(check_email(&format!("x@{}.com", "d".repeat(63))).is_ok());
    assert!(check_email("first.last+tag@mail-1.example.org").is_ok());
    let reason = |text: &str| check_email(text).expect_err(text).reason;
    // One @.
    assert!(reason("ada.example.com").contains("exactly one '@'"));
    assert!(reason("a@b@example.com").contains("exactly one '@'"));
    // Local part: 1 to 64 characters, no spaces.
    assert!(reason("@example.com").contains("1 to 64"));
    assert!(reason(&format!("{}@example.com", "a".repeat(65))).contains("1 to 64"));
    assert!(reason("ada lovelace@example.com").contains("without spaces"));
    // Domain: two labels or more, 1 to 63 letters, digits or hyphens, no
    // hyphen first or last.
    for bad in [
        "ada@example",
        "ada@",
        "ada@.com",
        "ada@example..com",
        "ada@-example.com",
        "ada@example-.com",
        "ada@exa_mple.com",
        "ada@exa mple.com",
    ] {
        assert!(reason(bad).contains("domain"), "{bad}");
    }
    assert!(reason(&format!("x@{}.com", "d".repeat(64))).contains("domain"));
    // 255 characters at most.
    let email = |d: usize| format!("{}@{}.{}.{}.e", "a".repeat(64), "b".repeat(63), "c".repeat(63), "d".repeat(d));
    assert_eq!(email(60).chars().count(), EMAIL_MAX);
    assert!(check_email(&email(60)).is_ok());
    let long = email(61);
    assert!(reason(&long).contains("255"));
    let err = check_email("nope").expect_err("no @");
    assert!(err.to_string().starts_with("incomplete email 'nope'"), "{err}");
}

#[test]
fn email_keys_ignore_case() {
    assert_eq!(email_key("Ada@Example.COM"), email_key(" ada@example.com "));
    assert_eq!(email_key("Ada@Example.COM"), "ada@example.com");
}
