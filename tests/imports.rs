//! `prospero contacts import` and its jobs through the real binary, on an
//! SQLite file and on PostgreSQL (127.0.0.1:5432, database `test`, a unit
//! of its own per test; the test fails when it cannot be reached):
//! `contacts.md` §3's worked examples, match order, both merge modes,
//! organizations by external ID, the legacy layout, validate-only runs
//! that leave the store as it was, the sample export and its
//! rejected-rows file, a job killed mid-import then resumed or cancelled,
//! and a table of bad files.

mod common;

use common::{dump_unit, prospero};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// One test's store, unit and folder of files.
struct Ctx {
    db: String,
    unit: String,
    dir: tempfile::TempDir,
}

impl Ctx {
    fn new(backend: Backend, name: &str) -> Ctx {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = match backend {
            Backend::Sqlite => dir.path().join("store.db").to_str().expect("UTF-8").to_string(),
            Backend::Postgres => PG_URL.to_string(),
        };
        Ctx { db, unit: unique(name), dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `bytes` to `name` in the folder; its path.
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write a fixture");
        p.to_str().expect("UTF-8").to_string()
    }

    /// `prospero ARGS --db DB --unit UNIT`: (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--db", &self.db, "--unit", &self.unit]);
        prospero(&all)
    }

    /// [`Ctx::run`] with `--json`, expecting exit `code`; stdout as JSON.
    fn json(&self, args: &[&str], code: i32) -> Json {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let (c, out, err) = self.run(&all);
        assert_eq!(c, code, "{args:?}: stdout {out} stderr {err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
    }

    /// `contacts import FILE EXTRA... --json --quiet`, expecting exit 0.
    fn import(&self, file: &str, extra: &[&str]) -> Json {
        let mut args = vec!["contacts", "import", file, "--quiet"];
        args.extend(extra);
        self.json(&args, 0)
    }

    /// A contact found by `args` (`--email X`, ...): the only one.
    fn contact(&self, args: &[&str]) -> Json {
        let mut all = vec!["contacts", "find"];
        all.extend(args);
        let found = self.json(&all, 0);
        assert_eq!(found["count"], 1, "{args:?}: {found}");
        found["contacts"][0].clone()
    }

    /// Every row of the unit (contacts, organizations, imports, ...), one
    /// line each, the migration history left out.
    fn dump(&self) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(dump_unit(&self.db, &self.unit, &["_sqlx_migrations"]))
    }

    /// How many rows of `table` the unit has.
    fn count(&self, table: &str) -> usize {
        let prefix = format!("{table}|");
        self.dump().iter().filter(|l| l.starts_with(&prefix)).count()
    }

    /// The unit's import jobs, newest first.
    fn jobs(&self) -> Vec<Json> {
        match self.json(&["contacts", "jobs"], 0) {
            Json::Array(jobs) => jobs,
            other => panic!("jobs: {other}"),
        }
    }
}

/// `(line, reason)` of a log's entries.
fn entries(log: &Json) -> Vec<(u64, String)> {
    let Some(list) = log["entries"].as_array() else { panic!("no entries: {log}") };
    list.iter()
        .map(|e| (e["line"].as_u64().expect("line"), e["reason"].as_str().expect("reason").to_string()))
        .collect()
}

fn owned(list: &[(u64, &str)]) -> Vec<(u64, String)> {
    list.iter().map(|(l, r)| (*l, r.to_string())).collect()
}

/// The rows of a CSV file (the header first), as written.
fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path).expect("a CSV file");
    r.records().map(|rec| rec.expect("a record").iter().map(String::from).collect()).collect()
}

fn csv_text(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    for r in rows {
        w.write_record(r).expect("a record");
    }
    w.into_inner().expect("flushed")
}

/// One test per backend.
macro_rules! on_both {
    ($f:ident => $sqlite:ident, $pg:ident) => {
        #[test]
        fn $sqlite() {
            $f(Backend::Sqlite);
        }
        #[test]
        fn $pg() {
            $f(Backend::Postgres);
        }
    };
}

// --- 1. The spec's worked examples -------------------------------------

/// 1,000 rows, 15 with an incomplete email: 985 created, the 15 logged
/// with their lines, in the JSON output and the CSV log alike.
fn fifteen_bad_emails_of_a_thousand(b: Backend) {
    let ctx = Ctx::new(b, "spec-emails");
    let bad: Vec<usize> = (0..15).map(|i| 17 + i * 61).collect();
    let mut text = String::from("External ID,First Name,Last Name,Work Email\n");
    for i in 1..=1000 {
        let email = match (bad.contains(&i), i % 3) {
            (false, _) => format!("user{i}@example.com"),
            (true, 0) => format!("user{i}@"),
            (true, 1) => format!("user{i}@example"),
            (true, _) => format!("user{i}.example.com"),
        };
        text.push_str(&format!("E-{i},First{i},Last{i},{email}\n"));
    }
    let file = ctx.write("thousand.csv", &text);
    let log = ctx.path("log.csv");
    let out = ctx.import(&file, &["--log", log.to_str().expect("UTF-8")]);
    assert_eq!(
        (&out["status"], &out["imported"], &out["created"], &out["updated"], &out["notImported"]),
        (&Json::from("completed"), &Json::from(985), &Json::from(985), &Json::from(0), &Json::from(15)),
        "{out}"
    );
    let want: Vec<(u64, String)> = bad.iter().map(|i| (*i as u64 + 1, "incomplete_email".to_string())).collect();
    assert_eq!(entries(&out), want);
    for (e, i) in out["entries"].as_array().expect("entries").iter().zip(&bad) {
        let detail = e["detail"].as_str().expect("detail");
        assert!(detail.contains(&format!("'user{i}")) && detail.contains("Work Email"), "{detail}");
    }
    let rows = read_csv(&log);
    assert_eq!(rows[0], ["line", "reason", "detail"]);
    let logged: Vec<(u64, String)> = rows[1..].iter().map(|r| (r[0].parse().expect("a line"), r[1].clone())).collect();
    assert_eq!(logged, want, "the CSV log lists the same 15");
    assert_eq!(ctx.count("contacts"), 985);
    assert_eq!(ctx.count("import_job_log"), 15);
}

on_both!(fifteen_bad_emails_of_a_thousand =>
    a_thousand_rows_with_fifteen_bad_emails_import_985_and_log_the_15_on_sqlite,
    a_thousand_rows_with_fifteen_bad_emails_import_985_and_log_the_15_on_postgres);

/// 1,000 rows that all name an organization without its external ID:
/// nothing imported, every row logged with the reason.
fn organizations_without_external_ids(b: Backend) {
    let ctx = Ctx::new(b, "spec-orgs");
    let mut text = String::from("First Name,Last Name,Work Email,External Organization Name\n");
    for i in 1..=1000 {
        text.push_str(&format!("F{i},L{i},u{i}@example.com,Org {}\n", i % 7));
    }
    let file = ctx.write("orgs.csv", &text);
    let out = ctx.import(&file, &[]);
    assert_eq!(
        (&out["imported"], &out["notImported"], &out["status"]),
        (&Json::from(0), &Json::from(1000), &Json::from("completed"))
    );
    let want: Vec<(u64, String)> = (2..=1001).map(|l| (l, "organization_without_external_id".to_string())).collect();
    assert_eq!(entries(&out), want);
    for (i, e) in out["entries"].as_array().expect("entries").iter().enumerate() {
        let detail = e["detail"].as_str().expect("detail");
        assert!(
            detail.contains(&format!("'Org {}'", (i + 1) % 7)) && detail.contains("without its external ID"),
            "{detail}"
        );
    }
    assert_eq!((ctx.count("contacts"), ctx.count("organizations")), (0, 0));
}

on_both!(organizations_without_external_ids =>
    a_file_whose_rows_all_name_an_organization_without_its_external_id_imports_nothing_on_sqlite,
    a_file_whose_rows_all_name_an_organization_without_its_external_id_imports_nothing_on_postgres);

// --- 2. Match order, 3. merge modes ------------------------------------

/// Two contacts, one found by the row's email and one by its phone: the
/// profile's match order picks the one the row updates.
fn match_order(b: Backend) {
    for (order, by_email) in [("workEmail,cellPhone", true), ("cellPhone,workEmail", false)] {
        let ctx = Ctx::new(b, "match-order");
        let add = |args: &[&str]| {
            let mut all = vec!["contacts", "add"];
            all.extend(args);
            assert_eq!(ctx.run(&all).0, 0, "{args:?}");
        };
        add(&["--first-name", "Ann", "--last-name", "ByEmail", "--set", "workEmail=ann@example.org"]);
        add(&["--first-name", "Bob", "--last-name", "ByPhone", "--set", "cellPhone=(212) 736-5000"]);
        let p = ctx.run(&["contacts", "profiles", "add", "p", "--match", order]);
        assert_eq!(p.0, 0, "{p:?}");
        let file = ctx.write("row.csv", "Work Email,Cell Phone,Title\nANN@example.org,+1 212 736 5000,Updated\n");
        let out = ctx.import(&file, &["--profile", "p"]);
        assert_eq!((&out["created"], &out["updated"]), (&Json::from(0), &Json::from(1)), "{order}: {out}");
        let ann = ctx.contact(&["--last-name", "ByEmail"]);
        let bob = ctx.contact(&["--last-name", "ByPhone"]);
        let (updated, untouched) = if by_email { (&ann, &bob) } else { (&bob, &ann) };
        assert_eq!(updated["title"], "Updated", "{order}: {updated}");
        assert!(untouched.get("title").is_none(), "{order}: {untouched}");
        assert_eq!(ctx.count("contacts"), 2, "{order}");
    }
}

on_both!(match_order =>
    the_match_order_decides_which_contact_a_row_updates_on_sqlite,
    the_match_order_decides_which_contact_a_row_updates_on_postgres);

/// The same data under both merge modes: merge-all folds the two contacts
/// an email finds into the oldest; update-first changes the oldest alone.
fn merge_modes(b: Backend) {
    for mode in ["merge-all", "update-first"] {
        let ctx = Ctx::new(b, "merge");
        let old = ctx.json(
            &[
                "contacts",
                "add",
                "--first-name",
                "Olive",
                "--last-name",
                "Old",
                "--set",
                "workEmail=shared@example.org",
            ],
            0,
        );
        let young = ctx.json(
            &[
                "contacts",
                "add",
                "--first-name",
                "Yves",
                "--last-name",
                "Young",
                "--set",
                "workEmail=young@example.org",
                "--set",
                "personalEmail=shared@example.org",
                "--set",
                "cellPhone=(212) 736-5000",
            ],
            0,
        );
        assert_eq!(ctx.run(&["contacts", "profiles", "add", "p", "--match", "workEmail", "--merge", mode]).0, 0);
        let file = ctx.write("row.csv", "Work Email,Title\nshared@example.org,Prof\n");
        let out = ctx.import(&file, &["--profile", "p"]);
        assert_eq!((&out["created"], &out["updated"]), (&Json::from(0), &Json::from(1)), "{mode}: {out}");
        let survivor = ctx.json(&["contacts", "show", &old["id"].to_string()], 0);
        assert_eq!((&survivor["firstName"], &survivor["title"]), (&Json::from("Olive"), &Json::from("Prof")), "{mode}");
        let other = ctx.run(&["contacts", "show", &young["id"].to_string(), "--json"]);
        if mode == "merge-all" {
            assert_eq!(ctx.count("contacts"), 1, "{mode}: folded into one");
            assert_eq!(other.0, 1, "{mode}: the younger contact is gone");
            assert_eq!(
                survivor["cellPhone"]["e164"], "+12127365000",
                "{mode}: the empty phone filled from the younger"
            );
        } else {
            assert_eq!(ctx.count("contacts"), 2, "{mode}");
            let young_now: Json = serde_json::from_str(&other.1).expect("JSON");
            assert!(young_now.get("title").is_none(), "{mode}: the other match is left as it was: {young_now}");
            assert_eq!(young_now["lastName"], "Young");
            assert!(survivor.get("cellPhone").is_none(), "{mode}: nothing merged in: {survivor}");
        }
    }
}

on_both!(merge_modes =>
    merge_all_folds_matches_into_the_oldest_and_update_first_changes_only_it_on_sqlite,
    merge_all_folds_matches_into_the_oldest_and_update_first_changes_only_it_on_postgres);

// --- 4. Organizations ----------------------------------------------------

fn organizations(b: Backend) {
    let ctx = Ctx::new(b, "orgs");
    let h = "External ID,First Name,Last Name,External Organization Name,External Organization External ID\n";
    let first = ctx.write("a.csv", format!("{h}C-1,Ada,Lovelace,Acme,ORG-1\nC-2,Bob,Smith,Acme,ORG-2\n"));
    let out = ctx.import(&first, &[]);
    assert_eq!((&out["created"], &out["organizationsCreated"]), (&Json::from(2), &Json::from(2)), "{out}");
    assert_eq!(ctx.json(&["orgs", "find", "Acme"], 0)["count"], 2, "same name, two external IDs: two organizations");
    let second =
        ctx.write("b.csv", format!("{h}C-3,Cy,Doe,Acme Renamed,ORG-1\nC-4,Di,Ek,,ORG-2\nC-5,Ed,Fox,,ORG-404\n"));
    let out = ctx.import(&second, &[]);
    assert_eq!((&out["created"], &out["organizationsCreated"]), (&Json::from(2), &Json::from(0)), "{out}");
    assert_eq!(entries(&out), owned(&[(4, "organization_not_found")]));
    assert!(out["entries"][0]["detail"].as_str().is_some_and(|d| d.contains("ORG-404")), "{out}");
    let one = ctx.json(&["orgs", "find", "ORG-1"], 0);
    assert_eq!(one["organizations"][0]["name"], "Acme Renamed", "same external ID, new name: renamed");
    assert_eq!(ctx.json(&["orgs", "find", "Acme"], 0)["count"], 1);
    assert_eq!(ctx.count("organizations"), 2);
    let ada = ctx.contact(&["--external-id", "C-1"]);
    assert_eq!(ada["externalOrganization"]["name"], "Acme Renamed");
    let di = ctx.contact(&["--external-id", "C-4"]);
    assert_eq!(
        (&di["externalOrganization"]["externalId"], &di["externalOrganization"]["name"]),
        (&Json::from("ORG-2"), &Json::from("Acme"))
    );
    assert_eq!(
        ctx.run(&["contacts", "find", "--external-id", "C-5"]).0,
        1,
        "the row naming no organization is not imported"
    );
}

on_both!(organizations =>
    organizations_match_by_external_id_only_on_sqlite,
    organizations_match_by_external_id_only_on_postgres);

// --- 5. Legacy layout ------------------------------------------------------

fn legacy_layout(b: Backend) {
    let ctx = Ctx::new(b, "legacy");
    // The new flow reads headers in any case.
    let upper = ctx.write("upper.csv", "FIRST NAME,LAST NAME,WORK EMAIL\nGrace,Hopper,grace@navy.example\n");
    assert_eq!(ctx.import(&upper, &[])["created"], 1);
    assert_eq!(ctx.contact(&["--email", "grace@navy.example"])["firstName"], "Grace");
    let before = ctx.dump();
    // Legacy keys are exact; the new flow does not know them at all.
    let lower = ctx.write("lower.csv", "contact id,Contact First Name,Contact Last Name\nL-1,Ada,Lovelace\n");
    let (code, _, err) = ctx.run(&["contacts", "import", &lower, "--layout", "legacy", "--quiet"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("missing_column") && err.contains("column 1 is 'contact id': legacy keys are case-sensitive"),
        "{err}"
    );
    let (code, _, err) = ctx.run(&["contacts", "import", &lower, "--quiet"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown header 'contact id'") && err.contains("unknown_header"), "{err}");
    assert_eq!(ctx.dump(), before, "refused files write nothing");

    let h = "Contact Id,Contact First Name,Contact Last Name,Account Id,Account Name\n";
    let file = ctx.write("legacy.csv", format!("{h}L-1,Ada,Lovelace,,\n,,,A-1,Acme\nL-2,Bob,Smith,A-1,Acme\n"));
    let out = ctx.import(&file, &["--layout", "legacy"]);
    assert_eq!(
        (&out["created"], &out["organizationsCreated"], &out["notImported"]),
        (&Json::from(2), &Json::from(1), &Json::from(0)),
        "{out}"
    );
    let ada = ctx.contact(&["--external-id", "L-1"]);
    assert!(ada.get("externalOrganization").is_none(), "a contact-only row links nothing: {ada}");
    let bob = ctx.contact(&["--external-id", "L-2"]);
    assert_eq!(bob["externalOrganization"]["externalId"], "A-1", "a row with both links them: {bob}");
    assert_eq!(ctx.json(&["orgs", "find", "A-1"], 0)["organizations"][0]["name"], "Acme");
    // The same Contact Id again updates.
    let again = ctx.write("again.csv", "Contact Id,Contact First Name,Contact Last Name\nL-1,Ada,Byron\n");
    let out = ctx.import(&again, &["--layout", "legacy"]);
    assert_eq!((&out["created"], &out["updated"]), (&Json::from(0), &Json::from(1)), "{out}");
    assert_eq!(ctx.contact(&["--external-id", "L-1"])["lastName"], "Byron");
    // An account-only file imports only the organization.
    let accounts = ctx.write("accounts.csv", "Account Id,Account Name\nA-2,Initech\n");
    let out = ctx.import(&accounts, &["--layout", "legacy"]);
    assert_eq!((&out["imported"], &out["organizationsCreated"]), (&Json::from(0), &Json::from(1)), "{out}");
    assert_eq!((ctx.count("contacts"), ctx.count("organizations")), (3, 2));
}

on_both!(legacy_layout =>
    the_legacy_layout_has_exact_keys_updates_by_contact_id_and_links_accounts_on_sqlite,
    the_legacy_layout_has_exact_keys_updates_by_contact_id_and_links_accounts_on_postgres);

// --- 6. Validate-only ----------------------------------------------------

/// What a validate-only run must leave as it was: the SQLite file's bytes
/// (and its `-wal` and `-shm`, if any), or every row of the unit.
fn snapshot(ctx: &Ctx, b: Backend) -> Vec<String> {
    match b {
        Backend::Sqlite => ["", "-wal", "-shm"]
            .iter()
            .map(|s| {
                let p = format!("{}{s}", ctx.db);
                match std::fs::read(&p) {
                    Ok(bytes) => format!("{p}: {} bytes, {:?}", bytes.len(), sha(&bytes)),
                    Err(e) => format!("{p}: {}", e.kind()),
                }
            })
            .collect(),
        Backend::Postgres => ctx.dump(),
    }
}

fn sha(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn validate_only(b: Backend) {
    let ctx = Ctx::new(b, "validate");
    let good = ctx.write("good.csv", "First Name,Last Name,Work Email\nAda,Lovelace,ada@example.org\n");
    ctx.import(&good, &[]);
    assert_eq!(ctx.run(&["contacts", "profiles", "add", "p", "--map", "Mail=workEmail"]).0, 0);
    let before = snapshot(&ctx, b);
    let logical = ctx.dump();
    let bad = ctx.write(
        "bad.csv",
        "First Name,Last Name,Work Email\nAda,Lovelace,ada@example.org\nBo,Smith,bo@\nCy,Doe,cy@example.org,extra\nDi,Ek,di@example.org\n",
    );
    let log = ctx.path("validate-log.json");
    let out = ctx.import(&bad, &["--validate-only", "--log", log.to_str().expect("UTF-8")]);
    assert_eq!(
        (&out["validateOnly"], &out["rows"], &out["validRows"]),
        (&Json::from(true), &Json::from(4), &Json::from(2)),
        "{out}"
    );
    let want = owned(&[(3, "incomplete_email"), (4, "wrong_column_count")]);
    assert_eq!(entries(&out), want);
    let written: Json = serde_json::from_slice(&std::fs::read(&log).expect("the log")).expect("JSON");
    assert_eq!(entries(&written), want);
    let (code, text, err) = ctx.run(&["contacts", "import", &bad, "--validate-only"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("4 rows, 2 valid, 2 not importable (validate only: nothing written)"), "{text}");
    assert!(text.contains("line 3: incomplete_email") && text.contains("line 4: wrong_column_count"), "{text}");
    let mapped = ctx.write("mapped.csv", "First Name,Last Name,Mail\nEd,Fox,ed@\n");
    let out = ctx.import(&mapped, &["--validate-only", "--profile", "p"]);
    assert_eq!(entries(&out), owned(&[(2, "incomplete_email")]));
    // A file refused whole, validated only.
    let latin = ctx.write("latin.csv", b"First Name,Last Name\nJos\xe9,Ruiz\n");
    let (code, _, err) = ctx.run(&["contacts", "import", &latin, "--validate-only"]);
    assert!(code == 2 && err.contains("line 2") && err.contains("not_utf8"), "{code}: {err}");
    assert_eq!(snapshot(&ctx, b), before, "validate-only runs leave the store as it was");
    assert_eq!(ctx.dump(), logical);
    assert_eq!(ctx.jobs().len(), 1, "no job either");
}

on_both!(validate_only =>
    a_validate_only_run_leaves_the_store_byte_for_byte_unchanged_on_sqlite,
    a_validate_only_run_leaves_the_store_unchanged_row_for_row_on_postgres);

/// Regression (validate_only_rewrote_the_sqlite_file_and_created_its_unit):
/// `--validate-only` and `--preview` opened the store to write: an SQLite
/// file's header changed (WAL turned on and off again), a unit that did not
/// exist was created, and an SQLite file that did not exist was made. They
/// now read with the defaults and create nothing.
fn read_only_runs_create_nothing(b: Backend) {
    let ctx = Ctx::new(b, "never-written");
    let file = ctx.write("rows.csv", "First Name,Last Name,Work Email,Cell Phone\nAda,Lovelace,ada@,(212) 736-5000\n");
    let out = ctx.import(&file, &["--validate-only"]);
    assert_eq!(entries(&out), owned(&[(2, "incomplete_email")]));
    let (code, text, err) = ctx.run(&["contacts", "import", &file, "--preview"]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("line 2: ") && text.contains("cellPhone=(212) 736-5000"), "{text}");
    assert!(!err.contains("created business unit"), "{err}");
    match b {
        Backend::Sqlite => assert!(!Path::new(&ctx.db).exists(), "no store file was made"),
        Backend::Postgres => assert!(ctx.dump().is_empty(), "no unit was created"),
    }
    let (code, _, err) = ctx.run(&["contacts", "jobs"]);
    assert_eq!(code, 2, "the unit still does not exist: {err}");
}

on_both!(read_only_runs_create_nothing =>
    regression_validate_only_and_preview_create_no_store_file_on_sqlite,
    regression_validate_only_and_preview_create_no_unit_on_postgres);

/// Regression (import_with_a_missing_profile_exited_2): `contacts import
/// --profile NAME` naming no profile exits 1, as `profiles show` does.
#[test]
fn regression_an_import_naming_a_missing_profile_exits_1() {
    let ctx = Ctx::new(Backend::Sqlite, "no-profile");
    let file = ctx.write("rows.csv", "First Name,Last Name\nAda,Lovelace\n");
    assert_eq!(ctx.import(&file, &[])["created"], 1);
    let before = ctx.dump();
    for extra in [&[][..], &["--validate-only"][..], &["--preview"][..]] {
        let mut args = vec!["contacts", "import", &file, "--profile", "nope"];
        args.extend(extra);
        let (code, _, err) = ctx.run(&args);
        assert_eq!(code, 1, "{extra:?}: {err}");
        assert!(err.contains("no import profile named 'nope'"), "{extra:?}: {err}");
    }
    assert_eq!(ctx.dump(), before);
}

/// Regression (file_refusals_did_not_name_the_file): a refused file's
/// message named the line but not the file (a folder named neither).
#[test]
fn regression_a_refused_file_is_named_in_the_message() {
    let ctx = Ctx::new(Backend::Sqlite, "named");
    let folder = ctx.path("folder.csv");
    std::fs::create_dir(&folder).expect("a folder");
    let folder = folder.to_str().expect("UTF-8");
    let latin = ctx.write("latin.csv", b"First Name,Last Name\nJos\xe9,Ruiz\n");
    for (file, profile) in [(folder, false), (latin.as_str(), false), (latin.as_str(), true)] {
        let mut args = vec!["contacts", "import", file, "--quiet"];
        if profile {
            assert_eq!(ctx.run(&["contacts", "profiles", "add", "p"]).0, 0);
            args.extend(["--profile", "p"]);
        }
        let (code, _, err) = ctx.run(&args);
        assert_eq!(code, 2, "{err}");
        assert!(err.starts_with(&format!("prospero: {file}: ")), "{err}");
    }
}

// --- 7. The sample export --------------------------------------------------

const SAMPLE_LOG: [(u64, &str); 7] = [
    (3, "missing_first_name"),
    (4, "incomplete_email"),
    (7, "organization_without_external_id"),
    (8, "incomplete_email"),
    (10, "unparseable_phone"),
    (12, "incomplete_email"),
    (14, "wrong_column_count"),
];

fn sample_export(b: Backend) {
    let ctx = Ctx::new(b, "sample");
    let sample = common::root().join("scripts/data/crm-export.csv");
    let sample = sample.to_str().expect("UTF-8");
    let log = ctx.path("log.json");
    let out = ctx.import(sample, &["--log", log.to_str().expect("UTF-8")]);
    assert_eq!(
        (&out["created"], &out["updated"], &out["notImported"], &out["organizationsCreated"], &out["rowsTotal"]),
        (&Json::from(4), &Json::from(1), &Json::from(7), &Json::from(2), &Json::from(12)),
        "{out}"
    );
    assert_eq!(entries(&out), owned(&SAMPLE_LOG));
    let written: Json = serde_json::from_slice(&std::fs::read(&log).expect("the log")).expect("JSON");
    assert_eq!(written["entries"], out["entries"], "the log file holds the same entries");
    assert_eq!((ctx.count("contacts"), ctx.count("organizations")), (4, 2));

    // Twice: updates, no duplicates.
    let rejected = ctx.path("rejected.csv");
    let out = ctx.import(sample, &["--rejected", rejected.to_str().expect("UTF-8")]);
    assert_eq!(
        (&out["created"], &out["updated"], &out["notImported"]),
        (&Json::from(0), &Json::from(5), &Json::from(7)),
        "{out}"
    );
    assert_eq!(entries(&out), owned(&SAMPLE_LOG));
    assert_eq!((ctx.count("contacts"), ctx.count("organizations")), (4, 2), "the same file twice updates");

    // The rejected rows behind their reason, fixed, import again.
    let mut rows = read_csv(&rejected);
    let header = rows[0].clone();
    assert_eq!(header[0], "Reason");
    assert_eq!(
        header[1..].join(","),
        "External ID,First Name,Last Name,Title,Work Email,Personal Email,Work Phone,Cell Phone,City,Country Code,External Organization Name,External Organization External ID"
    );
    assert_eq!(rows.len(), 8, "{rows:?}");
    for (row, (line, code)) in rows[1..].iter().zip(SAMPLE_LOG) {
        assert!(row[0].starts_with(&format!("{code} (line {line}): ")), "{row:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    for row in &mut rows[1..] {
        row.resize(header.len(), String::new());
        let (field, value) = match row[1].as_str() {
            "C-002" => ("First Name", "Charles"),
            "C-003" => ("Work Email", "grace@navy.example"),
            "C-006" => ("External Organization External ID", "ORG-3"),
            "C-007" => ("Work Email", "hedy@example.com"),
            "C-008" => ("Work Phone", ""),
            "C-009" => ("Personal Email", "radia.personal@example.com"),
            "C-011" => ("Title", "Professor"),
            other => panic!("unexpected rejected row {other}: {row:?}"),
        };
        row[col(field)] = value.to_string();
    }
    let fixed = ctx.write("fixed.csv", csv_text(&rows));
    let out = ctx.import(&fixed, &[]);
    assert_eq!(
        (&out["created"], &out["notImported"], &out["organizationsCreated"]),
        (&Json::from(7), &Json::from(0), &Json::from(1)),
        "{out}"
    );
    assert_eq!((ctx.count("contacts"), ctx.count("organizations")), (11, 3));
    assert_eq!(ctx.contact(&["--external-id", "C-007"])["title"], "Actress,\nInventor", "a quoted line break survives");
}

on_both!(sample_export =>
    the_sample_export_logs_its_bad_rows_updates_on_a_second_import_and_its_fixed_rejects_import_on_sqlite,
    the_sample_export_logs_its_bad_rows_updates_on_a_second_import_and_its_fixed_rejects_import_on_postgres);

// --- 8. A job killed mid-import, resumed or cancelled ----------------------

/// `rows` rows of new contacts `prefix-1`, ...
fn people(prefix: &str, rows: usize) -> String {
    let mut text = String::from("First Name,Last Name,Work Email\n");
    for i in 1..=rows {
        text.push_str(&format!("{prefix}{i},Person,{prefix}{i}@example.org\n"));
    }
    text
}

#[cfg(unix)]
mod killed {
    //! An import killed after a number of committed batches: its file is a
    //! named pipe the test feeds, whole for each check pass, then only the
    //! first rows for the import pass; the test kills the process once the
    //! job has committed them, so the job stays `importing` with exactly
    //! that progress.

    use super::{Ctx, Json};
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// Only a hung child ends a wait this long: the test then fails.
    const HUNG: Duration = Duration::from_secs(120);

    fn alive(child: &mut Child, what: &str) {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("the import ended ({status}) while {what}: {err}");
        }
    }

    /// Whether process `pid` has `path` open.
    fn has_open(pid: u32, path: &Path) -> bool {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
        fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == path))
    }

    /// The write end of the pipe, once the child opens it to read.
    fn writer(fifo: &Path, child: &mut Child) -> std::fs::File {
        let (tx, rx) = mpsc::channel();
        let p = fifo.to_path_buf();
        std::thread::spawn(move || {
            let _ = tx.send(OpenOptions::new().write(true).open(&p));
        });
        let start = Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(10)) {
                Ok(f) => return f.expect("the pipe opens"),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if child.try_wait().ok().flatten().is_some() || start.elapsed() > HUNG {
                        // Free the thread blocked in open().
                        let _ = OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(fifo);
                        alive(child, "the test waited for it to read the file");
                        panic!("the import never read the file");
                    }
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// Run `contacts import` on a pipe fed `content`, the import pass only
    /// its header and first `rows` rows, in batches of one row; kill it
    /// once they are committed. The job's id.
    pub(super) fn import_killed_after(ctx: &Ctx, name: &str, content: &str, rows: usize) -> i64 {
        let fifo = ctx.path(name);
        let c = std::ffi::CString::new(fifo.to_str().expect("UTF-8")).expect("a C string");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        let fifo = fifo.canonicalize().expect("the pipe");
        let seen = ctx.run(&["contacts", "jobs", "--json"]);
        let last: i64 = serde_json::from_str::<Json>(&seen.1).ok().and_then(|j| j[0]["id"].as_i64()).unwrap_or(0);
        let mut child = Command::new(env!("CARGO_BIN_EXE_prospero"))
            .args(["contacts", "import", fifo.to_str().expect("UTF-8"), "--batch", "1", "--quiet"])
            .args(["--db", &ctx.db, "--unit", &ctx.unit])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let head: String = content.split_inclusive('\n').take(rows + 1).collect();
        let start = Instant::now();
        loop {
            // The previous pass has closed the pipe: the next opener is a new pass.
            while has_open(child.id(), &fifo) {
                alive(&mut child, "it closed the file");
                assert!(start.elapsed() < HUNG, "the import never closed the file");
                std::thread::sleep(Duration::from_millis(5));
            }
            let mut w = writer(&fifo, &mut child);
            // Before the unit exists (the first check pass) there is no job.
            let (_, jobs, _) = ctx.run(&["contacts", "jobs", "--json"]);
            let jobs: Json = serde_json::from_str(&jobs).unwrap_or(Json::Null);
            let job = jobs.as_array().and_then(|a| a.iter().find(|j| j["id"].as_i64() > Some(last)).cloned());
            let Some(job) = job else {
                // A check pass: the whole file.
                w.write_all(content.as_bytes()).expect("fed");
                continue;
            };
            assert_eq!(job["status"], "importing", "{job}");
            let id = job["id"].as_i64().expect("id");
            w.write_all(head.as_bytes()).expect("fed");
            w.flush().expect("flushed");
            loop {
                let now = ctx.json(&["contacts", "jobs", &id.to_string()], 0);
                if now["rowsDone"] == rows {
                    break;
                }
                alive(&mut child, "the test waited for its first batches");
                assert!(start.elapsed() < HUNG, "the first batches never committed: {now}");
                std::thread::sleep(Duration::from_millis(20));
            }
            child.kill().expect("killed");
            child.wait().expect("reaped");
            drop(w);
            return id;
        }
    }
}

#[cfg(unix)]
fn killed_jobs(b: Backend) {
    let ctx = Ctx::new(b, "resume");
    let content = people("p", 6);
    let id = killed::import_killed_after(&ctx, "pipe.csv", &content, 3);
    let job = ctx.json(&["contacts", "jobs", &id.to_string()], 0);
    assert_eq!(
        (&job["status"], &job["rowsDone"], &job["rowsTotal"], &job["created"], &job["lastLine"]),
        (&Json::from("importing"), &Json::from(3), &Json::from(6), &Json::from(3), &Json::from(4)),
        "{job}"
    );
    assert_eq!(ctx.count("contacts"), 3);
    let (id_text, same, changed) =
        (id.to_string(), ctx.write("same.csv", &content), ctx.write("changed.csv", content.replace("p6,", "P6,")));

    // Another file is refused and nothing is written.
    let before = ctx.dump();
    let (code, _, err) = ctx.run(&["contacts", "resume", &id_text, "--file", &changed, "--quiet"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("changed_file") && err.contains("nothing was written"), "{err}");
    assert_eq!(ctx.dump(), before, "a refused resume writes nothing");

    // The same bytes finish it: the three rows left, none twice.
    let done = ctx.json(&["contacts", "resume", &id_text, "--file", &same, "--quiet"], 0);
    assert_eq!(
        (&done["status"], &done["rowsDone"], &done["created"]),
        (&Json::from("completed"), &Json::from(6), &Json::from(6)),
        "{done}"
    );
    assert_eq!(ctx.count("contacts"), 6);
    for i in 1..=6 {
        ctx.contact(&["--email", &format!("p{i}@example.org")]);
    }
    let shown = ctx.json(&["contacts", "jobs", &id_text], 0);
    assert_eq!(
        (&shown["created"], &shown["updated"], &shown["notImported"]),
        (&Json::from(6), &Json::from(0), &Json::from(0))
    );
    // A completed job can be neither cancelled nor resumed.
    for args in [vec!["contacts", "cancel", &id_text], vec!["contacts", "resume", &id_text, "--file", &same]] {
        let (code, _, err) = ctx.run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("is completed") && err.contains("wrong_status"), "{args:?}: {err}");
    }

    // Another job killed, then cancelled: what it committed stays.
    let other = killed::import_killed_after(&ctx, "pipe2.csv", &people("q", 4), 1);
    let cancelled = ctx.json(&["contacts", "cancel", &other.to_string()], 0);
    assert_eq!(
        (&cancelled["status"], &cancelled["rowsDone"]),
        (&Json::from("cancelled"), &Json::from(1)),
        "{cancelled}"
    );
    let (code, _, err) = ctx.run(&["contacts", "resume", &other.to_string(), "--file", &same]);
    assert!(code == 2 && err.contains("is cancelled"), "{code}: {err}");
    assert_eq!(ctx.count("contacts"), 7);
    ctx.contact(&["--email", "q1@example.org"]);
    // Jobs that do not exist.
    for args in [["contacts", "jobs", "999999"], ["contacts", "cancel", "999999"], ["contacts", "resume", "999999"]] {
        let (code, _, err) = ctx.run(&args);
        assert!(code == 1 && err.contains("no import job 999999"), "{args:?}: {code} {err}");
    }
}

#[cfg(unix)]
on_both!(killed_jobs =>
    a_killed_import_resumes_from_its_last_batch_refuses_another_file_and_cancels_on_sqlite,
    a_killed_import_resumes_from_its_last_batch_refuses_another_file_and_cancels_on_postgres);

// --- 9. Bad files ----------------------------------------------------------

/// What a file is.
enum Input {
    Bytes(Vec<u8>),
    /// A folder where the file should be.
    Dir,
    /// No such file.
    Missing,
}

/// How an import of it must end.
enum Want {
    /// Exit 2 naming the file, the fault's code and this text; nothing written.
    File(&'static str, &'static str),
    /// Exit 0 with this many rows imported (created or updated: the
    /// cases share a unit) and these (line, reason) entries.
    Rows(u64, &'static [(u64, &'static str)]),
}

struct Bad {
    name: &'static str,
    input: Input,
    args: &'static [&'static str],
    want: Want,
}

const H: &str = "First Name,Last Name,Work Email";

fn lines(rows: &[&str]) -> Vec<u8> {
    rows.iter().flat_map(|r| format!("{r}\n").into_bytes()).collect()
}

fn bytes(b: &[u8]) -> Input {
    Input::Bytes(b.to_vec())
}

/// The table: at least thirty kinds of bad (or tricky but fine) file.
fn bad_files() -> Vec<Bad> {
    use Input::{Bytes, Dir, Missing};
    use Want::{File, Rows};
    let b = |name, input, want| Bad { name, input, args: &[], want };
    let wide: String = (0..10_000).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
    let huge_row = vec!["x".repeat(60_000); 20].join(",");
    let long_id = "X".repeat(256);
    vec![
        b("empty file", bytes(b""), File("empty_file", "the file is empty")),
        b("header only", Bytes(lines(&[H])), File("no_rows", "line 1: the file has a header row but no rows")),
        b("binary bytes", bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), File("not_utf8", "line 1: byte 0x89 at offset 0")),
        b(
            "Latin-1 bytes",
            Bytes([lines(&[H, "Ada,Lovelace,ada@example.org"]), b"Jos\xe9,Ruiz,jose@example.org\n".to_vec()].concat()),
            File("not_utf8", "line 3: byte 0xE9 at offset 64"),
        ),
        b(
            "UTF-16 with BOM",
            Bytes("\u{feff}First Name,Last Name\nAda,L\n".encode_utf16().flat_map(u16::to_le_bytes).collect()),
            File("utf16", "line 1: the file is UTF-16"),
        ),
        b(
            "unterminated quote",
            Bytes(lines(&[H, "Ada,Lovelace,", "Bo,\"Smith,bo@example.org", "Cy,Doe,"])),
            File("unterminated_quote", "line 3: a quoted field opened on this line is never closed"),
        ),
        b(
            "ragged rows",
            Bytes(lines(&[H, "Ada,Lovelace,ada@example.org", "Bo", "Cy,Doe,cy@example.org,extra"])),
            Rows(1, &[(3, "wrong_column_count"), (4, "wrong_column_count")]),
        ),
        b(
            "1 MB field",
            Bytes(lines(&[H, &format!("{},L,", "x".repeat(1 << 20))])),
            File("field_too_large", "line 2, column 1: a field longer than 65536 bytes"),
        ),
        b("10,000 columns", Bytes(lines(&[&wide, "a"])), File("too_many_columns", "line 1: more than 1000 columns")),
        b(
            "duplicate headers",
            Bytes(lines(&["First Name,Last Name,first name", "a,b,c"])),
            File("duplicate_header", "line 1, column 3: the header 'first name' repeats column 1"),
        ),
        b(
            "blank header cell",
            Bytes(lines(&["First Name,,Last Name", "a,b,c"])),
            File("blank_header", "line 1, column 2: the header cell is blank"),
        ),
        b(
            "no known column",
            Bytes(lines(&["Foo,Bar", "1,2"])),
            File("unknown_header", "line 1, column 1: unknown header 'Foo'"),
        ),
        b("no imported column", Bytes(lines(&["Reason", "x"])), File("no_imported_column", "line 1: no column")),
        b("NUL bytes", Bytes(lines(&[H, "Ada,Love\0lace,"])), File("binary", "line 2: a NUL byte at offset 40")),
        b(
            "CRLF line ends",
            Bytes(format!("{H}\r\nAda,Lovelace,ada@example.org\r\nBo,Smith,bo@\r\n").into_bytes()),
            Rows(1, &[(3, "incomplete_email")]),
        ),
        b(
            "lone CR line ends",
            Bytes(format!("{H}\rAda,Lovelace,ada@example.org\rBo,Smith,bo@\r").into_bytes()),
            Rows(1, &[(3, "incomplete_email")]),
        ),
        b("BOM and header", Bytes(format!("\u{feff}{H}\nAda,Lovelace,ada@example.org\n").into_bytes()), Rows(1, &[])),
        b("BOM alone", bytes(b"\xEF\xBB\xBF"), File("empty_file", "the file is empty")),
        b(
            "header of only spaces",
            Bytes(lines(&["   ", "Ada"])),
            File("blank_header", "line 1, column 1: the header cell is blank"),
        ),
        b(
            "quoted commas and line breaks",
            Bytes(lines(&[
                "First Name,Last Name,Title,Work Email",
                "Ada,Lovelace,\"Countess, of",
                "Lovelace\",ada@example.org",
                "Bo,Smith,\"a \"\"quoted\"\" title\",bo@",
            ])),
            Rows(1, &[(4, "incomplete_email")]),
        ),
        b(
            "a field over 64 KiB",
            Bytes(lines(&[H, &format!("Ada,\"{}\",", "y".repeat(64 * 1024 + 1))])),
            File("field_too_large", "line 2, column 2"),
        ),
        b(
            "a record over 1 MiB",
            Bytes(lines(&[H, &huge_row])),
            File("record_too_large", "line 2: a row longer than 1048576 bytes"),
        ),
        b(
            "only blank rows",
            Bytes(lines(&[H, ",,", " , ,", ""])),
            File("no_rows", "line 1: the file has a header row but no rows"),
        ),
        b("only blank lines", bytes(b"\n\r\n\n"), File("empty_file", "the file is empty")),
        b(
            "a very long line without a newline",
            Bytes("z".repeat(3 << 20).into_bytes()),
            File("field_too_large", "line 1, column 1"),
        ),
        b("a directory", Dir, File("io", "the file cannot be read")),
        b("a missing file", Missing, File("io", "No such file")),
        b(
            "trailing garbage after a quoted field",
            Bytes(lines(&[H, "Ada,Lovelace,ada@example.org", "\"Bo\"xyz,Smith,bo@example.org"])),
            File("text_after_quote", "line 3, column 1: text after the closing quote"),
        ),
        b(
            "UTF-8 cut short",
            Bytes([lines(&[H]), b"Ada,L,\xC3".to_vec()].concat()),
            File("not_utf8", "line 2: byte 0xC3"),
        ),
        b(
            "two columns feeding one field",
            Bytes(lines(&["Work Email,workEmail", "a@example.org,b@example.org"])),
            File("duplicate_field", "line 1, column 2: the field workEmail is already read from column 1"),
        ),
        Bad {
            name: "a legacy key missing",
            input: Bytes(lines(&["Contact Id,Contact First Name", "1,Ada"])),
            args: &["--layout", "legacy"],
            want: File("missing_column", "line 1: the column 'Contact Last Name' is required"),
        },
        Bad {
            name: "a column the profile does not map",
            input: Bytes(lines(&["First Name,Last Name,Mail,Shoe Size", "Ada,Lovelace,ada@example.org,9"])),
            args: &["--profile", "mapped"],
            want: File("unknown_header", "line 1, column 4: unknown header 'Shoe Size'"),
        },
        Bad {
            name: "a column the profile maps",
            input: Bytes(lines(&["First Name,Last Name,Mail", "Ada,Lovelace,ada@", "Bo,Smith,bo@example.org"])),
            args: &["--profile", "mapped"],
            want: Rows(1, &[(2, "incomplete_email")]),
        },
        b(
            "phones that are only an extension",
            Bytes(lines(&[
                "First Name,Last Name,Work Phone,Cell Phone",
                "Ada,Lovelace,x123,",
                "Bo,Smith,,ext. 7",
                "Cy,Doe,(212) 736-5000 x12,",
            ])),
            Rows(1, &[(2, "unparseable_phone"), (3, "unparseable_phone")]),
        ),
        b(
            "an external ID over 255 characters",
            Bytes(lines(&["External ID,First Name,Last Name", &format!("{long_id},Ada,Lovelace"), "E-1,Bo,Smith"])),
            Rows(1, &[(2, "field_too_long")]),
        ),
        b(
            "surveyOptOut not true or false",
            Bytes(lines(&["First Name,Last Name,surveyOptOut", "Ada,Lovelace,maybe", "Bo,Smith,true"])),
            Rows(1, &[(2, "invalid_value")]),
        ),
        b(
            "a custom field of the wrong type",
            Bytes(lines(&[
                "First Name,Last Name,contactType,custom.score",
                "Ada,Lovelace,Customer,lots",
                "Bo,Smith,Customer,7",
            ])),
            Rows(1, &[(2, "invalid_custom_field")]),
        ),
        b(
            "an unknown contact type",
            Bytes(lines(&["First Name,Last Name,contactType", "Ada,Lovelace,Alien", "Bo,Smith,customer"])),
            Rows(1, &[(2, "unknown_contact_type")]),
        ),
        b(
            "a row with nothing to import",
            Bytes(lines(&["First Name,Last Name,Reason", ",,old reason", "Bo,Smith,"])),
            Rows(1, &[(2, "nothing_to_import")]),
        ),
        b(
            "a new contact without a last name",
            Bytes(lines(&[H, "Ada,,ada.no.last.name@example.org", "Bo,Smith,"])),
            Rows(1, &[(2, "missing_last_name")]),
        ),
    ]
}

/// Run one case of the table in `ctx` (a unit with a contact, a job, the
/// contact type Customer and the profile `mapped`).
fn check_bad_file(ctx: &Ctx, case: &Bad) {
    let name = case.name;
    let path = match &case.input {
        Input::Bytes(b) => ctx.write(&format!("{}.csv", name.replace([' ', ','], "-")), b),
        Input::Dir => {
            let p = ctx.path("a-folder.csv");
            std::fs::create_dir_all(&p).expect("a folder");
            p.to_str().expect("UTF-8").to_string()
        }
        Input::Missing => ctx.path("not-there.csv").to_str().expect("UTF-8").to_string(),
    };
    let before = ctx.dump();
    let mut args = vec!["contacts", "import", &path, "--quiet", "--json"];
    args.extend(case.args);
    let (code, out, err) = ctx.run(&args);
    match &case.want {
        Want::File(code_text, text) => {
            assert_eq!(code, 2, "{name}: stdout {out} stderr {err}");
            assert!(err.contains(&format!("({code_text})")), "{name}: '{err}' lacks the code {code_text}");
            assert!(err.contains(text), "{name}: '{err}' lacks '{text}'");
            assert!(err.contains(&path), "{name}: '{err}' does not name the file");
            assert!(err.len() < 1_000, "{name}: a message, not a dump: {} bytes", err.len());
            assert_eq!(ctx.dump(), before, "{name}: nothing is written, no job either");
        }
        Want::Rows(imported, rejected) => {
            assert_eq!(code, 0, "{name}: stdout {out} stderr {err}");
            let log: Json = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
            assert_eq!(entries(&log), owned(rejected), "{name}: {log}");
            assert_eq!(
                (&log["status"], &log["imported"]),
                (&Json::from("completed"), &Json::from(*imported)),
                "{name}: {log}"
            );
        }
    }
}

/// A unit ready for the table.
fn bad_files_unit(b: Backend) -> Ctx {
    let ctx = Ctx::new(b, "bad-files");
    let seed = ctx.write("seed.csv", "First Name,Last Name,Work Email\nSeed,Contact,seed@example.org\n");
    ctx.import(&seed, &[]);
    assert_eq!(ctx.run(&["contacts", "types", "add", "Customer", "--field", "score:number"]).0, 0);
    assert_eq!(ctx.run(&["contacts", "profiles", "add", "mapped", "--map", "Mail=workEmail"]).0, 0);
    ctx
}

#[test]
fn at_least_thirty_kinds_of_bad_file_end_in_a_clear_refusal_or_row_entries_on_sqlite() {
    let ctx = bad_files_unit(Backend::Sqlite);
    let cases = bad_files();
    assert!(cases.len() >= 30, "{} kinds", cases.len());
    for case in &cases {
        check_bad_file(&ctx, case);
    }
    // A profile mapping a column to no field is refused, and not saved.
    let (code, _, err) = ctx.run(&["contacts", "profiles", "add", "shoes", "--map", "Shoe Size=shoeSize"]);
    assert!(code == 2 && err.contains("'shoeSize' is not a field") && err.contains("unknown_field"), "{code}: {err}");
    assert_eq!(ctx.run(&["contacts", "profiles", "show", "shoes"]).0, 1);
}

#[test]
fn representative_bad_files_end_the_same_way_on_postgres() {
    let ctx = bad_files_unit(Backend::Postgres);
    let picked =
        ["Latin-1 bytes", "unterminated quote", "duplicate headers", "ragged rows", "a custom field of the wrong type"];
    let cases: Vec<Bad> = bad_files().into_iter().filter(|c| picked.contains(&c.name)).collect();
    assert_eq!(cases.len(), picked.len());
    for case in &cases {
        check_bad_file(&ctx, case);
    }
}
