//! The protobuf message table (`messages.json`) joined with JSON names from the schemas.

use crate::schema;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// One message's fields as the generator writes them: tag, prost name, kind, flags.
type RawFields = Vec<(u32, String, String, String)>;

/// A scalar protobuf type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    /// UTF-8 text.
    String,
    /// Raw bytes, base64 in JSON.
    Bytes,
    /// A boolean varint.
    Bool,
    /// A signed 32-bit varint.
    Int32,
    /// A signed 64-bit varint.
    Int64,
    /// An unsigned 32-bit varint.
    Uint32,
    /// An unsigned 64-bit varint.
    Uint64,
    /// A little-endian 64-bit float.
    Double,
    /// A little-endian 32-bit float.
    Float,
}

/// What a map value or a field holds: a scalar or a message (by table index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    /// A scalar.
    Scalar(Scalar),
    /// A message, by index into the table.
    Message(usize),
}

/// A field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scalar or message.
    Single(Elem),
    /// A `map<key, value>` (map entries on the wire).
    Map(Scalar, Elem),
}

/// Messages whose JSON form is not an object of their fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    /// An ordinary message: a JSON object.
    None,
    /// meta/v1 Time: RFC 3339 to the second.
    Time,
    /// meta/v1 MicroTime: RFC 3339 to the microsecond.
    MicroTime,
    /// meta/v1 Duration: a Go duration string.
    Duration,
    /// resource.Quantity: its string.
    Quantity,
    /// intstr.IntOrString: a number or a string.
    IntOrString,
    /// runtime.RawExtension: the embedded JSON.
    RawExtension,
    /// meta/v1 FieldsV1: the embedded JSON.
    FieldsV1,
}

/// One field of a message.
#[derive(Debug, Clone)]
pub struct Field {
    /// Field number.
    pub tag: u32,
    /// JSON property name.
    pub json: String,
    /// Type.
    pub kind: Kind,
    /// Whether the field is `repeated`.
    pub repeated: bool,
    /// Whether a zero value was sent on purpose (Go pointer or non-`omitempty` field).
    pub keep_zero: bool,
    /// Whether the message is embedded `json:",inline"` into its parent.
    pub inline: bool,
}

/// One message type.
#[derive(Debug, Clone)]
pub struct Message {
    /// How the message maps to JSON.
    pub special: Special,
    /// Fields sorted by number.
    fields: Vec<Field>,
}

impl Message {
    /// The field with a number, if declared.
    pub fn field(&self, tag: u32) -> Option<&Field> {
        let i = self.fields.binary_search_by_key(&tag, |f| f.tag).ok()?;
        self.fields.get(i)
    }
}

/// Every message Skiff decodes, indexed by definition name.
#[derive(Debug)]
pub struct Table {
    messages: Vec<Message>,
    by_name: HashMap<String, usize>,
}

impl Table {
    /// The message at an index.
    pub fn message(&self, index: usize) -> &Message {
        &self.messages[index]
    }

    /// The index of a message by definition name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }
}

static TABLE: OnceLock<Table> = OnceLock::new();

/// The table, built on first use.
pub fn table() -> &'static Table {
    TABLE.get_or_init(|| build(include_str!("messages.json")))
}

fn build(data: &str) -> Table {
    let raw: BTreeMap<String, RawFields> =
        serde_json::from_str(data).expect("messages.json is generated and well-formed");
    let by_name: HashMap<String, usize> = raw
        .keys()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let mut inlined_into = HashMap::new();
    for (parent, fields) in &raw {
        for (_, _, kind, flags) in fields {
            if flags.contains('i') {
                inlined_into.insert(kind.trim_start_matches("m:").to_string(), parent.clone());
            }
        }
    }
    let messages = raw
        .iter()
        .map(|(name, fields)| {
            let context = inlined_into.get(name).unwrap_or(name);
            let names =
                JsonNames::of(schema::definition(name).or_else(|| schema::definition(context)));
            let mut fields: Vec<Field> = fields
                .iter()
                .map(|(tag, prost, kind, flags)| {
                    let json = names.property(prost);
                    Field {
                        tag: *tag,
                        kind: parse_kind(kind, &by_name),
                        repeated: flags.contains('r'),
                        keep_zero: flags.contains('p') || names.required(&json),
                        inline: flags.contains('i'),
                        json,
                    }
                })
                .collect();
            fields.sort_by_key(|f| f.tag);
            Message {
                special: special(name),
                fields,
            }
        })
        .collect();
    Table { messages, by_name }
}

fn parse_kind(kind: &str, by_name: &HashMap<String, usize>) -> Kind {
    match kind.strip_prefix("map:") {
        Some(rest) => {
            let (key, value) = rest.split_once(':').unwrap_or((rest, "string"));
            let key = match parse_elem(key, by_name) {
                Elem::Scalar(s) => s,
                Elem::Message(_) => Scalar::String,
            };
            Kind::Map(key, parse_elem(value, by_name))
        }
        None => Kind::Single(parse_elem(kind, by_name)),
    }
}

fn parse_elem(kind: &str, by_name: &HashMap<String, usize>) -> Elem {
    if let Some(name) = kind.strip_prefix("m:") {
        let index = by_name.get(name).copied();
        return Elem::Message(
            index.unwrap_or_else(|| panic!("messages.json names unknown message {name}")),
        );
    }
    Elem::Scalar(match kind {
        "bytes" => Scalar::Bytes,
        "bool" => Scalar::Bool,
        "int32" => Scalar::Int32,
        "int64" => Scalar::Int64,
        "uint32" => Scalar::Uint32,
        "uint64" => Scalar::Uint64,
        "double" => Scalar::Double,
        "float" => Scalar::Float,
        _ => Scalar::String,
    })
}

fn special(name: &str) -> Special {
    match name {
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time" => Special::Time,
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime" => Special::MicroTime,
        "io.k8s.apimachinery.pkg.apis.meta.v1.Duration" => Special::Duration,
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1" => Special::FieldsV1,
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => Special::Quantity,
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => Special::IntOrString,
        "io.k8s.apimachinery.pkg.runtime.RawExtension" => Special::RawExtension,
        _ => Special::None,
    }
}

/// A schema definition's property names, keyed by their normalised form.
struct JsonNames<'a> {
    by_norm: HashMap<String, &'a str>,
    required: Vec<&'a str>,
}

impl<'a> JsonNames<'a> {
    fn of(definition: Option<&'a Value>) -> Self {
        let props = definition
            .and_then(|d| d.get("properties"))
            .and_then(Value::as_object);
        let required = definition
            .and_then(|d| d.get("required"))
            .and_then(Value::as_array);
        Self {
            by_norm: props
                .into_iter()
                .flatten()
                .map(|(k, _)| (normalise(k), k.as_str()))
                .collect(),
            required: required
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect(),
        }
    }

    /// The JSON name of a prost field: the matching property, else lowerCamelCase.
    fn property(&self, prost: &str) -> String {
        match self.by_norm.get(&normalise(prost)) {
            Some(name) => (*name).to_string(),
            None => lower_camel(prost),
        }
    }

    fn required(&self, json: &str) -> bool {
        self.required.contains(&json)
    }
}

/// Drops underscores and lowercases (`volume_id` and `volumeID` both give `volumeid`).
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `pod_i_ps` → `podIPs`.
pub(super) fn lower_camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
