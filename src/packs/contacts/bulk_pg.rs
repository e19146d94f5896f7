//! New contacts written on PostgreSQL in bulk through COPY
//! (`store::postgres::copy`), in one transaction: the same rows the
//! one-statement-per-row path of `sql.rs` writes, with a round trip per
//! table per batch instead of five or more per contact.
//!
//! COPY has no `ON CONFLICT` and returns nothing, so the batch is written
//! as: the external IDs it adds checked first, against the unit's and
//! against each other (the first row holding a taken one is reported, and
//! nothing written, as the row path reports it); the contacts numbered from
//! the table's sequence, in row order, each with its external IDs already
//! in its JSON; then one COPY per table. An external ID another writer adds
//! between the check and the COPY fails the COPY with a unique violation:
//! the batch is rolled back and written again row by row, which waits for
//! that writer and reports the row the way it always does. Batches smaller
//! than [`COPY_FROM`] take the row path straight away.

use super::sql::{
    CONTACT_COLUMNS, EMAIL_COLUMNS, EXTERNAL_ID_COLUMNS, PHONE_COLUMNS, add_contacts_pg as add_row_by_row,
    contact_params, email_params, json, name_keys, phone_params,
};
use crate::contacts::ContactRow;
use crate::contacts::model::ExternalId;
use crate::store::postgres::copy::{CopyError, CopyWriter};
use crate::store::sql::Param::Int;
use crate::store::sql::text;
use crate::store::{PgStore, StoreError};
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

/// From how many rows a batch goes through COPY: below, the few statements
/// per row cost less than COPY's fixed round trips (the ids, the check,
/// one COPY per table).
pub const COPY_FROM: usize = 16;

/// `$1` fresh contact ids, from the sequence the table's own inserts use.
const CONTACT_IDS: &str = "SELECT nextval('contacts_id_seq'::regclass) FROM generate_series(1, $1)";
/// Which of the external IDs `($2[i], $3[i])` the unit `$1` has already.
const TAKEN: &str = "SELECT x.source_id, x.external_id FROM contact_external_ids x
     JOIN UNNEST($2::bigint[], $3::text[]) AS k(source_id, external_id)
       ON x.source_id = k.source_id AND x.external_id = k.external_id
     WHERE x.unit_id = $1";
/// The names of the unit's external sources whose ids the array `$2` lists.
const SOURCE_NAMES: &str = "SELECT id, name FROM external_sources WHERE unit_id = $1 AND id = ANY($2)";

/// How one COPY attempt ended, short of a store failure.
enum Copied {
    /// Written (the ids in row order), or nothing written because row `i`
    /// adds an external ID already taken.
    Done(Result<Vec<i64>, usize>),
    /// Another writer took one of the batch's external IDs after the
    /// check: nothing was written.
    KeyTaken,
}

impl From<CopyError> for Failure {
    fn from(e: CopyError) -> Failure {
        Failure(e.into())
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure(e.into())
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure(e)
    }
}

/// A store failure inside [`copy`] (a type of its own so that `?` converts
/// the copy, driver and store errors alike).
struct Failure(StoreError);

/// Add `rows` as new contacts of `unit` in one transaction: their ids in
/// order, or the index of the first row whose external ID is taken (then
/// nothing is written).
pub(super) async fn add_contacts(
    store: &PgStore,
    unit: i64,
    rows: &[ContactRow],
    now: &str,
) -> Result<Result<Vec<i64>, usize>, StoreError> {
    if rows.len() < COPY_FROM {
        return add_row_by_row(store, unit, rows, now).await;
    }
    let mut tx = store.pool().begin().await?;
    match copy(&mut tx, unit, rows, now).await {
        Ok(Copied::Done(Ok(ids))) => {
            tx.commit().await?;
            Ok(Ok(ids))
        }
        Ok(Copied::Done(Err(i))) => Ok(Err(i)),
        Ok(Copied::KeyTaken) => {
            drop(tx);
            add_row_by_row(store, unit, rows, now).await
        }
        Err(Failure(e)) => Err(e),
    }
}

/// The batch's external IDs checked, then every row copied, inside `tx`.
async fn copy(tx: &mut PgConnection, unit: i64, rows: &[ContactRow], now: &str) -> Result<Copied, Failure> {
    let external_ids = match external_ids(tx, unit, rows).await? {
        Ok(names) => names,
        Err(i) => return Ok(Copied::Done(Err(i))),
    };
    let mut ids: Vec<i64> = sqlx::query_scalar(CONTACT_IDS).bind(rows.len() as i64).fetch_all(&mut *tx).await?;
    if ids.len() != rows.len() {
        return Err(StoreError::Query(format!("{} contact ids for {} contacts", ids.len(), rows.len())).into());
    }
    ids.sort_unstable();
    let mut w = CopyWriter::start(tx, "contacts", CONTACT_COLUMNS).await?;
    for ((row, id), external) in rows.iter().zip(&ids).zip(&external_ids) {
        let (keys, record, external) = (name_keys(&row.record), json(&row.record)?, json(external)?);
        w.int(*id);
        for value in contact_params(unit, row, &keys, &record, &external, now) {
            w.param(value);
        }
        // `contact_params` ends with the time once, for both columns.
        w.text(now).end_row().await?;
    }
    w.finish().await?;
    let mut w = CopyWriter::start(tx, "contact_phones", PHONE_COLUMNS).await?;
    for (row, id) in rows.iter().zip(&ids) {
        for (field, p) in &row.record.phones {
            w.row(&phone_params(unit, *id, field, p)).await?;
        }
    }
    w.finish().await?;
    let mut w = CopyWriter::start(tx, "contact_emails", EMAIL_COLUMNS).await?;
    for (row, id) in rows.iter().zip(&ids) {
        for (field, key) in &row.email_keys {
            w.row(&email_params(unit, *id, row, field, key)).await?;
        }
    }
    w.finish().await?;
    if rows.iter().any(|r| !r.new_external_ids.is_empty()) {
        let copied = async {
            let mut w = CopyWriter::start(tx, "contact_external_ids", EXTERNAL_ID_COLUMNS).await?;
            for (row, id) in rows.iter().zip(&ids) {
                for (source, value) in &row.new_external_ids {
                    w.row(&[Int(unit), Int(*id), Int(*source), text(value), text(now)]).await?;
                }
            }
            w.finish().await
        };
        match copied.await {
            Err(e) if e.is_unique_violation() => return Ok(Copied::KeyTaken),
            done => done?,
        };
    }
    Ok(Copied::Done(Ok(ids)))
}

/// Each row's external IDs as its contact will hold them (source names
/// with the identifiers), or the index of the first row adding one that the
/// unit has already or that an earlier row (or pair of the same row) adds.
async fn external_ids(
    tx: &mut PgConnection,
    unit: i64,
    rows: &[ContactRow],
) -> Result<Result<Vec<Vec<ExternalId>>, usize>, Failure> {
    let pairs: Vec<&(i64, String)> = rows.iter().flat_map(|r| &r.new_external_ids).collect();
    if pairs.is_empty() {
        return Ok(Ok(vec![Vec::new(); rows.len()]));
    }
    let sources: Vec<i64> = pairs.iter().map(|(s, _)| *s).collect();
    let values: Vec<&str> = pairs.iter().map(|(_, v)| v.as_str()).collect();
    let taken: Vec<(i64, String)> =
        sqlx::query_as(TAKEN).bind(unit).bind(&sources).bind(&values).fetch_all(&mut *tx).await?;
    let mut seen: HashSet<(i64, &str)> = taken.iter().map(|(s, v)| (*s, v.as_str())).collect();
    for (i, row) in rows.iter().enumerate() {
        // `insert` is false for a pair taken already or added before.
        if !row.new_external_ids.iter().all(|(s, v)| seen.insert((*s, v.as_str()))) {
            return Ok(Err(i));
        }
    }
    let names: HashMap<i64, String> =
        sqlx::query_as(SOURCE_NAMES).bind(unit).bind(&sources).fetch_all(&mut *tx).await?.into_iter().collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let ids = row.new_external_ids.iter().map(|(source, id)| match names.get(source) {
            Some(name) => Ok(ExternalId { source: name.clone(), id: id.clone() }),
            None => Err(StoreError::Query(format!("no external source {source}"))),
        });
        out.push(ids.collect::<Result<Vec<_>, _>>()?);
    }
    Ok(Ok(out))
}

#[cfg(test)]
mod tests {
    //! On PostgreSQL (127.0.0.1:5432, database `test`; the tests fail when
    //! it cannot be reached), each in business units of its own.

    use super::*;
    use crate::contacts::{ContactSearch, apply_changes, email::email_key};
    use crate::packs::contacts::ContactsStore;
    use crate::packs::contacts::tests::PG_URL;
    use serde_json::json;
    use std::sync::Arc;

    const NOW: &str = "2026-11-21T15:00:00Z";

    async fn pg() -> Arc<dyn crate::store::Store> {
        crate::store::open(PG_URL).await.unwrap_or_else(|e| panic!("opening {PG_URL}: {e} (is PostgreSQL running?)"))
    }

    fn pg_store(store: &Arc<dyn crate::store::Store>) -> &PgStore {
        store.as_any().downcast_ref::<PgStore>().expect("a PostgreSQL store")
    }

    async fn unit(store: &Arc<dyn crate::store::Store>, name: &str) -> i64 {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let name = format!("copy-{name}-{}-{nanos}", std::process::id());
        store.ensure_business_unit(&name).await.expect("unit").id
    }

    /// Contact `i` (two emails, two phones, one with an extension and SMS),
    /// adding `external` as its new external IDs.
    fn row(i: usize, external: Vec<(i64, String)>) -> ContactRow {
        let given = json!({"firstName": format!("F{i}"), "lastName": "Copy\tTab\\Slash", "workEmail": format!("w{i}@x.org"),
            "personalEmail": format!("P{i}@Home.org"), "cellPhone": {"display": format!("(212) 736-{:04}", i), "smsEnabled": true},
            "workPhone": format!("+1 415 555 {:04} ext. 12", i)});
        let (record, _) =
            apply_changes(None, given.as_object().expect("an object"), None, "US").expect("valid contact");
        ContactRow::new(record, None, external)
    }

    /// What a contact holds, whichever path wrote it (ids and the unit
    /// aside).
    async fn held(contacts: &dyn ContactsStore, unit: i64, id: i64) -> serde_json::Value {
        let c = contacts.contact(unit, id).await.expect("read").expect("written");
        json!([c.record, c.external_ids, c.create_date, c.modify_date, c.organization.is_some()])
    }

    #[tokio::test]
    async fn a_copied_batch_reads_back_exactly_as_the_row_path_writes_it() {
        let store = pg().await;
        let contacts = crate::packs::contacts::store_of(&store).expect("contacts store");
        let (copied, by_row) = (unit(&store, "a").await, unit(&store, "b").await);
        let mut rows_of = Vec::new();
        for u in [copied, by_row] {
            let crm = contacts.add_source(u, "CRM", NOW).await.expect("source").expect("new");
            let erp = contacts.add_source(u, "ERP", NOW).await.expect("source").expect("new");
            let rows: Vec<ContactRow> = (0..40)
                .map(|i| match i % 3 {
                    0 => row(i, Vec::new()),
                    1 => row(i, vec![(crm, format!("C-{i}"))]),
                    _ => row(i, vec![(erp, format!("E-{i}")), (crm, format!("C-{i}"))]),
                })
                .collect();
            rows_of.push(rows);
        }
        let ids = add_contacts(pg_store(&store), copied, &rows_of[0], NOW).await.expect("store").expect("no taken ID");
        let row_ids =
            add_row_by_row(pg_store(&store), by_row, &rows_of[1], NOW).await.expect("store").expect("no taken ID");
        assert_eq!(ids.len(), 40);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids in row order: {ids:?}");
        for (i, (a, b)) in ids.iter().zip(&row_ids).enumerate() {
            assert_eq!(held(contacts.as_ref(), copied, *a).await, held(contacts.as_ref(), by_row, *b).await, "row {i}");
        }
        // Every search table was filled: the phones, the emails, the IDs.
        for (i, id) in ids.iter().enumerate() {
            let phone = crate::contacts::phone::phone_key(&format!("(212) 736-{i:04}"), "US").expect("valid");
            for search in [ContactSearch::Phone(phone), ContactSearch::Email(email_key(&format!("p{i}@home.org")))] {
                let found = contacts.find_contacts(copied, &search, 5).await.expect("find");
                assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [*id], "row {i}: {search:?}");
            }
        }
        let by_id = ContactSearch::ExternalId { source: Some("erp".into()), id: "E-2".into() };
        assert_eq!(contacts.find_contacts(copied, &by_id, 5).await.expect("find")[0].id, ids[2]);
    }

    #[tokio::test]
    async fn a_taken_external_id_names_the_same_row_on_both_paths_and_writes_nothing() {
        let store = pg().await;
        let contacts = crate::packs::contacts::store_of(&store).expect("contacts store");
        let u = unit(&store, "taken").await;
        let crm = contacts.add_source(u, "CRM", NOW).await.expect("source").expect("new");
        contacts.add_contacts(u, &[row(1000, vec![(crm, "OLD".into())])], NOW).await.expect("store").expect("added");
        let batch = |taken_at: usize, twice: Option<(usize, usize)>| -> Vec<ContactRow> {
            (0..30)
                .map(|i| {
                    let mut ids = vec![(crm, format!("N-{i}"))];
                    if i == taken_at {
                        ids.push((crm, "OLD".into()));
                    }
                    if let Some((a, b)) = twice
                        && (i == a || i == b)
                    {
                        ids.push((crm, "TWICE".into()));
                    }
                    row(i, ids)
                })
                .collect()
        };
        let cases = [(batch(7, None), 7), (batch(99, Some((3, 11))), 11), (batch(20, Some((3, 11))), 11)];
        for (rows, want) in &cases {
            let copied = add_contacts(pg_store(&store), u, rows, NOW).await.expect("store");
            let by_row = add_row_by_row(pg_store(&store), u, rows, NOW).await.expect("store");
            assert_eq!((copied, by_row), (Err(*want), Err(*want)));
        }
        // The same pair twice in one row is taken by the row itself.
        let mut twice = batch(99, None);
        twice[5].new_external_ids.push((crm, "N-5".into()));
        assert_eq!(add_contacts(pg_store(&store), u, &twice, NOW).await.expect("store"), Err(5));
        let none = contacts.find_contacts(u, &ContactSearch::Email(email_key("w0@x.org")), 5).await.expect("find");
        assert!(none.is_empty(), "nothing of a refused batch was written: {none:?}");
    }

    /// An external ID another transaction adds after the batch's check
    /// (it commits while the COPY waits on it) is reported at its row, as
    /// the row path reports it, whichever comes first.
    #[tokio::test]
    async fn an_external_id_taken_during_the_copy_is_reported_at_its_row() {
        let store = pg().await;
        let contacts = crate::packs::contacts::store_of(&store).expect("contacts store");
        let u = unit(&store, "race").await;
        let crm = contacts.add_source(u, "CRM", NOW).await.expect("source").expect("new");
        let pool = pg_store(&store).pool().clone();
        let mut other = pool.begin().await.expect("begin");
        let (id,): (i64,) =
            sqlx::query_as("SELECT nextval('contacts_id_seq'::regclass)").fetch_one(&mut *other).await.expect("an id");
        sqlx::query(
            "INSERT INTO contacts (id, unit_id, first_name, last_name, first_key, last_key, record, created_at, modified_at)
             VALUES ($1, $2, 'A', 'B', 'a', 'b', '{}', $3, $3)",
        )
        .bind(id)
        .bind(u)
        .bind(NOW)
        .execute(&mut *other)
        .await
        .expect("contact");
        sqlx::query(
            "INSERT INTO contact_external_ids (unit_id, contact_id, source_id, external_id, created_at)
             VALUES ($1, $2, $3, 'LATE', $4)",
        )
        .bind(u)
        .bind(id)
        .bind(crm)
        .bind(NOW)
        .execute(&mut *other)
        .await
        .expect("external ID");
        let rows: Vec<ContactRow> =
            (0..20).map(|i| row(i, if i == 13 { vec![(crm, "LATE".into())] } else { Vec::new() })).collect();
        let writer = {
            let store = store.clone();
            tokio::spawn(async move { add_contacts(pg_store(&store), u, &rows, NOW).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        other.commit().await.expect("commit");
        assert_eq!(writer.await.expect("writer").expect("store"), Err(13));
    }
}
