//! Batches of records and the report an import gives back, whatever the
//! domain: reading a script's records, checking them on several threads
//! without losing their order, and the record report.
//!
//! The report holds every input record exactly once, in input order: the
//! stored ones under `SuccessfulRecords`, the refused ones under
//! `FailedRecords`, each a copy of the original record (its members
//! untouched) plus a `ResultCode`, and a `Summary` of counts. A domain brings
//! its own codes (a [`RecordCode`]) and adds its own members to stored
//! records; the report is drafted while the store writes ([`ReportDraft`])
//! and finished with what storing decided ([`ReportDraft::finish`]).
//!
//! Records are [`Value`]s, so this module builds on [`crate::value`], which
//! itself needs only the JSON writer of this base layer.

use crate::value::{Array, Object, Str, Value};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

/// A batch-level problem: nothing of the batch may be stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BatchError(pub String);

/// Read `Data`: an array of records, or an object holding one such array,
/// or JSON text of either. Each record must be an object. Messages name the
/// input `Data`; callers reading another input rename it.
pub fn records_of(data: &Value) -> Result<Vec<Value>, BatchError> {
    let owned;
    let data = match data {
        Value::Text(t) if matches!(t.trim().chars().next(), Some('[' | '{')) => {
            let j: serde_json::Value =
                serde_json::from_str(t).map_err(|e| BatchError(format!("Data is not valid JSON: {e}")))?;
            owned = Value::from_json(&j);
            &owned
        }
        other => other,
    };
    let list = match data {
        Value::Array(a) => a.clone(),
        Value::Object(o) => {
            let arrays: Vec<&Arc<Array>> =
                o.values().filter_map(|v| if let Value::Array(a) = v { Some(a) } else { None }).collect();
            match arrays.as_slice() {
                [one] => (*one).clone(),
                [] if !o.is_empty() => Arc::new(Array::from(vec![data.clone()])),
                _ => {
                    return Err(BatchError(
                        "Data must be an array of records, or an object holding exactly one such array".into(),
                    ));
                }
            }
        }
        Value::Null => return Err(BatchError("Data is empty".into())),
        other => return Err(BatchError(format!("Data must be an array of records, not '{}'", other.to_text()))),
    };
    for (i, r) in list.iter().enumerate() {
        if !matches!(r, Value::Object(_)) {
            return Err(BatchError(format!("Data[{}] is not a record (a dynamic object)", i + 1)));
        }
    }
    Ok(Arc::unwrap_or_clone(list).into_vec())
}

/// A record member by label: exact first, then without regard to case.
pub fn member<'r>(rec: &'r Object, label: &str) -> Option<&'r Value> {
    rec.get(label).or_else(|| rec.iter().find(|(k, _)| k.eq_ignore_ascii_case(label)).map(|(_, v)| v))
}

/// Batches at least this large are checked on several threads; below it,
/// starting threads costs more than it saves.
pub const PARALLEL_MIN: usize = 512;

/// At most this many threads check one batch.
pub const MAX_CHECKERS: usize = 4;

/// How many threads should check a batch of `len` records.
pub fn checkers_for(len: usize) -> usize {
    if len >= PARALLEL_MIN { std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_CHECKERS) } else { 1 }
}

/// Run `check` over `items` cut into `threads` contiguous slices, one per
/// thread (the caller's among them), and give the results back in input
/// order: the same as `check(items)` when `check` judges each item alone.
/// `check` takes a whole slice so it can set up its scratch space once.
pub fn check_in_slices<T: Send, U: Send>(
    mut items: Vec<T>,
    threads: usize,
    check: impl Fn(Vec<T>) -> Vec<U> + Sync,
) -> Vec<U> {
    if threads <= 1 {
        return check(items);
    }
    let per = items.len().div_ceil(threads);
    let mut slices = Vec::with_capacity(threads);
    while items.len() > per {
        slices.push(items.split_off(items.len() - per));
    }
    // `slices` holds the tail slices last-first; the head stays here. Each
    // tail slice waits in a slot its thread empties; a thread that cannot
    // start (out of threads) leaves its slice there, to be checked here:
    // slower, never lost.
    let slots: Vec<Mutex<Option<Vec<T>>>> = slices.into_iter().rev().map(|s| Mutex::new(Some(s))).collect();
    std::thread::scope(|scope| {
        let check = &check;
        let workers: Vec<_> = slots
            .iter()
            .map(|slot| std::thread::Builder::new().spawn_scoped(scope, move || take(slot).map(check)))
            .collect();
        let mut all = check(items);
        for (slot, worker) in slots.iter().zip(workers) {
            let done = match worker {
                // A panic in a checker is a bug; carry it to the caller.
                Ok(handle) => handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => None,
            };
            all.extend(done.or_else(|| take(slot).map(check)).unwrap_or_default());
        }
        all
    })
}

/// Empty a slot, whoever last held its lock.
fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// A record's outcome as a domain names it. The identifiers are stable:
/// scripts branch on them and sources store them.
pub trait RecordCode: Copy + PartialEq + 'static {
    /// The codes of stored records (e.g. Created, Updated), in the order
    /// the summary counts them.
    const STORED: &'static [Self];

    /// The stable identifier.
    fn as_str(self) -> &'static str;
}

/// Texts a report repeats, each made once: texts share their storage, so
/// every record then holds a reference instead of its own copy, and
/// dropping the report frees far fewer blocks.
#[derive(Default)]
pub struct SharedTexts(foldhash::HashSet<Str>);

impl SharedTexts {
    /// An empty set.
    pub fn new() -> SharedTexts {
        SharedTexts::default()
    }

    /// `s` as a shared text.
    pub fn name(&mut self, s: &str) -> Str {
        if let Some(k) = self.0.get(s) {
            return k.clone();
        }
        let k = Str::from(s);
        self.0.insert(k.clone());
        k
    }

    /// `s` as a shared text value.
    pub fn text(&mut self, s: &str) -> Value {
        Value::Text(self.name(s))
    }
}

/// Added members that would overwrite a member of the original record are
/// written with this prefix instead, so original fields stay untouched.
pub const COLLISION_PREFIX: &str = "Prospero";

/// Add a report member to a copy of a record, under [`COLLISION_PREFIX`]
/// when the record already has a member of that name.
pub fn add_member(o: &mut Object, name: Str, v: Value) {
    if o.contains_key(name.as_str()) {
        o.insert(format!("{COLLISION_PREFIX}{name}").into(), v);
    } else {
        o.insert(name, v);
    }
}

/// The members every record report adds, made once per report.
struct ReportNames {
    result_code: Str,
    result_message: Str,
    /// The stored record's id (`ProspectID`, ...).
    id: Str,
}

/// Members the report itself adds to a stored record: its code and its id.
const STORED_MEMBERS: usize = 2;
/// Members the report adds to a refused record: its code and a message.
const REFUSED_MEMBERS: usize = 2;

/// A record report before its batch is stored: every record but each
/// stored record's code and id, which [`ReportDraft::finish`] fills in.
/// Drafting while the store writes lets a batch use two cores.
pub struct ReportDraft<C> {
    names: ReportNames,
    texts: SharedTexts,
    ok: Vec<Value>,
    failed: Vec<Value>,
    /// For each stored record: the positions of its code and id members.
    slots: Vec<(usize, usize)>,
    received: usize,
    codes: PhantomData<C>,
}

/// The counts of a finished report (its `Summary`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally<C> {
    /// Records received.
    pub received: usize,
    /// Refused records.
    pub failed: usize,
    /// Stored records per code of [`RecordCode::STORED`], in that order.
    stored: Vec<usize>,
    codes: PhantomData<C>,
}

impl<C: RecordCode> Tally<C> {
    /// Stored records that got `code` (0 for a refusal code).
    pub fn count(&self, code: C) -> usize {
        C::STORED.iter().position(|c| *c == code).map_or(0, |i| self.stored[i])
    }
}

/// A copy of `rec`'s members with room for `added` more, so the report's
/// members never regrow it.
fn copy_of(rec: &Value, added: usize) -> Object {
    let Value::Object(src) = rec else { return Object::with_capacity(added) };
    let mut o = Object::with_capacity(src.len() + added);
    o.extend(src.iter().map(|(k, v)| (k.clone(), v.clone())));
    o
}

impl<C: RecordCode> ReportDraft<C> {
    /// A draft for `received` records of which `stored` are to be stored;
    /// stored records get their id as `id_member`.
    pub fn new(id_member: &str, received: usize, stored: usize) -> ReportDraft<C> {
        ReportDraft {
            names: ReportNames {
                result_code: Str::from("ResultCode"),
                result_message: Str::from("ResultMessage"),
                id: Str::from(id_member),
            },
            texts: SharedTexts::new(),
            ok: Vec::with_capacity(stored),
            failed: Vec::with_capacity(received - stored.min(received)),
            slots: Vec::with_capacity(stored),
            received,
            codes: PhantomData,
        }
    }

    /// Add a record to be stored: its copy gets placeholders for its code and
    /// id, then whatever `more` adds (at most `extra` members, with
    /// [`add_member`]).
    pub fn stored(&mut self, rec: &Value, extra: usize, more: impl FnOnce(&mut Object)) {
        let mut o = copy_of(rec, STORED_MEMBERS + extra);
        // Placeholders, in their final order; `add_member` appends.
        add_member(&mut o, self.names.result_code.clone(), Value::Null);
        let code_at = o.len() - 1;
        add_member(&mut o, self.names.id.clone(), Value::Null);
        self.slots.push((code_at, o.len() - 1));
        more(&mut o);
        self.ok.push(Value::Object(Arc::new(o)));
    }

    /// Add a refused record with its code and why.
    pub fn refused(&mut self, rec: &Value, code: C, message: &str) {
        let mut o = copy_of(rec, REFUSED_MEMBERS);
        add_member(&mut o, self.names.result_code.clone(), self.texts.text(code.as_str()));
        add_member(&mut o, self.names.result_message.clone(), Value::text(message));
        self.failed.push(Value::Object(Arc::new(o)));
    }

    /// Fill in what storing decided, one (code, id) per stored record in the
    /// order they were added, and assemble the report:
    /// `{SuccessfulRecords, FailedRecords, Summary}`, the summary counting
    /// `Received`, each stored code, then `Failed`.
    pub fn finish(mut self, outcomes: impl IntoIterator<Item = (C, i64)>) -> (Value, Tally<C>) {
        let code_texts: Vec<Value> = C::STORED.iter().map(|c| Value::text(c.as_str())).collect();
        let mut stored = vec![0; C::STORED.len()];
        for ((rec, (code_at, id_at)), (code, id)) in self.ok.iter_mut().zip(&self.slots).zip(outcomes) {
            let code = match C::STORED.iter().position(|c| *c == code) {
                Some(i) => {
                    stored[i] += 1;
                    code_texts[i].clone()
                }
                None => Value::text(code.as_str()),
            };
            if let Value::Object(o) = rec {
                // The draft holds the only reference: no copy is made.
                let o = Arc::make_mut(o);
                o.set_index(*code_at, code);
                o.set_index(*id_at, Value::Number(id as f64));
            }
        }
        let tally = Tally { received: self.received, failed: self.failed.len(), stored, codes: PhantomData };
        let mut summary = Object::with_capacity(C::STORED.len() + 2);
        summary.insert("Received".into(), Value::Number(tally.received as f64));
        for (c, n) in C::STORED.iter().zip(&tally.stored) {
            summary.insert(c.as_str().into(), Value::Number(*n as f64));
        }
        summary.insert("Failed".into(), Value::Number(tally.failed as f64));
        let mut root = Object::new();
        root.insert("SuccessfulRecords".into(), Value::array(self.ok));
        root.insert("FailedRecords".into(), Value::array(self.failed));
        root.insert("Summary".into(), Value::Object(Arc::new(summary)));
        (Value::Object(Arc::new(root)), tally)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Code {
        Added,
        Merged,
        NoEmail,
    }

    impl RecordCode for Code {
        const STORED: &'static [Code] = &[Code::Added, Code::Merged];
        fn as_str(self) -> &'static str {
            match self {
                Code::Added => "Added",
                Code::Merged => "Merged",
                Code::NoEmail => "NoEmail",
            }
        }
    }

    fn json(v: &Value) -> String {
        v.to_report_json().to_string()
    }

    fn rec(text: &str) -> Value {
        Value::from_json(&serde_json::from_str(text).expect("json"))
    }

    #[test]
    fn records_come_from_an_array_an_object_or_json_text() {
        let two = rec(r#"[{"a": 1}, {"a": 2}]"#);
        assert_eq!(records_of(&two).map(|r| r.len()), Ok(2));
        assert_eq!(records_of(&rec(r#"{"rows": [{"a": 1}], "n": 1}"#)).map(|r| r.len()), Ok(1));
        assert_eq!(records_of(&rec(r#"{"a": 1}"#)).map(|r| r.len()), Ok(1));
        assert_eq!(records_of(&Value::text(r#" [{"a": 1}] "#)).map(|r| r.len()), Ok(1));
        for (data, error) in [
            (Value::Null, "Data is empty"),
            (Value::text("abc"), "Data must be an array of records, not 'abc'"),
            (rec("[{}, 3]"), "Data[2] is not a record (a dynamic object)"),
            (rec(r#"{"a": [], "b": []}"#), "Data must be an array of records, or an object holding exactly one"),
        ] {
            let e = records_of(&data).expect_err(error).to_string();
            assert!(e.starts_with(error), "{e}");
        }
        assert!(records_of(&Value::text("[1,")).expect_err("bad JSON").0.starts_with("Data is not valid JSON"));
    }

    #[test]
    fn members_match_exactly_first_then_without_case() {
        let Value::Object(o) = rec(r#"{"Name": 1, "name": 2, "ID": 3}"#) else { panic!("object") };
        assert_eq!(member(&o, "name"), Some(&Value::Number(2.0)));
        assert_eq!(member(&o, "Id"), Some(&Value::Number(3.0)));
        assert_eq!(member(&o, "nope"), None);
    }

    #[test]
    fn slices_come_back_in_input_order() {
        let items: Vec<usize> = (0..1_001).collect();
        let want: Vec<usize> = items.iter().map(|i| i * 2).collect();
        for threads in [0, 1, 2, 3, 4, 7] {
            let got = check_in_slices(items.clone(), threads, |slice| slice.into_iter().map(|i| i * 2).collect());
            assert_eq!(got, want, "{threads} threads");
        }
        assert_eq!(checkers_for(PARALLEL_MIN - 1), 1);
        assert!((1..=MAX_CHECKERS).contains(&checkers_for(PARALLEL_MIN)));
    }

    #[test]
    fn shared_texts_are_made_once() {
        let mut texts = SharedTexts::new();
        let a = texts.name("America/Chicago");
        let b = texts.name("America/Chicago");
        assert!(a.ptr_eq(&b));
        assert_eq!(texts.text("x"), Value::text("x"));
    }

    #[test]
    fn the_report_keeps_input_order_original_members_and_counts() {
        let records = [
            rec(r#"{"Email": "a@x", "ResultCode": "mine"}"#),
            rec(r#"{"Email": ""}"#),
            rec(r#"{"Email": "b@x"}"#),
            rec(r#"{"Email": "c@x"}"#),
        ];
        let mut draft = ReportDraft::<Code>::new("ContactID", records.len(), 3);
        for (i, r) in records.iter().enumerate() {
            if i == 1 {
                draft.refused(r, Code::NoEmail, "no email");
            } else {
                draft.stored(r, 1, |o| add_member(o, "Checked".into(), Value::Bool(true)));
            }
        }
        let (report, tally) = draft.finish([(Code::Added, 7), (Code::Merged, 3), (Code::Added, 9)]);
        assert_eq!(
            json(&report),
            concat!(
                r#"{"SuccessfulRecords":["#,
                r#"{"Email":"a@x","ResultCode":"mine","ProsperoResultCode":"Added","ContactID":"7","Checked":"True"},"#,
                r#"{"Email":"b@x","ResultCode":"Merged","ContactID":"3","Checked":"True"},"#,
                r#"{"Email":"c@x","ResultCode":"Added","ContactID":"9","Checked":"True"}],"#,
                r#""FailedRecords":[{"Email":"","ResultCode":"NoEmail","ResultMessage":"no email"}],"#,
                r#""Summary":{"Received":"4","Added":"2","Merged":"1","Failed":"1"}}"#
            )
        );
        assert_eq!((tally.received, tally.failed), (4, 1));
        assert_eq!((tally.count(Code::Added), tally.count(Code::Merged), tally.count(Code::NoEmail)), (2, 1, 0));
    }
}
