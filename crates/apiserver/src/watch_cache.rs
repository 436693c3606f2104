//! Watch events decoded and rendered once and shared by every watcher of the same event:
//! with many watchers of one kind (scheduler, controllers, node agents) each event would
//! otherwise be parsed and serialized once per watcher.

use crate::error::ApiResult;
use crate::registry::decode;
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::Value;
use skiff_api::ResourceType;
use skiff_store::{KeyValue, Revision};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// How many recent events the cache holds (direct-mapped by key and revision).
const SLOTS: usize = 4096;

struct Slot {
    rt: usize,
    key: String,
    rev: Revision,
    obj: Arc<Value>,
    line: Option<(&'static str, Bytes)>,
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
        if let Some(s) = slot.lock().as_ref() {
            if s.rev == kv.mod_revision && s.rt == rt_id(rt) && s.key == kv.key {
                return Ok(s.obj.clone());
            }
        }
        let obj = Arc::new(decode(rt, kv)?);
        *slot.lock() = Some(Slot {
            rt: rt_id(rt),
            key: kv.key.clone(),
            rev: kv.mod_revision,
            obj: obj.clone(),
            line: None,
        });
        Ok(obj)
    }

    /// The plain-JSON event line of type `kind` for `kv`, rendered (once) by `render`.
    pub fn line(
        &self,
        rt: &ResourceType,
        kv: &KeyValue,
        kind: &'static str,
        render: impl FnOnce(Value) -> Bytes,
    ) -> ApiResult<Bytes> {
        let slot = &self.slots[index(&kv.key, kv.mod_revision)];
        if let Some(s) = slot.lock().as_ref() {
            if s.rev == kv.mod_revision && s.rt == rt_id(rt) && s.key == kv.key {
                if let Some((k, b)) = &s.line {
                    if *k == kind {
                        return Ok(b.clone());
                    }
                }
            }
        }
        let obj = self.object(rt, kv)?;
        let bytes = render(Arc::unwrap_or_clone(obj.clone()));
        if let Some(s) = slot.lock().as_mut() {
            if s.rev == kv.mod_revision && s.rt == rt_id(rt) && s.key == kv.key {
                s.line = Some((kind, bytes.clone()));
            }
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(rev: Revision, value: &str) -> KeyValue {
        KeyValue {
            key: "/registry/configmaps/default/a".into(),
            value: value.as_bytes().to_vec(),
            create_revision: 1,
            mod_revision: rev,
        }
    }

    #[test]
    fn a_line_is_rendered_once_per_event() {
        let cache = WatchCache::default();
        let rt = skiff_api::catalogue::find("", "v1", "configmaps").unwrap();
        let mut renders = 0;
        for _ in 0..3 {
            let b = cache
                .line(rt, &kv(5, r#"{"metadata":{"name":"a"}}"#), "ADDED", |v| {
                    renders += 1;
                    Bytes::from(v["metadata"]["resourceVersion"].to_string())
                })
                .unwrap();
            assert_eq!(&b[..], b"\"5\"");
        }
        assert_eq!(renders, 1);
        let b = cache
            .line(
                rt,
                &kv(6, r#"{"metadata":{"name":"a"}}"#),
                "MODIFIED",
                |v| Bytes::from(v["metadata"]["resourceVersion"].to_string()),
            )
            .unwrap();
        assert_eq!(&b[..], b"\"6\"");
    }
}
