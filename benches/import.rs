//! The bulk CSV import at size (`contacts.md` §3): a file of N rows (each
//! with a name, three emails, four phones and an organization) imported
//! through [`Importer`] into a unit that already holds S contacts,
//! matching by email then phone, merge all — against its anchor, measured
//! in the same run on the same store: a bare insert of the same rows
//! already normalized (contacts, emails, phones, organizations; on SQLite
//! plain prepared statements, one transaction per batch, as the contacts
//! bench's anchor; on PostgreSQL a bare COPY).
//!
//! Every other row of the file matches a stored contact by its work email
//! (so half the rows update, half create) and every 10th names an
//! organization the file named before.
//!
//! Peak memory is the import's alone: the import runs in a child process
//! (this bench binary, run again with `--child`), whose peak resident set
//! the parent reads from the OS (`wait4`); a second child imports a tenth
//! of the file, to show the peak does not grow with the file.
//!
//! Targets (issue 19): at least 25,000 rows/s on SQLite (27× the ~926
//! rows/s of a hosted CRM's import API), no more than 2× the bare insert,
//! peak memory under 256 MB whatever the file size; PostgreSQL figures
//! beside them.
//!
//! Run with `cargo bench --profile fastrel --bench import`. `BENCH_ROWS`
//! sets N on SQLite (default 1,000,000), `BENCH_STORED` S (default
//! 1,000,000); `BENCH_PG_ROWS` and `BENCH_PG_STORED` the same on
//! PostgreSQL (default 100,000 each; `PROSPERO_BENCH_PG=0` skips it,
//! 127.0.0.1:5432 database `test`); `BENCH_BATCH` the import's batch rows.

use prospero::contacts::import::{ImportProfile, Layout, MergeMode};
use prospero::contacts::model::name_key;
use prospero::contacts::{ContactRow, apply_changes};
use prospero::packs::contacts::importer::{BATCH_ROWS, Importer};
use prospero::packs::contacts::{ContactsStore, imports, store_of};
use prospero::store::postgres::copy::CopyWriter;
use serde_json::{Map, Value as Json};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const NOW: &str = "2026-11-21T15:00:00Z";
const HEADER: &str = "First Name,Last Name,Work Email,Personal Email,Other Email,Work Phone,Cell Phone,Home Phone,\
Other Phone,External Organization Name,External Organization External ID";
const MATCH: [&str; 7] =
    ["workEmail", "personalEmail", "otherEmail", "workPhone", "cellPhone", "homePhone", "otherPhone"];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Phone number `k` of 64 million valid NANP ones, in a written form.
fn phone(k: usize) -> String {
    const NPAS: [u32; 8] = [212, 312, 415, 602, 303, 617, 713, 206];
    let (npa, rest) = (NPAS[k % 8], k / 8);
    let nxx = 200 + (rest / 10_000) % 800;
    // N11 exchanges are service codes, not numbers.
    let nxx = if nxx % 100 == 11 { nxx + 1 } else { nxx };
    format!("({npa}) {nxx}-{:04}", rest % 10_000)
}

/// Stored contact `i`: a name, a work email and a cell phone.
fn stored(i: usize) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("firstName".into(), format!("Stored{i}").into());
    m.insert("lastName".into(), format!("Last{}", i % 50_000).into());
    m.insert("workEmail".into(), format!("s{i}@work.example.com").into());
    m.insert("cellPhone".into(), phone(40_000_000 + i).into());
    m
}

/// Row `i` of the file: its cells.
fn row(i: usize, stored_count: usize) -> [String; 11] {
    let work = if i.is_multiple_of(2) && i / 2 < stored_count {
        format!("s{}@work.example.com", i / 2)
    } else {
        format!("w{i}@work.example.com")
    };
    let org = if i % 10 == 9 { i / 2 } else { i };
    [
        format!("First{i}"),
        format!("Last{}", i % 50_000),
        work,
        format!("p{i}@home.example.org"),
        format!("o{i}@other.example.net"),
        phone(i * 4),
        phone(i * 4 + 1),
        phone(i * 4 + 2),
        phone(i * 4 + 3),
        format!("Organization {org}"),
        format!("ORG{org}"),
    ]
}

fn write_file(path: &Path, rows: usize, stored_count: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("file"));
    writeln!(out, "{HEADER}").expect("write");
    for i in 0..rows {
        writeln!(out, "{}", row(i, stored_count).join(",")).expect("write");
    }
    out.flush().expect("flush");
}

fn profile() -> ImportProfile {
    let mut p = ImportProfile::default_for(Layout::New);
    p.name = "bench".into();
    p.match_on = MATCH.iter().map(|s| s.to_string()).collect();
    p.merge_mode = MergeMode::MergeAll;
    p
}

/// `--child URL UNIT FILE`: import FILE into UNIT and print rows and seconds.
fn child(url: &str, unit: &str, file: &str) {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    tokio.block_on(async {
        let rt = prospero::Runtime::builder().db(url).business_unit(unit.to_string()).build();
        let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
        let unit_id = rt.unit_id().await.expect("unit");
        let mut importer = Importer::new(imports::store_of(&store).expect("import store"), unit_id);
        importer.batch_rows = env("BENCH_BATCH", BATCH_ROWS);
        let t = Instant::now();
        let job = importer.start(Path::new(file), &profile(), &mut |_| {}).await.expect("import");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(job.status, imports::JobStatus::Completed);
        println!("{} {} {} {} {secs}", job.rows_done, job.created, job.updated, job.rejected);
        rt.close().await;
    });
}

/// What a child import reported, with its peak resident set (bytes).
struct Imported {
    rows: u64,
    created: u64,
    updated: u64,
    secs: f64,
    peak: u64,
}

/// Run the import of `file` into `unit` in a child process.
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn import_in_child(url: &str, unit: &str, file: &Path) -> Imported {
    let exe = std::env::current_exe().expect("this bench");
    let child = std::process::Command::new(exe)
        .args(["--child", url, unit, file.to_str().expect("UTF-8")])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("child import");
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.expect("stdout");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut out, &mut text).expect("child output");
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped; the pointers are valid.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the child import failed: {text}");
    let f: Vec<&str> = text.split_whitespace().collect();
    let n = |i: usize| f[i].parse::<u64>().expect("a count");
    Imported {
        rows: n(0),
        created: n(1),
        updated: n(2),
        secs: f[4].parse().expect("seconds"),
        peak: usage.ru_maxrss as u64 * 1024,
    }
}

/// The file's rows `from..to`, normalized as the import stores them (the
/// organization by external ID and name beside each).
fn normalized(from: usize, to: usize, stored_count: usize) -> Vec<(ContactRow, String, String)> {
    (from..to)
        .map(|i| {
            let c = row(i, stored_count);
            let mut m = Map::new();
            for (k, v) in ["firstName", "lastName", "workEmail", "personalEmail", "otherEmail"].iter().zip(&c) {
                m.insert(k.to_string(), v.clone().into());
            }
            for (k, v) in ["workPhone", "cellPhone", "homePhone", "otherPhone"].iter().zip(&c[5..9]) {
                m.insert(k.to_string(), v.clone().into());
            }
            let (record, _) = apply_changes(None, &m, None, "US").expect("valid");
            (ContactRow::new(record, None, Vec::new()), c[9].clone(), c[10].clone())
        })
        .collect()
}

const BARE_ORG: &str =
    "INSERT INTO organizations (unit_id, name, name_key, external_id, record, created_at, modified_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id";
const BARE_CONTACT: &str = "INSERT INTO contacts (unit_id, first_name, last_name, first_key, last_key, org_id, record,
     external_ids, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8, $8) RETURNING id";
const BARE_PHONE: &str =
    "INSERT INTO contact_phones (unit_id, contact_id, field, display, e164, extension, sms_enabled)
     VALUES ($1, $2, $3, $4, $5, NULL, 0)";
const BARE_EMAIL: &str =
    "INSERT INTO contact_emails (unit_id, contact_id, field, email, email_key) VALUES ($1, $2, $3, $4, $5)";

fn org_record(name: &str, external_id: &str) -> String {
    serde_json::json!({"name": name, "externalId": external_id}).to_string()
}

/// The bare insert on SQLite: plain prepared statements, one transaction.
async fn bare_sqlite(
    pool: &sqlx::SqlitePool,
    unit: i64,
    rows: &[(ContactRow, String, String)],
    orgs: &mut std::collections::HashMap<String, i64>,
) {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
    for (row, org_name, org_id) in rows {
        let org = match orgs.get(org_id) {
            Some(id) => *id,
            None => {
                let (id,): (i64,) = sqlx::query_as(BARE_ORG)
                    .bind(unit)
                    .bind(org_name)
                    .bind(name_key(org_name))
                    .bind(org_id)
                    .bind(org_record(org_name, org_id))
                    .bind(NOW)
                    .fetch_one(&mut *tx)
                    .await
                    .expect("organization");
                orgs.insert(org_id.clone(), id);
                id
            }
        };
        let r = &row.record;
        let (id,): (i64,) = sqlx::query_as(BARE_CONTACT)
            .bind(unit)
            .bind(&r.first_name)
            .bind(&r.last_name)
            .bind(name_key(&r.first_name))
            .bind(name_key(&r.last_name))
            .bind(org)
            .bind(serde_json::to_string(r).expect("JSON"))
            .bind(NOW)
            .fetch_one(&mut *tx)
            .await
            .expect("contact");
        for (field, p) in &r.phones {
            sqlx::query(BARE_PHONE)
                .bind(unit)
                .bind(id)
                .bind(field)
                .bind(&p.display)
                .bind(p.e164.as_deref())
                .execute(&mut *tx)
                .await
                .expect("phone");
        }
        for (field, key) in &row.email_keys {
            sqlx::query(BARE_EMAIL)
                .bind(unit)
                .bind(id)
                .bind(field)
                .bind(&r.emails[field])
                .bind(key)
                .execute(&mut *tx)
                .await
                .expect("email");
        }
    }
    tx.commit().await.expect("commit");
}

/// The bare COPY on PostgreSQL: ids from the sequences, then one COPY per
/// table, one transaction.
async fn bare_pg(
    pool: &sqlx::PgPool,
    unit: i64,
    rows: &[(ContactRow, String, String)],
    orgs: &mut std::collections::HashMap<String, i64>,
) {
    let mut tx = pool.begin().await.expect("begin");
    let mut new_orgs: Vec<(&str, &str)> = Vec::new();
    for (_, name, external_id) in rows {
        if !orgs.contains_key(external_id) && !new_orgs.iter().any(|o| o.1 == external_id) {
            new_orgs.push((name, external_id));
        }
    }
    const IDS: &str = "SELECT nextval(CAST($1 AS REGCLASS)) FROM generate_series(1, $2)";
    let org_ids: Vec<i64> = sqlx::query_scalar(IDS)
        .bind("organizations_id_seq")
        .bind(new_orgs.len() as i64)
        .fetch_all(&mut *tx)
        .await
        .expect("ids");
    let mut w = CopyWriter::start(
        &mut tx,
        "organizations",
        &["id", "unit_id", "name", "name_key", "external_id", "record", "created_at", "modified_at"],
    )
    .await
    .expect("copy");
    for ((name, external_id), id) in new_orgs.iter().zip(&org_ids) {
        w.int(*id).int(unit).text(name).text(&name_key(name)).text(external_id).text(&org_record(name, external_id));
        w.text(NOW).text(NOW).end_row().await.expect("row");
        orgs.insert(external_id.to_string(), *id);
    }
    w.finish().await.expect("organizations");
    let ids: Vec<i64> =
        sqlx::query_scalar(IDS).bind("contacts_id_seq").bind(rows.len() as i64).fetch_all(&mut *tx).await.expect("ids");
    let mut w = CopyWriter::start(
        &mut tx,
        "contacts",
        &[
            "id",
            "unit_id",
            "first_name",
            "last_name",
            "first_key",
            "last_key",
            "org_id",
            "record",
            "external_ids",
            "created_at",
            "modified_at",
        ],
    )
    .await
    .expect("copy");
    for ((row, _, org), id) in rows.iter().zip(&ids) {
        let r = &row.record;
        w.int(*id).int(unit).text(&r.first_name).text(&r.last_name).text(&name_key(&r.first_name));
        w.text(&name_key(&r.last_name)).int(orgs[org]).text(&serde_json::to_string(r).expect("JSON")).text("[]");
        w.text(NOW).text(NOW).end_row().await.expect("row");
    }
    w.finish().await.expect("contacts");
    let mut w = CopyWriter::start(
        &mut tx,
        "contact_phones",
        &["unit_id", "contact_id", "field", "display", "e164", "extension", "sms_enabled"],
    )
    .await
    .expect("copy");
    for ((row, ..), id) in rows.iter().zip(&ids) {
        for (field, p) in &row.record.phones {
            w.int(unit).int(*id).text(field).text(&p.display).opt_text(p.e164.as_deref()).null().int(0);
            w.end_row().await.expect("row");
        }
    }
    w.finish().await.expect("phones");
    let mut w = CopyWriter::start(&mut tx, "contact_emails", &["unit_id", "contact_id", "field", "email", "email_key"])
        .await
        .expect("copy");
    for ((row, ..), id) in rows.iter().zip(&ids) {
        for (field, key) in &row.email_keys {
            w.int(unit).int(*id).text(field).text(&row.record.emails[field]).text(key).end_row().await.expect("row");
        }
    }
    w.finish().await.expect("emails");
    tx.commit().await.expect("commit");
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

fn rate(n: u64, secs: f64) -> String {
    format!("{:>8.0} rows/s", n as f64 / secs)
}

async fn bench(url: &str, rows: usize, stored_count: usize, name: &str, dir: &Path) {
    let unit_name = format!("bench-import-{}-{name}", std::process::id());
    let rt = prospero::Runtime::builder().db(url).business_unit(unit_name.clone()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    let unit = rt.unit_id().await.expect("unit");
    let sqlite = store.as_any().downcast_ref::<prospero::store::SqliteStore>().map(|s| s.pool().clone());
    let pg = store.as_any().downcast_ref::<prospero::store::PgStore>().map(|s| s.pool().clone());

    // The stored contacts, through the fast bulk path of each backend (on
    // PostgreSQL an import of them: COPY).
    let t = Instant::now();
    if sqlite.is_some() {
        let contacts: Arc<dyn ContactsStore> = store_of(&store).expect("contacts store");
        for from in (0..stored_count).step_by(10_000) {
            let batch: Vec<ContactRow> = (from..(from + 10_000).min(stored_count))
                .map(|i| {
                    ContactRow::new(apply_changes(None, &stored(i), None, "US").expect("valid").0, None, Vec::new())
                })
                .collect();
            contacts.add_contacts(unit, &batch, NOW).await.expect("store").expect("no external IDs");
        }
    } else if stored_count > 0 {
        let seed = dir.join(format!("{name}-stored.csv"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&seed).expect("file"));
        writeln!(out, "First Name,Last Name,Work Email,Cell Phone").expect("write");
        for i in 0..stored_count {
            let s = stored(i);
            let cell = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            writeln!(out, "{},{},{},{}", cell("firstName"), cell("lastName"), cell("workEmail"), cell("cellPhone"))
                .expect("write");
        }
        out.flush().expect("flush");
        drop(out);
        let importer = Importer::new(imports::store_of(&store).expect("import store"), unit);
        importer.start(&seed, &profile(), &mut |_| {}).await.expect("seed import");
    }
    println!("{name}: {stored_count} contacts stored in {:.1} s", t.elapsed().as_secs_f64());

    let file = dir.join(format!("{name}.csv"));
    write_file(&file, rows, stored_count);
    let ours = import_in_child(url, &unit_name, &file);
    assert_eq!(ours.rows, rows as u64);

    // A tenth of the file into an empty unit: the peak must not follow the file.
    let small_file = dir.join(format!("{name}-small.csv"));
    write_file(&small_file, (rows / 10).max(1), 0);
    let small = import_in_child(url, &format!("{unit_name}-small"), &small_file);

    // The bare insert of the same rows, normalized beforehand (not timed).
    let bare_unit = store.ensure_business_unit(&format!("{unit_name}-bare")).await.expect("bare unit").id;
    let mut orgs = std::collections::HashMap::new();
    let mut bare = 0.0;
    for from in (0..rows).step_by(BATCH_ROWS) {
        let batch = normalized(from, (from + BATCH_ROWS).min(rows), stored_count);
        let t = Instant::now();
        match (&sqlite, &pg) {
            (Some(p), _) => bare_sqlite(p, bare_unit, &batch, &mut orgs).await,
            (_, Some(p)) => bare_pg(p, bare_unit, &batch, &mut orgs).await,
            _ => unreachable!("a known backend"),
        }
        bare += t.elapsed().as_secs_f64();
    }
    let anchor = if sqlite.is_some() { "bare insert" } else { "bare COPY" };
    println!(
        "{name}: {rows} rows (3 emails, 4 phones, an organization each) into {stored_count} stored contacts, \
         match by email then phone, merge all: {} created, {} updated",
        ours.created, ours.updated
    );
    println!(
        "  import        {:>8.2} s {}   ({:.2}x the {anchor})",
        ours.secs,
        rate(ours.rows, ours.secs),
        ours.secs / bare
    );
    println!("  {anchor:<13} {:>8.2} s {}", bare, rate(rows as u64, bare));
    println!(
        "  peak RSS      {} ({} rows), {} ({} rows into an empty unit)",
        mb(ours.peak),
        ours.rows,
        mb(small.peak),
        small.rows
    );
    rt.close().await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        child(&args[at + 1], &args[at + 2], &args[at + 3]);
        return;
    }
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("import.db");
    tokio.block_on(bench(
        db.to_str().expect("UTF-8"),
        env("BENCH_ROWS", 1_000_000),
        env("BENCH_STORED", 1_000_000),
        "sqlite",
        dir.path(),
    ));
    if std::env::var("PROSPERO_BENCH_PG").as_deref() != Ok("0") {
        tokio.block_on(bench(
            PG_URL,
            env("BENCH_PG_ROWS", 100_000),
            env("BENCH_PG_STORED", 100_000),
            "postgres",
            dir.path(),
        ));
    }
}
