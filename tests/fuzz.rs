//! Mutated real scripts, snippets and lead files never panic the loaders,
//! the checker and snippet compiler, or the CSV reader: every input gives
//! `Ok` or an error value. A fixed, moderate number of cases per `cargo
//! test`; `cargo bench --bench fuzz` runs the same generators for longer
//! (see `benches/fuzz.rs`). Generators and targets: `tests/fuzz_gen/mod.rs`.

#[path = "fuzz_gen/mod.rs"]
mod fuzz_gen;

use fuzz_gen::{Mutated, csv_target, mutated, script_seeds, script_target, snippet_input, snippet_target};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// A fixed seed: every run tries the same inputs, so a failure repeats.
/// (The long run in `benches/fuzz.rs` takes other seeds.)
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5052_4f53_5045_524f),
        ..ProptestConfig::default()
    }
}

fn script_case(target: &str, m: &Mutated) {
    script_target(&m.bytes(script_seeds(target)));
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn mutated_native_scripts_never_panic(m in mutated()) {
        script_case("native", &m);
    }

    #[test]
    fn mutated_studio_json_scripts_never_panic(m in mutated()) {
        script_case("studio_json", &m);
    }

    #[test]
    fn mutated_studio_xml_scripts_never_panic(m in mutated()) {
        script_case("studio_xml", &m);
    }

    #[test]
    fn mutated_lead_files_never_panic(m in mutated()) {
        csv_target(&m.bytes(script_seeds("csv")));
    }
}

proptest! {
    #![proptest_config(config(5_000))]

    #[test]
    fn generated_snippets_never_panic(input in snippet_input()) {
        snippet_target(&input.text());
    }
}

/// The corpus really holds every kind of seed, and the unmutated real files
/// load (so mutations start from valid input, not only from junk).
#[test]
fn the_fuzz_corpus_starts_from_loadable_files() {
    let c = fuzz_gen::corpus();
    for (what, seeds) in [("native", &c.native), ("studio_json", &c.studio_json), ("studio_xml", &c.studio_xml)] {
        let loaded = seeds
            .iter()
            .filter(|b| std::str::from_utf8(b).is_ok_and(|t| prospero::script::load_text(t, None).is_ok()))
            .count();
        assert!(loaded >= 1, "{what}: no seed loads");
    }
    let leads =
        prospero::outbound::leads::read_csv_bytes("seed.csv", &c.csv[0], Some("Account Number")).expect("seed CSV");
    assert_eq!(leads.len(), 40);
    assert!(c.snippets.len() >= 20, "only {} snippet seeds", c.snippets.len());
}

/// Found by the fuzz run: a native script with an empty `actions` list
/// loaded, and its web Studio export (no actions) did not load again. All
/// three formats now refuse a script without actions at load time.
#[test]
fn fuzz_regression_native_script_with_an_empty_action_list() {
    for text in [r#"{"name": "x", "actions": []}"#, "{\"actions\":[\n]}"] {
        let err = prospero::script::load_text(text, None).expect_err(text);
        assert!(err.message.contains("no actions"), "{text}: {err}");
        assert_eq!(err.kind, prospero::script::LoadErrorKind::Shape, "{text}");
    }
    // Going through the whole harness target, too: no panic, not loaded.
    assert!(!script_target(br#"{"name": "x", "actions": []}"#));
}

/// A real file as JSON, edited by `edit`, as text.
fn edited(file: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("JSON");
    edit(&mut json);
    serde_json::to_string_pretty(&json).expect("JSON text")
}

/// Load `text`, export it in both formats and load each export again:
/// the harness's round-trip property, with the error shown on failure.
fn round_trips(text: &str) -> prospero::script::Script {
    let script = prospero::script::load_text(text, None).unwrap_or_else(|e| panic!("does not load: {e}"));
    for exported in [prospero::script::native::export(&script), prospero::script::studio_json::export_text(&script)] {
        if let Err(e) = prospero::script::load_text(&exported, None) {
            panic!("export does not load again: {e}\n{exported}");
        }
    }
    script
}

/// Found by the fuzz run: a web Studio branch whose `to` was blank (a
/// U+2028, a space) loaded as a branch to action " ", which the native
/// export then wrote and the native loader refused. A blank `to` is now no
/// target, as an empty one is.
#[test]
fn fuzz_regression_studio_branch_to_a_blank_target() {
    for blank in ["\u{2028}", " ", "\t\r\n"] {
        let text = edited("scripts/hello.studio.json", |j| j["branches"]["1"][0]["to"] = blank.into());
        let script = round_trips(&text);
        let begin = script.actions.iter().find(|a| a.id == "start").expect("the BEGIN action");
        assert!(begin.branches.iter().all(|b| !b.target.trim().is_empty()), "{blank:?}: a blank target was kept");
    }
}

/// Found by the fuzz run: a web Studio `prosperoId` of "\r" became the
/// action id, which the native export wrote and the native loader refused
/// as blank. A blank `prosperoId` is now ignored (the action key is the id).
#[test]
fn fuzz_regression_studio_blank_prospero_id() {
    let text = edited("scripts/hello.studio.json", |j| j["actions"]["1"]["prosperoId"] = "\r".into());
    let script = round_trips(&text);
    assert_eq!(script.actions[0].id, "1", "the key stands in for a blank prosperoId");
    let blank_key = edited("scripts/hello.studio.json", |j| {
        let actions = j["actions"].as_object_mut().expect("actions");
        let first = actions.shift_remove("1").expect("action 1");
        let mut first = first;
        first.as_object_mut().expect("action").remove("prosperoId");
        actions.insert(" ".into(), first);
    });
    let err = prospero::script::load_text(&blank_key, None).expect_err("a blank action key");
    assert!(err.message.contains("blank"), "{err}");
}

/// Found by the fuzz run: a native branch named "" loaded, and its web
/// Studio export (a non-default branch with an empty label) was refused.
/// Both formats now refuse a blank result name at load.
#[test]
fn fuzz_regression_blank_branch_name() {
    let native = edited("scripts/hello.json", |j| {
        j["actions"][1]["branches"][""] = "done".into();
    });
    let err = prospero::script::load_text(&native, None).expect_err("a native branch named \"\"");
    assert!(err.message.contains("result name"), "{err}");
    let studio = edited("scripts/hello.studio.json", |j| j["branches"]["2"][0]["label"] = " ".into());
    let err = prospero::script::load_text(&studio, None).expect_err("a Studio branch labelled \" \"");
    assert!(err.message.contains("label"), "{err}");
}
