//! Who a run acts for: a business unit and the permission strings it holds.
//!
//! A permission is `domain:entity:action` (`outbound:prospect:add`). A
//! granted string may put `*` for one whole part (`outbound:*:*`,
//! `*:*:*`); there is no partial match inside a part (`out*` is a literal
//! part that matches nothing but itself). An action's manifest lists what
//! it needs, all of it required; the engine checks before the action runs.
//! The engine knows permission strings only, never what a domain means by
//! them; roles (named sets of strings) live with the users in the store.

use std::fmt;

/// A permission string that is not `domain:entity:action`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid permission \"{text}\": {why} (expected domain:entity:action, `*` for a whole part)")]
pub struct PermissionError {
    /// The string given.
    pub text: String,
    /// What is wrong with it.
    pub why: &'static str,
}

/// One granted permission, split into its three parts.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Grant([String; 3]);

impl Grant {
    fn parse(text: &str) -> Result<Grant, PermissionError> {
        let bad = |why| PermissionError { text: text.to_string(), why };
        let parts: Vec<&str> = text.trim().split(':').collect();
        if parts.len() != 3 {
            return Err(bad("it does not have three parts"));
        }
        let mut out: [String; 3] = Default::default();
        for (slot, p) in out.iter_mut().zip(parts) {
            if p.is_empty() {
                return Err(bad("a part is empty"));
            }
            if p.contains('*') && p != "*" {
                return Err(bad("`*` must stand for a whole part"));
            }
            if p.chars().any(char::is_whitespace) {
                return Err(bad("a part contains a blank"));
            }
            *slot = p.to_string();
        }
        Ok(Grant(out))
    }

    /// Whether this grant covers `needed` (a permission without wildcards).
    fn covers(&self, needed: &str) -> bool {
        let mut parts = needed.split(':');
        for g in &self.0 {
            match parts.next() {
                Some(p) if g == "*" || g == p => {}
                _ => return false,
            }
        }
        parts.next().is_none()
    }
}

/// A run's principal: its unit (the runtime's when absent), optionally the
/// user it stands for, and the permissions it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    unit: Option<String>,
    user: Option<String>,
    texts: Vec<String>,
    grants: Vec<Grant>,
}

impl Default for Principal {
    /// Every permission (`*:*:*`) of the runtime's unit.
    fn default() -> Principal {
        Principal::all()
    }
}

impl Principal {
    /// Every permission (`*:*:*`) of the runtime's unit: the default.
    pub fn all() -> Principal {
        Principal::new(["*:*:*"]).unwrap_or_else(|_| Principal::none())
    }

    /// No permission at all.
    pub fn none() -> Principal {
        Principal { unit: None, user: None, texts: Vec::new(), grants: Vec::new() }
    }

    /// A principal holding `permissions` (each `domain:entity:action`).
    pub fn new<S: AsRef<str>>(permissions: impl IntoIterator<Item = S>) -> Result<Principal, PermissionError> {
        let mut p = Principal::none();
        for text in permissions {
            let text = text.as_ref().trim();
            let g = Grant::parse(text)?;
            if !p.grants.contains(&g) {
                p.grants.push(g);
                p.texts.push(text.to_string());
            }
        }
        Ok(p)
    }

    /// The same permissions, for business unit `unit` (a run in another
    /// unit is granted nothing).
    pub fn in_unit(mut self, unit: impl Into<String>) -> Principal {
        self.unit = Some(unit.into());
        self
    }

    /// The same permissions, standing for user `name` (for traces and
    /// messages; the permissions are what counts).
    pub fn as_user(mut self, name: impl Into<String>) -> Principal {
        self.user = Some(name.into());
        self
    }

    /// The principal a trace recorded, for its replay: the same
    /// permissions in whatever unit the replaying runtime has (a replay
    /// runs without a store, in no particular unit).
    pub(crate) fn replayed(self) -> Principal {
        Principal { unit: None, ..self }
    }

    /// The unit, when the principal names one.
    pub fn unit(&self) -> Option<&str> {
        self.unit.as_deref()
    }

    /// The user, when the principal stands for one.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The permission strings held, as given (duplicates dropped).
    pub fn permissions(&self) -> &[String] {
        &self.texts
    }

    /// Whether the principal holds `needed`.
    pub fn allows(&self, needed: &str) -> bool {
        self.grants.iter().any(|g| g.covers(needed))
    }

    /// The first of `needed` the principal lacks, running in `run_unit`
    /// (nothing is held in a unit other than the principal's own).
    pub fn missing<'a>(&self, needed: &'a [String], run_unit: &str) -> Option<&'a str> {
        let foreign = self.unit.as_deref().is_some_and(|u| u != run_unit);
        needed.iter().map(String::as_str).find(|n| foreign || !self.allows(n))
    }

    /// The `_ERR` text for a missing permission.
    pub fn denial(needed: &str) -> String {
        format!("permission denied: {needed}")
    }

    /// The principal as a trace header records it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "unit": self.unit, "user": self.user, "permissions": self.texts })
    }

    /// The principal a trace header recorded (`None`: the default).
    pub fn from_json(j: &serde_json::Value) -> Result<Principal, PermissionError> {
        let perms = j.get("permissions").and_then(serde_json::Value::as_array);
        let texts = perms.into_iter().flatten().filter_map(serde_json::Value::as_str);
        let mut p = Principal::new(texts)?;
        p.unit = j.get("unit").and_then(serde_json::Value::as_str).map(str::to_string);
        p.user = j.get("user").and_then(serde_json::Value::as_str).map(str::to_string);
        Ok(p)
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "user {u} ")?;
        }
        if let Some(u) = &self.unit {
            write!(f, "of unit {u} ")?;
        }
        write!(f, "[{}]", self.texts.join(", "))
    }
}

impl super::Runtime {
    /// The principal of user `name` of the runtime's unit: the union of its
    /// roles' permissions (see [`crate::store::Role`]); `None` when the
    /// unit has no such user.
    pub async fn user_principal(&self, name: &str) -> Result<Option<Principal>, crate::store::StoreError> {
        let store = self.store().await?;
        let Some(unit) = store.find_business_unit(self.business_unit()).await? else { return Ok(None) };
        let Some(user) = store.user(unit, name.trim()).await? else { return Ok(None) };
        // Role permissions are well formed (a unit test reads them all).
        let p = Principal::new(user.permissions()).unwrap_or_else(|_| Principal::none());
        Ok(Some(p.in_unit(self.business_unit()).as_user(user.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(perms: &[&str]) -> Principal {
        Principal::new(perms.iter().copied()).unwrap()
    }

    #[test]
    fn a_star_stands_for_one_whole_part() {
        let outbound = p(&["outbound:*:*"]);
        assert!(outbound.allows("outbound:prospect:add"));
        assert!(outbound.allows("outbound:source:view"));
        assert!(!outbound.allows("externalContacts:contact:add"));
        let adds = p(&["*:*:add"]);
        assert!(adds.allows("externalContacts:contact:add"));
        assert!(!adds.allows("externalContacts:contact:edit"));
        assert!(Principal::all().allows("sales:lead:view"));
        assert!(!Principal::none().allows("sales:lead:view"));
    }

    #[test]
    fn there_is_no_partial_match_inside_a_part() {
        let e = Principal::new(["outbound:pro*:add"]).unwrap_err();
        assert!(e.to_string().contains("whole part"), "{e}");
        let exact = p(&["outbound:prospect:add"]);
        assert!(!exact.allows("outbound:prospects:add"));
        assert!(!exact.allows("outbound:prospect:addx"));
        assert!(!exact.allows("outbound:prospect"));
        assert!(!exact.allows("outbound:prospect:add:more"));
        assert!(!exact.allows("Outbound:prospect:add"), "parts match exactly, case included");
        for bad in ["outbound:prospect", "a:b:c:d", "a::c", "", "a: b:c"] {
            assert!(Principal::new([bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_listed_permission_is_required() {
        let needed = vec!["externalContacts:contact:add".to_string(), "externalContacts:contact:edit".to_string()];
        let add_only = p(&["externalContacts:contact:add"]);
        assert_eq!(add_only.missing(&needed, "u"), Some("externalContacts:contact:edit"));
        let both = p(&["externalContacts:contact:add", "externalContacts:contact:edit"]);
        assert_eq!(both.missing(&needed, "u"), None);
        assert_eq!(both.missing(&[], "u"), None);
        assert_eq!(Principal::denial("outbound:prospect:add"), "permission denied: outbound:prospect:add");
    }

    #[test]
    fn a_principal_of_another_unit_holds_nothing_here() {
        let needed = vec!["outbound:prospect:add".to_string()];
        let acme = Principal::all().in_unit("acme");
        assert_eq!(acme.missing(&needed, "acme"), None);
        assert_eq!(acme.missing(&needed, "other"), Some("outbound:prospect:add"));
        assert_eq!(Principal::all().missing(&needed, "other"), None);
    }

    #[test]
    fn every_role_grants_well_formed_permissions() {
        for r in crate::store::Role::ALL {
            assert!(Principal::new(r.permissions()).is_ok(), "{r}");
        }
    }

    #[test]
    fn a_principal_survives_its_trace_form() {
        let a = p(&["outbound:*:*", "sales:lead:add"]).in_unit("acme").as_user("ann");
        let b = Principal::from_json(&a.to_json()).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.to_string(), "user ann of unit acme [outbound:*:*, sales:lead:add]");
    }
}
