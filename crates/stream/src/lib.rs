//! Forwarding one HTTP/1.1 request to a backend connection and its answer back, including
//! protocol upgrades: after a `101 Switching Protocols` both upgraded connections are spliced,
//! so SPDY and WebSocket streams (exec, attach, port-forward) pass through untouched. The API
//! server forwards to kubelets this way, and kubelets to the runtime's streaming server. A
//! port-forward tunneled over WebSocket is unwrapped on the way ([`tunnel`]), and exec/attach
//! over WebSocket v5 are translated to SPDY ([`v5`]).
#![forbid(unsafe_code)]

pub mod spdy;
pub mod tls;
pub mod tunnel;
pub mod v5;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HOST};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// Errors forwarding a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backend connection failed.
    #[error("backend: {0}")]
    Backend(#[from] hyper::Error),
    /// The request could not be built.
    #[error("request: {0}")]
    Request(#[from] hyper::http::Error),
}

/// Headers that describe one hop, not the request (never forwarded), except the upgrade ones
/// which the next hop must see.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "authorization"
    ) || name == HOST
}

/// The request headers worth forwarding (upgrade headers included).
pub fn forward_headers(from: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in from {
        if !hop_by_hop(k) {
            out.append(k.clone(), v.clone());
        }
    }
    out
}

/// How an upgrade is carried between client and backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Translation {
    /// Byte for byte.
    None,
    /// Port-forward SPDY inside WebSocket messages.
    Tunnel,
    /// exec/attach WebSocket v5 against SPDY v4.
    V5(v5::Channels),
}

/// Sends `method path_and_query` with `headers` and `body` over `io` (authority `host`) and
/// returns the answer. On `101`, the backend's upgraded connection is spliced with
/// `client_upgrade` in a background task once the caller has answered the client. A
/// WebSocket-tunneled port-forward reaches the backend as a plain SPDY upgrade, and its `101`
/// answers the client's WebSocket handshake.
pub async fn forward<S>(
    io: S,
    host: &str,
    method: hyper::Method,
    path_and_query: &str,
    headers: HeaderMap,
    body: Bytes,
    client_upgrade: Option<OnUpgrade>,
) -> Result<Response<Incoming>, Error>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let translation = if tunnel::is_tunnel_request(&headers) {
        Translation::Tunnel
    } else if v5::is_v5_request(&headers) {
        Translation::V5(v5::Channels::from_query(path_and_query))
    } else {
        Translation::None
    };
    let (headers, accept) = match translation {
        Translation::Tunnel => {
            let accept = tunnel::accept_headers(&headers, tunnel::PROTOCOL);
            (tunnel::backend_headers(headers), Some(accept))
        }
        Translation::V5(_) => {
            let accept = tunnel::accept_headers(&headers, v5::PROTOCOL);
            (v5::backend_headers(headers), Some(accept))
        }
        Translation::None => (headers, None),
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!("forwarded connection: {e}");
        }
    });
    let mut req = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(HOST, host)
        .body(Full::new(body))?;
    *req.headers_mut() = {
        let mut h = headers;
        h.insert(HOST, host.parse().map_err(hyper::http::Error::from)?);
        h
    };
    let mut resp = sender.send_request(req).await?;
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        let backend = hyper::upgrade::on(&mut resp);
        if let Some(accept) = accept {
            *resp.headers_mut() = accept;
        }
        match client_upgrade {
            Some(client) => {
                tokio::spawn(async move {
                    match (client.await, backend.await) {
                        (Ok(c), Ok(b)) => match translation {
                            Translation::Tunnel => tunnel::bridge(c, b).await,
                            Translation::V5(channels) => v5::bridge(c, b, channels).await,
                            Translation::None => {
                                let mut c = TokioIo::new(c);
                                let mut b = TokioIo::new(b);
                                if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut b).await
                                {
                                    tracing::debug!("upgraded stream ended: {e}");
                                }
                            }
                        },
                        (Err(e), _) | (_, Err(e)) => tracing::debug!("upgrade failed: {e}"),
                    }
                });
            }
            None => tracing::debug!("the backend switched protocols but the client cannot"),
        }
    }
    Ok(resp)
}
