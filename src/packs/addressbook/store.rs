//! [`AddressBookStore`]: what the address-book pack reads and writes, per
//! business unit. The SQLite and PostgreSQL stores serve it (`sql.rs`); a
//! host may register its own (`RuntimeBuilder::domain_store`).

use crate::addressbook::{Recipient, Status, Statuses};
use crate::store::StoreError;
use async_trait::async_trait;
use serde_json::{Value as Json, json};

/// A recipient as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecipient {
    /// Its id in the store.
    pub id: i64,
    /// The 8 data fields.
    pub recipient: Recipient,
    /// Its statuses.
    pub statuses: Statuses,
    /// The import that last wrote it (`None` for one only ever added or
    /// edited by hand).
    pub import_name: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub modified_at: String,
}

impl StoredRecipient {
    /// As JSON: the 8 fields, `statuses` (a list of names), `expert`,
    /// `copy`, `transfer`, `importName`, `createdAt`, `modifiedAt`.
    pub fn to_json(&self) -> Json {
        let r = &self.recipient;
        json!({
            "civility": r.civility.as_str(), "firstName": r.first_name, "lastName": r.last_name,
            "email": r.email, "department": r.department, "phone": r.phone, "address": r.address,
            "city": r.city, "statuses": self.statuses.names(), "expert": self.statuses.expert,
            "copy": self.statuses.copy, "transfer": self.statuses.transfer,
            "importName": self.import_name, "createdAt": self.created_at, "modifiedAt": self.modified_at,
        })
    }
}

/// What one batch of an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchWritten {
    /// New recipients.
    pub created: u64,
    /// Lines that overwrote a recipient (one already stored, or an
    /// earlier line of the same file).
    pub updated: u64,
}

/// How an edit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edited {
    /// Done.
    Done,
    /// No recipient of that email in the unit.
    NotFound,
}

/// The address book of every business unit. Every method reads or writes
/// the unit it is given and nothing else; emails are matched with case
/// ignored.
#[async_trait]
pub trait AddressBookStore: Send + Sync + 'static {
    /// Write one batch of an import named `import`, in one transaction:
    /// each recipient in order is created (statuses Expert and Copy) or
    /// overwrites the recipient of its email (its 8 fields and the import's
    /// name; never its statuses).
    async fn write_batch(
        &self,
        unit: i64,
        import: &str,
        rows: &[Recipient],
        now: &str,
    ) -> Result<BatchWritten, StoreError>;
    /// Add one recipient with `statuses`; `false` when its email is taken.
    async fn add_recipient(&self, unit: i64, r: &Recipient, statuses: Statuses, now: &str) -> Result<bool, StoreError>;
    /// Replace the data of the recipient whose email is `r.email` (its
    /// statuses and import name stay).
    async fn edit_recipient(&self, unit: i64, r: &Recipient, now: &str) -> Result<Edited, StoreError>;
    /// Erase the recipient of `email`; `false` when there is none.
    async fn delete_recipient(&self, unit: i64, email: &str) -> Result<bool, StoreError>;
    /// The recipient of `email`.
    async fn recipient(&self, unit: i64, email: &str) -> Result<Option<StoredRecipient>, StoreError>;
    /// Up to `limit` recipients with `status` (any when `None`) whose email
    /// key sorts after `after`, by email key: a page of a listing.
    async fn recipients(
        &self,
        unit: i64,
        status: Option<Status>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<StoredRecipient>, StoreError>;
    /// Set the statuses of the recipient of `email`; `false` when there is
    /// none.
    async fn set_statuses(&self, unit: i64, email: &str, statuses: Statuses, now: &str) -> Result<bool, StoreError>;
}
