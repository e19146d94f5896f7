//! What a step's trace events hold that is the same at every visit,
//! rendered once when the program is built ([`StepText`], with the inputs
//! template [`InputsJson`]), the pieces of a step event written at each
//! visit ([`write_outputs`], [`write_result`]), and the clock readings a
//! run writes ([`ClockText`]).

use crate::base::json::write_json_str;
use crate::catalog::{InputSpec, Manifest};
use crate::script::check::PropPlan;
use crate::value::Value;

/// What a step's events hold that is the same at every visit, rendered
/// once when the program is built, so a traced step mostly copies text.
///
/// A step event's members come in this order: `script`, `id`, `action`,
/// `caption`, `inputs` (the [`StepText::head`]), `outputs`, `result`,
/// `branch`, `next`, `depth` (a [`StepText::tails`] entry when the result
/// names a branch), then `changed`, `clock`, `duration_us` and the
/// optional members.
#[derive(Debug)]
pub(crate) struct StepText {
    /// `"script":…,"id":…,"action":…,"caption":…,"inputs":`, followed by
    /// the inputs object itself when none of it changes between visits.
    head: Box<[u8]>,
    /// Where the inputs object starts in `head` (`head.len()` when it is
    /// written at each visit).
    inputs_at: usize,
    /// How the inputs appear.
    pub inputs: InputsJson,
    /// Per manifest branch: `,"outputs":{},"result":…,"branch":…,"next":…,"depth":`
    /// for a result of the branch's own name (`next` is the branch's
    /// target, or `null`).
    tails: Box<[Box<[u8]>]>,
}

/// The start of every rendered tail: no outputs.
const NO_OUTPUTS: &[u8] = b",\"outputs\":{}";

impl StepText {
    /// Render step `id` of script `script`; `next[i]` is the id manifest
    /// branch `i` leads to.
    pub fn new(
        script: &str,
        id: &str,
        caption: &str,
        manifest: &Manifest,
        plans: &[PropPlan],
        next: &[Option<&str>],
    ) -> StepText {
        let mut head = b"\"script\":".to_vec();
        write_json_str(&mut head, script);
        head.extend_from_slice(b",\"id\":");
        write_json_str(&mut head, id);
        head.extend_from_slice(b",\"action\":");
        write_json_str(&mut head, &manifest.name);
        head.extend_from_slice(b",\"caption\":");
        write_json_str(&mut head, caption);
        head.extend_from_slice(b",\"inputs\":");
        let inputs_at = head.len();
        let inputs = InputsJson::new(manifest, plans);
        if inputs.is_fixed() {
            inputs.write(&mut head, &[]);
        }
        let tails = manifest
            .branches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut t = NO_OUTPUTS.to_vec();
                write_result(&mut t, &b.name, &b.name, next.get(i).copied().flatten().unwrap_or(""));
                t.into_boxed_slice()
            })
            .collect();
        StepText { head: head.into_boxed_slice(), inputs_at, inputs, tails }
    }

    /// The head; `with_inputs`: with the inputs object when it holds one.
    pub fn head(&self, with_inputs: bool) -> &[u8] {
        if with_inputs { &self.head } else { &self.head[..self.inputs_at] }
    }

    /// Whether the head holds the inputs object.
    pub fn has_inputs(&self) -> bool {
        self.inputs_at < self.head.len()
    }

    /// The tail for a result naming manifest branch `i`.
    pub fn tail(&self, i: usize) -> Option<&[u8]> {
        self.tails.get(i).map(|t| &t[..])
    }

    /// Write `outputs` (`"name":value,...`) and the rendered `tail`.
    pub fn write_tail(out: &mut Vec<u8>, outputs: &[u8], tail: &[u8]) {
        if outputs.is_empty() {
            out.extend_from_slice(tail);
        } else {
            write_outputs(out, outputs);
            out.extend_from_slice(&tail[NO_OUTPUTS.len()..]);
        }
    }
}

/// `,"outputs":{…}`.
pub(crate) fn write_outputs(out: &mut Vec<u8>, outputs: &[u8]) {
    out.extend_from_slice(b",\"outputs\":{");
    out.extend_from_slice(outputs);
    out.push(b'}');
}

/// `,"result":…,"branch":…,"next":…,"depth":` (`next` empty: `null`).
pub(crate) fn write_result(out: &mut Vec<u8>, result: &str, branch: &str, next: &str) {
    out.extend_from_slice(b",\"result\":");
    write_json_str(out, result);
    out.extend_from_slice(b",\"branch\":");
    write_json_str(out, branch);
    out.extend_from_slice(b",\"next\":");
    if next.is_empty() {
        out.extend_from_slice(b"null");
    } else {
        write_json_str(out, next);
    }
    out.extend_from_slice(b",\"depth\":");
}

/// Writes a run's clock readings as JSON strings in `to_rfc3339`'s form
/// (`2026-11-21T15:00:00.123456+00:00`, with as many fraction digits as
/// the reading needs), keeping the text up to the minute from one reading
/// to the next: a run on the real clock writes one reading per step, and
/// formatting each from scratch would cost more than the rest of the event.
#[derive(Debug, Default)]
pub(crate) struct ClockText {
    /// The minute (seconds since the epoch / 60) `prefix` is for.
    minute: Option<i64>,
    /// `"2026-11-21T15:00:` with the opening quote.
    prefix: Vec<u8>,
}

impl ClockText {
    pub fn write(&mut self, out: &mut Vec<u8>, t: chrono::DateTime<chrono::Utc>) {
        use chrono::Datelike;
        let secs = t.timestamp();
        let nanos = t.timestamp_subsec_nanos();
        let minute = secs.div_euclid(60);
        // Leap seconds and years outside 0..=9999 are left to chrono.
        if nanos >= 1_000_000_000 {
            write_json_str(out, &t.to_rfc3339());
            return;
        }
        if self.minute != Some(minute) {
            if !(0..=9999).contains(&t.year()) {
                write_json_str(out, &t.to_rfc3339());
                return;
            }
            self.prefix.clear();
            self.prefix.push(b'"');
            self.prefix.extend_from_slice(t.format("%Y-%m-%dT%H:%M:").to_string().as_bytes());
            self.minute = Some(minute);
        }
        out.extend_from_slice(&self.prefix);
        let second = secs.rem_euclid(60) as u8;
        out.extend_from_slice(&[b'0' + second / 10, b'0' + second % 10]);
        let (digits, fraction) = match nanos {
            0 => (0, 0),
            n if n % 1_000_000 == 0 => (3, n / 1_000_000),
            n if n % 1_000 == 0 => (6, n / 1_000),
            n => (9, n),
        };
        if digits > 0 {
            // A leading 1 keeps the fraction's zeros: 1_000_120 → "000120".
            let mut text = itoa::Buffer::new();
            let text = text.format(fraction + 10u32.pow(digits));
            out.push(b'.');
            out.extend_from_slice(&text.as_bytes()[1..]);
        }
        out.extend_from_slice(b"+00:00\"");
    }
}

/// How a step's inputs appear in its trace events, rendered once per step:
/// members whose text cannot change between visits (literals, variable
/// targets, code) are kept as text, so a loop neither re-escapes a
/// snippet's code nor walks every input at each pass.
#[derive(Debug)]
pub(crate) struct InputsJson(Box<[InputSeg]>);

#[derive(Debug)]
enum InputSeg {
    /// Consecutive fixed members, each after a comma: `,"a":…,"b":…`.
    Fixed(Box<[u8]>),
    /// Input `index`, written from the value resolved at each visit, after
    /// `member` (`"name":`).
    Dynamic { index: usize, member: Box<[u8]> },
}

impl InputsJson {
    /// The template for a step with this manifest and these plans.
    pub(crate) fn new(manifest: &Manifest, plans: &[PropPlan]) -> InputsJson {
        let mut segs = Vec::new();
        let mut fixed: Vec<u8> = Vec::new();
        for (i, spec) in manifest.inputs.iter().enumerate() {
            match plans.get(i) {
                // These resolve to nothing (`Null`) at every visit, and so
                // does every lazy input (see `RunCore::resolve`).
                p @ (Some(
                    PropPlan::Absent
                    | PropPlan::Literal(..)
                    | PropPlan::Variable(_)
                    | PropPlan::Snippet(_)
                    | PropPlan::Lazy(..),
                )
                | None) => write_fixed(&mut fixed, spec, p),
                p if spec.lazy => write_fixed(&mut fixed, spec, p),
                Some(_) => {
                    if !fixed.is_empty() {
                        segs.push(InputSeg::Fixed(std::mem::take(&mut fixed).into_boxed_slice()));
                    }
                    let mut member = Vec::new();
                    write_json_str(&mut member, &spec.name);
                    member.push(b':');
                    segs.push(InputSeg::Dynamic { index: i, member: member.into_boxed_slice() });
                }
            }
        }
        if !fixed.is_empty() {
            segs.push(InputSeg::Fixed(fixed.into_boxed_slice()));
        }
        InputsJson(segs.into_boxed_slice())
    }

    /// Whether every member is the same at every visit.
    pub(crate) fn is_fixed(&self) -> bool {
        !self.0.iter().any(|s| matches!(s, InputSeg::Dynamic { .. }))
    }

    /// Write the inputs as a JSON object: variable targets by name,
    /// literals and resolved `values` as report JSON.
    pub(crate) fn write(&self, out: &mut Vec<u8>, values: &[Value]) {
        out.push(b'{');
        let start = out.len();
        for seg in self.0.iter() {
            match seg {
                // Fixed text starts with a comma, dropped for the first member.
                InputSeg::Fixed(text) => {
                    out.extend_from_slice(if out.len() == start { &text[1..] } else { text });
                }
                InputSeg::Dynamic { index, member } => {
                    if let Some(v) = values.get(*index) {
                        if out.len() > start {
                            out.push(b',');
                        }
                        out.extend_from_slice(member);
                        v.write_report_json(out);
                    }
                }
            }
        }
        out.push(b'}');
    }
}

/// Append `,"name":value` for an input that reads the same at every visit
/// (its resolved value is `Null`): variable targets by name, literals as
/// they are, `null` for the rest, and nothing for absent and lazy inputs.
fn write_fixed(out: &mut Vec<u8>, spec: &InputSpec, plan: Option<&PropPlan>) {
    let member = |out: &mut Vec<u8>| {
        out.push(b',');
        write_json_str(out, &spec.name);
        out.push(b':');
    };
    match plan {
        Some(PropPlan::Absent) | None => {}
        Some(PropPlan::Variable(t)) => {
            member(out);
            write_json_str(out, &t.to_string());
        }
        Some(PropPlan::Literal(_, v)) => {
            member(out);
            v.write_report_json(out);
        }
        _ if spec.lazy => {}
        _ => {
            member(out);
            out.extend_from_slice(b"null");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn written(c: &mut ClockText, t: DateTime<Utc>) -> String {
        let mut out = Vec::new();
        c.write(&mut out, t);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn clock_text_is_chronos_rfc3339() {
        let mut c = ClockText::default();
        let mut check = |t: DateTime<Utc>| {
            let want = serde_json::to_string(&t.to_rfc3339()).unwrap();
            assert_eq!(written(&mut c, t), want, "{t:?}");
        };
        // Fractions of every length, minute and day boundaries, before
        // 1970, and the ends of four-digit years.
        let base = Utc.with_ymd_and_hms(2026, 11, 21, 15, 59, 58).unwrap();
        for nanos in
            [0, 1, 7, 999, 1_000, 120_000, 999_000, 1_000_000, 5_000_000, 100_000_000, 123_456_789, 999_999_999]
        {
            for secs in [0, 1, 2, 61, 86_399, 86_400, -1, -59, -60, -61] {
                check(base + chrono::Duration::seconds(secs) + chrono::Duration::nanoseconds(nanos));
            }
        }
        check(Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap());
        check(Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap());
        check(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap());
        // A pseudo-random walk of readings, as a run's steps give.
        let mut t = base;
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            t += chrono::Duration::nanoseconds((x % 3_000_000_000) as i64);
            check(t);
        }
    }

    #[test]
    fn clock_text_leaves_leap_seconds_and_years_past_9999_to_chrono() {
        let mut c = ClockText::default();
        let rfc = |t: DateTime<Utc>| serde_json::to_string(&t.to_rfc3339()).unwrap();
        let t = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(written(&mut c, t), rfc(t));
        // A leap second within a minute already written.
        let before = Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 58).unwrap();
        assert_eq!(written(&mut c, before), rfc(before));
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap()
            .and_utc();
        assert_eq!(written(&mut c, leap), rfc(leap));
        assert!(rfc(leap).contains(":60."), "{}", rfc(leap));
    }
}
