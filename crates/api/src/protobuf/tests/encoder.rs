//! A tiny protobuf encoder for building request bodies by hand, the way gogo-protobuf writes them.

use crate::protobuf::MAGIC;

/// A message under construction.
#[derive(Debug, Clone, Default)]
pub struct Msg(pub Vec<u8>);

impl Msg {
    /// An empty message.
    pub fn new() -> Self {
        Self::default()
    }

    fn key(mut self, tag: u32, wire: u8) -> Self {
        put_varint(&mut self.0, u64::from(tag << 3 | u32::from(wire)));
        self
    }

    /// A varint field (int32, int64, bool, enum); negative values sign-extend like Go.
    pub fn int(self, tag: u32, v: i64) -> Self {
        let mut m = self.key(tag, 0);
        put_varint(&mut m.0, v as u64);
        m
    }

    /// A length-delimited field of raw bytes.
    pub fn bytes(self, tag: u32, b: &[u8]) -> Self {
        let mut m = self.key(tag, 2);
        put_varint(&mut m.0, b.len() as u64);
        m.0.extend_from_slice(b);
        m
    }

    /// A string field.
    pub fn string(self, tag: u32, s: &str) -> Self {
        self.bytes(tag, s.as_bytes())
    }

    /// A nested message field.
    pub fn msg(self, tag: u32, m: Msg) -> Self {
        self.bytes(tag, &m.0)
    }

    /// A `map<string, string>` entry.
    pub fn entry(self, tag: u32, k: &str, v: &str) -> Self {
        self.msg(tag, Msg::new().string(1, k).string(2, v))
    }

    /// A `map<string, message>` entry.
    pub fn entry_msg(self, tag: u32, k: &str, v: Msg) -> Self {
        self.msg(tag, Msg::new().string(1, k).msg(2, v))
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// ObjectMeta as gogo writes it: every non-pointer field, zero or not.
pub fn meta(name: &str, namespace: &str) -> Msg {
    Msg::new()
        .string(1, name)
        .string(2, "")
        .string(3, namespace)
        .string(4, "")
        .string(5, "")
        .string(6, "")
        .int(7, 0)
        .msg(8, Msg::new())
}

/// A Quantity message.
pub fn quantity(s: &str) -> Msg {
    Msg::new().string(1, s)
}

/// An IntOrString holding an integer.
pub fn int_val(i: i32) -> Msg {
    Msg::new().int(1, 0).int(2, i64::from(i)).string(3, "")
}

/// An IntOrString holding a string.
pub fn str_val(s: &str) -> Msg {
    Msg::new().int(1, 1).int(2, 0).string(3, s)
}

/// A `k8s\0`-framed runtime.Unknown around an object, as client-go sends it.
pub fn envelope(api_version: &str, kind: &str, object: Msg) -> Vec<u8> {
    let type_meta = Msg::new().string(1, api_version).string(2, kind);
    let unknown = Msg::new()
        .msg(1, type_meta)
        .msg(2, object)
        .string(3, "")
        .string(4, "");
    [MAGIC.as_slice(), &unknown.0].concat()
}
