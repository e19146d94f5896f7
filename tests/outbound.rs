//! The outbound actions against both stores: every scenario runs once on an
//! SQLite file and once on PostgreSQL (127.0.0.1:5432, database `test`).
//!
//! Each test works in its own business unit (and, on SQLite, its own file),
//! so tests run in parallel and repeated runs never see each other's data.
//! The PostgreSQL tests fail when the server cannot be reached.

use prospero::outbound::model::{Search, Skill};
use prospero::packs::outbound::{CheckOut, OutboundStore};
use prospero::store::{self, Store};
use prospero::{RunOptions, RunReport, RunStatus, Runtime, Value};
use serde_json::{Value as J, json};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const NOW: &str = "2026-11-21T15:00:00Z";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

struct Fx {
    store: Arc<dyn Store>,
    /// The same store, seen as the outbound pack's store.
    outbound: Arc<dyn OutboundStore>,
    unit: i64,
    unit_name: String,
    dir: tempfile::TempDir,
    backend: Backend,
}

async fn fx(backend: Backend) -> Fx {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match backend {
        Backend::Sqlite => dir.path().join("outbound.db").to_str().expect("UTF-8 path").to_string(),
        Backend::Postgres => PG_URL.to_string(),
    };
    let store = store::open(&url).await.unwrap_or_else(|e| {
        panic!("opening {url}: {e}\nhint: is PostgreSQL running on 127.0.0.1:5432 (database `test`)?")
    });
    let unit_name = unique("outbound");
    let unit = store.business_unit(&unit_name).await.expect("business unit");
    let outbound = prospero::packs::outbound::store(&store).expect("outbound store");
    Fx { store, outbound, unit, unit_name, dir, backend }
}

impl Fx {
    fn runtime(&self) -> Runtime {
        self.runtime_for(&self.unit_name)
    }

    fn runtime_for(&self, unit: &str) -> Runtime {
        Runtime::builder().store(self.store.clone()).business_unit(unit).scripts_dir(self.dir.path()).build()
    }

    async fn skill(&self, number: i64, max: u32, threshold: i64, filters: &[&str]) {
        let mut s = Skill::new(number, format!("skill {number}"));
        s.max_destinations = max;
        s.threshold = threshold;
        s.filter_fields = filters.iter().map(|f| f.to_string()).collect();
        self.outbound.upsert_skill(self.unit, &s).await.expect("skill");
    }

    async fn run_on(&self, rt: &Runtime, script: &str, params: &[(&str, String)], at: &str) -> RunReport {
        let v: J = serde_json::from_str(script).expect("test script is JSON");
        let name = v["name"].as_str().expect("script name");
        let path = self.dir.path().join(format!("{name}.json"));
        std::fs::write(&path, script).expect("write script");
        let program = rt.load(&path).unwrap_or_else(|e| panic!("load: {e}"));
        let mut opts = RunOptions::new().at(at.parse().expect("time"));
        for (k, v) in params {
            opts = opts.param(*k, Value::text(v.as_str()));
        }
        rt.run(&program, opts).await.expect("params")
    }

    async fn run(&self, script: &str, params: &[(&str, String)]) -> RunReport {
        self.run_on(&self.runtime(), script, params, NOW).await
    }

    /// Run one action with `props`; every listed branch leads to a RETURN
    /// of its own name, so the return value says which branch was taken.
    async fn branch_on(
        &self,
        rt: &Runtime,
        action: &str,
        props: J,
        branches: &[&str],
        params: &[(&str, String)],
    ) -> (String, RunReport) {
        let script = one(action, props, branches, params);
        let r = self.run_on(rt, &script, params, NOW).await;
        assert_eq!(r.status, RunStatus::Completed, "{action}: {:?}", r.error);
        (r.return_value.as_ref().map(|v| v.to_text().to_string()).unwrap_or_default(), r)
    }

    async fn branch(&self, action: &str, props: J, branches: &[&str]) -> (String, RunReport) {
        self.branch_on(&self.runtime(), action, props, branches, &[]).await
    }

    async fn prospects(&self, source: &str) -> Vec<prospero::outbound::model::StoredProspect> {
        let Some(src) = self.outbound.source(self.unit, source).await.expect("source") else { return Vec::new() };
        self.outbound.find_prospects(self.unit, src.id, &Search::default()).await.expect("find")
    }
}

fn one(action: &str, mut props: J, branches: &[&str], params: &[(&str, String)]) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!("one_{}", N.fetch_add(1, Ordering::Relaxed));
    let mut map = serde_json::Map::new();
    let mut actions = vec![json!({"id": "b", "action": "BEGIN",
        "Parameters": params.iter().map(|(k, _)| *k).collect::<Vec<_>>(), "next": "a"})];
    for b in branches {
        map.insert(b.to_string(), J::String(format!("r_{b}")));
        actions.push(json!({"id": format!("r_{b}"), "action": "RETURN", "ReturnValue": b}));
    }
    let obj = props.as_object_mut().expect("props object");
    obj.insert("id".into(), json!("a"));
    let (name_part, version) = match action.split_once(" v") {
        Some((n, v)) => (n, v.parse::<u32>().expect("version")),
        None => (action, 1),
    };
    obj.insert("action".into(), json!(name_part));
    if version != 1 {
        obj.insert("version".into(), json!(version));
    }
    obj.insert("branches".into(), J::Object(map));
    actions.insert(1, props);
    json!({"name": name, "actions": actions}).to_string()
}

fn var(r: &RunReport, name: &str) -> J {
    r.var(name).map(|v| v.to_report_json()).unwrap_or(J::Null)
}

const SOURCE_BRANCHES: &[&str] = &["Default", "NameAlreadyUsed", "NoNameProvided", "NameExceededLength", "OnError"];
const FIELD_BRANCHES: &[&str] = &[
    "Default",
    "NoNameProvided",
    "InvalidDataType",
    "FieldAlreadyExists",
    "DefaultValueDoesntMatchDataType",
    "FieldExceededLength",
    "InvalidSubField",
    "OnError",
];
const MAP_BRANCHES: &[&str] = &[
    "Default",
    "InvalidSource",
    "InvalidRootNode",
    "InvalidFieldName",
    "MissingRequiredField",
    "FieldsInUseCantApply",
    "NoChangesMade",
    "ExceededMaxDestinations",
    "OnError",
];

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await })*
        }
    };
}

both!(
    create_source_branches,
    user_field_branches,
    source_map_branches,
    prospects_result_codes,
    no_time_zone_reject_both_ways,
    batch_problems_take_on_error_and_store_nothing,
    injected_store_failure_leaves_nothing_of_the_batch,
    large_batches_keep_order_and_duplicates,
    get_and_remove_prospects,
    removed_and_replaced_prospects_leave_no_orphan_destinations,
    lead_checkout_is_exclusive,
    lead_checkin_and_leases,
    get_queue_counts_dialable_prospects,
    a_second_unit_cannot_see_or_change_the_first,
    concurrent_overlapping_batches,
    sample_scripts_run_end_to_end,
);

async fn create_source_branches(b: Backend) {
    let f = fx(b).await;
    let go = |name: String| {
        let f = &f;
        async move { f.branch("CREATESOURCE", json!({"Name": name}), SOURCE_BRANCHES).await.0 }
    };
    assert_eq!(go("Spring".into()).await, "Default");
    assert_eq!(go(" spring ".into()).await, "NameAlreadyUsed", "names compare without regard to case");
    assert_eq!(go("  ".into()).await, "NoNameProvided");
    assert_eq!(go("x".repeat(256)).await, "NameExceededLength");
    assert_eq!(go("x".repeat(255)).await, "Default");
    let src = f.outbound.source(f.unit, "SPRING").await.expect("read").expect("exists");
    assert_eq!(src.name, "Spring");
}

async fn user_field_branches(b: Backend) {
    let f = fx(b).await;
    let go = |props: J| {
        let f = &f;
        async move { f.branch("CREATEUSERFIELD", props, FIELD_BRANCHES).await.0 }
    };
    assert_eq!(go(json!({"Name": "CellPhone", "DataType": "Phone"})).await, "Default");
    assert_eq!(go(json!({"Name": "cellphone", "DataType": "Text"})).await, "FieldAlreadyExists");
    assert_eq!(
        go(json!({"Name": "Zip", "DataType": "Text"})).await,
        "FieldAlreadyExists",
        "system field names are taken"
    );
    assert_eq!(go(json!({"Name": " ", "DataType": "Text"})).await, "NoNameProvided");
    assert_eq!(go(json!({"Name": "Blob", "DataType": "Blob"})).await, "InvalidDataType");
    assert_eq!(
        go(json!({"Name": "Tier", "DataType": "int", "DefaultValue": "gold"})).await,
        "DefaultValueDoesntMatchDataType"
    );
    assert_eq!(
        go(json!({"Name": "Since", "DataType": "Date", "DefaultValue": "soon"})).await,
        "DefaultValueDoesntMatchDataType"
    );
    assert_eq!(go(json!({"Name": "x".repeat(101), "DataType": "Text"})).await, "FieldExceededLength");
    assert_eq!(
        go(json!({"Name": "Long", "DataType": "Text", "DefaultValue": "d".repeat(201)})).await,
        "FieldExceededLength"
    );
    assert_eq!(
        go(json!({"Name": "Tier", "DataType": "Integer", "DefaultValue": "1", "ValueRequired": "Yes"})).await,
        "Default"
    );
    assert_eq!(go(json!({"Name": "CellCallerID", "DataType": "Phone"})).await, "Default");
    assert_eq!(go(json!({"Name": "CellIsMobile", "DataType": "Boolean", "DefaultValue": "yes"})).await, "Default");
    // Associations: phone fields only, known roles, existing fields of the right type.
    assert_eq!(
        go(json!({"Name": "Note", "DataType": "Text", "Associations": {"CallerID": "CellCallerID"}})).await,
        "InvalidSubField"
    );
    assert_eq!(
        go(json!({"Name": "WorkPhone", "DataType": "Phone", "Associations": {"Attempts": "Tier"}})).await,
        "InvalidSubField"
    );
    assert_eq!(
        go(json!({"Name": "WorkPhone", "DataType": "Phone", "Associations": {"CallerID": "Nope"}})).await,
        "InvalidSubField"
    );
    assert_eq!(
        go(json!({"Name": "WorkPhone", "DataType": "Phone", "Associations": {"Compliance": "Tier"}})).await,
        "InvalidSubField"
    );
    assert_eq!(go(json!({"Name": "WorkPhone", "DataType": "Phone", "Associations": "{broken"})).await, "OnError");
    assert_eq!(
        go(json!({"Name": "WorkPhone", "DataType": "Phone",
                  "Associations": {"callerid": "CellCallerID", "Compliance": "cellismobile"}}))
        .await,
        "Default"
    );
    let (branch, r) = f.branch("GETUSERFIELDS", json!({"Fields": "defs"}), &["Default", "OnError"]).await;
    assert_eq!(branch, "Default");
    let defs = var(&r, "defs");
    let names: Vec<&str> = defs.as_array().expect("array").iter().map(|d| d["Name"].as_str().unwrap_or("")).collect();
    assert_eq!(names, ["CellPhone", "Tier", "CellCallerID", "CellIsMobile", "WorkPhone"]);
    assert_eq!(defs[1]["DataType"], "Integer");
    assert_eq!(defs[1]["ValueRequired"], "true");
    assert_eq!(defs[3]["DefaultValue"], "true", "defaults are stored normalized");
    assert_eq!(defs[4]["Associations"], json!({"CallerID": "CellCallerID", "Compliance": "CellIsMobile"}));
}

async fn setup_source(f: &Fx, name: &str) {
    let (b, _) = f.branch("CREATESOURCE", json!({"Name": name}), SOURCE_BRANCHES).await;
    assert_eq!(b, "Default");
}

async fn user_field(f: &Fx, name: &str, ty: &str, extra: J) {
    let mut props = json!({"Name": name, "DataType": ty});
    for (k, v) in extra.as_object().into_iter().flatten() {
        props[k] = v.clone();
    }
    let (b, r) = f.branch("CREATEUSERFIELD", props, FIELD_BRANCHES).await;
    assert_eq!(b, "Default", "{name}: {:?}", r.var("_ERR"));
}

async fn map(f: &Fx, source: &str, mapping: J) -> String {
    f.branch("CREATESOURCEMAP", json!({"SourceName": source, "Mapping": mapping.to_string()}), MAP_BRANCHES).await.0
}

async fn source_map_branches(b: Backend) {
    let f = fx(b).await;
    f.skill(77, 2, 0, &["Score"]).await;
    setup_source(&f, "Spring").await;
    user_field(&f, "CellPhone", "Phone", json!({})).await;
    let good =
        json!({"Mappings": {"ExternalID": "Account", "PhoneNumber": "Home", "CellPhone": "Cell", "Score": "Rank"}});
    assert_eq!(map(&f, "Nope", good.clone()).await, "InvalidSource");
    assert_eq!(map(&f, "Spring", json!({"Phone": {"ExternalID": "Account"}})).await, "InvalidRootNode");
    assert_eq!(
        map(&f, "Spring", json!({"Mappings": {"ExternalID": "A", "PhoneNumber": "P", "MyCustomField": "C"}})).await,
        "InvalidFieldName"
    );
    assert_eq!(
        map(&f, "Spring", json!({"Mappings": {"City": "City", "State": "State"}})).await,
        "MissingRequiredField"
    );
    assert_eq!(
        map(
            &f,
            "Spring",
            json!({"Mappings": {"ExternalID": "A", "PhoneNumber": "P", "SMSPhoneNumber": "S", "CellPhone": "C"}})
        )
        .await,
        "ExceededMaxDestinations"
    );
    let (branch, r) =
        f.branch("CREATESOURCEMAP", json!({"SourceName": "Spring", "Mapping": "{not json"}), MAP_BRANCHES).await;
    assert_eq!(branch, "OnError");
    assert!(var(&r, "_ERR").as_str().unwrap_or("").contains("JSON"), "{:?}", var(&r, "_ERR"));
    assert_eq!(map(&f, "Spring", good.clone()).await, "Default");
    assert_eq!(map(&f, "spring", good.clone()).await, "NoChangesMade");
    let remapped =
        json!({"Mappings": {"ExternalID": "Account", "PhoneNumber": "Home", "CellPhone": "Cell", "Score": "Points"}});
    assert_eq!(map(&f, "Spring", remapped).await, "FieldsInUseCantApply");

    // GETSOURCEMAP gives the shape CREATESOURCEMAP takes: read, extend, write back.
    let script = r#"{"name": "extend", "actions": [
        {"id": "b", "action": "BEGIN", "next": "get"},
        {"id": "get", "action": "GETSOURCEMAP", "SourceName": "Spring", "Results": "current",
         "branches": {"Default": "add", "InvalidSource": "bad", "OnError": "bad"}},
        {"id": "add", "action": "SNIPPET", "Code": "current.Mappings.FirstName = \"First\"", "next": "put"},
        {"id": "put", "action": "CREATESOURCEMAP", "SourceName": "Spring", "Mapping": "current",
         "branches": {"Default": "ok", "OnError": "bad", "NoChangesMade": "bad"}},
        {"id": "ok", "action": "RETURN", "ReturnValue": "stored"},
        {"id": "bad", "action": "RETURN", "ReturnValue": "failed {_ERR}"}]}"#;
    let r = f.run(script, &[]).await;
    assert_eq!(r.return_value.clone().map(|v| v.to_text().to_string()).as_deref(), Some("stored"));
    assert_eq!(
        var(&r, "current"),
        json!({"Mappings": {"ExternalID": "Account", "PhoneNumber": "Home", "CellPhone": "Cell", "Score": "Rank", "FirstName": "First"}})
    );
    let src = f.outbound.source(f.unit, "Spring").await.expect("read").expect("source");
    let m = f.outbound.source_map(f.unit, src.id).await.expect("read").expect("map");
    assert_eq!(m.version, 2, "the history of maps is kept");
    let (branch, _) =
        f.branch("GETSOURCEMAP", json!({"SourceName": "Autumn"}), &["Default", "InvalidSource", "OnError"]).await;
    assert_eq!(branch, "InvalidSource");
}

/// Source `Leads` with three phone fields, a required user field and a
/// typed system field; skill 100 keeps two destinations.
async fn prospect_setup(f: &Fx) {
    // Skill 100 keeps two destinations; the unit's other skill allows six,
    // so a map may carry three phone fields.
    f.skill(100, 2, 50, &[]).await;
    f.skill(101, 6, 0, &[]).await;
    setup_source(f, "Leads").await;
    user_field(f, "CellPhone", "Phone", json!({})).await;
    user_field(f, "WorkPhone", "Phone", json!({})).await;
    user_field(f, "Plan", "Text", json!({"ValueRequired": "Yes"})).await;
    user_field(f, "Tier", "Integer", json!({"DefaultValue": "3"})).await;
    let m = json!({"Mappings": {
        "ExternalID": "Id", "FirstName": "First", "LastName": "Last", "PhoneNumber": "Home",
        "CellPhone": "Cell", "WorkPhone": "Work", "Zip": "Zip", "City": "City", "State": "State",
        "TimeZone": "TZ", "ExpirationDate": "Expires", "Score": "Score", "Plan": "Plan", "Tier": "Tier"}});
    assert_eq!(map(f, "Leads", m).await, "Default");
}

fn load_props(data: &str, reject: &str, zone: &str) -> J {
    json!({"SkillNo": "100", "SourceName": "Leads", "Data": data, "NoTimeZoneReject": reject,
           "TimeZone": zone, "Results": "results"})
}

async fn load(f: &Fx, records: &J, reject: &str, zone: &str) -> (String, RunReport) {
    let params = [("data", records.to_string())];
    f.branch_on(
        &f.runtime(),
        "CREATEPROSPECTS v2",
        load_props("{data}", reject, zone),
        &["Default", "OnError"],
        &params,
    )
    .await
}

/// Every record once, in input order within each list, with its original
/// members untouched.
fn assert_accounted(input: &J, results: &J) {
    let input = input.as_array().expect("input array");
    let ok = results["SuccessfulRecords"].as_array().expect("SuccessfulRecords");
    let failed = results["FailedRecords"].as_array().expect("FailedRecords");
    assert_eq!(ok.len() + failed.len(), input.len(), "every record appears once");
    let mut rows = Vec::new();
    for list in [ok, failed] {
        let mut last = 0;
        for r in list {
            let row: usize = r["Row"].as_str().expect("Row kept").parse().expect("row number");
            assert!(row > last, "input order within a list");
            last = row;
            rows.push(row);
            let original = input[row - 1].as_object().expect("record");
            for (k, v) in original {
                // Values are text first: a JSON number comes back as its text.
                let want = match v {
                    J::Number(n) => J::String(n.to_string()),
                    other => other.clone(),
                };
                assert_eq!(r[k], want, "member {k} of row {row} untouched");
            }
            assert!(r["ResultCode"].is_string());
        }
    }
    rows.sort();
    assert_eq!(rows, (1..=input.len()).collect::<Vec<_>>());
}

fn code_of(results: &J, row: usize) -> String {
    for list in ["SuccessfulRecords", "FailedRecords"] {
        for r in results[list].as_array().into_iter().flatten() {
            if r["Row"] == json!(row.to_string()) {
                return r["ResultCode"].as_str().unwrap_or("").to_string();
            }
        }
    }
    panic!("row {row} is missing from Results")
}

fn record_of(results: &J, row: usize) -> J {
    for list in ["SuccessfulRecords", "FailedRecords"] {
        for r in results[list].as_array().into_iter().flatten() {
            if r["Row"] == json!(row.to_string()) {
                return r.clone();
            }
        }
    }
    panic!("row {row} is missing from Results")
}

fn rec(row: usize, extra: J) -> J {
    let mut r = json!({"Row": row.to_string(), "Id": format!("P{row}"), "First": "Ada", "Last": "Lovelace",
                       "Home": "(212) 736-5000", "Zip": "10001", "Plan": "gold"});
    for (k, v) in extra.as_object().into_iter().flatten() {
        r[k] = v.clone();
    }
    r
}

async fn prospects_result_codes(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let input = json!([
        rec(1, json!({})),
        rec(2, json!({"Id": "  "})),
        rec(3, json!({"Id": "P1"})),
        rec(4, json!({"Home": ""})),
        rec(5, json!({"Home": "123", "Cell": "call me"})),
        rec(6, json!({"Home": "1-800-555-0199", "Zip": ""})),
        rec(7, json!({"TZ": "Mars/Olympus"})),
        rec(8, json!({"Expires": "someday"})),
        rec(9, json!({"Expires": "2026-11-20"})),
        rec(10, json!({"Plan": ""})),
        rec(11, json!({"Score": "high"})),
        rec(12, json!({"First": "x".repeat(101)})),
        rec(
            13,
            json!({"Home": "312-603-0142", "Cell": "12", "Work": "+1 (808) 586 0100", "Zip": "",
                       "Expires": "2026-11-21", "TZ": ""})
        ),
        rec(
            14,
            json!({"Home": "2127365000", "Cell": "212.736.5000", "Work": "415-503-2671",
                       "Tier": "7", "Score": "+42"})
        ),
        rec(15, json!({"Id": 12345, "TZ": "Central Standard Time"})),
    ]);
    let (branch, r) = load(&f, &input, "No", "").await;
    assert_eq!(branch, "Default", "{:?}", r.var("_ERR"));
    let res = var(&r, "results");
    assert_accounted(&input, &res);
    let expect = [
        "Created",
        "MissingExternalID",
        "DuplicateExternalID",
        "MissingPhoneNumber",
        "InvalidPhoneNumber",
        "TimeZoneNotFound",
        "InvalidTimeZone",
        "InvalidExpirationDate",
        "Expired",
        "RequiredFieldMissing",
        "InvalidFieldValue",
        "FieldTooLong",
        "Created",
        "Created",
        "Created",
    ];
    for (i, want) in expect.iter().enumerate() {
        assert_eq!(code_of(&res, i + 1), *want, "row {}: {}", i + 1, record_of(&res, i + 1));
    }
    assert_eq!(res["Summary"], json!({"Received": "15", "Created": "4", "Updated": "0", "Failed": "11"}));
    // Failures explain themselves.
    let bad_phones = record_of(&res, 5);
    let msg = bad_phones["ResultMessage"].as_str().expect("message");
    assert!(msg.contains("PhoneNumber") && msg.contains("CellPhone"), "each bad value is reported: {msg}");

    // Record 1: zone from the ZIP, one destination in E.164.
    let one = record_of(&res, 1);
    assert_eq!(one["TimeZone"], "America/New_York");
    assert_eq!(one["TimeZoneSource"], "zip");
    assert_eq!(one["TimeZoneDataVersion"], prospero::timezone::ZIP_DATA_VERSION);
    assert_eq!(one["Destinations"][0]["PhoneNumber"], "+12127365000");
    assert_eq!(one["Destinations"][0]["Field"], "PhoneNumber");
    assert!(one["ProspectID"].as_str().is_some_and(|id| id.parse::<i64>().is_ok()));
    // Record 13: the invalid cell is dropped with a warning, the zone comes
    // from the first dialable number (Chicago), each destination has its own zone.
    let r13 = record_of(&res, 13);
    assert_eq!(r13["TimeZone"], "America/Chicago");
    assert_eq!(r13["TimeZoneSource"], "npa", "312 is one zone as a whole");
    let dests: Vec<(&str, &str)> = r13["Destinations"]
        .as_array()
        .expect("destinations")
        .iter()
        .map(|d| (d["Field"].as_str().unwrap_or(""), d["TimeZone"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(dests, [("PhoneNumber", "America/Chicago"), ("WorkPhone", "Pacific/Honolulu")]);
    // The Chicago number agrees with its record; the Honolulu one does not,
    // so its window must hold in both zones (the intersection).
    let (home, work) = (&r13["Destinations"][0], &r13["Destinations"][1]);
    assert_eq!(home["TimeZoneMismatch"], json!("False"));
    assert_eq!(home["WindowZones"], json!(["America/Chicago"]));
    assert_eq!(work["TimeZoneMismatch"], json!("True"));
    assert_eq!(work["RecordTimeZone"], "America/Chicago");
    assert_eq!(work["WindowZones"], json!(["Pacific/Honolulu", "America/Chicago"]));
    assert_eq!(work["TimeZoneSource"], "npa");
    assert_eq!(work["TimeZoneDataVersion"], prospero::timezone::PHONE_DATA_VERSION);
    assert_eq!(work["CallableWindow"], prospero::outbound::model::DEFAULT_WINDOWS);
    assert!(r13["Warnings"].to_string().contains("CellPhone"), "{}", r13["Warnings"]);
    // Record 14: a repeated number is skipped, the third is over the skill's cap of two.
    let r14 = record_of(&res, 14);
    assert_eq!(r14["Destinations"].as_array().map(Vec::len), Some(2));
    let warnings = r14["Warnings"].to_string();
    assert!(warnings.contains("repeats"), "{warnings}");
    // 14 has only two distinct numbers, so nothing is over the cap; 13 shows the cap elsewhere.
    // Record 15: a numeric ExternalID and a Windows zone name.
    let r15 = record_of(&res, 15);
    assert_eq!(r15["TimeZone"], "America/Chicago");
    assert_eq!(r15["TimeZoneSource"], "explicit");
    assert_eq!(r15["TimeZoneDataVersion"], prospero::timezone::WINDOWS_ZONES_VERSION);

    let stored = f.prospects("Leads").await;
    assert_eq!(stored.len(), 4);
    let p14 = stored.iter().find(|p| p.external_id == "P14").expect("P14 stored");
    let fields: J = serde_json::from_str(&p14.fields).expect("fields JSON");
    assert_eq!(fields["Tier"], "7");
    assert_eq!(fields["Score"], "42", "typed values are stored normalized");
    let p1 = stored.iter().find(|p| p.external_id == "P1").expect("P1 stored");
    let fields: J = serde_json::from_str(&p1.fields).expect("fields JSON");
    assert_eq!(fields["Tier"], "3", "defaults fill blank user fields");
    let p13 = stored.iter().find(|p| p.external_id == "P13").expect("P13 stored");
    // A bare date lasts to the end of that day in the record's zone (Chicago, UTC-6).
    assert_eq!(p13.expires_at.as_deref(), Some("2026-11-22T05:59:59Z"));

    // The same batch again: Updated for every stored record, no duplicates.
    let (branch, r) = load(&f, &input, "No", "").await;
    assert_eq!(branch, "Default");
    let res2 = var(&r, "results");
    assert_accounted(&input, &res2);
    for (i, want) in expect.iter().enumerate() {
        let want = if *want == "Created" { "Updated" } else { want };
        assert_eq!(code_of(&res2, i + 1), want, "rerun row {}", i + 1);
    }
    assert_eq!(record_of(&res2, 1)["ProspectID"], record_of(&res, 1)["ProspectID"], "same prospect replaced");
    assert_eq!(f.prospects("Leads").await.len(), 4);

    // A wider cap keeps a third destination; with the cap at two, it is dropped with a warning.
    let three =
        json!([rec(1, json!({"Id": "T1", "Home": "212-736-5000", "Cell": "415-503-2671", "Work": "808-586-0100"}))]);
    let (_, r) = load(&f, &three, "No", "").await;
    let res3 = var(&r, "results");
    let t1 = &res3["SuccessfulRecords"][0];
    assert_eq!(t1["Destinations"].as_array().map(Vec::len), Some(2));
    assert!(t1["Warnings"].to_string().contains("at most 2"), "{}", t1["Warnings"]);
}

async fn no_time_zone_reject_both_ways(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let toll_free = json!([rec(1, json!({"Id": "TF1", "Home": "1-888-555-0123", "Zip": ""}))]);
    // No = reject the record.
    let (_, r) = load(&f, &toll_free, "No", "Central Standard Time").await;
    let res = var(&r, "results");
    assert_eq!(code_of(&res, 1), "TimeZoneNotFound");
    // Yes = use the TimeZone property.
    let (_, r) = load(&f, &toll_free, "Yes", "Central Standard Time").await;
    let res = var(&r, "results");
    assert_eq!(code_of(&res, 1), "Created");
    let created = record_of(&res, 1);
    assert_eq!(created["TimeZone"], "America/Chicago");
    assert_eq!(created["TimeZoneSource"], "default");
    // Yes without a TimeZone: still nothing to use.
    let other = json!([rec(1, json!({"Id": "TF2", "Home": "1-888-555-0124", "Zip": ""}))]);
    let (_, r) = load(&f, &other, "Yes", "").await;
    assert_eq!(code_of(&var(&r, "results"), 1), "TimeZoneNotFound");
    // A record whose zone is known never takes the default.
    let known = json!([rec(1, json!({"Id": "K1"}))]);
    let (_, r) = load(&f, &known, "Yes", "Pacific").await;
    assert_eq!(record_of(&var(&r, "results"), 1)["TimeZone"], "America/New_York");
}

async fn batch_problems_take_on_error_and_store_nothing(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    setup_source(&f, "Unmapped").await;
    let data = json!([rec(1, json!({}))]).to_string();
    let cases: Vec<(J, &str)> = vec![
        (json!({"SkillNo": "999", "SourceName": "Leads", "Data": data}), "skill 999"),
        (json!({"SkillNo": "100", "SourceName": "Nowhere", "Data": data}), "Nowhere"),
        (json!({"SkillNo": "100", "SourceName": "Unmapped", "Data": data}), "Missing External ID"),
        (json!({"SkillNo": "100", "SourceName": "Leads", "Data": "[1, 2]"}), "Data[1]"),
        (json!({"SkillNo": "100", "SourceName": "Leads", "Data": "{broken}"}), "JSON"),
        (
            json!({"SkillNo": "100", "SourceName": "Leads", "Data": data, "DefaultExpirationDate": "{bad}"}),
            "DefaultExpirationDate",
        ),
    ];
    for (props, why) in cases {
        let params = [("bad", "never".to_string()), ("broken", "[{\"Id\": ".to_string())];
        let (branch, r) =
            f.branch_on(&f.runtime(), "CREATEPROSPECTS v2", props, &["Default", "OnError"], &params).await;
        assert_eq!(branch, "OnError", "{why}");
        let err = var(&r, "_ERR").as_str().unwrap_or("").to_string();
        assert!(err.contains(why), "_ERR '{err}' should mention {why}");
    }
    assert!(f.prospects("Leads").await.is_empty());
    assert!(f.prospects("Unmapped").await.is_empty());
}

/// A trigger that fails the write of one destination, created in the
/// database itself: the failure happens inside the batch's transaction,
/// after its prospects were written.
async fn install_failure(f: &Fx, external_id: &str) -> String {
    let tag = format!("boom_{}", unique("t").replace('-', "_"));
    match f.backend {
        Backend::Sqlite => {
            let url = f.dir.path().join("outbound.db");
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", url.display())).await.expect("pool");
            let sql = format!(
                "CREATE TRIGGER {tag} BEFORE INSERT ON destinations
                 WHEN (SELECT external_id FROM prospects WHERE id = NEW.prospect_id) = '{external_id}'
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await.expect("trigger");
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(PG_URL).await.expect("pool");
            let func = format!(
                "CREATE FUNCTION {tag}() RETURNS trigger AS $$ BEGIN
                   IF (SELECT external_id FROM prospects WHERE id = NEW.prospect_id) = '{external_id}' THEN
                     RAISE EXCEPTION 'injected failure';
                   END IF;
                   RETURN NEW;
                 END $$ LANGUAGE plpgsql"
            );
            sqlx::query(sqlx::AssertSqlSafe(func)).execute(&pool).await.expect("function");
            let trig =
                format!("CREATE TRIGGER {tag} BEFORE INSERT ON destinations FOR EACH ROW EXECUTE FUNCTION {tag}()");
            sqlx::query(sqlx::AssertSqlSafe(trig)).execute(&pool).await.expect("trigger");
        }
    }
    tag
}

async fn remove_failure(f: &Fx, tag: &str) {
    if f.backend == Backend::Postgres {
        let pool = sqlx::PgPool::connect(PG_URL).await.expect("pool");
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {tag} ON destinations")))
            .execute(&pool)
            .await
            .expect("drop");
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP FUNCTION {tag}()"))).execute(&pool).await.expect("drop");
    }
}

async fn injected_store_failure_leaves_nothing_of_the_batch(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let boom = unique("BOOM");
    // Ten prospects exist before the failing batch.
    let before: Vec<J> = (1..=10).map(|i| rec(i, json!({"Id": format!("E{i}"), "First": "Before"}))).collect();
    let (_, r) = load(&f, &J::Array(before), "No", "").await;
    assert_eq!(var(&r, "results")["Summary"]["Created"], "10");
    let tag = install_failure(&f, &boom).await;
    // The failing batch updates five of them, adds more, and hits the
    // failure in the middle: once as a small batch (checked on the run's
    // thread), once as a large one (checked on the blocking pool while the
    // results are drafted beside the store's write).
    for (size, at) in [(205, 105), (905, 650)] {
        let mut batch: Vec<J> = (1..=5).map(|i| rec(i, json!({"Id": format!("E{i}"), "First": "After"}))).collect();
        for i in 6..=size {
            let id = if i == at { boom.clone() } else { format!("N{i}") };
            batch.push(rec(i, json!({"Id": id})));
        }
        let (branch, r) = load(&f, &J::Array(batch), "No", "").await;
        assert_eq!(branch, "OnError", "batch of {size}");
        let err = var(&r, "_ERR").as_str().unwrap_or("").to_string();
        assert!(err.contains("injected failure") && err.contains("nothing of the batch was stored"), "{err}");
        assert_eq!(var(&r, "results"), J::Null, "no Results for a batch that was not processed");
        let stored = f.prospects("Leads").await;
        assert_eq!(stored.len(), 10, "no prospect of the failed batch of {size}");
        for p in &stored {
            let fields: J = serde_json::from_str(&p.fields).expect("fields");
            assert_eq!(fields["FirstName"], "Before", "{} untouched", p.external_id);
            assert_eq!(p.destinations.len(), 1, "{} keeps its destinations", p.external_id);
        }
    }
    remove_failure(&f, &tag).await;
}

/// A batch large enough to be checked off the run's thread (more than 256
/// records): a duplicate far from its first occurrence is still caught,
/// late updates find their prospects, Results keep input order and every
/// stored record gets its own prospect id.
async fn large_batches_keep_order_and_duplicates(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let first: Vec<J> = (1..=3).map(|i| rec(i, json!({"Id": format!("L{i}"), "First": "Old"}))).collect();
    let (_, r) = load(&f, &J::Array(first), "No", "").await;
    assert_eq!(var(&r, "results")["Summary"]["Created"], "3");
    let n = 1_000;
    let batch: Vec<J> = (1..=n)
        .map(|i| match i {
            // The first piece's record 10 again, far into a later piece.
            900 => rec(i, json!({"Id": "P10"})),
            // Existing prospects, updated from the last pieces.
            950..=952 => rec(i, json!({"Id": format!("L{}", i - 949), "First": "New"})),
            _ => rec(i, json!({})),
        })
        .collect();
    let (branch, r) = load(&f, &J::Array(batch), "No", "").await;
    assert_eq!(branch, "Default");
    let results = var(&r, "results");
    assert_eq!(results["Summary"]["Received"], n.to_string());
    assert_eq!(results["Summary"]["Created"], (n - 4).to_string());
    assert_eq!(results["Summary"]["Updated"], "3");
    assert_eq!(results["Summary"]["Failed"], "1");
    assert_eq!(record_of(&results, 900)["ResultCode"], "DuplicateExternalID");
    for row in 950..=952 {
        assert_eq!(record_of(&results, row)["ResultCode"], "Updated", "row {row}");
    }
    let rows: Vec<usize> = results["SuccessfulRecords"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["Row"].as_str().and_then(|s| s.parse().ok()).expect("row"))
        .collect();
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "input order");
    assert_eq!(rows.len(), n - 1);
    let stored = f.prospects("Leads").await;
    assert_eq!(stored.len(), n - 1, "the three earlier prospects and every new one, each once");
    let ids: std::collections::HashSet<i64> = results["SuccessfulRecords"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["ProspectID"].as_str().and_then(|s| s.parse().ok()).expect("id"))
        .collect();
    assert_eq!(ids.len(), n - 1, "one prospect id per stored record");
    for p in stored.iter().filter(|p| p.external_id.starts_with('L')) {
        let fields: J = serde_json::from_str(&p.fields).expect("fields");
        assert_eq!(fields["FirstName"], "New", "{} updated", p.external_id);
    }
}

async fn get_and_remove_prospects(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let input = json!([
        rec(1, json!({"Id": "G1", "First": "Ada", "Last": "Lovelace", "Home": "212-736-5000"})),
        rec(2, json!({"Id": "G2", "First": "Grace", "Last": "Hopper", "Home": "415-503-2671", "Cell": "808-586-0100"})),
        rec(3, json!({"Id": "G3", "First": "Alan", "Last": "Turing", "Home": "312-603-0142"})),
    ]);
    let (_, r) = load(&f, &input, "No", "").await;
    assert_eq!(var(&r, "results")["Summary"]["Created"], "3");
    let get = |opts: J| {
        let f = &f;
        async move {
            let (branch, r) = f
                .branch(
                    "GETPROSPECT",
                    json!({"SourceName": "Leads", "SearchOptions": opts.to_string(), "Results": "found"}),
                    &["Default", "OnError"],
                )
                .await;
            (branch, var(&r, "found"))
        }
    };
    let ids = |found: &J| -> Vec<String> {
        found.as_array().into_iter().flatten().map(|p| p["ExternalID"].as_str().unwrap_or("").to_string()).collect()
    };
    let (b1, all) = get(json!({})).await;
    assert_eq!(b1, "Default");
    assert_eq!(ids(&all), ["G1", "G2", "G3"]);
    let (_, one) = get(json!({"ExternalID": "G2"})).await;
    assert_eq!(ids(&one), ["G2"]);
    assert_eq!(one[0]["FirstName"], "Grace");
    assert_eq!(one[0]["Destinations"][1]["PhoneNumber"], "+18085860100");
    assert_eq!(one[0]["Destinations"][1]["TimeZone"], "Pacific/Honolulu");
    // Read back, the window is derived again from the skill and both zones.
    // The record's zone comes from its New York ZIP; both numbers are elsewhere.
    assert_eq!(one[0]["TimeZoneDataVersion"], prospero::timezone::ZIP_DATA_VERSION);
    assert_eq!(one[0]["Destinations"][1]["TimeZoneMismatch"], json!("True"));
    assert_eq!(one[0]["Destinations"][1]["WindowZones"], json!(["Pacific/Honolulu", "America/New_York"]));
    assert_eq!(one[0]["Destinations"][1]["CallableWindow"], prospero::outbound::model::DEFAULT_WINDOWS);
    assert_eq!(one[0]["Destinations"][0]["WindowZones"], json!(["America/Los_Angeles", "America/New_York"]));
    let (_, by_phone) = get(json!({"PhoneNumber": "+1 (808) 586-0100"})).await;
    assert_eq!(ids(&by_phone), ["G2"], "any destination matches, in any format");
    let (_, by_name) = get(json!({"FirstName": "alan", "LastName": "TURING"})).await;
    assert_eq!(ids(&by_name), ["G3"]);
    let (_, none) = get(json!({"ExternalID": "G1", "LastName": "Hopper", "FirstName": "Grace"})).await;
    assert!(ids(&none).is_empty(), "all criteria must hold");
    let (b2, _) = get(json!({"FirstName": "Ada"})).await;
    assert_eq!(b2, "OnError", "names come as a pair");

    let (branch, r) = f
        .branch(
            "REMOVEPROSPECTS",
            json!({"SourceName": "Leads", "ProspectsToRemove": json!([{"Id": "G1", "Row": "a"}, {"Id": "nope"}, {"Row": "c"}, {"ExternalID": "G3"}]).to_string(), "Results": "removed"}),
            &["Default", "OnError"],
        )
        .await;
    assert_eq!(branch, "Default");
    let removed = var(&r, "removed");
    let codes: Vec<&str> = removed["Records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["ResultCode"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(codes, ["Removed", "NotFound", "NotFound", "Removed"]);
    assert_eq!(removed["Records"][0]["Row"], "a", "records keep their members");
    assert_eq!(removed["Summary"], json!({"Received": "4", "Removed": "2", "NotFound": "2"}));
    let (_, left) = get(json!({})).await;
    assert_eq!(ids(&left), ["G2"]);
}

/// The unit's destinations whose prospect is gone, and all its
/// destinations, read straight from the database.
async fn destination_counts(f: &Fx) -> (i64, i64) {
    const COUNTS: &str = "SELECT
        (SELECT COUNT(*) FROM destinations d WHERE d.unit_id = $1
             AND NOT EXISTS (SELECT 1 FROM prospects p WHERE p.id = d.prospect_id)),
        (SELECT COUNT(*) FROM destinations WHERE unit_id = $1)";
    match f.backend {
        Backend::Sqlite => {
            let url = format!("sqlite:{}", f.dir.path().join("outbound.db").display());
            let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
            sqlx::query_as(COUNTS).bind(f.unit).fetch_one(&pool).await.expect("counts")
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(PG_URL).await.expect("pool");
            sqlx::query_as(COUNTS).bind(f.unit).fetch_one(&pool).await.expect("counts")
        }
    }
}

/// Delete prospects straight in the database, as an operator's cleanup
/// would, bypassing the store.
async fn delete_prospects_directly(f: &Fx, external_ids: &[&str]) -> u64 {
    const DELETE: &str = "DELETE FROM prospects WHERE unit_id = $1 AND external_id = $2";
    let mut n = 0;
    for id in external_ids {
        n += match f.backend {
            Backend::Sqlite => {
                let url = format!("sqlite:{}", f.dir.path().join("outbound.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.expect("pool");
                sqlx::query(DELETE).bind(f.unit).bind(id).execute(&pool).await.expect("delete").rows_affected()
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(PG_URL).await.expect("pool");
                sqlx::query(DELETE).bind(f.unit).bind(id).execute(&pool).await.expect("delete").rows_affected()
            }
        };
    }
    n
}

/// Destinations have no foreign key to their prospect (the store keeps the
/// link, see docs/decisions.md): whichever way prospects go, by
/// REMOVEPROSPECTS, by a replacing load or by a plain DELETE in the
/// database, their destinations go with them and no other prospect's do.
async fn removed_and_replaced_prospects_leave_no_orphan_destinations(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let input: Vec<J> = (1..=6)
        .map(|i| rec(i, json!({"Id": format!("O{i}"), "Home": "212-736-5000", "Cell": "415-503-2671"})))
        .collect();
    let (_, r) = load(&f, &J::Array(input), "No", "").await;
    assert_eq!(var(&r, "results")["Summary"]["Created"], "6");
    assert_eq!(destination_counts(&f).await, (0, 12), "two destinations each");
    // Replaced: O1 now has one number; its second destination must go.
    let again = json!([rec(1, json!({"Id": "O1", "Home": "312-603-0142"}))]);
    let (_, r) = load(&f, &again, "No", "").await;
    assert_eq!(var(&r, "results")["Summary"]["Updated"], "1");
    assert_eq!(destination_counts(&f).await, (0, 11));
    // Removed through the store, in one statement for several prospects.
    let (branch, _) = f
        .branch(
            "REMOVEPROSPECTS",
            json!({"SourceName": "Leads", "ProspectsToRemove": json!([{"Id": "O2"}, {"Id": "O3"}]).to_string(),
                   "Results": "removed"}),
            &["Default", "OnError"],
        )
        .await;
    assert_eq!(branch, "Default");
    assert_eq!(destination_counts(&f).await, (0, 7));
    // Deleted behind the store's back.
    assert_eq!(delete_prospects_directly(&f, &["O4", "O1"]).await, 2);
    assert_eq!(destination_counts(&f).await, (0, 4), "O5 and O6 keep theirs");
    let left: Vec<(String, usize)> =
        f.prospects("Leads").await.iter().map(|p| (p.external_id.clone(), p.destinations.len())).collect();
    assert_eq!(left, [("O5".to_string(), 2), ("O6".to_string(), 2)]);
    // A deletion that matches nothing deletes no destination.
    assert_eq!(delete_prospects_directly(&f, &["nobody"]).await, 0);
    assert_eq!(destination_counts(&f).await, (0, 4));
}

fn leads_csv(n: usize) -> Vec<prospero::outbound::model::NewLead> {
    let mut csv = String::from("Id,First,Home\n");
    for i in 1..=n {
        csv.push_str(&format!("L{i},Name{i},212-736-{:04}\n", 1000 + i));
    }
    prospero::outbound::leads::read_csv_bytes("test.csv", csv.as_bytes(), Some("Id")).expect("csv")
}

const CHECKOUT_LOOP: &str = r#"{"name": "drain", "actions": [
    {"id": "b", "action": "BEGIN", "next": "init"},
    {"id": "init", "action": "ASSIGN", "Variable": "ids", "Value": "", "next": "take"},
    {"id": "take", "action": "CHECKOUTLEADS", "LeadSource": "crm", "MaxRecords": "3", "Leads": "got",
     "branches": {"Default": "keep", "NoLeads": "done", "OnError": "fail"}},
    {"id": "keep", "action": "SNIPPET", "next": "pause",
     "Code": "FOREACH l IN got { ids = \"{ids}{l.LeadID},\" }"},
    {"id": "pause", "action": "WAIT", "Seconds": "0.001", "next": "take"},
    {"id": "done", "action": "RETURN", "ReturnValue": "{ids}"},
    {"id": "fail", "action": "RETURN", "ReturnValue": "error {_ERR}"}]}"#;

async fn lead_checkout_is_exclusive(b: Backend) {
    let f = fx(b).await;
    let n = f.outbound.import_leads(f.unit, "crm", &leads_csv(60)).await.expect("import");
    assert_eq!(n, 60);
    let path = f.dir.path().join("drain.json");
    std::fs::write(&path, CHECKOUT_LOOP).expect("write");
    let mut handles = Vec::new();
    for _ in 0..8 {
        // One runtime per run, as separate processes would have.
        let rt = f.runtime();
        let path = path.clone();
        handles.push(tokio::spawn(async move {
            let program = rt.load(&path).expect("load");
            let r = rt.run(&program, RunOptions::new()).await.expect("run");
            r.return_value.map(|v| v.to_text().to_string()).unwrap_or_default()
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for h in handles {
        let ids = h.await.expect("join");
        assert!(!ids.starts_with("error"), "{ids}");
        for id in ids.split(',').filter(|s| !s.is_empty()) {
            total += 1;
            assert!(seen.insert(id.to_string()), "lead {id} was handed to two runs");
        }
    }
    assert_eq!(total, 60, "every lead was checked out once");
}

async fn lead_checkin_and_leases(b: Backend) {
    let f = fx(b).await;
    f.outbound.import_leads(f.unit, "crm", &leads_csv(5)).await.expect("import");
    // Check out up to {max} leads (leased for a minute), then check in the
    // records given in {back}, which may be someone else's.
    let script = |name: &str, back: &str| {
        format!(
            r#"{{"name": "{name}", "actions": [
            {{"id": "b", "action": "BEGIN", "Parameters": ["max", "others"], "next": "t"}},
            {{"id": "t", "action": "CHECKOUTLEADS", "LeadSource": "crm", "MaxRecords": "{{max}}", "LeaseSeconds": "60",
             "Leads": "got", "branches": {{"Default": "in", "NoLeads": "none", "OnError": "none"}}}},
            {{"id": "in", "action": "CHECKINLEADS", "Records": "{back}", "Outcome": "Called",
             "branches": {{"Default": "out", "OnError": "none"}}}},
            {{"id": "out", "action": "RETURN", "ReturnValue": "{{asjson(got)}}"}},
            {{"id": "none", "action": "RETURN", "ReturnValue": "none"}}]}}"#
        )
    };
    let take_others = script("take_others", "{others}");
    let take_own = script("take_own", "got");
    let rt = f.runtime();
    let ids = |r: &RunReport| -> BTreeSet<String> {
        let text = r.return_value.as_ref().map(|v| v.to_text().to_string()).unwrap_or_default();
        let got: J = serde_json::from_str(&text).unwrap_or_else(|_| panic!("leads JSON: {text}"));
        got.as_array().expect("array").iter().map(|l| l["Id"].as_str().unwrap_or("").to_string()).collect()
    };
    // A takes three and checks nothing in.
    let a = f.run_on(&rt, &take_others, &[("max", "3".into()), ("others", "[]".into())], NOW).await;
    assert_eq!(ids(&a), BTreeSet::from(["L1".into(), "L2".into(), "L3".into()]));
    let a_leads = var(&a, "got").to_string();
    // B, half a minute later, gets the other two, and may not check in A's.
    let b_run = f.run_on(&rt, &take_others, &[("max", "10".into()), ("others", a_leads)], "2026-11-21T15:00:30Z").await;
    assert_eq!(ids(&b_run), BTreeSet::from(["L4".into(), "L5".into()]));
    assert_eq!(var(&b_run, "CheckedIn"), json!("0"));
    assert_eq!(var(&b_run, "Refused"), json!("3"));
    // After both leases ended, C gets all five again and checks them in.
    let c = f.run_on(&rt, &take_own, &[("max", "10".into()), ("others", "[]".into())], "2026-11-21T15:02:00Z").await;
    assert_eq!(ids(&c).len(), 5);
    assert_eq!(var(&c, "CheckedIn"), json!("5"));
    // Checked-in records are done: nothing is left to take.
    let d = f.run_on(&rt, &take_own, &[("max", "10".into()), ("others", "[]".into())], "2026-11-21T16:00:00Z").await;
    assert_eq!(d.return_value.map(|v| v.to_text().to_string()).as_deref(), Some("none"));
}

async fn get_queue_counts_dialable_prospects(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let input = json!([
        rec(1, json!({"Id": "Q1"})),
        rec(2, json!({"Id": "Q2", "Expires": "2026-11-30"})),
        rec(3, json!({"Id": "Q3", "Expires": "2027-06-30"})),
    ]);
    load(&f, &input, "No", "").await;
    let script = one("GETQUEUE", json!({"Skills": "100"}), &["Default", "OnError"], &[]);
    let r = f.run_on(&f.runtime(), &script, &[], NOW).await;
    assert_eq!(var(&r, "NumberQueued"), json!("3"));
    assert_eq!(var(&r, "Threshold"), json!("50"));
    let r = f.run_on(&f.runtime(), &script, &[], "2026-12-15T00:00:00Z").await;
    assert_eq!(var(&r, "NumberQueued"), json!("2"), "expired prospects are not dialable");
    let (branch, r) = f.branch("GETQUEUE", json!({"Skills": "4242"}), &["Default", "OnError"]).await;
    assert_eq!(branch, "OnError");
    assert!(var(&r, "_ERR").as_str().unwrap_or("").contains("4242"));
}

async fn a_second_unit_cannot_see_or_change_the_first(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let input = json!([rec(1, json!({"Id": "U1"})), rec(2, json!({"Id": "U2"}))]);
    load(&f, &input, "No", "").await;
    f.outbound.import_leads(f.unit, "crm", &leads_csv(3)).await.expect("import");
    let other = unique("intruder");
    let rt = f.runtime_for(&other);
    let go = |action: &'static str, props: J, branches: &'static [&'static str]| {
        let (f, rt) = (&f, &rt);
        async move { f.branch_on(rt, action, props, branches, &[]).await }
    };
    let good_map = json!({"Mappings": {"ExternalID": "Id", "PhoneNumber": "Home"}}).to_string();
    assert_eq!(
        go("CREATESOURCEMAP", json!({"SourceName": "Leads", "Mapping": good_map}), MAP_BRANCHES).await.0,
        "InvalidSource"
    );
    assert_eq!(
        go("GETSOURCEMAP", json!({"SourceName": "Leads"}), &["Default", "InvalidSource", "OnError"]).await.0,
        "InvalidSource"
    );
    let data = input.to_string();
    let (b1, r) = go(
        "CREATEPROSPECTS v2",
        json!({"SkillNo": "100", "SourceName": "Leads", "Data": data}),
        &["Default", "OnError"],
    )
    .await;
    assert_eq!(b1, "OnError");
    assert!(var(&r, "_ERR").as_str().unwrap_or("").contains("skill 100"));
    assert_eq!(
        go("GETPROSPECT", json!({"SourceName": "Leads", "SearchOptions": "{}"}), &["Default", "OnError"]).await.0,
        "OnError"
    );
    let remove = json!({"SourceName": "Leads", "ProspectsToRemove": json!([{"Id": "U1"}]).to_string()});
    assert_eq!(go("REMOVEPROSPECTS", remove, &["Default", "OnError"]).await.0, "OnError");
    assert_eq!(
        go("CHECKOUTLEADS", json!({"LeadSource": "crm"}), &["Default", "NoLeads", "OnError"]).await.0,
        "NoLeads"
    );
    assert_eq!(go("GETQUEUE", json!({"Skills": "100"}), &["Default", "OnError"]).await.0, "OnError");
    let (_, r) = go("GETUSERFIELDS", json!({}), &["Default", "OnError"]).await;
    assert_eq!(var(&r, "Fields"), json!([]));
    // The other unit's namespace is its own: the same source name is free there.
    assert_eq!(go("CREATESOURCE", json!({"Name": "Leads"}), SOURCE_BRANCHES).await.0, "Default");
    let (_, r) = go("GETPROSPECT", json!({"SourceName": "Leads", "Results": "found"}), &["Default", "OnError"]).await;
    assert_eq!(var(&r, "found"), json!([]));
    // And the first unit's data is as it was.
    assert_eq!(f.prospects("Leads").await.len(), 2);
    let src = f.outbound.source(f.unit, "Leads").await.expect("read").expect("source");
    assert_eq!(f.outbound.source_map(f.unit, src.id).await.expect("map").expect("map").version, 1);
    let leads = f
        .outbound
        .check_out_leads(
            f.unit,
            CheckOut {
                lead_source: "crm",
                max: 10,
                run_id: "owner",
                now: "2026-11-21T15:00:00Z",
                lease_until: "2026-11-21T16:00:00Z",
            },
        )
        .await;
    assert_eq!(leads.expect("checkout").len(), 3, "the first unit's leads were not touched");
}

async fn concurrent_overlapping_batches(b: Backend) {
    let f = fx(b).await;
    prospect_setup(&f).await;
    let script =
        one("CREATEPROSPECTS v2", load_props("{data}", "No", ""), &["Default", "OnError"], &[("data", String::new())]);
    let path = f.dir.path().join("loader.json");
    std::fs::write(&path, &script).expect("write");
    let mut handles = Vec::new();
    for k in 0..8usize {
        // Run k loads ids k*100 .. k*100+199: each id is in two batches.
        let batch: Vec<J> = (0..200)
            .map(|i| {
                rec(i + 1, json!({"Id": format!("C{}", k * 100 + i), "Home": format!("212-736-{:04}", k * 100 + i)}))
            })
            .collect();
        let rt = f.runtime();
        let path = path.clone();
        handles.push(tokio::spawn(async move {
            let program = rt.load(&path).expect("load");
            let opts = RunOptions::new().at(NOW.parse().expect("time")).param("data", J::Array(batch).to_string());
            rt.run(&program, opts).await.expect("run")
        }));
    }
    let (mut created, mut updated, mut received) = (0, 0, 0);
    for h in handles {
        let r = h.await.expect("join");
        assert_eq!(
            r.return_value.as_ref().map(|v| v.to_text().to_string()).as_deref(),
            Some("Default"),
            "{:?}",
            r.var("_ERR")
        );
        let res = var(&r, "results");
        let num = |k: &str| res["Summary"][k].as_str().and_then(|s| s.parse::<usize>().ok()).expect("count");
        assert_eq!(num("Received"), 200);
        assert_eq!(num("Failed"), 0);
        assert_eq!(res["SuccessfulRecords"].as_array().map(Vec::len), Some(200), "every record accounted for");
        created += num("Created");
        updated += num("Updated");
        received += num("Received");
    }
    assert_eq!(received, 1600);
    assert_eq!(created, 900, "each distinct ExternalID created once");
    assert_eq!(updated, 700);
    let stored = f.prospects("Leads").await;
    let ids: HashSet<&str> = stored.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(stored.len(), 900);
    assert_eq!(ids.len(), 900, "no duplicate ExternalID");
    assert!(stored.iter().all(|p| p.destinations.len() == 1), "one destination each, none doubled");
}

async fn sample_scripts_run_end_to_end(b: Backend) {
    let f = fx(b).await;
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let leads = prospero::outbound::leads::read_csv(&repo.join("scripts/data/leads.csv"), None).expect("leads");
    assert!(leads.len() >= 1000);
    f.skill(4001, 6, 5000, &[]).await;
    for (folder, source) in [("scripts", "Spring Leads"), ("scripts/studio", "Studio Leads")] {
        let dir = repo.join(folder);
        let rt =
            Runtime::builder().store(f.store.clone()).business_unit(f.unit_name.as_str()).scripts_dir(&dir).build();
        let ext = if folder.ends_with("studio") { "studio.json" } else { "json" };
        let setup = rt.load(&dir.join(format!("source_setup.{ext}"))).expect("setup script");
        let brain = rt.load(&dir.join(format!("brain.{ext}"))).expect("brain script");
        let (mut first_created, mut first_valid) = (0, 0);
        for pass in 0..2 {
            f.outbound.import_leads(f.unit, "crm", &leads).await.expect("import");
            let at: chrono::DateTime<chrono::Utc> = NOW.parse().expect("time");
            let r = rt.run(&setup, RunOptions::new().at(at).param("sourceName", source)).await.expect("setup");
            let status = r.return_value.map(|v| v.to_text().to_string()).unwrap_or_default();
            assert_eq!(status, if pass == 0 { "map stored" } else { "map unchanged" }, "{folder} pass {pass}");
            let opts = RunOptions::new()
                .at(at)
                .param("skill", "4001")
                .param("sourceName", source)
                .param("leadSource", "crm")
                .param("cycles", "8")
                .param("batchSize", "250")
                .param("pause", "60");
            let r = rt.run(&brain, opts).await.expect("brain");
            assert_eq!(r.status, RunStatus::Completed, "{:?}", r.error);
            let totals: J = serde_json::from_str(&r.return_value.expect("totals").to_text()).expect("totals JSON");
            let num = |k: &str| totals[k].as_str().and_then(|s| s.parse::<usize>().ok()).unwrap_or(usize::MAX);
            assert_eq!(num("Errors"), 0, "{totals}");
            assert_eq!(num("Received"), leads.len(), "{totals}");
            assert_eq!(num("Created") + num("Updated") + num("Failed"), leads.len());
            let codes = totals["Codes"].as_object().expect("codes");
            let failed_by_code: usize =
                codes.values().map(|v| v.as_str().and_then(|s| s.parse::<usize>().ok()).unwrap_or(0)).sum();
            assert_eq!(failed_by_code, num("Failed"));
            for code in
                ["MissingExternalID", "DuplicateExternalID", "InvalidPhoneNumber", "TimeZoneNotFound", "Expired"]
            {
                assert!(codes.contains_key(code), "the sample leads show {code}: {totals}");
            }
            if pass == 0 {
                // An id repeated in a later batch updates the earlier prospect.
                assert!(num("Updated") < 20, "{totals}");
                assert!(num("Created") > 900, "{totals}");
                first_created = num("Created");
                first_valid = num("Created") + num("Updated");
            } else {
                assert_eq!(num("Created"), 0, "a rerun updates instead of duplicating: {totals}");
                assert_eq!(num("Updated"), first_valid);
            }
            assert_eq!(f.prospects(source).await.len(), first_created);
        }
    }
}

// PostgreSQL writes a batch's new prospects through COPY, which has no
// ON CONFLICT: a key another writer inserts between the batch's look at
// its keys and its COPY fails the COPY, and the batch is tried again.

/// A stored-ready prospect with two destinations, tagged by its writer.
fn race_row(key: &str, writer: &str) -> prospero::outbound::model::ProspectRow {
    use prospero::outbound::model::{DestinationRow, ProspectRow};
    let dest = |n: u32| DestinationRow {
        field: if n == 1 { "PhoneNumber".into() } else { "CellPhone".into() },
        e164: format!("+1212736{n:04}"),
        raw: format!("{writer}\t{n}\\"),
        kind: "geographic",
        time_zone: Some("America/New_York".into()),
        tz_source: "npa-nxx".into(),
        companions: None,
    };
    ProspectRow {
        external_id: key.to_string(),
        first_name: Some(writer.to_string()),
        last_name: None,
        fields: format!("{{\"Writer\": \"{writer}\"}}"),
        expires_at: None,
        time_zone: "America/New_York".into(),
        tz_source: "default".into(),
        destinations: vec![dest(1), dest(2)],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_key_inserted_by_another_writer_mid_batch_becomes_an_update() {
    use sqlx::Connection;
    let f = fx(Backend::Postgres).await;
    let source = f.outbound.create_source(f.unit, "Race", NOW).await.expect("source").expect("new");
    // Another writer's uncommitted K2.
    let mut other = sqlx::PgConnection::connect(PG_URL).await.expect("connect");
    let mut tx = other.begin().await.expect("tx");
    let theirs: i64 = sqlx::query_scalar(
        "INSERT INTO prospects (unit_id, source_id, external_id, skill_no, fields, time_zone, tz_source, created_at,
             updated_at) VALUES ($1, $2, 'K2', 100, '{}', 'UTC', 'default', $3, $3) RETURNING id",
    )
    .bind(f.unit)
    .bind(source.id)
    .bind(NOW)
    .fetch_one(&mut *tx)
    .await
    .expect("their insert");
    let rows: Vec<_> = ["K1", "K2", "K3"].iter().map(|k| race_row(k, "ours")).collect();
    let (outbound, unit) = (f.outbound.clone(), f.unit);
    let save = tokio::spawn(async move {
        let batch = prospero::packs::outbound::Batch { source: source.id, skill_no: 100, rows: &rows, now: NOW };
        outbound.save_prospects(unit, batch).await
    });
    // Our COPY of K2 waits for their transaction...
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert!(!save.is_finished(), "the batch waits on the other writer's K2");
    // ...which commits: the COPY fails, and the batch is tried again.
    tx.commit().await.expect("their commit");
    let saved = save.await.expect("join").expect("the batch is saved after a retry");
    assert!(saved[0].created && saved[2].created, "{saved:?}");
    assert_eq!((saved[1].id, saved[1].created), (theirs, false), "K2 updated in place: {saved:?}");
    let stored = f.outbound.find_prospects(f.unit, source.id, &Search::default()).await.expect("find");
    assert_eq!(stored.len(), 3);
    for p in &stored {
        assert!(p.fields.contains("ours"), "{}: {}", p.external_id, p.fields);
        assert_eq!(p.destinations.len(), 2, "{}", p.external_id);
        assert_eq!(p.destinations[0].raw, "ours\t1\\", "text through COPY comes back as written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_loads_of_the_same_new_keys_lose_and_double_nothing() {
    let f = fx(Backend::Postgres).await;
    let source = f.outbound.create_source(f.unit, "Race", NOW).await.expect("source").expect("new");
    let (rounds, per) = (12usize, 150usize);
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let mut handles = Vec::new();
    for writer in ["A", "B"] {
        let (outbound, unit, barrier) = (f.outbound.clone(), f.unit, barrier.clone());
        handles.push(tokio::spawn(async move {
            let mut results = Vec::new();
            for round in 0..rounds {
                // Both writers load the same new keys at the same moment,
                // listed in opposite orders.
                let mut rows: Vec<_> = (0..per).map(|i| race_row(&format!("R{round}-{i}"), writer)).collect();
                if writer == "B" {
                    rows.reverse();
                }
                barrier.wait().await;
                let batch =
                    prospero::packs::outbound::Batch { source: source.id, skill_no: 100, rows: &rows, now: NOW };
                let saved = outbound.save_prospects(unit, batch).await.expect("save");
                let created = saved.iter().filter(|s| s.created).count();
                results.push((created, saved.len()));
            }
            results
        }));
    }
    let a = handles.remove(0).await.expect("join");
    let b = handles.remove(0).await.expect("join");
    for (round, (ra, rb)) in a.iter().zip(&b).enumerate() {
        assert_eq!((ra.1, rb.1), (per, per), "round {round}: every record saved");
        assert_eq!(ra.0 + rb.0, per, "round {round}: each key created once ({} + {})", ra.0, rb.0);
    }
    let stored = f.outbound.find_prospects(f.unit, source.id, &Search::default()).await.expect("find");
    let keys: HashSet<&str> = stored.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(stored.len(), rounds * per, "no record lost");
    assert_eq!(keys.len(), rounds * per, "no key doubled");
    for p in &stored {
        assert_eq!(p.destinations.len(), 2, "{}: destinations neither lost nor doubled", p.external_id);
        let writer = if p.fields.contains("\"A\"") { "A" } else { "B" };
        assert!(p.destinations.iter().all(|d| d.raw.starts_with(writer)), "{}: one writer's row whole", p.external_id);
    }
}
