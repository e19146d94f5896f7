//! [`ContactsStore`]: what the contacts pack reads and writes, per business
//! unit. The SQLite and PostgreSQL stores serve it (`sql.rs`); a host may
//! register its own (`RuntimeBuilder::domain_store`).

use crate::contacts::{Contact, ContactRow, ContactSearch, ContactType, Note, Organization, OrganizationRecord};
use crate::store::StoreError;
use async_trait::async_trait;

/// How a contact write ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Written: the contact's id.
    Done(i64),
    /// No contact of that id in the unit.
    NotFound,
    /// One of the new external IDs already names a contact of the unit in
    /// that source; nothing was written.
    DuplicateExternalId,
}

/// The contacts directory of every business unit. Every method reads or
/// writes the unit it is given and nothing else.
#[async_trait]
pub trait ContactsStore: Send + Sync + 'static {
    /// The unit's default country for phones without a country code
    /// (`US` unless set).
    async fn default_country(&self, unit: i64) -> Result<String, StoreError>;
    /// Set the unit's default country (ISO 3166 alpha-2, uppercase).
    async fn set_default_country(&self, unit: i64, country: &str, now: &str) -> Result<(), StoreError>;
    /// Add an external source; `None` when the unit has one of that name
    /// (case ignored).
    async fn add_source(&self, unit: i64, name: &str, now: &str) -> Result<Option<i64>, StoreError>;
    /// The id of the unit's external source `name` (case ignored).
    async fn source_id(&self, unit: i64, name: &str) -> Result<Option<i64>, StoreError>;
    /// The unit's external source names, oldest first.
    async fn sources(&self, unit: i64) -> Result<Vec<String>, StoreError>;
    /// Add a contact type; `false` when the unit has one of that name.
    async fn add_contact_type(&self, unit: i64, t: &ContactType, now: &str) -> Result<bool, StoreError>;
    /// The unit's contact type `name` (case ignored).
    async fn contact_type(&self, unit: i64, name: &str) -> Result<Option<ContactType>, StoreError>;
    /// Add an organization; `None` when its external ID is taken.
    async fn add_organization(
        &self,
        unit: i64,
        org: &OrganizationRecord,
        now: &str,
    ) -> Result<Option<Organization>, StoreError>;
    /// Organizations whose external ID is `key`, or whose name is `key`
    /// (case ignored), or whose id is `key` when it is `#<id>`; oldest first.
    async fn find_organizations(&self, unit: i64, key: &str) -> Result<Vec<Organization>, StoreError>;
    /// Add a contact.
    async fn add_contact(&self, unit: i64, row: &ContactRow, now: &str) -> Result<Written, StoreError>;
    /// Add several contacts in one transaction, all or none: their ids in
    /// order, or `Err(i)` when row `i` has an external ID already taken
    /// (then nothing was written).
    async fn add_contacts(
        &self,
        unit: i64,
        rows: &[ContactRow],
        now: &str,
    ) -> Result<Result<Vec<i64>, usize>, StoreError>;
    /// Replace contact `id`'s record and links, adding its new external IDs.
    async fn update_contact(&self, unit: i64, id: i64, row: &ContactRow, now: &str) -> Result<Written, StoreError>;
    /// Contact `id`.
    async fn contact(&self, unit: i64, id: i64) -> Result<Option<Contact>, StoreError>;
    /// The contacts a search finds, oldest first, at most `limit`.
    async fn find_contacts(&self, unit: i64, search: &ContactSearch, limit: i64) -> Result<Vec<Contact>, StoreError>;
    /// Add a note to contact `contact`; `None` when there is no such contact.
    async fn add_note(
        &self,
        unit: i64,
        contact: i64,
        author: &str,
        text: &str,
        now: &str,
    ) -> Result<Option<Note>, StoreError>;
    /// Contact `contact`'s notes, oldest first.
    async fn notes(&self, unit: i64, contact: i64) -> Result<Vec<Note>, StoreError>;
    /// Erase contact `id`: the contact, its notes, phones, emails and
    /// external IDs. `false` when there is no such contact.
    async fn delete_contact(&self, unit: i64, id: i64) -> Result<bool, StoreError>;
}
