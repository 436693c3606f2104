//! Fields of an object that its kind's schema does not declare (strict field validation).

use super::{Node, Shape};
use crate::ResourceType;
use serde_json::Value;

/// Paths (`spec.template.spec.containers[0].imagex`) of fields the kind's schema lacks.
pub fn unknown_fields(rt: &ResourceType, obj: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let Some(root) = Node::for_kind(rt) else {
        return found;
    };
    let Value::Object(fields) = obj else {
        return found;
    };
    let mut path = String::new();
    for (key, value) in fields {
        if key == "apiVersion" || key == "kind" {
            continue;
        }
        path.clear();
        path.push_str(key);
        match root.field(key) {
            Some(child) => walk(child, value, &mut path, &mut found),
            None => found.push(path.clone()),
        }
    }
    found
}

fn walk(node: Node, value: &Value, path: &mut String, found: &mut Vec<String>) {
    match (node.shape(), value) {
        (Shape::Object, Value::Object(fields)) => {
            for (key, child_value) in fields {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                match node.field(key) {
                    Some(child) => walk(child, child_value, path, found),
                    None => found.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        (Shape::Map, Value::Object(entries)) => {
            let Some(values) = node.values() else { return };
            if matches!(values.shape(), Shape::Scalar | Shape::Any) {
                return;
            }
            for (key, child_value) in entries {
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
            for (i, child_value) in items.iter().enumerate() {
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
