//! The address-book pack: IMPORTADDRESSBOOK, GETRECIPIENTS and
//! SETRECIPIENTSTATUS over the address-book domain in
//! [`crate::addressbook`] (which knows nothing of runs) and the
//! [`AddressBookStore`] trait, served by the SQLite and PostgreSQL stores
//! (`sql.rs`, with the SQLite batch write in `bulk.rs`) or by a host's own
//! backend (`RuntimeBuilder::domain_store`). An import is run by
//! [`import::import_file`], which the CLI shares.

mod actions;
mod bulk;
pub mod import;
mod sql;
mod store;

pub use store::{AddressBookStore, BatchWritten, Edited, StoredRecipient};

use crate::store::{Store, StoreError};
use std::sync::Arc;

pack! {
    /// The address-book pack.
    AddressBook = "addressbook",
    actions: [actions::ImportAddressBook, actions::GetRecipients, actions::SetRecipientStatus],
    stores: AddressBookStore,
}

backend_stores!(AddressBookStore, "address book", AddressBookContext::address_book);

#[cfg(test)]
mod tests;
