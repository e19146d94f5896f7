//! Properties an action's manifest does not know (`unknown-property`).
//!
//! In a native script every property is written by hand, so one the
//! manifest does not know is a typo whose value would be silently dropped
//! (`ReturnVar` for `ReturnVariable` leaves the return value nowhere): an
//! error. Web Studio JSON and Desktop Studio XML exports carry properties
//! the runtime has no use for (BEGIN's `RootFolder`, `Application`,
//! `ParamCount`, ...): there it is a warning. Both suggest the closest
//! known name.

use super::suggest;
use super::{Ctx, Severity};
use crate::catalog::Manifest;
use crate::script::model::{Action, Format};

/// Report property `name` of `action`, which `manifest` does not know.
pub(super) fn unknown_property(cx: &mut Ctx, action: &Action, manifest: &Manifest, name: &str) {
    let native = matches!(cx.script.origin.format, None | Some(Format::Native));
    let known = manifest
        .inputs
        .iter()
        .flat_map(|i| std::iter::once(i.name.as_str()).chain(i.aliases.iter().map(String::as_str)))
        .chain(manifest.outputs.iter().map(|o| o.name.as_str()));
    // A native action's own keys (`next`, `caption`, ...) are lower case;
    // `Next` or `Caption` lands here as a property.
    let own = if native { &crate::script::native::OWN_KEYS[..] } else { &[] };
    let hint = suggest::did_you_mean(name, known.chain(own.iter().copied()));
    let pos = cx.script.origin.property_position(action, name);
    let (severity, message) = if native {
        let also = if hint.is_empty() {
            let names: Vec<&str> = manifest
                .inputs
                .iter()
                .map(|i| i.name.as_str())
                .chain(manifest.outputs.iter().map(|o| o.name.as_str()))
                .collect();
            if names.is_empty() {
                " (it has none)".to_string()
            } else {
                format!("; its properties are {}", names.join(", "))
            }
        } else {
            hint
        };
        (Severity::Error, format!("{} has no property '{name}'{also}", manifest.name))
    } else {
        (Severity::Warning, format!("{} has no property '{name}'; it is ignored{hint}", manifest.name))
    };
    cx.push(severity, "unknown-property", pos, Some(action), message);
}
