//! An import survives being killed (`contacts.md` §3, "an import either
//! completes or can be resumed after a crash without duplicating
//! contacts"): a 200,000-row file is imported once without interruption
//! (the reference), and once more into another unit by a process that is
//! SIGKILLed ten times at random moments (mid-batch, mid-transaction,
//! during a resume's file check) and resumed after each kill with
//! `contacts resume ID`. The two units' logical dumps — every contact's
//! fields, emails, phones, external IDs, organization (by external ID and
//! name) and notes, ids and timestamps aside — must be equal, and so must
//! the jobs' counts and logs. On SQLite and PostgreSQL, with the real
//! binary.
//!
//! The file has what makes a resume go wrong if a batch were applied twice
//! or skipped: rows repeated verbatim, rows that update earlier contacts
//! by one of their identifiers, rows that give one contact another's phone
//! so that a later row matching that phone merges the two (merge all),
//! organizations renamed part-way, and rows that are refused. The store
//! holds a few contacts with notes before the import, in pairs that the
//! import merges, so notes move too.

mod common;

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROWS: usize = 200_000;
const KILLS: usize = 10;
const SEED: u64 = 0x5eed_cafe;
const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const HEADER: &str = "External ID,First Name,Last Name,Title,Work Email,Personal Email,Other Email,Work Phone,\
Cell Phone,Home Phone,Other Phone,City,External Organization Name,External Organization External ID";

/// Phone number `k` (of millions of valid NANP ones) in a written form.
fn phone(k: usize, form: usize) -> String {
    const NPAS: [u32; 8] = [212, 312, 415, 602, 303, 617, 713, 206];
    let (npa, rest) = (NPAS[k % 8], k / 8);
    let nxx = 200 + (rest / 10_000) % 800;
    // N11 exchanges are service codes, not numbers.
    let nxx = if nxx % 100 == 11 { nxx + 1 } else { nxx };
    let line = rest % 10_000;
    match form % 3 {
        0 => format!("({npa}) {nxx}-{line:04}"),
        1 => format!("+1 {npa} {nxx} {line:04}"),
        _ => format!("{npa}.{nxx}.{line:04}"),
    }
}

/// One person's cells: (external ID, first, last, title, 3 emails, 4 phones, city, org name, org ID).
fn person(p: usize, rng: &mut fastrand::Rng) -> Vec<String> {
    let org = rng.usize(..3_000);
    let emails = rng.usize(2..=3);
    let phones = rng.usize(2..=4);
    let mut cells = vec![
        if rng.bool() { format!("X{p}") } else { String::new() },
        format!("First{p}"),
        format!("Last{}", p % 40_000),
        ["Dr", "Ms", "Mr", ""][rng.usize(..4)].to_string(),
        format!("w{p}@work.example.com"),
        format!("P{p}@Home.example.org"),
        if emails == 3 { format!("o{p}@other.example.net") } else { String::new() },
    ];
    for i in 0..4 {
        cells.push(if i < phones { phone(p * 4 + i, rng.usize(..3)) } else { String::new() });
    }
    cells.push(["Paris", "Austin", "", "Oslo"][rng.usize(..4)].to_string());
    let name = if rng.usize(..50) == 0 { format!("Org {org} Renamed") } else { format!("Org {org}") };
    cells.push(name);
    cells.push(format!("ORG{org}"));
    cells
}

fn line(cells: &[String]) -> String {
    cells.iter().map(|c| if c.contains(',') { format!("\"{c}\"") } else { c.clone() }).collect::<Vec<_>>().join(",")
}

/// The file: `ROWS` data rows, deterministic.
fn write_file(path: &Path) {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut out = String::with_capacity(ROWS * 200);
    out.push_str(HEADER);
    out.push('\n');
    let mut people: Vec<Vec<String>> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    // Rows that merge two contacts a link row joined, put in later.
    let mut merges: Vec<String> = Vec::new();
    for _ in 0..ROWS {
        let roll = rng.usize(..100);
        let cells = match roll {
            // A row repeated verbatim, or a merge row a link queued.
            0..=4 if !lines.is_empty() => {
                let again = match merges.pop() {
                    Some(m) if rng.bool() => m,
                    Some(m) => {
                        merges.push(m);
                        lines[rng.usize(..lines.len())].clone()
                    }
                    None => lines[rng.usize(..lines.len())].clone(),
                };
                out.push_str(&again);
                out.push('\n');
                continue;
            }
            // An update of an earlier person by one identifier: a new title
            // and work email, matched by the personal email or a phone.
            5..=9 if !people.is_empty() => {
                let p = &people[rng.usize(..people.len())];
                let mut cells = vec![String::new(); 14];
                cells[1] = p[1].clone();
                cells[2] = p[2].clone();
                cells[3] = "Updated".into();
                if rng.bool() {
                    cells[5] = p[5].clone();
                } else {
                    cells[8] = p[8].clone();
                }
                cells[6] = format!("moved{}@other.example.net", rng.u32(..));
                cells
            }
            // A link: person A's work email with person B's cell phone, so
            // A takes B's phone; a later row by that phone alone finds
            // both and merges them.
            10..=12 if people.len() > 2 => {
                let a = &people[rng.usize(..people.len())];
                let b = &people[rng.usize(..people.len())];
                let mut cells = vec![String::new(); 14];
                cells[4] = a[4].clone();
                cells[8] = b[8].clone();
                let mut merge = vec![String::new(); 14];
                merge[1] = format!("Merged{}", rng.u32(..1000));
                merge[8] = b[8].clone();
                merge[11] = "Lyon".into();
                merges.push(line(&merge));
                cells
            }
            // Refused rows: an incomplete email, no last name, an
            // organization named without its external ID, an extension alone.
            13..=14 => {
                let mut cells = person(people.len() + 1_000_000, &mut rng);
                match rng.usize(..4) {
                    0 => cells[4] = "broken@".into(),
                    1 => cells[2] = String::new(),
                    2 => cells[13] = String::new(),
                    _ => cells[8] = "x123".into(),
                }
                cells
            }
            _ => {
                let cells = person(people.len(), &mut rng);
                people.push(cells.clone());
                cells
            }
        };
        let text = line(&cells);
        out.push_str(&text);
        out.push('\n');
        lines.push(text);
    }
    std::fs::write(path, out).expect("write the file");
}

fn prospero(args: &[&str]) -> (i32, String, String) {
    common::prospero(args)
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_prospero"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the prospero binary runs")
}

/// Contacts with notes before the import, in pairs sharing a work email
/// that the file's people 10, 20, ... use: the import merges each pair.
fn seed(db: &str, unit: &str) {
    for p in [10, 20, 30] {
        for (i, first) in ["Early", "Later"].iter().enumerate() {
            let email = format!("workEmail=w{p}@work.example.com");
            let phone = format!("homePhone={}", phone(9_000_000 + p * 2 + i, 0));
            let (code, out, err) = prospero(&[
                "contacts",
                "add",
                "--first-name",
                first,
                "--last-name",
                "Seeded",
                "--set",
                &email,
                "--set",
                &phone,
                "--db",
                db,
                "--unit",
                unit,
                "--json",
            ]);
            assert_eq!(code, 0, "contacts add: {err}");
            let id = serde_json::from_str::<Json>(&out).expect("JSON")["id"].as_i64().expect("an id").to_string();
            let text = format!("note of {first} {p}");
            let (code, _, err) = prospero(&["contacts", "note", &id, &text, "--db", db, "--unit", unit, "--json"]);
            assert_eq!(code, 0, "contacts note: {err}");
        }
    }
}

/// The job of `unit` (the only one): (id, rows_done, status), once it exists.
async fn job_of(url: &str, unit: &str) -> Option<(i64, i64, String)> {
    const SQL: &str = "SELECT j.id, j.rows_done, j.status FROM import_jobs j JOIN business_units b ON b.id = j.unit_id
         WHERE b.name = $1 ORDER BY j.id LIMIT 1";
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL at 127.0.0.1:5432, database `test`");
        let row = sqlx::query_as(SQL).bind(unit).fetch_optional(&pool).await.ok().flatten();
        pool.close().await;
        row
    } else {
        if !Path::new(url).exists() {
            return None;
        }
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{url}")).await.ok()?;
        // The schema may not be there yet.
        let row = sqlx::query_as(SQL).bind(unit).fetch_optional(&pool).await.ok().flatten();
        pool.close().await;
        row
    }
}

/// Every contact of `unit` as one JSON line (generated ids and timestamps
/// aside), sorted; then the unit's organizations.
async fn dump(url: &str, unit: &str) -> Vec<String> {
    const CONTACTS: &str = "SELECT c.id, c.record, c.external_ids, c.first_name, c.last_name, c.first_key, c.last_key,
         o.external_id, o.name FROM contacts c JOIN business_units b ON b.id = c.unit_id
         LEFT JOIN organizations o ON o.id = c.org_id WHERE b.name = $1";
    const EMAILS: &str = "SELECT x.contact_id, x.field, x.email, x.email_key FROM contact_emails x
         JOIN business_units b ON b.id = x.unit_id WHERE b.name = $1";
    const PHONES: &str = "SELECT x.contact_id, x.field, x.display, x.e164, x.extension, x.sms_enabled
         FROM contact_phones x JOIN business_units b ON b.id = x.unit_id WHERE b.name = $1";
    const EXTERNAL_IDS: &str = "SELECT x.contact_id, s.name, x.external_id FROM contact_external_ids x
         JOIN external_sources s ON s.id = x.source_id JOIN business_units b ON b.id = x.unit_id WHERE b.name = $1";
    const NOTES: &str = "SELECT x.contact_id, x.author, x.text FROM contact_notes x
         JOIN business_units b ON b.id = x.unit_id WHERE b.name = $1";
    const ORGS: &str = "SELECT o.external_id, o.name, o.name_key, o.record FROM organizations o
         JOIN business_units b ON b.id = o.unit_id WHERE b.name = $1";
    type ContactCols = (i64, String, String, String, String, String, String, Option<String>, Option<String>);
    type Rows = (
        Vec<ContactCols>,
        Vec<(i64, String, String, String)>,
        Vec<(i64, String, String, Option<String>, Option<String>, i64)>,
        Vec<(i64, String, String)>,
        Vec<(i64, String, String)>,
        Vec<(Option<String>, String, String, String)>,
    );
    macro_rules! read {
        ($pool:expr) => {{
            let p = $pool;
            let rows: Rows = (
                sqlx::query_as(CONTACTS).bind(unit).fetch_all(&p).await.expect("contacts"),
                sqlx::query_as(EMAILS).bind(unit).fetch_all(&p).await.expect("emails"),
                sqlx::query_as(PHONES).bind(unit).fetch_all(&p).await.expect("phones"),
                sqlx::query_as(EXTERNAL_IDS).bind(unit).fetch_all(&p).await.expect("external IDs"),
                sqlx::query_as(NOTES).bind(unit).fetch_all(&p).await.expect("notes"),
                sqlx::query_as(ORGS).bind(unit).fetch_all(&p).await.expect("organizations"),
            );
            p.close().await;
            rows
        }};
    }
    let (contacts, emails, phones, external_ids, notes, orgs) = if url.starts_with("postgres") {
        read!(sqlx::PgPool::connect(url).await.expect("PostgreSQL at 127.0.0.1:5432, database `test`"))
    } else {
        read!(sqlx::SqlitePool::connect(&format!("sqlite://{url}")).await.expect("the SQLite file"))
    };
    let mut by_id: BTreeMap<i64, BTreeMap<&str, Vec<Json>>> = BTreeMap::new();
    let mut add = |id: i64, what: &'static str, v: Json| by_id.entry(id).or_default().entry(what).or_default().push(v);
    for (id, field, email, key) in emails {
        add(id, "emails", json!([field, email, key]));
    }
    for (id, field, display, e164, extension, sms) in phones {
        add(id, "phones", json!([field, display, e164, extension, sms]));
    }
    for (id, source, external_id) in external_ids {
        add(id, "externalIds", json!([source, external_id]));
    }
    for (id, author, text) in notes {
        add(id, "notes", json!([author, text]));
    }
    let mut out: Vec<String> = contacts
        .into_iter()
        .map(|(id, record, ids, first, last, first_key, last_key, org_id, org_name)| {
            let mut record: Json = serde_json::from_str(&record).expect("a JSON record");
            let mut ids: Vec<Json> = serde_json::from_str::<Vec<Json>>(&ids).expect("JSON external IDs");
            ids.sort_by_key(|v| v.to_string());
            if let Some(o) = record.as_object_mut() {
                o.retain(|k, _| k != "createDate" && k != "modifyDate");
            }
            let mut links = by_id.remove(&id).unwrap_or_default();
            for v in links.values_mut() {
                v.sort_by_key(|j| j.to_string());
            }
            json!({"record": record, "externalIdsColumn": ids, "names": [first, last, first_key, last_key],
                   "organization": [org_id, org_name], "links": links})
            .to_string()
        })
        .collect();
    assert!(by_id.is_empty(), "rows linked to no contact of the unit: {:?}", by_id.keys().take(5).collect::<Vec<_>>());
    out.sort();
    let mut orgs: Vec<String> = orgs.into_iter().map(|o| json!([o.0, o.1, o.2, o.3]).to_string()).collect();
    orgs.sort();
    out.extend(orgs);
    out
}

/// A job's counts and log, as `contacts jobs ID --json` prints them
/// (ids, times, the file's name aside).
fn job_report(db: &str, unit: &str, id: i64) -> Json {
    let (code, out, err) = prospero(&["contacts", "jobs", &id.to_string(), "--json", "--db", db, "--unit", unit]);
    assert_eq!(code, 0, "contacts jobs: {err}");
    let mut v: Json = serde_json::from_str(&out).expect("JSON");
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "createdAt", "modifiedAt", "fileName"] {
            o.remove(k);
        }
    }
    v
}

/// Kill the import running as `child` at a random moment: once the job
/// has committed `threshold` rows (then after a random delay, so inside a
/// batch), or after a random delay alone (which may fall in a resume's
/// file check). Returns whether the process was killed (it may have
/// finished first).
async fn kill_at(child: &mut Child, db: &str, unit: &str, threshold: Option<i64>, rng: &mut fastrand::Rng) -> bool {
    if let Some(t) = threshold {
        loop {
            if child.try_wait().expect("wait").is_some() {
                return false;
            }
            if job_of(db, unit).await.is_some_and(|(_, done, _)| done >= t) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(rng.u64(..if threshold.is_some() { 800 } else { 3_000 }))).await;
    if child.try_wait().expect("wait").is_some() {
        return false;
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    true
}

// `kill_at` waits for every child it kills or sees exit; clippy cannot see it.
#[allow(clippy::zombie_processes)]
async fn crash_and_resume(db: &str, tag: &str) {
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("contacts.csv");
    write_file(&file);
    let file = file.to_str().expect("UTF-8 path");
    let (reference_db, crash_db) = if db.starts_with("postgres") {
        (db.to_string(), db.to_string())
    } else {
        let p = |n: &str| dir.path().join(n).to_str().expect("UTF-8 path").to_string();
        (p("reference.db"), p("crash.db"))
    };
    let unique = format!("{tag}-{}-{}", std::process::id(), fastrand::u32(..));
    let (reference_unit, crash_unit) = (format!("ref-{unique}"), format!("crash-{unique}"));
    seed(&reference_db, &reference_unit);
    seed(&crash_db, &crash_unit);

    // The reference import runs meanwhile, in its own unit (or file).
    let reference = spawn(&["contacts", "import", file, "--quiet", "--db", &reference_db, "--unit", &reference_unit]);

    let mut rng = fastrand::Rng::with_seed(SEED ^ 0x1111);
    let mut kills = 0;
    let mut child = spawn(&["contacts", "import", file, "--quiet", "--db", &crash_db, "--unit", &crash_unit]);
    let mut points = Vec::new();
    while kills < KILLS {
        // Thresholds spread over the file; every third kill by time alone.
        let threshold = (kills % 3 != 2 || kills == 0)
            .then(|| ((kills as f64 + rng.f64()) * ROWS as f64 / (KILLS as f64 + 1.0)) as i64);
        if kill_at(&mut child, &crash_db, &crash_unit, threshold, &mut rng).await {
            kills += 1;
            points.push(job_of(&crash_db, &crash_unit).await.map(|j| j.1));
        } else {
            let status = child.wait().expect("exit status");
            // Finished before the kill: nothing left to interrupt.
            assert!(status.success() || status.code() == Some(3), "the import failed: {status}");
            break;
        }
        let (id, _, status) =
            job_of(&crash_db, &crash_unit).await.expect("the job exists after a kill past a threshold");
        assert_ne!(status, "failed", "a killed job is resumable");
        if status == "completed" || kills == KILLS {
            break;
        }
        child = spawn(&["contacts", "resume", &id.to_string(), "--quiet", "--db", &crash_db, "--unit", &crash_unit]);
    }
    let (id, _, status) = job_of(&crash_db, &crash_unit).await.expect("the job");
    if status != "completed" {
        let (code, _, err) =
            prospero(&["contacts", "resume", &id.to_string(), "--quiet", "--db", &crash_db, "--unit", &crash_unit]);
        assert_eq!(code, 0, "the last resume completes: {err}");
    }
    let out = reference.wait_with_output().expect("the reference import");
    assert!(out.status.success(), "reference import: {}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{tag}: {kills} kills, rows done at each: {points:?}");
    assert_eq!(kills, KILLS, "the import was killed {KILLS} times");

    let (reference_job, _, _) = job_of(&reference_db, &reference_unit).await.expect("the reference job");
    let want = job_report(&reference_db, &reference_unit, reference_job);
    let got = job_report(&crash_db, &crash_unit, id);
    assert_eq!(got["status"], "completed");
    for k in ["created", "updated", "notImported", "rejected", "organizationsCreated", "rowsDone", "entries"] {
        assert_eq!(got[k], want[k], "the job's {k} is the uninterrupted job's");
    }
    assert_eq!(want["rowsDone"], ROWS);

    let (want, got) = (dump(&reference_db, &reference_unit).await, dump(&crash_db, &crash_unit).await);
    assert!(want.len() > ROWS / 2, "the reference holds the file's contacts ({} lines)", want.len());
    if want != got {
        let missing: Vec<&String> = want.iter().filter(|l| got.binary_search(l).is_err()).take(3).collect();
        let extra: Vec<&String> = got.iter().filter(|l| want.binary_search(l).is_err()).take(3).collect();
        panic!(
            "the resumed import differs from the uninterrupted one: {} lines against {}; \
             only in the reference: {missing:#?}; only after the crashes: {extra:#?}",
            got.len(),
            want.len()
        );
    }
    eprintln!("{tag}: {} contacts and organizations equal; {:.0?} in all", want.len(), started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_ten_times_and_resumed_equals_an_uninterrupted_one_on_sqlite() {
    crash_and_resume("sqlite-file", "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_ten_times_and_resumed_equals_an_uninterrupted_one_on_postgres() {
    crash_and_resume(PG_URL, "pg").await;
}
