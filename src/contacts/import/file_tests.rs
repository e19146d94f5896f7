//! Tests of the file check: every [`FileError`], a table of bad files, and
//! a stream far larger than anything held in memory.

use super::*;
use crate::contacts::import::layout::Layout;
use crate::contacts::import::{RowContext, validate};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::rc::Rc;

const H: &str = "First Name,Last Name,Work Email";

fn lines(rows: &[&str]) -> Vec<u8> {
    rows.iter().flat_map(|r| format!("{r}\n").into_bytes()).collect()
}

fn profile(layout: Layout) -> ImportProfile {
    ImportProfile::default_for(layout)
}

/// What a file must end in.
enum Want {
    /// A file-level error with this code, its message containing the text.
    File(&'static str, &'static str),
    /// A valid file: this many rows, these (line, reason code) rejections.
    Rows(u64, &'static [(u64, &'static str)]),
}

fn run(bytes: &[u8], layout: Layout) -> Result<(u64, Vec<(u64, String)>), FileError> {
    let ctx = RowContext { unit_country: "US", contact_types: &[] };
    let v = validate(bytes, &profile(layout), &ctx, &Limits::default())?;
    let rejected = v.log.entries.iter().map(|e| (e.line, e.reason.code().to_string())).collect();
    Ok((v.summary.rows, rejected))
}

fn big(n: usize) -> String {
    "x".repeat(n)
}

/// A bad (or tricky but valid) file: its name, bytes, layout and outcome.
type Case = (&'static str, Vec<u8>, Layout, Want);

/// The table of files: at least thirty kinds of bad file, and valid ones beside them.
fn bad_files() -> Vec<Case> {
    use Layout::New;
    use Want::{File, Rows};
    let wide: String = (0..10_000).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
    let wide_row: String = vec!["1"; 10_000].join(",");
    let huge_record = vec![big(60_000); 20].join(",");
    vec![
        ("empty", vec![], New, File("empty_file", "the file is empty")),
        ("header only", lines(&[H]), New, File("no_rows", "line 1: the file has a header row but no rows")),
        ("BOM only", b"\xEF\xBB\xBF".to_vec(), New, File("empty_file", "empty")),
        ("BOM and header only, CRLF", format!("\u{feff}{H}\r\n").into_bytes(), New, File("no_rows", "line 1")),
        ("blank lines only", b"\n\r\n\n".to_vec(), New, File("empty_file", "empty")),
        ("header and blank rows", lines(&[H, ",,", " , ,"]), New, File("no_rows", "no rows")),
        (
            "NUL in the header",
            b"First\0Name,Last Name\n".to_vec(),
            New,
            File("binary", "line 1: a NUL byte at offset 5"),
        ),
        ("binary (PNG)", b"\x89PNG\r\n\x1a\n\0\0\0".to_vec(), New, File("not_utf8", "line 1: byte 0x89 at offset 0")),
        ("NUL in row 4", lines(&[H, "A,B,", "C,D,", "E\0,F,"]), New, File("binary", "line 4")),
        (
            "Latin-1 in the header",
            b"Pr\xe9nom,Last Name\n".to_vec(),
            New,
            File("not_utf8", "line 1: byte 0xE9 at offset 2"),
        ),
        (
            "Latin-1 in row 3",
            [lines(&[H, "Ada,Lovelace,"]), b"Jos\xe9,Ruiz,\n".to_vec()].concat(),
            New,
            File("not_utf8", "line 3: byte 0xE9 at offset 49"),
        ),
        ("UTF-16 LE", b"\xFF\xFEF\0i\0r\0".to_vec(), New, File("utf16", "UTF-16")),
        ("UTF-16 BE", b"\xFE\xFF\0F\0i".to_vec(), New, File("utf16", "UTF-16")),
        ("UTF-16 without its mark", b"F\0i\0r\0s\0t\0".to_vec(), New, File("binary", "offset 1")),
        (
            "UTF-8 cut short at the end",
            [lines(&[H]), b"Ada,L,\xC3".to_vec()].concat(),
            New,
            File("not_utf8", "line 2: byte 0xC3"),
        ),
        (
            "unterminated quote",
            lines(&[H, "Ada,Lovelace,", "Bo,\"Smith,", "Cy,Doe,"]),
            New,
            File("unterminated_quote", "line 3: a quoted field opened on this line is never closed"),
        ),
        (
            "unterminated quote in the header",
            lines(&["\"First Name,Last Name"]),
            New,
            File("unterminated_quote", "line 1"),
        ),
        // Regression (text_after_a_closing_quote_was_glued_on): `"Bo"xyz`
        // was read as `Boxyz` and imported.
        (
            "text after a closing quote",
            lines(&[H, "Ada,Lovelace,", "\"Bo\"xyz,Smith,"]),
            New,
            File("text_after_quote", "line 3, column 1: text after the closing quote"),
        ),
        (
            "an undoubled quote inside a quoted field",
            lines(&[H, "Ada,\"the \"real\" Lovelace\","]),
            New,
            File("text_after_quote", "line 2, column 2"),
        ),
        (
            "ragged rows",
            lines(&[H, "Ada,Lovelace,", "Bo", "Cy,Doe,c@x.io,extra", "Di,Ek,"]),
            New,
            Rows(4, &[(3, "wrong_column_count"), (4, "wrong_column_count")]),
        ),
        ("trailing empty cells", lines(&[H, "Ada,Lovelace,,,"]), New, Rows(1, &[(2, "wrong_column_count")])),
        (
            "1 MB field",
            lines(&[H, &format!("{},L,", big(1 << 20))]),
            New,
            File("field_too_large", "line 2, column 1: a field longer than 65536 bytes"),
        ),
        (
            "1 MB quoted field",
            lines(&[H, &format!("A,\"{}\",", big(1 << 20))]),
            New,
            File("field_too_large", "column 2"),
        ),
        (
            "10,000 columns in the header",
            lines(&[&wide]),
            New,
            File("too_many_columns", "line 1: more than 1000 columns"),
        ),
        ("10,000 columns in a row", lines(&[H, &wide_row]), New, File("too_many_columns", "line 2")),
        (
            "a 1.2 MB row",
            lines(&[H, &huge_record]),
            New,
            File("record_too_large", "line 2: a row longer than 1048576 bytes"),
        ),
    ]
}

/// The second half of the table: headers, layouts, line ends and valid files.
fn header_and_valid_files() -> Vec<Case> {
    use Layout::{Legacy, New};
    use Want::{File, Rows};
    vec![
        (
            "duplicate headers, case ignored",
            lines(&["First Name,Last Name,FIRST NAME", "a,b,c"]),
            New,
            File("duplicate_header", "column 3: the header 'FIRST NAME' repeats column 1"),
        ),
        (
            "duplicate headers, legacy",
            lines(&["Contact Id,Contact Id,Contact First Name,Contact Last Name", "1,1,a,b"]),
            Legacy,
            File("duplicate_header", "column 2"),
        ),
        (
            "missing legacy column",
            lines(&["Contact Id,Contact First Name", "1,a"]),
            Legacy,
            File("missing_column", "'Contact Last Name' is required"),
        ),
        (
            "legacy key in the wrong case",
            lines(&["Contact ID,Contact First Name,Contact Last Name", "1,a,b"]),
            Legacy,
            File("missing_column", "legacy keys are case-sensitive"),
        ),
        (
            "legacy organization half",
            lines(&["Account Name", "Acme"]),
            Legacy,
            File("missing_column", "'Account Id' is required"),
        ),
        (
            "blank header cell",
            lines(&["First Name,,Last Name", "a,b,c"]),
            New,
            File("blank_header", "line 1, column 2: the header cell is blank"),
        ),
        (
            "trailing blank header cell",
            lines(&["First Name,Last Name,", "a,b,"]),
            New,
            File("blank_header", "column 3"),
        ),
        (
            "unknown header",
            lines(&["First Name,Last Name,Shoe Size", "a,b,9"]),
            New,
            File("unknown_header", "column 3: unknown header 'Shoe Size'"),
        ),
        (
            "two columns, one field",
            lines(&["Work Email,workEmail", "a@x.io,b@x.io"]),
            New,
            File("duplicate_field", "workEmail"),
        ),
        ("nothing imported", lines(&["Reason", "x"]), New, File("no_imported_column", "no column")),
        (
            "CR-only line ends",
            format!("{H}\rAda,Lovelace,ada@x.io\rBo,Smith,bo@\r").into_bytes(),
            New,
            Rows(2, &[(3, "incomplete_email")]),
        ),
        (
            "CRLF line ends",
            format!("{H}\r\nAda,Lovelace,ada@x.io\r\nBo,Smith,bo@\r\n").into_bytes(),
            New,
            Rows(2, &[(3, "incomplete_email")]),
        ),
        (
            "quoted commas and line breaks are valid",
            lines(&[H, "\"Lovelace, Ada\",\"King", "of\r", "Lovelace\",ada@x.io", "Bo,Smith,bo@"]),
            New,
            Rows(2, &[(5, "incomplete_email")]),
        ),
        ("trailing empty line", [lines(&[H, "Ada,Lovelace,"]), b"\n\n".to_vec()].concat(), New, Rows(1, &[])),
        (
            "blank lines between rows keep physical lines",
            lines(&[H, "", "", "Bo,Smith,bo@", "", "Cy,Doe,cy@"]),
            New,
            Rows(2, &[(4, "incomplete_email"), (6, "incomplete_email")]),
        ),
        ("a stray quote inside a cell", lines(&[H, "5'11\",Smith,"]), New, Rows(1, &[])),
        ("blank lines before the header", lines(&["", H, "Bo,Smith,bo@"]), New, Rows(1, &[(3, "incomplete_email")])),
    ]
}

#[test]
fn at_least_thirty_kinds_of_bad_file_end_in_a_clear_error_or_row_entries() {
    use Want::{File, Rows};
    let mut cases = bad_files();
    cases.extend(header_and_valid_files());
    assert!(cases.len() >= 30, "{} kinds", cases.len());
    for (name, bytes, layout, want) in cases {
        let got = std::panic::catch_unwind(|| run(&bytes, layout)).unwrap_or_else(|_| panic!("{name}: panicked"));
        match (want, got) {
            (File(code, text), Err(e)) => {
                assert_eq!(e.code(), code, "{name}: {e}");
                assert!(e.to_string().contains(text), "{name}: '{e}' lacks '{text}'");
            }
            (Rows(rows, rejected), Ok((n, got))) => {
                let want: Vec<(u64, String)> = rejected.iter().map(|(l, c)| (*l, c.to_string())).collect();
                assert_eq!((n, got), (rows, want), "{name}");
            }
            (File(code, _), Ok(got)) => panic!("{name}: wanted {code}, got {got:?}"),
            (Rows(..), Err(e)) => panic!("{name}: wanted rows, got {e}"),
        }
    }
}

/// A reader that fails after its first bytes.
struct Failing(bool);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if std::mem::replace(&mut self.0, true) {
            return Err(io::Error::other("disk on fire"));
        }
        let head = b"First Name,Last Name\n";
        buf[..head.len()].copy_from_slice(head);
        Ok(head.len())
    }
}

use std::io;

#[test]
fn read_failures_and_changed_files_are_file_errors_too() {
    let e = check_file(Failing(false), &profile(Layout::New), &Limits::default()).unwrap_err();
    assert_eq!((e.code(), e.to_string().as_str()), ("io", "the file cannot be read: disk on fire"));
    let e = check_path(Path::new("/nonexistent/contacts.csv"), &profile(Layout::New), &Limits::default()).unwrap_err();
    assert!(e.code() == "io" && e.to_string().contains("/nonexistent/contacts.csv"), "{e}");
    let bytes = lines(&[H, "Ada,Lovelace,ada@x.io"]);
    let summary = check_file(&bytes[..], &profile(Layout::New), &Limits::default()).expect("valid");
    assert_eq!(summary.sha256, format!("{:x}", Sha256::digest(&bytes)));
    let ctx = RowContext { unit_country: "US", contact_types: &[] };
    let changed = lines(&[H, "Ada,Lovelace,ada@x.org"]);
    let mut reader =
        crate::contacts::import::ImportReader::open(&changed[..], &profile(Layout::New), ctx, &Limits::default())
            .expect("open");
    assert!(reader.verify(&summary.sha256).is_err_and(|e| e.to_string().contains("(not read to the end)")));
    while reader.next_row().expect("row").is_some() {}
    let e = reader.verify(&summary.sha256).unwrap_err();
    assert_eq!(e.code(), "file_changed");
    assert!(e.to_string().starts_with("the file changed since it was checked"), "{e}");
}

#[test]
fn a_summary_counts_rows_blank_rows_and_wrong_shapes_and_hashes_the_bom_too() {
    let bytes = [b"\xEF\xBB\xBF".to_vec(), lines(&[H, "a,b,", ",,", "c,d", "e,f,,"])].concat();
    let s = check_file(&bytes[..], &profile(Layout::New), &Limits::default()).expect("valid");
    assert_eq!((s.rows, s.blank_rows, s.wrong_shape, s.wrong_shape_lines.clone()), (3, 1, 2, vec![4, 5]));
    assert_eq!(s.header, ["First Name", "Last Name", "Work Email"]);
    assert_eq!((s.sha256, s.bytes), (format!("{:x}", Sha256::digest(&bytes)), bytes.len() as u64));
    let tight = Limits { max_columns: 2, ..Limits::default() };
    assert_eq!(check_file(&bytes[..], &profile(Layout::New), &tight).unwrap_err().code(), "too_many_columns");
}

/// Rows generated as they are read: `made` counts the rows handed out.
struct Generated {
    rows: usize,
    next: usize,
    pending: Vec<u8>,
    made: Rc<Cell<usize>>,
}

impl Generated {
    fn new(rows: usize, made: Rc<Cell<usize>>) -> Self {
        Generated { rows, next: 0, pending: format!("{H},Work Phone\n").into_bytes(), made }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.len() < buf.len() && self.next < self.rows {
            let i = self.next;
            let row = format!("First{i},\"Last, {i}\",p{i}@example.com,+1 212 555 {:04}\n", i % 10_000);
            self.pending.extend_from_slice(row.as_bytes());
            self.next += 1;
            self.made.set(self.next);
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn a_large_file_streams_through_the_check_with_bounded_look_ahead() {
    const ROWS: usize = 200_000;
    let summary = check_file(Generated::new(ROWS, Rc::new(Cell::new(0))), &profile(Layout::New), &Limits::default())
        .expect("valid");
    assert_eq!(summary.rows, ROWS as u64);
    let mut hasher = Sha256::new();
    let mut all = Generated::new(ROWS, Rc::new(Cell::new(0)));
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = all.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    assert_eq!(summary.sha256, format!("{:x}", hasher.finalize()));
    // Reading record by record, the input is never more than a few
    // kilobytes ahead of the record in hand: nothing is buffered whole.
    let made = Rc::new(Cell::new(0));
    let mut records = Records::open(Generated::new(ROWS, made.clone()), &Limits::default()).expect("header");
    let (mut seen, mut widest) = (0usize, 0usize);
    while let Some(r) = records.next_record().expect("record") {
        seen += 1;
        assert_eq!(r.line(), seen as u64 + 1);
        widest = widest.max(made.get() - seen);
    }
    assert_eq!(seen, ROWS);
    assert!(widest < 1_000, "read {widest} rows ahead");
}
