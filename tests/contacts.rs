//! `prospero contacts ...` and `prospero orgs ...` through the real binary:
//! a round trip (add, find in another written form, note, show, update,
//! erase), the refusals and their exit codes, and unit isolation — a
//! second business unit can neither see nor change the first unit's
//! contacts, organizations or notes — on an SQLite file and on PostgreSQL
//! (127.0.0.1:5432, database `test`; fails when it cannot be reached).

mod common;

use common::prospero;
use serde_json::Value as Json;
use std::sync::atomic::{AtomicU32, Ordering};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// `prospero ARGS --db DB --unit UNIT`: (exit code, stdout, stderr).
fn run(db: &str, unit: &str, args: &[&str]) -> (i32, String, String) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--db", db, "--unit", unit]);
    prospero(&all)
}

/// Like [`run`] with `--json`, expecting exit `code`; stdout as JSON.
fn json(db: &str, unit: &str, args: &[&str], code: i32) -> Json {
    let mut all: Vec<&str> = args.to_vec();
    all.push("--json");
    let (c, out, err) = run(db, unit, &all);
    assert_eq!(c, code, "{args:?}: stdout {out} stderr {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

/// A unit with organization ACME-1, source CRM, type Customer and contact
/// Ada (with a note); returns Ada's id.
fn seed(db: &str, unit: &str) -> String {
    assert_eq!(run(db, unit, &["contacts", "sources", "add", "CRM"]).0, 0);
    let t = run(db, unit, &["contacts", "types", "add", "Customer", "--field", "tier:list=gold|silver"]);
    assert_eq!(t.0, 0, "{t:?}");
    assert_eq!(run(db, unit, &["orgs", "add", "Acme", "--external-id", "ACME-1"]).0, 0);
    let ada = json(
        db,
        unit,
        &[
            "contacts",
            "add",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
            "--set",
            "workEmail=Ada@Example.org",
            "--set",
            "cellPhone=(212) 736-5000",
            "--set",
            "externalOrganization=ACME-1",
            "--set",
            "contactType=Customer",
            "--set",
            r#"customFields={"tier": "gold"}"#,
            "--source",
            "CRM",
            "--external-id",
            "C-1",
        ],
        0,
    );
    let id = ada["id"].to_string();
    assert_eq!(ada["externalOrganization"]["externalId"], "ACME-1");
    let note = run(db, unit, &["contacts", "note", &id, "called back", "--author", "agent7"]);
    assert_eq!(note.0, 0, "{note:?}");
    id
}

fn round_trip(db: &str) {
    let unit = unique("contacts-cli");
    let id = seed(db, &unit);
    let found = json(db, &unit, &["contacts", "find", "--phone", "+1 212-736-5000"], 0);
    assert_eq!(found["count"], 1);
    assert_eq!(found["contacts"][0]["cellPhone"]["e164"], "+12127365000");
    let by_id = json(db, &unit, &["contacts", "find", "--external-id", "C-1", "--source", "crm"], 0);
    assert_eq!(by_id["contacts"][0]["id"].to_string(), id);
    let shown = json(db, &unit, &["contacts", "show", &id], 0);
    assert_eq!(shown["notes"][0]["author"], "agent7");
    let updated = json(db, &unit, &["contacts", "update", &id, "--set", "title=Countess"], 0);
    assert_eq!((updated["title"].as_str(), updated["workEmail"].as_str()), (Some("Countess"), Some("Ada@Example.org")));
    let (code, out, _) = run(db, &unit, &["contacts", "show", &id]);
    assert_eq!(code, 0);
    assert!(out.contains("Ada Lovelace") && out.contains("called back") && out.contains("Countess"), "{out}");
    assert_eq!(run(db, &unit, &["contacts", "delete", &id]).0, 0);
    for args in [["contacts", "find", "--email", "ada@example.org"], ["contacts", "find", "--phone", "2127365000"]] {
        assert_eq!(json(db, &unit, &args, 1)["count"], 0, "{args:?} after erasure");
    }
    assert_eq!(run(db, &unit, &["contacts", "show", &id]).0, 1);
    assert_eq!(run(db, &unit, &["contacts", "delete", &id]).0, 1);
}

/// A fresh SQLite file in a temporary folder (kept while the folder lives).
fn sqlite_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("c.db").to_str().expect("UTF-8").to_string();
    (dir, db)
}

#[test]
fn a_contact_is_added_found_in_another_written_form_noted_updated_and_erased_on_sqlite() {
    let (_dir, db) = sqlite_file();
    round_trip(&db);
}

#[test]
fn a_contact_is_added_found_in_another_written_form_noted_updated_and_erased_on_postgres() {
    round_trip(PG_URL);
}

#[test]
fn refused_contacts_exit_2_with_their_reason_and_nothing_found_exits_1() {
    let (_dir, db) = sqlite_file();
    let db = db.as_str();
    let unit = "refusals";
    let cases: [(&[&str], &str); 5] = [
        (&["contacts", "add", "--first-name", "Ada"], "lastName is required"),
        (&["contacts", "add", "--first-name", "A", "--last-name", "B", "--set", "workEmail=a@"], "InvalidEmail"),
        (
            &["contacts", "add", "--first-name", "A", "--last-name", "B", "--set", "externalOrganization=X"],
            "OrganizationNotFound",
        ),
        (&["contacts", "add", "--first-name", "A", "--last-name", "B", "--set", "shoeSize=9"], "shoeSize"),
        (&["contacts", "settings", "--default-country", "Narnia"], "two-letter"),
    ];
    for (args, reason) in cases {
        let (code, _, err) = run(db, unit, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(reason), "{args:?}: {err}");
    }
    assert_eq!(json(db, unit, &["contacts", "settings", "--default-country", "gb"], 0)["defaultCountry"], "GB");
    assert_eq!(json(db, unit, &["contacts", "settings"], 0)["defaultCountry"], "GB");
    assert_eq!(json(db, unit, &["orgs", "find", "nothing"], 1)["count"], 0);
    let (code, _, err) = run(db, "never-written", &["contacts", "find", "--email", "a@b.org"]);
    assert_eq!(code, 2, "a unit that does not exist: {err}");
}

/// Regression: a `contacts add` the rules refuse used to create its
/// business unit before refusing the record.
#[test]
fn a_refused_contacts_add_creates_no_business_unit() {
    let (_dir, db) = sqlite_file();
    let db = db.as_str();
    for args in [
        &["contacts", "add", "--first-name", "Ada"][..],
        &["contacts", "add", "--first-name", "A", "--last-name", "B", "--set", "workEmail=a@"],
        &["contacts", "add", "--first-name", "A", "--last-name", "B", "--set", "homePhone=x12"],
    ] {
        let (code, _, err) = run(db, "refused-first", args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(!err.contains("created business unit"), "{args:?}: {err}");
        let (code, _, err) = run(db, "refused-first", &["contacts", "find", "--email", "a@b.org"]);
        assert_eq!(code, 2, "{args:?}: the unit must not exist: {err}");
        assert!(err.contains("refused-first"), "{err}");
    }
}

/// Regression: `contacts settings --default-country ZZ` used to exit 0 and
/// store a country no number can be read in.
#[test]
fn contacts_settings_refuses_an_unknown_country_and_keeps_the_old_one() {
    let (_dir, db) = sqlite_file();
    let db = db.as_str();
    let unit = "countries";
    assert_eq!(json(db, unit, &["contacts", "settings", "--default-country", " fr "], 0)["defaultCountry"], "FR");
    for bad in ["ZZ", "XX", "zz", "U$"] {
        let (code, out, err) = run(db, unit, &["contacts", "settings", "--default-country", bad]);
        assert_eq!(code, 2, "{bad}: {out} {err}");
        assert!(err.contains("ISO 3166") && err.contains(bad.trim()), "{bad}: {err}");
    }
    assert_eq!(json(db, unit, &["contacts", "settings"], 0)["defaultCountry"], "FR", "the old country stays");
}

fn isolation(db: &str) {
    let (a, b) = (unique("unit-a"), unique("unit-b"));
    let id = seed(db, &a);
    let before = json(db, &a, &["contacts", "show", &id], 0);
    // Unit B exists and has its own source of the same name.
    assert_eq!(run(db, &b, &["contacts", "sources", "add", "CRM"]).0, 0);
    for args in [
        vec!["contacts", "show", &id],
        vec!["contacts", "update", &id, "--set", "title=Intruder"],
        vec!["contacts", "note", &id, "intrusion"],
        vec!["contacts", "delete", &id],
    ] {
        let (code, out, err) = run(db, &b, &args);
        assert_eq!(code, 1, "unit B: {args:?}: {out} {err}");
    }
    for args in [
        ["contacts", "find", "--email", "ada@example.org"],
        ["contacts", "find", "--phone", "(212) 736-5000"],
        ["contacts", "find", "--last-name", "Lovelace"],
    ] {
        assert_eq!(json(db, &b, &args, 1)["count"], 0, "unit B: {args:?}");
    }
    assert_eq!(json(db, &b, &["contacts", "find", "--external-id", "C-1", "--source", "CRM"], 1)["count"], 0);
    assert_eq!(json(db, &b, &["orgs", "find", "ACME-1"], 1)["count"], 0);
    // B may use the same external IDs: they are its own.
    assert_eq!(run(db, &b, &["orgs", "add", "Other Acme", "--external-id", "ACME-1"]).0, 0);
    let (code, _, err) = run(
        db,
        &b,
        &["contacts", "add", "--first-name", "A", "--last-name", "B", "--set", "externalOrganization=ACME-1"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(db, &a, &["contacts", "show", &id], 0), before, "unit A's contact and notes are unchanged");
    assert_eq!(json(db, &a, &["orgs", "find", "ACME-1"], 0)["count"], 1);
}

#[test]
fn a_second_unit_neither_sees_nor_changes_the_first_units_contacts_on_sqlite() {
    let (_dir, db) = sqlite_file();
    isolation(&db);
}

#[test]
fn a_second_unit_neither_sees_nor_changes_the_first_units_contacts_on_postgres() {
    isolation(PG_URL);
}

/// The web-Studio copy of the sample is the native script, exported
/// (`prospero export scripts/caller_lookup.json > scripts/studio/caller_lookup.studio.json`),
/// and both run the same way: an unknown caller is added, then known.
#[test]
fn the_caller_lookup_sample_in_both_formats_adds_then_knows_the_caller() {
    use prospero::script::{self, studio_json};
    let root = common::root();
    let native = script::load_file(&root.join("scripts/caller_lookup.json")).expect("native sample");
    let studio = root.join("scripts/studio/caller_lookup.studio.json");
    let copy = std::fs::read_to_string(&studio).expect("studio copy");
    assert_eq!(copy.trim_end(), studio_json::export_text(&native).trim_end(), "{} is stale", studio.display());
    for file in ["scripts/caller_lookup.json", "scripts/studio/caller_lookup.studio.json"] {
        let (_dir, db) = sqlite_file();
        let db = db.as_str();
        let first = prospero(&["run", file, "--param", "ani=(212) 736-5000", "--db", db, "--json"]);
        assert_eq!(first.0, 0, "{file}: {first:?}");
        assert!(first.1.contains("added: contact 1"), "{file}: {}", first.1);
        let again = prospero(&["run", file, "--param", "ani=+1 212 736 5000", "--db", db, "--json"]);
        assert!(again.1.contains("known: Unknown Caller (1 with this number)"), "{file}: {}", again.1);
    }
}
