//! Messages with their own JSON form: Time, MicroTime, Duration, Quantity, IntOrString.

use super::path::Path;
use super::wire::{Reader, Wire, WireError};
use super::ProtobufError;
use chrono::{DateTime, Datelike, Utc};
use serde_json::Value;

/// Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z), which JSON writes as null.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// The last varint and length-delimited value of fields 1 to 3 (others skipped).
#[derive(Default)]
pub struct SmallFields<'a> {
    varint: [Option<u64>; 4],
    len: [Option<&'a [u8]>; 4],
}

impl<'a> SmallFields<'a> {
    /// Reads a small message.
    pub fn read(bytes: &'a [u8], path: &Path) -> Result<Self, ProtobufError> {
        let malformed = malformed(path);
        let mut fields = Self::default();
        let mut r = Reader::new(bytes);
        while let Some((tag, wire)) = r.key().map_err(&malformed)? {
            let slot = tag as usize;
            match wire {
                Wire::Varint if slot <= 3 => {
                    fields.varint[slot] = Some(r.varint().map_err(&malformed)?)
                }
                Wire::Len if slot <= 3 => {
                    fields.len[slot] = Some(r.len_delimited().map_err(&malformed)?)
                }
                _ => r.skip(wire).map_err(&malformed)?,
            }
        }
        Ok(fields)
    }

    /// Field `tag` as a varint.
    pub fn varint(&self, tag: usize) -> Option<u64> {
        self.varint[tag]
    }

    /// Field `tag` as bytes.
    pub fn bytes(&self, tag: usize) -> Option<&'a [u8]> {
        self.len[tag]
    }

    fn text(&self, tag: usize) -> Option<String> {
        self.len[tag].map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// meta/v1 Time or MicroTime as RFC 3339 (six fractional digits when `micro`); `None` for zero.
pub fn time(bytes: &[u8], micro: bool, path: &Path) -> Result<Option<Value>, ProtobufError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let fields = SmallFields::read(bytes, path)?;
    let seconds = fields.varint(1).unwrap_or(0) as i64;
    let nanos = fields.varint(2).unwrap_or(0) as i32;
    if seconds == GO_ZERO_TIME && nanos == 0 {
        return Ok(None);
    }
    let time = u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .and_then(|n| DateTime::<Utc>::from_timestamp(seconds, n))
        .filter(|t| (0..=9999).contains(&t.year()))
        .ok_or_else(|| ProtobufError::InvalidValue {
            path: path.render(),
            reason: format!("time out of range: {seconds}s {nanos}ns"),
        })?;
    let format = if micro {
        "%Y-%m-%dT%H:%M:%S%.6fZ"
    } else {
        "%Y-%m-%dT%H:%M:%SZ"
    };
    Ok(Some(Value::String(time.format(format).to_string())))
}

/// meta/v1 Duration as Go prints it (`1h2m3s`, `1.5ms`).
pub fn duration(bytes: &[u8], path: &Path) -> Result<Value, ProtobufError> {
    let nanos = SmallFields::read(bytes, path)?.varint(1).unwrap_or(0) as i64;
    Ok(Value::String(go_duration(nanos)))
}

/// resource.Quantity as its string; `"0"` when unset.
pub fn quantity(bytes: &[u8], path: &Path) -> Result<Value, ProtobufError> {
    let text = SmallFields::read(bytes, path)?.text(1);
    Ok(Value::String(text.unwrap_or_else(|| "0".into())))
}

/// intstr.IntOrString as a number (type 0) or a string (type 1).
pub fn int_or_string(bytes: &[u8], path: &Path) -> Result<Value, ProtobufError> {
    let fields = SmallFields::read(bytes, path)?;
    Ok(match fields.varint(1) {
        Some(1) => Value::String(fields.text(3).unwrap_or_default()),
        _ => Value::from(fields.varint(2).unwrap_or(0) as i32),
    })
}

/// The raw bytes of a RawExtension or FieldsV1 (field 1).
pub fn raw<'b>(bytes: &'b [u8], path: &Path) -> Result<&'b [u8], ProtobufError> {
    Ok(SmallFields::read(bytes, path)?.bytes(1).unwrap_or_default())
}

/// Formats nanoseconds like Go's `time.Duration.String`.
pub fn go_duration(nanos: i64) -> String {
    let mut u = nanos.unsigned_abs();
    if u == 0 {
        return "0s".into();
    }
    let body = if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0..=999 => (0, "ns"),
            1_000..=999_999 => (3, "µs"),
            _ => (6, "ms"),
        };
        let frac = fraction(&mut u, prec);
        format!("{u}{frac}{unit}")
    } else {
        let frac = fraction(&mut u, 9);
        let (h, m, s) = (u / 3600, u / 60 % 60, u % 60);
        match (h, m) {
            (0, 0) => format!("{s}{frac}s"),
            (0, _) => format!("{m}m{s}{frac}s"),
            _ => format!("{h}h{m}m{s}{frac}s"),
        }
    };
    if nanos < 0 {
        format!("-{body}")
    } else {
        body
    }
}

/// Splits `v / 10^prec` off `v`, returning `.digits` without trailing zeros (or nothing).
fn fraction(v: &mut u64, prec: u32) -> String {
    let scale = 10u64.pow(prec);
    let frac = *v % scale;
    *v /= scale;
    if frac == 0 {
        return String::new();
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    format!(".{}", digits.trim_end_matches('0'))
}

/// Turns a wire error at a path into a [`ProtobufError`].
pub fn malformed<'p>(path: &'p Path<'_>) -> impl Fn(WireError) -> ProtobufError + 'p {
    move |source| ProtobufError::Malformed {
        path: path.render(),
        source,
    }
}
