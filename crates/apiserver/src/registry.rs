//! Objects in the store: keys, encoding, and the read paths every handler shares.

use crate::error::{ApiError, ApiResult};
use serde_json::Value;
use skiff_api::{convert, ResourceType};
use skiff_store::{KeyValue, Revision, Store};
use std::sync::Arc;

use crate::kind_cache::KindCaches;

/// Where objects of every kind live in the store.
#[derive(Clone)]
pub struct Registry {
    /// The backing store.
    pub store: Arc<dyn Store>,
    /// In-memory copies of the kinds admission reads on every create.
    pub caches: KindCaches,
}

/// The store key of one object.
pub fn key(rt: &ResourceType, namespace: Option<&str>, name: &str) -> String {
    let resource = storage_resource(rt);
    match namespace {
        Some(ns) if rt.namespaced => format!("/registry/{resource}/{ns}/{name}"),
        _ => format!("/registry/{resource}/{name}"),
    }
}

/// The store prefix of a collection (all namespaces when `namespace` is None).
pub fn prefix(rt: &ResourceType, namespace: Option<&str>) -> String {
    let resource = storage_resource(rt);
    match namespace {
        Some(ns) if rt.namespaced => format!("/registry/{resource}/{ns}/"),
        _ => format!("/registry/{resource}/"),
    }
}

/// The resource name objects of `rt` are stored under (events.k8s.io Events live with core Events).
fn storage_resource(rt: &ResourceType) -> String {
    if convert::converts(rt) {
        "events".into()
    } else {
        rt.group_resource()
    }
}

/// Serializes an object for storage: resourceVersion is the store's, not the object's.
pub fn encode(rt: &ResourceType, obj: &Value) -> Vec<u8> {
    if !convert::converts(rt) {
        return serde_json::to_vec(&Storable(obj)).unwrap_or_default();
    }
    let mut obj = convert::to_storage(rt, obj.clone());
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    serde_json::to_vec(&obj).unwrap_or_default()
}

/// An object serialized without `metadata.resourceVersion` (and without copying it).
struct Storable<'a>(&'a Value);

/// A map serialized without its `resourceVersion` entry.
struct WithoutRv<'a>(&'a serde_json::Map<String, Value>);

impl serde::Serialize for Storable<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(top) = self.0 else {
            return self.0.serialize(s);
        };
        let mut map = s.serialize_map(Some(top.len()))?;
        for (k, v) in top {
            match v {
                Value::Object(meta) if k == "metadata" => {
                    map.serialize_entry(k, &WithoutRv(meta))?
                }
                _ => map.serialize_entry(k, v)?,
            }
        }
        map.end()
    }
}

impl serde::Serialize for WithoutRv<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let len = self.0.len() - usize::from(self.0.contains_key("resourceVersion"));
        let mut map = s.serialize_map(Some(len))?;
        for (k, v) in self.0.iter().filter(|(k, _)| *k != "resourceVersion") {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Decodes a stored object and stamps its resourceVersion.
pub fn decode(rt: &ResourceType, kv: &KeyValue) -> ApiResult<Value> {
    let obj: Value = serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("stored object {} is corrupt: {e}", kv.key)))?;
    let mut obj = convert::from_storage(rt, obj);
    set_resource_version(&mut obj, kv.mod_revision);
    Ok(obj)
}

/// Sets `metadata.resourceVersion`.
pub fn set_resource_version(obj: &mut Value, rev: Revision) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), Value::String(rev.to_string()));
    }
}

/// An object's `metadata.resourceVersion` as a revision, if set; 400 when malformed.
pub fn resource_version(obj: &Value) -> ApiResult<Option<Revision>> {
    match obj.pointer("/metadata/resourceVersion") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => parse_rv(s).map(Some),
        Some(other) => Err(ApiError::bad_request(format!(
            "metadata.resourceVersion must be a string, got {other}"
        ))),
    }
}

/// Parses a resourceVersion string; 400 when it is not one of ours.
pub fn parse_rv(s: &str) -> ApiResult<Revision> {
    s.parse::<Revision>()
        .ok()
        .filter(|r| *r >= 0)
        .ok_or_else(|| ApiError::bad_request(format!("invalid resource version: {s:?}")))
}

impl Registry {
    /// Reads one object with its revision, if present.
    pub async fn get_opt(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
    ) -> ApiResult<Option<(Value, Revision)>> {
        match self.store.get(&key(rt, ns, name)).await? {
            None => Ok(None),
            Some(kv) => Ok(Some((decode(rt, &kv)?, kv.mod_revision))),
        }
    }

    /// The objects of `rt` in `ns` (all namespaces when None) with their revisions: from its
    /// admission cache when it has one, else from the store.
    pub async fn list_cached(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
    ) -> ApiResult<Vec<crate::kind_cache::Cached>> {
        if let Some(items) = self.caches.of(rt).and_then(|c| c.list(ns)) {
            return Ok(items);
        }
        let list = self.store.list(&prefix(rt, ns), Default::default()).await?;
        list.items
            .iter()
            .map(|kv| Ok(Arc::new((decode(rt, kv)?, kv.mod_revision))))
            .collect()
    }

    /// Reads one object; 404 when absent.
    pub async fn get(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
    ) -> ApiResult<(Value, Revision)> {
        self.get_opt(rt, ns, name)
            .await?
            .ok_or_else(|| ApiError::not_found(rt, name))
    }

    /// Stores a new object; 409 when the name is taken.
    pub async fn create(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        mut obj: Value,
    ) -> ApiResult<Value> {
        match self
            .store
            .create(&key(rt, ns, name), encode(rt, &obj))
            .await
        {
            Ok(kv) => {
                self.caches.written(rt, kv.mod_revision).await;
                set_resource_version(&mut obj, kv.mod_revision);
                Ok(obj)
            }
            Err(skiff_store::Error::AlreadyExists) => Err(ApiError::already_exists(rt, name)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A stored object as raw JSON with its resourceVersion stamped in; decoded only on demand.
pub struct Item {
    raw: Box<serde_json::value::RawValue>,
    labels: Option<Value>,
}

type RawMap = indexmap::IndexMap<String, Box<serde_json::value::RawValue>>;

impl Item {
    /// Stamps the revision into a stored object without decoding its body.
    pub fn from_kv(rt: &ResourceType, kv: &KeyValue) -> ApiResult<Item> {
        if convert::converts(rt) {
            let obj = decode(rt, kv)?;
            let raw = serde_json::value::to_raw_value(&obj).map_err(ApiError::internal)?;
            return Ok(Item {
                labels: obj.pointer("/metadata/labels").cloned(),
                raw,
            });
        }
        let corrupt = |e: serde_json::Error| {
            ApiError::internal(format!("stored object {} is corrupt: {e}", kv.key))
        };
        let mut top: RawMap = serde_json::from_slice(&kv.value).map_err(corrupt)?;
        let mut meta: RawMap = match top.get("metadata") {
            Some(m) => serde_json::from_str(m.get()).map_err(corrupt)?,
            None => RawMap::new(),
        };
        let labels = match meta.get("labels") {
            Some(l) => Some(serde_json::from_str(l.get()).map_err(corrupt)?),
            None => None,
        };
        let rv = serde_json::value::RawValue::from_string(format!("\"{}\"", kv.mod_revision))
            .map_err(corrupt)?;
        meta.insert("resourceVersion".into(), rv);
        let meta = serde_json::value::to_raw_value(&meta).map_err(corrupt)?;
        top.insert("metadata".into(), meta);
        let raw = serde_json::value::to_raw_value(&top).map_err(corrupt)?;
        Ok(Item { raw, labels })
    }

    /// The object's labels, if any.
    pub fn labels(&self) -> Option<&Value> {
        self.labels.as_ref()
    }

    /// The object's JSON text.
    pub fn json(&self) -> &str {
        self.raw.get()
    }

    /// The object as a JSON value.
    pub fn decode(&self) -> ApiResult<Value> {
        serde_json::from_str(self.raw.get())
            .map_err(|e| ApiError::internal(format!("decoding a stored object: {e}")))
    }
}

/// Outcome of a compare-and-swap write.
pub enum Cas<T> {
    /// The write landed.
    Done(T),
    /// The object changed since it was read; read it again and retry.
    Conflict,
}

impl Registry {
    /// Replaces an object if it is still at `rev`; returns it with its new resourceVersion.
    pub async fn update_at(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        mut obj: Value,
        rev: Revision,
    ) -> ApiResult<Cas<Value>> {
        match self
            .store
            .update(&key(rt, ns, name), encode(rt, &obj), rev)
            .await
        {
            Ok(kv) => {
                self.caches.written(rt, kv.mod_revision).await;
                set_resource_version(&mut obj, kv.mod_revision);
                Ok(Cas::Done(obj))
            }
            Err(skiff_store::Error::Conflict { .. }) => Ok(Cas::Conflict),
            Err(skiff_store::Error::NotFound) => Err(ApiError::not_found(rt, name)),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes an object if it is still at `rev`; returns its last state.
    pub async fn delete_at(
        &self,
        rt: &ResourceType,
        ns: Option<&str>,
        name: &str,
        rev: Revision,
    ) -> ApiResult<Cas<Value>> {
        match self.store.delete(&key(rt, ns, name), Some(rev)).await {
            Ok(kv) => {
                self.caches.written(rt, kv.mod_revision).await;
                Ok(Cas::Done(decode(rt, &kv)?))
            }
            Err(skiff_store::Error::Conflict { .. }) => Ok(Cas::Conflict),
            Err(skiff_store::Error::NotFound) => Err(ApiError::not_found(rt, name)),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stored_form_drops_only_the_resource_version() {
        let rt = skiff_api::catalogue::find("", "v1", "configmaps").unwrap();
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "resourceVersion": "7", "labels": {"resourceVersion": "x"}},
            "data": {"resourceVersion": "kept"}});
        let stored: Value = serde_json::from_slice(&encode(rt, &obj)).unwrap();
        let mut want = obj.clone();
        want["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        assert_eq!(stored, want);
        assert_eq!(
            String::from_utf8(encode(rt, &want)).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
    }
}
