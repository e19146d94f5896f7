//! The address-book import at size (issue 19): a file of N lines (default
//! 1,000,000; one in ten overwrites a stored recipient) imported with
//! `import_file` — UTF-8 check of the whole file, reading, every line rule,
//! batched upserts — into an SQLite file that already holds E recipients
//! (default 500,000), against a bare bulk insert of the same rows into
//! another SQLite file holding as many: plain prepared INSERTs, one
//! transaction per batch, no checks, no conflict handling, the rows parsed
//! before the clock starts. The bare insert is measured twice: through
//! sqlx (how the other benches' bare anchors run) and straight through
//! SQLite's C API (the stricter anchor: what the import's own writes use).
//!
//! Targets: at least 100,000 lines/s, and no more than 2× the bare insert.
//! Run with `cargo bench --profile fastrel --bench addressbook`.
//! `BENCH_ABOOK_LINES` sets N, `BENCH_ABOOK_EXISTING` E, `BENCH_BATCH` the
//! lines per batch (default 10,000).

use prospero::addressbook::{BookReader, Civility, Entry, Recipient};
use prospero::packs::addressbook::import::import_file;
use prospero::packs::addressbook::{AddressBookStore, store_of};
use prospero::store::sqlite::raw::{Param, RawConnection};
use prospero::store::{SqliteStore, Store};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const NOW: &str = "2026-11-21T15:00:00Z";
const BARE: &str = "INSERT INTO address_book (unit_id, email, email_key, civility, first_name, last_name, department,
     phone, address, city, is_expert, is_copy, is_transfer, import_name, created_at, modified_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, 1, 0, $11, $12, $12)";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Recipient `i` of the stored book.
fn stored(i: usize) -> Recipient {
    Recipient {
        civility: Civility::Madame,
        first_name: format!("Stored{i}"),
        last_name: format!("Nom{}", i % 5000),
        email: format!("p{i}@example.org"),
        department: "Achats".into(),
        phone: format!("01{:08}", i),
        address: format!("{i} avenue Foch"),
        city: "Lyon".into(),
    }
}

/// Line `i` of the file: one in ten has the email of a stored recipient.
fn line(i: usize, existing: usize) -> String {
    let email = if i.is_multiple_of(10) && i / 10 < existing {
        format!("P{}@Example.org", i / 10)
    } else {
        format!("r{i}@example.org")
    };
    let civility = ["M.", "Mme", "Mlle", ""][i % 4];
    format!("{civility},Prénom{i},Nom{},{email},Service{},0033{:09},{i} rue de la Paix,Paris", i % 7000, i % 50, i)
}

async fn open(path: &std::path::Path, unit: &str) -> (Arc<dyn Store>, Arc<dyn AddressBookStore>, i64) {
    let store = prospero::store::open(path.to_str().expect("UTF-8")).await.expect("SQLite file");
    let book = store_of(&store).expect("address book");
    let unit = store.ensure_business_unit(unit).await.expect("unit").id;
    (store, book, unit)
}

async fn fill(book: &dyn AddressBookStore, unit: i64, n: usize, batch: usize) {
    let mut from = 0;
    while from < n {
        let to = (from + batch).min(n);
        let rows: Vec<Recipient> = (from..to).map(stored).collect();
        book.write_batch(unit, "seed", &rows, NOW).await.expect("seed");
        from = to;
    }
}

fn bind<'a>(unit: i64, r: &'a Recipient, key: &'a str) -> [Param<'a>; 12] {
    let t = |s: &'a str| Param::Text(Some(s));
    [
        Param::Int(unit),
        t(&r.email),
        t(key),
        t(r.civility.as_str()),
        t(&r.first_name),
        t(&r.last_name),
        t(&r.department),
        t(&r.phone),
        t(&r.address),
        t(&r.city),
        t("bench"),
        t(NOW),
    ]
}

async fn bare_sqlx(pool: &sqlx::SqlitePool, unit: i64, rows: &[(Recipient, String)]) {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
    for (r, key) in rows {
        sqlx::query(BARE)
            .bind(unit)
            .bind(&r.email)
            .bind(key)
            .bind(r.civility.as_str())
            .bind(&r.first_name)
            .bind(&r.last_name)
            .bind(&r.department)
            .bind(&r.phone)
            .bind(&r.address)
            .bind(&r.city)
            .bind("bench")
            .bind(NOW)
            .execute(&mut *tx)
            .await
            .expect("insert");
    }
    tx.commit().await.expect("commit");
}

async fn bare_raw(pool: &sqlx::SqlitePool, unit: i64, rows: &[(Recipient, String)]) {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
    {
        let raw = RawConnection::lock(&mut tx).await.expect("handle");
        let mut insert = raw.prepare(BARE).expect("prepare");
        for (r, key) in rows {
            insert.execute(&bind(unit, r, key)).expect("insert");
        }
    }
    tx.commit().await.expect("commit");
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (n, existing, batch) =
        (env("BENCH_ABOOK_LINES", 1_000_000), env("BENCH_ABOOK_EXISTING", 500_000), env("BENCH_BATCH", 10_000));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("book.csv");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).expect("file"));
        for i in 0..n {
            writeln!(w, "{}", line(i, existing)).expect("write");
        }
        w.flush().expect("flush");
    }
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "address book: {n} lines ({:.1} MB), stores holding {existing} recipients, batches of {batch}",
        bytes as f64 / 1e6
    );

    // Ours: the whole import into a file that holds `existing` recipients.
    let (store, book, unit) = open(&dir.path().join("ours.db"), "bench").await;
    fill(book.as_ref(), unit, existing, batch).await;
    let t = Instant::now();
    let report = import_file(book.as_ref(), unit, &file, "bench", NOW, batch, &mut |_| {}).await.expect("import");
    let ours = t.elapsed().as_secs_f64();
    assert_eq!(report.imported() as usize, n, "every line imported: {}", report.summary());
    assert_eq!(report.updated as usize, n.div_ceil(10).min(existing), "one line in ten overwrote");
    store.close().await;

    // The bare inserts of the same rows, each into a file of its own that
    // holds as many recipients (in another unit: no conflicts).
    let mut bare = Vec::new();
    for (label, raw) in [("bare insert (sqlx)", false), ("bare insert (C API)", true)] {
        let db = dir.path().join(format!("bare-{raw}.db"));
        let (store, book, seed_unit) = open(&db, "seed").await;
        fill(book.as_ref(), seed_unit, existing, batch).await;
        let unit = store.ensure_business_unit("bare").await.expect("unit").id;
        let pool = store.as_any().downcast_ref::<SqliteStore>().expect("SQLite").pool().clone();
        let mut reader = BookReader::open(&file).expect("file");
        let mut secs = 0.0;
        let mut rows = Vec::with_capacity(batch);
        loop {
            let entry = reader.next_entry().expect("readable");
            let end = entry.is_none();
            if let Some(Entry::Recipient { recipient, .. }) = entry {
                let key = recipient.key();
                rows.push((recipient, key));
            }
            if rows.len() >= batch || (end && !rows.is_empty()) {
                let t = Instant::now();
                if raw {
                    bare_raw(&pool, unit, &rows).await;
                } else {
                    bare_sqlx(&pool, unit, &rows).await;
                }
                secs += t.elapsed().as_secs_f64();
                rows.clear();
            }
            if end {
                break;
            }
        }
        store.close().await;
        bare.push((label, secs));
    }

    // Where the import's time goes: the UTF-8 check, reading and checking
    // every line, and the store's batch writes of rows parsed beforehand.
    let t = Instant::now();
    prospero::addressbook::check_file(&file).expect("UTF-8");
    let check = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let read = BookReader::open(&file).expect("file").filter(|e| matches!(e, Ok(Entry::Recipient { .. }))).count();
    let parse = t.elapsed().as_secs_f64();
    assert_eq!(read, n);
    let (store, book, unit) = open(&dir.path().join("writes.db"), "bench").await;
    fill(book.as_ref(), unit, existing, batch).await;
    let mut reader = BookReader::open(&file).expect("file");
    let mut writes = 0.0;
    let mut rows = Vec::with_capacity(batch);
    loop {
        let entry = reader.next_entry().expect("readable");
        let end = entry.is_none();
        if let Some(Entry::Recipient { recipient, .. }) = entry {
            rows.push(recipient);
        }
        if rows.len() >= batch || (end && !rows.is_empty()) {
            let t = Instant::now();
            book.write_batch(unit, "bench", &rows, NOW).await.expect("write");
            writes += t.elapsed().as_secs_f64();
            rows.clear();
        }
        if end {
            break;
        }
    }
    store.close().await;

    println!("  import (ours)        {ours:>7.2} s {:>10.0} lines/s", rate(n, ours));
    println!(
        "    of which, measured alone: UTF-8 check {check:.2} s, reading and checking lines {parse:.2} s, batch writes {writes:.2} s"
    );
    for (label, secs) in &bare {
        println!("  {label:<20} {secs:>7.2} s {:>10.0} lines/s   (ours: {:.2}x)", rate(n, *secs), ours / secs);
    }
    let worst = bare.iter().map(|(_, s)| ours / s).fold(0.0, f64::max);
    let ok = rate(n, ours) >= 100_000.0 && worst <= 2.0;
    println!(
        "  targets: >= 100,000 lines/s and <= 2x the bare insert: {} ({:.0} lines/s, {:.2}x the stricter anchor)",
        if ok { "met" } else { "NOT met" },
        rate(n, ours),
        worst
    );
}
