//! Node join: an agent presents the cluster's node token and gets a client certificate for
//! its own identity (`system:node:<name>` in `system:nodes`) and the cluster CA.
//!
//! `POST /v1-skiff/join` with `Authorization: Bearer <token>` and `{"nodeName": "..."}`.
//! `GET /cacerts` serves the CA (unauthenticated) so that an agent can check it against the
//! hash in a `K10<hash>::server:<secret>` token before trusting the server.

use crate::error::{ApiError, ApiResult};
use crate::negotiate::json_response;
use crate::pki;
use axum::body::Bytes;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde_json::json;

/// The path agents join at.
pub const PATH: &str = "/v1-skiff/join";
/// The path the cluster CA is served at.
pub const CA_PATH: &str = "/cacerts";

/// The credential part of a token: after `K10<hash>::` if present (a token given with or
/// without its CA hash is the same credential, as with k3s).
pub fn credential(token: &str) -> &str {
    let token = token.trim();
    match token.split_once("::") {
        Some((prefix, rest)) if prefix.starts_with("K10") || prefix == "skiff" => rest,
        _ => token,
    }
}

/// The CA hash a `K10<hash>::...` token pins, if it has one.
pub fn pinned_ca_hash(token: &str) -> Option<&str> {
    let (prefix, _) = token.trim().split_once("::")?;
    prefix.strip_prefix("K10").filter(|h| !h.is_empty())
}

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
    if !same(
        credential(presented).as_bytes(),
        credential(&authority.token).as_bytes(),
    ) {
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

    #[test]
    fn tokens_with_and_without_the_ca_hash_carry_the_same_credential() {
        let full = "K10abc123::server:s3cret";
        assert_eq!(credential(full), "server:s3cret");
        assert_eq!(credential("server:s3cret"), "server:s3cret");
        assert_eq!(credential(" skiff::server:old \n"), "server:old");
        assert_eq!(pinned_ca_hash(full), Some("abc123"));
        assert_eq!(pinned_ca_hash("skiff::server:old"), None);
        assert_eq!(pinned_ca_hash("server:s3cret"), None);
    }
}
