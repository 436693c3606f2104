//! Decodes protobuf messages into the JSON a Go JSON client would send, using the table.

use super::path::Path;
use super::scalar::{is_zero, scalar};
use super::special::{self, malformed};
use super::table::{Elem, Field, Kind, Message, Scalar, Special, Table};
use super::wire::{expect, Reader, Wire};
use super::{ProtobufError, UnknownField, MAGIC, MAX_DEPTH};
use serde_json::{Map, Value};

/// How many unknown fields one body reports at most.
const MAX_UNKNOWN: usize = 100;

/// Decodes messages of one request body, collecting the field numbers it does not know.
pub struct Decoder<'t> {
    table: &'t Table,
    /// Fields skipped because the table does not declare them.
    pub unknown: Vec<UnknownField>,
}

impl<'t> Decoder<'t> {
    /// A decoder over a table.
    pub fn new(table: &'t Table) -> Self {
        Self {
            table,
            unknown: Vec::new(),
        }
    }

    /// Decodes one message; `None` for values JSON writes as null (zero Time, empty RawExtension).
    pub fn message(
        &mut self,
        index: usize,
        bytes: &[u8],
        path: &Path,
        depth: usize,
    ) -> Result<Option<Value>, ProtobufError> {
        if depth > MAX_DEPTH {
            return Err(ProtobufError::TooDeep {
                path: path.render(),
            });
        }
        let msg = self.table.message(index);
        Ok(match msg.special {
            Special::None => Some(Value::Object(self.object(msg, bytes, path, depth)?)),
            Special::Time => special::time(bytes, false, path)?,
            Special::MicroTime => special::time(bytes, true, path)?,
            Special::Duration => Some(special::duration(bytes, path)?),
            Special::Quantity => Some(special::quantity(bytes, path)?),
            Special::IntOrString => Some(special::int_or_string(bytes, path)?),
            Special::RawExtension | Special::FieldsV1 => {
                self.raw_json(special::raw(bytes, path)?, path, depth)?
            }
        })
    }

    /// Embedded JSON, or an embedded `k8s\0` protobuf object; `None` when empty.
    fn raw_json(
        &mut self,
        raw: &[u8],
        path: &Path,
        depth: usize,
    ) -> Result<Option<Value>, ProtobufError> {
        if raw.is_empty() {
            return Ok(None);
        }
        if let Some(inner) = raw.strip_prefix(MAGIC) {
            return super::decode_unknown(self, inner, path, depth + 1).map(Some);
        }
        serde_json::from_slice(raw)
            .map(Some)
            .map_err(|source| ProtobufError::EmbeddedJson {
                path: path.render(),
                source,
            })
    }

    fn object(
        &mut self,
        msg: &Message,
        bytes: &[u8],
        path: &Path,
        depth: usize,
    ) -> Result<Map<String, Value>, ProtobufError> {
        let mut out = Map::new();
        let mut r = Reader::new(bytes);
        while let Some((tag, wire)) = r.key().map_err(malformed(path))? {
            match msg.field(tag) {
                Some(field) => {
                    let here = Path::Field(path, &field.json);
                    self.field(field, wire, &mut r, &mut out, &here, depth)?;
                }
                None => {
                    r.skip(wire).map_err(malformed(path))?;
                    if self.unknown.len() < MAX_UNKNOWN {
                        self.unknown.push(UnknownField {
                            path: path.to_string(),
                            number: tag,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    fn field(
        &mut self,
        f: &Field,
        wire: Wire,
        r: &mut Reader,
        out: &mut Map<String, Value>,
        path: &Path,
        depth: usize,
    ) -> Result<(), ProtobufError> {
        let json = &f.json;
        match f.kind {
            Kind::Map(key, value) => {
                expect(f.tag, wire, Wire::Len).map_err(malformed(path))?;
                let entry = r.len_delimited().map_err(malformed(path))?;
                let (k, v) = self.map_entry(entry, key, value, path, depth)?;
                match out
                    .entry(json.clone())
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    Value::Object(map) => drop(map.insert(k, v)),
                    other => *other = Value::Object(Map::from_iter([(k, v)])),
                }
            }
            Kind::Single(Elem::Message(index)) => {
                expect(f.tag, wire, Wire::Len).map_err(malformed(path))?;
                let bytes = r.len_delimited().map_err(malformed(path))?;
                if f.repeated {
                    let here = Path::Index(path, array_len(out, json));
                    let value = self.message(index, bytes, &here, depth + 1)?;
                    push(out, json, value.unwrap_or(Value::Null));
                } else {
                    match self.message(index, bytes, path, depth + 1)? {
                        Some(Value::Object(fields)) if f.inline => {
                            fields.into_iter().for_each(|(k, v)| merge_into(out, k, v))
                        }
                        Some(value) => merge_into(out, json.clone(), value),
                        None => drop(out.shift_remove(json)),
                    }
                }
            }
            Kind::Single(Elem::Scalar(s)) if f.repeated && wire == Wire::Len && s.packable() => {
                let packed = r.len_delimited().map_err(malformed(path))?;
                let mut inner = Reader::new(packed);
                while !inner.is_empty() {
                    push(out, json, scalar(s, &mut inner, path)?);
                }
            }
            Kind::Single(Elem::Scalar(s)) => {
                expect(f.tag, wire, s.wire()).map_err(malformed(path))?;
                let value = scalar(s, r, path)?;
                if f.repeated {
                    push(out, json, value);
                } else if !f.keep_zero && is_zero(&value) {
                    out.shift_remove(json);
                } else {
                    out.insert(json.clone(), value);
                }
            }
        }
        Ok(())
    }

    /// One map entry (`1: key, 2: value`); a missing part takes its zero value.
    fn map_entry(
        &mut self,
        bytes: &[u8],
        key: Scalar,
        value: Elem,
        path: &Path,
        depth: usize,
    ) -> Result<(String, Value), ProtobufError> {
        let mut r = Reader::new(bytes);
        let (mut k, mut v) = (String::new(), None);
        while let Some((tag, wire)) = r.key().map_err(malformed(path))? {
            match (tag, value) {
                (1, _) => {
                    expect(tag, wire, key.wire()).map_err(malformed(path))?;
                    k = match scalar(key, &mut r, path)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                }
                (2, Elem::Scalar(s)) => {
                    expect(tag, wire, s.wire()).map_err(malformed(path))?;
                    v = Some(scalar(s, &mut r, path)?);
                }
                (2, Elem::Message(index)) => {
                    expect(tag, wire, Wire::Len).map_err(malformed(path))?;
                    let bytes = r.len_delimited().map_err(malformed(path))?;
                    v = Some(
                        self.message(index, bytes, &Path::Key(path, &k), depth + 1)?
                            .unwrap_or(Value::Null),
                    );
                }
                _ => r.skip(wire).map_err(malformed(path))?,
            }
        }
        let v = match (v, value) {
            (Some(v), _) => v,
            (None, Elem::Scalar(s)) => s.zero(),
            (None, Elem::Message(index)) => self
                .message(index, &[], path, depth + 1)?
                .unwrap_or(Value::Null),
        };
        Ok((k, v))
    }
}

fn array_len(out: &Map<String, Value>, key: &str) -> usize {
    out.get(key).and_then(Value::as_array).map_or(0, Vec::len)
}

fn push(out: &mut Map<String, Value>, key: &str, value: Value) {
    match out
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()))
    {
        Value::Array(items) => items.push(value),
        other => *other = Value::Array(vec![value]),
    }
}

/// Sets a key; a second occurrence of a message merges into the first, as protobuf does.
fn merge_into(out: &mut Map<String, Value>, key: String, value: Value) {
    match (out.get_mut(&key), value) {
        (Some(Value::Object(old)), Value::Object(new)) => {
            new.into_iter().for_each(|(k, v)| merge_into(old, k, v))
        }
        (Some(Value::Array(old)), Value::Array(new)) => old.extend(new),
        (_, value) => drop(out.insert(key, value)),
    }
}
