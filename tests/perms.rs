//! Principals and permissions through the real binary: a denied action
//! takes OnError naming the permission and writes nothing (SQLite and
//! PostgreSQL), users and roles per unit, `check --principal`, and the
//! permissions `actions` shows.

mod common;

use common::{dump_unit, prospero, prospero_in};
use serde_json::Value as J;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A script: CREATESOURCE, CREATESOURCEMAP, then CREATEPROSPECTS v2 of
/// `data`; every failure returns `_ERR`.
fn script(dir: &Path, name: &str, data: &str) -> String {
    let data = serde_json::to_string(data).unwrap();
    let text = format!(
        r#"{{"name": "{name}", "actions": [
        {{"id": "b", "action": "BEGIN", "next": "src"}},
        {{"id": "src", "action": "CREATESOURCE", "Name": "Leads",
          "branches": {{"Default": "map", "NameAlreadyUsed": "map", "OnError": "err"}}}},
        {{"id": "map", "action": "CREATESOURCEMAP", "SourceName": "Leads",
          "Mapping": "{{\"Mappings\": {{\"ExternalID\": \"Id\", \"PhoneNumber\": \"Phone\"}}}}",
          "branches": {{"Default": "load", "NoChangesMade": "load", "OnError": "err"}}}},
        {{"id": "load", "action": "CREATEPROSPECTS", "version": 2, "SkillNo": "100", "SourceName": "Leads",
          "Data": {data}, "TimeZone": "America/New_York", "Results": "results",
          "branches": {{"Default": "ok", "OnError": "err"}}}},
        {{"id": "ok", "action": "RETURN", "ReturnValue": "loaded"}},
        {{"id": "err", "action": "RETURN", "ReturnValue": "{{_ERR}}"}}]}}"#
    );
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn run_json(dir: &Path, args: &[&str]) -> J {
    let (code, out, err) = prospero_in(dir, args);
    assert_eq!(code, 0, "{args:?}: {out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

async fn denied_create_prospects_writes_nothing(db: &str, dir: &Path) {
    let unit = unique("perms");
    let (code, _, err) = prospero_in(dir, &["skills", "add", "100", "--name", "Sales", "--db", db, "--unit", &unit]);
    assert_eq!(code, 0, "{err}");
    // Data in the unit first, with every permission (the default).
    let first = script(dir, "first", r#"[{"Id": "1", "Phone": "2125550100"}]"#);
    let r = run_json(dir, &["run", &first, "--db", db, "--unit", &unit, "--json"]);
    assert_eq!(r["return"], "loaded", "{r}");

    let principal = dir.join("principal.toml");
    std::fs::write(
        &principal,
        format!("unit = \"{unit}\"\npermissions = [\"outbound:source:*\", \"outbound:sourceMap:add\"]\n"),
    )
    .unwrap();
    let second = script(dir, "second", r#"[{"Id": "2", "Phone": "2125550101"}, {"Id": "1", "Phone": "2125550102"}]"#);
    // The run log records every run; everything else must stay as it was.
    let before = dump_unit(db, &unit, &["runs"]).await;
    let runs_before = dump_unit(db, &unit, &[]).await.len();
    assert!(before.iter().any(|l| l.starts_with("prospects|")), "the dump sees the unit's prospects: {before:?}");
    let p = principal.to_str().unwrap();
    let r = run_json(dir, &["run", &second, "--db", db, "--unit", &unit, "--principal", p, "--json"]);
    assert_eq!(r["return"], "permission denied: outbound:prospect:add", "{r}");
    assert_eq!(r["variables"]["_ERR"], "permission denied: outbound:prospect:add");
    let path: Vec<&str> = r["path"].as_array().unwrap().iter().map(|s| s["branch"].as_str().unwrap()).collect();
    assert_eq!(path[3], "OnError", "{r}");
    let after = dump_unit(db, &unit, &["runs"]).await;
    assert_eq!(before, after, "a denied CREATEPROSPECTS wrote something");
    assert_eq!(dump_unit(db, &unit, &[]).await.len(), runs_before + 1, "only the run log grew");

    // The same script with every permission does write: the dump sees it.
    let r = run_json(dir, &["run", &second, "--db", db, "--unit", &unit, "--json"]);
    assert_eq!(r["return"], "loaded", "{r}");
    assert_ne!(before, dump_unit(db, &unit, &["runs"]).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_without_outbound_prospect_add_takes_on_error_and_writes_nothing_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("perms.db");
    denied_create_prospects_writes_nothing(db.to_str().unwrap(), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_without_outbound_prospect_add_takes_on_error_and_writes_nothing_postgres() {
    let dir = tempfile::tempdir().unwrap();
    denied_create_prospects_writes_nothing(PG_URL, dir.path()).await;
}

#[test]
fn actions_createprospects_shows_its_permission() {
    let (code, out, _) = prospero(&["actions", "CREATEPROSPECTS"]);
    assert_eq!(code, 0);
    assert!(out.contains("permissions: outbound:prospect:add"), "{out}");
    let (code, out, _) = prospero(&["actions", "CREATEPROSPECTS", "--json"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"outbound:prospect:add\""), "{out}");
    let (_, out, _) = prospero(&["actions", "ASSIGN"]);
    assert!(out.contains("permissions: none"), "{out}");
}

fn users_and_roles_stay_in_their_unit(db: &str) {
    let (ua, ub) = (unique("a"), unique("b"));
    let (a_, b_) = (ua.as_str(), ub.as_str());
    let ok = |args: &[&str]| {
        let (code, out, err) = prospero(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    ok(&["users", "add", "ann", "--role", "agent", "--role", "sales-user", "--db", db, "--unit", a_]);
    ok(&["users", "add", "bob", "--role", "coordinator", "--db", db, "--unit", b_]);
    let (code, _, err) = prospero(&["users", "add", "cy", "--role", "boss", "--db", db, "--unit", a_]);
    assert_eq!(code, 2);
    assert!(err.contains("boss") && err.contains("agent, sales-user, supervisor, coordinator"), "{err}");
    let (code, _, err) = prospero(&["users", "add", "ann", "--role", "agent", "--db", db, "--unit", a_]);
    assert_eq!(code, 2, "{err}");
    ok(&["units", "set", "--top-supervisor", "ann", "--db", db, "--unit", a_]);
    let (code, _, err) = prospero(&["units", "set", "--top-supervisor", "ann", "--db", db, "--unit", b_]);
    assert_eq!(code, 2, "ann is not a user of unit b: {err}");

    let a: J = serde_json::from_str(&ok(&["users", "list", "--json", "--db", db, "--unit", a_])).unwrap();
    assert_eq!(a["top_supervisor"], "ann");
    assert_eq!(a["users"].as_array().unwrap().len(), 1, "{a}");
    assert_eq!(a["users"][0]["roles"], serde_json::json!(["agent", "sales-user"]));
    assert!(a["users"][0]["permissions"].as_array().unwrap().contains(&J::from("sales:lead:view")));
    let b: J = serde_json::from_str(&ok(&["users", "list", "--json", "--db", db, "--unit", b_])).unwrap();
    let names: Vec<&str> = b["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["bob"], "unit b sees only its own users");
    assert_eq!(b["top_supervisor"], J::Null);
    let text = ok(&["users", "list", "--db", db, "--unit", a_]);
    assert!(text.contains("ann (top supervisor): agent, sales-user"), "{text}");

    // Unit b cannot change or remove unit a's user.
    let (code, _, _) = prospero(&["users", "set", "ann", "--role", "supervisor", "--db", db, "--unit", b_]);
    assert_eq!(code, 2);
    let (code, _, _) = prospero(&["users", "remove", "ann", "--db", db, "--unit", b_]);
    assert_eq!(code, 2);
    ok(&["users", "set", "ann", "--role", "supervisor", "--db", db, "--unit", a_]);
    let a: J = serde_json::from_str(&ok(&["users", "list", "--json", "--db", db, "--unit", a_])).unwrap();
    assert_eq!(a["users"][0]["permissions"], serde_json::json!(["*:*:*"]));
    ok(&["users", "remove", "ann", "--db", db, "--unit", a_]);
    let a: J = serde_json::from_str(&ok(&["users", "list", "--json", "--db", db, "--unit", a_])).unwrap();
    assert_eq!(a["users"], serde_json::json!([]));
    assert_eq!(a["top_supervisor"], J::Null, "removing the top supervisor clears the setting");
}

#[test]
fn users_and_roles_stay_in_their_unit_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    users_and_roles_stay_in_their_unit(dir.path().join("users.db").to_str().unwrap());
}

#[test]
fn users_and_roles_stay_in_their_unit_postgres() {
    users_and_roles_stay_in_their_unit(PG_URL);
}

#[test]
fn a_user_principal_gets_its_roles_and_bad_principal_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    let db = db.to_str().unwrap();
    let (code, _, err) = prospero(&["users", "add", "ann", "--role", "agent", "--db", db, "--unit", "acme"]);
    assert_eq!(code, 0, "{err}");
    let s = script(dir.path(), "s", "[]");
    let file = dir.path().join("ann.json");
    std::fs::write(&file, r#"{"unit": "ACME", "user": "ann"}"#).unwrap();
    let f = file.to_str().unwrap();
    let r = run_json(dir.path(), &["run", &s, "--db", db, "--unit", "acme", "--principal", f, "--json"]);
    assert_eq!(r["return"], "permission denied: outbound:source:add", "an agent may not create sources: {r}");
    // Another unit: the file's unit does not match.
    let (code, _, err) = prospero(&["run", &s, "--db", db, "--unit", "other", "--principal", f]);
    assert_eq!(code, 2);
    assert!(err.contains("unit 'acme'") && err.contains("'other'"), "{err}");
    // A user the unit does not have.
    std::fs::write(&file, r#"{"user": "zed"}"#).unwrap();
    let (code, _, err) = prospero(&["run", &s, "--db", db, "--unit", "acme", "--principal", f]);
    assert_eq!(code, 2);
    assert!(err.contains("no user 'zed'"), "{err}");
    // Syntax errors name file:line:column.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "unit = \"acme\"\npermissions = [\"outbound:*:*\"\n").unwrap();
    let (code, _, err) = prospero(&["run", &s, "--db", db, "--unit", "acme", "--principal", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml:2:"), "{err}");
    std::fs::write(&bad, "permissions = [\"outbound:pro*:add\"]\n").unwrap();
    let (code, _, err) = prospero(&["run", &s, "--db", db, "--unit", "acme", "--principal", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("outbound:pro*:add") && err.contains("whole part"), "{err}");
}

#[test]
fn check_principal_lists_the_denied_actions_with_their_places() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "s", "[]");
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "permissions = [\"outbound:source:*\"]\n").unwrap();
    let f = file.to_str().unwrap();
    let (code, out, err) = prospero(&["check", &s, "--principal", f]);
    assert_eq!(code, 1, "{out}{err}");
    let denied: Vec<&str> = out.lines().filter(|l| l.contains("[permission-denied]")).collect();
    assert_eq!(denied.len(), 2, "CREATESOURCEMAP and CREATEPROSPECTS: {out}");
    assert!(denied[0].contains("s.json:5:9: error[permission-denied]: action map"), "{}", denied[0]);
    assert!(denied[0].contains("outbound:sourceMap:add"), "{}", denied[0]);
    assert!(denied[1].contains("s.json:8:9:") && denied[1].contains("outbound:prospect:add"), "{}", denied[1]);
    let (_, out, _) = prospero(&["check", &s, "--principal", f, "--json"]);
    let j: J = serde_json::from_str(&out).unwrap();
    let codes: Vec<&J> = j["files"][0]["diagnostics"].as_array().unwrap().iter().collect();
    let d = codes.iter().find(|d| d["code"] == "permission-denied").expect("a JSON diagnostic");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64(), d["action"].as_str()), (Some(5), Some(9), Some("map")));
    let (_, out, _) = prospero(&["check", &s, "--principal", f, "--format", "sarif"]);
    assert!(out.contains("\"ruleId\": \"permission-denied\""), "{out}");
    // Every permission: a clean check; no principal: no such check.
    std::fs::write(&file, "permissions = [\"*:*:*\"]\n").unwrap();
    let (code, out, _) = prospero(&["check", &s, "--principal", f]);
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = prospero(&["check", &s]);
    assert_eq!(code, 0);
}

#[test]
fn a_traced_principal_is_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let db = db.to_str().unwrap();
    let s = script(dir.path(), "s", "[]");
    let file = dir.path().join("p.json");
    std::fs::write(&file, r#"{"permissions": ["outbound:source:add", "outbound:sourceMap:add"]}"#).unwrap();
    let trace = dir.path().join("t.jsonl");
    let t = trace.to_str().unwrap();
    let args = ["run", &s, "--db", db, "--unit", "acme", "--principal", file.to_str().unwrap(), "--trace", t, "--json"];
    let r = run_json(dir.path(), &args);
    assert_eq!(r["return"], "permission denied: outbound:prospect:add", "{r}");
    let text = std::fs::read_to_string(&trace).unwrap();
    let header: J = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        header["principal"]["permissions"],
        serde_json::json!(["outbound:source:add", "outbound:sourceMap:add"])
    );
    assert_eq!(header["principal"]["unit"], "acme");
    let (code, out, err) = prospero_in(dir.path(), &["replay", t]);
    assert_eq!(code, 0, "the same principal reproduces the run: {out}{err}");
    assert!(out.starts_with("identical"), "{out}");
    // Without the principal the replay runs with every permission, and
    // CREATEPROSPECTS no longer takes OnError.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut h = header.clone();
    h.as_object_mut().unwrap().remove("principal");
    lines[0] = h.to_string();
    std::fs::write(&trace, lines.join("\n") + "\n").unwrap();
    let (code, out, _) = prospero_in(dir.path(), &["replay", t]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("diverged"), "{out}");
}

/// A host action that counts its executions.
struct Stamp(Arc<std::sync::atomic::AtomicU32>);

impl prospero::Action for Stamp {
    fn name(&self) -> &str {
        "STAMP"
    }
    fn execute<'a>(
        &'a self,
        _ctx: &'a mut prospero::Context<'_>,
        _inputs: &'a prospero::Inputs<'_>,
    ) -> prospero::Exec<'a> {
        self.0.fetch_add(1, Ordering::SeqCst);
        prospero::Exec::branch("Default")
    }
}

use std::sync::Arc;

#[tokio::test]
async fn an_embedder_gives_a_principal_per_run() {
    use prospero::{Manifest, Principal, RunOptions, Runtime};
    let manifest = Manifest::from_toml(
        "name = \"STAMP\"\nsummary = \"s\"\npermissions = [\"host:stamp:add\", \"host:stamp:edit\"]\n\
         [[branch]]\nname = \"Default\"\n[[branch]]\nname = \"OnError\"\n",
        "stamp.toml",
    )
    .unwrap();
    let count = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let runtime = Runtime::builder()
        .without_store("not needed")
        .business_unit("acme")
        .action(manifest, Stamp(count.clone()))
        .build();
    let script = prospero::script::load_text(
        r#"{"name": "p", "actions": [{"id": "b", "action": "BEGIN", "next": "x"},
            {"id": "x", "action": "STAMP", "branches": {"Default": "ok", "OnError": "no"}},
            {"id": "ok", "action": "RETURN", "ReturnValue": "stamped"},
            {"id": "no", "action": "RETURN", "ReturnValue": "{_ERR}"}]}"#,
        None,
    )
    .unwrap();
    let program = runtime.load_script(script).unwrap();
    let outcome = |p: Option<Principal>| {
        let runtime = runtime.clone();
        let program = program.clone();
        async move {
            let opts = match p {
                Some(p) => RunOptions::new().principal(p),
                None => RunOptions::new(),
            };
            let r = runtime.run(&program, opts).await.unwrap();
            r.return_value.map(|v| v.to_text().to_string()).unwrap_or_default()
        }
    };
    assert_eq!(outcome(None).await, "stamped", "the default holds every permission");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let add_only = Principal::new(["host:stamp:add"]).unwrap();
    assert_eq!(outcome(Some(add_only)).await, "permission denied: host:stamp:edit", "all are required");
    let other_domain = Principal::new(["outbound:*:*"]).unwrap();
    assert_eq!(outcome(Some(other_domain)).await, "permission denied: host:stamp:add");
    let elsewhere = Principal::new(["*:*:*"]).unwrap().in_unit("other");
    assert_eq!(outcome(Some(elsewhere)).await, "permission denied: host:stamp:add", "another unit's principal");
    assert_eq!(count.load(Ordering::SeqCst), 1, "a denied action never executes");
    let host = Principal::new(["host:stamp:*"]).unwrap().in_unit("acme");
    assert_eq!(outcome(Some(host)).await, "stamped");
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn demo_scripts_run_for_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "permissions = [\"outbound:prospect:*\"]\n").unwrap();
    let args = ["demo", "--db", db.to_str().unwrap(), "--principal", file.to_str().unwrap(), "--json", "--quiet"];
    let (code, out, err) = prospero(&args);
    assert_eq!(code, 1, "{out}{err}");
    let j: J = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(j["stage"], "source setup", "{j}");
    assert!(j.to_string().contains("permission denied: outbound:source:add"), "{j}");
    std::fs::write(&file, "permissions = [\"outbound:pro*:*\"]\n").unwrap();
    let (code, _, err) = prospero(&args);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn script_tests_run_for_the_principal() {
    let dir = tempfile::tempdir().unwrap();
    script(dir.path(), "s", "[]");
    std::fs::write(
        dir.path().join("s.test.toml"),
        "script = \"s.json\"\n[[test]]\nname = \"denied\"\n[[test.mock]]\naction = \"src\"\n\
         [test.expect]\nreturn = \"permission denied: outbound:source:add\"\n",
    )
    .unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(&file, "permissions = [\"outbound:prospect:*\"]\n").unwrap();
    let t = dir.path().join("s.test.toml");
    let (code, out, err) = prospero(&["test", t.to_str().unwrap(), "--principal", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");
    // With every permission the mock answers and the case's expectation fails.
    let (code, out, _) = prospero(&["test", t.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    std::fs::write(&file, "user = \"ann\"\n").unwrap();
    let (code, _, err) = prospero(&["test", t.to_str().unwrap(), "--principal", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no users"), "{err}");
}

/// ADDCONTACT without `externalContacts:contact:add`: OnError naming it,
/// and the unit's data (contacts, phones, emails, notes, ...) as it was.
async fn denied_add_contact_writes_nothing(db: &str, dir: &Path) {
    let unit = unique("contacts-perms");
    let text = r#"{"name": "add_one", "actions": [
        {"id": "b", "action": "BEGIN", "Parameters": ["first"], "next": "add"},
        {"id": "add", "action": "ADDCONTACT",
         "Fields": "{\"firstName\": \"{first}\", \"lastName\": \"Lovelace\", \"workEmail\": \"{first}@example.com\", \"workPhone\": \"(212) 736-5000\"}",
         "branches": {"Default": "ok", "OnError": "err"}},
        {"id": "ok", "action": "RETURN", "ReturnValue": "added"},
        {"id": "err", "action": "RETURN", "ReturnValue": "{_ERR}"}]}"#;
    let script = dir.join("add_one.json");
    std::fs::write(&script, text).unwrap();
    let script = script.to_str().unwrap();
    let r = run_json(dir, &["run", script, "--param", "first=ada", "--db", db, "--unit", &unit, "--json"]);
    assert_eq!(r["return"], "added", "{r}");

    let principal = dir.join("contacts_principal.toml");
    std::fs::write(
        &principal,
        format!(
            "unit = \"{unit}\"\npermissions = [\"externalContacts:contact:edit\", \"externalContacts:contact:view\"]\n"
        ),
    )
    .unwrap();
    let before = dump_unit(db, &unit, &["runs"]).await;
    assert!(before.iter().any(|l| l.contains("Lovelace")), "the dump sees the unit's contacts: {before:?}");
    let p = principal.to_str().unwrap();
    let r = run_json(
        dir,
        &["run", script, "--param", "first=bob", "--db", db, "--unit", &unit, "--principal", p, "--json"],
    );
    assert_eq!(r["return"], "permission denied: externalContacts:contact:add", "{r}");
    assert_eq!(dump_unit(db, &unit, &["runs"]).await, before, "a denied ADDCONTACT wrote something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_without_contact_add_takes_on_error_and_writes_nothing_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("contacts_perms.db");
    denied_add_contact_writes_nothing(db.to_str().unwrap(), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_without_contact_add_takes_on_error_and_writes_nothing_postgres() {
    let dir = tempfile::tempdir().unwrap();
    denied_add_contact_writes_nothing(PG_URL, dir.path()).await;
}
