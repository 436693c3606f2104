//! Non-resource endpoints: `/version`, health checks and OpenAPI documents.

use crate::negotiate::{json_bytes, json_response};
use crate::Api;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The Kubernetes version this server speaks.
pub const KUBE_MINOR: &str = "33";

fn text(code: StatusCode, body: &'static str) -> Response {
    let mut r = (code, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Serves the endpoints anyone may read: `/version` and the health checks.
pub fn serve_public(api: &Api, method: &Method, path: &str) -> Option<Response> {
    if !is_read(method) {
        return None;
    }
    Some(match path.trim_end_matches('/') {
        "/version" => json_response(
            200,
            &json!({
                "major": "1",
                "minor": KUBE_MINOR,
                "emulationMajor": "1",
                "emulationMinor": KUBE_MINOR,
                "minCompatibilityMajor": "1",
                "minCompatibilityMinor": "32",
                "gitVersion": format!("v1.{KUBE_MINOR}.0+skiff{}", env!("CARGO_PKG_VERSION")),
                "gitCommit": "skiff",
                "gitTreeState": "clean",
                "buildDate": "2026-11-22T00:00:00Z",
                "goVersion": "rust",
                "compiler": "rustc",
                "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
            }),
        ),
        "/healthz" | "/livez" => text(StatusCode::OK, "ok"),
        "/readyz" if api.ready() => text(StatusCode::OK, "ok"),
        "/readyz" => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "[-]bootstrap failed: not finished\nreadyz check failed",
        ),
        _ => return None,
    })
}

/// Serves the OpenAPI documents (authenticated clients only).
pub fn serve_openapi(method: &Method, path: &str) -> Option<Response> {
    if !is_read(method) {
        return None;
    }
    let path = path.trim_end_matches('/');
    if path == "/openapi/v2" {
        return Some(json_bytes(
            200,
            skiff_api::openapi::v2_document_bytes().to_vec(),
        ));
    }
    if path == "/openapi/v3" {
        return Some(json_response(200, &skiff_api::openapi::v3_index()));
    }
    let gv = path.strip_prefix("/openapi/v3/")?;
    let (group, version) = match gv.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return Some(crate::error::ApiError::path_not_found().into_response()),
    };
    Some(
        match skiff_api::openapi::v3_document_bytes(group, version) {
            Some(b) => json_bytes(200, b.to_vec()),
            None => crate::error::ApiError::path_not_found().into_response(),
        },
    )
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
