//! Port-forward tunneled over WebSocket (kubectl 1.31 and later): the client speaks SPDY
//! inside binary WebSocket messages under the subprotocol `SPDY/3.1+portforward.k8s.io`. As
//! upstream's API server does, the hop asks its backend for a plain SPDY upgrade, answers the
//! client's WebSocket handshake, and carries the bytes between the two.

use futures::{SinkExt, StreamExt};
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, UPGRADE};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Message, Role};
use tokio_tungstenite::WebSocketStream;

/// The WebSocket subprotocol of a tunneled port-forward.
pub const PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";
const WS_PROTOCOL: &str = "sec-websocket-protocol";
const WS_KEY: &str = "sec-websocket-key";

/// Whether the request asks for a WebSocket and offers `protocol`.
pub fn offers(headers: &HeaderMap, protocol: &str) -> bool {
    let websocket = headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    websocket
        && headers
            .get_all(WS_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == protocol)
}

/// Whether the request asks for a WebSocket carrying port-forward SPDY.
pub fn is_tunnel_request(headers: &HeaderMap) -> bool {
    offers(headers, PROTOCOL)
}

/// The headers without the client's WebSocket handshake.
pub fn without_websocket(mut headers: HeaderMap) -> HeaderMap {
    for h in [
        WS_KEY,
        "sec-websocket-version",
        WS_PROTOCOL,
        "sec-websocket-extensions",
    ] {
        headers.remove(h);
    }
    headers
}

/// The backend's request headers: a plain SPDY port-forward upgrade instead of the WebSocket.
pub fn backend_headers(headers: HeaderMap) -> HeaderMap {
    let mut headers = without_websocket(headers);
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("SPDY/3.1"));
    headers.insert(
        "x-stream-protocol-version",
        HeaderValue::from_static("portforward.k8s.io"),
    );
    headers
}

/// The headers of the `101` that accepts the client's WebSocket handshake with `protocol`.
pub fn accept_headers(request: &HeaderMap, protocol: &'static str) -> HeaderMap {
    let key = request
        .get(WS_KEY)
        .map(|k| k.as_bytes())
        .unwrap_or_default();
    let mut h = HeaderMap::new();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&derive_accept_key(key)) {
        h.insert("sec-websocket-accept", v);
    }
    h.insert(WS_PROTOCOL, HeaderValue::from_static(protocol));
    h
}

/// Carries bytes between the client's WebSocket (binary messages) and the backend's SPDY
/// connection until either side ends.
pub async fn bridge(client: Upgraded, backend: Upgraded) {
    let ws = WebSocketStream::from_raw_socket(TokioIo::new(client), Role::Server, None).await;
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut from_backend, mut to_backend) = tokio::io::split(TokioIo::new(backend));
    let up = async {
        while let Some(msg) = ws_rx.next().await {
            match msg {
                Ok(Message::Binary(data)) => {
                    if to_backend.write_all(&data).await.is_err() {
                        break;
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = to_backend.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from_backend.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if ws_tx
                        .send(Message::Binary(buf[..n].to_vec().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = ws_tx.send(Message::Close(None)).await;
    };
    // either side ending ends the tunnel (a port-forward has no half-close)
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tunnel_requests_become_spdy_upgrades() {
        let mut h = HeaderMap::new();
        h.insert(UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(
            WS_PROTOCOL,
            HeaderValue::from_static("SPDY/3.1+portforward.k8s.io, portforward.k8s.io"),
        );
        h.insert(WS_KEY, HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(is_tunnel_request(&h));
        // the handshake example of RFC 6455
        assert_eq!(
            accept_headers(&h, PROTOCOL)["sec-websocket-accept"],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let b = backend_headers(h);
        assert_eq!(b[UPGRADE], "SPDY/3.1");
        assert_eq!(b["x-stream-protocol-version"], "portforward.k8s.io");
        assert!(b.get(WS_KEY).is_none() && b.get(WS_PROTOCOL).is_none());
        let mut exec = HeaderMap::new();
        exec.insert(UPGRADE, HeaderValue::from_static("websocket"));
        exec.insert(WS_PROTOCOL, HeaderValue::from_static("v5.channel.k8s.io"));
        assert!(!is_tunnel_request(&exec));
    }
}
