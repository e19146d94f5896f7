//! The contacts pack: ADDCONTACT, UPDATECONTACT, FINDCONTACT,
//! ADDORGANIZATION, ADDNOTE, DELETECONTACT and IMPORTCONTACTS over the
//! contacts domain in
//! [`crate::contacts`] (which knows nothing of runs) and the
//! [`ContactsStore`] trait, served by the SQLite and PostgreSQL stores
//! (`sql.rs`) or by a host's own backend (`RuntimeBuilder::domain_store`);
//! bulk imports keep their profiles and jobs in an [`ImportStore`]
//! (`imports.rs`, run by `importer.rs`).

mod actions;
pub mod api;
mod bulk;
#[cfg(feature = "postgres")]
mod bulk_pg;
mod import_sql;
mod import_write;
pub mod importer;
pub mod imports;
mod sql;
mod store;

pub use imports::ImportStore;
pub use store::{ContactsStore, Written};

use crate::store::{Store, StoreError};
use std::sync::Arc;

pack! {
    /// The contacts pack.
    Contacts = "contacts",
    actions: [
        actions::AddContact,
        actions::UpdateContact,
        actions::FindContact,
        actions::AddOrganization,
        actions::AddNote,
        actions::DeleteContact,
        actions::ImportContacts,
    ],
    stores: ContactsStore + ImportStore in imports,
}

backend_stores!(ContactsStore, "contacts", ContactsContext::contacts);

// `tests` first: its `on_both_backends!` serves `import_tests` too.
#[cfg(test)]
#[macro_use]
mod tests;
#[cfg(test)]
mod import_tests;
