//! OpenAPI v3 (index and per group/version documents) and v2 documents for the served kinds.
//! OWNER: schema/patch helper. Interface below is fixed; fill the bodies.

use serde_json::Value;

/// The `/openapi/v3` index: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}, …}}`.
pub fn v3_index() -> Value {
    serde_json::json!({"paths": {}})
}

/// The `/openapi/v3/apis/<group>/<version>` (or `api/v1`) document, if served.
pub fn v3_document(_group: &str, _version: &str) -> Option<Value> {
    None
}

/// The `/openapi/v2` document (JSON).
pub fn v2_document() -> Value {
    serde_json::json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": "v1.33.0"}, "paths": {}, "definitions": {}})
}
