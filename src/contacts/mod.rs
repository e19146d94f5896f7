//! The contacts domain: external contacts, organizations, notes, external
//! sources, contact types with custom fields, and the phone and email rules
//! that make contacts searchable (`docs/contacts.md`).
//!
//! Like `outbound` and `timezone`, it knows nothing of the engine, the
//! store backends or the snippet dialect: its types and functions serve a
//! host directly, the contacts pack (`packs::contacts`) and the CLI alike.

pub mod batch;
pub mod email;
pub mod import;
pub mod merge;
pub mod model;
pub mod phone;
mod phone_text;
pub mod types;

pub use model::{
    Address, ContactPhone, ContactRecord, ContactSearch, ExternalId, Invalid, OrgChange, OrganizationRecord,
    apply_changes,
};
pub use types::{ContactType, CustomField, CustomFieldError, FieldKind};
pub mod stored;

pub use stored::{Contact, ContactRow, Note, OrgLink, Organization};
