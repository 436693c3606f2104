//! Non-resource endpoints: `/version`, health checks and OpenAPI documents.

use crate::negotiate::{json_bytes, json_response};
use crate::Api;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
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

/// Serves the path if it is a non-resource endpoint.
pub async fn serve(
    api: &Api,
    method: &Method,
    path: &str,
    _query: Option<&str>,
    _headers: &HeaderMap,
) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = path.trim_end_matches('/');
    Some(match path {
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
        "/readyz" => {
            if api.ready() {
                text(StatusCode::OK, "ok")
            } else {
                text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "[-]bootstrap failed: not finished\nreadyz check failed",
                )
            }
        }
        "/openapi/v2" => json_bytes(200, skiff_api::openapi::v2_document_bytes().to_vec()),
        "/openapi/v3" => json_response(200, &skiff_api::openapi::v3_index()),
        p if p.starts_with("/openapi/v3/") => {
            let gv = &p["/openapi/v3/".len()..];
            let (group, version) = match gv.split('/').collect::<Vec<_>>().as_slice() {
                ["api", v] => ("", *v),
                ["apis", g, v] => (*g, *v),
                _ => return Some(crate::error::ApiError::path_not_found().into_response()),
            };
            match skiff_api::openapi::v3_document_bytes(group, version) {
                Some(b) => json_bytes(200, b.to_vec()),
                None => crate::error::ApiError::path_not_found().into_response(),
            }
        }
        _ => return None,
    })
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}
