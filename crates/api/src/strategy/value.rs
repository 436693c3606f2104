//! Field paths and small accessors over JSON objects that never panic on unexpected shapes.

use crate::FieldError;
use serde_json::{Map, Value};
use std::fmt;

/// Errors gathered by a validation pass.
pub type Errs = Vec<FieldError>;

/// A field path as upstream prints it: `spec.containers[0].ports[1].name`, `data[key]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    /// A path starting at the named top-level field.
    pub fn new(name: &str) -> Path {
        Path(name.to_string())
    }

    /// The path of a named child field.
    #[must_use]
    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    /// The path of a list element.
    #[must_use]
    pub fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// The path of a map entry.
    #[must_use]
    pub fn key(&self, k: &str) -> Path {
        Path(format!("{}[{k}]", self.0))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&Path> for String {
    fn from(p: &Path) -> String {
        p.0.clone()
    }
}

/// A string field, or "" when absent or not a string.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A list field, or an empty slice when absent or not a list.
pub fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A map field when present and an object.
pub fn map<'a>(v: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

/// The number of entries of a map field (0 when absent).
pub fn map_len(v: &Value, key: &str) -> usize {
    map(v, key).map_or(0, Map::len)
}

/// An integer field when present and integral.
pub fn int(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// A boolean field when present.
pub fn boolean(v: &Value, key: &str) -> Option<bool> {
    v.get(key).and_then(Value::as_bool)
}

/// Whether a field is present and not null.
pub fn has(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(|x| !x.is_null())
}

/// The string items of a string list; non-string items are skipped.
pub fn str_list<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    arr(v, key).iter().filter_map(Value::as_str).collect()
}

/// An `IntOrString` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrStr<'a> {
    /// A number.
    Int(i64),
    /// A string.
    Str(&'a str),
}

/// Reads an `IntOrString` value.
pub fn int_or_str(v: &Value) -> Option<IntOrStr<'_>> {
    match v {
        Value::Number(n) => n.as_i64().map(IntOrStr::Int),
        Value::String(s) => Some(IntOrStr::Str(s)),
        _ => None,
    }
}

/// Sets `key` to `val` when `obj` is an object and the key is absent or null.
pub fn set_default(obj: &mut Value, key: &str, val: Value) {
    if let Some(m) = obj.as_object_mut() {
        match m.get(key) {
            None | Some(Value::Null) => {
                m.insert(key.to_string(), val);
            }
            Some(_) => {}
        }
    }
}

/// Sets `key` to `val` when absent, null or an empty string.
pub fn set_default_str(obj: &mut Value, key: &str, val: &str) {
    if let Some(m) = obj.as_object_mut() {
        let empty = match m.get(key) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if empty {
            m.insert(key.to_string(), Value::String(val.to_string()));
        }
    }
}

/// The child object at `key`, created as `{}` when absent or null; `None` when not an object.
pub fn ensure_obj<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    set_default(obj, key, Value::Object(Map::new()));
    obj.get_mut(key).filter(|v| v.is_object())
}

/// The existing child object at `key`.
pub fn obj_mut<'a>(obj: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    obj.get_mut(key).filter(|v| v.is_object())
}

/// Calls `f` on every element of the list at `key`.
pub fn each_mut(obj: &mut Value, key: &str, mut f: impl FnMut(&mut Value)) {
    if let Some(items) = obj.get_mut(key).and_then(Value::as_array_mut) {
        items.iter_mut().for_each(&mut f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_print_like_upstream() {
        let p = Path::new("spec")
            .child("containers")
            .index(0)
            .child("ports")
            .index(2);
        assert_eq!(p.to_string(), "spec.containers[0].ports[2]");
        assert_eq!(Path::new("data").key("a.b").to_string(), "data[a.b]");
        assert_eq!(Path::default().child("x").to_string(), "x");
    }

    #[test]
    fn accessors_tolerate_wrong_types() {
        let v = json!({"a": 1, "b": "x", "c": [1, "y"], "d": {"k": "v", "n": 2}});
        assert_eq!(s(&v, "a"), "");
        assert_eq!(s(&v, "b"), "x");
        assert_eq!(arr(&v, "b").len(), 0);
        assert_eq!(str_list(&v, "c"), vec!["y"]);
        assert_eq!(int(&v, "a"), Some(1));
    }

    #[test]
    fn defaults_fill_only_missing_fields() {
        let mut v = json!({"a": null, "b": 2, "s": ""});
        set_default(&mut v, "a", json!(1));
        set_default(&mut v, "b", json!(3));
        set_default_str(&mut v, "s", "x");
        set_default_str(&mut v, "t", "y");
        assert_eq!(v, json!({"a": 1, "b": 2, "s": "x", "t": "y"}));
        let mut not_obj = json!([1]);
        set_default(&mut not_obj, "a", json!(1));
        assert!(ensure_obj(&mut not_obj, "a").is_none());
        let mut w = json!({"x": 5});
        assert!(ensure_obj(&mut w, "x").is_none());
        assert!(ensure_obj(&mut w, "y").is_some());
    }
}
