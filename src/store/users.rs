//! Users of a business unit and their roles: named permission sets, as the
//! contacts spec (§1) defines them. A principal that names a user holds the
//! union of its roles' permissions in its unit; nothing crosses units.

use std::fmt;

/// A role: a named set of permission strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Role {
    /// Contacts view/add/edit and `sales:lead:add`.
    Agent,
    /// The agent's permissions, plus `sales:lead:view`.
    SalesUser,
    /// Every permission of the unit (`*:*:*`).
    Supervisor,
    /// The agent's permissions, plus `addressBook:recipient:import`.
    Coordinator,
}

const AGENT: &[&str] = &[
    "externalContacts:contact:view",
    "externalContacts:contact:add",
    "externalContacts:contact:edit",
    "sales:lead:add",
];

/// A role name that names no role.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown role \"{0}\" (roles: {roles})", roles = Role::NAMES.join(", "))]
pub struct UnknownRole(pub String);

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Agent, Role::SalesUser, Role::Supervisor, Role::Coordinator];
    /// Every role's name, as the store and the command line write it.
    pub const NAMES: [&'static str; 4] = ["agent", "sales-user", "supervisor", "coordinator"];

    /// The role's name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::SalesUser => "sales-user",
            Role::Supervisor => "supervisor",
            Role::Coordinator => "coordinator",
        }
    }

    /// The role `text` names (any case; `sales user` and `sales_user` are
    /// `sales-user`).
    pub fn parse(text: &str) -> Result<Role, UnknownRole> {
        let t = text.trim().to_ascii_lowercase().replace([' ', '_'], "-");
        Role::ALL.into_iter().find(|r| r.name() == t).ok_or_else(|| UnknownRole(text.to_string()))
    }

    /// The permission strings the role grants.
    pub fn permissions(self) -> Vec<&'static str> {
        let mut p = AGENT.to_vec();
        match self {
            Role::Agent => {}
            Role::SalesUser => p.push("sales:lead:view"),
            Role::Supervisor => return vec!["*:*:*"],
            Role::Coordinator => p.push("addressBook:recipient:import"),
        }
        p
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A user of a business unit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UnitUser {
    /// The user's name (trimmed, as given; case counts).
    pub name: String,
    /// Its roles, in the order given, without repeats.
    pub roles: Vec<Role>,
    /// When it was added (RFC 3339).
    pub created_at: String,
    /// When its roles last changed (RFC 3339).
    pub modified_at: String,
}

impl UnitUser {
    /// The permission strings the user's roles grant, without repeats.
    pub fn permissions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for p in self.roles.iter().flat_map(|r| r.permissions()) {
            if !out.contains(&p) {
                out.push(p);
            }
        }
        out
    }
}

/// The unit setting naming its top supervisor.
pub const TOP_SUPERVISOR: &str = "top_supervisor";

/// The longest user name, in characters.
pub const USER_NAME_MAX: usize = 255;

/// A user name as stored: trimmed, 1 to 255 characters, no control
/// characters; `None` otherwise.
pub fn user_name(raw: &str) -> Option<String> {
    let t = raw.trim();
    (!t.is_empty() && t.chars().count() <= USER_NAME_MAX && !t.chars().any(char::is_control)).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_the_permission_sets_the_spec_names() {
        assert_eq!(Role::Agent.permissions(), AGENT);
        assert!(Role::SalesUser.permissions().contains(&"sales:lead:view"));
        assert!(Role::SalesUser.permissions().contains(&"externalContacts:contact:edit"));
        assert_eq!(Role::Supervisor.permissions(), ["*:*:*"]);
        assert!(Role::Coordinator.permissions().contains(&"addressBook:recipient:import"));
        assert!(!Role::Agent.permissions().contains(&"sales:lead:view"));
        assert_eq!(Role::parse("Sales User"), Ok(Role::SalesUser));
        assert_eq!(Role::parse("sales_user"), Ok(Role::SalesUser));
        let e = Role::parse("boss").unwrap_err().to_string();
        assert!(e.contains("boss") && e.contains("agent, sales-user, supervisor, coordinator"), "{e}");
        let u = UnitUser {
            name: "ann".into(),
            roles: vec![Role::Agent, Role::SalesUser],
            created_at: String::new(),
            modified_at: String::new(),
        };
        assert_eq!(u.permissions().len(), 5, "no repeats: {:?}", u.permissions());
        assert_eq!(user_name("  ann "), Some("ann".into()));
        assert_eq!(user_name("  "), None);
        assert_eq!(user_name("a\nb"), None);
    }
}
