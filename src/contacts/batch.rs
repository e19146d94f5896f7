//! One batch of a bulk import, planned in memory (`contacts.md` §3): each
//! row, in file order, is matched against the contacts its identifiers
//! find (those the store held when the batch began, and those earlier rows
//! of the batch created or changed), then created, updated or merged. The
//! plan is what the store writes in one transaction with the job's
//! progress, so a batch is written whole or not at all, and the store is
//! read once per batch instead of once per row.
//!
//! Identifiers are tried in the profile's order; the first that finds
//! contacts decides. Contacts rank oldest first (creation date, then id;
//! contacts this batch creates rank after every stored one, in file
//! order). *Merge all* folds every contact the identifier found into the
//! oldest ([`merge_ranked`]), then applies the row; *update first* applies
//! the row to the oldest alone. No match creates a contact, which then
//! needs both names.

pub use super::import::{MergeMode, OrgRef};
use super::import::{Reason, lay_over};
use super::merge::merge_ranked;
use super::model::{ContactRecord, ExternalId, Invalid, OrgChange, apply_changes, name_key, search_keys};
use super::stored::{Contact, OrgLink};
use super::types::ContactType;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap};

/// An identifier a row is matched by, normalized.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchKey {
    /// An external ID in the job's external source.
    ExternalId(String),
    /// An email key (`email::email_key`), whatever field holds it.
    Email(String),
    /// An E.164 phone, whatever field holds it.
    Phone(String),
}

/// One row, read and checked: its file line, its identifiers in the
/// profile's order (blank ones left out), its field changes and the
/// organization it names.
#[derive(Clone, Debug, PartialEq)]
pub struct RowInput {
    /// The file line the row starts on.
    pub line: u64,
    /// Identifiers in match order.
    pub keys: Vec<MatchKey>,
    /// The row's fields as changes ([`apply_changes`]; address parts are
    /// laid over the matched contact's address, [`lay_over`]); blank cells
    /// are not in it unless the profile makes blanks clear. `None`: the row
    /// names only an organization, which it creates or renames.
    pub changes: Option<Map<String, Json>>,
    /// The organization the row links the contact to.
    pub organization: Option<OrgRef>,
    /// The row's external ID in the job's source (kept on the contact).
    pub external_id: Option<String>,
}

/// What the store held when the batch began: the contacts any row's
/// identifier finds (with their external IDs in the job's source), the
/// organizations any row names by external ID, and the unit's contact
/// types and default country.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    /// The contacts found, each with its external IDs.
    pub contacts: Vec<Contact>,
    /// Organizations by external ID: `(id, name)`.
    pub organizations: HashMap<String, (i64, String)>,
    /// Contact types by lowercased name.
    pub types: HashMap<String, ContactType>,
    /// The country of phones written without a country code.
    pub default_country: String,
}

/// How a row ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RowOutcome {
    /// A new contact (its batch-local id, negative).
    Created(i64),
    /// An existing or batch-created contact changed; how many others were
    /// merged into it.
    Updated {
        /// The contact (negative: created earlier in this batch).
        id: i64,
        /// Contacts merged away into it.
        merged: usize,
    },
    /// Not imported: a field the contact rules refuse.
    Rejected(Invalid),
    /// Not imported: the row names a contact type the unit does not have.
    UnknownContactType(String),
    /// Not imported: the row's external ID names another contact (one the
    /// row's identifiers did not match).
    ExternalIdTaken(String),
    /// Not imported: the row names an organization by an external ID alone
    /// and no organization has it.
    OrganizationNotFound(String),
    /// Not imported: the row holds neither contact values nor an
    /// organization.
    Empty,
    /// An organization-only row: the organization it created (`created`)
    /// or renamed.
    Organization {
        /// The organization (negative: created by this batch).
        id: i64,
        /// Whether this row created it.
        created: bool,
    },
}

impl RowOutcome {
    /// Why the row is not imported, with a sentence; `None` when it is.
    pub fn refusal(&self) -> Option<(Reason, String)> {
        Some(match self {
            RowOutcome::Created(_) | RowOutcome::Updated { .. } | RowOutcome::Organization { .. } => return None,
            RowOutcome::Rejected(e) => (reason_of(e), e.to_string()),
            RowOutcome::Empty => (Reason::NothingToImport, "the row holds no value to import".into()),
            RowOutcome::UnknownContactType(t) => (Reason::UnknownContactType, format!("no contact type named '{t}'")),
            RowOutcome::ExternalIdTaken(x) => {
                (Reason::ExternalIdTaken, format!("the external ID '{x}' belongs to another contact"))
            }
            RowOutcome::OrganizationNotFound(x) => (
                Reason::OrganizationNotFound,
                format!("no organization has the external ID '{x}' and the row gives no name to create it"),
            ),
        })
    }
}

/// What the store writes for a batch. Ids below zero name what the batch
/// creates: contacts `-1, -2, ...` and organizations likewise, each in
/// creation order; the store maps them to the ids it assigns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Each row's outcome, in file order, with its line.
    pub outcomes: Vec<(u64, RowOutcome)>,
    /// Organizations to create: `(batch id, external ID, name)`.
    pub new_organizations: Vec<(i64, String, String)>,
    /// Organizations whose name a row changed: `(id, new name)`.
    pub renamed_organizations: Vec<(i64, String)>,
    /// Contacts to create or rewrite, final state, by id (negative: new).
    pub contacts: BTreeMap<i64, Planned>,
    /// Contacts merged away: `(gone, survivor)`; their notes and external
    /// IDs move to the survivor, then they are erased.
    pub merged_away: Vec<(i64, i64)>,
}

/// A contact's final state in a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    /// The record.
    pub record: ContactRecord,
    /// Its organization (negative: created by this batch).
    pub org_id: Option<i64>,
    /// External IDs in the job's source that the store does not hold yet.
    pub new_external_ids: Vec<String>,
}

/// The import's reason for a refused field ([`Reason`]); refusals the row
/// checks already turn away (unknown fields, wrong shapes) are
/// `invalid_value`.
pub fn reason_of(e: &Invalid) -> Reason {
    match e {
        Invalid::MissingRequiredField(f) if f == "firstName" => Reason::MissingFirstName,
        Invalid::MissingRequiredField(f) if f == "lastName" => Reason::MissingLastName,
        Invalid::IncompleteEmail { .. } => Reason::IncompleteEmail,
        Invalid::PhoneRejected { .. } => Reason::UnparseablePhone,
        Invalid::CustomField(_) => Reason::InvalidCustomField,
        Invalid::TooLong { .. } => Reason::FieldTooLong,
        Invalid::MissingRequiredField(_) | Invalid::UnknownField(_) | Invalid::WrongShape { .. } => {
            Reason::InvalidValue
        }
    }
}

/// The working set: every contact the batch can see, and where each
/// identifier points.
struct Working {
    contacts: HashMap<i64, Contact>,
    /// Identifier → contact ids, kept ranked.
    index: HashMap<MatchKey, Vec<i64>>,
    /// Each contact's identifiers, to unindex it in one step.
    keys_of: HashMap<i64, Vec<MatchKey>>,
    /// Rank of each contact: stored ones by (creation date, id), then the
    /// batch's own in creation order.
    rank: HashMap<i64, (u8, String, i64)>,
    next_contact: i64,
    next_org: i64,
}

/// Plan `rows` against `stored`, external IDs kept in source `source`.
pub fn plan(rows: &[RowInput], stored: Stored, source: &str, mode: MergeMode) -> Plan {
    let mut w = Working::new(stored.contacts, source);
    let mut orgs = stored.organizations;
    let mut plan = Plan::default();
    for row in rows {
        let outcome = plan_row(&mut w, &mut orgs, &mut plan, row, &stored.types, &stored.default_country, source, mode);
        plan.outcomes.push((row.line, outcome));
    }
    plan
}

#[allow(clippy::too_many_arguments)]
fn plan_row(
    w: &mut Working,
    orgs: &mut HashMap<String, (i64, String)>,
    plan: &mut Plan,
    row: &RowInput,
    types: &HashMap<String, ContactType>,
    country: &str,
    source: &str,
    mode: MergeMode,
) -> RowOutcome {
    if let Some(o) = &row.organization
        && o.name.as_deref().is_none_or(|n| n.trim().is_empty())
        && !orgs.contains_key(&o.external_id)
    {
        return RowOutcome::OrganizationNotFound(o.external_id.clone());
    }
    let Some(changes) = &row.changes else {
        return match &row.organization {
            Some(o) => {
                let before = plan.new_organizations.len();
                let id = link(orgs, plan, &mut w.next_org, o).id;
                RowOutcome::Organization { id, created: plan.new_organizations.len() > before }
            }
            None => RowOutcome::Empty,
        };
    };
    let found = row.keys.iter().map(|k| w.find(k)).find(|ids| !ids.is_empty()).unwrap_or_default();
    let (base, gone) = match (found.as_slice(), mode) {
        ([], _) => (None, Vec::new()),
        ([first, ..], MergeMode::UpdateFirst) => (w.contacts.get(first).cloned(), Vec::new()),
        (all, MergeMode::MergeAll) => {
            let ranked: Vec<Contact> = all.iter().filter_map(|id| w.contacts.get(id).cloned()).collect();
            match merge_ranked(&ranked) {
                Some((survivor, gone)) => (Some(survivor), gone),
                None => (None, Vec::new()),
            }
        }
    };
    if let Some(x) = &row.external_id {
        let owners = w.find(&MatchKey::ExternalId(x.clone()));
        let target = base.as_ref().map(|c| c.id);
        if owners.iter().any(|o| Some(*o) != target && !gone.contains(o)) {
            return RowOutcome::ExternalIdTaken(x.clone());
        }
    }
    let changes = lay_over(changes, base.as_ref().map(|c| &c.record));
    let type_name = match changes.get("contactType") {
        Some(Json::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(_) => None,
        None => base.as_ref().and_then(|c| c.record.contact_type.clone()),
    };
    let contact_type = type_name.as_deref().and_then(|t| types.get(&t.to_lowercase()));
    if let Some(name) = type_name.filter(|_| contact_type.is_none()) {
        return RowOutcome::UnknownContactType(name);
    }
    // An import links organizations through `organization`, by external ID.
    let (record, org_change) = match apply_changes(base.as_ref().map(|c| &c.record), &changes, contact_type, country) {
        Ok(done) => done,
        Err(e) => return RowOutcome::Rejected(e),
    };
    let mut contact = base.unwrap_or_else(|| w.new_contact());
    contact.record = record;
    contact.record.contact_type = contact_type.map(|t| t.name.clone());
    if let OrgChange::Clear = org_change {
        contact.organization = None;
    }
    if let Some(o) = &row.organization {
        contact.organization = Some(link(orgs, plan, &mut w.next_org, o));
    }
    if let Some(id) = &row.external_id
        && !contact.external_ids.iter().any(|e| e.id == *id && name_key(&e.source) == name_key(source))
    {
        contact.external_ids.push(ExternalId { source: source.to_string(), id: id.clone() });
        plan.contacts.entry(contact.id).or_insert_with(|| planned(&contact)).new_external_ids.push(id.clone());
    }
    for gone_id in &gone {
        let moved = plan.contacts.remove(gone_id).map(|p| p.new_external_ids).unwrap_or_default();
        let entry = plan.contacts.entry(contact.id).or_insert_with(|| planned(&contact));
        entry.new_external_ids.extend(moved);
        if *gone_id > 0 {
            plan.merged_away.push((*gone_id, contact.id));
        }
        w.forget(*gone_id);
    }
    let entry = plan.contacts.entry(contact.id).or_insert_with(|| planned(&contact));
    entry.record = contact.record.clone();
    entry.org_id = contact.organization.as_ref().map(|o| o.id);
    let id = contact.id;
    let created = found.is_empty();
    w.put(contact, source);
    if created { RowOutcome::Created(id) } else { RowOutcome::Updated { id, merged: gone.len() } }
}

fn planned(c: &Contact) -> Planned {
    Planned { record: c.record.clone(), org_id: c.organization.as_ref().map(|o| o.id), new_external_ids: Vec::new() }
}

/// The organization with `o`'s external ID: a stored one (renamed when the
/// row names it otherwise), one this batch created, or a new one.
fn link(orgs: &mut HashMap<String, (i64, String)>, plan: &mut Plan, next: &mut i64, o: &OrgRef) -> OrgLink {
    let name = o.name.clone().filter(|n| !n.trim().is_empty());
    let (id, current) = match orgs.get(&o.external_id) {
        Some((id, current)) => (*id, current.clone()),
        None => {
            *next -= 1;
            let name = name.clone().unwrap_or_else(|| o.external_id.clone());
            plan.new_organizations.push((*next, o.external_id.clone(), name.clone()));
            orgs.insert(o.external_id.clone(), (*next, name.clone()));
            (*next, name)
        }
    };
    let name = match name {
        Some(n) if n != current => {
            if id > 0 {
                plan.renamed_organizations.retain(|(r, _)| *r != id);
                plan.renamed_organizations.push((id, n.clone()));
            } else if let Some(new) = plan.new_organizations.iter_mut().find(|(r, ..)| *r == id) {
                new.2 = n.clone();
            }
            orgs.insert(o.external_id.clone(), (id, n.clone()));
            n
        }
        _ => current,
    };
    OrgLink { id, name, external_id: Some(o.external_id.clone()) }
}

impl Working {
    fn new(contacts: Vec<Contact>, source: &str) -> Working {
        let mut w = Working {
            contacts: HashMap::new(),
            index: HashMap::new(),
            keys_of: HashMap::new(),
            rank: HashMap::new(),
            next_contact: 0,
            next_org: 0,
        };
        for c in contacts {
            w.rank.insert(c.id, (0, c.create_date.clone(), c.id));
            w.put(c, source);
        }
        w
    }

    fn new_contact(&mut self) -> Contact {
        self.next_contact -= 1;
        let id = self.next_contact;
        self.rank.insert(id, (1, String::new(), -id));
        Contact {
            id,
            record: ContactRecord::default(),
            organization: None,
            external_ids: Vec::new(),
            create_date: String::new(),
            modify_date: String::new(),
        }
    }

    fn find(&self, key: &MatchKey) -> Vec<i64> {
        self.index.get(key).cloned().unwrap_or_default()
    }

    /// Keep `c` and index it under its current identifiers (dropping those
    /// it no longer has).
    fn put(&mut self, c: Contact, source: &str) {
        self.unindex(c.id);
        let (emails, phones) = search_keys(&c.record);
        let mut keys: Vec<MatchKey> = emails.into_iter().map(|(_, k)| MatchKey::Email(k)).collect();
        keys.extend(phones.into_iter().map(|(_, k)| MatchKey::Phone(k)));
        let source = name_key(source);
        keys.extend(
            c.external_ids.iter().filter(|x| name_key(&x.source) == source).map(|x| MatchKey::ExternalId(x.id.clone())),
        );
        for key in &keys {
            let ids = self.index.entry(key.clone()).or_default();
            if !ids.contains(&c.id) {
                ids.push(c.id);
                let rank = &self.rank;
                ids.sort_by(|a, b| rank.get(a).cmp(&rank.get(b)));
            }
        }
        self.keys_of.insert(c.id, keys);
        self.contacts.insert(c.id, c);
    }

    fn unindex(&mut self, id: i64) {
        for key in self.keys_of.remove(&id).unwrap_or_default() {
            if let Some(ids) = self.index.get_mut(&key) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.index.remove(&key);
                }
            }
        }
    }

    fn forget(&mut self, id: i64) {
        self.unindex(id);
        self.contacts.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::email::email_key;
    use serde_json::json;

    fn changes(v: Json) -> Map<String, Json> {
        let Json::Object(o) = v else { panic!("an object") };
        o
    }

    fn stored(id: i64, created: &str, fields: Json) -> Contact {
        let (record, _) = apply_changes(None, &changes(fields), None, "US").expect("valid");
        Contact {
            id,
            record,
            organization: None,
            external_ids: Vec::new(),
            create_date: created.into(),
            modify_date: created.into(),
        }
    }

    fn row(line: u64, keys: Vec<MatchKey>, fields: Json) -> RowInput {
        RowInput { line, keys, changes: Some(changes(fields)), organization: None, external_id: None }
    }

    fn email(e: &str) -> MatchKey {
        MatchKey::Email(email_key(e))
    }

    fn with(contacts: Vec<Contact>) -> Stored {
        Stored { contacts, default_country: "US".into(), ..Stored::default() }
    }

    #[test]
    fn no_match_creates_and_a_new_contact_needs_both_names() {
        let rows = [
            row(2, vec![email("a@x.org")], json!({"firstName": "Ada", "lastName": "King", "workEmail": "a@x.org"})),
            row(3, vec![email("b@x.org")], json!({"firstName": "Bob", "workEmail": "b@x.org"})),
        ];
        let p = plan(&rows, with(vec![]), "crm", MergeMode::MergeAll);
        assert_eq!(p.outcomes[0], (2, RowOutcome::Created(-1)));
        assert_eq!(p.outcomes[1], (3, RowOutcome::Rejected(Invalid::MissingRequiredField("lastName".into()))));
        assert_eq!(p.contacts.keys().copied().collect::<Vec<_>>(), [-1]);
    }

    #[test]
    fn the_first_identifier_that_finds_contacts_decides() {
        let by_email = stored(1, "2026-01-01", json!({"firstName": "E", "lastName": "Mail", "workEmail": "a@x.org"}));
        let by_phone =
            stored(2, "2026-01-02", json!({"firstName": "P", "lastName": "Hone", "cellPhone": "212 736 5000"}));
        let phone = MatchKey::Phone("+12127365000".into());
        let fields = json!({"title": "Dr"});
        let email_first =
            row(2, vec![MatchKey::ExternalId("nope".into()), email("A@X.org"), phone.clone()], fields.clone());
        let p = plan(&[email_first], with(vec![by_email.clone(), by_phone.clone()]), "crm", MergeMode::MergeAll);
        assert_eq!(p.outcomes[0].1, RowOutcome::Updated { id: 1, merged: 0 });
        let phone_first = row(2, vec![phone, email("a@x.org")], fields);
        let p = plan(&[phone_first], with(vec![by_email, by_phone]), "crm", MergeMode::MergeAll);
        assert_eq!(p.outcomes[0].1, RowOutcome::Updated { id: 2, merged: 0 });
        assert_eq!(p.contacts[&2].record.title.as_deref(), Some("Dr"));
    }

    #[test]
    fn merge_all_and_update_first_differ_on_the_same_data() {
        // Ranked by creation date, not id: 7 is the older.
        let young = stored(
            3,
            "2026-02-01",
            json!({"firstName": "Y", "lastName": "Oung", "workEmail": "s@x.org",
                                                    "title": "Eng"}),
        );
        let old = stored(7, "2026-01-01", json!({"firstName": "O", "lastName": "Ld", "personalEmail": "s@x.org"}));
        let r = row(5, vec![email("s@x.org")], json!({"middleName": "Q"}));
        let all = plan(std::slice::from_ref(&r), with(vec![young.clone(), old.clone()]), "crm", MergeMode::MergeAll);
        assert_eq!(all.outcomes[0].1, RowOutcome::Updated { id: 7, merged: 1 });
        assert_eq!(all.merged_away, [(3, 7)]);
        let survivor = &all.contacts[&7].record;
        assert_eq!((survivor.first_name.as_str(), survivor.title.as_deref()), ("O", Some("Eng")));
        assert_eq!(survivor.emails.len(), 2, "the merged-away contact's work email fills the survivor");
        assert_eq!(survivor.middle_name.as_deref(), Some("Q"));
        let first = plan(&[r], with(vec![young, old]), "crm", MergeMode::UpdateFirst);
        assert_eq!(first.outcomes[0].1, RowOutcome::Updated { id: 7, merged: 0 });
        assert!(first.merged_away.is_empty());
        assert_eq!(first.contacts.keys().copied().collect::<Vec<_>>(), [7], "only the first match changes");
        assert_eq!(first.contacts[&7].record.title, None);
    }

    #[test]
    fn rows_repeated_in_a_file_apply_in_file_order() {
        let rows = [
            row(
                2,
                vec![email("a@x.org")],
                json!({"firstName": "A", "lastName": "B", "workEmail": "a@x.org", "title": "1"}),
            ),
            row(3, vec![email("a@x.org")], json!({"title": "2"})),
            row(4, vec![email("a@x.org")], json!({"title": "3", "cellPhone": "2127365000"})),
            row(5, vec![MatchKey::Phone("+12127365000".into())], json!({"middleName": "M"})),
        ];
        let p = plan(&rows, with(vec![]), "crm", MergeMode::MergeAll);
        let ends: Vec<&RowOutcome> = p.outcomes.iter().map(|(_, o)| o).collect();
        assert_eq!(ends[0], &RowOutcome::Created(-1));
        assert!(ends[1..].iter().all(|o| **o == RowOutcome::Updated { id: -1, merged: 0 }), "{ends:?}");
        assert_eq!(p.contacts.len(), 1);
        let r = &p.contacts[&-1].record;
        assert_eq!((r.title.as_deref(), r.middle_name.as_deref()), (Some("3"), Some("M")));
    }

    #[test]
    fn a_changed_identifier_stops_finding_its_old_contact() {
        let rows = [
            row(2, vec![email("a@x.org")], json!({"firstName": "A", "lastName": "B", "workEmail": "a@x.org"})),
            row(3, vec![email("a@x.org")], json!({"workEmail": "c@x.org"})),
            row(4, vec![email("a@x.org")], json!({"firstName": "N", "lastName": "Ew", "workEmail": "a@x.org"})),
        ];
        let p = plan(&rows, with(vec![]), "crm", MergeMode::MergeAll);
        assert_eq!(p.outcomes[2].1, RowOutcome::Created(-2));
    }

    #[test]
    fn organizations_match_by_external_id_only_and_are_created_once() {
        let mut s = with(vec![]);
        s.organizations.insert("ACME-1".into(), (40, "Acme".into()));
        let org = |id: &str, name: Option<&str>| Some(OrgRef { external_id: id.into(), name: name.map(Into::into) });
        let mut rows = vec![
            row(2, vec![email("a@x.org")], json!({"firstName": "A", "lastName": "B", "workEmail": "a@x.org"})),
            row(3, vec![email("b@x.org")], json!({"firstName": "C", "lastName": "D", "workEmail": "b@x.org"})),
            row(4, vec![email("c@x.org")], json!({"firstName": "E", "lastName": "F", "workEmail": "c@x.org"})),
            row(5, vec![email("d@x.org")], json!({"firstName": "G", "lastName": "H", "workEmail": "d@x.org"})),
        ];
        rows[0].organization = org("ACME-1", Some("Acme Corp"));
        rows[1].organization = org("NEW-9", Some("Newco"));
        rows[2].organization = org("NEW-9", None);
        // Same name as the stored one, other external ID: another organization.
        rows[3].organization = org("ACME-2", Some("Acme Corp"));
        let p = plan(&rows, s, "crm", MergeMode::MergeAll);
        assert_eq!(
            p.new_organizations,
            [(-1, "NEW-9".into(), "Newco".into()), (-2, "ACME-2".into(), "Acme Corp".into())]
        );
        assert_eq!(p.renamed_organizations, [(40, "Acme Corp".into())]);
        let orgs: Vec<Option<i64>> = p.contacts.values().map(|c| c.org_id).collect();
        assert_eq!(orgs, [Some(-2), Some(-1), Some(-1), Some(40)], "by contact id -4..-1");
    }

    #[test]
    fn external_ids_are_kept_and_found_by_later_rows() {
        let mut first = row(2, vec![MatchKey::ExternalId("C-1".into())], json!({"firstName": "A", "lastName": "B"}));
        first.external_id = Some("C-1".into());
        let again = row(3, vec![MatchKey::ExternalId("C-1".into())], json!({"title": "Dr"}));
        let mut stored_one = stored(9, "2026-01-01", json!({"firstName": "S", "lastName": "T"}));
        stored_one.external_ids.push(ExternalId { source: "crm".into(), id: "C-2".into() });
        stored_one.external_ids.push(ExternalId { source: "erp".into(), id: "C-1".into() });
        let p = plan(&[first, again], with(vec![stored_one]), "crm", MergeMode::MergeAll);
        assert_eq!(p.outcomes[0].1, RowOutcome::Created(-1), "C-1 of another source is not a match");
        assert_eq!(p.outcomes[1].1, RowOutcome::Updated { id: -1, merged: 0 });
        assert_eq!(p.contacts[&-1].new_external_ids, ["C-1"]);
    }

    #[test]
    fn an_external_id_of_another_contact_is_refused() {
        let mut owner = stored(4, "2026-01-01", json!({"firstName": "O", "lastName": "W"}));
        owner.external_ids.push(ExternalId { source: "crm".into(), id: "C-4".into() });
        let mut r = row(2, vec![email("z@x.org")], json!({"firstName": "Z", "lastName": "Z"}));
        r.external_id = Some("C-4".into());
        let p = plan(&[r], with(vec![owner]), "crm", MergeMode::MergeAll);
        assert_eq!(p.outcomes[0].1, RowOutcome::ExternalIdTaken("C-4".into()));
        assert!(p.contacts.is_empty());
    }

    #[test]
    fn a_row_naming_an_unknown_contact_type_is_refused() {
        let r = row(2, vec![], json!({"firstName": "A", "lastName": "B", "contactType": "Patient"}));
        let p = plan(&[r], with(vec![]), "crm", MergeMode::MergeAll);
        assert_eq!(p.outcomes[0].1, RowOutcome::UnknownContactType("Patient".into()));
        assert!(p.contacts.is_empty());
    }
}
