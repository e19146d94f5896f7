//! Contacts, organizations and notes as a store holds them: the record
//! with its id, dates and links, and the object scripts read.

use super::model::{ContactRecord, ExternalId, OrganizationRecord, search_keys};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

/// An organization as stored. Its fields stand in the order of its JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// The record.
    #[serde(flatten)]
    pub record: OrganizationRecord,
    /// The store id.
    pub id: i64,
    /// When it was created (RFC 3339).
    pub create_date: String,
}

impl Organization {
    /// The organization as JSON (the record's fields, `id`, `createDate`).
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The organization a contact links to: its id, name and external ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgLink {
    /// The store id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its external ID.
    pub external_id: Option<String>,
}

/// A contact as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// The store id.
    pub id: i64,
    /// The record.
    pub record: ContactRecord,
    /// Its organization.
    pub organization: Option<OrgLink>,
    /// Its identifiers in external sources, oldest first.
    pub external_ids: Vec<ExternalId>,
    /// When it was created (RFC 3339).
    pub create_date: String,
    /// When it last changed (RFC 3339).
    pub modify_date: String,
}

impl Contact {
    /// The contact as scripts and `--json` read it: `id`, `firstName`,
    /// `lastName`, ..., each email and phone under its field name
    /// (`workEmail` is text, `workPhone` an object with `display`, `e164`,
    /// `extension`, `flag`, `smsEnabled`), `externalOrganization`,
    /// `externalIds`, `createDate`, `modifyDate`.
    pub fn to_json(&self) -> Json {
        let r = &self.record;
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        o.insert("firstName".into(), json!(r.first_name));
        o.insert("lastName".into(), json!(r.last_name));
        for (k, v) in [("middleName", &r.middle_name), ("salutation", &r.salutation), ("title", &r.title)] {
            if let Some(v) = v {
                o.insert(k.into(), json!(v));
            }
        }
        for (k, e) in &r.emails {
            o.insert(k.clone(), json!(e));
        }
        for (k, p) in &r.phones {
            o.insert(k.clone(), serde_json::to_value(p).unwrap_or_default());
        }
        if let Some(a) = &r.address {
            o.insert("address".into(), serde_json::to_value(a).unwrap_or_default());
        }
        if let Some(u) = &r.external_system_url {
            o.insert("externalSystemUrl".into(), json!(u));
        }
        if !r.social_handles.is_empty() {
            o.insert("socialHandles".into(), json!(r.social_handles));
        }
        o.insert("surveyOptOut".into(), json!(r.survey_opt_out));
        if let Some(t) = &r.contact_type {
            o.insert("contactType".into(), json!(t));
            o.insert("customFields".into(), Json::Object(r.custom_fields.clone()));
        }
        if let Some(org) = &self.organization {
            o.insert(
                "externalOrganization".into(),
                json!({"id": org.id, "name": org.name, "externalId": org.external_id}),
            );
        }
        let ids: Vec<Json> = self.external_ids.iter().map(|x| json!({"source": x.source, "id": x.id})).collect();
        o.insert("externalIds".into(), Json::Array(ids));
        o.insert("createDate".into(), json!(self.create_date));
        o.insert("modifyDate".into(), json!(self.modify_date));
        Json::Object(o)
    }
}

/// A contact's note. Its fields stand in the order of its JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    /// The store id.
    pub id: i64,
    /// The contact's id.
    pub contact_id: i64,
    /// Who wrote it.
    pub author: String,
    /// The text.
    pub text: String,
    /// When (RFC 3339).
    pub create_date: String,
}

impl Note {
    /// The note as JSON (`id`, `contactId`, `author`, `text`, `createDate`).
    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// What a store writes for a new or changed contact: the record, its
/// names' keys, its search keys, its organization and its external IDs
/// (source id, identifier).
#[derive(Clone, Debug, PartialEq)]
pub struct ContactRow {
    /// The record.
    pub record: ContactRecord,
    /// The organization's store id.
    pub org_id: Option<i64>,
    /// `(field, email key)`.
    pub email_keys: Vec<(String, String)>,
    /// External IDs to add: `(source id, identifier)`.
    pub new_external_ids: Vec<(i64, String)>,
}

impl ContactRow {
    /// The row of `record`, linked to `org_id`, adding `new_external_ids`.
    pub fn new(record: ContactRecord, org_id: Option<i64>, new_external_ids: Vec<(i64, String)>) -> ContactRow {
        let (email_keys, _) = search_keys(&record);
        ContactRow { record, org_id, email_keys, new_external_ids }
    }
}
