//! The import store on an SQLite file and on PostgreSQL (127.0.0.1:5432,
//! database `test`; the test fails when it cannot be reached): profiles,
//! jobs, and batches planned by `contacts::batch` and written with the
//! job's progress.

use super::imports::{self, Batch, BatchDone, JobStatus, LogEntry, NewJob};
use super::store_of;
use crate::contacts::batch::{MatchKey, MergeMode, OrgRef, Plan, RowInput, Stored, plan};
use crate::contacts::import::Reason;
use crate::contacts::{ContactSearch, email::email_key};
use crate::engine::Runtime;
use serde_json::{Value as Json, json};

use super::tests::PG_URL;
const NOW: &str = "2026-03-08T06:30:00Z";

fn unique_unit() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("imports-{}-{nanos}", std::process::id())
}

fn row(line: u64, email: &str, fields: Json) -> RowInput {
    let Json::Object(changes) = fields else { panic!("an object") };
    RowInput {
        line,
        keys: vec![MatchKey::Email(email_key(email))],
        changes: Some(changes),
        organization: None,
        external_id: None,
    }
}

/// The runner's planner: what the store read, with the unit's country.
fn planner_of(rows: &[RowInput]) -> impl FnMut(Stored) -> Plan + Send + '_ {
    move |mut s: Stored| {
        s.default_country = "US".into();
        plan(rows, s, "CRM", MergeMode::MergeAll)
    }
}

fn batch_of(rows: &[RowInput], after_rows: u64) -> Batch {
    Batch {
        after_rows,
        rows: rows.len() as u64,
        last_line: rows.last().map(|r| r.line).unwrap_or(0),
        keys: rows.iter().flat_map(|r| r.keys.clone()).collect(),
        organizations: rows.iter().filter_map(|r| r.organization.as_ref().map(|o| o.external_id.clone())).collect(),
        source: "CRM".into(),
        rejected: Vec::new(),
    }
}

async fn profiles_and_jobs(url: &str) {
    let rt = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e} (is PostgreSQL running?)"));
    let imports = imports::store_of(&store).expect("SQLite and PostgreSQL serve imports");
    let unit = rt.unit_id().await.expect("unit");
    assert!(imports.save_profile(unit, "Weekly CRM", r#"{"a":1}"#, NOW).await.expect("saved"));
    assert!(!imports.save_profile(unit, "weekly crm", r#"{"a":2}"#, NOW).await.expect("replaced"));
    assert_eq!(imports.profile(unit, "WEEKLY CRM").await.expect("read").as_deref(), Some(r#"{"a":2}"#));
    assert_eq!(imports.profiles(unit).await.expect("list"), [("weekly crm".to_string(), r#"{"a":2}"#.to_string())]);
    assert!(imports.delete_profile(unit, "Weekly crm").await.expect("deleted"));
    assert!(!imports.delete_profile(unit, "Weekly crm").await.expect("gone"));

    let new = NewJob { file_name: "a.csv".into(), checksum: "abc".into(), profile: "{}".into(), rows_total: 3 };
    let id = imports.create_job(unit, &new, NOW).await.expect("job");
    let job = imports.job(unit, id).await.expect("read").expect("there");
    assert_eq!((job.status, job.rows_total, job.rows_done), (JobStatus::Validating, 3, 0));
    let rows = [row(2, "a@x.org", json!({"firstName": "A", "lastName": "B", "workEmail": "a@x.org"}))];
    let mut planner = planner_of(&rows);
    let early = imports.import_batch(unit, id, &batch_of(&rows, 0), &mut planner, NOW).await.expect("batch");
    assert_eq!(early, BatchDone::Stale, "{url}: a job that is not importing takes no batch");
    assert!(imports.set_job_status(unit, id, JobStatus::Importing, None, NOW).await.expect("status"));
    let done = imports.import_batch(unit, id, &batch_of(&rows, 0), &mut planner, NOW).await.expect("batch");
    assert_eq!(done, BatchDone::Applied { created: 1, updated: 0, rejected: 0, organizations_created: 0 });
    let again = imports.import_batch(unit, id, &batch_of(&rows, 0), &mut planner, NOW).await.expect("batch");
    assert_eq!(again, BatchDone::Stale, "{url}: a batch already applied is not applied twice");
    let job = imports.job(unit, id).await.expect("read").expect("there");
    assert_eq!((job.rows_done, job.last_line, job.created), (1, 2, 1));
    assert_eq!(imports.jobs(unit, 10).await.expect("jobs").len(), 1);
    // Another unit sees none of it.
    let other = store.ensure_business_unit(&format!("{}-other", unique_unit())).await.expect("unit").id;
    assert!(imports.job(other, id).await.expect("read").is_none());
    assert!(imports.jobs(other, 10).await.expect("jobs").is_empty());
    rt.close().await;
}

async fn merge_batches(url: &str) {
    let rt = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e} (is PostgreSQL running?)"));
    let imports = imports::store_of(&store).expect("imports");
    let contacts = store_of(&store).expect("contacts");
    let unit = rt.unit_id().await.expect("unit");
    let new = NewJob { file_name: "b.csv".into(), checksum: "def".into(), profile: "{}".into(), rows_total: 6 };
    let job = imports.create_job(unit, &new, NOW).await.expect("job");
    imports.set_job_status(unit, job, JobStatus::Importing, None, NOW).await.expect("status");
    // Two contacts share an email; the second also has a phone and a note.
    let mut first = vec![
        row(2, "s@x.org", json!({"firstName": "Old", "lastName": "One", "workEmail": "s@x.org"})),
        row(
            3,
            "t@x.org",
            json!({"firstName": "New", "lastName": "Two", "workEmail": "t@x.org",
                                 "personalEmail": "s@x.org", "cellPhone": "212 736 5000"}),
        ),
        row(4, "u@x.org", json!({"firstName": "No", "workEmail": "u@x.org"})),
    ];
    first[1].external_id = Some("C-2".into());
    first[0].organization = Some(OrgRef { external_id: "ACME-1".into(), name: Some("Acme".into()) });
    let mut planner = planner_of(&first);
    let mut b = batch_of(&first, 0);
    b.keys.push(MatchKey::ExternalId("C-2".into()));
    b.rejected.push(LogEntry { line: 5, reason: Reason::WrongColumnCount, detail: "3 cells, 4 columns".into() });
    b.rows += 1;
    b.last_line = 5;
    let done = imports.import_batch(unit, job, &b, &mut planner, NOW).await.expect("batch");
    assert_eq!(done, BatchDone::Applied { created: 2, updated: 0, rejected: 2, organizations_created: 1 });
    let young = contacts.find_contacts(unit, &ContactSearch::Email(email_key("t@x.org")), 5).await.expect("find");
    let young_id = young[0].id;
    contacts.add_note(unit, young_id, "agent", "called back", NOW).await.expect("note");

    let second = [row(6, "s@x.org", json!({"title": "Dr"}))];
    let mut planner = planner_of(&second);
    let done = imports.import_batch(unit, job, &batch_of(&second, 4), &mut planner, NOW).await.expect("batch");
    assert_eq!(done, BatchDone::Applied { created: 0, updated: 1, rejected: 0, organizations_created: 0 });
    let found = contacts.find_contacts(unit, &ContactSearch::Email(email_key("s@x.org")), 5).await.expect("find");
    assert_eq!(found.len(), 1, "{url}: merged into one");
    let survivor = &found[0];
    assert_eq!(survivor.record.first_name, "Old", "{url}: the oldest survives");
    assert_eq!(survivor.record.title.as_deref(), Some("Dr"));
    assert_eq!(survivor.record.phones["cellPhone"].e164.as_deref(), Some("+12127365000"));
    assert_eq!(survivor.organization.as_ref().map(|o| o.name.as_str()), Some("Acme"));
    assert_eq!(survivor.external_ids.len(), 1, "{url}: the external ID moved");
    let by_id = ContactSearch::ExternalId { source: Some("crm".into()), id: "C-2".into() };
    assert_eq!(contacts.find_contacts(unit, &by_id, 5).await.expect("find")[0].id, survivor.id);
    assert_eq!(contacts.notes(unit, survivor.id).await.expect("notes").len(), 1, "{url}: the note moved");
    assert!(contacts.contact(unit, young_id).await.expect("read").is_none(), "{url}: the merged-away contact is gone");
    let log = imports.job_log(unit, job).await.expect("log");
    let lines: Vec<(u64, &str)> = log.iter().map(|e| (e.line, e.reason.code())).collect();
    assert_eq!(lines, [(4, "missing_last_name"), (5, "wrong_column_count")]);
    let j = imports.job(unit, job).await.expect("read").expect("there");
    assert_eq!((j.rows_done, j.created, j.updated, j.rejected, j.organizations_created), (5, 2, 1, 2, 1));
    rt.close().await;
}

on_both_backends!(profiles_and_jobs =>
    sqlite: import_profiles_and_jobs_on_sqlite,
    postgres: import_profiles_and_jobs_on_postgres,
);
on_both_backends!(merge_batches =>
    sqlite: import_batches_merge_and_log_on_sqlite,
    postgres: import_batches_merge_and_log_on_postgres,
);
