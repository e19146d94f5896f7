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

use super::tests::{PG_URL, run_steps, step, text, unique_unit};
const NOW: &str = "2026-03-08T06:30:00Z";

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

const GOOD: &str = "First Name,Last Name,Work Email,Cell Phone,External ID\n\
    Ada,Lovelace,ada@example.org,212 736 5000,C-1\n\
    Bob,,bob@,,C-2\n\
    Grace,Hopper,grace@example.org,,C-3\n";

/// Every branch of IMPORTCONTACTS but Cancelled (which needs a second
/// process: `importer_cancel_and_resume` covers it through the library).
async fn import_action_branches(url: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.csv");
    std::fs::write(&good, GOOD).expect("file");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, b"First Name,Last Name\n\xff\xfe,x\n").expect("file");
    let rt = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e} (is PostgreSQL running?)"));
    let imports = imports::store_of(&store).expect("imports");
    let unit = rt.unit_id().await.expect("unit");
    imports.save_profile(unit, "broken", r#"{"name": "broken", "matchOn": []}"#, NOW).await.expect("saved");
    let file = good.to_str().expect("UTF-8");
    let steps = [
        step(
            "IMPORTCONTACTS",
            json!({"File": file, "JobId": "job", "Log": "log", "Created": "made", "NotImported": "refused"}),
            "Default",
        ),
        step("IMPORTCONTACTS", json!({"File": file, "ValidateOnly": "true", "Log": "checked"}), "Default"),
        step("IMPORTCONTACTS", json!({"File": "{blank}"}), "MissingRequiredField"),
        step("IMPORTCONTACTS", json!({"File": bad.to_str().expect("UTF-8")}), "FileRejected"),
        step("IMPORTCONTACTS", json!({"File": file, "Profile": "nope"}), "ProfileNotFound"),
        step("IMPORTCONTACTS", json!({"File": file, "Profile": "broken"}), "InvalidProfile"),
        step("IMPORTCONTACTS", json!({"File": file, "Layout": "sideways"}), "OnError"),
    ];
    let (r, got, want) = run_steps(&rt, &steps, "bad").await;
    assert_eq!(got, want, "{url}: notes {:?}; _ERR {}", r.notes, text(&r, "_ERR"));
    assert_eq!((text(&r, "made"), text(&r, "refused")), ("2".into(), "1".into()), "{url}");
    assert_eq!(text(&r, "log.entries.1.line"), "3");
    assert_eq!(text(&r, "log.entries.1.reason"), "incomplete_email");
    assert_eq!(text(&r, "checked.notImported"), "1", "{url}: validate-only reports the same rejection");
    let jobs = imports.jobs(unit, 10).await.expect("jobs");
    assert_eq!(jobs.len(), 1, "{url}: only the real import made a job");
    assert_eq!(text(&r, "job"), jobs[0].id.to_string());
    assert_eq!((jobs[0].status, jobs[0].created, jobs[0].rejected), (JobStatus::Completed, 2, 1));
    rt.close().await;
}

/// Cancel between batches keeps what was committed; a resume of the
/// cancelled job is refused; a job left importing (a killed process) is
/// resumed to the same counts as an import never interrupted, and a resume
/// from another file is refused before anything is written.
async fn importer_cancel_and_resume(url: &str) {
    use super::importer::{ImportError, Importer};
    use crate::contacts::import::ImportProfile;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rows.csv");
    let mut csv = String::from("First Name,Last Name,Work Email\n");
    for i in 0..9 {
        csv.push_str(&format!("F{i},L{i},p{i}@example.org\n"));
    }
    std::fs::write(&path, &csv).expect("file");
    let rt = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e} (is PostgreSQL running?)"));
    let unit = rt.unit_id().await.expect("unit");
    let imports = imports::store_of(&store).expect("imports");
    let mut imp = Importer::new(imports.clone(), unit);
    imp.batch_rows = 2;
    let profile = ImportProfile::default_for(Default::default());

    // Cancel from the progress callback after the second batch.
    let handle = tokio::runtime::Handle::current();
    let (cancel_store, mut batches) = (imports.clone(), 0);
    let mut on_progress = |_| {
        batches += 1;
        if batches == 2 {
            let s = cancel_store.clone();
            tokio::task::block_in_place(|| {
                handle.block_on(async move {
                    let id = s.jobs(unit, 1).await.expect("jobs")[0].id;
                    s.set_job_status(unit, id, JobStatus::Cancelled, None, NOW).await.expect("cancel")
                })
            });
        }
    };
    let job = imp.start(&path, &profile, &mut on_progress).await.expect("ran");
    assert_eq!((job.status, job.rows_done, job.last_line, job.created), (JobStatus::Cancelled, 4, 5, 4), "{url}");
    assert!(matches!(imp.resume(job.id, &path, &mut |_| {}).await, Err(ImportError::WrongStatus { .. })));

    // A killed process leaves the job importing: resume finishes it.
    imports.set_job_status(unit, job.id, JobStatus::Importing, None, NOW).await.expect("status");
    let other = dir.path().join("other.csv");
    std::fs::write(&other, csv.replace("F8", "G8")).expect("file");
    let refused = imp.resume(job.id, &other, &mut |_| {}).await;
    assert!(matches!(refused, Err(ImportError::ChangedFile { .. })), "{url}: {refused:?}");
    assert_eq!(imp.job(job.id).await.expect("job").rows_done, 4, "{url}: the refused resume wrote nothing");
    let done = imp.resume(job.id, &path, &mut |_| {}).await.expect("resumed");
    assert_eq!((done.status, done.rows_done, done.created, done.updated), (JobStatus::Completed, 9, 9, 0), "{url}");
    assert!(matches!(imp.cancel(done.id).await, Err(ImportError::WrongStatus { .. })));
    // The same file again updates every contact.
    let again = imp.start(&path, &profile, &mut |_| {}).await.expect("again");
    assert_eq!((again.created, again.updated), (0, 9), "{url}");
    rt.close().await;
}

on_both_backends!(import_action_branches =>
    sqlite: every_branch_of_importcontacts_on_sqlite,
    postgres: every_branch_of_importcontacts_on_postgres,
);
on_both_backends!(importer_cancel_and_resume =>
    sqlite: an_import_cancels_between_batches_and_resumes_after_a_kill_on_sqlite,
    postgres: an_import_cancels_between_batches_and_resumes_after_a_kill_on_postgres,
);
