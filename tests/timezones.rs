//! Time zones against their reference data, and `prospero tz` as a user
//! runs it (timezones.md).

use chrono_tz::Tz;
use prospero::timezone::{RecordHints, RecordZone, ZoneRule, parse_zone, resolve_record, zip_zone};
use serde_json::Value as J;

mod common;
use common::prospero;

fn tz_json(args: &[&str]) -> Vec<J> {
    let mut all = vec!["tz", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = prospero(&all);
    assert_eq!(code, 0, "{err}");
    out.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

#[test]
fn zip_answers_equal_the_zipcodes_data_for_every_zip() {
    let mut checked = 0;
    for z in zipcodes::database() {
        let want = z.timezone.parse::<Tz>().ok();
        assert_eq!(
            zip_zone(&z.zip_code),
            want,
            "ZIP {} ({}, {}): data says '{}'",
            z.zip_code,
            z.city,
            z.state,
            z.timezone
        );
        checked += 1;
    }
    assert!(checked > 40_000, "{checked} ZIPs");
}

/// tzf-rs on each ZIP's centroid against the ZIP data's own zone. The two
/// come from different sources (polygons vs. the ZIP list), so a few
/// border ZIPs disagree; at least 99% must agree. The disagreements are
/// printed (run with `--nocapture` to read them).
#[test]
fn coordinates_agree_with_zip_zones_for_99_percent_of_centroids() {
    let (mut agree, mut total) = (0usize, 0usize);
    let mut differ = Vec::new();
    for z in zipcodes::database() {
        let Ok(want) = z.timezone.parse::<Tz>() else { continue };
        let (Ok(lat), Ok(lng)) = (z.lat.parse::<f64>(), z.long.parse::<f64>()) else { continue };
        if lat == 0.0 && lng == 0.0 {
            continue; // no centroid in the data
        }
        total += 1;
        let hints = RecordHints { latitude: Some(&z.lat), longitude: Some(&z.long), ..RecordHints::default() };
        match resolve_record(&hints) {
            RecordZone::Found { tz, rule: ZoneRule::Coordinates } if tz == want => agree += 1,
            RecordZone::Found { tz, .. } => {
                differ.push(format!("{} {} {}: zip {want}, tzf {tz}", z.zip_code, z.city, z.state))
            }
            _ => differ.push(format!("{} {} {}: zip {want}, tzf none", z.zip_code, z.city, z.state)),
        }
    }
    let share = agree as f64 / total as f64;
    println!("tzf-rs agrees with the ZIP data on {agree} of {total} centroids ({:.3}%)", share * 100.0);
    for d in &differ {
        println!("  {d}");
    }
    assert!(total > 30_000, "{total} centroids");
    assert!(share >= 0.99, "only {:.3}% agree", share * 100.0);
}

#[test]
fn every_zone_prospero_can_emit_parses_in_chrono_tz() {
    // Zones are chrono-tz values everywhere and leave as their names: each
    // name must read back as the same zone.
    for tz in chrono_tz::TZ_VARIANTS {
        assert_eq!(tz.name().parse::<Tz>(), Ok(tz), "{}", tz.name());
    }
    // Every zone named in the shipped tables is one chrono-tz knows (a
    // name it did not know would be dropped silently when loading).
    let phone = include_str!("../data/phone_zones.tsv");
    for line in phone.lines().filter(|l| l.starts_with("Z\t")) {
        for name in line.split('\t').nth(2).expect("zones").split('&') {
            assert!(name.parse::<Tz>().is_ok(), "phone table zone {name}");
        }
    }
    let windows = include_str!("../data/windows_zones.tsv");
    for line in windows.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let iana = line.split('\t').nth(1).expect("iana");
        assert!(parse_zone(iana).is_some(), "windows table zone {iana}");
    }
}

#[test]
fn split_indiana_counties_follow_their_zips() {
    for (zip, want) in [
        ("46204", "America/Indiana/Indianapolis"), // Indianapolis, Marion County: Eastern
        ("46320", "America/Chicago"),              // Hammond, Lake County: Central
        ("47708", "America/Chicago"),              // Evansville, Vanderburgh County: Central
    ] {
        let a = &tz_json(&["--zip", zip, "317-555-0142"])[0];
        assert_eq!(a["record_time_zone"], want, "ZIP {zip}");
        assert_eq!(a["record_source"], "zip");
    }
}

#[test]
fn a_split_kentucky_npa_nxx_gets_its_own_zone() {
    let out = tz_json(&["270-202-0100", "270-555-0100"]);
    // 270 is Eastern as an area code, but exchange 202 is Central.
    assert_eq!(out[0]["time_zone"], "America/Chicago");
    assert_eq!(out[0]["source"], "npa-nxx");
    assert_eq!(out[1]["time_zone"], "America/New_York");
    assert_eq!(out[1]["source"], "npa");
}

#[test]
fn tz_cli_answers_in_input_order_with_windows() {
    let spec = "Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00";
    // Wednesday 2026-07-15 14:30 UTC.
    let at = "2026-07-15T14:30:00Z";
    let out =
        tz_json(&["--at", at, "--window", spec, "602-555-0100", "808-555-0100", "709-555-0100", "1-800-555-0199"]);
    assert_eq!(out.len(), 4);
    let ids: Vec<&str> = out.iter().map(|a| a["input"].as_str().unwrap_or("")).collect();
    assert_eq!(ids, ["602-555-0100", "808-555-0100", "709-555-0100", "1-800-555-0199"]);
    for key in [
        "input",
        "e164",
        "time_zone",
        "source",
        "candidates",
        "record_time_zone",
        "record_source",
        "mismatch",
        "callable",
        "next_open",
    ] {
        assert!(out[0].get(key).is_some(), "missing {key}");
    }
    // Arizona, UTC-7 all year: 07:30 local, opens at 15:00 UTC.
    assert_eq!(out[0]["time_zone"], "America/Phoenix");
    assert_eq!(out[0]["callable"], false);
    assert_eq!(out[0]["next_open"], "2026-07-15T15:00:00Z");
    // Hawaii, UTC-10: 04:30 local, opens 18:00 UTC.
    assert_eq!(out[1]["time_zone"], "Pacific/Honolulu");
    assert_eq!(out[1]["next_open"], "2026-07-15T18:00:00Z");
    // Newfoundland shares area code 709 with Labrador (Atlantic time), so
    // the number alone is undetermined; the record's coordinates (St.
    // John's) decide. UTC-2:30 in summer: 12:00 local, callable.
    assert_eq!(out[2]["time_zone"], J::Null);
    assert_eq!(out[2]["source"], "undetermined");
    let nl = &tz_json(&["--lat", "47.5615", "--lng", "-52.7126", "--at", at, "--window", spec, "709-555-0100"])[0];
    assert_eq!(nl["record_time_zone"], "America/St_Johns");
    assert_eq!(nl["record_source"], "coordinates");
    assert_eq!(nl["callable"], true);
    assert_eq!(nl["next_open"], J::Null);
    // Winter, UTC-3:30: 08:00 local is 11:30 UTC.
    let winter = &tz_json(&[
        "--lat",
        "47.5615",
        "--lng",
        "-52.7126",
        "--at",
        "2026-01-14T10:00:00Z",
        "--window",
        spec,
        "709-555-0100",
    ])[0];
    assert_eq!(winter["callable"], false);
    assert_eq!(winter["next_open"], "2026-01-14T11:30:00Z");
    // Toll-free: undetermined, never a guess, so never callable.
    assert_eq!(out[3]["time_zone"], J::Null);
    assert_eq!(out[3]["source"], "undetermined");
    assert!(out[3]["candidates"].as_array().map_or(0, Vec::len) > 1);
    assert_eq!(out[3]["callable"], false);
}

#[test]
fn tz_cli_zip_area_code_mismatch_uses_the_intersection() {
    // A Los Angeles number on a record in New York City, at 08:30 New York
    // time on Friday 2026-11-20.
    let out =
        tz_json(&["--zip", "10001", "--at", "2026-11-20T13:30:00Z", "--window", "Mon-Fri 08:00-21:00", "213-555-0142"]);
    let a = &out[0];
    assert_eq!(a["time_zone"], "America/Los_Angeles");
    assert_eq!(a["record_time_zone"], "America/New_York");
    assert_eq!(a["mismatch"], true);
    assert_eq!(a["callable"], false);
    assert_eq!(a["next_open"], "2026-11-20T16:00:00Z");
}

#[test]
fn tz_cli_refuses_bad_arguments_without_panicking() {
    for args in [
        vec!["tz"],
        vec!["tz", "212-555-0100", "--at", "yesterday", "--window", "Mon-Fri 08:00-21:00"],
        vec!["tz", "212-555-0100", "--at", "2026-11-20T13:30:00Z", "--window", "Someday 08:00-21:00"],
        vec!["tz", "212-555-0100", "--at", "2026-11-20T13:30:00Z"],
    ] {
        let (code, _, err) = prospero(&args);
        assert_ne!(code, 0, "{args:?}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.trim().is_empty(), "{args:?} explains itself");
    }
    // A bad phone is an answer, not a failure.
    let out = tz_json(&["not a phone"]);
    assert_eq!(out[0]["e164"], J::Null);
    assert!(out[0]["error"].is_string());
}

/// Regression (issue 16): `tz --zip 99999` refused to answer without a
/// phone. A record alone gets its zone (or `none`), in text and JSON.
#[test]
fn tz_zip_alone_answers_without_a_phone() {
    let (code, out, err) = prospero(&["tz", "--zip", "10001"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "record: America/New_York (zip)");
    let (code, out, err) = prospero(&["tz", "--zip", "99999"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "record: none");
    let a = &tz_json(&[
        "--city",
        "Chicago",
        "--state",
        "IL",
        "--at",
        "2026-11-20T15:30:00Z",
        "--window",
        "Mon-Fri 08:00-21:00",
    ])[0];
    assert_eq!(a["input"], "");
    assert_eq!(a["record_time_zone"], "America/Chicago");
    assert_eq!(a["callable"], true);
}
