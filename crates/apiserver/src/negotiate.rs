//! Content negotiation: request bodies in, JSON / Table / metadata-only responses out.

use crate::error::{ApiError, ApiResult};
use crate::registry::Item;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use skiff_api::{printers, ResourceType};

/// Largest request body accepted.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// The representation a client asked for in `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The objects themselves.
    Object,
    /// `meta.k8s.io` Table with the given apiVersion suffix (`v1` or `v1beta1`).
    Table(&'static str),
    /// `PartialObjectMetadata`(List).
    Metadata(&'static str),
}

/// What the Table rows carry (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// `PartialObjectMetadata` (default).
    Metadata,
    /// The full object.
    Object,
}

impl IncludeObject {
    /// Reads the `includeObject` parameter.
    pub fn parse(v: Option<&str>) -> ApiResult<Self> {
        match v {
            None | Some("Metadata") => Ok(IncludeObject::Metadata),
            Some("None") => Ok(IncludeObject::None),
            Some("Object") => Ok(IncludeObject::Object),
            Some(o) => Err(ApiError::bad_request(format!(
                "invalid includeObject: {o:?}"
            ))),
        }
    }
}

/// Picks the output form from the `Accept` header (first acceptable alternative wins).
pub fn output(headers: &HeaderMap) -> ApiResult<Output> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.is_empty() {
        return Ok(Output::Object);
    }
    let mut only_unsupported = true;
    for alt in accept.split(',') {
        let mut parts = alt.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let param = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        if !matches!(
            media,
            "application/json" | "application/yaml" | "*/*" | "application/*"
        ) {
            continue;
        }
        only_unsupported = false;
        let version = match param("v") {
            Some("v1beta1") => "v1beta1",
            _ => "v1",
        };
        match (param("as"), param("g")) {
            (Some("Table"), Some("meta.k8s.io")) => return Ok(Output::Table(version)),
            (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => {
                return Ok(Output::Metadata(version))
            }
            (Some(_), _) => continue,
            (None, _) => return Ok(Output::Object),
        }
    }
    if only_unsupported && !accept.contains("protobuf") {
        return Err(ApiError::new(406, "NotAcceptable", format!("only the following media types are accepted: application/json, application/yaml (got {accept:?})")));
    }
    Ok(Output::Object)
}

/// A JSON response with a status code.
pub fn json_response(code: u16, body: &Value) -> Response {
    json_bytes(code, serde_json::to_vec(body).unwrap_or_default())
}

/// Pre-serialized JSON with a status code.
pub fn json_bytes(code: u16, body: Vec<u8>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Parses a request body as a JSON (or YAML) object according to its content type.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> ApiResult<Value> {
    let media = content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    let value: Value = match media {
        "application/json" | "" | "*/*" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?,
        "application/yaml" | "application/x-yaml" | "text/yaml" => serde_yaml::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))?,
        m if skiff_api::protobuf::is_protobuf(m) => skiff_api::protobuf::decode(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding protobuf: {e}")))?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "couldn't get version/kind; json parse error: the body must be a JSON object",
        ));
    }
    Ok(value)
}

fn partial_metadata(obj: &Value, version: &str) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": obj.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// A Table of the given objects; column definitions only when `with_columns`.
pub fn table(
    rt: &ResourceType,
    version: &str,
    objs: impl IntoIterator<Item = Value>,
    list_meta: Value,
    include: IncludeObject,
    with_columns: bool,
) -> Value {
    let now = chrono::Utc::now();
    let rows: Vec<Value> = objs
        .into_iter()
        .map(|o| {
            let mut row = json!({ "cells": printers::row(rt, &o, now) });
            match include {
                IncludeObject::None => {}
                IncludeObject::Metadata => row["object"] = partial_metadata(&o, version),
                IncludeObject::Object => row["object"] = o,
            }
            row
        })
        .collect();
    let columns: Vec<Value> = if with_columns {
        printers::columns(rt)
            .into_iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "type": c.type_,
                    "format": c.format,
                    "description": c.description,
                    "priority": c.priority,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": list_meta,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// Renders one object in the requested form.
pub fn render_object(rt: &ResourceType, obj: Value, out: Output, include: IncludeObject) -> Value {
    match out {
        Output::Object => obj,
        Output::Table(v) => {
            let rv = obj
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(Value::Null);
            table(
                rt,
                v,
                [obj],
                json!({ "resourceVersion": rv }),
                include,
                true,
            )
        }
        Output::Metadata(v) => partial_metadata(&obj, v),
    }
}

/// Renders a list in the requested form; objects are decoded one at a time.
pub fn render_list(
    rt: &ResourceType,
    items: Vec<Item>,
    list_meta: Value,
    out: Output,
    include: IncludeObject,
) -> ApiResult<Response> {
    let decoded =
        |items: Vec<Item>| -> ApiResult<Vec<Value>> { items.iter().map(Item::decode).collect() };
    match out {
        Output::Object => {
            let head = json!({ "kind": rt.list_kind(), "apiVersion": rt.api_version(), "metadata": list_meta });
            let mut body = serde_json::to_vec(&head).map_err(ApiError::internal)?;
            body.pop();
            let size: usize = items.iter().map(|i| i.json().len() + 1).sum();
            body.reserve(size + 16);
            body.extend_from_slice(b",\"items\":[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(item.json().as_bytes());
            }
            body.extend_from_slice(b"]}");
            Ok(json_bytes(200, body))
        }
        Output::Table(v) => {
            let rows = items
                .iter()
                .map(Item::decode)
                .collect::<ApiResult<Vec<Value>>>()?;
            Ok(json_response(
                200,
                &table(rt, v, rows, list_meta, include, true),
            ))
        }
        Output::Metadata(v) => {
            let metas: Vec<Value> = decoded(items)?
                .iter()
                .map(|o| partial_metadata(o, v))
                .collect();
            Ok(json_response(
                200,
                &json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": format!("meta.k8s.io/{v}"),
                    "metadata": list_meta,
                    "items": metas,
                }),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> Output {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        output(&h).unwrap()
    }

    #[test]
    fn kubectl_get_asks_for_a_table() {
        assert_eq!(
            accept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"),
            Output::Table("v1")
        );
        assert_eq!(accept("application/json, */*"), Output::Object);
        assert_eq!(
            accept("application/vnd.kubernetes.protobuf, */*"),
            Output::Object
        );
    }

    #[test]
    fn bodies_must_be_objects() {
        assert_eq!(decode_body(None, b"[1]").unwrap_err().code, 400);
        assert_eq!(decode_body(None, b"{bad").unwrap_err().code, 400);
        assert_eq!(
            decode_body(Some("application/vnd.kubernetes.protobuf"), b"x")
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            decode_body(Some("application/octet-stream"), b"x")
                .unwrap_err()
                .code,
            415
        );
        let v = decode_body(Some("application/yaml"), b"kind: Pod\n").unwrap();
        assert_eq!(v["kind"], "Pod");
    }
}
