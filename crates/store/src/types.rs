//! Values, events and list pages exchanged with a store.

/// A global store revision; the Kubernetes `resourceVersion`.
pub type Revision = i64;

/// One key's value at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key, e.g. `/registry/pods/default/nginx`.
    pub key: String,
    /// The stored bytes.
    pub value: Vec<u8>,
    /// Revision of the write that created the key (since its last delete).
    pub create_revision: Revision,
    /// Revision of the last write to the key.
    pub mod_revision: Revision,
}

/// What a watch event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A create or update.
    Put,
    /// A delete.
    Delete,
}

/// One change to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Put or delete.
    pub kind: EventKind,
    /// Put: the new value; delete: the last value, with `mod_revision` = the delete's revision.
    pub kv: KeyValue,
    /// The value before this change, if the key existed.
    pub prev: Option<KeyValue>,
}

impl Event {
    /// The revision of the write this event records.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}

/// How to read a range of keys.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// Read the state at this revision; `None` or `Some(0)` reads the latest.
    pub revision: Option<Revision>,
    /// Return at most this many items; `None` or `Some(0)` returns all.
    pub limit: Option<usize>,
    /// Return only keys strictly greater than this one (a continue token).
    pub start_after: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListResult {
    /// Matching keys in byte order.
    pub items: Vec<KeyValue>,
    /// The revision the page reflects.
    pub revision: Revision,
    /// How many matching keys come after this page.
    pub remaining: u64,
}

/// Returns the exclusive upper bound of the keys starting with `prefix`.
///
/// UTF-8 never contains the byte 0xFF, so `prefix + [0xFF]` sorts after every key with the
/// prefix and before every greater key without it.
pub(crate) fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    end.push(0xFF);
    end
}

/// Returns the inclusive lower bound of a list: the prefix, or just past `start_after`.
pub(crate) fn list_start(prefix: &str, start_after: Option<&str>) -> Vec<u8> {
    match start_after {
        Some(after) if after >= prefix => {
            let mut start = after.as_bytes().to_vec();
            start.push(0);
            start
        }
        _ => prefix.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_range_excludes_sibling_prefixes() {
        let end = prefix_end("/registry/pods/");
        let inside = b"/registry/pods/default/\xc3\xa9t\xc3\xa9".to_vec();
        assert!(inside.as_slice() < end.as_slice());
        assert!(b"/registry/podsx/a".as_slice() > end.as_slice());
        assert!(b"/registry/pods".as_slice() < b"/registry/pods/".as_slice());
    }

    #[test]
    fn list_start_skips_the_continue_key_only() {
        assert_eq!(list_start("/p/", None), b"/p/".to_vec());
        assert_eq!(list_start("/p/", Some("/p/a")), b"/p/a\0".to_vec());
        assert_eq!(list_start("/p/", Some("/a")), b"/p/".to_vec());
        assert!(b"/p/a".as_slice() < list_start("/p/", Some("/p/a")).as_slice());
        assert!(b"/p/a0".as_slice() >= list_start("/p/", Some("/p/a")).as_slice());
    }
}
