//! [`ContactsStore`] on SQLite and PostgreSQL: one query text per
//! operation (`$N` placeholders mean the same on both drivers, see
//! `store::sql`), and one implementation written once and expanded for
//! each backend's pool type ([`contacts_store!`]). The dialects differ only
//! in how a write transaction starts (SQLite takes its write lock up front
//! with `BEGIN IMMEDIATE`), how contacts are added in bulk, and where the
//! point lookups (a search, a contact by id, the default country) run: on
//! an SQLite file through the store's read connections
//! (`store::sqlite::read`), which spare each lookup two thread hand-offs.

use super::store::{ContactsStore, Written};
use crate::contacts::model::{ExternalId, name_key};
use crate::contacts::{
    Contact, ContactPhone, ContactRecord, ContactRow, ContactSearch, ContactType, CustomField, FieldKind, Note,
    OrgLink, Organization, OrganizationRecord,
};
use crate::store::StoreError;
use crate::store::sql::{Cols, Param, Param::Int, Param::OptInt, Param::Text, query, text};
use crate::store::sqlite::raw::Row;

/// The columns COPY writes into, for the PostgreSQL bulk paths (new
/// contacts, `bulk_pg.rs`; import batches, `import_write.rs`), in the order
/// their rows are written.
#[cfg(feature = "postgres")]
pub(super) const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "unit_id",
    "first_name",
    "last_name",
    "first_key",
    "last_key",
    "org_id",
    "record",
    "external_ids",
    "created_at",
    "modified_at",
];
#[cfg(feature = "postgres")]
pub(super) const PHONE_COLUMNS: &[&str] =
    &["unit_id", "contact_id", "field", "display", "e164", "extension", "sms_enabled"];
#[cfg(feature = "postgres")]
pub(super) const EMAIL_COLUMNS: &[&str] = &["unit_id", "contact_id", "field", "email", "email_key"];
#[cfg(feature = "postgres")]
pub(super) const EXTERNAL_ID_COLUMNS: &[&str] = &["unit_id", "contact_id", "source_id", "external_id", "created_at"];

pub(super) const COUNTRY: &str = "SELECT default_country FROM contacts_settings WHERE unit_id = $1";
const SET_COUNTRY: &str = "INSERT INTO contacts_settings (unit_id, default_country, modified_at) VALUES ($1, $2, $3)
     ON CONFLICT (unit_id) DO UPDATE SET default_country = excluded.default_country, modified_at = excluded.modified_at";
pub(super) const ADD_SOURCE: &str =
    "INSERT INTO external_sources (unit_id, name, name_key, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (unit_id, name_key) DO NOTHING RETURNING id";
pub(super) const SOURCE_ID: &str = "SELECT id FROM external_sources WHERE unit_id = $1 AND name_key = $2";
const SOURCES: &str = "SELECT name FROM external_sources WHERE unit_id = $1 ORDER BY id";
const ADD_TYPE: &str = "INSERT INTO contact_types (unit_id, name, name_key, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (unit_id, name_key) DO NOTHING RETURNING id";
const ADD_TYPE_FIELD: &str =
    "INSERT INTO contact_type_fields (unit_id, type_id, position, name, kind, allowed) VALUES ($1, $2, $3, $4, $5, $6)";
const TYPE: &str = "SELECT id, name FROM contact_types WHERE unit_id = $1 AND name_key = $2";
pub(super) const TYPE_FIELDS: &str =
    "SELECT name, kind, allowed FROM contact_type_fields WHERE unit_id = $1 AND type_id = $2 ORDER BY position";
pub(super) const ADD_ORG: &str =
    "INSERT INTO organizations (unit_id, name, name_key, external_id, record, created_at, modified_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (unit_id, external_id) DO NOTHING RETURNING id";
const FIND_ORGS: &str = "SELECT id, record, created_at FROM organizations
     WHERE unit_id = $1 AND (external_id = $2 OR name_key = $3 OR id = $4) ORDER BY created_at, id LIMIT 100";
pub(super) const ADD_CONTACT: &str =
    "INSERT INTO contacts (unit_id, first_name, last_name, first_key, last_key, org_id, record,
     external_ids, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id";
pub(super) const UPDATE_CONTACT: &str =
    "UPDATE contacts SET first_name = $2, last_name = $3, first_key = $4, last_key = $5,
     org_id = $6, record = $7, external_ids = $8, modified_at = $9 WHERE unit_id = $1 AND id = $10";
pub(super) const EXTERNAL_IDS_OF: &str = "SELECT external_ids FROM contacts WHERE unit_id = $1 AND id = $2";
pub(super) const SOURCE_NAME: &str = "SELECT name FROM external_sources WHERE unit_id = $1 AND id = $2";
pub(super) const ADD_PHONE: &str =
    "INSERT INTO contact_phones (unit_id, contact_id, field, display, e164, extension, sms_enabled)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(super) const ADD_EMAIL: &str =
    "INSERT INTO contact_emails (unit_id, contact_id, field, email, email_key) VALUES ($1, $2, $3, $4, $5)";
pub(super) const ADD_EXTERNAL_ID: &str =
    "INSERT INTO contact_external_ids (unit_id, contact_id, source_id, external_id, created_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (unit_id, source_id, external_id) DO NOTHING RETURNING id";
pub(super) const DROP_PHONES: &str = "DELETE FROM contact_phones WHERE unit_id = $1 AND contact_id = $2";
pub(super) const DROP_EMAILS: &str = "DELETE FROM contact_emails WHERE unit_id = $1 AND contact_id = $2";
const DROP_EXTERNAL_IDS: &str = "DELETE FROM contact_external_ids WHERE unit_id = $1 AND contact_id = $2";
const DROP_NOTES: &str = "DELETE FROM contact_notes WHERE unit_id = $1 AND contact_id = $2";
pub(super) const DROP_CONTACT: &str = "DELETE FROM contacts WHERE unit_id = $1 AND id = $2";
const ADD_NOTE: &str = "INSERT INTO contact_notes (unit_id, contact_id, author, text, created_at)
     SELECT $1, $2, $3, $4, $5 FROM contacts WHERE unit_id = $1 AND id = $2 RETURNING id";
const NOTES: &str = "SELECT id, contact_id, author, text, created_at FROM contact_notes
     WHERE unit_id = $1 AND contact_id = $2 ORDER BY created_at, id";

/// The columns every contact read selects, and its join. The limit goes
/// through a CAST: SQLite (since 3.46) reads a bare bound LIMIT as input to
/// the query plan and re-prepares the statement each time it is bound
/// again, which cost a tenth of a lookup.
macro_rules! contact_select {
    ($where:literal) => {
        concat!(
            "SELECT c.id, c.record, c.external_ids, c.created_at, c.modified_at, c.org_id, o.name, o.external_id
             FROM contacts c LEFT JOIN organizations o ON o.id = c.org_id WHERE c.unit_id = $1 AND ",
            $where,
            " ORDER BY c.created_at, c.id LIMIT CAST($3 AS BIGINT)"
        )
    };
}

const CONTACT: &str = contact_select!("c.id = $2");
/// A search through an index table `$from` (alias `x`, filtered by
/// `$where`): the planner starts from the index row, not from the unit's
/// contacts. DISTINCT: a contact with the same key in two fields is one
/// match.
macro_rules! contact_via {
    ($from:literal, $where:literal) => {
        concat!(
            "SELECT DISTINCT c.id, c.record, c.external_ids, c.created_at, c.modified_at, c.org_id, o.name, o.external_id
             FROM ",
            $from,
            " JOIN contacts c ON c.id = x.contact_id LEFT JOIN organizations o ON o.id = c.org_id
             WHERE x.unit_id = $1 AND c.unit_id = $1 AND ",
            $where,
            " ORDER BY c.created_at, c.id LIMIT CAST($3 AS BIGINT)"
        )
    };
}

const BY_EMAIL: &str = contact_via!("contact_emails x", "x.email_key = $2");
const BY_PHONE: &str = contact_via!("contact_phones x", "x.e164 = $2");
const BY_EXTERNAL_ID: &str = contact_via!("contact_external_ids x", "x.external_id = $2");
const BY_SOURCE_AND_ID: &str = contact_via!(
    "contact_external_ids x JOIN external_sources s ON s.id = x.source_id",
    "x.external_id = $2 AND s.name_key = $4"
);
const BY_LAST_NAME: &str = contact_select!("c.last_key = $2");
const BY_NAME: &str = contact_select!("c.last_key = $2 AND c.first_key = $4");

/// A contact row as selected by [`contact_select!`].
pub(super) type ContactCols = (i64, String, String, String, String, Option<i64>, Option<String>, Option<String>);

pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Query(format!("unreadable {what}: {e}"))
}

pub(super) fn contact_of(c: ContactCols) -> Result<Contact, StoreError> {
    let (id, record, ids, create_date, modify_date, org_id, org_name, org_external_id) = c;
    let organization =
        org_id.map(|id| OrgLink { id, name: org_name.unwrap_or_default(), external_id: org_external_id });
    contact_from(id, &record, &ids, create_date, modify_date, organization)
}

/// A contact row as [`contact_select!`] selects it, read on an SQLite read
/// connection (the JSON parsed where SQLite holds it, not copied first).
fn contact_of_row(row: &Row<'_>) -> Result<Contact, StoreError> {
    let organization = match row.opt_int(5) {
        Some(id) => Some(OrgLink {
            id,
            name: row.opt_text(6)?.unwrap_or_default().to_string(),
            external_id: row.opt_text(7)?.map(str::to_string),
        }),
        None => None,
    };
    let (created, modified) = (row.text(3)?.to_string(), row.text(4)?.to_string());
    contact_from(row.int(0), row.text(1)?, row.text(2)?, created, modified, organization)
}

fn contact_from(
    id: i64,
    record: &str,
    external_ids: &str,
    create_date: String,
    modify_date: String,
    organization: Option<OrgLink>,
) -> Result<Contact, StoreError> {
    let record: ContactRecord = serde_json::from_str(record).map_err(|e| corrupt("contact record", e))?;
    let external_ids: Vec<ExternalId> = serde_json::from_str(external_ids).map_err(|e| corrupt("external IDs", e))?;
    Ok(Contact { id, record, organization, external_ids, create_date, modify_date })
}

fn org_of((id, record, create_date): (i64, String, String)) -> Result<Organization, StoreError> {
    let record: OrganizationRecord = serde_json::from_str(&record).map_err(|e| corrupt("organization", e))?;
    Ok(Organization { id, record, create_date })
}

pub(super) fn field_of((name, kind, allowed): (String, String, String)) -> Result<CustomField, StoreError> {
    let values: Vec<String> = serde_json::from_str(&allowed).map_err(|e| corrupt("field values", e))?;
    let kind = FieldKind::from_parts(&kind, &values).ok_or_else(|| corrupt("field kind", &kind))?;
    Ok(CustomField { name, kind })
}

pub(super) fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Query(e.to_string()))
}

/// A contact's search keys: its first and last name as searched.
pub(super) fn name_keys(r: &ContactRecord) -> [String; 2] {
    [name_key(&r.first_name), name_key(&r.last_name)]
}

/// `$1` to `$9` of [`ADD_CONTACT`] and [`UPDATE_CONTACT`] (which adds the
/// contact's id as `$10`): the unit, the names and their `keys`, the
/// organization, the record and external IDs as JSON, and the time.
pub(super) fn contact_params<'a>(
    unit: i64,
    row: &'a ContactRow,
    keys: &'a [String; 2],
    record: &'a str,
    external_ids: &'a str,
    now: &'a str,
) -> [Param<'a>; 9] {
    let r = &row.record;
    let [first_key, last_key] = keys;
    [
        Int(unit),
        text(&r.first_name),
        text(&r.last_name),
        text(first_key),
        text(last_key),
        OptInt(row.org_id),
        text(record),
        text(external_ids),
        text(now),
    ]
}

/// The values of [`ADD_PHONE`] for phone `field` of contact `id`.
pub(super) fn phone_params<'a>(unit: i64, id: i64, field: &'a str, p: &'a ContactPhone) -> [Param<'a>; 7] {
    let sms = Int(i64::from(p.sms_enabled));
    [Int(unit), Int(id), text(field), text(&p.display), Text(p.e164.as_deref()), Text(p.extension.as_deref()), sms]
}

/// The values of [`ADD_EMAIL`] for email `field` (search key `key`) of
/// contact `id`.
pub(super) fn email_params<'a>(
    unit: i64,
    id: i64,
    row: &'a ContactRow,
    field: &'a str,
    key: &'a str,
) -> [Param<'a>; 5] {
    let address = row.record.emails.get(field).map(String::as_str).unwrap_or_default();
    [Int(unit), Int(id), text(field), text(address), text(key)]
}

/// The search query and its extra text parameter (`$4`).
fn search_sql(search: &ContactSearch) -> (&'static str, &str, Option<String>) {
    match search {
        ContactSearch::Email(k) => (BY_EMAIL, k, None),
        ContactSearch::Phone(e) => (BY_PHONE, e, None),
        ContactSearch::ExternalId { source: None, id } => (BY_EXTERNAL_ID, id, None),
        ContactSearch::ExternalId { source: Some(s), id } => (BY_SOURCE_AND_ID, id, Some(name_key(s))),
        ContactSearch::Name { first: None, last } => (BY_LAST_NAME, last, None),
        ContactSearch::Name { first: Some(f), last } => (BY_NAME, last, Some(f.clone())),
    }
}

/// The id an `INSERT ... RETURNING id` gave back; `None` when it inserted
/// nothing (the row was there already, or a note's contact was not).
fn new_id(row: Option<impl Cols>) -> Result<Option<i64>, StoreError> {
    row.map(|r| r.int("id")).transpose()
}

/// `ContactsStore` for a store type with a `pool()` of driver `$db`;
/// `$begin` opens a write transaction; `$add_contacts` writes new contacts
/// in bulk (on SQLite through its C API, see `bulk.rs`; on PostgreSQL
/// through COPY, see `bulk_pg.rs`); `$read` runs a
/// point lookup off the pool, or answers `None` to leave it to the pool
/// (see [`read_sqlite`]).
macro_rules! contacts_store {
    ($store:ty, $begin:expr, $add_contacts:path, $read:path) => {
        #[async_trait::async_trait]
        impl ContactsStore for $store {
            async fn default_country(&self, unit: i64) -> Result<String, StoreError> {
                let row = match $read(self, COUNTRY, &[Int(unit)], |r| Ok(r.text(0)?.to_string())).await? {
                    Some(found) => found.into_iter().next(),
                    None => {
                        let row: Option<(String,)> =
                            sqlx::query_as(COUNTRY).bind(unit).fetch_optional(self.pool()).await?;
                        row.map(|r| r.0)
                    }
                };
                Ok(row.unwrap_or_else(|| crate::contacts::phone::DEFAULT_COUNTRY.to_string()))
            }

            async fn set_default_country(&self, unit: i64, country: &str, now: &str) -> Result<(), StoreError> {
                sqlx::query(SET_COUNTRY).bind(unit).bind(country).bind(now).execute(self.pool()).await?;
                Ok(())
            }

            async fn add_source(&self, unit: i64, name: &str, now: &str) -> Result<Option<i64>, StoreError> {
                let key = name_key(name);
                let params = [Int(unit), text(name.trim()), text(&key), text(now)];
                new_id(query(ADD_SOURCE, &params).fetch_optional(self.pool()).await?)
            }

            async fn source_id(&self, unit: i64, name: &str) -> Result<Option<i64>, StoreError> {
                let row: Option<(i64,)> =
                    sqlx::query_as(SOURCE_ID).bind(unit).bind(name_key(name)).fetch_optional(self.pool()).await?;
                Ok(row.map(|r| r.0))
            }

            async fn sources(&self, unit: i64) -> Result<Vec<String>, StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(SOURCES).bind(unit).fetch_all(self.pool()).await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn add_contact_type(&self, unit: i64, t: &ContactType, now: &str) -> Result<bool, StoreError> {
                let begin: &str = $begin;
                let mut tx = self.pool().begin_with(begin).await?;
                let key = name_key(&t.name);
                let params = [Int(unit), text(&t.name), text(&key), text(now)];
                let Some(type_id) = new_id(query(ADD_TYPE, &params).fetch_optional(&mut *tx).await?)? else {
                    return Ok(false);
                };
                for (i, f) in t.fields.iter().enumerate() {
                    let allowed = match &f.kind {
                        FieldKind::List(v) => json(v)?,
                        _ => "[]".to_string(),
                    };
                    let params =
                        [Int(unit), Int(type_id), Int(i as i64), text(&f.name), text(f.kind.name()), text(&allowed)];
                    query(ADD_TYPE_FIELD, &params).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn contact_type(&self, unit: i64, name: &str) -> Result<Option<ContactType>, StoreError> {
                let row: Option<(i64, String)> =
                    sqlx::query_as(TYPE).bind(unit).bind(name_key(name)).fetch_optional(self.pool()).await?;
                let Some((id, name)) = row else { return Ok(None) };
                let rows: Vec<(String, String, String)> =
                    sqlx::query_as(TYPE_FIELDS).bind(unit).bind(id).fetch_all(self.pool()).await?;
                let fields = rows.into_iter().map(field_of).collect::<Result<Vec<_>, _>>()?;
                Ok(Some(ContactType { name, fields }))
            }

            async fn add_organization(
                &self,
                unit: i64,
                org: &OrganizationRecord,
                now: &str,
            ) -> Result<Option<Organization>, StoreError> {
                let (key, record) = (name_key(&org.name), json(org)?);
                let params = [
                    Int(unit),
                    text(&org.name),
                    text(&key),
                    Text(org.external_id.as_deref()),
                    text(&record),
                    text(now),
                ];
                let id = new_id(query(ADD_ORG, &params).fetch_optional(self.pool()).await?)?;
                Ok(id.map(|id| Organization { id, record: org.clone(), create_date: now.to_string() }))
            }

            async fn find_organizations(&self, unit: i64, key: &str) -> Result<Vec<Organization>, StoreError> {
                let id = key.trim().strip_prefix('#').and_then(|n| n.parse::<i64>().ok()).unwrap_or(-1);
                let rows: Vec<(i64, String, String)> = sqlx::query_as(FIND_ORGS)
                    .bind(unit)
                    .bind(key.trim())
                    .bind(name_key(key))
                    .bind(id)
                    .fetch_all(self.pool())
                    .await?;
                rows.into_iter().map(org_of).collect()
            }

            async fn add_contact(&self, unit: i64, row: &ContactRow, now: &str) -> Result<Written, StoreError> {
                Ok(match self.add_contacts(unit, std::slice::from_ref(row), now).await? {
                    Ok(ids) => Written::Done(ids[0]),
                    Err(_) => Written::DuplicateExternalId,
                })
            }

            async fn add_contacts(
                &self,
                unit: i64,
                rows: &[ContactRow],
                now: &str,
            ) -> Result<Result<Vec<i64>, usize>, StoreError> {
                $add_contacts(self, unit, rows, now).await
            }

            async fn update_contact(
                &self,
                unit: i64,
                id: i64,
                row: &ContactRow,
                now: &str,
            ) -> Result<Written, StoreError> {
                let begin: &str = $begin;
                let mut tx = self.pool().begin_with(begin).await?;
                let old: Option<(String,)> =
                    sqlx::query_as(EXTERNAL_IDS_OF).bind(unit).bind(id).fetch_optional(&mut *tx).await?;
                let Some((old,)) = old else { return Ok(Written::NotFound) };
                let old: Vec<ExternalId> = serde_json::from_str(&old).map_err(|e| corrupt("external IDs", e))?;
                for q in [DROP_PHONES, DROP_EMAILS] {
                    sqlx::query(q).bind(unit).bind(id).execute(&mut *tx).await?;
                }
                let written = write_links!(tx, unit, id, row, old, now, true);
                if written == Written::Done(id) {
                    tx.commit().await?;
                }
                Ok(written)
            }

            async fn contact(&self, unit: i64, id: i64) -> Result<Option<Contact>, StoreError> {
                if let Some(found) = $read(self, CONTACT, &[Int(unit), Int(id), Int(1)], contact_of_row).await? {
                    return Ok(found.into_iter().next());
                }
                let row: Option<ContactCols> =
                    sqlx::query_as(CONTACT).bind(unit).bind(id).bind(1i64).fetch_optional(self.pool()).await?;
                row.map(contact_of).transpose()
            }

            async fn find_contacts(
                &self,
                unit: i64,
                search: &ContactSearch,
                limit: i64,
            ) -> Result<Vec<Contact>, StoreError> {
                let (sql, key, extra) = search_sql(search);
                let mut values = vec![Int(unit), text(key), Int(limit)];
                values.extend(extra.as_deref().map(text));
                if let Some(found) = $read(self, sql, &values, contact_of_row).await? {
                    return Ok(found);
                }
                let mut q = sqlx::query_as::<_, ContactCols>(sql).bind(unit).bind(key).bind(limit);
                if let Some(extra) = extra {
                    q = q.bind(extra);
                }
                q.fetch_all(self.pool()).await?.into_iter().map(contact_of).collect()
            }

            async fn add_note(
                &self,
                unit: i64,
                contact: i64,
                author: &str,
                text: &str,
                now: &str,
            ) -> Result<Option<Note>, StoreError> {
                let params = [Int(unit), Int(contact), Text(Some(author)), Text(Some(text)), Text(Some(now))];
                let id = new_id(query(ADD_NOTE, &params).fetch_optional(self.pool()).await?)?;
                Ok(id.map(|id| Note {
                    id,
                    contact_id: contact,
                    author: author.to_string(),
                    text: text.to_string(),
                    create_date: now.to_string(),
                }))
            }

            async fn notes(&self, unit: i64, contact: i64) -> Result<Vec<Note>, StoreError> {
                let rows: Vec<(i64, i64, String, String, String)> =
                    sqlx::query_as(NOTES).bind(unit).bind(contact).fetch_all(self.pool()).await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, contact_id, author, text, create_date)| Note {
                        id,
                        contact_id,
                        author,
                        text,
                        create_date,
                    })
                    .collect())
            }

            async fn delete_contact(&self, unit: i64, id: i64) -> Result<bool, StoreError> {
                let begin: &str = $begin;
                let mut tx = self.pool().begin_with(begin).await?;
                for q in [DROP_NOTES, DROP_PHONES, DROP_EMAILS, DROP_EXTERNAL_IDS] {
                    sqlx::query(q).bind(unit).bind(id).execute(&mut *tx).await?;
                }
                let gone = sqlx::query(DROP_CONTACT).bind(unit).bind(id).execute(&mut *tx).await?.rows_affected();
                tx.commit().await?;
                Ok(gone > 0)
            }
        }
    };
}

/// Inside a contact write: the phones, emails and new external IDs of
/// `row` for contact `id`, then the contact's own columns (with the
/// external IDs it had, `old`, and the new ones; for a new contact
/// (`$always` false) only when it has new ones). Evaluates to the write's
/// [`Written`]; a taken external ID leaves the transaction uncommitted.
macro_rules! write_links {
    ($tx:ident, $unit:expr, $id:expr, $row:expr, $old:expr, $now:expr, $always:expr) => {{
        let (unit, id, row, now): (i64, i64, &ContactRow, &str) = ($unit, $id, $row, $now);
        let mut ids: Vec<ExternalId> = $old;
        let mut taken = false;
        for (source, external) in &row.new_external_ids {
            let added: Option<(i64,)> = sqlx::query_as(ADD_EXTERNAL_ID)
                .bind(unit)
                .bind(id)
                .bind(*source)
                .bind(external)
                .bind(now)
                .fetch_optional(&mut *$tx)
                .await?;
            if added.is_none() {
                taken = true;
                break;
            }
            let (name,): (String,) = sqlx::query_as(SOURCE_NAME).bind(unit).bind(*source).fetch_one(&mut *$tx).await?;
            ids.push(ExternalId { source: name, id: external.clone() });
        }
        if taken {
            Written::DuplicateExternalId
        } else {
            for (field, p) in &row.record.phones {
                query(ADD_PHONE, &phone_params(unit, id, field, p)).execute(&mut *$tx).await?;
            }
            for (field, key) in &row.email_keys {
                query(ADD_EMAIL, &email_params(unit, id, row, field, key)).execute(&mut *$tx).await?;
            }
            // A new contact's row already holds everything but new external IDs.
            if $always || !ids.is_empty() {
                let (keys, record, ids) = (name_keys(&row.record), json(&row.record)?, json(&ids)?);
                let mut params = contact_params(unit, row, &keys, &record, &ids, now).to_vec();
                params.push(Int(id));
                query(UPDATE_CONTACT, &params).execute(&mut *$tx).await?;
            }
            Written::Done(id)
        }
    }};
}

/// New contacts through sqlx, one statement per row, in one transaction:
/// small batches, and a batch COPY could not write because another writer
/// took one of its external IDs meanwhile (see `bulk_pg.rs`).
#[cfg(feature = "postgres")]
pub(super) async fn add_contacts_pg(
    store: &crate::store::PgStore,
    unit: i64,
    rows: &[ContactRow],
    now: &str,
) -> Result<Result<Vec<i64>, usize>, StoreError> {
    let mut tx = store.pool().begin().await?;
    let mut ids = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let (keys, record) = (name_keys(&row.record), json(&row.record)?);
        let added =
            query(ADD_CONTACT, &contact_params(unit, row, &keys, &record, "[]", now)).fetch_one(&mut *tx).await?;
        let id = added.int("id")?;
        if write_links!(tx, unit, id, row, Vec::new(), now, false) != Written::Done(id) {
            return Ok(Err(i));
        }
        ids.push(id);
    }
    tx.commit().await?;
    Ok(Ok(ids))
}

/// On an SQLite file, a point lookup through the store's read connections
/// (see `store::sqlite::read`): `None` when it has none (a memory
/// database) or leaves this read to the pool.
async fn read_sqlite<T>(
    store: &crate::store::SqliteStore,
    sql: &'static str,
    values: &[Param<'_>],
    row: fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<Vec<T>>, StoreError> {
    match store.readers() {
        Some(readers) => readers.read(sql, values, row).await,
        None => Ok(None),
    }
}

/// On PostgreSQL every lookup goes through the pool: its connections
/// answer over a socket the runtime's own threads wait on, with no worker
/// thread of the driver's to hand the query to.
#[cfg(feature = "postgres")]
async fn read_pg<T>(
    _: &crate::store::PgStore,
    _: &'static str,
    _: &[Param<'_>],
    _: fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<Vec<T>>, StoreError> {
    Ok(None)
}

contacts_store!(crate::store::SqliteStore, "BEGIN IMMEDIATE", super::bulk::add_contacts, read_sqlite);
#[cfg(feature = "postgres")]
contacts_store!(crate::store::PgStore, "BEGIN", super::bulk_pg::add_contacts, read_pg);
