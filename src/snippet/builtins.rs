//! The dialect's built-in functions.
//!
//! Each is registered in rhai as `__f_<name>` for every arity it accepts.
//! `x.f(y)` is `f(x, y)`, so every function works in both forms. The table
//! [`BUILTINS`] (kept in `signatures.rs`) is the single list of names,
//! arities and result types; this file holds the implementations, one
//! registration function per family, which `rt::build_engine`
//! calls through [`register`].

use super::coerce::{R, err, num, round_half_away, text, value, whole};
use super::context::{ENV, check_depth, draw, grow};
use super::dates;
use crate::value::Value;
use rhai::{Dynamic, Engine, ImmutableString};
use std::sync::Arc;

// The list itself lives with the signatures, below the parser and the
// compiler; its long-standing path is here.
pub use super::signatures::BUILTINS;

fn chars_of(d: &Dynamic) -> Vec<char> {
    text(d).chars().collect()
}

fn s(x: impl Into<ImmutableString>) -> ImmutableString {
    x.into()
}

fn date_arg(d: &Dynamic, what: &str) -> R<chrono::NaiveDateTime> {
    dates::read_date(d).ok_or_else(|| format!("{what}: '{}' is not a date", text(d)).into())
}

/// The run's clock reading, as local time in the run's zone.
fn local_now() -> chrono::NaiveDateTime {
    ENV.with(|env| {
        let env = env.borrow();
        env.now.with_timezone(&env.tz).naive_local()
    })
}

fn run_tz() -> chrono_tz::Tz {
    ENV.with(|env| env.borrow().tz)
}

/// Split date-function arguments given in any order into (unit, amount,
/// date): the unit is the argument that names one, the amount the number,
/// the date the rest.
fn unit_amount_date(args: &[&Dynamic], what: &str) -> R<(dates::Unit, f64, chrono::NaiveDateTime)> {
    let mut unit = None;
    let mut amount = None;
    let mut date = None;
    for a in args {
        let t = text(a);
        if unit.is_none()
            && let Some(u) = dates::Unit::parse(&t)
        {
            unit = Some(u);
            continue;
        }
        if amount.is_none()
            && dates::read_date_text(&t).is_none()
            && let Some(n) = num(a)
        {
            amount = Some(n);
            continue;
        }
        if date.is_none() {
            date = Some(date_arg(a, what)?);
            continue;
        }
        return err(format!("{what}: unexpected argument '{t}'"));
    }
    let date = date.ok_or_else(|| -> Box<rhai::EvalAltResult> { format!("{what}: no date given").into() })?;
    Ok((unit.unwrap_or(dates::Unit::Day), amount.unwrap_or(0.0), date))
}

/// Register every built-in on `e`.
pub fn register(e: &mut Engine) {
    register_text(e);
    register_numbers(e);
    register_dates(e);
    register_objects(e);
}

/// Text: length, slicing, case, trimming, search, padding, splitting,
/// `format`.
fn register_text(e: &mut Engine) {
    e.register_fn("__f_len", |x: Dynamic| Dynamic::from_float(text(&x).chars().count() as f64));
    e.register_fn("__f_left", |x: Dynamic, n: Dynamic| -> R<ImmutableString> {
        let n = whole(&n, "left(): the length")?.max(0) as usize;
        Ok(chars_of(&x).into_iter().take(n).collect::<String>().into())
    });
    e.register_fn("__f_right", |x: Dynamic, n: Dynamic| -> R<ImmutableString> {
        let n = whole(&n, "right(): the length")?.max(0) as usize;
        let c = chars_of(&x);
        Ok(c[c.len().saturating_sub(n)..].iter().collect::<String>().into())
    });
    fn mid(x: &Dynamic, start: &Dynamic, len: Option<&Dynamic>) -> R<ImmutableString> {
        let start = whole(start, "mid(): the start")?;
        if start < 1 {
            return err("mid(): the start counts from 1");
        }
        let c = chars_of(x);
        let from = ((start - 1) as usize).min(c.len());
        let to = match len {
            Some(l) => from.saturating_add(whole(l, "mid(): the length")?.max(0) as usize).min(c.len()),
            None => c.len(),
        };
        Ok(c[from..to].iter().collect::<String>().into())
    }
    e.register_fn("__f_mid", |x: Dynamic, a: Dynamic| mid(&x, &a, None));
    e.register_fn("__f_mid", |x: Dynamic, a: Dynamic, l: Dynamic| mid(&x, &a, Some(&l)));
    e.register_fn("__f_upper", |x: Dynamic| s(text(&x).to_uppercase()));
    e.register_fn("__f_lower", |x: Dynamic| s(text(&x).to_lowercase()));
    e.register_fn("__f_trim", |x: Dynamic| s(text(&x).trim()));
    e.register_fn("__f_ltrim", |x: Dynamic| s(text(&x).trim_start()));
    e.register_fn("__f_rtrim", |x: Dynamic| s(text(&x).trim_end()));
    e.register_fn("__f_replace", |x: Dynamic, a: Dynamic, b: Dynamic| -> ImmutableString {
        let from = text(&a);
        if from.is_empty() {
            return text(&x);
        }
        text(&x).replace(from.as_str(), text(&b).as_str()).into()
    });
    e.register_fn("__f_indexof", |x: Dynamic, a: Dynamic| -> Dynamic {
        let hay = text(&x);
        let needle = text(&a);
        let pos = hay.find(needle.as_str()).map(|byte| hay[..byte].chars().count() + 1).unwrap_or(0);
        Dynamic::from_float(pos as f64)
    });
    e.register_fn("__f_contains", |x: Dynamic, a: Dynamic| -> bool {
        match value(x) {
            Value::Array(items) => {
                let probe = value(a);
                items.iter().any(|v| v.loose_eq(&probe))
            }
            other => other.to_text().contains(text(&a).as_str()),
        }
    });
    e.register_fn("__f_startswith", |x: Dynamic, a: Dynamic| text(&x).starts_with(text(&a).as_str()));
    e.register_fn("__f_endswith", |x: Dynamic, a: Dynamic| text(&x).ends_with(text(&a).as_str()));
    fn padleft(x: &Dynamic, width: &Dynamic, fill: Option<&Dynamic>) -> R<ImmutableString> {
        let width = whole(width, "padleft(): the width")?.clamp(0, 100_000) as usize;
        let fill = fill.map(text).and_then(|f| f.chars().next()).unwrap_or(' ');
        let t = text(x);
        let n = t.chars().count();
        Ok(if n >= width { t } else { format!("{}{t}", fill.to_string().repeat(width - n)).into() })
    }
    e.register_fn("__f_padleft", |x: Dynamic, w: Dynamic| padleft(&x, &w, None));
    e.register_fn("__f_padleft", |x: Dynamic, w: Dynamic, f: Dynamic| padleft(&x, &w, Some(&f)));
    e.register_fn("__f_split", |x: Dynamic, sep: Dynamic| -> ImmutableString {
        let t = text(&x);
        let sep = text(&sep);
        if sep.is_empty() {
            return t.chars().map(|c| c.to_string()).collect::<Vec<_>>().join("|").into();
        }
        t.split(sep.as_str()).collect::<Vec<_>>().join("|").into()
    });
    e.register_fn("__f_format", |x: Dynamic, pattern: Dynamic| -> R<ImmutableString> {
        let p = text(&pattern);
        if let Some(n) = num(&x)
            && p.contains(['0', '#'])
        {
            return Ok(dates::format_number_pattern(n, &p).into());
        }
        match dates::read_date(&x) {
            Some(d) => Ok(dates::format_pattern(&d, &p, run_tz()).into()),
            None => err(format!("format(): '{}' is neither a number nor a date", text(&x))),
        }
    });
}

/// Numbers: rounding, bounds, random draws, `isnumeric`.
fn register_numbers(e: &mut Engine) {
    e.register_fn("__f_abs", |x: Dynamic| Dynamic::from_float(num(&x).unwrap_or(0.0).abs()));
    e.register_fn("__f_round", |x: Dynamic| Dynamic::from_float(round_half_away(num(&x).unwrap_or(0.0), 0)));
    e.register_fn("__f_round", |x: Dynamic, d: Dynamic| -> R<Dynamic> {
        let digits = whole(&d, "round(): the number of digits")?.clamp(0, 15) as i32;
        Ok(Dynamic::from_float(round_half_away(num(&x).unwrap_or(0.0), digits)))
    });
    e.register_fn("__f_floor", |x: Dynamic| Dynamic::from_float(num(&x).unwrap_or(0.0).floor()));
    e.register_fn("__f_ceiling", |x: Dynamic| Dynamic::from_float(num(&x).unwrap_or(0.0).ceil()));
    e.register_fn("__f_min", |a: Dynamic, b: Dynamic| {
        Dynamic::from_float(num(&a).unwrap_or(0.0).min(num(&b).unwrap_or(0.0)))
    });
    e.register_fn("__f_max", |a: Dynamic, b: Dynamic| {
        Dynamic::from_float(num(&a).unwrap_or(0.0).max(num(&b).unwrap_or(0.0)))
    });
    e.register_fn("__f_random", |max: Dynamic| -> R<Dynamic> {
        let max = whole(&max, "random(): the limit")?;
        if max < 1 {
            return err("random(): the limit must be at least 1");
        }
        let f = ENV.with(|env| draw(&mut env.borrow_mut()));
        Ok(Dynamic::from_float((f * max as f64).floor()))
    });
    e.register_fn("__f_random", |lo: Dynamic, hi: Dynamic| -> R<Dynamic> {
        let lo = whole(&lo, "random(): the lower bound")?;
        let hi = whole(&hi, "random(): the upper bound")?;
        if hi < lo {
            return err("random(): the upper bound is below the lower bound");
        }
        let f = ENV.with(|env| draw(&mut env.borrow_mut()));
        Ok(Dynamic::from_float(lo as f64 + (f * (hi - lo + 1) as f64).floor()))
    });
    e.register_fn("__f_isnumeric", |x: Dynamic| num(&x).is_some());
}

/// Dates: the clock, conversions, arithmetic, parts, construction.
fn register_dates(e: &mut Engine) {
    e.register_fn("__f_now", || s(dates::format_datetime(&local_now())));
    e.register_fn("__f_asdate", |x: Dynamic| -> R<ImmutableString> {
        Ok(s(date_arg(&x, "asdate()")?.format("%Y-%m-%d").to_string()))
    });
    e.register_fn("__f_astime", |x: Dynamic| -> R<ImmutableString> {
        Ok(s(date_arg(&x, "astime()")?.format("%H:%M:%S").to_string()))
    });
    e.register_fn("__f_asdatetime", |x: Dynamic| -> R<ImmutableString> {
        Ok(s(dates::format_datetime(&date_arg(&x, "asdatetime()")?)))
    });
    e.register_fn("__f_asdatetime", |x: Dynamic, f: Dynamic| -> R<ImmutableString> {
        Ok(s(dates::format_pattern(&date_arg(&x, "asdatetime()")?, &text(&f), run_tz())))
    });
    e.register_fn("__f_asisodatetime", |x: Dynamic| -> R<ImmutableString> {
        Ok(s(dates::format_pattern(&date_arg(&x, "asisodatetime()")?, "yyyy-MM-ddTHH:mm:ss.fffzzz", run_tz())))
    });
    e.register_fn("__f_asutc", |x: Dynamic| -> R<ImmutableString> {
        let local = date_arg(&x, "asutc()")?;
        let utc = dates::local_to_utc(&local, run_tz()).ok_or_else(|| -> Box<rhai::EvalAltResult> {
            "asutc(): that local time does not exist (daylight saving gap)".into()
        })?;
        Ok(s(dates::format_datetime(&utc)))
    });
    fn dateadd(args: &[&Dynamic]) -> R<ImmutableString> {
        let (unit, n, d) = unit_amount_date(args, "dateadd()")?;
        let sum =
            dates::add(d, unit, n).ok_or_else(|| -> Box<rhai::EvalAltResult> { "dateadd(): out of range".into() })?;
        Ok(s(dates::format_datetime(&sum)))
    }
    e.register_fn("__f_dateadd", |a: Dynamic, b: Dynamic| dateadd(&[&a, &b]));
    e.register_fn("__f_dateadd", |a: Dynamic, b: Dynamic, c: Dynamic| dateadd(&[&a, &b, &c]));
    e.register_fn("__f_datediff", |u: Dynamic, a: Dynamic, b: Dynamic| -> R<Dynamic> {
        let unit = dates::Unit::parse(&text(&u)).ok_or_else(|| -> Box<rhai::EvalAltResult> {
            format!("datediff(): '{}' is not a date unit", text(&u)).into()
        })?;
        let d1 = date_arg(&a, "datediff()")?;
        let d2 = date_arg(&b, "datediff()")?;
        Ok(Dynamic::from_float(dates::diff(unit, d1, d2) as f64))
    });
    e.register_fn("__f_datepart", |a: Dynamic, b: Dynamic| -> R<Dynamic> {
        let (unit, d) = match dates::Unit::parse(&text(&a)) {
            Some(u) => (u, date_arg(&b, "datepart()")?),
            None => (
                dates::Unit::parse(&text(&b)).ok_or_else(|| -> Box<rhai::EvalAltResult> {
                    format!("datepart(): '{}' is not a date unit", text(&b)).into()
                })?,
                date_arg(&a, "datepart()")?,
            ),
        };
        Ok(Dynamic::from_float(dates::part(unit, &d) as f64))
    });
    e.register_fn("__f_datebuild", |y: Dynamic, m: Dynamic, d: Dynamic| -> R<ImmutableString> {
        let dt = dates::build(whole(&y, "year")?, whole(&m, "month")?, whole(&d, "day")?, 0, 0, 0)
            .ok_or_else(|| -> Box<rhai::EvalAltResult> { "datebuild(): not a valid date".into() })?;
        Ok(s(dates::format_datetime(&dt)))
    });
    e.register_fn(
        "__f_datetimebuild",
        |y: Dynamic, mo: Dynamic, d: Dynamic, h: Dynamic, mi: Dynamic, sec: Dynamic| -> R<ImmutableString> {
            let dt = dates::build(
                whole(&y, "year")?,
                whole(&mo, "month")?,
                whole(&d, "day")?,
                whole(&h, "hour")?,
                whole(&mi, "minute")?,
                whole(&sec, "second")?,
            )
            .ok_or_else(|| -> Box<rhai::EvalAltResult> { "datetimebuild(): not a valid date and time".into() })?;
            Ok(s(dates::format_datetime(&dt)))
        },
    );
    e.register_fn("__f_dow", |x: Dynamic| -> R<Dynamic> {
        Ok(Dynamic::from_float(dates::part(dates::Unit::Weekday, &date_arg(&x, "dow()")?) as f64))
    });
}

/// Objects and arrays: JSON in and out, counting, appending.
fn register_objects(e: &mut Engine) {
    e.register_fn("__f_asjson", |x: Dynamic| -> ImmutableString {
        let v = value(x);
        match v {
            Value::Object(_) | Value::Array(_) => serde_json::to_string(&v.to_studio_json()).unwrap_or_default().into(),
            scalar => serde_json::to_string(&scalar.to_text().as_str()).unwrap_or_default().into(),
        }
    });
    e.register_fn("__f_parsejson", |x: Dynamic| -> R<Dynamic> {
        let t = text(&x);
        match serde_json::from_str::<serde_json::Value>(&t) {
            Ok(j) => Ok(Value::from_json(&j).to_dynamic()),
            Err(e) => match crate::base::json::lone_surrogate(&t, &e) {
                Some((offset, message)) => {
                    let pos = crate::base::Pos::of_offset(&t, offset);
                    err(format!("parsejson(): not valid JSON ({message} at line {}, column {})", pos.line, pos.column))
                }
                None => err(format!("parsejson(): not valid JSON ({e})")),
            },
        }
    });
    e.register_fn("__f_count", |x: Dynamic| Dynamic::from_float(value(x).count() as f64));
    e.register_fn("__f_append", |x: Dynamic, item: Dynamic| -> R<Dynamic> {
        Ok(match value(x) {
            Value::Array(items) => {
                let item = value(item);
                let e = item.extent();
                check_depth(e.depth + 1)?;
                grow(e.bytes as i64)?;
                let mut items = Arc::unwrap_or_clone(items);
                items.push(item);
                Value::Array(Arc::new(items)).to_dynamic()
            }
            Value::Null => Dynamic::from(text(&item)),
            other => {
                let t = other.to_text();
                if t.is_empty() {
                    Dynamic::from(text(&item))
                } else {
                    Dynamic::from(ImmutableString::from(format!("{t}|{}", text(&item))))
                }
            }
        })
    });
}
