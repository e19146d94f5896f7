//! Loading prospects: 100,000 records with three phone fields each through
//! CREATEPROSPECTS v2 (mapping, validation, zones, persistence), on an
//! SQLite file and on PostgreSQL, against two anchors in the same run:
//!
//! - **bare bulk insert**: the same rows, already normalized, written to the
//!   same tables, one transaction per batch, ids numbered up front: on
//!   SQLite through prepared single-row statements on the raw connection
//!   with text bound in place (the fastest write SQLite offers, and the one
//!   the store uses), on PostgreSQL with UNNEST — the floor for any loader;
//! - **bare COPY** (PostgreSQL only): the same rows, ids taken from the
//!   table's sequence, both tables through `COPY ... FROM STDIN` (the
//!   store's COPY writer, `store::postgres::copy`), one transaction per
//!   batch, on the anchors' connection: PostgreSQL's fastest write, and the
//!   floor for the store's own COPY path;
//! - **row-at-a-time loader**, the way open-source dialers load lists: per
//!   record a duplicate-check SELECT, then an INSERT for the prospect and
//!   one per destination, each committed on its own. It is given the
//!   normalized rows (no zone lookups of its own), which flatters it.
//!
//! Targets (issue 4): at least 50,000 records/s on SQLite, no more than 2×
//! the bare bulk insert, at least 20× the row-at-a-time loader; on
//! PostgreSQL (issue 18) at least 30,000 records/s and within 1.5× the bare
//! COPY. Run with
//! `cargo bench --bench outbound` (PostgreSQL at 127.0.0.1:5432, database
//! `test`; set `PROSPERO_BENCH_PG=0` to skip it). `BENCH_RECORDS` and
//! `BENCH_BATCH` change the load (default 100,000 records in batches of
//! 1,000), `BENCH_REPS` the repetitions (median reported, default 3), and
//! `BENCH_ONLY=ours|bulk|copy|row` measures one loader alone (for
//! profiling); `PROSPERO_BENCH_SQLITE=0` skips SQLite. The anchors get the
//! store's SQLite connection settings; the store alone also checkpoints
//! its WAL in the background. On PostgreSQL the prospect tables are
//! vacuumed and analyzed before anything is measured: earlier runs and
//! tests leave dead rows behind (the bench's own cleanup among them), and
//! an index full of them slows every load's unique checks by an amount
//! that depends on the database's history rather than on the loader.

use prospero::outbound::model::{MapEntry, ProspectRow, Skill, SourceMap};
use prospero::outbound::prospects::{self, BatchSettings};
use prospero::store::{self, NewSourceMap};
use prospero::{RunOptions, Runtime, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const NOW: &str = "2026-11-21T15:00:00Z";
const SKILL: i64 = 9001;

/// Area codes whose numbers all fall in one zone, across the continent.
const NPAS: &[u16] = &[
    212, 312, 415, 602, 808, 303, 617, 713, 206, 404, 305, 214, 503, 702, 801, 612, 314, 216, 412, 615, 704, 919, 512,
    480, 916, 619, 504, 502, 901, 414, 913, 402, 505, 208, 406, 307, 605, 701, 515, 402, 416, 604, 514, 403,
];

fn records(n: usize) -> Vec<Value> {
    let mut rng = fastrand::Rng::with_seed(4);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut o = prospero::value::Object::new();
        let phone = |rng: &mut fastrand::Rng| {
            let npa = NPAS[rng.usize(..NPAS.len())];
            let mut nxx = rng.u16(200..1000);
            if nxx % 100 == 11 {
                nxx += 1;
            }
            let line = rng.u16(0..10000);
            match rng.u8(0..3) {
                0 => format!("({npa}) {nxx}-{line:04}"),
                1 => format!("{npa}-{nxx}-{line:04}"),
                _ => format!("+1{npa}{nxx}{line:04}"),
            }
        };
        let fields = [
            ("Account", format!("B{i:07}")),
            ("First", "Ada".to_string()),
            ("Last", format!("Lovelace{}", i % 97)),
            ("Home", phone(&mut rng)),
            ("Cell", phone(&mut rng)),
            ("Work", phone(&mut rng)),
            ("Street", format!("{} Main St", i % 9000 + 1)),
            ("City", "Springfield".to_string()),
            ("State", "IL".to_string()),
            ("Zip", if i % 2 == 0 { "62701".to_string() } else { String::new() }),
            ("Expires", "2027-06-30".to_string()),
            ("Score", (i % 100).to_string()),
        ];
        for (k, v) in fields {
            o.insert(k.into(), Value::text(v));
        }
        out.push(Value::Object(Arc::new(o)));
    }
    out
}

fn mapping() -> Vec<MapEntry> {
    [
        ("ExternalID", "Account"),
        ("FirstName", "First"),
        ("LastName", "Last"),
        ("PhoneNumber", "Home"),
        ("CellPhone", "Cell"),
        ("WorkPhone", "Work"),
        ("Address", "Street"),
        ("City", "City"),
        ("State", "State"),
        ("Zip", "Zip"),
        ("ExpirationDate", "Expires"),
        ("Score", "Score"),
    ]
    .iter()
    .map(|(f, l)| MapEntry { field: f.to_string(), label: l.to_string() })
    .collect()
}

const LOAD_SCRIPT: &str = r#"{"name": "bench_load", "actions": [
  {"id": "b", "action": "BEGIN", "Parameters": ["source", "data"], "next": "load"},
  {"id": "load", "action": "CREATEPROSPECTS", "version": 2, "SkillNo": "9001", "SourceName": "{source}",
   "Data": "data", "NoTimeZoneReject": "Yes", "TimeZone": "Eastern", "Results": "results",
   "branches": {"Default": "ok", "OnError": "bad"}},
  {"id": "ok", "action": "RETURN", "ReturnValue": "{results.Summary.Created}"},
  {"id": "bad", "action": "RETURN", "ReturnValue": "error {_ERR}"}]}"#;

struct Bench {
    outbound: Arc<dyn prospero::packs::outbound::OutboundStore>,
    unit: i64,
    runtime: Runtime,
    anchor: Anchor,
    sources: u32,
}

/// The anchors' own connection, opened once and reused like the store's.
enum Anchor {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Bench {
    async fn new(url: &str, backend: &'static str) -> Bench {
        let store = store::open(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let unit_name = format!("bench-{}-{}", std::process::id(), fastrand::u32(..));
        let unit = store.business_unit(&unit_name).await.expect("unit");
        let outbound = prospero::packs::outbound::store(&store).expect("outbound store");
        let mut skill = Skill::new(SKILL, "bench");
        skill.max_destinations = 6;
        outbound.upsert_skill(unit, &skill).await.expect("skill");
        for f in ["CellPhone", "WorkPhone"] {
            let uf = prospero::outbound::model::UserField {
                name: f.into(),
                data_type: prospero::outbound::fields::DataType::Phone,
                default_value: None,
                value_required: false,
                associations: vec![],
            };
            outbound.create_user_field(unit, &uf, NOW).await.expect("user field");
        }
        let runtime = Runtime::builder().store(store.clone()).business_unit(unit_name).build();
        let anchor = match backend {
            "sqlite" => Anchor::Sqlite(sqlite_pool(&format!("sqlite:{url}")).await),
            _ => Anchor::Postgres(pg_pool().await),
        };
        Bench { outbound, unit, runtime, anchor, sources: 0 }
    }

    /// A fresh source with the map, so every measured load creates.
    async fn source(&mut self) -> (String, i64) {
        self.sources += 1;
        let name = format!("bench source {}", self.sources);
        let src = self.outbound.create_source(self.unit, &name, NOW).await.expect("source").expect("new");
        let map = NewSourceMap { source: src.id, entries: &mapping(), now: NOW };
        self.outbound.store_source_map(self.unit, map).await.expect("map");
        (name, src.id)
    }

    async fn through_action(&mut self, batches: &[Vec<Value>]) -> Duration {
        let (name, _) = self.source().await;
        let program =
            self.runtime.load_script(prospero::script::load_text(LOAD_SCRIPT, None).expect("parses")).expect("checks");
        let at: chrono::DateTime<chrono::Utc> = NOW.parse().expect("time");
        let start = Instant::now();
        let mut created = 0usize;
        for batch in batches {
            let opts =
                RunOptions::new().at(at).param("source", name.as_str()).param("data", Value::array(batch.clone()));
            let r = self.runtime.run(&program, opts).await.expect("run");
            let ret = r.return_value.map(|v| v.to_text().to_string()).unwrap_or_default();
            created += ret.parse::<usize>().unwrap_or_else(|_| panic!("load failed: {ret}"));
        }
        let t = start.elapsed();
        assert_eq!(created, batches.iter().map(Vec::len).sum::<usize>(), "every record created");
        t
    }

    async fn bare_bulk(&mut self, rows: &[Vec<ProspectRow>]) -> Duration {
        let (_, source) = self.source().await;
        let start = Instant::now();
        for batch in rows {
            match &self.anchor {
                Anchor::Sqlite(pool) => bulk_sqlite(pool, self.unit, source, batch).await,
                Anchor::Postgres(pool) => bulk_pg(pool, self.unit, source, batch).await,
            }
        }
        start.elapsed()
    }

    /// PostgreSQL's bare COPY (none on SQLite).
    async fn bare_copy(&mut self, rows: &[Vec<ProspectRow>]) -> Option<Duration> {
        let Anchor::Postgres(pool) = &self.anchor else { return None };
        let pool = pool.clone();
        let (_, source) = self.source().await;
        let start = Instant::now();
        for batch in rows {
            copy_pg(&pool, self.unit, source, batch).await;
        }
        Some(start.elapsed())
    }

    async fn row_at_a_time(&mut self, rows: &[ProspectRow]) -> Duration {
        let (_, source) = self.source().await;
        let start = Instant::now();
        match &self.anchor {
            Anchor::Sqlite(pool) => row_sqlite(pool, self.unit, source, rows).await,
            Anchor::Postgres(pool) => row_pg(pool, self.unit, source, rows).await,
        }
        start.elapsed()
    }

    async fn cleanup(&self) {
        if let Anchor::Postgres(pool) = &self.anchor {
            for sql in [
                "DELETE FROM destinations WHERE unit_id = $1",
                "DELETE FROM prospects WHERE unit_id = $1",
                "DELETE FROM source_maps WHERE unit_id = $1",
                "DELETE FROM sources WHERE unit_id = $1",
            ] {
                sqlx::query(sql).bind(self.unit).execute(pool).await.expect("cleanup");
            }
        }
    }
}

async fn sqlite_pool(url: &str) -> sqlx::SqlitePool {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    use std::str::FromStr;
    // The same connection settings as the store's own.
    let opts = SqliteConnectOptions::from_str(url)
        .expect("url")
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-65536")
        .pragma("wal_autocheckpoint", "65536")
        .busy_timeout(Duration::from_secs(10));
    sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(opts).await.expect("pool")
}

/// The floor on SQLite: one transaction, ids numbered up front, and each
/// row through a prepared single-row statement on the raw connection with
/// its text bound in place (no copies), the fastest way to write rows
/// that SQLite offers.
async fn bulk_sqlite(pool: &sqlx::SqlitePool, unit: i64, source: i64, rows: &[ProspectRow]) {
    use prospero::store::sqlite::raw::{Param::Int, Param::Text, RawConnection};
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("tx");
    let base: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM prospects").fetch_one(&mut *tx).await.expect("max");
    {
        let raw = RawConnection::lock(&mut tx).await.expect("lock");
        let mut prospect = raw
            .prepare(
                "INSERT INTO prospects (id, unit_id, source_id, external_id, skill_no, first_name, last_name, fields,
                 expires_at, time_zone, tz_source, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            )
            .expect("prepare");
        let mut destination = raw
            .prepare(
                "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind, time_zone, tz_source,
                 companions) VALUES (?,?,?,?,?,?,?,?,?,?)",
            )
            .expect("prepare");
        for (i, r) in rows.iter().enumerate() {
            let id = base + i as i64 + 1;
            prospect
                .execute(&[
                    Int(id),
                    Int(unit),
                    Int(source),
                    Text(Some(&r.external_id)),
                    Int(SKILL),
                    Text(r.first_name.as_deref()),
                    Text(r.last_name.as_deref()),
                    Text(Some(&r.fields)),
                    Text(r.expires_at.as_deref()),
                    Text(Some(&r.time_zone)),
                    Text(Some(&r.tz_source)),
                    Text(Some(NOW)),
                    Text(Some(NOW)),
                ])
                .expect("insert prospect");
            for (o, d) in r.destinations.iter().enumerate() {
                destination
                    .execute(&[
                        Int(id),
                        Int(o as i64 + 1),
                        Int(unit),
                        Text(Some(&d.field)),
                        Text(Some(&d.e164)),
                        Text(Some(&d.raw)),
                        Text(Some(d.kind)),
                        Text(d.time_zone.as_deref()),
                        Text(Some(&d.tz_source)),
                        Text(d.companions.as_deref()),
                    ])
                    .expect("insert destination");
            }
        }
    }
    tx.commit().await.expect("commit");
}

/// Destination rows as columns, for one UNNEST insert.
#[derive(Default)]
struct DestColumns<'a> {
    prospect: Vec<i64>,
    ordinal: Vec<i64>,
    field: Vec<&'a str>,
    e164: Vec<&'a str>,
    raw: Vec<&'a str>,
    kind: Vec<&'a str>,
    zone: Vec<Option<&'a str>>,
    zone_source: Vec<&'a str>,
    companions: Vec<Option<&'a str>>,
}

async fn bulk_pg(pool: &sqlx::PgPool, unit: i64, source: i64, rows: &[ProspectRow]) {
    let mut tx = pool.begin().await.expect("tx");
    let col = |f: &dyn Fn(&ProspectRow) -> Option<&str>| -> Vec<Option<&str>> { rows.iter().map(f).collect() };
    let ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO prospects (unit_id, source_id, external_id, skill_no, first_name, last_name, fields, expires_at,
             time_zone, tz_source, created_at, updated_at)
         SELECT $1, $2, u.e, $3, u.f, u.l, u.d, u.x, u.t, u.s, $4, $4
         FROM UNNEST($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
             WITH ORDINALITY AS u(e, f, l, d, x, t, s, n) ORDER BY u.n RETURNING id",
    )
    .bind(unit)
    .bind(source)
    .bind(SKILL)
    .bind(NOW)
    .bind(col(&|r| Some(r.external_id.as_str())))
    .bind(col(&|r| r.first_name.as_deref()))
    .bind(col(&|r| r.last_name.as_deref()))
    .bind(col(&|r| Some(r.fields.as_str())))
    .bind(col(&|r| r.expires_at.as_deref()))
    .bind(col(&|r| Some(r.time_zone.as_str())))
    .bind(col(&|r| Some(r.tz_source.as_str())))
    .fetch_all(&mut *tx)
    .await
    .expect("insert prospects");
    let mut c = DestColumns::default();
    for (r, id) in rows.iter().zip(&ids) {
        for (o, d) in r.destinations.iter().enumerate() {
            c.prospect.push(*id);
            c.ordinal.push(o as i64 + 1);
            c.field.push(&d.field);
            c.e164.push(&d.e164);
            c.raw.push(&d.raw);
            c.kind.push(d.kind);
            c.zone.push(d.time_zone.as_deref());
            c.zone_source.push(&d.tz_source);
            c.companions.push(d.companions.as_deref());
        }
    }
    sqlx::query(
        "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind, time_zone, tz_source, companions)
         SELECT u.p, u.o, $1, u.f, u.e, u.r, u.k, u.t, u.s, u.w
         FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
             $10::text[]) AS u(p, o, f, e, r, k, t, s, w)",
    )
    .bind(unit)
    .bind(&c.prospect)
    .bind(&c.ordinal)
    .bind(&c.field)
    .bind(&c.e164)
    .bind(&c.raw)
    .bind(&c.kind)
    .bind(&c.zone)
    .bind(&c.zone_source)
    .bind(&c.companions)
    .execute(&mut *tx)
    .await
    .expect("insert destinations");
    tx.commit().await.expect("commit");
}

/// The floor on PostgreSQL: ids from the table's sequence, then both
/// tables through COPY, in one transaction.
async fn copy_pg(pool: &sqlx::PgPool, unit: i64, source: i64, rows: &[ProspectRow]) {
    use prospero::store::postgres::copy::CopyWriter;
    let mut tx = pool.begin().await.expect("tx");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT nextval('prospects_id_seq'::regclass) FROM generate_series(1, $1)")
        .bind(rows.len() as i64)
        .fetch_all(&mut *tx)
        .await
        .expect("ids");
    let columns = [
        "id",
        "unit_id",
        "source_id",
        "external_id",
        "skill_no",
        "first_name",
        "last_name",
        "fields",
        "expires_at",
        "time_zone",
        "tz_source",
        "created_at",
        "updated_at",
    ];
    let mut w = CopyWriter::start(&mut tx, "prospects", &columns).await.expect("copy prospects");
    for (r, id) in rows.iter().zip(&ids) {
        w.int(*id).int(unit).int(source).text(&r.external_id).int(SKILL);
        w.opt_text(r.first_name.as_deref()).opt_text(r.last_name.as_deref()).text(&r.fields);
        w.opt_text(r.expires_at.as_deref()).text(&r.time_zone).text(&r.tz_source).text(NOW).text(NOW);
        w.end_row().await.expect("prospect row");
    }
    w.finish().await.expect("prospects copied");
    let columns =
        ["prospect_id", "ordinal", "unit_id", "field", "e164", "raw", "kind", "time_zone", "tz_source", "companions"];
    let mut w = CopyWriter::start(&mut tx, "destinations", &columns).await.expect("copy destinations");
    for (r, id) in rows.iter().zip(&ids) {
        for (o, d) in r.destinations.iter().enumerate() {
            w.int(*id).int(o as i64 + 1).int(unit).text(&d.field).text(&d.e164).text(&d.raw).text(d.kind);
            w.opt_text(d.time_zone.as_deref()).text(&d.tz_source).opt_text(d.companions.as_deref());
            w.end_row().await.expect("destination row");
        }
    }
    w.finish().await.expect("destinations copied");
    tx.commit().await.expect("commit");
}

async fn pg_pool() -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(PG_URL).await.expect("pg pool")
}

async fn row_sqlite(pool: &sqlx::SqlitePool, unit: i64, source: i64, rows: &[ProspectRow]) {
    for r in rows {
        let dup: Option<i64> = sqlx::query_scalar("SELECT id FROM prospects WHERE source_id = ?1 AND external_id = ?2")
            .bind(source)
            .bind(&r.external_id)
            .fetch_optional(pool)
            .await
            .expect("dup check");
        if dup.is_some() {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO prospects (unit_id, source_id, external_id, skill_no, first_name, last_name, fields, expires_at,
                 time_zone, tz_source, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
             RETURNING id",
        )
        .bind(unit)
        .bind(source)
        .bind(&r.external_id)
        .bind(SKILL)
        .bind(&r.first_name)
        .bind(&r.last_name)
        .bind(&r.fields)
        .bind(&r.expires_at)
        .bind(&r.time_zone)
        .bind(&r.tz_source)
        .bind(NOW)
        .fetch_one(pool)
        .await
        .expect("insert prospect");
        for (o, d) in r.destinations.iter().enumerate() {
            sqlx::query(
                "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind, time_zone, tz_source,
                     companions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .bind(id)
            .bind(o as i64 + 1)
            .bind(unit)
            .bind(&d.field)
            .bind(&d.e164)
            .bind(&d.raw)
            .bind(d.kind)
            .bind(&d.time_zone)
            .bind(&d.tz_source)
            .bind(&d.companions)
            .execute(pool)
            .await
            .expect("insert destination");
        }
    }
}

async fn row_pg(pool: &sqlx::PgPool, unit: i64, source: i64, rows: &[ProspectRow]) {
    for r in rows {
        let dup: Option<i64> = sqlx::query_scalar("SELECT id FROM prospects WHERE source_id = $1 AND external_id = $2")
            .bind(source)
            .bind(&r.external_id)
            .fetch_optional(pool)
            .await
            .expect("dup check");
        if dup.is_some() {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO prospects (unit_id, source_id, external_id, skill_no, first_name, last_name, fields, expires_at,
                 time_zone, tz_source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
             RETURNING id",
        )
        .bind(unit)
        .bind(source)
        .bind(&r.external_id)
        .bind(SKILL)
        .bind(&r.first_name)
        .bind(&r.last_name)
        .bind(&r.fields)
        .bind(&r.expires_at)
        .bind(&r.time_zone)
        .bind(&r.tz_source)
        .bind(NOW)
        .fetch_one(pool)
        .await
        .expect("insert prospect");
        for (o, d) in r.destinations.iter().enumerate() {
            sqlx::query(
                "INSERT INTO destinations (prospect_id, ordinal, unit_id, field, e164, raw, kind, time_zone, tz_source,
                     companions) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id)
            .bind(o as i64 + 1)
            .bind(unit)
            .bind(&d.field)
            .bind(&d.e164)
            .bind(&d.raw)
            .bind(d.kind)
            .bind(&d.time_zone)
            .bind(&d.tz_source)
            .bind(&d.companions)
            .execute(pool)
            .await
            .expect("insert destination");
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn run_backend(url: &str, backend: &'static str, batches: &[Vec<Value>], rows: &[Vec<ProspectRow>], reps: usize) {
    let mut b = Bench::new(url, backend).await;
    let n: usize = batches.iter().map(Vec::len).sum();
    let flat: Vec<ProspectRow> = rows.iter().flatten().cloned().collect();
    // The row-at-a-time loader is slow: it gets a slice and its rate is
    // per record.
    let row_n = (n / 20).clamp(1, 5_000);
    if let Anchor::Postgres(pool) = &b.anchor {
        // See the module notes: dead rows of earlier runs would weigh on
        // every loader's unique checks.
        sqlx::raw_sql("VACUUM ANALYZE prospects, destinations").execute(pool).await.expect("vacuum");
    }
    let (mut ours, mut bulk, mut copy, mut rowwise) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // `BENCH_ONLY=ours|bulk|row` measures one loader (for profiling).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let wants = |part: &str| only.is_empty() || only == part;
    for _ in 0..reps {
        if wants("ours") {
            ours.push(n as f64 / b.through_action(batches).await.as_secs_f64());
        }
        if wants("bulk") {
            bulk.push(n as f64 / b.bare_bulk(rows).await.as_secs_f64());
        }
        if wants("copy")
            && let Some(t) = b.bare_copy(rows).await
        {
            copy.push(n as f64 / t.as_secs_f64());
        }
        if wants("row") {
            rowwise.push(row_n as f64 / b.row_at_a_time(&flat[..row_n]).await.as_secs_f64());
        }
    }
    if !only.is_empty() {
        println!(
            "{backend:<8} {only}: {:?} rec/s",
            [ours, bulk, copy, rowwise].concat().iter().map(|x| *x as u64).collect::<Vec<_>>()
        );
        b.cleanup().await;
        return;
    }
    b.cleanup().await;
    let (o, k, r) = (median(&mut ours), median(&mut bulk), median(&mut rowwise));
    println!(
        "{backend:<8} CREATEPROSPECTS v2 {o:>9.0} rec/s | bare bulk insert {k:>9.0} rec/s ({:.2}x of ours) | \
         row-at-a-time {r:>7.0} rec/s (ours {:.1}x faster)",
        k / o,
        o / r
    );
    if !copy.is_empty() {
        let c = median(&mut copy);
        println!("{backend:<8} CREATEPROSPECTS v2 {o:>9.0} rec/s | bare COPY {c:>9.0} rec/s ({:.2}x of ours)", c / o);
    }
    let runs = |v: &[f64]| v.iter().map(|x| *x as u64).collect::<Vec<_>>();
    println!(
        "{backend:<8}   runs: ours {:?} bulk {:?} copy {:?} row {:?}",
        runs(&ours),
        runs(&bulk),
        runs(&copy),
        runs(&rowwise)
    );
}

fn main() {
    let n: usize = std::env::var("BENCH_RECORDS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let batch: usize = std::env::var("BENCH_BATCH").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let reps: usize = std::env::var("BENCH_REPS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    let all = records(n);
    let batches: Vec<Vec<Value>> = all.chunks(batch).map(|c| c.to_vec()).collect();

    // The normalized rows the anchors insert: the pipeline's own output.
    let map = SourceMap { version: 1, entries: mapping() };
    let user_fields: Vec<prospero::outbound::model::UserField> = ["CellPhone", "WorkPhone"]
        .iter()
        .map(|f| prospero::outbound::model::UserField {
            name: f.to_string(),
            data_type: prospero::outbound::fields::DataType::Phone,
            default_value: None,
            value_required: false,
            associations: vec![],
        })
        .collect();
    let settings = BatchSettings {
        map: &map,
        user_fields: &user_fields,
        max_destinations: 6,
        use_default_zone: true,
        default_zone: Some(chrono_tz::America::New_York),
        default_expiration: None,
        now: NOW.parse().expect("time"),
    };
    // Load the reference data (the ZIP table decompresses on first use)
    // before anything is timed.
    let _ = prospero::timezone::zip_zone("62701");
    let _ = prospero::timezone::parse_phone("212-736-5000").map(|p| prospero::timezone::number_zone(&p));
    let t = Instant::now();
    let rows: Vec<Vec<ProspectRow>> = batches.iter().map(|b| prospects::prepare_batch(&settings, b).rows).collect();
    let prepare = t.elapsed();
    let valid: usize = rows.iter().map(Vec::len).sum();
    assert_eq!(valid, n, "every bench record is valid");
    let dests: usize = rows.iter().flatten().map(|r| r.destinations.len()).sum();
    println!(
        "{n} records, {dests} destinations, batches of {batch}; mapping+validation+zones alone: {:.0} rec/s",
        n as f64 / prepare.as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bench.db");
    if std::env::var("PROSPERO_BENCH_SQLITE").as_deref() != Ok("0") {
        rt.block_on(run_backend(file.to_str().expect("path"), "sqlite", &batches, &rows, reps));
    }
    if std::env::var("PROSPERO_BENCH_PG").as_deref() != Ok("0") {
        rt.block_on(run_backend(PG_URL, "postgres", &batches, &rows, reps));
    }
}
