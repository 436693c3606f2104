//! Standard five-field cron schedules and upstream's `@` macros, with next times in a time zone.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Why a schedule did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The schedule is empty.
    #[error("empty spec string")]
    Empty,
    /// The schedule does not have five fields.
    #[error("expected exactly 5 fields, found {0}: [{1}]")]
    FieldCount(usize, String),
    /// An `@` macro that upstream does not know.
    #[error("unrecognized descriptor: {0}")]
    Descriptor(String),
    /// A field holds a value outside its bounds or that is not a number or name.
    #[error("{0}")]
    Field(String),
}

/// A parsed schedule: one bit per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    dom_star: bool,
    dow_star: bool,
}

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
    first_name: u32,
}

const MINUTE: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
    first_name: 0,
};
const HOUR: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
    first_name: 0,
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
    first_name: 0,
};
const MONTH: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    first_name: 1,
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    first_name: 0,
};

fn value(s: &str, b: &Bounds) -> Result<u32, ScheduleError> {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = b.names.iter().position(|n| *n == lower) {
        return Ok(b.first_name + i as u32);
    }
    s.parse::<u32>()
        .map_err(|_| ScheduleError::Field(format!("failed to parse int from {s}")))
}

/// The bits of one comma-separated part, and whether it was `*`/`?` without a step.
fn part(expr: &str, b: &Bounds) -> Result<(u64, bool), ScheduleError> {
    let (range, step) = match expr.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (expr, None),
    };
    let (star, start, end) = if range == "*" || range == "?" {
        (true, b.min, b.max)
    } else {
        match range.split_once('-') {
            Some((lo, hi)) => (false, value(lo, b)?, value(hi, b)?),
            None => {
                let start = value(range, b)?;
                (false, start, if step.is_some() { b.max } else { start })
            }
        }
    };
    let step = match step {
        None => 1,
        Some(s) => value(s, &MINUTE)?,
    };
    if step == 0 {
        return Err(ScheduleError::Field(format!(
            "step of range should be a positive number: {expr}"
        )));
    }
    if start < b.min {
        return Err(ScheduleError::Field(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        )));
    }
    if end > b.max {
        return Err(ScheduleError::Field(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        )));
    }
    if start > end {
        return Err(ScheduleError::Field(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        )));
    }
    let mut bits = 0u64;
    let mut v = start;
    while v <= end {
        bits |= 1 << v;
        v = v.saturating_add(step);
    }
    Ok((bits, star && step == 1))
}

fn field(spec: &str, b: &Bounds) -> Result<(u64, bool), ScheduleError> {
    let mut bits = 0;
    let mut star = false;
    for expr in spec.split(',') {
        let (p, s) = part(expr, b)?;
        bits |= p;
        star |= s;
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parses a standard schedule or one of `@yearly`, `@annually`, `@monthly`, `@weekly`,
    /// `@daily`, `@midnight`, `@hourly`.
    pub fn parse(spec: &str) -> Result<Self, ScheduleError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(ScheduleError::Empty);
        }
        let spec = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => return Err(ScheduleError::Descriptor(s.to_string())),
            s => s,
        };
        let fields: Vec<&str> = spec.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(ScheduleError::FieldCount(fields.len(), fields.join(" ")));
        };
        let (dom, dom_star) = field(dom, &DOM)?;
        let (dow, dow_star) = field(dow, &DOW)?;
        Ok(Schedule {
            minute: field(minute, &MINUTE)?.0,
            hour: field(hour, &HOUR)?.0,
            dom,
            month: field(month, &MONTH)?.0,
            dow,
            dom_star,
            dow_star,
        })
    }

    fn day_matches(&self, d: Date) -> bool {
        let dom = self.dom & (1 << d.day()) != 0;
        let dow = self.dow & (1 << d.weekday().to_sunday_zero_offset()) != 0;
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first scheduled time strictly after `after`, in wall-clock time of `tz`.
    pub fn next(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let local = after.to_zoned(tz.clone()).datetime();
        let mut t = local.with().second(0).subsec_nanosecond(0).build().ok()?;
        t = t.checked_add(1.minute()).ok()?;
        let last_year = t.year().saturating_add(5);
        while t.year() <= last_year {
            let date = t.date();
            if self.month & (1 << date.month()) == 0 {
                t = date
                    .last_of_month()
                    .tomorrow()
                    .ok()?
                    .to_datetime(Time::midnight());
                continue;
            }
            if !self.day_matches(date) {
                t = date.tomorrow().ok()?.to_datetime(Time::midnight());
                continue;
            }
            if self.hour & (1 << t.hour()) == 0 {
                t = DateTime::from_parts(date, Time::new(t.hour(), 0, 0, 0).ok()?)
                    .checked_add(1.hour())
                    .ok()?;
                continue;
            }
            if self.minute & (1 << t.minute()) == 0 {
                t = t.checked_add(1.minute()).ok()?;
                continue;
            }
            let at = tz.to_zoned(t).ok()?.timestamp();
            if at > after {
                return Some(at);
            }
            t = t.checked_add(1.minute()).ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests;
