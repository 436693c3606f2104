//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) decoded to JSON.

mod decode;
mod path;
mod scalar;
mod special;
mod table;
mod wire;

#[cfg(test)]
mod tests;

pub use wire::{Wire, WireError};

use decode::Decoder;
use path::Path;
use serde_json::{Map, Value};
use special::SmallFields;
use std::fmt;

/// The media type of Kubernetes protobuf.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes before every Kubernetes protobuf object.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// How deeply messages may nest before a body is refused.
pub const MAX_DEPTH: usize = 100;

const META_V1: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// A protobuf body that cannot become JSON; every variant is a client error (400).
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// The body does not start with `k8s\0`.
    #[error("protobuf body does not start with the Kubernetes magic bytes \"k8s\\x00\"")]
    NoMagic,
    /// The envelope names no kind.
    #[error("protobuf envelope names no kind")]
    NoKind,
    /// The envelope names a kind Skiff has no protobuf schema for.
    #[error("no protobuf decoding for kind {kind:?} in {api_version:?}")]
    UnknownKind {
        /// The envelope's apiVersion.
        api_version: String,
        /// The envelope's kind.
        kind: String,
    },
    /// The envelope's payload is compressed or otherwise encoded.
    #[error("unsupported protobuf content encoding {0:?}")]
    ContentEncoding(String),
    /// The bytes are not well-formed protobuf.
    #[error("malformed protobuf at {path}: {source}")]
    Malformed {
        /// Where in the object.
        path: String,
        /// What was wrong.
        #[source]
        source: WireError,
    },
    /// Well-formed protobuf holding a value its type cannot take.
    #[error("invalid protobuf value at {path}: {reason}")]
    InvalidValue {
        /// Where in the object.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Messages nest deeper than [`MAX_DEPTH`].
    #[error("protobuf nested more than {MAX_DEPTH} messages deep at {path}")]
    TooDeep {
        /// Where in the object.
        path: String,
    },
    /// A RawExtension or FieldsV1 holds bytes that are not JSON.
    #[error("embedded JSON at {path} does not parse")]
    EmbeddedJson {
        /// Where in the object.
        path: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// Results of this module.
pub type Result<T, E = ProtobufError> = std::result::Result<T, E>;

/// A field number the table does not declare, skipped while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    /// Path of the message holding it (`spec.template.spec`); empty for the object.
    pub path: String,
    /// The protobuf field number.
    pub number: u32,
}

impl fmt::Display for UnknownField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path.as_str() {
            "" => write!(f, "unknown protobuf field {}", self.number),
            path => write!(f, "unknown protobuf field {} in {path}", self.number),
        }
    }
}

/// A decoded body: the JSON object and the fields that were skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The object, with `apiVersion` and `kind` from the envelope.
    pub object: Value,
    /// Field numbers skipped as unknown, for warnings.
    pub unknown_fields: Vec<UnknownField>,
}

/// Whether a content type is Kubernetes protobuf.
pub fn is_protobuf(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default();
    media.trim().eq_ignore_ascii_case(CONTENT_TYPE)
}

/// Decodes a `k8s\0`-framed runtime.Unknown body into the JSON object a JSON client would send.
pub fn decode(body: &[u8]) -> Result<Value> {
    decode_reporting_unknown(body).map(|d| d.object)
}

/// Decodes like [`decode`], also listing the field numbers it skipped.
pub fn decode_reporting_unknown(body: &[u8]) -> Result<Decoded> {
    let inner = body.strip_prefix(MAGIC).ok_or(ProtobufError::NoMagic)?;
    let mut decoder = Decoder::new(table::table());
    let object = decode_unknown(&mut decoder, inner, &Path::Root, 0)?;
    Ok(Decoded {
        object,
        unknown_fields: decoder.unknown,
    })
}

/// Decodes a runtime.Unknown (after the magic): TypeMeta, raw object bytes, encoding.
fn decode_unknown(decoder: &mut Decoder, bytes: &[u8], path: &Path, depth: usize) -> Result<Value> {
    let envelope = SmallFields::read(bytes, path)?;
    let type_meta = SmallFields::read(envelope.bytes(1).unwrap_or_default(), path)?;
    let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
    let (api_version, kind) = (text(type_meta.bytes(1)), text(type_meta.bytes(2)));
    let encoding = text(envelope.bytes(3));
    if !encoding.is_empty() {
        return Err(ProtobufError::ContentEncoding(encoding));
    }
    if kind.is_empty() {
        return Err(ProtobufError::NoKind);
    }
    let index = message_for(&api_version, &kind).ok_or_else(|| ProtobufError::UnknownKind {
        api_version: api_version.clone(),
        kind: kind.clone(),
    })?;
    let raw = envelope.bytes(2).unwrap_or_default();
    let fields = match decoder.message(index, raw, path, depth)? {
        Some(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    let mut object = Map::from_iter([
        ("apiVersion".to_string(), Value::from(api_version)),
        ("kind".to_string(), Value::from(kind)),
    ]);
    object.extend(fields);
    Ok(Value::Object(object))
}

/// The table index of the message for an apiVersion and kind (`apps/v1` `Deployment`).
fn message_for(api_version: &str, kind: &str) -> Option<usize> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let table = table::table();
    let package = match group.split('.').next() {
        None | Some("") => "core",
        Some(p) => p,
    };
    let found = table.find(&format!("io.k8s.api.{package}.{version}.{kind}"));
    found.or_else(|| match kind {
        "DeleteOptions" | "Status" => table.find(&format!("{META_V1}.{kind}")),
        _ => None,
    })
}
