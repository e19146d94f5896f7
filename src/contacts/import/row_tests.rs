//! Tests of the row step, the spec's worked examples, the preview, and the
//! sample CRM export (`scripts/data/crm-export.csv`).

use super::*;
use crate::contacts::import::file::Limits;
use crate::contacts::import::layout::{Layout, resolve};
use crate::contacts::import::log::RejectedWriter;
use crate::contacts::import::profile::FieldMapping;
use crate::contacts::import::{ImportReader, check_path, preview, validate};
use crate::contacts::types::CustomField;
use serde_json::json;
use std::collections::BTreeSet;

const NO_TYPES: RowContext<'static> = RowContext { unit_country: "US", contact_types: &[] };

/// Read one row under `header` with `profile`.
fn row(header: &str, cells: &str, profile: &ImportProfile, ctx: &RowContext<'_>) -> Result<ImportRow, Rejected> {
    let names: Vec<String> = header.split(',').map(String::from).collect();
    let plan = resolve(&names, 1, profile).expect("header");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(cells.as_bytes());
    let record = reader.records().next().expect("a row").expect("csv");
    read_row(&Record::new(7, &record), &plan, profile, ctx)
}

fn new() -> ImportProfile {
    ImportProfile::default_for(Layout::New)
}

fn reason(r: Result<ImportRow, Rejected>) -> (Reason, String) {
    let r = r.expect_err("rejected");
    assert_eq!(r.line, 7);
    (r.reason, r.detail)
}

#[test]
fn reason_codes_are_distinct_and_read_back() {
    let codes: BTreeSet<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), Reason::ALL.len());
    for r in Reason::ALL {
        assert_eq!(Reason::from_code(r.code()), Some(r));
    }
}

#[test]
fn a_row_becomes_checked_changes_match_keys_and_an_organization() {
    let header = "External ID,First Name,Last Name,Work Email,Personal Email,Cell Phone,Work Phone,City,\
                  External Organization Name,External Organization External ID";
    let mut p = new();
    p.external_source = Some("CRM".into());
    p.match_on = vec!["cellPhone".into(), "personalEmail".into(), "externalId".into(), "workEmail".into()];
    let r = row(header, "C-1, Ada ,Lovelace,Ada@Example.org,,(212) 736-5000,call me,London,Acme,ACME-1", &p, &NO_TYPES)
        .expect("valid");
    assert_eq!(
        Json::Object(r.contact.clone().expect("a contact")),
        json!({"firstName": "Ada", "lastName": "Lovelace", "workEmail": "Ada@Example.org",
               "cellPhone": "(212) 736-5000", "workPhone": "call me", "address": {"city": "London"}})
    );
    assert_eq!(
        r.match_keys,
        [
            ContactSearch::Phone("+12127365000".into()),
            ContactSearch::ExternalId { source: Some("CRM".into()), id: "C-1".into() },
            ContactSearch::Email("ada@example.org".into()),
        ]
    );
    assert_eq!(r.organization, Some(OrgRef { name: Some("Acme".into()), external_id: "ACME-1".into() }));
    assert_eq!(r.flagged_phones.len(), 1);
    assert_eq!(r.flagged_phones[0].0, "workPhone");
    assert!(r.missing_names.is_empty() && r.creation_fault().is_none());
    // A blank address part never erases the stored one.
    let base = ContactRecord {
        address: Some(crate::contacts::Address { address1: Some("1 Main St".into()), ..Default::default() }),
        ..Default::default()
    };
    assert_eq!(r.changes_for(Some(&base))["address"], json!({"address1": "1 Main St", "city": "London"}));
}

#[test]
fn names_may_be_blank_for_an_update_but_not_for_a_creation() {
    let r = row("Work Email,First Name,Last Name", "ada@example.org,,", &new(), &NO_TYPES).expect("an update row");
    assert_eq!(r.missing_names, [Reason::MissingFirstName, Reason::MissingLastName]);
    let fault = r.creation_fault().expect("cannot create");
    assert_eq!((fault.line, fault.reason.code()), (7, "missing_first_name"));
    let r = row("First Name,Last Name", "Ada,", &new(), &NO_TYPES).expect("row");
    assert_eq!(r.creation_fault().map(|f| f.reason), Some(Reason::MissingLastName));
}

#[test]
fn blanks_clear_only_when_the_profile_says_so_and_never_names() {
    let header = "First Name,Last Name,Title,Work Phone,City";
    let keep = row(header, "Ada,,,,", &new(), &NO_TYPES).expect("row");
    assert_eq!(Json::Object(keep.contact.expect("contact")), json!({"firstName": "Ada"}));
    let mut p = new();
    p.blank_clears = true;
    let clear = row(header, "Ada,,,,", &p, &NO_TYPES).expect("row");
    assert_eq!(
        Json::Object(clear.contact.expect("contact")),
        json!({"firstName": "Ada", "title": null, "workPhone": null, "address": {"city": null}})
    );
    assert_eq!(clear.missing_names, [Reason::MissingLastName]);
}

#[test]
fn each_row_fault_has_its_reason() {
    let h =
        "First Name,Last Name,Work Email,Home Phone,Title,External Organization Name,External Organization External ID";
    let cases = [
        ("Ada,L,ada@,,,,", Reason::IncompleteEmail, "column 3 'Work Email': incomplete email 'ada@'"),
        ("Ada,L,,x123,,,", Reason::UnparseablePhone, "column 4 'Home Phone': 'x123' is an extension without a number"),
        (
            &format!("Ada,L,,,{},,", "t".repeat(1001)),
            Reason::FieldTooLong,
            "column 5 'Title' is longer than 1000 characters",
        ),
        ("Ada,L,,,,Acme,", Reason::OrganizationWithoutExternalId, "without its external ID (column 7"),
        (",,,,,,ACME-1", Reason::MissingOrganizationName, "the organization 'ACME-1' has no name"),
        (",,,,,,", Reason::NothingToImport, "blank"),
        ("Ada,L", Reason::WrongColumnCount, "2 cells where the header has 7"),
    ];
    for (cells, want, detail) in cases {
        let (got, text) = reason(row(h, cells, &new(), &NO_TYPES));
        assert_eq!(got, want, "{cells}: {text}");
        assert!(text.contains(detail), "{cells}: '{text}' lacks '{detail}'");
    }
    let mut p = new();
    p.mapping.push(FieldMapping::new("Opt Out", "surveyOptOut"));
    assert_eq!(reason(row("First Name,Opt Out", "Ada,maybe", &p, &NO_TYPES)).0, Reason::InvalidValue);
    let long_id = format!("{},Ada,L", "i".repeat(256));
    assert_eq!(reason(row("External ID,First Name,Last Name", &long_id, &new(), &NO_TYPES)).0, Reason::FieldTooLong);
}

#[test]
fn custom_fields_follow_the_contact_type() {
    let fields = ["tier:list=gold|silver", "since:date"].map(|f| CustomField::parse(f).expect("field")).to_vec();
    let types = [ContactType::new("Customer", fields).expect("type")];
    let ctx = RowContext { unit_country: "US", contact_types: &types };
    let mut p = new();
    p.contact_type = Some("customer".into());
    let r = row("First Name,Last Name,custom.TIER,custom.since", "Ada,L,gold,2024-02-29", &p, &ctx).expect("valid");
    let c = r.contact.expect("contact");
    assert_eq!(c["customFields"], json!({"tier": "gold", "since": "2024-02-29"}));
    assert_eq!(c["contactType"], "Customer");
    let bad = |header: &str, cells: &str, p: &ImportProfile| reason(row(header, cells, p, &ctx)).0;
    assert_eq!(bad("First Name,custom.tier", "Ada,bronze", &p), Reason::InvalidCustomField);
    assert_eq!(bad("First Name,custom.shoe", "Ada,9", &p), Reason::InvalidCustomField);
    assert_eq!(bad("First Name,custom.tier", "Ada,gold", &new()), Reason::InvalidCustomField);
    assert_eq!(bad("First Name,contactType", "Ada,Vendor", &new()), Reason::UnknownContactType);
}

#[test]
fn the_legacy_layout_keys_contacts_by_their_id_and_imports_organizations_alone() {
    let p = ImportProfile::default_for(Layout::Legacy);
    let h = "Contact Id,Contact First Name,Contact Last Name,Account Id,Account Name";
    let both = row(h, "7,Ada,Lovelace,A-1,Acme", &p, &NO_TYPES).expect("contact and organization");
    assert_eq!(both.external_id.as_deref(), Some("7"));
    assert_eq!(both.match_keys, [ContactSearch::ExternalId { source: None, id: "7".into() }]);
    assert_eq!(both.organization.as_ref().map(|o| o.external_id.as_str()), Some("A-1"));
    let org = row(h, ",,,A-1,Acme", &p, &NO_TYPES).expect("organization only");
    assert!(org.contact.is_none() && org.match_keys.is_empty() && org.organization.is_some());
    assert_eq!(reason(row(h, ",Ada,Lovelace,,", &p, &NO_TYPES)).0, Reason::MissingContactId);
    assert_eq!(reason(row(h, "7,Ada,Lovelace,,Acme", &p, &NO_TYPES)).0, Reason::OrganizationWithoutExternalId);
}

/// `n` generated rows under the default headers; `bad(i)` rows get `cell`
/// in column `column` instead.
fn generated(n: usize, extra_header: &str, extra: impl Fn(usize) -> String) -> Vec<u8> {
    let mut text = format!("First Name,Last Name,Work Email{extra_header}\n");
    for i in 0..n {
        text.push_str(&format!("First{i},Last{i},{}\n", extra(i)));
    }
    text.into_bytes()
}

#[test]
fn a_thousand_rows_with_fifteen_incomplete_emails_import_985() {
    let bad: Vec<usize> = (0..15).map(|k| 7 + k * 66).collect();
    let bytes =
        generated(1_000, "", |i| if bad.contains(&i) { format!("user{i}@example") } else { format!("u{i}@x.io") });
    let v = validate(&bytes[..], &new(), &NO_TYPES, &Limits::default()).expect("valid file");
    assert_eq!((v.summary.rows, v.valid_rows, v.log.not_imported), (1_000, 985, 15));
    let lines: Vec<u64> = v.log.entries.iter().map(|e| e.line).collect();
    assert_eq!(lines, bad.iter().map(|i| *i as u64 + 2).collect::<Vec<_>>());
    assert!(v.log.entries.iter().all(|e| e.reason == Reason::IncompleteEmail));
}

#[test]
fn a_thousand_rows_naming_an_organization_without_its_external_id_import_none() {
    let h = ",External Organization Name,External Organization External ID";
    for header in [h, ",External Organization Name"] {
        let bytes = generated(1_000, header, |i| {
            if header == h { format!("u{i}@x.io,Acme {},", i % 7) } else { format!("u{i}@x.io,Acme") }
        });
        let v = validate(&bytes[..], &new(), &NO_TYPES, &Limits::default()).expect("valid file");
        assert_eq!((v.valid_rows, v.log.not_imported), (0, 1_000), "{header}");
        assert!(v.log.entries.iter().all(|e| e.reason == Reason::OrganizationWithoutExternalId));
        assert!(v.log.entries[0].detail.contains("organizations match only by external ID"));
    }
}

#[test]
fn the_preview_shows_the_first_ten_rows_as_they_will_be_read() {
    let mut p = new();
    p.mapping.push(FieldMapping::new("Mail", "personalEmail"));
    let bytes = generated(25, ",Mail", |i| format!("u{i}@x.io,{}", if i == 3 { "nope" } else { "" }));
    let pv = preview(&bytes[..], &p, &NO_TYPES, &Limits::default()).expect("preview");
    assert_eq!(pv.rows.len(), 10);
    assert_eq!(pv.rows[0].line, 2);
    assert_eq!(
        pv.rows[0].fields,
        [("firstName", "First0"), ("lastName", "Last0"), ("workEmail", "u0@x.io")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert_eq!(pv.rows[3].fields.last().map(|(f, v)| (f.as_str(), v.as_str())), Some(("personalEmail", "nope")));
    assert_eq!(pv.rows[3].rejected.as_ref().map(|r| r.reason), Some(Reason::IncompleteEmail));
    let e = preview(&b"First Name\n\n"[..], &p, &NO_TYPES, &Limits::default()).unwrap_err();
    assert_eq!(e.code(), "no_rows");
}

#[test]
fn the_sample_crm_export_is_checked_and_its_bad_rows_named() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/data/crm-export.csv");
    let p = new();
    let summary = check_path(&path, &p, &Limits::default()).expect("a valid file");
    assert_eq!((summary.rows, summary.blank_rows, summary.wrong_shape), (12, 1, 1));
    let file = std::fs::File::open(&path).expect("open");
    let mut reader = ImportReader::open(file, &p, NO_TYPES, &Limits::default()).expect("header");
    let mut rejected_file = RejectedWriter::new(Vec::new(), reader.header()).expect("header");
    let (mut ok, mut rejected) = (Vec::new(), Vec::new());
    while let Some(r) = reader.next_row().expect("row") {
        match r.outcome {
            Ok(row) => ok.push(row),
            Err(why) => {
                rejected_file.write(&why, r.record.cells()).expect("write");
                rejected.push((why.line, why.reason.code()));
            }
        }
    }
    reader.verify(&summary.sha256).expect("the same bytes");
    assert_eq!(
        rejected,
        [
            (4, "incomplete_email"),
            (7, "organization_without_external_id"),
            (8, "incomplete_email"),
            (10, "unparseable_phone"),
            (12, "incomplete_email"),
            (14, "wrong_column_count"),
        ]
    );
    let lines: Vec<u64> = ok.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 3, 5, 6, 13, 15]);
    assert_eq!(ok[1].creation_fault().map(|f| f.reason), Some(Reason::MissingFirstName));
    assert_eq!(ok[0].match_keys, ok[3].match_keys, "a repeated row matches the same contact");
    assert_eq!(ok[2].flagged_phones.len(), 1, "a UK national number with the unit's US default");
    assert_eq!(ok[5].contact.as_ref().expect("contact")["firstName"], "Jean \"Betty\"");
    assert_eq!(
        ok[5].match_keys,
        [
            ContactSearch::ExternalId { source: None, id: "C-012".into() },
            ContactSearch::Email("betty@example.com".into()),
            ContactSearch::Phone("+12158985000".into()),
        ]
    );
    // The rejected rows, fixed or not, import again: the Reason column is ignored.
    let again = rejected_file.finish().expect("finish");
    let v = validate(&again[..], &p, &NO_TYPES, &Limits::default()).expect("the rejected-rows file reads");
    let codes: Vec<&str> = v.log.entries.iter().map(|e| e.reason.code()).collect();
    assert_eq!(
        codes,
        [
            "incomplete_email",
            "organization_without_external_id",
            "incomplete_email",
            "unparseable_phone",
            "incomplete_email",
            "wrong_column_count"
        ]
    );
}
