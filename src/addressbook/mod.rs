//! The address book (`contacts.md` §4): recipients that agents consult as
//! an expert, copy or transfer a case to, imported from a fixed 8-field
//! CSV layout. This module owns the recipient record and its rules
//! (`recipient.rs`: civility, lengths, phone, email, statuses, the import's
//! name) and the streaming reading of an import file (`file.rs`: lines,
//! the optional header, UTF-8).
//!
//! Like `contacts`, it knows nothing of the engine or the store backends:
//! the address-book pack (`packs::addressbook`) stores what it reads, and
//! benchmarks or hosts can call it directly.

pub mod file;
pub mod recipient;

pub use file::{BookReader, Entry, FileCheck, FileError, check_file};
pub use recipient::{
    Civility, Field, ImportNameError, Reason, Recipient, Rejection, Status, StatusError, Statuses, import_name,
    is_header, parse_line,
};
