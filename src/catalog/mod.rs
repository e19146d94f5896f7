//! The action catalog: one manifest per action, read from `actions/*.toml`.
//!
//! A manifest is the single source for three things: the static checker
//! (which properties exist, their types and defaults, which branches an
//! action has), the engine (how each property is resolved before the action
//! runs), and the documentation (`prospero actions NAME` and the generated
//! reference). The built-in manifests are embedded at build time; a host adds
//! its own with [`Catalog::add`].

use crate::base::MediaType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// Types of action properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PropType {
    /// Free text; `{expr}` substituted.
    Text,
    /// A number (`0,5` is read as 0.5, as the product accepts).
    Number,
    /// Yes/No, True/False, On/Off, 1/0, any case.
    Boolean,
    /// A date and time.
    Datetime,
    /// A time-zone name (IANA, Windows or common US name).
    Timezone,
    /// The name of a variable (written bare, `{name}` tolerated).
    Variable,
    /// A snippet expression, evaluated when the action runs.
    Expression,
    /// Snippet source code.
    Code,
    /// A dynamic object: a variable holding one (`name` or `{name}`) or a
    /// JSON literal.
    Dynamic,
    /// One of a fixed list of values.
    Enum,
    /// An outbound skill number.
    Skill,
    /// A list of texts, each substituted.
    List,
}

impl PropType {
    /// Name as written in manifests.
    pub fn name(self) -> &'static str {
        match self {
            PropType::Text => "text",
            PropType::Number => "number",
            PropType::Boolean => "boolean",
            PropType::Datetime => "datetime",
            PropType::Timezone => "timezone",
            PropType::Variable => "variable",
            PropType::Expression => "expression",
            PropType::Code => "code",
            PropType::Dynamic => "dynamic",
            PropType::Enum => "enum",
            PropType::Skill => "skill",
            PropType::List => "list",
        }
    }

    /// Whether `{}` substitution applies by default.
    pub fn substitutes(self) -> bool {
        !matches!(self, PropType::Variable | PropType::Expression | PropType::Code | PropType::Dynamic)
    }
}

/// An input property of an action.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Property name.
    pub name: String,
    /// Other accepted spellings (web Studio labels such as `Skill No`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Property type.
    #[serde(rename = "type")]
    pub ty: PropType,
    /// Whether the property must be given.
    #[serde(default)]
    pub required: bool,
    /// Default when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether `{expr}` substitution applies (default: by type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute: Option<bool>,
    /// Left for the action to read (as text or as an expression); the
    /// engine does not resolve it beforehand.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lazy: bool,
    /// Allowed values of an enum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Most items of a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// The value names a script in the script library (RUNSUB, SPAWN, ...):
    /// the checker verifies literal names exist.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub script_ref: bool,
    /// For a lazy input: when another property has one of these values, the
    /// input is an expression, and the checker parses literal values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression_when: Option<Condition>,
    /// What the property means.
    #[serde(default)]
    pub description: String,
}

impl InputSpec {
    /// Whether `{}` substitution applies.
    pub fn substitutes(&self) -> bool {
        self.substitute.unwrap_or_else(|| self.ty.substitutes())
    }

    /// Whether `name` designates this property.
    pub fn matches(&self, name: &str) -> bool {
        // Fast path first: actions look their inputs up by canonical name on
        // every execution.
        if self.name.eq_ignore_ascii_case(name) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)) {
            return true;
        }
        name.contains(char::is_whitespace)
            && (same_name(&self.name, name) || self.aliases.iter().any(|a| same_name(a, name)))
    }
}

/// "Property P has one of these values."
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The property to look at.
    pub property: String,
    /// Values (any case) that make the condition hold.
    pub values: Vec<String>,
}

/// An output property: the action writes a value into the variable the
/// script names in this property (or the default variable).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Property name.
    pub name: String,
    /// Type of the written value.
    #[serde(rename = "type")]
    pub ty: String,
    /// Variable written when the script does not name one.
    pub default: String,
    /// What the value holds.
    #[serde(default)]
    pub description: String,
}

/// A result branch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchSpec {
    /// Canonical name.
    pub name: String,
    /// Other accepted names (besides the automatic `On` prefix rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// When the branch is taken.
    #[serde(default)]
    pub description: String,
}

/// One action's manifest.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Action type name, upper case.
    pub name: String,
    /// Version (CREATEPROSPECTS has 2).
    #[serde(default = "one")]
    pub version: u32,
    /// Other type names accepted for this action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One-line summary.
    pub summary: String,
    /// Grouping for docs (`core`, `outbound`, ...).
    #[serde(default = "core")]
    pub category: String,
    /// Media types the action works in; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
    /// Whether the action ends the script (END, HANGUP, RETURN, ...).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminating: bool,
    /// Whether the script may add branches named after values (CASE).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub custom_branches: bool,
    /// Permissions the run's principal must hold, every one of them
    /// (`domain:entity:action`, e.g. `outbound:prospect:add`); the engine
    /// checks them before the action runs.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Whether the action's answers come from outside the script (the
    /// store, the network, other runs). Replay and script tests never
    /// execute such an action: they give back its recorded or mocked
    /// outputs and result, so they read and write nothing outside.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// Input properties.
    #[serde(default, rename = "input")]
    pub inputs: Vec<InputSpec>,
    /// Output properties.
    #[serde(default, rename = "output")]
    pub outputs: Vec<OutputSpec>,
    /// Result branches.
    #[serde(default, rename = "branch")]
    pub branches: Vec<BranchSpec>,
    /// Longer documentation (Markdown).
    #[serde(default)]
    pub docs: String,
}

fn one() -> u32 {
    1
}
fn core() -> String {
    "core".into()
}

/// A manifest that could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// TOML syntax or shape.
    #[error("{file}: {message}")]
    Parse {
        /// Manifest file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A manifest that parses but is inconsistent.
    #[error("{file}: {message}")]
    Invalid {
        /// Manifest file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

impl Manifest {
    /// Read a manifest from TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Manifest, ManifestError> {
        let mut m: Manifest =
            toml::from_str(text).map_err(|e| ManifestError::Parse { file: file.into(), message: e.to_string() })?;
        m.name = m.name.trim().to_ascii_uppercase();
        m.validate().map_err(|message| ManifestError::Invalid { file: file.into(), message })?;
        Ok(m)
    }

    fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("the action name is empty".into());
        }
        for m in &self.media {
            if MediaType::parse(m).is_none() {
                return Err(format!("unknown media type \"{m}\""));
            }
        }
        for p in &self.permissions {
            let parts: Vec<&str> = p.split(':').collect();
            if parts.len() != 3 || parts.iter().any(|x| x.is_empty() || x.contains(['*', ' ', '\t'])) {
                return Err(format!("permission \"{p}\" is not domain:entity:action (no `*`, no blanks)"));
            }
        }
        for (i, p) in self.inputs.iter().enumerate() {
            if self.inputs[..i].iter().any(|q| q.matches(&p.name)) {
                return Err(format!("input \"{}\" is listed twice", p.name));
            }
            if p.ty == PropType::Enum && p.values.is_empty() {
                return Err(format!("enum input \"{}\" lists no values", p.name));
            }
        }
        if !self.terminating && !self.branches.iter().any(|b| b.name == "Default") {
            return Err("a non-terminating action needs a Default branch".into());
        }
        Ok(())
    }

    /// Whether the action is available in scripts of `media`.
    pub fn supports(&self, media: MediaType) -> bool {
        self.media.is_empty() || self.media.iter().any(|m| MediaType::parse(m) == Some(media))
    }

    /// The input property designated by `name`.
    pub fn input(&self, name: &str) -> Option<(usize, &InputSpec)> {
        self.inputs.iter().enumerate().find(|(_, p)| p.matches(name))
    }

    /// Index of the input whose canonical name is `name` (any case): the
    /// cheap lookup actions use at run time.
    pub fn input_index(&self, name: &str) -> Option<usize> {
        self.inputs.iter().position(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The output property designated by `name`.
    pub fn output(&self, name: &str) -> Option<(usize, &OutputSpec)> {
        self.outputs.iter().enumerate().find(|(_, o)| o.name.eq_ignore_ascii_case(name))
    }

    /// Index of the branch a script's branch name designates. `Error` and
    /// `OnError` are one branch, and any `OnX` is the same as `X`.
    pub fn branch(&self, name: &str) -> Option<usize> {
        // Actions report canonical names; find those without the alias rules.
        if let Some(i) = self.branches.iter().position(|b| b.name == name) {
            return Some(i);
        }
        let name = name.trim();
        let stripped = strip_on(name);
        self.branches.iter().position(|b| {
            let names = std::iter::once(b.name.as_str()).chain(b.aliases.iter().map(String::as_str));
            names.into_iter().any(|n| n.eq_ignore_ascii_case(name) || strip_on(n).eq_ignore_ascii_case(stripped))
        })
    }

    /// Index of the Default branch.
    pub fn default_branch(&self) -> Option<usize> {
        self.branches.iter().position(|b| b.name == "Default")
    }

    /// Index of the error branch.
    pub fn error_branch(&self) -> Option<usize> {
        self.branch("OnError")
    }

    /// This action's section of the Markdown reference.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let v = if self.version != 1 { format!(" (version {})", self.version) } else { String::new() };
        let _ = writeln!(s, "### {}{v}\n\n{}\n", self.name, self.summary);
        let media = if self.media.is_empty() { "all".to_string() } else { self.media.join(", ") };
        let _ = writeln!(s, "Media types: {media}.{}\n", if self.terminating { " Ends the script." } else { "" });
        if !self.permissions.is_empty() {
            let _ = writeln!(s, "Permissions required: `{}`.\n", self.permissions.join("`, `"));
        }
        if self.external {
            s.push_str(
                "External: its answers come from outside the script; replay and script tests give back recorded \
                 or mocked outputs instead of running it.\n\n",
            );
        }
        if !self.inputs.is_empty() {
            s.push_str("| input | type | required | default | {} | meaning |\n|---|---|---|---|---|---|\n");
            for p in &self.inputs {
                let ty = if p.values.is_empty() {
                    p.ty.name().to_string()
                } else {
                    format!("enum: {}", p.values.join(" / "))
                };
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    p.name,
                    ty,
                    if p.required { "yes" } else { "" },
                    p.default.as_deref().map(|d| format!("`{d}`")).unwrap_or_default(),
                    if p.substitutes() { "yes" } else { "" },
                    p.description.replace('|', "\\|")
                );
            }
            s.push('\n');
        }
        if !self.outputs.is_empty() {
            s.push_str("| output | type | default variable | meaning |\n|---|---|---|---|\n");
            for o in &self.outputs {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | `{}` | {} |",
                    o.name,
                    o.ty,
                    o.default,
                    o.description.replace('|', "\\|")
                );
            }
            s.push('\n');
        }
        if !self.branches.is_empty() || self.custom_branches {
            s.push_str("| branch | taken when |\n|---|---|\n");
            for b in &self.branches {
                let alias =
                    if b.aliases.is_empty() { String::new() } else { format!(" (also `{}`)", b.aliases.join("`, `")) };
                let _ = writeln!(s, "| `{}`{alias} | {} |", b.name, b.description.replace('|', "\\|"));
            }
            if self.custom_branches {
                s.push_str("| *value* | one branch per value, named after it |\n");
            }
            s.push('\n');
        }
        if !self.docs.trim().is_empty() {
            let _ = writeln!(s, "{}\n", self.docs.trim());
        }
        s
    }

    /// Human-readable description, as `prospero actions NAME` prints it.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let v = if self.version != 1 { format!(" v{}", self.version) } else { String::new() };
        let _ = writeln!(s, "{}{v} — {}", self.name, self.summary);
        if !self.aliases.is_empty() {
            let _ = writeln!(s, "also written: {}", self.aliases.join(", "));
        }
        let media = if self.media.is_empty() { "all".to_string() } else { self.media.join(", ") };
        let _ = writeln!(s, "media types: {media}");
        if self.terminating {
            let _ = writeln!(s, "ends the script");
        }
        let perms = if self.permissions.is_empty() { "none".to_string() } else { self.permissions.join(", ") };
        let _ = writeln!(s, "permissions: {perms}");
        if !self.inputs.is_empty() {
            let _ = writeln!(s, "\ninputs:");
            for p in &self.inputs {
                let mut flags = vec![p.ty.name().to_string()];
                if p.required {
                    flags.push("required".into());
                }
                if let Some(d) = &p.default {
                    flags.push(format!("default {d:?}"));
                }
                if p.substitutes() {
                    flags.push("{} substituted".into());
                }
                if !p.values.is_empty() {
                    flags.push(format!("one of {}", p.values.join("/")));
                }
                let _ = writeln!(s, "  {} ({})", p.name, flags.join(", "));
                if !p.description.is_empty() {
                    let _ = writeln!(s, "      {}", p.description);
                }
            }
        }
        if !self.outputs.is_empty() {
            let _ = writeln!(s, "\noutputs:");
            for o in &self.outputs {
                let _ = writeln!(s, "  {} ({}, default variable {})", o.name, o.ty, o.default);
                if !o.description.is_empty() {
                    let _ = writeln!(s, "      {}", o.description);
                }
            }
        }
        if !self.branches.is_empty() || self.custom_branches {
            let _ = writeln!(s, "\nbranches:");
            for b in &self.branches {
                let alias =
                    if b.aliases.is_empty() { String::new() } else { format!(" (also {})", b.aliases.join(", ")) };
                let _ = writeln!(s, "  {}{alias}: {}", b.name, b.description);
            }
            if self.custom_branches {
                let _ = writeln!(s, "  <value>: one branch per value, named after the value");
            }
        }
        if !self.docs.trim().is_empty() {
            let _ = writeln!(s, "\n{}", self.docs.trim_end());
        }
        s
    }
}

/// Property names match ignoring ASCII case and blanks (`Skill No` is
/// `SkillNo`), without allocating.
fn same_name(a: &str, b: &str) -> bool {
    let mut x = a.chars().filter(|c| !c.is_whitespace());
    let mut y = b.chars().filter(|c| !c.is_whitespace());
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
            _ => return false,
        }
    }
}

fn strip_on(name: &str) -> &str {
    match (name.get(..2), name.get(2..)) {
        (Some(on), Some(rest))
            if on.eq_ignore_ascii_case("on") && rest.starts_with(|c: char| c.is_ascii_uppercase()) =>
        {
            rest
        }
        _ => name,
    }
}

/// The set of known actions.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    by_name: BTreeMap<(String, u32), Arc<Manifest>>,
}

impl Catalog {
    /// Add embedded manifests, as (file name, TOML text) pairs: a pack's
    /// `actions/<pack>/*.toml`. The packs test that theirs parse, so a
    /// failure here is a build defect, reported and skipped.
    pub fn add_embedded(&mut self, manifests: &[(&str, &str)]) {
        for (file, text) in manifests {
            match Manifest::from_toml(text, file) {
                Ok(m) => self.add(m),
                Err(e) => eprintln!("prospero: built-in manifest skipped: {e}"),
            }
        }
    }

    /// Add (or replace) a manifest.
    pub fn add(&mut self, manifest: Manifest) {
        self.by_name.insert((manifest.name.clone(), manifest.version), Arc::new(manifest));
    }

    /// The manifest for action type `name` at `version`.
    pub fn get(&self, name: &str, version: u32) -> Option<&Arc<Manifest>> {
        let upper = name.trim().to_ascii_uppercase();
        if let Some(m) = self.by_name.get(&(upper.clone(), version)) {
            return Some(m);
        }
        self.by_name.values().find(|m| m.version == version && m.aliases.iter().any(|a| a.eq_ignore_ascii_case(&upper)))
    }

    /// Every version of action type `name`.
    pub fn versions(&self, name: &str) -> Vec<u32> {
        let upper = name.trim().to_ascii_uppercase();
        self.by_name
            .values()
            .filter(|m| m.name == upper || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(&upper)))
            .map(|m| m.version)
            .collect()
    }

    /// All manifests, by name and version.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Manifest>> {
        self.by_name.values()
    }

    /// The action reference in Markdown (`docs/actions.md` is this text;
    /// a test keeps it current).
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "# Action reference\n\nGenerated from the manifests in `actions/` \
             (`prospero actions --markdown > docs/actions.md`). Branch names also match \
             with an `On` prefix (`OnInvalidSource` = `InvalidSource`), and `Error` = `OnError`.\n",
        );
        let mut categories: Vec<&str> = self.by_name.values().map(|m| m.category.as_str()).collect();
        categories.sort();
        categories.dedup();
        for cat in categories {
            let _ = write!(s, "\n## {cat}\n");
            for m in self.by_name.values().filter(|m| m.category == cat) {
                s.push('\n');
                s.push_str(&m.markdown());
            }
        }
        s
    }

    /// A version fingerprint of the catalog (for traces).
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for m in self.by_name.values() {
            h.update(serde_json::to_vec(&**m).unwrap_or_default());
        }
        let d = h.finalize();
        d.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_manifests_are_rejected() {
        let e = Manifest::from_toml("name = \"X\"\nsummary = \"s\"\n", "x.toml").unwrap_err();
        assert!(matches!(e, ManifestError::Invalid { .. }), "{e}");
        let e = Manifest::from_toml("name = ", "x.toml").unwrap_err();
        assert!(matches!(e, ManifestError::Parse { .. }));
        let e = Manifest::from_toml("name = \"X\"\nsummary = \"s\"\nbogus = 1\n", "x.toml").unwrap_err();
        assert!(matches!(e, ManifestError::Parse { .. }));
        for bad in ["outbound:prospect", "outbound:*:add", "a::b", "a:b:c:d"] {
            let text = format!("name = \"X\"\nsummary = \"s\"\nterminating = true\npermissions = [\"{bad}\"]\n");
            let e = Manifest::from_toml(&text, "x.toml").unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn every_outbound_manifest_declares_its_permissions() {
        let c = Catalog::builtin();
        let m = c.get("CREATEPROSPECTS", 2).unwrap();
        assert_eq!(m.permissions, ["outbound:prospect:add"]);
        assert!(m.describe().contains("permissions: outbound:prospect:add"), "{}", m.describe());
        assert!(m.markdown().contains("Permissions required: `outbound:prospect:add`"));
        for m in c.all().filter(|m| m.category == "outbound") {
            assert!(!m.permissions.is_empty(), "{} declares no permission", m.name);
        }
        assert!(c.get("ASSIGN", 1).unwrap().permissions.is_empty());
    }
}
