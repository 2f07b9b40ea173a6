//! Snapshot schedule expressions (§3.16): `rate(N hours)` (1–24) and a cron subset
//! (`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, or the short
//! `cron(Minutes Hours Day-of-month)`), with their next invocations in UTC.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use tidemark_core::Timestamp;

/// Why a definition is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// Not a `rate(...)` or `cron(...)` expression.
    Unsupported(String),
    /// A rate/cron that does not parse or breaks the frequency rules.
    Invalid(String),
}

enum Def {
    /// Every `n` seconds, anchored at the Unix epoch.
    Rate(i64),
    Cron {
        minutes: Vec<i8>,
        hours: Vec<i8>,
        dom: Option<Vec<i8>>,
        months: Option<Vec<i8>>,
        dow: Option<Vec<i8>>,
        years: Option<Vec<i16>>,
    },
}

fn field(text: &str, lo: i32, hi: i32, names: &[&str]) -> Result<Option<Vec<i32>>, String> {
    if text == "*" || text == "?" {
        return Ok(None);
    }
    let num = |s: &str| -> Result<i32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(lo + i as i32);
        }
        s.parse::<i32>()
            .map_err(|_| format!("'{s}' is not a number"))
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<i32>()
                    .map_err(|_| format!("bad step in '{part}'"))?,
            ),
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (num(a)?, num(b)?)
        } else {
            let a = num(range)?;
            (a, if part.contains('/') { hi } else { a })
        };
        if a < lo || b > hi || a > b || step < 1 {
            return Err(format!("'{part}' is out of range {lo}-{hi}"));
        }
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

fn small(v: Option<Vec<i32>>) -> Option<Vec<i8>> {
    v.map(|v| v.into_iter().map(|x| x as i8).collect())
}

fn parse(def: &str) -> Result<Def, ScheduleError> {
    let invalid =
        |why: String| ScheduleError::Invalid(format!("Invalid schedule definition {def}: {why}"));
    let def_trim = def.trim();
    if let Some(body) = def_trim
        .strip_prefix("rate(")
        .and_then(|b| b.strip_suffix(')'))
    {
        let mut it = body.split_whitespace();
        let (Some(n), Some(unit), None) = (it.next(), it.next(), it.next()) else {
            return Err(invalid("expected rate(<n> hours)".into()));
        };
        let n: i64 = n
            .parse()
            .map_err(|_| invalid(format!("'{n}' is not a number")))?;
        let hours = match unit {
            "hour" | "hours" => n,
            "day" | "days" => n * 24,
            _ => {
                return Err(invalid(format!(
                    "unit '{unit}' is not supported; use hours"
                )));
            }
        };
        if !(1..=24).contains(&hours) {
            return Err(invalid(
                "snapshots must be at least one hour and at most 24 hours apart".into(),
            ));
        }
        return Ok(Def::Rate(hours * 3600));
    }
    if let Some(body) = def_trim
        .strip_prefix("cron(")
        .and_then(|b| b.strip_suffix(')'))
    {
        let f: Vec<&str> = body.split_whitespace().collect();
        let (m, h, dom, mon, dow, year) = match f.as_slice() {
            [m, h, dom] => (*m, *h, *dom, "*", "?", "*"),
            [m, h, dom, mon, dow, year] => (*m, *h, *dom, *mon, *dow, *year),
            _ => {
                return Err(invalid(
                    "expected 6 fields (or the short 3-field form)".into(),
                ));
            }
        };
        let minutes = field(m, 0, 59, &[])
            .map_err(invalid)?
            .unwrap_or_else(|| (0..60).collect());
        let hours = field(h, 0, 23, &[])
            .map_err(invalid)?
            .unwrap_or_else(|| (0..24).collect());
        if minutes.len() > 1 {
            return Err(invalid("at most one snapshot per hour is allowed".into()));
        }
        let days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let months = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        return Ok(Def::Cron {
            minutes: minutes.into_iter().map(|x| x as i8).collect(),
            hours: hours.into_iter().map(|x| x as i8).collect(),
            dom: small(field(dom, 1, 31, &[]).map_err(invalid)?),
            months: small(field(mon, 1, 12, &months).map_err(invalid)?),
            dow: small(field(dow, 1, 7, &days).map_err(invalid)?),
            years: field(year, 1970, 2199, &[])
                .map_err(invalid)?
                .map(|v| v.into_iter().map(|x| x as i16).collect()),
        });
    }
    Err(ScheduleError::Unsupported(format!(
        "Schedule definition {def} is not supported: use rate(...) or cron(...)."
    )))
}

/// Checks every definition of a schedule.
pub fn check_definitions(defs: &[String]) -> Result<(), ScheduleError> {
    if defs.is_empty() {
        return Err(ScheduleError::Invalid(
            "A schedule needs at least one definition.".into(),
        ));
    }
    defs.iter().try_for_each(|d| parse(d).map(|_| ()))
}

fn next_one(def: &Def, after: Timestamp) -> Option<Timestamp> {
    match def {
        Def::Rate(secs) => {
            let s = after.as_second();
            Timestamp::from_second((s.div_euclid(*secs) + 1) * secs).ok()
        }
        Def::Cron {
            minutes,
            hours,
            dom,
            months,
            dow,
            years,
        } => {
            let mut day: Date = after.to_zoned(TimeZone::UTC).date();
            for _ in 0..(366 * 5) {
                let ok = dom.as_ref().is_none_or(|v| v.contains(&day.day()))
                    && months.as_ref().is_none_or(|v| v.contains(&day.month()))
                    && dow
                        .as_ref()
                        .is_none_or(|v| v.contains(&day.weekday().to_sunday_one_offset()))
                    && years.as_ref().is_none_or(|v| v.contains(&day.year()));
                if ok {
                    for h in hours {
                        for m in minutes {
                            let t = day
                                .at(*h, *m, 0, 0)
                                .to_zoned(TimeZone::UTC)
                                .ok()?
                                .timestamp();
                            if t > after {
                                return Some(t);
                            }
                        }
                    }
                }
                day = day.tomorrow().ok()?;
            }
            None
        }
    }
}

/// The earliest invocation of any of `defs` strictly after `after` (unparseable ones ignored).
pub fn next_invocation(defs: &[String], after: Timestamp) -> Option<Timestamp> {
    defs.iter()
        .filter_map(|d| parse(d).ok())
        .filter_map(|d| next_one(&d, after))
        .min()
}

pub(crate) fn next_of(defs: &[String], after: Timestamp) -> Option<Timestamp> {
    next_invocation(defs, after)
}
