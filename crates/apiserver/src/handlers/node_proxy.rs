//! `pods/log`, `pods/exec`, `pods/attach` and `pods/portforward`: forwarded to the kubelet of
//! the pod's node over TLS with the API server's kubelet-client certificate. Upgraded streams
//! (SPDY, WebSocket) pass through byte for byte.

use crate::error::{ApiError, ApiResult};
use crate::request::{Query, Target};
use crate::Api;
use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::Value;
use skiff_api::{catalogue, Subresource};
use std::sync::Arc;
use tokio_rustls::TlsConnector;

/// How long connecting to a kubelet may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// The container a request names, or the pod's only one.
fn container(pod: &Value, query: &Query, pod_name: &str) -> ApiResult<String> {
    if let Some(c) = query.0.get("container").filter(|c| !c.is_empty()) {
        let known = [
            "/spec/containers",
            "/spec/initContainers",
            "/spec/ephemeralContainers",
        ]
        .iter()
        .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
        .flatten()
        .any(|x| str_at(x, "/name") == Some(c));
        if !known {
            return Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {pod_name}"
            )));
        }
        return Ok(c.clone());
    }
    let names: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| str_at(c, "/name"))
        .collect();
    match names.as_slice() {
        [one] => Ok(one.to_string()),
        _ => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {pod_name}, choose one of: [{}]",
            names.join(" ")
        ))),
    }
}

/// The kubelet address of a node: its InternalIP (else first address) and kubelet port.
fn kubelet_address(node: &Value) -> Option<String> {
    let addresses = node
        .pointer("/status/addresses")
        .and_then(Value::as_array)?;
    let ip = addresses
        .iter()
        .find(|a| str_at(a, "/type") == Some("InternalIP"))
        .or_else(|| addresses.first())
        .and_then(|a| str_at(a, "/address"))?;
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_i64)
        .filter(|p| *p > 0)
        .unwrap_or(10250);
    Some(if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    })
}

/// Forwards a pod streaming subresource to the pod's kubelet.
pub async fn forward(
    api: &Arc<Api>,
    target: &Target,
    mut parts: Parts,
    body: Bytes,
) -> ApiResult<Response> {
    let sr = target.subresource.expect("only subresources are forwarded");
    let ns = target.namespace.as_deref().unwrap_or("default");
    let name = target.name.as_deref().unwrap_or_default();
    let (pod, _) = api.registry.get(catalogue::pods(), Some(ns), name).await?;
    let query = Query::parse(parts.uri.query());
    let node_name = str_at(&pod, "/spec/nodeName").unwrap_or_default();
    if node_name.is_empty() {
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let raw_query = parts.uri.query().unwrap_or("");
    let path = match sr {
        Subresource::Log => format!(
            "/containerLogs/{ns}/{name}/{}?{raw_query}",
            container(&pod, &query, name)?
        ),
        Subresource::Exec => format!(
            "/exec/{ns}/{name}/{}?{raw_query}",
            container(&pod, &query, name)?
        ),
        Subresource::Attach => format!(
            "/attach/{ns}/{name}/{}?{raw_query}",
            container(&pod, &query, name)?
        ),
        Subresource::PortForward => format!("/portForward/{ns}/{name}?{raw_query}"),
        _ => return Err(ApiError::method_not_allowed("")),
    };
    if sr == Subresource::Log && str_at(&pod, "/status/phase") == Some("Pending") {
        let c = container(&pod, &query, name)?;
        let started = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|s| {
                str_at(s, "/name") == Some(c.as_str()) && s.pointer("/state/waiting").is_none()
            });
        if !started {
            return Err(ApiError::bad_request(format!(
                "container \"{c}\" in pod \"{name}\" is waiting to start: ContainerCreating"
            )));
        }
    }
    let (node, _) = api
        .registry
        .get(
            catalogue::find("", "v1", "nodes").expect("nodes are served"),
            None,
            node_name,
        )
        .await?;
    let address = kubelet_address(&node).ok_or_else(|| {
        ApiError::new(
            503,
            "ServiceUnavailable",
            format!("node {node_name} reports no address"),
        )
    })?;
    let tls = api.kubelet_tls.clone().ok_or_else(|| {
        ApiError::new(
            503,
            "ServiceUnavailable",
            "this server has no kubelet client credentials",
        )
    })?;
    let unreachable = |e: &dyn std::fmt::Display| {
        ApiError::new(
            502,
            "BadGateway",
            format!("error dialing the kubelet of node {node_name} at {address}: {e}"),
        )
    };
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&address))
        .await
        .map_err(|_| unreachable(&"timed out"))?
        .map_err(|e| unreachable(&e))?;
    let _ = tcp.set_nodelay(true);
    let server_name = rustls::pki_types::ServerName::try_from("kubelet")
        .expect("a valid DNS name")
        .to_owned();
    let stream = TlsConnector::from(tls)
        .connect(server_name, tcp)
        .await
        .map_err(|e| unreachable(&e))?;
    let upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
    let resp = skiff_stream::forward(
        stream,
        &address,
        parts.method.clone(),
        &path,
        skiff_stream::forward_headers(&parts.headers),
        body,
        upgrade,
    )
    .await
    .map_err(|e| unreachable(&e))?;
    let status = resp.status();
    if status.is_client_error() || status.is_server_error() {
        // the kubelet answers errors in plain text; clients expect a Status
        use http_body_util::BodyExt;
        let text = match tokio::time::timeout(CONNECT_TIMEOUT, resp.into_body().collect()).await {
            Ok(Ok(b)) => String::from_utf8_lossy(&b.to_bytes()).trim().to_string(),
            _ => String::new(),
        };
        let reason = match status.as_u16() {
            400 => "BadRequest",
            403 => "Forbidden",
            404 => "NotFound",
            _ => "InternalError",
        };
        return Err(ApiError::new(status.as_u16(), reason, text));
    }
    Ok(resp.map(Body::new))
}
