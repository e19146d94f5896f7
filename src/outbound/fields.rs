//! The field vocabulary of prospects: the system fields every unit has, the
//! data types user fields may take, and how a value is checked against its
//! type and length.
//!
//! Field names are matched case-insensitively (`ExternalId` is
//! `ExternalID`); values are normalized to one canonical text per type so
//! that a stored prospect reads the same whatever the lead file wrote.

use crate::value::{parse_bool, parse_number};
use chrono::{NaiveDate, NaiveTime};

/// The data type of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataType {
    /// Free text.
    Text,
    /// A phone number: a destination the dialer may call or text.
    Phone,
    /// Yes/No.
    Boolean,
    /// A whole number.
    Integer,
    /// A number with a fraction.
    Decimal,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// A date and time.
    DateTime,
}

impl DataType {
    /// Read a type name as script authors write it (`string`, `int`,
    /// `DateTime`, ...), in any case.
    pub fn parse(name: &str) -> Option<DataType> {
        let n = name.trim().to_ascii_lowercase();
        Some(match n.as_str() {
            "text" | "string" => DataType::Text,
            "phone" | "phonenumber" | "phone number" => DataType::Phone,
            "boolean" | "bool" => DataType::Boolean,
            "integer" | "int" | "number" | "numeric" => DataType::Integer,
            "decimal" | "double" | "float" | "currency" => DataType::Decimal,
            "date" => DataType::Date,
            "time" => DataType::Time,
            "datetime" | "date time" | "date/time" => DataType::DateTime,
            _ => return None,
        })
    }

    /// The canonical name (stored, and shown by GETUSERFIELDS).
    pub fn name(self) -> &'static str {
        match self {
            DataType::Text => "Text",
            DataType::Phone => "Phone",
            DataType::Boolean => "Boolean",
            DataType::Integer => "Integer",
            DataType::Decimal => "Decimal",
            DataType::Date => "Date",
            DataType::Time => "Time",
            DataType::DateTime => "DateTime",
        }
    }

    /// Check `value` (already trimmed, not blank) and return its canonical
    /// text, or `None` when it does not fit the type. Phone values are
    /// checked by the destination rules instead and pass through here.
    pub fn normalize(self, value: &str) -> Option<String> {
        match self {
            DataType::Text | DataType::Phone => Some(value.to_string()),
            DataType::Boolean => {
                // Stricter than `parse_bool`: a lead file's "maybe" is an
                // error, not `true`.
                let known = ["true", "false", "yes", "no", "y", "n", "1", "0", "on", "off"];
                if !known.iter().any(|k| value.eq_ignore_ascii_case(k)) {
                    return None;
                }
                let b = if value.eq_ignore_ascii_case("y") { true } else { parse_bool(value).unwrap_or(false) };
                Some(if b { "true" } else { "false" }.to_string())
            }
            DataType::Integer => {
                let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                value.parse::<i64>().ok().map(|n| n.to_string())
            }
            DataType::Decimal => parse_number(value).map(crate::value::format_number),
            DataType::Date => crate::base::time::parse_datetime(value).map(|d| d.date().format("%Y-%m-%d").to_string()),
            DataType::Time => parse_time(value).map(|t| t.format("%H:%M:%S").to_string()),
            DataType::DateTime => {
                crate::base::time::parse_datetime(value).map(|d| crate::base::time::format_datetime(&d))
            }
        }
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    ["%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I:%M%p"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
}

/// Whether `s` reads as a calendar date (used for expiration checks).
pub fn is_date_only(s: &str) -> bool {
    ["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m-%d-%Y", "%d.%m.%Y"]
        .iter()
        .any(|f| NaiveDate::parse_from_str(s.trim(), f).is_ok())
}

/// A system field: present in every unit, never created by scripts.
#[derive(Clone, Copy, Debug)]
pub struct SystemField {
    /// Canonical spelling.
    pub name: &'static str,
    /// Its type.
    pub data_type: DataType,
    /// The longest value it takes, in characters (0: no text limit).
    pub max_len: usize,
}

const fn sf(name: &'static str, data_type: DataType, max_len: usize) -> SystemField {
    SystemField { name, data_type, max_len }
}

/// The system fields, in the product's order.
pub const SYSTEM_FIELDS: &[SystemField] = &[
    sf("ExternalID", DataType::Text, 100),
    sf("PhoneNumber", DataType::Phone, 40),
    sf("FirstName", DataType::Text, 100),
    sf("LastName", DataType::Text, 100),
    sf("Address", DataType::Text, 255),
    sf("City", DataType::Text, 100),
    sf("State", DataType::Text, 50),
    sf("Zip", DataType::Text, 20),
    sf("Country", DataType::Text, 50),
    sf("Latitude", DataType::Decimal, 40),
    sf("Longitude", DataType::Decimal, 40),
    sf("TimeZone", DataType::Text, 100),
    sf("ExpirationDate", DataType::Text, 40),
    sf("Priority", DataType::Integer, 20),
    sf("Score", DataType::Integer, 20),
    sf("CallerID", DataType::Text, 40),
    sf("ConfirmationRequired", DataType::Boolean, 10),
    sf("Compliance", DataType::Boolean, 10),
    sf("CallRequestDateTime", DataType::DateTime, 40),
    sf("CallRequestStaleMinutes", DataType::Integer, 20),
    sf("Notes", DataType::Text, 1000),
    sf("Agent", DataType::Text, 100),
    sf("SMSPhoneNumber", DataType::Phone, 40),
    sf("Email", DataType::Text, 255),
    sf("OverrideFinalizationStatuses", DataType::Text, 255),
];

/// The longest value a user field of type Text (or any user field) takes.
pub const USER_FIELD_MAX_LEN: usize = 255;
/// The longest user-field name.
pub const FIELD_NAME_MAX_LEN: usize = 100;
/// The longest default value of a user field (as the product documents).
pub const DEFAULT_VALUE_MAX_LEN: usize = 200;

/// The system field named `name` (any case).
pub fn system_field(name: &str) -> Option<&'static SystemField> {
    let n = name.trim();
    SYSTEM_FIELDS.iter().find(|f| f.name.eq_ignore_ascii_case(n))
}

/// The companion roles a phone user field may associate with other fields,
/// and the type each companion must have.
pub const COMPANION_ROLES: &[(&str, DataType)] =
    &[("CallerID", DataType::Phone), ("Compliance", DataType::Boolean), ("Description", DataType::Text)];

/// The canonical role name for `role` (any case).
pub fn companion_role(role: &str) -> Option<(&'static str, DataType)> {
    COMPANION_ROLES.iter().find(|(r, _)| r.eq_ignore_ascii_case(role.trim())).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_read_loosely() {
        assert_eq!(DataType::parse("String"), Some(DataType::Text));
        assert_eq!(DataType::parse(" int "), Some(DataType::Integer));
        assert_eq!(DataType::parse("DATETIME"), Some(DataType::DateTime));
        assert_eq!(DataType::parse("blob"), None);
    }

    #[test]
    fn values_are_normalized_or_refused() {
        assert_eq!(DataType::Boolean.normalize("Yes").as_deref(), Some("true"));
        assert_eq!(DataType::Boolean.normalize("n").as_deref(), Some("false"));
        assert_eq!(DataType::Boolean.normalize("maybe"), None);
        assert_eq!(DataType::Integer.normalize("+42").as_deref(), Some("42"));
        assert_eq!(DataType::Integer.normalize("4.2"), None);
        assert_eq!(DataType::Integer.normalize("99999999999999999999"), None);
        assert_eq!(DataType::Decimal.normalize("4.50").as_deref(), Some("4.5"));
        assert_eq!(DataType::Date.normalize("3/8/2026").as_deref(), Some("2026-03-08"));
        assert_eq!(DataType::Date.normalize("soon"), None);
        assert_eq!(DataType::Time.normalize("9:30 PM").as_deref(), Some("21:30:00"));
        assert_eq!(DataType::DateTime.normalize("2026-03-08T02:30:00").as_deref(), Some("2026-03-08 02:30:00"));
    }

    #[test]
    fn system_fields_match_any_case() {
        assert_eq!(system_field("externalid").map(|f| f.name), Some("ExternalID"));
        assert_eq!(system_field("smsphonenumber").map(|f| f.data_type), Some(DataType::Phone));
        assert!(system_field("MyCustomField").is_none());
        assert!(is_date_only("2026-12-31"));
        assert!(!is_date_only("2026-12-31 10:00"));
    }
}
