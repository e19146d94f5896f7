//! The three script formats: web Studio JSON export followed by load gives
//! back the same model, for every script Prospero ships or tests with.

use prospero::script::{self, Format, studio_json};
use std::path::{Path, PathBuf};

fn script_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["scripts", "scripts/studio", "tests/fixtures", "tests/fixtures/runs", "tests/fixtures/check"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("folder exists") {
            let path = entry.expect("entry").path();
            if path.is_file() && path.extension().is_some_and(|e| e == "json" || e == "xml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn studio_json_export_then_load_gives_the_same_model() {
    let files = script_files();
    assert!(files.len() >= 10, "found {files:?}");
    let mut formats = std::collections::HashSet::new();
    for file in &files {
        let original = script::load_file(file).unwrap_or_else(|e| panic!("{e}"));
        formats.insert(original.origin.format.map(Format::name));
        let exported = studio_json::export_text(&original);
        let reloaded = script::load_text(&exported, None).unwrap_or_else(|e| panic!("{}: reload: {e}", file.display()));
        assert_eq!(reloaded.origin.format, Some(Format::StudioJson));
        assert_eq!(reloaded, original, "{}: the model changed through export and load", file.display());
        // A second round trip is byte-for-byte stable.
        assert_eq!(studio_json::export_text(&reloaded), exported, "{}", file.display());
    }
    assert_eq!(formats.len(), 3, "fixtures cover all three formats: {formats:?}");
}

#[test]
fn the_fixture_is_the_same_script_in_all_three_formats() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let load = |f: &str| script::load_file(&dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
    let native = load("order_flow.json");
    let xml = load("order_flow.xml");
    let web = load("order_flow.studio.json");
    assert_eq!(native.origin.format, Some(Format::Native));
    assert_eq!(xml.origin.format, Some(Format::StudioXml));
    assert_eq!(web.origin.format, Some(Format::StudioJson));
    for other in [&xml, &web] {
        assert_eq!(other.name, native.name);
        assert_eq!(other.actions.len(), native.actions.len());
        for (a, b) in native.actions.iter().zip(&other.actions) {
            assert_eq!((&a.id, &a.kind, &a.caption), (&b.id, &b.kind, &b.caption));
            assert_eq!(a.properties, b.properties, "action {}", a.id);
            let mut x: Vec<_> = a.branches.iter().map(|br| (br.name.clone(), br.target.clone())).collect();
            let mut y: Vec<_> = b.branches.iter().map(|br| (br.name.clone(), br.target.clone())).collect();
            x.sort();
            y.sort();
            assert_eq!(x, y, "action {}", a.id);
        }
    }
}

#[test]
fn exported_ids_stay_numeric_for_studio_and_names_survive() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hello.json");
    let native = script::load_file(&file).expect("loads");
    let json: serde_json::Value = serde_json::from_str(&studio_json::export_text(&native)).expect("JSON");
    for (key, action) in json["actions"].as_object().expect("actions") {
        assert!(key.parse::<u32>().is_ok(), "Studio keys are numbers: {key}");
        assert_eq!(action["actionId"].to_string(), *key);
        assert!(action["prosperoId"].is_string(), "the author's id is kept");
        assert!(action["xws"].is_i64() && action["yws"].is_i64(), "Studio's validator wants canvas positions");
    }
}

/// The web-Studio copies of the outbound samples are the native scripts,
/// exported: regenerate with `prospero export scripts/X.json > scripts/studio/X.studio.json`.
#[test]
fn studio_copies_of_the_samples_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["brain", "create_prospects", "source_setup"] {
        let native = script::load_file(&root.join(format!("scripts/{name}.json"))).expect("native sample");
        let studio = root.join(format!("scripts/studio/{name}.studio.json"));
        let copy = std::fs::read_to_string(&studio).expect("studio copy");
        assert_eq!(copy.trim_end(), studio_json::export_text(&native).trim_end(), "{} is stale", studio.display());
        let loaded = script::load_file(&studio).expect("studio copy loads");
        assert_eq!(loaded.actions, native.actions, "{name}: same actions in both formats");
    }
}
