//! Every branch of every contacts action, through one script run on an
//! SQLite file and on PostgreSQL (127.0.0.1:5432, database `test`; the
//! test fails when it cannot be reached). Each run works in a business
//! unit of its own.

use super::store_of;
use crate::contacts::{ContactType, CustomField};
use crate::engine::{RunOptions, RunReport, Runtime};
use crate::value::Value;
use serde_json::{Value as Json, json};

pub(super) const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub(super) fn unique_unit() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("contacts-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// One step: `action` with `props`, each of `branches` going on to the
/// next step (`want` is the branch the test expects it to take).
pub(super) struct Step {
    action: &'static str,
    props: Json,
    want: &'static str,
}

pub(super) fn step(action: &'static str, props: Json, want: &'static str) -> Step {
    Step { action, props, want }
}

/// The branches each action may take (all wired to the next step).
fn branches(action: &str) -> Vec<&'static str> {
    // ADDCONTACT and UPDATECONTACT refuse a record for the same reasons;
    // UPDATECONTACT can also miss its contact.
    const REFUSED: [&str; 7] = [
        "MissingRequiredField",
        "InvalidEmail",
        "InvalidPhone",
        "InvalidCustomField",
        "ContactTypeNotFound",
        "OrganizationNotFound",
        "DuplicateExternalId",
    ];
    match action {
        "ADDCONTACT" => [&["Default"][..], &REFUSED, &["OnError"]].concat(),
        "UPDATECONTACT" => [&["Default", "NotFound"][..], &REFUSED, &["OnError"]].concat(),
        "ADDORGANIZATION" => {
            vec![
                "Default",
                "MissingRequiredField",
                "InvalidExternalId",
                "InvalidPhone",
                "DuplicateExternalId",
                "OnError",
            ]
        }
        "ADDNOTE" => vec!["Default", "MissingRequiredField", "NotFound", "OnError"],
        "IMPORTCONTACTS" => vec![
            "Default",
            "MissingRequiredField",
            "FileRejected",
            "ProfileNotFound",
            "InvalidProfile",
            "Cancelled",
            "OnError",
        ],
        _ => vec!["Default", "NotFound", "OnError"],
    }
}

fn script(steps: &[Step]) -> String {
    let mut actions = vec![json!({"id": "b", "action": "BEGIN", "Parameters": ["blank", "bad"], "next": "s0"})];
    for (i, s) in steps.iter().enumerate() {
        let mut a = s.props.as_object().cloned().unwrap_or_default();
        a.insert("id".into(), json!(format!("s{i}")));
        a.insert("action".into(), json!(s.action));
        if s.action == "ASSIGN" {
            a.insert("next".into(), json!(format!("s{}", i + 1)));
        } else {
            let b: serde_json::Map<String, Json> =
                branches(s.action).iter().map(|b| (b.to_string(), json!(format!("s{}", i + 1)))).collect();
            a.insert("branches".into(), Json::Object(b));
        }
        actions.push(Json::Object(a));
    }
    actions.push(json!({"id": format!("s{}", steps.len()), "action": "END"}));
    json!({"name": "contacts_branches", "actions": actions}).to_string()
}

pub(super) fn text(r: &RunReport, path: &str) -> String {
    let mut parts = path.split('.');
    let mut v = r.var(parts.next().unwrap_or_default()).cloned().unwrap_or(Value::Null);
    for p in parts {
        v = match p.parse::<i64>() {
            Ok(i) => v.index(i),
            Err(_) => v.member(p).cloned(),
        }
        .unwrap_or(Value::Null);
    }
    v.to_text().to_string()
}

/// A contact's fields as ADDCONTACT's Contact input (JSON text).
fn contact(extra: Json) -> Json {
    let mut c = json!({"firstName": "Ada", "lastName": "Lovelace"});
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    json!(c.to_string())
}

fn add(extra: Json, want: &'static str) -> Step {
    step("ADDCONTACT", json!({"Fields": contact(extra)}), want)
}

fn update(id: &str, changes: Json, want: &'static str) -> Step {
    step("UPDATECONTACT", json!({"ContactId": id, "Fields": changes.to_string(), "Contact": "updated"}), want)
}

fn steps() -> Vec<Step> {
    let long = "x".repeat(256);
    let ada = json!({"workEmail": "Ada@Example.org", "cellPhone": {"display": "(212) 736-5000", "smsEnabled": true},
        "externalOrganization": "ACME-1", "contactType": "Customer", "customFields": {"tier": "gold"}});
    vec![
        step("ADDORGANIZATION", json!({"Name": "Acme", "ExternalId": "ACME-1"}), "Default"),
        step("ADDORGANIZATION", json!({"Name": "Acme Two", "ExternalId": "ACME-1"}), "DuplicateExternalId"),
        step("ADDORGANIZATION", json!({"Name": "{blank}"}), "MissingRequiredField"),
        step("ADDORGANIZATION", json!({"Name": "Long", "ExternalId": long}), "InvalidExternalId"),
        step("ADDORGANIZATION", json!({"Name": "X", "Fields": "{\"phones\": [\"x12\"]}"}), "InvalidPhone"),
        step("ADDORGANIZATION", json!({"Name": "X", "Fields": "[1]"}), "OnError"),
        step("ADDCONTACT", json!({"Fields": contact(ada), "ExternalSource": "CRM", "ExternalId": "C-1"}), "Default"),
        step("ADDCONTACT", json!({"Fields": "{\"firstName\": \"Ada\"}"}), "MissingRequiredField"),
        add(json!({"workEmail": "ada@"}), "InvalidEmail"),
        add(json!({"homePhone": "ext. 12"}), "InvalidPhone"),
        add(json!({"contactType": "Customer", "customFields": {"tier": "bronze"}}), "InvalidCustomField"),
        add(json!({"contactType": "Nope"}), "ContactTypeNotFound"),
        add(json!({"externalOrganization": "nowhere"}), "OrganizationNotFound"),
        step(
            "ADDCONTACT",
            json!({"Fields": contact(json!({"firstName": "Bob"})), "ExternalSource": "crm", "ExternalId": "C-1"}),
            "DuplicateExternalId",
        ),
        add(json!({"shoeSize": 9}), "OnError"),
        step(
            "ADDCONTACT",
            json!({"Fields": contact(json!({"firstName": "Charles", "lastName": "Babbage", "workPhone": "212 736 5000"})),
                "ContactId": "babbageId"}),
            "Default",
        ),
        step("FINDCONTACT", json!({"Phone": "+1 212-736-5000", "Contacts": "byPhone", "Count": "n"}), "Default"),
        step("FINDCONTACT", json!({"Email": "ADA@example.ORG", "Contact": "byEmail"}), "Default"),
        step("FINDCONTACT", json!({"ExternalId": "C-1", "ExternalSource": "CRM", "Contact": "byId"}), "Default"),
        step("FINDCONTACT", json!({"LastName": "lovelace", "FirstName": "ADA", "Count": "byName"}), "Default"),
        step("FINDCONTACT", json!({"Email": "nobody@example.org", "Count": "none"}), "NotFound"),
        step("FINDCONTACT", json!({"FirstName": "Ada"}), "OnError"),
        step(
            "ASSIGN",
            json!({"Variable": "readBack", "Value": "{byEmail.workEmail} {byEmail.cellPhone.e164}"}),
            "Default",
        ),
        update("{contactId}", json!({"title": "Countess", "workEmail": null}), "Default"),
        update("999999999", json!({"title": "Nobody"}), "NotFound"),
        update("{contactId}", json!({"lastName": ""}), "MissingRequiredField"),
        update("{contactId}", json!({"otherEmail": "a b@c.org"}), "InvalidEmail"),
        update("{contactId}", json!({"otherPhone": "x99"}), "InvalidPhone"),
        update("{contactId}", json!({"customFields": {"tier": "tin"}}), "InvalidCustomField"),
        update("{contactId}", json!({"contactType": "Ghost"}), "ContactTypeNotFound"),
        update("{contactId}", json!({"externalOrganization": "#999999999"}), "OrganizationNotFound"),
        step(
            "UPDATECONTACT",
            json!({"ContactId": "{babbageId}", "ExternalSource": "CRM", "ExternalId": "C-1"}),
            "DuplicateExternalId",
        ),
        update("{contactId}", json!({"shoeSize": 10}), "OnError"),
        step("ADDNOTE", json!({"ContactId": "{contactId}", "Text": "Called back", "Author": "agent7"}), "Default"),
        step("ADDNOTE", json!({"ContactId": "{contactId}", "Text": "{blank}"}), "MissingRequiredField"),
        step("ADDNOTE", json!({"ContactId": "999999999", "Text": "lost"}), "NotFound"),
        step("ADDNOTE", json!({"ContactId": "{bad}", "Text": "lost"}), "OnError"),
        step("DELETECONTACT", json!({"ContactId": "{contactId}"}), "Default"),
        step("DELETECONTACT", json!({"ContactId": "{contactId}"}), "NotFound"),
        step("DELETECONTACT", json!({"ContactId": "{bad}"}), "OnError"),
        step("FINDCONTACT", json!({"ExternalId": "C-1", "Count": "afterDelete"}), "NotFound"),
        step("FINDCONTACT", json!({"Phone": "(212) 736-5000", "Count": "phoneAfter"}), "Default"),
    ]
}

/// Run the script of `steps` on `rt` (parameters `blank` empty and `bad`
/// set to `bad`, on a virtual clock): the report, the branch each step
/// took and the branch each step wants.
pub(super) async fn run_steps(rt: &Runtime, steps: &[Step], bad: &str) -> (RunReport, Vec<String>, Vec<String>) {
    let program = rt.load_script(crate::script::load_text(&script(steps), None).expect("parses")).expect("loads");
    let opts = RunOptions::new().at("2026-03-08T06:30:00Z".parse().expect("time")).param("blank", "").param("bad", bad);
    let r = rt.run(&program, opts).await.expect("params");
    let got: Vec<String> = r.path.iter().skip(1).take(steps.len()).map(|p| p.branch.to_string()).collect();
    let want: Vec<String> = steps.iter().map(|s| s.want.to_string()).collect();
    (r, got, want)
}

/// Two tests of `$check` (an async fn of a store URL): one on an SQLite
/// file of its own, one on PostgreSQL.
macro_rules! on_both_backends {
    ($check:ident => sqlite: $sqlite:ident, postgres: $postgres:ident $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            let dir = tempfile::tempdir().expect("temp dir");
            $check(dir.path().join("c.db").to_str().expect("UTF-8")).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            $check(PG_URL).await;
        }
    };
}

/// Run every branch on the store at `url`, after defining the unit's
/// contact type and external source through the library.
async fn every_branch(url: &str) {
    let rt = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e} (is PostgreSQL running?)"));
    let contacts = store_of(&store).expect("SQLite and PostgreSQL serve contacts");
    let unit = rt.unit_id().await.expect("unit");
    let tier = CustomField::parse("tier:list=gold|silver").expect("definition");
    let t = ContactType::new("Customer", vec![tier]).expect("type");
    assert!(contacts.add_contact_type(unit, &t, "2026-03-01T00:00:00Z").await.expect("type stored"));
    assert!(contacts.add_source(unit, "CRM", "2026-03-01T00:00:00Z").await.expect("source stored").is_some());
    let steps = steps();
    let (r, got, want) = run_steps(&rt, &steps, "abc").await;
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g,
            w,
            "{url}: step s{i} ({}) took {g}; notes {:?}; _ERR {}",
            steps[i].action,
            r.notes,
            text(&r, "_ERR")
        );
    }
    assert_eq!(got.len(), want.len(), "{url}: the run stopped early: {:?}", r.error);
    assert_eq!(text(&r, "n"), "2", "{url}: both contacts have the phone");
    assert_eq!(text(&r, "byPhone.1.firstName"), "Ada", "{url}: oldest first");
    assert_eq!(text(&r, "readBack"), "Ada@Example.org +12127365000");
    assert_eq!(text(&r, "byId.externalOrganization.externalId"), "ACME-1");
    assert_eq!(text(&r, "byId.externalIds.1.source"), "CRM");
    assert_eq!(text(&r, "byId.customFields.tier"), "gold");
    assert_eq!((text(&r, "byName"), text(&r, "none")), ("1".into(), "0".into()));
    assert_eq!(text(&r, "updated.title"), "Countess", "{url}: UPDATECONTACT outputs the changed contact");
    assert_eq!(text(&r, "updated.workEmail"), "", "{url}: null clears");
    assert_eq!(text(&r, "updated.cellPhone.e164"), "+12127365000", "{url}: fields not given stay");
    assert_eq!((text(&r, "afterDelete"), text(&r, "phoneAfter")), ("0".into(), "1".into()));
    let id: i64 = text(&r, "contactId").parse().expect("an id");
    assert!(contacts.notes(unit, id).await.expect("notes").is_empty(), "{url}: erased notes");
    assert!(contacts.contact(unit, id).await.expect("read").is_none());
}

on_both_backends!(every_branch =>
    sqlite: every_branch_of_every_contacts_action_on_sqlite,
    postgres: every_branch_of_every_contacts_action_on_postgres,
);

/// A second unit's scripts can neither see nor change the first unit's
/// contacts, organizations or notes.
async fn units_apart(url: &str) {
    let first = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let adding = vec![
        step("ADDORGANIZATION", json!({"Name": "Acme", "ExternalId": "ACME-9"}), "Default"),
        add(
            json!({"workEmail": "ada@example.org", "cellPhone": "212 736 5000", "externalOrganization": "ACME-9"}),
            "Default",
        ),
        step("ADDNOTE", json!({"ContactId": "{contactId}", "Text": "mine"}), "Default"),
    ];
    let (r, _, _) = run_steps(&first, &adding, "x").await;
    let id = text(&r, "contactId");
    assert_eq!(r.path.len(), 5, "{url}: {:?} {}", r.error, text(&r, "_ERR"));
    let before = text(&r, "contact");
    let second = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let id_prop = json!(id);
    let probing = vec![
        step("FINDCONTACT", json!({"Email": "ada@example.org"}), "NotFound"),
        step("FINDCONTACT", json!({"Phone": "(212) 736-5000"}), "NotFound"),
        step("FINDCONTACT", json!({"LastName": "Lovelace"}), "NotFound"),
        step("UPDATECONTACT", json!({"ContactId": id_prop, "Fields": "{\"title\": \"Intruder\"}"}), "NotFound"),
        step("ADDNOTE", json!({"ContactId": id_prop, "Text": "intrusion"}), "NotFound"),
        step("DELETECONTACT", json!({"ContactId": id_prop}), "NotFound"),
        add(json!({"externalOrganization": "ACME-9"}), "OrganizationNotFound"),
    ];
    let (r, got, want) = run_steps(&second, &probing, "x").await;
    assert_eq!(got, want, "{url}: {:?}", text(&r, "_ERR"));
    let store = first.store().await.expect("store");
    let unit = first.unit_id().await.expect("unit");
    let contacts = store_of(&store).expect("contacts");
    let still = contacts.contact(unit, id.parse().expect("id")).await.expect("read").expect("still there");
    assert_eq!(Value::from_json(&still.to_json()).to_text().to_string(), before, "{url}: unchanged");
    assert_eq!(contacts.notes(unit, still.id).await.expect("notes").len(), 1, "{url}: one note, its own");
}

on_both_backends!(units_apart =>
    sqlite: a_second_units_scripts_neither_see_nor_change_the_first_units_contacts_on_sqlite,
    postgres: a_second_units_scripts_neither_see_nor_change_the_first_units_contacts_on_postgres,
);

/// Numbers written without a country code take the unit's default
/// country, through the actions: a British unit reads `020 7946 0018` as
/// +44 and finds it again in international form; a US number written
/// nationally is not a British one. A code the phone library does not know
/// is refused by the library and the country stays.
async fn default_country_through_actions(url: &str) {
    use super::api;
    let rt = Runtime::builder().db(url).business_unit(unique_unit()).build();
    let store = rt.store().await.unwrap_or_else(|e| panic!("opening {url}: {e} (is PostgreSQL running?)"));
    let contacts = store_of(&store).expect("SQLite and PostgreSQL serve contacts");
    let unit = rt.unit_id().await.expect("unit");
    let at = "2026-03-01T00:00:00Z";
    assert_eq!(contacts.default_country(unit).await.expect("read"), "US", "{url}: +1 unless set");
    assert_eq!(api::set_default_country(&*contacts, unit, "gb", at).await.expect("GB is known"), "GB");
    let refused = api::set_default_country(&*contacts, unit, "ZZ", at).await;
    assert!(matches!(refused, Err(api::ContactsError::Input(ref m)) if m.contains("ZZ")), "{url}: {refused:?}");
    assert_eq!(contacts.default_country(unit).await.expect("read"), "GB", "{url}: a refused code changes nothing");
    let steps = vec![
        add(json!({"workPhone": "020 7946 0018"}), "Default"),
        step("FINDCONTACT", json!({"Phone": "+44 20 7946 0018", "Contact": "uk", "Count": "n"}), "Default"),
        step("FINDCONTACT", json!({"Phone": "(020) 7946-0018", "Count": "again"}), "Default"),
        step("FINDCONTACT", json!({"Phone": "(212) 736-5000", "Count": "us"}), "NotFound"),
    ];
    let program = rt.load_script(crate::script::load_text(&script(&steps), None).expect("parses")).expect("loads");
    let r = rt.run(&program, RunOptions::new().param("blank", "").param("bad", "")).await.expect("params");
    let got: Vec<String> = r.path.iter().skip(1).take(steps.len()).map(|p| p.branch.to_string()).collect();
    assert_eq!(got, ["Default", "Default", "Default", "NotFound"], "{url}: notes {:?}", r.notes);
    assert_eq!(text(&r, "uk.workPhone.e164"), "+442079460018", "{url}");
    assert_eq!((text(&r, "n"), text(&r, "again")), ("1".into(), "1".into()), "{url}");

    assert_eq!(api::set_default_country(&*contacts, unit, "FR", at).await.expect("FR is known"), "FR");
    let steps = vec![
        step(
            "ADDCONTACT",
            json!({"Fields": contact(json!({"firstName": "Marie", "lastName": "Curie", "cellPhone": "06 12 34 56 78"}))}),
            "Default",
        ),
        step("FINDCONTACT", json!({"Phone": "+33 6 12 34 56 78", "Contact": "fr"}), "Default"),
        step("FINDCONTACT", json!({"Phone": "020 7946 0018", "Count": "ukNational"}), "NotFound"),
    ];
    let program = rt.load_script(crate::script::load_text(&script(&steps), None).expect("parses")).expect("loads");
    let r = rt.run(&program, RunOptions::new().param("blank", "").param("bad", "")).await.expect("params");
    let got: Vec<String> = r.path.iter().skip(1).take(steps.len()).map(|p| p.branch.to_string()).collect();
    assert_eq!(got, ["Default", "Default", "NotFound"], "{url}: notes {:?}", r.notes);
    assert_eq!(text(&r, "fr.cellPhone.e164"), "+33612345678", "{url}");
    assert_eq!(text(&r, "fr.lastName"), "Curie", "{url}");
}

on_both_backends!(default_country_through_actions =>
    sqlite: numbers_without_a_country_code_take_the_units_default_country_on_sqlite,
    postgres: numbers_without_a_country_code_take_the_units_default_country_on_postgres,
);
