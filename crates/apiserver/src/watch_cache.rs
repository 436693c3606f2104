//! Watch events decoded and rendered once and shared by every watcher of the same event:
//! with many watchers of one kind (scheduler, controllers, node agents) each event would
//! otherwise be parsed and serialized once per watcher.

use crate::error::ApiResult;
use crate::negotiate::Output;
use crate::registry::decode;
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use skiff_api::{convert, ResourceType};
use skiff_store::{KeyValue, Revision};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// How many recent events the cache holds (direct-mapped by key and revision).
const SLOTS: usize = 4096;

struct Slot {
    rt: usize,
    key: String,
    rev: Revision,
    obj: Option<Arc<Value>>,
    /// Rendered lines: one per event type and output form asked for (object, metadata).
    lines: Vec<(&'static str, Output, Bytes)>,
}

impl Slot {
    fn holds(&self, rt: &ResourceType, kv: &KeyValue) -> bool {
        self.rev == kv.mod_revision && self.rt == rt_id(rt) && self.key == kv.key
    }
}

/// `{"type":KIND,"object":OBJ}` + newline, with `metadata.resourceVersion` spliced into the
/// stored bytes without parsing anything but the top level and `metadata` (for
/// `PartialObjectMetadata`, only `metadata` is kept); `None` if the stored form is unusual
/// (escaped keys), for the caller to take the slow path.
fn event_line(kind: &str, stored: &[u8], rev: Revision, out: Output) -> Option<Bytes> {
    let top: indexmap::IndexMap<&str, &serde_json::value::RawValue> =
        serde_json::from_slice(stored).ok()?;
    let mut out_bytes = Vec::with_capacity(stored.len() + 64);
    let out_ = &mut out_bytes;
    out_.extend_from_slice(b"{\"type\":\"");
    out_.extend_from_slice(kind.as_bytes());
    out_.extend_from_slice(b"\",\"object\":{");
    // metadata is spliced too: only its keys are parsed (managedFields stay raw bytes)
    let metadata = |out_: &mut Vec<u8>| -> Option<()> {
        let meta: indexmap::IndexMap<&str, &serde_json::value::RawValue> = match top.get("metadata")
        {
            Some(v) => serde_json::from_str(v.get()).ok()?,
            None => indexmap::IndexMap::new(),
        };
        out_.extend_from_slice(b"\"metadata\":{");
        for (k, v) in meta.iter().filter(|(k, _)| **k != "resourceVersion") {
            serde_json::to_writer(&mut *out_, k).ok()?;
            out_.push(b':');
            out_.extend_from_slice(v.get().as_bytes());
            out_.push(b',');
        }
        out_.extend_from_slice(b"\"resourceVersion\":\"");
        out_.extend_from_slice(rev.to_string().as_bytes());
        out_.extend_from_slice(b"\"}");
        Some(())
    };
    match out {
        Output::Metadata(version) => {
            out_.extend_from_slice(b"\"kind\":\"PartialObjectMetadata\",\"apiVersion\":");
            serde_json::to_writer(&mut *out_, &format!("meta.k8s.io/{version}")).ok()?;
            out_.push(b',');
            metadata(out_)?;
        }
        Output::Object => {
            for (i, (k, v)) in top.iter().enumerate() {
                if i > 0 {
                    out_.push(b',');
                }
                if *k == "metadata" {
                    metadata(out_)?;
                } else {
                    serde_json::to_writer(&mut *out_, k).ok()?;
                    out_.push(b':');
                    out_.extend_from_slice(v.get().as_bytes());
                }
            }
        }
        Output::Table(_) => return None,
    }
    out_bytes.extend_from_slice(b"}}\n");
    Some(Bytes::from(out_bytes))
}

/// Recently decoded objects and rendered plain-JSON event lines.
pub struct WatchCache {
    slots: Box<[Mutex<Option<Slot>>]>,
}

impl Default for WatchCache {
    fn default() -> Self {
        WatchCache {
            slots: (0..SLOTS).map(|_| Mutex::new(None)).collect(),
        }
    }
}

/// Identifies a resource type (one static catalogue entry each): the same stored key reads
/// differently through `events.k8s.io/v1` and `v1`.
fn rt_id(rt: &ResourceType) -> usize {
    rt as *const ResourceType as usize
}

fn index(key: &str, rev: Revision) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    rev.hash(&mut h);
    (h.finish() as usize) % SLOTS
}

impl WatchCache {
    /// The object stored in `kv`, decoded (once) for `rt`.
    pub fn object(&self, rt: &ResourceType, kv: &KeyValue) -> ApiResult<Arc<Value>> {
        let slot = &self.slots[index(&kv.key, kv.mod_revision)];
        if let Some(obj) = slot
            .lock()
            .as_ref()
            .filter(|s| s.holds(rt, kv))
            .and_then(|s| s.obj.clone())
        {
            return Ok(obj);
        }
        let obj = Arc::new(decode(rt, kv)?);
        let mut guard = slot.lock();
        match guard.as_mut().filter(|s| s.holds(rt, kv)) {
            Some(s) => s.obj = Some(obj.clone()),
            None => {
                *guard = Some(Slot {
                    rt: rt_id(rt),
                    key: kv.key.clone(),
                    rev: kv.mod_revision,
                    obj: Some(obj.clone()),
                    lines: Vec::new(),
                })
            }
        }
        Ok(obj)
    }

    /// The event line of type `kind` for `kv` in form `out` (object or metadata), built
    /// (once) from the stored bytes, or by `render` when the kind is converted on read.
    pub fn line(
        &self,
        rt: &ResourceType,
        kv: &KeyValue,
        kind: &'static str,
        out: Output,
        render: impl FnOnce(Value) -> Bytes,
    ) -> ApiResult<Bytes> {
        let slot = &self.slots[index(&kv.key, kv.mod_revision)];
        if let Some(b) = slot
            .lock()
            .as_ref()
            .filter(|s| s.holds(rt, kv))
            .and_then(|s| s.lines.iter().find(|(k, o, _)| *k == kind && *o == out))
            .map(|(_, _, b)| b.clone())
        {
            return Ok(b);
        }
        let fast = if convert::converts(rt) {
            None
        } else {
            event_line(kind, &kv.value, kv.mod_revision, out)
        };
        let bytes = match fast {
            Some(b) => b,
            None => render(Arc::unwrap_or_clone(self.object(rt, kv)?)),
        };
        let mut guard = slot.lock();
        match guard.as_mut().filter(|s| s.holds(rt, kv)) {
            Some(s) => s.lines.push((kind, out, bytes.clone())),
            None => {
                *guard = Some(Slot {
                    rt: rt_id(rt),
                    key: kv.key.clone(),
                    rev: kv.mod_revision,
                    obj: None,
                    lines: vec![(kind, out, bytes.clone())],
                })
            }
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kv(rev: Revision, value: &str) -> KeyValue {
        KeyValue {
            key: "/registry/configmaps/default/a".into(),
            value: value.as_bytes().to_vec(),
            create_revision: 1,
            mod_revision: rev,
        }
    }

    fn decoded_again(rt: &ResourceType, stored: &str) -> Value {
        decode(rt, &kv(5, stored)).unwrap()
    }

    fn slow(kind: &str, v: Value) -> Bytes {
        let mut b = serde_json::to_vec(&json!({"type": kind, "object": v})).unwrap();
        b.push(b'\n');
        Bytes::from(b)
    }

    #[test]
    fn spliced_lines_equal_the_decoded_rendering() {
        let cache = WatchCache::default();
        let rt = skiff_api::catalogue::find("", "v1", "configmaps").unwrap();
        let stored = r#"{"apiVersion":"v1","kind":"ConfigMap","data":{"metadata":"x"},"metadata":{"name":"a","labels":{"k":"v"}}}"#;
        let line = cache
            .line(
                rt,
                &kv(5, stored),
                "ADDED",
                Output::Object,
                |_| unreachable!(),
            )
            .unwrap();
        assert_eq!(line, slow("ADDED", decoded_again(rt, stored)));
        let again = cache
            .line(
                rt,
                &kv(5, stored),
                "ADDED",
                Output::Object,
                |_| unreachable!(),
            )
            .unwrap();
        assert_eq!(line, again);
        let meta = cache
            .line(
                rt,
                &kv(5, stored),
                "MODIFIED",
                Output::Metadata("v1"),
                |_| unreachable!(),
            )
            .unwrap();
        let partial = crate::negotiate::render_object(
            rt,
            decoded_again(rt, stored),
            Output::Metadata("v1"),
            crate::negotiate::IncludeObject::Metadata,
        );
        assert_eq!(meta, slow("MODIFIED", partial));
    }

    #[test]
    fn converted_kinds_render_through_the_slow_path() {
        let cache = WatchCache::default();
        let rt = skiff_api::catalogue::find("events.k8s.io", "v1", "events").unwrap();
        let stored = r#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e"},"message":"hi"}"#;
        let mut renders = 0;
        for _ in 0..2 {
            let line = cache
                .line(rt, &kv(7, stored), "ADDED", Output::Object, |v| {
                    renders += 1;
                    slow("ADDED", v)
                })
                .unwrap();
            let v: Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(v["object"]["apiVersion"], "events.k8s.io/v1");
            assert_eq!(v["object"]["note"], "hi");
        }
        assert_eq!(renders, 1);
    }
}
