//! The outbound domain's stored things: skills, sources, user fields,
//! source maps, prospects with their destinations, and lead-source records.
//! These are the types the store traits take and return.

use super::fields::DataType;

/// An outbound skill: a dialing campaign's queue, created by the platform
/// or the CLI (never by scripts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skill {
    /// The skill number, unique in its unit.
    pub number: i64,
    /// Display name.
    pub name: String,
    /// `phone`, `sms` or `email`.
    pub channel: String,
    /// The most destinations a prospect of this skill keeps.
    pub max_destinations: u32,
    /// The brain script loads more prospects when fewer than this remain.
    pub threshold: i64,
    /// Time zones the skill may dial (IANA names; empty: all).
    pub allowed_zones: Vec<String>,
    /// Calling windows in local time, e.g. `Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00`.
    pub windows: String,
    /// Fields the skill's processing filters use: a source map may not
    /// remove or remap them.
    pub filter_fields: Vec<String>,
}

/// The calling windows a skill gets when none are given.
pub const DEFAULT_WINDOWS: &str = "Mon-Fri 08:00-21:00; Sat-Sun 10:00-18:00";
/// The destination cap a skill gets when none is given.
pub const DEFAULT_MAX_DESTINATIONS: u32 = 6;

impl Skill {
    /// A phone skill with the defaults.
    pub fn new(number: i64, name: impl Into<String>) -> Skill {
        Skill {
            number,
            name: name.into(),
            channel: "phone".into(),
            max_destinations: DEFAULT_MAX_DESTINATIONS,
            threshold: 0,
            allowed_zones: Vec::new(),
            windows: DEFAULT_WINDOWS.into(),
            filter_fields: Vec::new(),
        }
    }
}

/// A named lead list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Store id.
    pub id: i64,
    /// The name as created.
    pub name: String,
}

/// The longest source name.
pub const SOURCE_NAME_MAX_LEN: usize = 255;

/// A user (custom) field definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserField {
    /// Name, unique in the unit (case-insensitively).
    pub name: String,
    /// Its type.
    pub data_type: DataType,
    /// Applied to records that carry no value.
    pub default_value: Option<String>,
    /// A record without a value (and no default) is refused.
    pub value_required: bool,
    /// For phone fields: companion role (`CallerID`, `Compliance`,
    /// `Description`) → the user field that holds it.
    pub associations: Vec<(String, String)>,
}

/// One line of a source map: a system or user field, fed by a source-side
/// label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// The field's canonical name.
    pub field: String,
    /// The label of the source record member that feeds it.
    pub label: String,
}

/// A stored source map version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMap {
    /// 1 for the first map of a source, then 2, 3, ...
    pub version: i64,
    /// The entries, in the order the script gave them (phone destinations
    /// are tried in this order).
    pub entries: Vec<MapEntry>,
}

/// A destination ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct DestinationRow {
    /// The field it came from (`PhoneNumber`, `CellPhone`, ...).
    pub field: String,
    /// E.164 form, `+15551234567`.
    pub e164: String,
    /// The text as the source wrote it.
    pub raw: String,
    /// `geographic`, `toll-free`, `mobile`, ...
    pub kind: &'static str,
    /// The number's own zone (IANA), when its prefix determines one.
    pub time_zone: Option<String>,
    /// How that zone was found (`npa-nxx`, `npa`, `country`, `record`, ...).
    pub tz_source: String,
    /// Companion values (caller id, compliance, description) as a JSON object.
    pub companions: Option<String>,
}

/// A prospect ready to store (already mapped, validated and zoned).
#[derive(Clone, Debug, PartialEq)]
pub struct ProspectRow {
    /// Key within the source.
    pub external_id: String,
    /// Searchable copies of the name fields.
    pub first_name: Option<String>,
    /// Searchable copies of the name fields.
    pub last_name: Option<String>,
    /// The mapped system and user fields as a JSON object (field → text).
    pub fields: String,
    /// Expiration, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires_at: Option<String>,
    /// The record-level zone (IANA).
    pub time_zone: String,
    /// How it was found (`explicit`, `zip`, `npa-nxx`, `default`, ...).
    pub tz_source: String,
    /// Destinations in dialing order.
    pub destinations: Vec<DestinationRow>,
}

/// What saving one prospect did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Saved {
    /// The prospect's store id.
    pub id: i64,
    /// New (`true`) or replaced an existing one (`false`).
    pub created: bool,
}

/// A prospect as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredProspect {
    /// Store id.
    pub id: i64,
    /// Key within the source.
    pub external_id: String,
    /// The skill it belongs to.
    pub skill_no: i64,
    /// Mapped fields (JSON object text).
    pub fields: String,
    /// Expiration (UTC) if any.
    pub expires_at: Option<String>,
    /// Record zone.
    pub time_zone: String,
    /// Its provenance.
    pub tz_source: String,
    /// `active`, ...
    pub status: String,
    /// Destinations in dialing order.
    pub destinations: Vec<DestinationRow>,
}

/// GETPROSPECT criteria; all given ones must hold (an empty search returns
/// every prospect of the source).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// Exact external id.
    pub external_id: Option<String>,
    /// E.164 number of any destination.
    pub phone_e164: Option<String>,
    /// First and last name, compared without regard to case.
    pub name: Option<(String, String)>,
}

/// A record checked out of a lead source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lead {
    /// Store id (the `LeadID` scripts pass back at check-in).
    pub id: i64,
    /// The record's key in its lead source.
    pub key: String,
    /// Its fields, a JSON object text in source order.
    pub fields: String,
}

/// A lead to put into a lead source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLead {
    /// Key, unique within the lead source; importing the same key again
    /// replaces the record and makes it available again.
    pub key: String,
    /// JSON object text.
    pub fields: String,
}
