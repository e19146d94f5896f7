//! The lead-source pair CHECKOUTLEADS / CHECKINLEADS and GETQUEUE, the
//! count a brain script watches.
//!
//! Lead sources stand for the CRM side of Proactive XS: records wait in the
//! store until a run checks them out, and come back with an outcome. The
//! store guarantees a record is held by one run at a time.

use super::OutboundContext;
use crate::engine::action::{Action, ActionError, Context, Exec, Inputs, Outcome};
use crate::store::{CheckIn, CheckOut, time_text};
use crate::value::{Object, Value};
use std::sync::Arc;

/// The most records one check-out may take.
pub const MAX_CHECKOUT: i64 = 10_000;

action! {
    /// CHECKOUTLEADS.
    CheckOutLeads = "CHECKOUTLEADS", |ctx, inputs| {
        let lead_source = inputs.text("LeadSource").trim().to_string();
        let max = match inputs.number("MaxRecords") {
            Some(n) if n.fract() == 0.0 && (1.0..=MAX_CHECKOUT as f64).contains(&n) => n as i64,
            _ => {
                return Exec::fail(format!(
                    "MaxRecords must be a whole number from 1 to {MAX_CHECKOUT}, got '{}'",
                    inputs.text("MaxRecords")
                ));
            }
        };
        let lease = match inputs.number("LeaseSeconds") {
            Some(n) if (1.0..=86_400.0 * 30.0).contains(&n) => n,
            _ => {
                return Exec::fail(format!(
                    "LeaseSeconds must be from 1 to 2592000, got '{}'",
                    inputs.text("LeaseSeconds")
                ));
            }
        };
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let now = ctx.now();
            let until = now + chrono::Duration::milliseconds((lease * 1000.0) as i64);
            let run_id = ctx.run_id().to_string();
            let (now, lease_until) = (time_text(now), time_text(until));
            let checkout =
                CheckOut { lead_source: &lead_source, max, run_id: &run_id, now: &now, lease_until: &lease_until };
            let leads = store.check_out_leads(unit, checkout).await?;
            let list: Vec<Value> = leads
                .iter()
                .map(|l| {
                    let mut o = match serde_json::from_str::<serde_json::Value>(&l.fields) {
                        Ok(j) => match Value::from_json(&j) {
                            Value::Object(o) => Object::clone(&o),
                            _ => Object::new(),
                        },
                        Err(_) => Object::new(),
                    };
                    let key = if o.contains_key("LeadID") { "ProsperoLeadID" } else { "LeadID" };
                    o.insert(key.into(), Value::Number(l.id as f64));
                    Value::Object(Arc::new(o))
                })
                .collect();
            ctx.note(format!("checked out {} record(s) from '{lead_source}'", list.len()));
            let n = list.len();
            let out = Outcome::branch(if n == 0 { "NoLeads" } else { "Default" });
            Ok(out.output("Leads", Value::array(list)).output("LeadCount", Value::Number(n as f64)))
        })
    }
}

/// CHECKINLEADS.
pub struct CheckInLeads;

fn member<'v>(o: &'v Object, name: &str) -> Option<&'v Value> {
    o.get(name).or_else(|| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

impl Action for CheckInLeads {
    fn name(&self) -> &str {
        "CHECKINLEADS"
    }
    fn execute<'a>(&'a self, ctx: &'a mut Context<'_>, inputs: &'a Inputs<'_>) -> Exec<'a> {
        let records = match crate::outbound::prospects::records_of(inputs.get("Records")) {
            Ok(r) => r,
            Err(e) => return Exec::fail(e.to_string().replacen("Data", "Records", 1)),
        };
        let fallback = inputs.text("Outcome").trim().to_string();
        let mut items = Vec::with_capacity(records.len());
        let mut refused = 0usize;
        for r in &records {
            let Value::Object(o) = r else { continue };
            // `ProsperoLeadID` exists only when the record had its own
            // `LeadID`: it is then the id this store gave.
            let id = member(o, "ProsperoLeadID")
                .or_else(|| member(o, "LeadID"))
                .and_then(|v| v.as_number())
                .filter(|n| n.fract() == 0.0 && *n >= 1.0);
            let outcome = member(o, "Outcome")
                .or_else(|| member(o, "ResultCode"))
                .map(|v| v.to_text().trim().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| fallback.clone());
            match id {
                Some(id) => items.push((id as i64, outcome)),
                None => refused += 1,
            }
        }
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let run_id = ctx.run_id().to_string();
            let now = time_text(ctx.now());
            let done = store.check_in_leads(unit, CheckIn { run_id: &run_id, items: &items, now: &now }).await?;
            let checked = done.iter().filter(|d| **d).count();
            refused += done.len() - checked;
            ctx.note(format!("checked in {checked}, refused {refused}"));
            Ok(Outcome::default()
                .output("CheckedIn", Value::Number(checked as f64))
                .output("Refused", Value::Number(refused as f64)))
        })
    }
}

action! {
    /// GETQUEUE (outbound skills).
    GetQueue = "GETQUEUE", |ctx, inputs| {
        let text = inputs.text("Skills");
        let mut skills = Vec::new();
        for part in text.split([',', '|']).map(str::trim).filter(|p| !p.is_empty()) {
            match crate::script::check::property_number(part) {
                Some(n) if n >= 1.0 && n.fract() == 0.0 && n < 9.0e15 => skills.push(n as i64),
                _ => return Exec::fail(format!("'{part}' is not a skill number")),
            }
        }
        if skills.is_empty() {
            return Exec::fail("Skills is empty");
        }
        Exec::pending(async move {
            let (store, unit) = ctx.outbound().await?;
            let now = time_text(ctx.now());
            let mut total = 0;
            let mut threshold = None;
            for n in skills {
                let skill = store.skill(unit, n).await?.ok_or_else(|| {
                    ActionError::failed(format!("skill {n} is not an outbound skill of this business unit"))
                })?;
                threshold.get_or_insert(skill.threshold);
                total += store.count_dialable(unit, n, &now).await?;
            }
            ctx.record_answer("NumberQueued", serde_json::json!(total));
            Ok(Outcome::default()
                .output("NumberQueued", Value::Number(total as f64))
                .output("Threshold", Value::Number(threshold.unwrap_or(0) as f64)))
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::packs::testing::{path, run, var};

    #[tokio::test]
    async fn checking_out_an_empty_lead_source_takes_no_leads() {
        let s = r#"{"name": "main", "actions": [
            {"id": "b", "action": "BEGIN", "next": "take"},
            {"id": "take", "action": "CHECKOUTLEADS", "LeadSource": "crm", "MaxRecords": "5", "Leads": "got",
             "branches": {"Default": "e", "NoLeads": "none", "OnError": "e"}},
            {"id": "none", "action": "ASSIGN", "Variable": "why", "Value": "empty", "next": "e"},
            {"id": "e", "action": "END"}]}"#;
        let r = run(s, &[], &[]).await;
        assert_eq!(path(&r)[1], "take:NoLeads", "{}", var(&r, "_ERR"));
        assert_eq!(var(&r, "why"), "empty");
        assert_eq!(var(&r, "LeadCount"), "0");
    }
}
