//! Conversion between served and stored forms: events.k8s.io/v1 Events are stored as core/v1 Events.

use crate::catalogue::{self, ResourceType};
use serde_json::{Map, Value};

/// Field pairs (events.k8s.io/v1 name, core/v1 name) that carry the same value.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("related", "related"),
    ("note", "message"),
    ("reason", "reason"),
    ("type", "type"),
    ("action", "action"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn is_events_v1(rt: &ResourceType) -> bool {
    rt.group == "events.k8s.io" && rt.kind == "Event"
}

/// Whether objects of this type are converted on their way to and from storage.
pub fn converts(rt: &ResourceType) -> bool {
    is_events_v1(rt)
}

/// The resource type whose storage holds objects of `rt`.
pub fn storage_type(rt: &'static ResourceType) -> &'static ResourceType {
    if is_events_v1(rt) {
        catalogue::find("", "v1", "events").unwrap_or(rt)
    } else {
        rt
    }
}

fn rename(
    obj: Value,
    api_version: &str,
    pairs: impl Iterator<Item = (&'static str, &'static str)>,
) -> Value {
    let Value::Object(mut src) = obj else {
        return obj;
    };
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String("Event".into()));
    if let Some(m) = src.remove("metadata") {
        out.insert("metadata".into(), m);
    }
    for (from, to) in pairs {
        if let Some(v) = src.remove(from) {
            if !v.is_null() {
                out.insert(to.into(), v);
            }
        }
    }
    Value::Object(out)
}

/// Converts an object as a client sent it into its stored form.
pub fn to_storage(rt: &ResourceType, obj: Value) -> Value {
    if !is_events_v1(rt) {
        return obj;
    }
    rename(obj, "v1", EVENT_FIELDS.iter().copied())
}

/// Converts a stored object into the form served for `rt`.
pub fn from_storage(rt: &ResourceType, obj: Value) -> Value {
    if !is_events_v1(rt) {
        return obj;
    }
    rename(
        obj,
        "events.k8s.io/v1",
        EVENT_FIELDS.iter().map(|(a, b)| (*b, *a)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn events_v1() -> &'static ResourceType {
        catalogue::find("events.k8s.io", "v1", "events").unwrap()
    }

    #[test]
    fn events_v1_round_trip_through_core_storage() {
        let ev = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "default"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "pulled", "reason": "Pulled",
            "type": "Normal", "reportingController": "kubelet", "reportingInstance": "n1",
            "eventTime": "2026-01-01T00:00:00.000000Z", "action": "Pull",
        });
        let stored = to_storage(events_v1(), ev.clone());
        assert_eq!(stored["apiVersion"], "v1");
        assert_eq!(stored["involvedObject"]["name"], "p");
        assert_eq!(stored["message"], "pulled");
        assert_eq!(stored["reportingComponent"], "kubelet");
        assert!(stored.get("note").is_none());
        assert_eq!(from_storage(events_v1(), stored), ev);
    }

    #[test]
    fn core_events_read_as_events_v1() {
        let core = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"name": "p"}, "message": "m", "count": 3, "source": {"component": "x"}});
        let v1 = from_storage(events_v1(), core);
        assert_eq!(v1["regarding"]["name"], "p");
        assert_eq!(v1["deprecatedCount"], 3);
        assert_eq!(v1["deprecatedSource"]["component"], "x");
        assert_eq!(storage_type(events_v1()).group, "");
    }

    #[test]
    fn other_kinds_pass_through() {
        let cm = catalogue::find("", "v1", "configmaps").unwrap();
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}});
        assert_eq!(to_storage(cm, obj.clone()), obj);
        assert_eq!(from_storage(cm, obj.clone()), obj);
        assert!(std::ptr::eq(storage_type(cm), cm));
    }
}
