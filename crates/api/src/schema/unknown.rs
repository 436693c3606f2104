//! Fields of an object that its kind's schema does not declare (strict field validation).

use super::{Node, Shape};
use crate::ResourceType;
use serde_json::Value;

/// Paths (`spec.template.spec.containers[0].imagex`) of fields the kind's schema lacks.
pub fn unknown_fields(rt: &ResourceType, obj: &Value) -> Vec<String> {
    prune_unknown_fields(rt, &mut obj.clone())
}

/// Removes fields the kind's schema lacks, as decoding into the typed object does; returns their paths.
pub fn prune_unknown_fields(rt: &ResourceType, obj: &mut Value) -> Vec<String> {
    let mut found = Vec::new();
    let Some(root) = Node::for_kind(rt) else {
        return found;
    };
    let Value::Object(fields) = obj else {
        return found;
    };
    let mut path = String::new();
    fields.retain(|key, value| {
        if key == "apiVersion" || key == "kind" {
            return true;
        }
        path.clear();
        path.push_str(key);
        match root.field(key) {
            Some(child) => {
                walk(child, value, &mut path, &mut found);
                true
            }
            None => {
                found.push(path.clone());
                false
            }
        }
    });
    found
}

fn walk(node: Node, value: &mut Value, path: &mut String, found: &mut Vec<String>) {
    match (node.shape(), value) {
        (Shape::Object, Value::Object(fields)) => {
            fields.retain(|key, child_value| {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                let known = match node.field(key) {
                    Some(child) => {
                        walk(child, child_value, path, found);
                        true
                    }
                    None => {
                        found.push(path.clone());
                        false
                    }
                };
                path.truncate(len);
                known
            });
        }
        (Shape::Map, Value::Object(entries)) => {
            let Some(values) = node.values() else { return };
            if matches!(values.shape(), Shape::Scalar | Shape::Any) {
                return;
            }
            for (key, child_value) in entries.iter_mut() {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                walk(values, child_value, path, found);
                path.truncate(len);
            }
        }
        (Shape::List, Value::Array(items)) => {
            let Some(item) = node.items() else { return };
            if matches!(item.shape(), Shape::Scalar | Shape::Any) {
                return;
            }
            for (i, child_value) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push('[');
                path.push_str(&i.to_string());
                path.push(']');
                walk(item, child_value, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
