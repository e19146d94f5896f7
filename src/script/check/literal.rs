//! Property literals: reading a property's text as its catalog type, once
//! when the script is checked (literals) or each time a substituted value
//! is produced (templates).

use crate::catalog::{InputSpec, PropType};
use crate::value::{Value, parse_bool, parse_number};

/// Convert a substituted value to its property type.
pub fn type_value(ty: PropType, name: &str, values: &[String], v: Value) -> Result<Value, String> {
    let text = || v.to_text();
    let bad = |what: &str| format!("property {name} expects {what}, got '{}'", text());
    Ok(match ty {
        PropType::Text => v,
        PropType::Number | PropType::Skill => {
            if let Value::Number(_) = v {
                v
            } else if text().trim().is_empty() {
                Value::Null
            } else {
                Value::Number(
                    property_number(&text())
                        .ok_or_else(|| bad(if ty == PropType::Skill { "a skill number" } else { "a number" }))?,
                )
            }
        }
        PropType::Boolean => match v {
            Value::Bool(_) => v,
            _ => Value::Bool(parse_bool(&text()).ok_or_else(|| bad("Yes/No, True/False or 1/0"))?),
        },
        PropType::Datetime => {
            let t = text();
            if t.trim().is_empty() {
                Value::Null
            } else {
                let dt = crate::base::time::parse_datetime(&t).ok_or_else(|| bad("a date"))?;
                Value::text(crate::base::time::format_datetime(&dt))
            }
        }
        PropType::Timezone => {
            let t = text();
            if t.trim().is_empty() {
                Value::Null
            } else {
                let tz = crate::timezone::parse_zone(&t).ok_or_else(|| bad("a time zone"))?;
                Value::text(tz.name())
            }
        }
        PropType::Enum => {
            let t = text();
            match values.iter().find(|x| x.eq_ignore_ascii_case(t.trim())) {
                Some(canon) => Value::text(canon.as_str()),
                None => return Err(bad(&format!("one of {}", values.join(", ")))),
            }
        }
        _ => v,
    })
}

/// Read a number the way properties accept it (`0,5` is 0.5).
pub fn property_number(text: &str) -> Option<f64> {
    let t = text.trim();
    parse_number(t).or_else(|| {
        if t.matches(',').count() == 1 && !t.contains('.') { parse_number(&t.replace(',', ".")) } else { None }
    })
}

/// Check a literal against its property type.
pub fn check_literal(spec: &InputSpec, ty: PropType, text: &str) -> Result<(), String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(());
    }
    match ty {
        PropType::Number => property_number(t).map(|_| ()).ok_or_else(|| format!("'{t}' is not a number")),
        PropType::Boolean => parse_bool(t).map(|_| ()).ok_or_else(|| format!("'{t}' is not Yes/No, True/False or 1/0")),
        PropType::Datetime => {
            crate::base::time::parse_datetime(t).map(|_| ()).ok_or_else(|| format!("'{t}' is not a date"))
        }
        PropType::Timezone => {
            crate::timezone::parse_zone(t).map(|_| ()).ok_or_else(|| format!("'{t}' is not a known time zone"))
        }
        PropType::Enum => {
            if spec.values.iter().any(|v| v.eq_ignore_ascii_case(t)) {
                Ok(())
            } else {
                Err(format!("'{t}' is not one of {}", spec.values.join(", ")))
            }
        }
        PropType::Skill => match property_number(t) {
            Some(n) if n >= 1.0 && n.fract() == 0.0 => Ok(()),
            _ => Err(format!("'{t}' is not a skill number")),
        },
        _ => Ok(()),
    }
}
