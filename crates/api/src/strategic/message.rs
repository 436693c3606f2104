//! Error messages worded like upstream's mergepatch package, with Go `%v` value formatting.

use super::PatchError;
use serde_json::{Map, Value};

/// `invalid JSON document`.
pub(super) fn bad_json_doc() -> PatchError {
    PatchError("invalid JSON document".into())
}

/// `unknown patch type: <t> in map: <m>`.
pub(super) fn unknown_patch_type(directive: &Value, map: &Map<String, Value>) -> PatchError {
    PatchError(format!(
        "unknown patch type: {} in map: {}",
        go_string(directive),
        go_map(map)
    ))
}

/// `map: <m> does not contain declared merge key: <k>`.
pub(super) fn no_merge_key(map: &Map<String, Value>, key: &str) -> PatchError {
    PatchError(format!(
        "map: {} does not contain declared merge key: {key}",
        go_map(map)
    ))
}

/// `expected a <type>, but received a <type>`.
pub(super) fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

/// The Go type name a decoded JSON value has.
pub(super) fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "%!s(<nil>)",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// A value as Go's `%s` verb prints it (strings bare).
fn go_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => format!("%!s({})", go_value(other)),
    }
}

/// A value as Go's `%v` verb prints a decoded JSON value.
pub(super) fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => s.clone(),
        Value::Array(items) => go_list(items),
        Value::Object(map) => go_map(map),
    }
}

/// A list as Go's `%v` prints it: `[a b]`.
pub(super) fn go_list(items: &[Value]) -> String {
    let parts: Vec<String> = items.iter().map(go_value).collect();
    format!("[{}]", parts.join(" "))
}

fn go_map(map: &Map<String, Value>) -> String {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let parts: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{k}:{}", go_value(v)))
        .collect();
    format!("map[{}]", parts.join(" "))
}

fn go_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        Some(f) if f.abs() >= 1e21 => format!("{f:e}").replace('e', "e+"),
        _ => n.to_string(),
    }
}

/// Whether two JSON values are equal the way Go compares decoded values (numbers as float64).
pub(super) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
