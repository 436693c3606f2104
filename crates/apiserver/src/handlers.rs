//! Request dispatch: from method and path to the handler for that verb.

pub mod delete;
pub mod node_proxy;
pub mod patch;
pub mod read;
pub mod review;
pub mod subresource;
pub mod watch;
pub mod write;

use crate::auth::User;
use crate::error::{ApiError, ApiResult};
use crate::negotiate::{self, MAX_BODY};
use crate::request::{parse_path, Query, Route, Target};
use crate::{discovery, system, Api};
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use skiff_api::Subresource;
use std::sync::Arc;
use write::Part;

/// Everything a resource handler needs about its request.
#[derive(Clone)]
pub struct Ctx {
    /// Shared server state.
    pub api: Arc<Api>,
    /// What the path addresses.
    pub target: Target,
    /// Query parameters.
    pub query: Query,
    /// Request headers.
    pub headers: HeaderMap,
    /// The authenticated user.
    pub user: User,
}

/// Serves one HTTP request.
pub async fn serve(api: Arc<Api>, req: Request) -> Response {
    match route(api, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn read_body(body: Body) -> ApiResult<Bytes> {
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::too_large())
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "reading the request body: {e}"
        ))),
    }
}

async fn route(api: Arc<Api>, req: Request) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    let user = parts
        .extensions
        .get::<User>()
        .cloned()
        .unwrap_or_else(User::anonymous);
    let path = parts.uri.path().to_string();
    // read the body first: answering before it is consumed resets the client's stream
    let body = read_body(body).await?;
    if let Some(resp) = system::serve_public(&api, &parts.method, &path) {
        return Ok(resp);
    }
    if path == crate::join::CA_PATH && parts.method == Method::GET {
        if let Some(authority) = &api.join {
            return axum::response::Response::builder()
                .status(200)
                .header(axum::http::header::CONTENT_TYPE, "text/plain")
                .body(axum::body::Body::from(authority.ca_cert_pem.clone()))
                .map_err(|e| ApiError::internal(e.to_string()));
        }
    }
    if path == crate::join::PATH {
        return match (&api.join, parts.method == Method::POST) {
            (Some(authority), true) => crate::join::join(authority, &parts.headers, &body),
            (Some(_), false) => Err(ApiError::method_not_allowed("")),
            (None, _) => Err(ApiError::path_not_found()),
        };
    }
    if user.is_anonymous() {
        return Err(ApiError::unauthorized());
    }
    if let Some(resp) = system::serve_openapi(&parts.method, &path) {
        return Ok(resp);
    }
    let route = parse_path(&path)?.ok_or_else(ApiError::path_not_found)?;
    let is_get = parts.method == Method::GET;
    match route {
        Route::LegacyRoot if is_get => {
            Ok(discovery::legacy_root(&parts.headers, &api.server_address))
        }
        Route::GroupsRoot if is_get => Ok(discovery::groups_root(&parts.headers)),
        Route::Group(g) if is_get => discovery::group(&g).ok_or_else(ApiError::path_not_found),
        Route::GroupVersion(g, v) if is_get => Ok(negotiate::json_response(
            200,
            &discovery::resource_list(&g, &v),
        )),
        Route::Resource(target)
            if target.rt.kind == "Pod"
                && matches!(
                    target.subresource,
                    Some(
                        Subresource::Log
                            | Subresource::Exec
                            | Subresource::Attach
                            | Subresource::PortForward
                    )
                ) =>
        {
            node_proxy::forward(&api, &target, parts, body).await
        }
        Route::Resource(target) => {
            let ctx = Ctx {
                api,
                target,
                query: Query::parse(parts.uri.query()),
                headers: parts.headers,
                user,
            };
            resource(ctx, parts.method, body).await
        }
        _ => Err(ApiError::method_not_allowed("")),
    }
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.split(';').next().unwrap_or("").trim().to_string())
}

async fn resource(ctx: Ctx, method: Method, body: Bytes) -> ApiResult<Response> {
    let t = ctx.target.clone();
    let ct = content_type(&ctx.headers);
    let decode = || negotiate::decode_body(ct.as_deref(), &body);
    let name = t.name.as_deref();
    let watching = t.watch_prefix || ctx.query.flag("watch");
    if t.rt.create_only() && (method != Method::POST || name.is_some()) {
        return Err(ApiError::method_not_allowed(""));
    }
    // collections of namespaced kinds take writes only inside a namespace; namespaces are
    // deleted one by one
    let all_namespaces = t.rt.namespaced && t.namespace.is_none();
    let namespace_collection = t.rt.kind == "Namespace" && t.rt.group.is_empty() && name.is_none();
    if name.is_none()
        && ((all_namespaces && method != Method::GET)
            || (namespace_collection && method == Method::DELETE))
    {
        return Err(ApiError::method_not_allowed(""));
    }
    match (method.as_str(), name, t.subresource) {
        ("GET", None, None) if watching => watch::watch(ctx).await,
        ("GET", None, None) => read::list(&ctx).await,
        ("GET", Some(n), None) if t.watch_prefix => {
            let mut ctx = ctx.clone();
            ctx.query
                .0
                .insert("fieldSelector".into(), format!("metadata.name={n}"));
            ctx.target.name = None;
            watch::watch(ctx).await
        }
        ("GET", Some(n), None | Some(Subresource::Status)) => read::get(&ctx, n).await,
        ("POST", None, None) if t.rt.kind.ends_with("Review") => {
            review::review(&ctx, decode()?).await
        }
        ("POST", None, None) if t.rt.kind == "Binding" => {
            let b = decode()?;
            let pod_name = b
                .pointer("/metadata/name")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let mut pod_ctx = ctx.clone();
            pod_ctx.target.rt = skiff_api::catalogue::pods();
            subresource::bind(&pod_ctx, &pod_name, &b).await
        }
        ("POST", None, None) => write::create(&ctx, decode()?, &body).await,
        ("PUT", Some(n), None) => write::replace(&ctx, n, decode()?, &body, Part::Main).await,
        ("PUT", Some(n), Some(Subresource::Status)) => {
            write::replace(&ctx, n, decode()?, &body, Part::Status).await
        }
        ("PATCH", Some(n), None | Some(Subresource::Status)) => {
            let part = if t.subresource.is_some() {
                Part::Status
            } else {
                Part::Main
            };
            let ct = ct.ok_or_else(|| ApiError::unsupported_media_type(""))?;
            patch::patch(&ctx, n, &ct, &body, part).await
        }
        ("DELETE", Some(n), None) => {
            let opts = delete::DeleteOptions::parse(&ctx, &body)?;
            delete::delete(&ctx, n, &opts).await
        }
        ("DELETE", None, None) => {
            let opts = delete::DeleteOptions::parse(&ctx, &body)?;
            delete::delete_collection(&ctx, &opts).await
        }
        ("GET", Some(n), Some(Subresource::Scale)) => subresource::get_scale(&ctx, n).await,
        ("PUT", Some(n), Some(Subresource::Scale)) => {
            subresource::write_scale(&ctx, n, None, &body).await
        }
        ("PATCH", Some(n), Some(Subresource::Scale)) => {
            let ct = ct.ok_or_else(|| ApiError::unsupported_media_type(""))?;
            subresource::write_scale(&ctx, n, Some(&ct), &body).await
        }
        ("POST", Some(n), Some(Subresource::Binding)) => {
            subresource::bind(&ctx, n, &decode()?).await
        }
        ("POST", Some(n), Some(Subresource::Eviction)) => {
            subresource::evict(&ctx, n, &decode()?).await
        }
        ("PUT", Some(n), Some(Subresource::Finalize)) => {
            subresource::finalize(&ctx, n, &decode()?).await
        }
        (
            _,
            _,
            Some(
                sr @ (Subresource::Log
                | Subresource::Exec
                | Subresource::Attach
                | Subresource::PortForward
                | Subresource::Token),
            ),
        ) => Err(ApiError::new(
            503,
            "ServiceUnavailable",
            format!("{} is served once node agents are connected", sr.name()),
        )),
        _ => Err(ApiError::method_not_allowed("")),
    }
}
