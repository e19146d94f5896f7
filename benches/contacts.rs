//! The contacts directory at size: N contacts (each with a name, two
//! emails and two phones) created through the domain API, and looked up by
//! phone (E.164, and a national form) and by email through FINDCONTACT, one script run per lookup —
//! each against its anchor, measured in the same run, through the same
//! driver and pool:
//!
//! - **creating**: `contacts::apply_changes` (every rule: names, emails,
//!   phone normalization) and `ContactsStore::add_contacts` in batches,
//!   against a bare insert of the same normalized rows into the same tables
//!   (one transaction per batch, the same statements, no checks);
//! - **looking up**: a script `BEGIN → FINDCONTACT → END` run once per
//!   lookup (the contact read back as an object), against the same indexed
//!   SELECT issued alone.
//!
//! Targets (issue 17): at least 30,000 contacts/s created and within 2× the
//! bare insert; at least 20,000 lookups/s and within 2× the bare SELECT.
//! Run with `cargo bench --bench contacts`. `BENCH_CONTACTS` sets N on
//! SQLite (default 1,000,000), `BENCH_PG_CONTACTS` on PostgreSQL (default
//! 100,000; `PROSPERO_BENCH_PG=0` skips it, 127.0.0.1:5432 database `test`),
//! `BENCH_LOOKUPS` the lookups per kind (default 20,000),
//! `BENCH_CONCURRENCY` how many lookups are in flight at once on both
//! sides, a list (default `1,8`: one caller at a time, then eight callers
//! arriving together),
//! `BENCH_BATCH` the creation batch (default 10,000).

use prospero::contacts::model::name_key;
use prospero::contacts::{ContactRow, apply_changes};
use prospero::packs::contacts::{ContactsStore, store_of};
use prospero::{RunOptions, Runtime};
use serde_json::{Map, Value as Json, json};
use std::sync::Arc;
use std::time::Instant;

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const NOW: &str = "2026-11-21T15:00:00Z";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// Contact `i` as a script or host gives it: phones in mixed written forms.
fn given(i: usize) -> Map<String, Json> {
    const NPAS: [u32; 8] = [212, 312, 415, 602, 303, 617, 713, 206];
    // Number `k` of 64 million valid ones: exchanges 200-999 but the N11
    // service codes, which are not phone numbers.
    let number = |k: usize| {
        let (npa, rest) = (NPAS[k % 8], k / 8);
        let nxx = 200 + (rest / 10_000) % 800;
        let nxx = if nxx % 100 == 11 { nxx + 1 } else { nxx };
        (npa, nxx, rest % 10_000)
    };
    let (npa, nxx, line) = number(i);
    let cell = format!("({npa}) {nxx}-{line:04}");
    let (npa, nxx, line) = number(i * 7 + 3);
    let work = format!("+1 {npa} {nxx} {line:04}");
    let v = json!({"firstName": format!("First{i}"), "lastName": format!("Last{}", i % 50_000),
        "workEmail": format!("c{i}@work.example.com"), "personalEmail": format!("C{i}@Home.example.org"),
        "cellPhone": cell, "workPhone": work});
    v.as_object().cloned().unwrap_or_default()
}

fn rows(from: usize, to: usize) -> Vec<ContactRow> {
    (from..to)
        .map(|i| {
            let (record, _) = apply_changes(None, &given(i), None, "US").expect("valid contact");
            ContactRow::new(record, None, Vec::new())
        })
        .collect()
}

const BARE_CONTACT: &str = "INSERT INTO contacts (unit_id, first_name, last_name, first_key, last_key, org_id, record,
     external_ids, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, NULL, $6, '[]', $7, $7) RETURNING id";
const BARE_PHONE: &str =
    "INSERT INTO contact_phones (unit_id, contact_id, field, display, e164, extension, sms_enabled)
     VALUES ($1, $2, $3, $4, $5, NULL, 0)";
const BARE_EMAIL: &str =
    "INSERT INTO contact_emails (unit_id, contact_id, field, email, email_key) VALUES ($1, $2, $3, $4, $5)";
const BARE_BY_PHONE: &str = "SELECT DISTINCT c.id, c.record, c.external_ids, c.created_at, c.modified_at, c.org_id, o.name,
     o.external_id FROM contact_phones x JOIN contacts c ON c.id = x.contact_id LEFT JOIN organizations o ON o.id = c.org_id
     WHERE x.unit_id = $1 AND c.unit_id = $1 AND x.e164 = $2 ORDER BY c.created_at, c.id LIMIT 100";
const BARE_BY_EMAIL: &str = "SELECT DISTINCT c.id, c.record, c.external_ids, c.created_at, c.modified_at, c.org_id, o.name,
     o.external_id FROM contact_emails x JOIN contacts c ON c.id = x.contact_id LEFT JOIN organizations o ON o.id = c.org_id
     WHERE x.unit_id = $1 AND c.unit_id = $1 AND x.email_key = $2 ORDER BY c.created_at, c.id LIMIT 100";

type Cols = (i64, String, String, String, String, Option<i64>, Option<String>, Option<String>);

/// Bare insert and bare select for one pool type.
macro_rules! bare {
    ($insert:ident, $select:ident, $pool:ty, $begin:literal) => {
        async fn $insert(pool: &$pool, unit: i64, rows: &[ContactRow]) {
            let mut tx = pool.begin_with($begin).await.expect("begin");
            for row in rows {
                let r = &row.record;
                let (id,): (i64,) = sqlx::query_as(BARE_CONTACT)
                    .bind(unit)
                    .bind(&r.first_name)
                    .bind(&r.last_name)
                    .bind(name_key(&r.first_name))
                    .bind(name_key(&r.last_name))
                    .bind(serde_json::to_string(r).expect("JSON"))
                    .bind(NOW)
                    .fetch_one(&mut *tx)
                    .await
                    .expect("insert");
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

        async fn $select(pool: &$pool, unit: i64, sql: &'static str, key: &str) -> usize {
            let rows: Vec<Cols> = sqlx::query_as(sql).bind(unit).bind(key).fetch_all(pool).await.expect("select");
            rows.len()
        }
    };
}

bare!(bare_insert_sqlite, bare_select_sqlite, sqlx::SqlitePool, "BEGIN IMMEDIATE");
bare!(bare_insert_pg, bare_select_pg, sqlx::PgPool, "BEGIN");

const SCRIPT: &str = r#"{"name": "lookup", "actions": [
  {"id": "start", "action": "BEGIN", "Parameters": ["phone", "email"], "next": "find"},
  {"id": "find", "action": "FINDCONTACT", "Phone": "{phone}", "Email": "{email}",
   "branches": {"Default": "done", "NotFound": "done", "OnError": "done"}},
  {"id": "done", "action": "END"}]}"#;

fn rate(n: usize, secs: f64) -> String {
    format!("{:>9.0}/s", n as f64 / secs)
}

async fn bench(url: &str, n: usize, batch: usize, lookups: usize, concurrency: &[usize], pool_of: &str) {
    let unit_name = format!("bench-{}-{}", std::process::id(), pool_of);
    let rt = Runtime::builder().db(url).business_unit(unit_name.clone()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    let contacts: Arc<dyn ContactsStore> = store_of(&store).expect("contacts store");
    let unit = rt.unit_id().await.expect("unit");
    let bare_unit = store.ensure_business_unit(&format!("{unit_name}-bare")).await.expect("bare unit").id;
    let sqlite = store.as_any().downcast_ref::<prospero::store::SqliteStore>().map(|s| s.pool().clone());
    let pg = store.as_any().downcast_ref::<prospero::store::PgStore>().map(|s| s.pool().clone());

    // Creating: the domain API, then the bare insert of the same rows.
    let (mut ours, mut bare) = (0.0, 0.0);
    let mut from = 0;
    while from < n {
        let to = (from + batch).min(n);
        let t = Instant::now();
        let prepared = rows(from, to);
        contacts.add_contacts(unit, &prepared, NOW).await.expect("store").expect("no external IDs");
        ours += t.elapsed().as_secs_f64();
        let t = Instant::now();
        match (&sqlite, &pg) {
            (Some(p), _) => bare_insert_sqlite(p, bare_unit, &prepared).await,
            (_, Some(p)) => bare_insert_pg(p, bare_unit, &prepared).await,
            _ => unreachable!("a known backend"),
        }
        bare += t.elapsed().as_secs_f64();
        from = to;
    }
    println!("{pool_of}: {n} contacts created");
    println!("  domain API    {:>8.2} s {}   ({:.2}x the bare insert)", ours, rate(n, ours), ours / bare);
    println!("  bare insert   {:>8.2} s {}", bare, rate(n, bare));

    // Looking up, by phone (another written form) and by email (other case),
    // `concurrency` lookups in flight on both sides (callers arrive together).
    let program = rt.load_script(prospero::script::load_text(SCRIPT, None).expect("parses")).expect("loads");
    let mut rng = fastrand::Rng::with_seed(17);
    // E.164 and email are the issue's measures; a national form (the unit's
    // default country read from the store first) is shown beside them.
    let kinds = [("E.164", "phone"), ("email", "email"), ("national", "phone")];
    for (concurrency, (label, kind)) in concurrency.iter().flat_map(|c| kinds.map(|k| (*c, k))) {
        let keys: Vec<String> = (0..lookups)
            .map(|_| {
                let g = given(rng.usize(..n));
                let text = |f: &str| g[f].as_str().unwrap_or_default().to_string();
                match label {
                    "E.164" => prospero::contacts::phone::phone_key(&text("cellPhone"), "US").expect("valid"),
                    "email" => text("workEmail"),
                    _ => text("cellPhone"),
                }
            })
            .collect();
        let chunks: Vec<Vec<String>> = keys.chunks(lookups.div_ceil(concurrency)).map(<[String]>::to_vec).collect();
        let t = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in chunks.clone() {
            let (rt, program) = (rt.clone(), program.clone());
            tasks.spawn(async move {
                let mut found = 0;
                for key in &chunk {
                    let opts = RunOptions::new().at(NOW.parse().expect("time")).param(kind, key.as_str());
                    let r = rt.run(&program, opts).await.expect("params");
                    found += usize::from(r.path.get(1).is_some_and(|s| s.branch == "Default"));
                }
                found
            });
        }
        let found: usize = tasks.join_all().await.into_iter().sum();
        let ours = t.elapsed().as_secs_f64();
        assert_eq!(found, lookups, "every {label} lookup finds its contact");
        let t = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in chunks {
            let (sqlite, pg) = (sqlite.clone(), pg.clone());
            tasks.spawn(async move {
                for key in &chunk {
                    let (sql, key) = if kind == "phone" {
                        (BARE_BY_PHONE, prospero::contacts::phone::phone_key(key, "US").expect("valid"))
                    } else {
                        (BARE_BY_EMAIL, prospero::contacts::email::email_key(key))
                    };
                    let got = match (&sqlite, &pg) {
                        (Some(p), _) => bare_select_sqlite(p, unit, sql, &key).await,
                        (_, Some(p)) => bare_select_pg(p, unit, sql, &key).await,
                        _ => unreachable!("a known backend"),
                    };
                    assert!(got >= 1, "the bare SELECT finds {key}");
                }
            });
        }
        tasks.join_all().await;
        let bare = t.elapsed().as_secs_f64();
        println!(
            "  FINDCONTACT by {label:<8} {} ({:.2}x the bare SELECT {}), {concurrency} in flight",
            rate(lookups, ours),
            ours / bare,
            rate(lookups, bare)
        );
    }
    rt.close().await;
}

fn main() {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    let batch = env("BENCH_BATCH", 10_000);
    let lookups = env("BENCH_LOOKUPS", 20_000);
    let concurrency: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8".into())
        .split(',')
        .filter_map(|c| c.trim().parse::<usize>().ok())
        .map(|c| c.max(1))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("contacts.db");
    tokio.block_on(bench(
        file.to_str().expect("UTF-8"),
        env("BENCH_CONTACTS", 1_000_000),
        batch,
        lookups,
        &concurrency,
        "sqlite",
    ));
    if std::env::var("PROSPERO_BENCH_PG").as_deref() != Ok("0") {
        tokio.block_on(bench(PG_URL, env("BENCH_PG_CONTACTS", 100_000), batch, lookups, &concurrency, "postgres"));
    }
}
