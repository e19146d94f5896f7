//! The contact record and the organization record as the anchor product
//! names their fields, and the rules that turn what a script, the CLI or a
//! host gives into a stored record: required names, complete emails,
//! normalized phones, checked custom fields.
//!
//! A change is a JSON object of the fields it sets ([`apply_changes`]):
//! the fields it names change, the others stay; `null` or `""` clears an
//! optional field.

use super::email::{EmailError, check_email, email_key};
use super::phone::{PhoneRejected, normalize_phone};
use super::types::{ContactType, CustomFieldError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// The phone fields of a contact.
pub const PHONE_FIELDS: [&str; 4] = ["workPhone", "cellPhone", "homePhone", "otherPhone"];

/// The email fields of a contact.
pub const EMAIL_FIELDS: [&str; 3] = ["workEmail", "personalEmail", "otherEmail"];

/// The longest organization external ID, in characters.
pub const EXTERNAL_ID_MAX: usize = 255;

/// The longest text of any other field, in characters.
pub const TEXT_MAX: usize = 1000;

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    /// First line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    /// Second line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166 alpha-2 country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
}

/// A stored phone: as entered, its E.164 form when searchable, its
/// extension, why it is not searchable, and the SMS-enabled flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactPhone {
    /// The text as entered.
    pub display: String,
    /// E.164, when the number is valid (only these are searchable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e164: Option<String>,
    /// The extension, digits only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Why a kept value is not searchable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Whether the number takes SMS.
    #[serde(default)]
    pub sms_enabled: bool,
}

/// A contact's identifier in an external system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalId {
    /// The external source's name.
    pub source: String,
    /// The identifier there.
    pub id: String,
}

/// The contact record (what is stored besides the row's id, unit,
/// organization link and dates).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactRecord {
    /// Required.
    pub first_name: String,
    /// Required.
    pub last_name: String,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Salutation (`Dr.`, `Ms.`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salutation: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Emails by field name (`workEmail`, ...), as entered (trimmed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub emails: BTreeMap<String, String>,
    /// Phones by field name (`workPhone`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phones: BTreeMap<String, ContactPhone>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// A link to the contact in an external system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_system_url: Option<String>,
    /// Social handles by network (`twitter`, `facebook`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub social_handles: BTreeMap<String, String>,
    /// The contact asked not to be surveyed.
    #[serde(default)]
    pub survey_opt_out: bool,
    /// The contact type's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    /// Custom field values, checked against the contact type.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom_fields: Map<String, Json>,
}

/// Why a contact or organization is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// A required field is missing or blank.
    #[error("{0} is required")]
    MissingRequiredField(String),
    /// An email that is not complete.
    #[error("{field}: {error}")]
    IncompleteEmail {
        /// The field.
        field: String,
        /// Why.
        error: EmailError,
    },
    /// A phone refused outright (blank values clear; an extension alone is refused).
    #[error("{field}: {error}")]
    PhoneRejected {
        /// The field.
        field: String,
        /// Why.
        error: PhoneRejected,
    },
    /// A custom field value or name its contact type refuses.
    #[error(transparent)]
    CustomField(#[from] CustomFieldError),
    /// A field the record does not have.
    #[error("'{0}' is not a field (see docs/contacts.md)")]
    UnknownField(String),
    /// A value of the wrong JSON shape.
    #[error("{field} must be {expected}")]
    WrongShape {
        /// The field.
        field: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A text over its length limit.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field.
        field: String,
        /// The limit.
        max: usize,
    },
}

/// What a change does to the contact's organization link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgChange {
    /// Not named: the link stays.
    Keep,
    /// `null` or blank: the link goes.
    Clear,
    /// Link to the organization with this external ID or name (or `#id`).
    Set(String),
}

/// The text of an optional field: `None` for null or blank.
fn opt_text(field: &str, v: &Json) -> Result<Option<String>, Invalid> {
    let t = match v {
        Json::Null => return Ok(None),
        Json::String(s) => s.trim().to_string(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        _ => return Err(Invalid::WrongShape { field: field.into(), expected: "text" }),
    };
    if t.chars().count() > TEXT_MAX {
        return Err(Invalid::TooLong { field: field.into(), max: TEXT_MAX });
    }
    Ok((!t.is_empty()).then_some(t))
}

fn boolean(field: &str, v: &Json) -> Result<bool, Invalid> {
    match v {
        Json::Bool(b) => Ok(*b),
        Json::Null => Ok(false),
        Json::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Json::String(s) if s.trim().eq_ignore_ascii_case("false") || s.trim().is_empty() => Ok(false),
        _ => Err(Invalid::WrongShape { field: field.into(), expected: "true or false" }),
    }
}

/// A phone as given: text, or `{"display"|"number": text, "smsEnabled": bool}`.
pub fn phone_of(field: &str, v: &Json, default_country: &str) -> Result<Option<ContactPhone>, Invalid> {
    let (text, sms) = match v {
        Json::Object(o) => {
            let text = o.get("display").or_else(|| o.get("number")).unwrap_or(&Json::Null);
            let sms = o.get("smsEnabled").map(|s| boolean(&format!("{field}.smsEnabled"), s)).transpose()?;
            (opt_text(field, text)?, sms.unwrap_or(false))
        }
        other => (opt_text(field, other)?, false),
    };
    let Some(text) = text else { return Ok(None) };
    let p = normalize_phone(&text, default_country)
        .map_err(|error| Invalid::PhoneRejected { field: field.into(), error })?;
    Ok(Some(ContactPhone { display: p.text, e164: p.e164, extension: p.extension, flag: p.flag, sms_enabled: sms }))
}

fn email_of(field: &str, v: &Json) -> Result<Option<String>, Invalid> {
    match opt_text(field, v)? {
        None => Ok(None),
        Some(t) => check_email(&t).map(Some).map_err(|error| Invalid::IncompleteEmail { field: field.into(), error }),
    }
}

fn set(slot: &mut Option<String>, field: &str, v: &Json) -> Result<(), Invalid> {
    *slot = opt_text(field, v)?;
    Ok(())
}

/// Apply `changes` (field name → value, the anchor's names) to `base` (a
/// new contact when `None`), checking every rule. `contact_type` is the
/// type the result names (looked up by the caller: the change's
/// `contactType`, else the base's); `None` when it names none.
pub fn apply_changes(
    base: Option<&ContactRecord>,
    changes: &Map<String, Json>,
    contact_type: Option<&ContactType>,
    default_country: &str,
) -> Result<(ContactRecord, OrgChange), Invalid> {
    let mut c = base.cloned().unwrap_or_default();
    let mut org = OrgChange::Keep;
    for (key, v) in changes {
        match key.as_str() {
            "firstName" => c.first_name = opt_text(key, v)?.unwrap_or_default(),
            "lastName" => c.last_name = opt_text(key, v)?.unwrap_or_default(),
            "middleName" => set(&mut c.middle_name, key, v)?,
            "salutation" => set(&mut c.salutation, key, v)?,
            "title" => set(&mut c.title, key, v)?,
            "externalSystemUrl" => set(&mut c.external_system_url, key, v)?,
            "surveyOptOut" => c.survey_opt_out = boolean(key, v)?,
            "contactType" => set(&mut c.contact_type, key, v)?,
            k if EMAIL_FIELDS.contains(&k) => match email_of(k, v)? {
                Some(e) => _ = c.emails.insert(k.into(), e),
                None => _ = c.emails.remove(k),
            },
            k if PHONE_FIELDS.contains(&k) => match phone_of(k, v, default_country)? {
                Some(p) => _ = c.phones.insert(k.into(), p),
                None => _ = c.phones.remove(k),
            },
            "address" => {
                c.address = match v {
                    Json::Null => None,
                    other => Some(
                        serde_json::from_value::<Address>(other.clone())
                            .map_err(|_| Invalid::WrongShape { field: key.clone(), expected: "an address object" })?,
                    ),
                }
            }
            "socialHandles" => {
                let Json::Object(o) = v else {
                    return Err(Invalid::WrongShape { field: key.clone(), expected: "an object of handles" });
                };
                for (network, handle) in o {
                    match opt_text(&format!("socialHandles.{network}"), handle)? {
                        Some(h) => _ = c.social_handles.insert(network.clone(), h),
                        None => _ = c.social_handles.remove(network),
                    }
                }
            }
            "customFields" => {
                let Json::Object(o) = v else {
                    return Err(Invalid::WrongShape { field: key.clone(), expected: "an object of values" });
                };
                for (name, value) in o {
                    c.custom_fields.retain(|k, _| !k.eq_ignore_ascii_case(name));
                    if !(value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty())) {
                        c.custom_fields.insert(name.clone(), value.clone());
                    }
                }
            }
            "externalOrganization" => {
                org = match opt_text(key, v)? {
                    Some(r) => OrgChange::Set(r),
                    None => OrgChange::Clear,
                }
            }
            other => return Err(Invalid::UnknownField(other.to_string())),
        }
    }
    for (name, value) in [("firstName", &c.first_name), ("lastName", &c.last_name)] {
        if value.is_empty() {
            return Err(Invalid::MissingRequiredField(name.into()));
        }
    }
    c.custom_fields = match (contact_type, c.custom_fields.keys().next()) {
        (Some(t), _) => t.check(&c.custom_fields)?,
        (None, Some(name)) => return Err(CustomFieldError::NoContactType(name.clone()).into()),
        (None, None) => Map::new(),
    };
    Ok((c, org))
}

/// Search keys by field: `(field, key)` pairs.
pub type Keys = Vec<(String, String)>;

/// The search keys of a record: its emails' keys and its searchable
/// phones' E.164 forms, each with its field.
pub fn search_keys(c: &ContactRecord) -> (Keys, Keys) {
    let emails = c.emails.iter().map(|(k, e)| (k.clone(), email_key(e))).collect();
    let phones = c.phones.iter().filter_map(|(k, p)| p.e164.clone().map(|e| (k.clone(), e))).collect();
    (emails, phones)
}

/// The key names are compared by (trimmed, lowercased).
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// An organization record (besides its id and dates).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRecord {
    /// Required.
    pub name: String,
    /// At most [`EXTERNAL_ID_MAX`] characters; unique in the unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// Phones, normalized like a contact's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ContactPhone>,
    /// Web sites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub websites: Vec<String>,
}

fn list<'a>(field: &str, v: &'a Json) -> Result<Vec<&'a Json>, Invalid> {
    match v {
        Json::Null => Ok(Vec::new()),
        Json::Array(a) => Ok(a.iter().collect()),
        other @ Json::String(_) => Ok(vec![other]),
        _ => Err(Invalid::WrongShape { field: field.into(), expected: "a list" }),
    }
}

/// Check an organization given as an object (`name`, `externalId`,
/// `address`, `phones`, `websites`).
pub fn organization(given: &Map<String, Json>, default_country: &str) -> Result<OrganizationRecord, Invalid> {
    let mut o = OrganizationRecord::default();
    for (key, v) in given {
        match key.as_str() {
            "name" => o.name = opt_text(key, v)?.unwrap_or_default(),
            "externalId" => {
                let id = match v {
                    Json::String(s) => s.trim().to_string(),
                    Json::Number(n) => n.to_string(),
                    Json::Null => String::new(),
                    _ => return Err(Invalid::WrongShape { field: key.clone(), expected: "text" }),
                };
                if id.chars().count() > EXTERNAL_ID_MAX {
                    return Err(Invalid::TooLong { field: key.clone(), max: EXTERNAL_ID_MAX });
                }
                o.external_id = (!id.is_empty()).then_some(id);
            }
            "address" if !v.is_null() => {
                o.address = Some(
                    serde_json::from_value(v.clone())
                        .map_err(|_| Invalid::WrongShape { field: key.clone(), expected: "an address object" })?,
                )
            }
            "address" => o.address = None,
            "phones" => {
                for p in list(key, v)? {
                    o.phones.extend(phone_of(key, p, default_country)?);
                }
            }
            "websites" => {
                for w in list(key, v)? {
                    o.websites.extend(opt_text(key, w)?);
                }
            }
            other => return Err(Invalid::UnknownField(other.to_string())),
        }
    }
    if o.name.is_empty() {
        return Err(Invalid::MissingRequiredField("name".into()));
    }
    Ok(o)
}

/// How FINDCONTACT looks contacts up (one criterion at a time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactSearch {
    /// By email key ([`email_key`]).
    Email(String),
    /// By E.164 phone.
    Phone(String),
    /// By external ID, in one source or in any.
    ExternalId {
        /// The source's name, or any source.
        source: Option<String>,
        /// The identifier.
        id: String,
    },
    /// By last name and, when given, first name ([`name_key`]s).
    Name {
        /// First name key, optional.
        first: Option<String>,
        /// Last name key.
        last: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::types::CustomField;
    use serde_json::json;

    fn obj(v: Json) -> Map<String, Json> {
        v.as_object().cloned().expect("an object")
    }

    #[test]
    fn a_new_contact_needs_both_names_and_says_which_is_missing() {
        let e = apply_changes(None, &obj(json!({"firstName": "Ada"})), None, "US").expect_err("no last name");
        assert_eq!(e, Invalid::MissingRequiredField("lastName".into()));
        let e = apply_changes(None, &obj(json!({"lastName": "Lovelace", "firstName": " "})), None, "US").unwrap_err();
        assert_eq!(e, Invalid::MissingRequiredField("firstName".into()));
    }

    #[test]
    fn changes_touch_only_the_fields_they_name() {
        let given = json!({"firstName": "Ada", "lastName": "Lovelace", "title": "Countess",
            "workEmail": "Ada@Example.org", "cellPhone": {"display": "(212) 736-5000", "smsEnabled": true}});
        let (c, org) = apply_changes(None, &obj(given), None, "US").expect("valid");
        assert_eq!(org, OrgChange::Keep);
        assert_eq!(c.phones["cellPhone"].e164.as_deref(), Some("+12127365000"));
        assert!(c.phones["cellPhone"].sms_enabled);
        let (d, _) = apply_changes(Some(&c), &obj(json!({"title": null, "homePhone": "+1 212 736 5001"})), None, "US")
            .expect("valid");
        assert_eq!((d.title.clone(), d.first_name.as_str(), d.emails.len(), d.phones.len()), (None, "Ada", 1, 2));
        let (emails, phones) = search_keys(&d);
        assert_eq!(emails, [("workEmail".to_string(), "ada@example.org".to_string())]);
        assert_eq!(phones.len(), 2);
    }

    #[test]
    fn bad_emails_phones_fields_and_custom_values_are_refused_with_their_reason() {
        let base = json!({"firstName": "A", "lastName": "B"});
        let with = |k: &str, v: Json| {
            let mut m = obj(base.clone());
            m.insert(k.into(), v);
            apply_changes(None, &m, None, "US")
        };
        assert!(matches!(with("workEmail", json!("ada@")), Err(Invalid::IncompleteEmail { .. })));
        assert!(matches!(with("workPhone", json!("x123")), Err(Invalid::PhoneRejected { .. })));
        assert_eq!(with("shoeSize", json!(9)), Err(Invalid::UnknownField("shoeSize".into())));
        let e = with("customFields", json!({"tier": "gold"})).unwrap_err();
        assert!(matches!(e, Invalid::CustomField(CustomFieldError::NoContactType(_))), "{e}");
        let t = ContactType::new("T", vec![CustomField::parse("score:number").unwrap()]).unwrap();
        let mut m = obj(base);
        m.insert("customFields".into(), json!({"score": "lots"}));
        let e = apply_changes(None, &m, Some(&t), "US").unwrap_err();
        assert!(matches!(e, Invalid::CustomField(CustomFieldError::WrongKind { .. })), "{e}");
    }

    #[test]
    fn organizations_need_a_name_and_a_short_external_id() {
        let long = "x".repeat(EXTERNAL_ID_MAX + 1);
        let e = organization(&obj(json!({"name": "Acme", "externalId": long})), "US").unwrap_err();
        assert_eq!(e, Invalid::TooLong { field: "externalId".into(), max: EXTERNAL_ID_MAX });
        assert_eq!(
            organization(&obj(json!({"externalId": "A1"})), "US"),
            Err(Invalid::MissingRequiredField("name".into()))
        );
        let o = organization(&obj(json!({"name": "Acme", "phones": ["212-736-5000"], "websites": "acme.test"})), "US")
            .expect("valid");
        assert_eq!((o.phones.len(), o.websites.len()), (1, 1));
    }
}
