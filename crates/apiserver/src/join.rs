//! Node join: an agent presents the cluster's node token and gets a client certificate for
//! its own identity (`system:node:<name>` in `system:nodes`) and the cluster CA.
//!
//! `POST /v1-skiff/join` with `Authorization: Bearer <token>` and `{"nodeName": "..."}`.

use crate::error::{ApiError, ApiResult};
use crate::negotiate::json_response;
use crate::pki;
use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde_json::json;

/// The path agents join at.
pub const PATH: &str = "/v1-skiff/join";

/// What the server needs to admit nodes.
pub struct JoinAuthority {
    /// The node token.
    pub token: String,
    /// The cluster CA certificate (PEM).
    pub ca_cert_pem: String,
    /// The cluster CA key (PEM).
    pub ca_key_pem: String,
}

/// Compares without stopping at the first difference (no timing hint about the token).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn valid_node_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Checks the token and issues the node's credentials.
pub fn join(authority: &JoinAuthority, headers: &HeaderMap, body: &Bytes) -> ApiResult<Response> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if !same(presented.as_bytes(), authority.token.as_bytes()) {
        return Err(ApiError::new(
            401,
            "Unauthorized",
            "the node token is not this cluster's (see node-token in the server's data dir)",
        ));
    }
    let req: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("join request: {e}")))?;
    let name = req["nodeName"].as_str().unwrap_or_default();
    if !valid_node_name(name) {
        return Err(ApiError::bad_request(format!(
            "nodeName {name:?} is not a valid node name (a lowercase RFC 1123 subdomain)"
        )));
    }
    let issued = pki::issue_client(
        &authority.ca_cert_pem,
        &authority.ca_key_pem,
        &format!("system:node:{name}"),
        Some("system:nodes"),
    )
    .map_err(|e| ApiError::internal(format!("issuing the node certificate: {e}")))?;
    tracing::info!(node = name, "node joined");
    Ok(json_response(
        200,
        &json!({
            "caCert": authority.ca_cert_pem,
            "clientCert": issued.cert_pem,
            "clientKey": issued.key_pem,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_follow_dns_subdomain_rules() {
        assert!(valid_node_name("node-1.example"));
        assert!(!valid_node_name("Node1"));
        assert!(!valid_node_name("-a"));
        assert!(!valid_node_name(""));
        assert!(!valid_node_name("a..b"));
    }
}
