//! OpenAPI v3 (index and per group/version documents) and v2 documents for the served kinds.

mod operation;
mod params;
mod paths;
mod render;
mod subresources;

use crate::catalogue::{in_group_version, serves_group_version, GROUPS};
use render::Dialect;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

/// Definitions every document carries whether or not a path references them.
const META: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
];

/// One serialized v3 document.
struct V3Document {
    group: &'static str,
    version: &'static str,
    bytes: Vec<u8>,
    hash: String,
}

/// Every served group/version, core first.
fn group_versions() -> impl Iterator<Item = (&'static str, &'static str)> {
    std::iter::once(("", "v1")).chain(GROUPS.iter().copied())
}

/// The index key of a group/version (`api/v1`, `apis/apps/v1`).
pub fn v3_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The paths of a group/version's resources, in the given dialect.
fn paths(group: &str, version: &str, dialect: Dialect) -> Map<String, Value> {
    let tag = format!("{}_{version}", paths::tag_group(group));
    let mut out = Map::new();
    let root = paths::resources_path(group, version);
    out.insert(root.path.clone(), render::path_item(&root, &tag, dialect));
    for rt in in_group_version(group, version) {
        for item in paths::resource_paths(rt) {
            out.insert(item.path.clone(), render::path_item(&item, &tag, dialect));
        }
    }
    out.sort_keys();
    out
}

fn info() -> Value {
    json!({"title": "Kubernetes", "version": "v1.33.0"})
}

/// Builds the v3 document of a served group/version.
fn build_v3(group: &str, version: &str) -> Value {
    let paths = Value::Object(paths(group, version, Dialect::V3));
    let schemas: Map<String, Value> = render::referenced_definitions(&paths, META)
        .into_iter()
        .filter_map(|name| Some((name.clone(), crate::schema::definition(&name)?.clone())))
        .collect();
    json!({
        "openapi": "3.0.0",
        "info": info(),
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// An uppercase hex digest of a document (two independent 64-bit FNV-1a hashes).
fn digest(bytes: &[u8]) -> String {
    let fnv = |seed: u64| {
        bytes.iter().fold(seed, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016X}{:016X}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x6c62_272e_07bb_0142)
    )
}

fn v3_documents() -> &'static [V3Document] {
    static DOCS: OnceLock<Vec<V3Document>> = OnceLock::new();
    DOCS.get_or_init(|| {
        group_versions()
            .map(|(group, version)| {
                let bytes = serde_json::to_vec(&build_v3(group, version)).unwrap_or_default();
                let hash = digest(&bytes);
                V3Document {
                    group,
                    version,
                    bytes,
                    hash,
                }
            })
            .collect()
    })
}

fn find_v3(group: &str, version: &str) -> Option<&'static V3Document> {
    if !serves_group_version(group, version) {
        return None;
    }
    v3_documents()
        .iter()
        .find(|d| d.group == group && d.version == version)
}

/// The `/openapi/v3` index: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}, …}}`.
pub fn v3_index() -> Value {
    let paths: Map<String, Value> = v3_documents()
        .iter()
        .map(|d| {
            let path = v3_path(d.group, d.version);
            let url = format!("/openapi/v3/{path}?hash={}", d.hash);
            (path, json!({ "serverRelativeURL": url }))
        })
        .collect();
    json!({ "paths": paths })
}

/// The `/openapi/v3/apis/<group>/<version>` (or `api/v1`) document, if served.
pub fn v3_document(group: &str, version: &str) -> Option<Value> {
    serde_json::from_slice(v3_document_bytes(group, version)?).ok()
}

/// The serialized v3 document of a group/version, built once and cached.
pub fn v3_document_bytes(group: &str, version: &str) -> Option<&'static [u8]> {
    find_v3(group, version).map(|d| d.bytes.as_slice())
}

/// The hash the index advertises for a group/version's v3 document.
pub fn v3_document_hash(group: &str, version: &str) -> Option<&'static str> {
    find_v3(group, version).map(|d| d.hash.as_str())
}

/// Builds the Swagger 2.0 document of every served group/version.
fn build_v2() -> Value {
    let mut all_paths = Map::new();
    for (group, version) in group_versions() {
        all_paths.extend(paths(group, version, Dialect::V2));
    }
    all_paths.sort_keys();
    let paths = Value::Object(all_paths);
    let definitions: Map<String, Value> = render::referenced_definitions(&paths, META)
        .into_iter()
        .filter_map(|name| {
            Some((
                name.clone(),
                render::v2_schema(crate::schema::definition(&name)?),
            ))
        })
        .collect();
    json!({
        "swagger": "2.0",
        "info": info(),
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"}},
        "security": [{"BearerToken": []}],
    })
}

/// The serialized `/openapi/v2` document, built once and cached.
pub fn v2_document_bytes() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_vec(&build_v2()).unwrap_or_default())
}

/// The `/openapi/v2` document (JSON).
pub fn v2_document() -> Value {
    serde_json::from_slice(v2_document_bytes()).unwrap_or(Value::Null)
}

/// Builds and caches every document now; returns how long it took.
pub fn warm() -> std::time::Duration {
    let start = std::time::Instant::now();
    v3_documents();
    v2_document_bytes();
    start.elapsed()
}

/// Builds every document on a background thread.
pub fn warm_in_background() {
    std::thread::spawn(warm);
}

#[cfg(test)]
mod tests;
