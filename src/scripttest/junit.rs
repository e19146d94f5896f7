//! The JUnit XML report of `prospero test --junit FILE`, in the shape CI
//! servers read (it validates against the Jenkins xUnit plugin's
//! `junit-10.xsd`, kept in `tests/fixtures/junit/`).
//!
//! `testsuites` holds one `testsuite` per test file (in run order), which
//! holds one `testcase` per case: `classname` the script file the case ran
//! on (the test file when the test file itself was unusable), `name` the
//! case's name, `time` in seconds. A case that missed expectations holds a
//! `failure` (`type="expectation"`), one that could not run an `error`
//! (`type="unusable"`); `message` is the first reason folded onto one
//! line, the element's text every reason as written.

use super::TestResult;
use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::borrow::Cow;
use std::io::{self, Write};
use std::time::Duration;

/// Where and when the tests ran, for the suites' attributes.
#[derive(Clone, Debug)]
pub struct RunInfo {
    /// When the run started.
    pub started: DateTime<Utc>,
    /// The machine's name.
    pub hostname: String,
    /// The whole run's time.
    pub elapsed: Duration,
}

/// Seconds with millisecond precision, as the schema's `SUREFIRE_TIME`
/// allows (digits, a dot, digits).
fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// `s` with the characters XML 1.0 cannot hold at all (control characters
/// other than tab, newline and carriage return; U+FFFE and U+FFFF) written
/// as `\u{..}`: quick-xml escapes markup, but these would make the file
/// unreadable however they were escaped.
fn xml_chars(s: &str) -> Cow<'_, str> {
    let bad = |c: char| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}';
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| if bad(c) { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }).collect())
}

/// `s` with its lines trimmed and joined by single spaces.
fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The results grouped by test file, in the order the files first appear.
fn suites(results: &[TestResult]) -> Vec<(&str, Vec<&TestResult>)> {
    let mut out: Vec<(&str, Vec<&TestResult>)> = Vec::new();
    for r in results {
        match out.iter_mut().find(|(f, _)| *f == r.file) {
            Some((_, v)) => v.push(r),
            None => out.push((&r.file, vec![r])),
        }
    }
    out
}

/// Write the report of `results` to `out`.
pub fn write(results: &[TestResult], info: &RunInfo, out: impl Write) -> io::Result<()> {
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let failed = results.iter().filter(|r| !r.passed() && !r.error).count();
    let errors = results.iter().filter(|r| !r.passed() && r.error).count();
    let timestamp = info.started.format("%Y-%m-%dT%H:%M:%S").to_string();
    w.create_element("testsuites")
        .with_attribute(("name", "prospero test"))
        .with_attribute(("tests", results.len().to_string().as_str()))
        .with_attribute(("failures", failed.to_string().as_str()))
        .with_attribute(("errors", errors.to_string().as_str()))
        .with_attribute(("time", seconds(info.elapsed).as_str()))
        .write_inner_content(|w| {
            for (id, (file, cases)) in suites(results).into_iter().enumerate() {
                write_suite(w, id, file, &cases, &timestamp, &info.hostname)?;
            }
            Ok(())
        })?;
    w.into_inner().write_all(b"\n")
}

fn write_suite<W: Write>(
    w: &mut Writer<W>,
    id: usize,
    file: &str,
    cases: &[&TestResult],
    timestamp: &str,
    hostname: &str,
) -> io::Result<()> {
    let failed = cases.iter().filter(|r| !r.passed() && !r.error).count();
    let errors = cases.iter().filter(|r| !r.passed() && r.error).count();
    let time: Duration = cases.iter().map(|r| r.duration).sum();
    w.create_element("testsuite")
        .with_attribute(("name", xml_chars(file).as_ref()))
        .with_attribute(("tests", cases.len().to_string().as_str()))
        .with_attribute(("failures", failed.to_string().as_str()))
        .with_attribute(("errors", errors.to_string().as_str()))
        .with_attribute(("skipped", "0"))
        .with_attribute(("time", seconds(time).as_str()))
        .with_attribute(("timestamp", timestamp))
        .with_attribute(("hostname", xml_chars(hostname).as_ref()))
        .with_attribute(("id", id.to_string().as_str()))
        .with_attribute(("package", "prospero"))
        .with_attribute(("file", xml_chars(file).as_ref()))
        .write_inner_content(|w| {
            for r in cases {
                write_case(w, r)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_case<W: Write>(w: &mut Writer<W>, r: &TestResult) -> io::Result<()> {
    let classname = r.script.as_deref().unwrap_or(&r.file);
    let case = w
        .create_element("testcase")
        .with_attribute(("name", xml_chars(&r.name).as_ref()))
        .with_attribute(("classname", xml_chars(classname).as_ref()))
        .with_attribute(("time", seconds(r.duration).as_str()));
    if r.passed() {
        case.write_empty()?;
        return Ok(());
    }
    let (element, kind) = if r.error { ("error", "unusable") } else { ("failure", "expectation") };
    // One line: readers fold an attribute's line breaks into spaces anyway,
    // and the TOML reader's messages span several (the text keeps them).
    let message = r.failures.first().map(|f| one_line(f)).unwrap_or_default();
    let text = r.failures.join("\n");
    case.write_inner_content(|w| {
        w.create_element(element)
            .with_attribute(("message", xml_chars(&message).as_ref()))
            .with_attribute(("type", kind))
            .write_text_content(BytesText::new(&xml_chars(&text)))?;
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(file: &str, name: &str, failures: &[&str], error: bool) -> TestResult {
        TestResult {
            file: file.into(),
            script: Some("s.json".into()),
            name: name.into(),
            failures: failures.iter().map(|s| s.to_string()).collect(),
            error,
            duration: Duration::from_millis(2),
        }
    }

    fn report(results: &[TestResult]) -> String {
        let info = RunInfo { started: DateTime::UNIX_EPOCH, hostname: "ci".into(), elapsed: Duration::from_secs(2) };
        let mut out = Vec::new();
        write(results, &info, &mut out).expect("writes");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn suites_per_test_file_with_counts_and_escaped_text() {
        let xml = report(&[
            result("a.test.toml", "ok <one>", &[], false),
            result("b.test.toml", "quote \" & \u{1}bell", &["path: expected [a], got [b]", "return: x"], false),
            result("a.test.toml", "broken", &["no such script"], true),
        ]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), "{xml}");
        assert!(
            xml.contains("<testsuites name=\"prospero test\" tests=\"3\" failures=\"1\" errors=\"1\" time=\"2.000\">"),
            "{xml}"
        );
        assert!(xml.contains("<testsuite name=\"a.test.toml\" tests=\"2\" failures=\"0\" errors=\"1\""), "{xml}");
        assert!(xml.contains("timestamp=\"1970-01-01T00:00:00\" hostname=\"ci\" id=\"0\""), "{xml}");
        assert!(xml.contains("<testcase name=\"ok &lt;one&gt;\" classname=\"s.json\" time=\"0.002\"/>"), "{xml}");
        assert!(xml.contains("name=\"quote &quot; &amp; \\u{1}bell\""), "{xml}");
        assert!(
            xml.contains(
                "<failure message=\"path: expected [a], got [b]\" type=\"expectation\">path: expected [a], got [b]\nreturn: x</failure>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<error message=\"no such script\" type=\"unusable\">no such script</error>"), "{xml}");
        assert!(xml.ends_with("</testsuites>\n"), "{xml}");
    }
}
