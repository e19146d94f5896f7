//! Every rule of `contacts.md` §4, through the store and the actions, on an
//! SQLite file and on PostgreSQL (127.0.0.1:5432, database `test`; the
//! tests fail when it cannot be reached). Each test works in a business
//! unit of its own.

use super::import::{ImportReport, import_file};
use super::{AddressBookStore, StoredRecipient, store_of};
use crate::addressbook::{Field, Status, Statuses};
use crate::catalog::Catalog;
use crate::engine::{Principal, RunOptions, RunReport, Runtime};
use serde_json::{Value as Json, json};
use std::sync::Arc;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const NOW: &str = "2026-03-01T00:00:00Z";

fn unique_unit() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("abook-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Two tests of `$check` (an async fn of a store URL): one on an SQLite
/// file of its own, one on PostgreSQL.
macro_rules! on_both_backends {
    ($check:ident => sqlite: $sqlite:ident, postgres: $postgres:ident $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let dir = tempfile::tempdir().expect("temp dir");
            $check(dir.path().join("a.db").to_str().expect("UTF-8")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            $check(PG_URL).await;
        }
    };
}

/// A runtime in a unit of its own on `url`, its address book and unit id,
/// and a directory for files.
struct Book {
    rt: Runtime,
    store: Arc<dyn AddressBookStore>,
    unit: i64,
    dir: tempfile::TempDir,
    url: String,
}

impl Book {
    async fn open(url: &str) -> Book {
        let rt = Runtime::builder().db(url).business_unit(unique_unit()).build();
        let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e} (is PostgreSQL running?)"));
        let book = store_of(&store).expect("SQLite and PostgreSQL serve the address book");
        let unit = rt.unit_id().await.expect("unit");
        Book { rt, store: book, unit, dir: tempfile::tempdir().expect("temp dir"), url: url.to_string() }
    }

    fn file(&self, lines: &[&str]) -> std::path::PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let path = self.dir.path().join(format!("book{}.csv", N.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&path, lines.join("\n") + "\n").expect("write file");
        path
    }

    /// Import `lines` as import `name` through the library, in batches of
    /// 2 lines (so that batches meet the rules too).
    async fn import(&self, name: &str, lines: &[&str]) -> ImportReport {
        let path = self.file(lines);
        import_file(self.store.as_ref(), self.unit, &path, name, NOW, 2, &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("{}: import: {e}", self.url))
    }

    async fn get(&self, email: &str) -> Option<StoredRecipient> {
        self.store.recipient(self.unit, email).await.expect("read")
    }

    async fn all(&self) -> Vec<StoredRecipient> {
        self.store.recipients(self.unit, None, "", 1000).await.expect("list")
    }

    /// Run one action (every branch to END) for `principal`: the branch it
    /// took and the report.
    async fn run(&self, action: &str, props: Json, principal: Option<Principal>) -> (String, RunReport) {
        let m = Catalog::builtin().get(action, 1).cloned().expect("a built-in action");
        let branches: serde_json::Map<String, Json> = m.branches.iter().map(|b| (b.name.clone(), json!("e"))).collect();
        let mut a = props.as_object().cloned().unwrap_or_default();
        a.insert("id".into(), json!("s0"));
        a.insert("action".into(), json!(action));
        a.insert("branches".into(), Json::Object(branches));
        let script = json!({"name": "abook", "actions": [
            {"id": "b", "action": "BEGIN", "next": "s0"}, Json::Object(a), {"id": "e", "action": "END"}]});
        let program =
            self.rt.load_script(crate::script::load_text(&script.to_string(), None).expect("parses")).expect("loads");
        let mut opts = RunOptions::new().at(NOW.parse().expect("time"));
        if let Some(p) = principal {
            opts = opts.principal(p);
        }
        let r = self.rt.run(&program, opts).await.expect("runs");
        let branch = r.path.get(1).map(|p| p.branch.to_string()).unwrap_or_default();
        (branch, r)
    }
}

fn var(r: &RunReport, path: &str) -> String {
    let mut parts = path.split('.');
    let mut v = r.var(parts.next().unwrap_or_default()).cloned().unwrap_or(crate::value::Value::Null);
    for p in parts {
        v = match p.parse::<i64>() {
            Ok(i) => v.index(i),
            Err(_) => v.member(p).cloned(),
        }
        .unwrap_or(crate::value::Value::Null);
    }
    v.to_text().to_string()
}

/// The reason codes of the refused lines, by line.
fn refused(r: &ImportReport) -> Vec<(u64, &'static str)> {
    r.entries.iter().map(|e| (e.line, e.reason)).collect()
}

const ADA: &str = "Mme,Ada,Lovelace,ada@example.org,Analyse,0110203040,12 rue des Lilas,Paris";

/// A complete email of `n` characters (domain labels stay under 64).
fn email_of(n: usize) -> String {
    let mut s = "a".repeat(60) + "@";
    while n - s.len() > 53 {
        s.push_str(&"b".repeat(49));
        s.push('.');
    }
    let rest = n - s.len() - 3;
    s.push_str(&"c".repeat(rest));
    s + ".fr"
}

/// Each text field at its maximum length goes in whole; one character more
/// refuses the line with that field's reason.
async fn lengths(url: &str) {
    let book = Book::open(url).await;
    let mut lines = Vec::new();
    for (i, field) in Field::ALL.into_iter().enumerate().skip(1) {
        for n in [field.max_chars(), field.max_chars() + 1] {
            let mut f: Vec<String> = ["M.", "", "", "", "", "", "", ""].map(String::from).to_vec();
            f[3] = format!("len{i}-{n}@example.org");
            f[i] = match field {
                Field::Email => email_of(n),
                Field::Phone => "7".repeat(n),
                _ => "é".repeat(n),
            };
            lines.push(f.join(","));
        }
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let r = book.import("lengths", &refs).await;
    let want: Vec<(u64, &str)> = Field::ALL
        .into_iter()
        .skip(1)
        .enumerate()
        .map(|(k, f)| (2 * k as u64 + 2, crate::addressbook::Reason::TooLong(f).code()))
        .collect();
    assert_eq!(refused(&r), want, "{url}");
    assert_eq!((r.created, r.rejected), (7, 7), "{url}");
    let stored = book.get("len1-50@example.org").await.expect("first name at 50");
    assert_eq!(stored.recipient.first_name.chars().count(), 50, "{url}: stored whole");
    assert_eq!(book.get(&email_of(255)).await.expect("email at 255").recipient.email, email_of(255));
    assert_eq!(book.get("len7-100@example.org").await.expect("city at 100").recipient.city, "é".repeat(100));
    assert!(book.get("len2-21@example.org").await.is_none(), "{url}: a refused line writes nothing");
}

on_both_backends!(lengths =>
    sqlite: each_fields_maximum_length_at_the_limit_and_one_over_on_sqlite,
    postgres: each_fields_maximum_length_at_the_limit_and_one_over_on_postgres,
);

/// `M.`, `Mme`, `Mlle` are kept; blank is `M.`; anything else is refused.
async fn civilities(url: &str) {
    let book = Book::open(url).await;
    let r = book
        .import(
            "civ",
            &[
                "M.,Jean,A,m@example.org,,,,",
                "Mme,Jeanne,B,mme@example.org,,,,",
                "Mlle,Julie,C,mlle@example.org,,,,",
                ",Dominique,D,blank@example.org,,,,",
                "Mr,John,E,mr@example.org,,,,",
                "Madame,Anne,F,madame@example.org,,,,",
            ],
        )
        .await;
    assert_eq!(refused(&r), [(5, "invalid-civility"), (6, "invalid-civility")], "{url}");
    for (email, want) in [("m", "M."), ("mme", "Mme"), ("mlle", "Mlle"), ("blank", "M.")] {
        let got = book.get(&format!("{email}@example.org")).await.expect("stored");
        assert_eq!(got.recipient.civility.as_str(), want, "{url}: {email}");
    }
    assert!(book.get("mr@example.org").await.is_none(), "{url}");
}

on_both_backends!(civilities =>
    sqlite: each_civility_the_default_and_a_value_outside_them_on_sqlite,
    postgres: each_civility_the_default_and_a_value_outside_them_on_postgres,
);

/// National and international phones go in as written; a letter, a plus
/// or a space refuses the line.
async fn phones(url: &str) {
    let book = Book::open(url).await;
    let r = book
        .import(
            "phones",
            &[
                "M.,N,A,national@example.org,,0110203040,,",
                "M.,I,B,international@example.org,,0033110203040,,",
                "M.,L,C,letter@example.org,,01102O3040,,",
                "M.,P,D,plus@example.org,,+33110203040,,",
                "M.,S,E,space@example.org,,01 10 20 30 40,,",
            ],
        )
        .await;
    assert_eq!(refused(&r), [(3, "invalid-phone"), (4, "invalid-phone"), (5, "invalid-phone")], "{url}");
    assert_eq!(book.get("national@example.org").await.expect("in").recipient.phone, "0110203040");
    assert_eq!(book.get("international@example.org").await.expect("in").recipient.phone, "0033110203040");
    assert!(book.get("letter@example.org").await.is_none(), "{url}");
}

on_both_backends!(phones =>
    sqlite: national_and_international_phones_go_in_and_a_letter_refuses_the_line_on_sqlite,
    postgres: national_and_international_phones_go_in_and_a_letter_refuses_the_line_on_postgres,
);

/// More or fewer than 8 fields refuse the line with its number (a quoted
/// comma too); a missing email refuses it; the other lines go in.
async fn shape_and_email(url: &str) {
    let book = Book::open(url).await;
    let r = book
        .import(
            "shape",
            &[
                ADA,
                "M.,Jean,Dupont,jean@example.org,Ventes,0110203040,1 rue,Lyon,extra",
                "M.,Jean,Dupont,jean@example.org,Ventes,0110203040,Lyon",
                "M.,Jean,\"Du,pont\",jean@example.org,Ventes,0110203040,1 rue,Lyon",
                "M.,Jean,Dupont,,Ventes,0110203040,1 rue,Lyon",
                "M.,Jean,Dupont,jean@,Ventes,0110203040,1 rue,Lyon",
                "M.,Paul,Durand,paul@example.org,,,,",
            ],
        )
        .await;
    assert_eq!(
        refused(&r),
        [(2, "field-count"), (3, "field-count"), (4, "field-count"), (5, "missing-email"), (6, "invalid-email")],
        "{url}"
    );
    assert!(r.entries[0].detail.contains("9 fields"), "{url}: {:?}", r.entries[0]);
    assert_eq!((r.lines, r.created, r.updated, r.rejected), (7, 2, 0, 5), "{url}");
    let emails: Vec<String> = book.all().await.into_iter().map(|s| s.recipient.email).collect();
    assert_eq!(emails, ["ada@example.org", "paul@example.org"], "{url}");
}

on_both_backends!(shape_and_email =>
    sqlite: a_comma_too_many_too_few_fields_and_a_missing_email_refuse_their_lines_on_sqlite,
    postgres: a_comma_too_many_too_few_fields_and_a_missing_email_refuse_their_lines_on_postgres,
);

/// A repeated email later in the same file overwrites the earlier line
/// (case ignored, stored as the later line writes it), in one batch and
/// across batches.
async fn repeated_in_file(url: &str) {
    let book = Book::open(url).await;
    let r = book
        .import(
            "repeats",
            &[
                "M.,First,Line,Dup@Example.org,,,,",
                "Mme,Second,Line,dup@example.org,,0110203040,,",
                "M.,Other,One,other@example.org,,,,",
                "Mlle,Third,Line,DUP@EXAMPLE.ORG,Achats,,,Nice",
            ],
        )
        .await;
    assert_eq!((r.created, r.updated, r.rejected), (2, 2, 0), "{url}");
    let all = book.all().await;
    assert_eq!(all.len(), 2, "{url}: one recipient per email");
    let dup = book.get("dup@example.org").await.expect("stored");
    assert_eq!(dup.recipient.email, "DUP@EXAMPLE.ORG", "{url}: as the last line writes it");
    assert_eq!(
        (dup.recipient.first_name.as_str(), dup.recipient.city.as_str(), dup.recipient.phone.as_str()),
        ("Third", "Nice", ""),
        "{url}: the last line's data, whole"
    );
    // In one batch too (PostgreSQL's upsert may not touch a row twice).
    let path = book.file(&["M.,A,X,same@example.org,,,,", "M.,B,Y,Same@example.org,,,,"]);
    let r = import_file(book.store.as_ref(), book.unit, &path, "onebatch", NOW, 100, &mut |_| {}).await.expect("ok");
    assert_eq!((r.created, r.updated), (1, 1), "{url}");
    assert_eq!(book.get("same@example.org").await.expect("in").recipient.first_name, "B", "{url}");
}

on_both_backends!(repeated_in_file =>
    sqlite: a_repeated_email_in_one_file_overwrites_the_earlier_line_on_sqlite,
    postgres: a_repeated_email_in_one_file_overwrites_the_earlier_line_on_postgres,
);

/// New recipients start Expert and Copy and show their import; an existing
/// email is overwritten with the file's data and the new import's name,
/// its statuses untouched; statuses change per recipient.
async fn overwrite_and_statuses(url: &str) {
    let book = Book::open(url).await;
    let r = book.import("first", &[ADA, "M.,Jean,Dupont,jean@example.org,,,,"]).await;
    assert_eq!(r.created, 2, "{url}");
    let ada = book.get("ADA@example.org").await.expect("stored");
    assert_eq!(ada.statuses, Statuses::NEW, "{url}: Expert and Copy");
    assert_eq!(ada.import_name.as_deref(), Some("first"), "{url}");
    let transfer = Statuses { transfer: true, ..Statuses::default() };
    assert!(book.store.set_statuses(book.unit, "Ada@Example.ORG", transfer, NOW).await.expect("set"));
    assert!(!book.store.set_statuses(book.unit, "nobody@example.org", transfer, NOW).await.expect("set"));
    let r = book.import("second", &["Mlle,Ada,King,Ada@Example.org,Recherche,,,Londres"]).await;
    assert_eq!((r.created, r.updated), (0, 1), "{url}");
    let ada = book.get("ada@example.org").await.expect("stored");
    assert_eq!(ada.recipient.to_line(), "Mlle,Ada,King,Ada@Example.org,Recherche,,,Londres", "{url}: the file's data");
    assert_eq!(ada.statuses, transfer, "{url}: an overwrite never changes statuses");
    assert_eq!(ada.import_name.as_deref(), Some("second"), "{url}: the import that last wrote it");
    let jean = book.get("jean@example.org").await.expect("stored");
    assert_eq!((jean.import_name.as_deref(), jean.statuses), (Some("first"), Statuses::NEW), "{url}");
    assert_eq!(book_emails(&book.store, book.unit, Some(Status::Transfer)).await, ["Ada@Example.org"], "{url}");
    assert_eq!(book_emails(&book.store, book.unit, Some(Status::Expert)).await, ["jean@example.org"], "{url}");
}

async fn book_emails(store: &Arc<dyn AddressBookStore>, unit: i64, s: Option<Status>) -> Vec<String> {
    store.recipients(unit, s, "", 100).await.expect("list").into_iter().map(|r| r.recipient.email).collect()
}

on_both_backends!(overwrite_and_statuses =>
    sqlite: an_existing_email_is_overwritten_and_statuses_are_set_and_kept_on_sqlite,
    postgres: an_existing_email_is_overwritten_and_statuses_are_set_and_kept_on_postgres,
);

/// Through the actions: a principal without `addressBook:recipient:import`
/// takes OnError naming it and nothing is written; a coordinator imports;
/// the header is skipped with a note; a name with a space and a file that
/// is not UTF-8 are refused with nothing written; GETRECIPIENTS and
/// SETRECIPIENTSTATUS list and change statuses.
async fn through_actions(url: &str) {
    use crate::store::Role;
    let book = Book::open(url).await;
    let header = "Civilité,Prénom,Nom,E-mail,Service,Téléphone,Adresse,Ville";
    let file = book.file(&[header, ADA, "M.,Jean,Dupont,jean@example.org,,01X,,", "M.,Paul,D,paul@example.org,,,,"]);
    let file = file.to_str().expect("UTF-8");
    let props = json!({"File": file, "Name": "march"});
    let agent = Principal::new(Role::Agent.permissions()).expect("agent");
    let (branch, r) = book.run("IMPORTADDRESSBOOK", props.clone(), Some(agent)).await;
    assert_eq!(branch, "OnError", "{url}");
    assert!(var(&r, "_ERR").contains("addressBook:recipient:import"), "{url}: {}", var(&r, "_ERR"));
    assert!(book.all().await.is_empty(), "{url}: nothing written");

    let coordinator = Principal::new(Role::Coordinator.permissions()).expect("coordinator");
    let (branch, r) = book.run("IMPORTADDRESSBOOK", props, Some(coordinator)).await;
    assert_eq!(branch, "Default", "{url}: {}", var(&r, "_ERR"));
    assert_eq!(
        (var(&r, "addressBookCreated"), var(&r, "addressBookRejected"), var(&r, "addressBookImported")),
        ("2".into(), "1".into(), "2".into()),
        "{url}"
    );
    assert_eq!(var(&r, "addressBookLog.entries.1.line"), "3", "{url}");
    assert_eq!(var(&r, "addressBookLog.entries.1.reason"), "invalid-phone", "{url}");
    assert_eq!(var(&r, "addressBookLog.headerSkipped"), "True", "{url}");
    assert_eq!(var(&r, "addressBookLog.notes.1"), "line 1 is a header row: skipped", "{url}");

    let (branch, _) = book.run("IMPORTADDRESSBOOK", json!({"File": file, "Name": "march 2026"}), None).await;
    assert_eq!(branch, "InvalidName", "{url}");
    let bad = book.dir.path().join("latin1.csv");
    std::fs::write(&bad, b"M.,Jean,Dupont,new@example.org,,,,\nM.,J\xe9r\xf4me,X,j@example.org,,,,\n").expect("write");
    let (branch, r) =
        book.run("IMPORTADDRESSBOOK", json!({"File": bad.to_str().expect("UTF-8"), "Name": "latin"}), None).await;
    assert_eq!(branch, "FileRejected", "{url}");
    assert_eq!(var(&r, "addressBookLog.error"), "not-utf8", "{url}");
    assert!(var(&r, "addressBookLog.detail").contains(":2: not UTF-8"), "{url}: {}", var(&r, "addressBookLog.detail"));
    assert!(book.get("new@example.org").await.is_none(), "{url}: nothing of a refused file");
    let (branch, _) = book.run("IMPORTADDRESSBOOK", json!({"File": "", "Name": "x"}), None).await;
    assert_eq!(branch, "MissingRequiredField", "{url}");

    let (branch, r) =
        book.run("SETRECIPIENTSTATUS", json!({"Email": "PAUL@example.org", "Statuses": "Transfer,Copie"}), None).await;
    assert_eq!(branch, "Default", "{url}: {}", var(&r, "_ERR"));
    assert_eq!(var(&r, "recipient.statuses"), r#"["Copy","Transfer"]"#, "{url}");
    let (branch, _) =
        book.run("SETRECIPIENTSTATUS", json!({"Email": "x@example.org", "Statuses": "Expert"}), None).await;
    assert_eq!(branch, "NotFound", "{url}");
    let (branch, _) =
        book.run("SETRECIPIENTSTATUS", json!({"Email": "paul@example.org", "Statuses": "Boss"}), None).await;
    assert_eq!(branch, "OnError", "{url}");
    let (branch, r) = book.run("GETRECIPIENTS", json!({"Status": "Transfer"}), None).await;
    assert_eq!((branch.as_str(), var(&r, "recipientCount")), ("Default", "1".into()), "{url}");
    assert_eq!(var(&r, "recipients.1.email"), "paul@example.org", "{url}");
    assert_eq!(var(&r, "recipients.1.importName"), "march", "{url}");
    let (branch, r) = book.run("GETRECIPIENTS", json!({}), None).await;
    assert_eq!((branch.as_str(), var(&r, "recipientCount")), ("Default", "2".into()), "{url}");

    // Another unit sees none of it.
    let other = Book::open(url).await;
    let (branch, _) = other.run("GETRECIPIENTS", json!({}), None).await;
    assert_eq!(branch, "NotFound", "{url}");
    let (branch, _) = other.run("SETRECIPIENTSTATUS", json!({"Email": "paul@example.org"}), None).await;
    assert_eq!(branch, "NotFound", "{url}");
    assert_eq!(book.get("paul@example.org").await.expect("kept").statuses.names(), ["Copy", "Transfer"]);
}

on_both_backends!(through_actions =>
    sqlite: the_actions_import_list_and_set_statuses_and_a_non_coordinator_writes_nothing_on_sqlite,
    postgres: the_actions_import_list_and_set_statuses_and_a_non_coordinator_writes_nothing_on_postgres,
);
