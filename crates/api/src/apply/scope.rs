//! Which fields a write may own: system metadata and other subresources are left out.

use super::merge::Comparison;
use super::path::PathElement;
use super::set::FieldSet;
use super::typed::{Kind, Type};
use crate::{ResourceType, Subresource};
use serde_json::{Map, Value};

/// Paths upstream never tracks: type and system metadata.
fn stripped() -> &'static FieldSet {
    static STRIPPED: std::sync::LazyLock<FieldSet> = std::sync::LazyLock::new(build_stripped);
    &STRIPPED
}

fn build_stripped() -> FieldSet {
    let mut set = FieldSet::new();
    let f = |s: &str| PathElement::Field(s.to_string());
    set.insert(&[f("apiVersion")]);
    set.insert(&[f("kind")]);
    set.insert(&[f("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&[f("metadata"), f(name)]);
    }
    set
}

/// The part of `set` a write through `subresource` may own.
pub fn tracked(rt: &ResourceType, subresource: &str, mut set: FieldSet) -> FieldSet {
    set.subtract(stripped());
    let status = PathElement::Field("status".into());
    match subresource {
        "" if rt.has_subresource(Subresource::Status) => set.retain_top(|pe| *pe != status),
        "status" => set.retain_top(|pe| *pe == status),
        _ => {}
    }
    set
}

pub fn tracked_comparison(rt: &ResourceType, sub: &str, c: Comparison) -> Comparison {
    Comparison {
        added: tracked(rt, sub, c.added),
        removed: tracked(rt, sub, c.removed),
        modified: tracked(rt, sub, c.modified),
    }
}

/// `old` with the nested structs of `new` it lacks, as upstream's typed objects always carry.
pub fn with_skeleton(ty: &Type, old: &Value, new: &Value) -> Value {
    let (Value::Object(old_map), Value::Object(new_map)) = (old, new) else {
        return old.clone();
    };
    let mut out = old_map.clone();
    for (name, v) in new_map {
        let child = ty.field(name);
        if !(ty.is_struct_field(name) && child.is_struct() && child.kind(v) == Kind::Fields) {
            continue;
        }
        let filled = match old_map.get(name) {
            None => with_skeleton(&child, &Value::Object(Map::new()), v),
            Some(o) if o.is_object() => with_skeleton(&child, o, v),
            Some(_) => continue,
        };
        out.insert(name.clone(), filled);
    }
    Value::Object(out)
}
