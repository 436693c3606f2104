//! Cell formatting shared by the printers: ages, labels, selectors, container lists.

use crate::selectors::LabelSelector;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

/// Upstream's `duration.HumanDuration`: `45s`, `3m20s`, `10m`, `5h3m`, `2d3h`, `400d`, `3y20d`.
pub fn human_duration(d: TimeDelta) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d.num_minutes();
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d.num_hours();
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        return match days % 365 {
            0 => format!("{years}y"),
            d => format!("{years}y{d}d"),
        };
    }
    format!("{years}y")
}

/// A timestamp field as a UTC time, if it holds an RFC 3339 string.
pub(super) fn time_at(obj: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    let s = obj.pointer(pointer)?.as_str()?;
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Upstream's `translateTimestampSince`: the age of a timestamp, or `<unknown>`.
pub(super) fn since(obj: &Value, pointer: &str, now: DateTime<Utc>) -> String {
    match time_at(obj, pointer) {
        Some(t) => human_duration(now.signed_duration_since(t)),
        None => "<unknown>".to_string(),
    }
}

/// The Age cell: time since `metadata.creationTimestamp`.
pub(super) fn age(obj: &Value, now: DateTime<Utc>) -> Value {
    Value::String(since(obj, "/metadata/creationTimestamp", now))
}

/// The string at a JSON pointer, or empty.
pub(super) fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The integer at a JSON pointer, or `default`.
pub(super) fn int_at(obj: &Value, pointer: &str, default: i64) -> i64 {
    obj.pointer(pointer)
        .and_then(Value::as_i64)
        .unwrap_or(default)
}

/// The array at a JSON pointer, or empty.
pub(super) fn list_at<'a>(obj: &'a Value, pointer: &str) -> &'a [Value] {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The number of entries of the object at a JSON pointer.
pub(super) fn count_at(obj: &Value, pointer: &str) -> usize {
    obj.pointer(pointer)
        .and_then(Value::as_object)
        .map_or(0, |m| m.len())
}

/// The object's name cell.
pub(super) fn name(obj: &Value) -> Value {
    Value::String(str_at(obj, "/metadata/name").to_string())
}

/// A string cell.
pub(super) fn text(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

/// The string, or `<none>` when empty.
pub(super) fn or_none(s: &str) -> Value {
    text(if s.is_empty() { "<none>" } else { s })
}

/// Upstream's `labels.FormatLabels`: sorted `k=v` pairs, or `<none>`.
pub(super) fn format_labels(map: Option<&Value>) -> String {
    let mut pairs: Vec<String> = map
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".to_string()
    } else {
        pairs.join(",")
    }
}

/// Upstream's `metav1.FormatLabelSelector`: the selector string, `<none>` or `<error>`.
pub(super) fn format_label_selector(selector: Option<&Value>) -> String {
    match LabelSelector::from_label_selector(selector.unwrap_or(&Value::Null)) {
        Ok(s) if s.to_string().is_empty() => "<none>".to_string(),
        Ok(s) => s.to_string(),
        Err(_) => "<error>".to_string(),
    }
}

/// Upstream's `layoutContainerCells`: comma-joined container names and images.
pub(super) fn container_cells(spec: &Value) -> [Value; 2] {
    let containers = list_at(spec, "/containers");
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, "/image")).collect();
    [text(names.join(",")), text(images.join(","))]
}

/// The wide `Containers`, `Images` and `Selector` cells of a spec with a pod template.
pub(super) fn template_cells(spec: &Value) -> [Value; 3] {
    let [names, images] = container_cells(spec.pointer("/template/spec").unwrap_or(&Value::Null));
    [
        names,
        images,
        text(format_label_selector(spec.get("selector"))),
    ]
}

/// Upstream's `listWithMoreString`: up to `max` items, `+ N more...`, or `<unset>`.
pub(super) fn list_with_more(items: &[String], max: usize) -> String {
    let shown = items[..items.len().min(max)].join(",");
    if items.len() > max {
        format!("{shown} + {} more...", items.len() - max)
    } else if shown.is_empty() {
        "<unset>".to_string()
    } else {
        shown
    }
}

/// Whether a condition of the given type in the list has status `True`.
pub(super) fn condition_true(conditions: &[Value], type_: &str) -> bool {
    conditions
        .iter()
        .find(|c| str_at(c, "/type") == type_)
        .is_some_and(|c| str_at(c, "/status") == "True")
}

/// An int-or-string value as upstream's `IntOrString.String()`.
pub(super) fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_support::now;
    use serde_json::json;

    fn hd(secs: i64) -> String {
        human_duration(TimeDelta::seconds(secs))
    }

    #[test]
    fn human_duration_matches_upstream_table() {
        assert_eq!(hd(-5), "<invalid>");
        assert_eq!(hd(-1), "0s");
        assert_eq!(hd(0), "0s");
        assert_eq!(hd(5), "5s");
        assert_eq!(hd(119), "119s");
        assert_eq!(hd(120), "2m");
        assert_eq!(hd(200), "3m20s");
        assert_eq!(hd(600), "10m");
        assert_eq!(hd(179 * 60 + 59), "179m");
        assert_eq!(hd(3 * 3600), "3h");
        assert_eq!(hd(5 * 3600 + 3 * 60), "5h3m");
        assert_eq!(hd(8 * 3600), "8h");
        assert_eq!(hd(47 * 3600), "47h");
        assert_eq!(hd(51 * 3600), "2d3h");
        assert_eq!(hd(72 * 3600), "3d");
        assert_eq!(hd(8 * 86400), "8d");
        assert_eq!(hd(729 * 86400), "729d");
        assert_eq!(hd(730 * 86400), "2y");
        assert_eq!(hd(750 * 86400), "2y20d");
        assert_eq!(hd(9 * 365 * 86400), "9y");
        assert_eq!(human_duration(TimeDelta::milliseconds(-1500)), "0s");
    }

    #[test]
    fn since_reads_rfc3339_or_reports_unknown() {
        let now = now();
        let obj = json!({"t": "2024-05-01T11:56:40Z", "bad": "yesterday"});
        assert_eq!(since(&obj, "/t", now), "3m20s");
        assert_eq!(since(&obj, "/bad", now), "<unknown>");
        assert_eq!(since(&obj, "/missing", now), "<unknown>");
    }

    #[test]
    fn formats_labels_selectors_and_lists() {
        assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
        assert_eq!(format_labels(None), "<none>");
        let sel = json!({"matchLabels": {"app": "web"}});
        assert_eq!(format_label_selector(Some(&sel)), "app=web");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(format_label_selector(None), "<none>");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Nope"}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        let items: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
        assert_eq!(list_with_more(&items, 3), "1,2,3 + 2 more...");
        assert_eq!(list_with_more(&[], 3), "<unset>");
    }
}
