//! Generates the definitions from k8s-openapi and decorates them like upstream's OpenAPI.

use super::kinds::{self, KINDS};
use super::REF_PREFIX;
use crate::catalogue::{GROUPS, RESOURCES};
use crate::patch_meta;
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// Every definition the documents need, sorted by name.
pub(super) fn definitions() -> Map<String, Value> {
    let mut gen = SchemaSettings::openapi3()
        .with(|s| {
            s.transforms.clear();
            s.meta_schema = None;
        })
        .into_generator();
    for k in KINDS {
        (k.add)(&mut gen);
    }
    kinds::add_meta_types(&mut gen);
    let mut defs = gen.take_definitions(false);
    for def in defs.values_mut() {
        wrap_ref_siblings(def);
        drop_required_metadata(def);
    }
    fix_scalar_types(&mut defs);
    add_list_kinds(&mut defs);
    add_group_version_kinds(&mut defs);
    add_patch_meta(&mut defs);
    defs.sort_keys();
    defs
}

/// Rewrites `{"$ref": r, "description": d}` as `{"allOf": [{"$ref": r}], "description": d}`.
fn wrap_ref_siblings(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.len() > 1 {
                if let Some(reference) = map.shift_remove("$ref") {
                    map.insert("allOf".into(), json!([{ "$ref": reference }]));
                }
            }
            for (key, child) in map.iter_mut() {
                if key != "allOf" {
                    wrap_ref_siblings(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(wrap_ref_siblings),
        _ => {}
    }
}

/// Removes `metadata` from `required`: k8s-openapi adds it, upstream never requires it.
fn drop_required_metadata(def: &mut Value) {
    let Some(fields) = def.as_object_mut() else {
        return;
    };
    if let Some(Value::Array(required)) = fields.get_mut("required") {
        required.retain(|r| r != "metadata");
        if required.is_empty() {
            fields.shift_remove("required");
        }
    }
}

/// Gives Quantity and IntOrString the `oneOf` shapes upstream's v3 documents use.
fn fix_scalar_types(defs: &mut Map<String, Value>) {
    let fixes = [
        (
            QUANTITY,
            json!([{"type": "string"}, {"type": "number"}]),
            None,
        ),
        (
            INT_OR_STRING,
            json!([{"type": "integer"}, {"type": "string"}]),
            Some("int-or-string"),
        ),
    ];
    for (name, one_of, format) in fixes {
        if let Some(Value::Object(def)) = defs.get_mut(name) {
            def.shift_remove("x-kubernetes-int-or-string");
            if let Some(format) = format {
                def.insert("format".into(), format.into());
            }
            def.insert("oneOf".into(), one_of);
        }
    }
}

/// Adds `<Kind>List` for every served resource.
fn add_list_kinds(defs: &mut Map<String, Value>) {
    for rt in RESOURCES.iter().filter(|rt| !rt.create_only()) {
        let item = super::definition_name(rt);
        if !defs.contains_key(&item) {
            continue;
        }
        let plural_kind = format!(
            "{}{}",
            rt.kind,
            if rt.kind.ends_with('s') { "es" } else { "s" }
        );
        let list = json!({
            "description": format!("{}List is a list of {}.", rt.kind, plural_kind),
            "type": "object",
            "properties": {
                "apiVersion": {
                    "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
                    "type": "string",
                },
                "items": {
                    "description": format!("Items is the list of {}.", plural_kind),
                    "type": "array",
                    "items": {"allOf": [{"$ref": format!("{REF_PREFIX}{item}")}], "default": {}},
                },
                "kind": {
                    "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                    "type": "string",
                },
                "metadata": {
                    "description": "Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
                    "allOf": [{"$ref": format!("{REF_PREFIX}{LIST_META}")}],
                    "default": {},
                },
            },
            "required": ["items"],
            "x-kubernetes-group-version-kind": [gvk(rt.group, rt.version, &rt.list_kind())],
        });
        defs.insert(format!("{item}List"), list);
    }
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "kind": kind, "version": version})
}

/// Adds `x-kubernetes-group-version-kind` to every top-level kind.
fn add_group_version_kinds(defs: &mut Map<String, Value>) {
    for k in KINDS {
        let gvks = match k.kind {
            "DeleteOptions" | "WatchEvent" => std::iter::once(("", "v1"))
                .chain(GROUPS.iter().copied())
                .map(|(g, v)| gvk(g, v, k.kind))
                .collect(),
            _ => vec![gvk(k.group, k.version, k.kind)],
        };
        if let Some(Value::Object(def)) = defs.get_mut(k.definition) {
            def.insert("x-kubernetes-group-version-kind".into(), Value::Array(gvks));
        }
    }
}

/// Writes the patch metadata table onto the properties it names.
fn add_patch_meta(defs: &mut Map<String, Value>) {
    for e in patch_meta::entries() {
        let property = defs
            .get_mut(e.definition)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(e.property))
            .and_then(Value::as_object_mut);
        if let Some(property) = property {
            e.meta.write_extensions(property);
        }
    }
    for name in patch_meta::atomic_structs() {
        if let Some(Value::Object(def)) = defs.get_mut(*name) {
            def.insert("x-kubernetes-map-type".into(), "atomic".into());
        }
    }
}
