//! Merging the contacts one identifier matched (`contacts.md` §3, *merge
//! all matches*): the oldest contact survives, keeps its values, and each
//! merged-away contact, in rank order, fills only the survivor's empty
//! fields; their external IDs and organization link move to it. The
//! import row's own values are applied afterwards, by the caller, through
//! [`apply_changes`](super::apply_changes), so the CSV wins every conflict.

use super::model::{Address, ContactRecord};
use super::stored::Contact;
use std::collections::BTreeMap;

/// The survivor of `ranked` (oldest first, as a search returns them) with
/// the others folded in, and the ids of the merged-away contacts in rank
/// order. `None` when `ranked` is empty.
pub fn merge_ranked(ranked: &[Contact]) -> Option<(Contact, Vec<i64>)> {
    let (first, rest) = ranked.split_first()?;
    let mut survivor = first.clone();
    for other in rest {
        fill_empty(&mut survivor.record, &other.record);
        if survivor.organization.is_none() {
            survivor.organization.clone_from(&other.organization);
        }
        for id in &other.external_ids {
            if !survivor.external_ids.contains(id) {
                survivor.external_ids.push(id.clone());
            }
        }
    }
    Some((survivor, rest.iter().map(|c| c.id).collect()))
}

/// Fill `survivor`'s empty fields from `other`; a field the survivor has
/// stays as it is. Names are required, so never empty. The survey opt-out
/// is kept once either contact asked for it (an opt-out is never lost in a
/// merge). Custom fields come along only with the same contact type, or
/// with the type itself when the survivor has none.
pub fn fill_empty(survivor: &mut ContactRecord, other: &ContactRecord) {
    fill(&mut survivor.middle_name, &other.middle_name);
    fill(&mut survivor.salutation, &other.salutation);
    fill(&mut survivor.title, &other.title);
    fill(&mut survivor.external_system_url, &other.external_system_url);
    fill_map(&mut survivor.emails, &other.emails);
    fill_map(&mut survivor.phones, &other.phones);
    fill_map(&mut survivor.social_handles, &other.social_handles);
    survivor.survey_opt_out |= other.survey_opt_out;
    match (&mut survivor.address, &other.address) {
        (Some(a), Some(b)) => fill_address(a, b),
        (a @ None, Some(b)) => *a = Some(b.clone()),
        _ => {}
    }
    let same_type = match (&survivor.contact_type, &other.contact_type) {
        (None, Some(t)) => {
            survivor.contact_type = Some(t.clone());
            true
        }
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if same_type {
        for (name, value) in &other.custom_fields {
            if !survivor.custom_fields.keys().any(|k| k.eq_ignore_ascii_case(name)) {
                survivor.custom_fields.insert(name.clone(), value.clone());
            }
        }
    }
}

fn fill<T: Clone>(mine: &mut Option<T>, theirs: &Option<T>) {
    if mine.is_none() {
        mine.clone_from(theirs);
    }
}

fn fill_map<V: Clone>(mine: &mut BTreeMap<String, V>, theirs: &BTreeMap<String, V>) {
    for (k, v) in theirs {
        mine.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

fn fill_address(mine: &mut Address, theirs: &Address) {
    fill(&mut mine.address1, &theirs.address1);
    fill(&mut mine.address2, &theirs.address2);
    fill(&mut mine.city, &theirs.city);
    fill(&mut mine.state, &theirs.state);
    fill(&mut mine.postal_code, &theirs.postal_code);
    fill(&mut mine.country_code, &theirs.country_code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::{ExternalId, OrgLink, apply_changes};
    use serde_json::{Map, Value as Json, json};

    fn contact(id: i64, fields: Json) -> Contact {
        let Json::Object(changes) = fields else { panic!("an object") };
        let (record, _) = apply_changes(None, &changes, None, "US").expect("valid");
        Contact {
            id,
            record,
            organization: None,
            external_ids: Vec::new(),
            create_date: format!("2026-01-0{id}T00:00:00Z"),
            modify_date: format!("2026-01-0{id}T00:00:00Z"),
        }
    }

    #[test]
    fn the_oldest_survives_and_keeps_its_values_others_fill_its_gaps_in_rank_order() {
        let a = contact(1, json!({"firstName": "Ada", "lastName": "King", "workEmail": "ada@x.org"}));
        let b = contact(
            2,
            json!({"firstName": "Augusta", "lastName": "Byron", "workEmail": "aug@x.org",
                   "title": "Countess", "cellPhone": "212 736 5000"}),
        );
        let c =
            contact(3, json!({"firstName": "A", "lastName": "L", "title": "Analyst", "homePhone": "(646) 555-0100"}));
        let (s, gone) = merge_ranked(&[a, b, c]).expect("three");
        assert_eq!(s.id, 1);
        assert_eq!(gone, [2, 3]);
        assert_eq!((s.record.first_name.as_str(), s.record.last_name.as_str()), ("Ada", "King"));
        assert_eq!(s.record.emails["workEmail"], "ada@x.org", "the survivor's value stays");
        assert_eq!(s.record.title.as_deref(), Some("Countess"), "the second in rank fills first");
        assert_eq!(s.record.phones["cellPhone"].e164.as_deref(), Some("+12127365000"));
        assert_eq!(s.record.phones["homePhone"].e164.as_deref(), Some("+16465550100"));
    }

    #[test]
    fn the_row_applied_after_the_merge_wins_a_conflict() {
        let a = contact(1, json!({"firstName": "Ada", "lastName": "King", "title": "Ms"}));
        let b = contact(2, json!({"firstName": "Ada", "lastName": "King", "middleName": "B"}));
        let (s, _) = merge_ranked(&[a, b]).expect("two");
        let mut row = Map::new();
        row.insert("title".into(), json!("Dr"));
        let (merged, _) = apply_changes(Some(&s.record), &row, None, "US").expect("valid");
        assert_eq!(merged.title.as_deref(), Some("Dr"));
        assert_eq!(merged.middle_name.as_deref(), Some("B"));
    }

    #[test]
    fn external_ids_and_the_organization_move_to_the_survivor() {
        let mut a = contact(1, json!({"firstName": "Ada", "lastName": "King"}));
        let mut b = contact(2, json!({"firstName": "Ada", "lastName": "King"}));
        let mut c = contact(3, json!({"firstName": "Ada", "lastName": "King"}));
        let id = |s: &str, i: &str| ExternalId { source: s.into(), id: i.into() };
        a.external_ids = vec![id("crm", "1")];
        b.external_ids = vec![id("crm", "1"), id("erp", "9")];
        b.organization = Some(OrgLink { id: 7, name: "Acme".into(), external_id: Some("A-7".into()) });
        c.organization = Some(OrgLink { id: 8, name: "Other".into(), external_id: Some("O-8".into()) });
        let (s, _) = merge_ranked(&[a, b, c]).expect("three");
        assert_eq!(s.external_ids, [id("crm", "1"), id("erp", "9")]);
        assert_eq!(s.organization.map(|o| o.id), Some(7), "the first in rank with a link gives it");
    }

    #[test]
    fn addresses_fill_line_by_line_and_an_opt_out_is_never_lost() {
        let a = contact(1, json!({"firstName": "A", "lastName": "B", "address": {"city": "Paris"}}));
        let b = contact(
            2,
            json!({"firstName": "A", "lastName": "B", "surveyOptOut": true,
                   "address": {"city": "Lyon", "postalCode": "69001"}}),
        );
        let (s, _) = merge_ranked(&[a, b]).expect("two");
        let addr = s.record.address.expect("address");
        assert_eq!((addr.city.as_deref(), addr.postal_code.as_deref()), (Some("Paris"), Some("69001")));
        assert!(s.record.survey_opt_out);
    }

    #[test]
    fn custom_fields_come_only_with_the_same_contact_type() {
        let mut a = contact(1, json!({"firstName": "A", "lastName": "B"}));
        let mut b = contact(2, json!({"firstName": "A", "lastName": "B"}));
        a.record.contact_type = Some("Patient".into());
        a.record.custom_fields.insert("ward".into(), json!("3"));
        b.record.contact_type = Some("patient".into());
        b.record.custom_fields.insert("Ward".into(), json!("9"));
        b.record.custom_fields.insert("bed".into(), json!(12));
        let mut c = contact(3, json!({"firstName": "A", "lastName": "B"}));
        c.record.contact_type = Some("Vendor".into());
        c.record.custom_fields.insert("tier".into(), json!("gold"));
        let (s, _) = merge_ranked(&[a, b, c]).expect("three");
        let keys: Vec<&String> = s.record.custom_fields.keys().collect();
        assert_eq!(keys, ["ward", "bed"]);
        assert_eq!(s.record.custom_fields["ward"], json!("3"));
        let (alone, _) = merge_ranked(&[contact(4, json!({"firstName": "A", "lastName": "B"})), {
            let mut v = contact(5, json!({"firstName": "A", "lastName": "B"}));
            v.record.contact_type = Some("Vendor".into());
            v.record.custom_fields.insert("tier".into(), json!("gold"));
            v
        }])
        .expect("two");
        assert_eq!(alone.record.contact_type.as_deref(), Some("Vendor"), "a survivor without a type takes it");
        assert_eq!(alone.record.custom_fields["tier"], json!("gold"));
    }

    #[test]
    fn nothing_to_merge_is_none_and_one_match_is_itself() {
        assert!(merge_ranked(&[]).is_none());
        let a = contact(1, json!({"firstName": "A", "lastName": "B"}));
        let (s, gone) = merge_ranked(std::slice::from_ref(&a)).expect("one");
        assert_eq!(s, a);
        assert!(gone.is_empty());
    }
}
