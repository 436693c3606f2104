//! The Event table, for core/v1 and events.k8s.io/v1 objects alike.

use super::format::{int_at, since, str_at, text};
use super::{col, wide, Column, Printer};
use chrono::{DateTime, Utc};
use serde_json::Value;

static COLUMNS: &[Column] = &[
    col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
    col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
    col("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col("Object", "string", "The object that this event is about."),
    wide("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]."),
    wide("Source", "string", "The component reporting this event. Should be a short machine understandable string."),
    col("Message", "string", "A human-readable description of the status of this operation."),
    wide("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"),
    wide("Count", "string", "The number of times this event has occurred."),
    Column { priority: 1, ..super::NAME },
];

/// The Event printer.
pub(crate) static EVENT: Printer = Printer {
    columns: COLUMNS,
    row,
};

/// The first non-empty string among the pointers.
fn first<'a>(obj: &'a Value, pointers: &[&str]) -> &'a str {
    pointers
        .iter()
        .map(|p| str_at(obj, p))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

/// Whether a timestamp field holds a value (upstream's `!IsZero()`).
fn is_set(obj: &Value, pointer: &str) -> bool {
    obj.pointer(pointer)
        .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
}

fn row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let first_ts = ["/firstTimestamp", "/deprecatedFirstTimestamp"]
        .into_iter()
        .find(|p| is_set(obj, p));
    let first_seen = match first_ts {
        Some(p) => since(obj, p, now),
        None => since(obj, "/eventTime", now),
    };
    let last_ts = ["/lastTimestamp", "/deprecatedLastTimestamp"]
        .into_iter()
        .find(|p| is_set(obj, p));
    let mut last_seen = match last_ts {
        Some(p) => since(obj, p, now),
        None => first_seen.clone(),
    };
    let series = obj.get("series").filter(|s| s.is_object());
    let count = match series {
        Some(series) => {
            last_seen = since(series, "/lastObservedTime", now);
            int_at(series, "/count", 0)
        }
        None => match int_at(obj, "/count", int_at(obj, "/deprecatedCount", 0)) {
            0 => 1,
            n => n,
        },
    };
    let kind = first(obj, &["/involvedObject/kind", "/regarding/kind"]).to_lowercase();
    let target_name = first(obj, &["/involvedObject/name", "/regarding/name"]);
    let target = if target_name.is_empty() {
        kind
    } else {
        format!("{kind}/{target_name}")
    };
    let component = first(
        obj,
        &[
            "/source/component",
            "/deprecatedSource/component",
            "/reportingComponent",
            "/reportingController",
        ],
    );
    let instance = first(
        obj,
        &[
            "/source/host",
            "/deprecatedSource/host",
            "/reportingInstance",
        ],
    );
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        text(last_seen),
        text(str_at(obj, "/type")),
        text(str_at(obj, "/reason")),
        text(target),
        text(first(
            obj,
            &["/involvedObject/fieldPath", "/regarding/fieldPath"],
        )),
        text(source),
        text(first(obj, &["/message", "/note"]).trim()),
        text(first_seen),
        Value::from(count),
        text(str_at(obj, "/metadata/name")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_support::now;
    use serde_json::json;

    #[test]
    fn core_event_shows_object_source_and_counts() {
        let ev = json!({"metadata": {"name": "web-0.17abc", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
            "reason": "Pulled", "type": "Normal", "message": "Container image pulled\n",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2024-05-01T11:50:00Z", "lastTimestamp": "2024-05-01T11:58:00Z", "count": 3});
        assert_eq!(
            row(&ev, now()),
            [
                json!("2m"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-0"),
                json!("spec.containers{app}"),
                json!("kubelet, node-1"),
                json!("Container image pulled"),
                json!("10m"),
                json!(3),
                json!("web-0.17abc")
            ]
        );
    }

    #[test]
    fn events_api_event_uses_event_time_series_and_reporting_controller() {
        let ev = json!({"metadata": {"name": "n1.1"}, "regarding": {"kind": "Node", "name": "n1"},
            "reason": "NodeReady", "type": "Normal", "note": "Node n1 is ready",
            "eventTime": "2024-05-01T11:00:00.000000Z", "reportingController": "skiff-kubelet",
            "reportingInstance": "n1", "series": {"count": 4, "lastObservedTime": "2024-05-01T11:59:30.000000Z"}});
        let cells = row(&ev, now());
        assert_eq!(
            cells[..4],
            [
                json!("30s"),
                json!("Normal"),
                json!("NodeReady"),
                json!("node/n1")
            ]
        );
        assert_eq!(
            cells[5..9],
            [
                json!("skiff-kubelet, n1"),
                json!("Node n1 is ready"),
                json!("60m"),
                json!(4)
            ]
        );
    }

    #[test]
    fn singleton_event_without_times_counts_one() {
        let cells = row(&json!({"involvedObject": {"kind": "Namespace"}}), now());
        assert_eq!(cells[0], json!("<unknown>"));
        assert_eq!(cells[3], json!("namespace"));
        assert_eq!(cells[8], json!(1));
        assert_eq!(row(&json!(42), now()).len(), COLUMNS.len());
    }
}
