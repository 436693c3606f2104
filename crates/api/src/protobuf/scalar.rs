//! Scalar protobuf values as JSON, the way Go's encoding/json writes the Go fields.

use super::path::Path;
use super::special::malformed;
use super::table::Scalar;
use super::wire::{Reader, Wire};
use super::ProtobufError;
use base64::Engine;
use serde_json::Value;

/// Reads one scalar as JSON: bytes as base64, integers as numbers, text lossily as UTF-8.
pub fn scalar(s: Scalar, r: &mut Reader, path: &Path) -> Result<Value, ProtobufError> {
    let m = malformed(path);
    Ok(match s {
        Scalar::String => {
            Value::String(String::from_utf8_lossy(r.len_delimited().map_err(m)?).into_owned())
        }
        Scalar::Bytes => Value::String(
            base64::engine::general_purpose::STANDARD.encode(r.len_delimited().map_err(m)?),
        ),
        Scalar::Bool => Value::Bool(r.varint().map_err(m)? != 0),
        Scalar::Int32 => Value::from(r.varint().map_err(m)? as i32),
        Scalar::Int64 => Value::from(r.varint().map_err(m)? as i64),
        Scalar::Uint32 => Value::from(r.varint().map_err(m)? as u32),
        Scalar::Uint64 => Value::from(r.varint().map_err(m)?),
        Scalar::Double => float(f64::from_le_bytes(r.fixed64().map_err(m)?), path)?,
        Scalar::Float => float(f64::from(f32::from_le_bytes(r.fixed32().map_err(m)?)), path)?,
    })
}

/// A float as Go's encoding/json writes it: integral values without a fraction.
fn float(x: f64, path: &Path) -> Result<Value, ProtobufError> {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return Ok(Value::from(x as i64));
    }
    serde_json::Number::from_f64(x)
        .map(Value::Number)
        .ok_or_else(|| ProtobufError::InvalidValue {
            path: path.render(),
            reason: format!("{x} has no JSON form"),
        })
}

impl Scalar {
    /// The wire type this scalar uses.
    pub fn wire(self) -> Wire {
        match self {
            Scalar::String | Scalar::Bytes => Wire::Len,
            Scalar::Double => Wire::Fixed64,
            Scalar::Float => Wire::Fixed32,
            _ => Wire::Varint,
        }
    }

    /// Whether a repeated field of this scalar may arrive packed.
    pub fn packable(self) -> bool {
        !matches!(self, Scalar::String | Scalar::Bytes)
    }

    /// The JSON of this scalar's zero value.
    pub fn zero(self) -> Value {
        match self {
            Scalar::String | Scalar::Bytes => Value::String(String::new()),
            Scalar::Bool => Value::Bool(false),
            _ => Value::from(0),
        }
    }
}

/// Whether a scalar's JSON is its zero value (`""`, `false`, `0`).
pub fn is_zero(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}
