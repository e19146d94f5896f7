//! One address-book recipient and the rules a line of an import file must
//! keep (`contacts.md` §4): exactly 8 comma-separated fields in a fixed
//! order, a civility among `M.`, `Mme`, `Mlle`, an email (required, the
//! key), a phone of digits only, and a maximum length per field. A line
//! that breaks a rule is refused with a [`Reason`] whose code is stable
//! (logs, scripts and tests match on it).

use crate::contacts::email::{EMAIL_MAX, check_email, email_key};
use serde::Serialize;
use std::fmt;

/// The fields of a line, in file order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// `M.`, `Mme` or `Mlle`.
    Civility,
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// Email: required, the unique key.
    Email,
    /// Department (the seed's *Service*).
    Department,
    /// Phone: digits only.
    Phone,
    /// Postal address.
    Address,
    /// City.
    City,
}

impl Field {
    /// Every field, in file order.
    pub const ALL: [Field; 8] = [
        Field::Civility,
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::Department,
        Field::Phone,
        Field::Address,
        Field::City,
    ];

    /// The field's name as JSON and messages write it.
    pub fn name(self) -> &'static str {
        match self {
            Field::Civility => "civility",
            Field::FirstName => "firstName",
            Field::LastName => "lastName",
            Field::Email => "email",
            Field::Department => "department",
            Field::Phone => "phone",
            Field::Address => "address",
            Field::City => "city",
        }
    }

    /// The longest value, in characters (the seed's table). Civility's 3
    /// is the seed's, but its own `Mlle` has 4: civility is checked
    /// against its three values instead (see [`Civility`]).
    pub fn max_chars(self) -> usize {
        match self {
            Field::Civility => 3,
            Field::FirstName => 50,
            Field::LastName => 20,
            Field::Email => EMAIL_MAX,
            Field::Department => 50,
            Field::Phone => 20,
            Field::Address => 100,
            Field::City => 100,
        }
    }
}

/// How a recipient is addressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Civility {
    /// `M.`: the default when the field is blank.
    #[default]
    #[serde(rename = "M.")]
    Monsieur,
    /// `Mme`.
    #[serde(rename = "Mme")]
    Madame,
    /// `Mlle`.
    #[serde(rename = "Mlle")]
    Mademoiselle,
}

impl Civility {
    /// As written in files and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Civility::Monsieur => "M.",
            Civility::Madame => "Mme",
            Civility::Mademoiselle => "Mlle",
        }
    }

    /// The civility `text` names (trimmed, case ignored); blank is `M.`.
    pub fn parse(text: &str) -> Option<Civility> {
        let t = text.trim();
        if t.is_empty() {
            return Some(Civility::Monsieur);
        }
        [Civility::Monsieur, Civility::Madame, Civility::Mademoiselle]
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(t))
    }
}

impl fmt::Display for Civility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recipient's data: the 8 fields of a line, trimmed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// `M.`, `Mme` or `Mlle`.
    pub civility: Civility,
    /// First name (may be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
    /// The email as written; its [`Recipient::key`] is the unique key.
    pub email: String,
    /// Department (may be empty).
    pub department: String,
    /// Digits only (may be empty).
    pub phone: String,
    /// Postal address (may be empty).
    pub address: String,
    /// City (may be empty).
    pub city: String,
}

impl Recipient {
    /// The unique key: the email with case ignored.
    pub fn key(&self) -> String {
        email_key(&self.email)
    }

    /// The recipient as a line of the import layout (what `export`
    /// writes; it reads back as the same recipient).
    pub fn to_line(&self) -> String {
        [
            self.civility.as_str(),
            &self.first_name,
            &self.last_name,
            &self.email,
            &self.department,
            &self.phone,
            &self.address,
            &self.city,
        ]
        .join(",")
    }

    /// Check a recipient given field by field (the CLI's `add`, `edit`):
    /// the same rules as a line of a file.
    pub fn checked(self) -> Result<Recipient, Rejection> {
        let civility = self.civility.as_str().to_string();
        let fields = [
            civility.as_str(),
            &self.first_name,
            &self.last_name,
            &self.email,
            &self.department,
            &self.phone,
            &self.address,
            &self.city,
        ];
        check_fields(fields)
    }
}

/// Why a line is refused. [`Reason::code`] is stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// More or fewer than 8 fields (a comma inside a value makes one more;
    /// quotes do not protect it).
    FieldCount,
    /// The email field is blank.
    MissingEmail,
    /// The email is not `local@domain` (`contacts::email` rules).
    InvalidEmail,
    /// The civility is not `M.`, `Mme` or `Mlle`.
    InvalidCivility,
    /// The phone has a character other than a digit.
    InvalidPhone,
    /// A field is longer than its maximum.
    TooLong(Field),
    /// A field holds a control character (a tab, a NUL, ...), which no
    /// recipient's data has and PostgreSQL cannot store (NUL).
    ControlCharacter(Field),
    /// The line is longer than any valid line can be.
    LineTooLong,
}

impl Reason {
    /// The stable code logs and tests name the reason by.
    pub fn code(self) -> &'static str {
        match self {
            Reason::FieldCount => "field-count",
            Reason::MissingEmail => "missing-email",
            Reason::InvalidEmail => "invalid-email",
            Reason::InvalidCivility => "invalid-civility",
            Reason::InvalidPhone => "invalid-phone",
            Reason::TooLong(f) => match f {
                Field::Civility => "civility-too-long",
                Field::FirstName => "first-name-too-long",
                Field::LastName => "last-name-too-long",
                Field::Email => "email-too-long",
                Field::Department => "department-too-long",
                Field::Phone => "phone-too-long",
                Field::Address => "address-too-long",
                Field::City => "city-too-long",
            },
            Reason::ControlCharacter(_) => "control-character",
            Reason::LineTooLong => "line-too-long",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refused line's reason and what exactly is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejection {
    /// The rule broken.
    pub reason: Reason,
    /// For people: the field and the value's fault.
    pub detail: String,
}

fn refuse(reason: Reason, detail: impl Into<String>) -> Rejection {
    Rejection { reason, detail: detail.into() }
}

/// Read one line of an import file (without its line end) as a recipient.
pub fn parse_line(line: &str) -> Result<Recipient, Rejection> {
    let mut fields = [""; 8];
    let mut count = 0;
    for f in line.split(',') {
        if let Some(slot) = fields.get_mut(count) {
            *slot = f;
        }
        count += 1;
    }
    if count != 8 {
        let hint = if count > 8 { " (a comma inside a value makes one more field)" } else { "" };
        return Err(refuse(Reason::FieldCount, format!("{count} fields, expected 8{hint}")));
    }
    check_fields(fields)
}

/// The rules, in a fixed order so that a line breaking several is always
/// refused for the same one: control characters, civility, lengths, email,
/// phone.
fn check_fields(raw: [&str; 8]) -> Result<Recipient, Rejection> {
    let fields = raw.map(str::trim);
    for (field, value) in Field::ALL.into_iter().zip(fields) {
        if value.chars().any(char::is_control) {
            return Err(refuse(Reason::ControlCharacter(field), format!("{} holds a control character", field.name())));
        }
    }
    let [civility, first_name, last_name, email, department, phone, address, city] = fields;
    let civility = Civility::parse(civility)
        .ok_or_else(|| refuse(Reason::InvalidCivility, format!("civility '{civility}' is not M., Mme or Mlle")))?;
    for (field, value) in Field::ALL.into_iter().zip(fields).skip(1) {
        let n = value.chars().count();
        if n > field.max_chars() {
            return Err(refuse(
                Reason::TooLong(field),
                format!("{} has {n} characters, at most {}", field.name(), field.max_chars()),
            ));
        }
    }
    if email.is_empty() {
        return Err(refuse(Reason::MissingEmail, "the email is required"));
    }
    let email = check_email(email).map_err(|e| refuse(Reason::InvalidEmail, e.to_string()))?;
    if let Some(c) = phone.chars().find(|c| !c.is_ascii_digit()) {
        return Err(refuse(Reason::InvalidPhone, format!("phone '{phone}' has '{c}': digits only")));
    }
    Ok(Recipient {
        civility,
        first_name: first_name.to_string(),
        last_name: last_name.to_string(),
        email,
        department: department.to_string(),
        phone: phone.to_string(),
        address: address.to_string(),
        city: city.to_string(),
    })
}

/// A field name folded for header matching: lowercase, accents dropped,
/// only letters and digits.
fn folded(field: &str) -> String {
    field
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' | 'ä' => 'a',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            other => other,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The names each column goes by in the French and English headers.
const HEADER_NAMES: [&[&str]; 8] = [
    &["civilite", "civil", "civ", "civility", "title", "salutation"],
    &["prenom", "firstname"],
    &["nom", "lastname", "surname"],
    &["email", "mail", "courriel", "emailaddress"],
    &["service", "department", "dept"],
    &["telephone", "tel", "phone", "phonenumber"],
    &["adresse", "address"],
    &["ville", "city"],
];

/// Whether `line` is the French or English header row (`Civilité,Prénom,
/// Nom,E-mail,Service,Téléphone,Adresse,Ville` or `Civility,First name,
/// Last name,Email,Department,Phone,Address,City`; case, accents, spaces
/// and hyphens ignored). No data line can be one: `E-mail` is no email.
pub fn is_header(line: &str) -> bool {
    let fields: Vec<&str> = line.split(',').collect();
    fields.len() == 8 && fields.iter().zip(HEADER_NAMES).all(|(f, names)| names.contains(&folded(f).as_str()))
}

/// The statuses a recipient can be reached under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Consulted before answering a customer.
    Expert,
    /// Put in copy of a case.
    Copy,
    /// Handed a case to finish.
    Transfer,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 3] = [Status::Expert, Status::Copy, Status::Transfer];

    /// The status's name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Expert => "Expert",
            Status::Copy => "Copy",
            Status::Transfer => "Transfer",
        }
    }

    /// The status `text` names: English or the seed's French (`Copie`,
    /// `Transfert`), case ignored.
    pub fn parse(text: &str) -> Result<Status, StatusError> {
        match text.trim().to_lowercase().as_str() {
            "expert" => Ok(Status::Expert),
            "copy" | "copie" => Ok(Status::Copy),
            "transfer" | "transfert" => Ok(Status::Transfer),
            _ => Err(StatusError(text.trim().to_string())),
        }
    }
}

/// A word that names no status.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown status '{0}' (statuses: Expert, Copy, Transfer)")]
pub struct StatusError(pub String);

/// Which statuses a recipient has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Statuses {
    /// Expert.
    pub expert: bool,
    /// Copy.
    pub copy: bool,
    /// Transfer.
    pub transfer: bool,
}

impl Statuses {
    /// A new recipient's: Expert and Copy.
    pub const NEW: Statuses = Statuses { expert: true, copy: true, transfer: false };

    /// Whether `s` is set.
    pub fn has(self, s: Status) -> bool {
        match s {
            Status::Expert => self.expert,
            Status::Copy => self.copy,
            Status::Transfer => self.transfer,
        }
    }

    /// A comma-separated list of statuses (`Expert,Copy`); blank or
    /// `none` is none of them.
    pub fn parse(text: &str) -> Result<Statuses, StatusError> {
        let mut s = Statuses::default();
        let t = text.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("none") {
            return Ok(s);
        }
        for word in t.split(',') {
            match Status::parse(word)? {
                Status::Expert => s.expert = true,
                Status::Copy => s.copy = true,
                Status::Transfer => s.transfer = true,
            }
        }
        Ok(s)
    }

    /// The names of the statuses set, in order.
    pub fn names(self) -> Vec<&'static str> {
        Status::ALL.into_iter().filter(|s| self.has(*s)).map(Status::name).collect()
    }
}

impl fmt::Display for Statuses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        f.write_str(if names.is_empty() { "none" } else { "" })?;
        f.write_str(&names.join(","))
    }
}

/// An import name that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportNameError {
    /// Blank.
    #[error("the import's name is blank")]
    Blank,
    /// It has a space or another blank (the seed: "sans espace").
    #[error("the import's name '{0}' has a space: give a name without spaces")]
    Space(String),
    /// A control character, or longer than [`IMPORT_NAME_MAX`].
    #[error("the import's name must be 1 to {IMPORT_NAME_MAX} characters without control characters")]
    Unusable,
}

/// The longest import name, in characters.
pub const IMPORT_NAME_MAX: usize = 100;

/// An import's name as stored: without spaces (refused otherwise; leading
/// and trailing blanks too, rather than quietly trimmed).
pub fn import_name(name: &str) -> Result<String, ImportNameError> {
    if name.is_empty() {
        return Err(ImportNameError::Blank);
    }
    if name.chars().any(char::is_whitespace) {
        return Err(if name.trim().is_empty() { ImportNameError::Blank } else { ImportNameError::Space(name.into()) });
    }
    if name.chars().count() > IMPORT_NAME_MAX || name.chars().any(char::is_control) {
        return Err(ImportNameError::Unusable);
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(fields: [&str; 8]) -> String {
        fields.join(",")
    }

    fn reason(l: &str) -> &'static str {
        parse_line(l).expect_err(l).reason.code()
    }

    const OK: [&str; 8] =
        ["Mme", "Ada", "Lovelace", "Ada@Example.org", "Analyse", "0110203040", "12 rue des Lilas", "Paris"];

    #[test]
    fn a_full_line_reads_as_written_and_trimmed() {
        let r = parse_line(&line(OK.map(|f| if f == "Ada" { " Ada " } else { f }))).expect("valid");
        assert_eq!(r.civility, Civility::Madame);
        assert_eq!((r.first_name.as_str(), r.email.as_str()), ("Ada", "Ada@Example.org"));
        assert_eq!(r.key(), "ada@example.org");
        assert_eq!(parse_line(&r.to_line()), Ok(r));
    }

    #[test]
    fn each_civility_and_the_default() {
        for (given, want) in [("M.", "M."), ("Mme", "Mme"), ("Mlle", "Mlle"), ("", "M."), ("mme", "Mme")] {
            let mut f = OK;
            f[0] = given;
            assert_eq!(parse_line(&line(f)).expect(given).civility.as_str(), want);
        }
        for bad in ["Mr", "M", "Madame", "Dr."] {
            let mut f = OK;
            f[0] = bad;
            assert_eq!(reason(&line(f)), "invalid-civility", "{bad}");
        }
    }

    /// A complete email of `n` characters (domain labels stay under 64).
    fn email_of(n: usize) -> String {
        let mut s = "a".repeat(60) + "@";
        while n - s.len() > 53 {
            s.push_str(&"b".repeat(49));
            s.push('.');
        }
        let rest = n - s.len() - 3;
        s.push_str(&"c".repeat(rest));
        s + ".fr"
    }

    #[test]
    fn each_maximum_length_at_the_limit_and_one_over() {
        for (i, field) in Field::ALL.into_iter().enumerate().skip(1) {
            let max = field.max_chars();
            let value = |n: usize| match field {
                Field::Email => email_of(n),
                Field::Phone => "1".repeat(n),
                _ => "é".repeat(n),
            };
            let (at, over) = (value(max), value(max + 1));
            let mut f = OK;
            f[i] = &at;
            assert!(parse_line(&line(f)).is_ok(), "{} at {max}", field.name());
            f[i] = &over;
            assert_eq!(reason(&line(f)), Reason::TooLong(field).code(), "{} at {}", field.name(), max + 1);
        }
    }

    #[test]
    fn the_email_is_required_and_must_be_complete() {
        let mut f = OK;
        f[3] = " ";
        assert_eq!(reason(&line(f)), "missing-email");
        f[3] = "ada@localhost";
        assert_eq!(reason(&line(f)), "invalid-email");
    }

    #[test]
    fn phones_are_digits_only() {
        for good in ["0110203040", "0033110203040", ""] {
            let mut f = OK;
            f[5] = good;
            assert_eq!(parse_line(&line(f)).expect(good).phone, good);
        }
        for bad in ["01102O3040", "+33110203040", "01 10 20 30 40", "01.10.20.30.40", "١٢٣"] {
            let mut f = OK;
            f[5] = bad;
            assert_eq!(reason(&line(f)), "invalid-phone", "{bad}");
        }
    }

    #[test]
    fn exactly_eight_fields_and_quotes_do_not_hide_a_comma() {
        assert_eq!(reason(&format!("{},extra", line(OK))), "field-count");
        assert_eq!(reason("Mme,Ada,Lovelace,ada@example.org,Analyse,0110203040,Paris"), "field-count");
        assert_eq!(reason("Mme,Ada,\"Love,lace\",ada@example.org,Analyse,0110203040,rue,Paris"), "field-count");
        assert_eq!(reason(""), "field-count");
        let detail = parse_line(&format!("{},x", line(OK))).expect_err("9").detail;
        assert!(detail.contains("9 fields"), "{detail}");
    }

    #[test]
    fn control_characters_are_refused() {
        let mut f = OK;
        f[7] = "Pa\0ris";
        assert_eq!(reason(&line(f)), "control-character");
    }

    #[test]
    fn the_french_and_english_headers_are_recognised() {
        assert!(is_header("Civilité,Prénom,Nom,E-mail,Service,Téléphone,Adresse,Ville"));
        assert!(is_header("Civility,First name,Last name,Email,Department,Phone,Address,City"));
        assert!(is_header("CIVILITE,PRENOM,NOM,EMAIL,SERVICE,TELEPHONE,ADRESSE,VILLE"));
        assert!(!is_header(&line(OK)));
        assert!(!is_header("Civilité,Prénom,Nom,E-mail,Service,Téléphone,Adresse"));
    }

    #[test]
    fn statuses_parse_and_print() {
        assert_eq!(Statuses::parse("Expert,Copy"), Ok(Statuses::NEW));
        assert_eq!(Statuses::parse("transfert"), Ok(Statuses { transfer: true, ..Statuses::default() }));
        assert_eq!(Statuses::parse(""), Ok(Statuses::default()));
        assert!(Statuses::parse("Expert,Boss").is_err());
        assert_eq!(Statuses::NEW.to_string(), "Expert,Copy");
        assert_eq!(Statuses::default().to_string(), "none");
    }

    #[test]
    fn import_names_have_no_spaces() {
        assert_eq!(import_name("march-2026"), Ok("march-2026".into()));
        assert!(matches!(import_name("march 2026"), Err(ImportNameError::Space(_))));
        assert_eq!(import_name(""), Err(ImportNameError::Blank));
        assert_eq!(import_name(" "), Err(ImportNameError::Blank));
        assert!(matches!(import_name(" lead"), Err(ImportNameError::Space(_))));
        assert_eq!(import_name(&"x".repeat(101)), Err(ImportNameError::Unusable));
    }
}
