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
