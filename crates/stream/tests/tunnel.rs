//! A WebSocket-tunneled port-forward through `forward`: the client's WebSocket handshake is
//! answered, the backend sees a plain SPDY upgrade, and bytes flow both ways.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, UPGRADE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A backend that accepts any upgrade and echoes what it reads, upper-cased; records the
/// request's upgrade headers.
async fn backend(seen: Arc<Mutex<Vec<(String, String)>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let seen = seen.clone();
            let service = service_fn(move |mut req: Request<Incoming>| {
                let seen = seen.clone();
                async move {
                    for h in ["upgrade", "x-stream-protocol-version", "sec-websocket-key"] {
                        let v = req
                            .headers()
                            .get(h)
                            .map(|v| v.to_str().unwrap().to_string());
                        seen.lock().push((h.into(), v.unwrap_or_default()));
                    }
                    let on = hyper::upgrade::on(&mut req);
                    tokio::spawn(async move {
                        let mut io = TokioIo::new(on.await.unwrap());
                        let mut buf = [0u8; 1024];
                        while let Ok(n) = io.read(&mut buf).await {
                            if n == 0 || io.write_all(&buf[..n].to_ascii_uppercase()).await.is_err()
                            {
                                break;
                            }
                        }
                    });
                    Response::builder()
                        .status(StatusCode::SWITCHING_PROTOCOLS)
                        .header(UPGRADE, "SPDY/3.1")
                        .header(CONNECTION, "Upgrade")
                        .body(Empty::<Bytes>::new())
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    addr
}

/// A hop that forwards every request to `backend` with `skiff_stream::forward`.
async fn hop(backend: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let backend = backend.clone();
            let service = service_fn(move |mut req: Request<Incoming>| {
                let backend = backend.clone();
                async move {
                    let upgrade = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
                    let io = TcpStream::connect(&backend).await.unwrap();
                    skiff_stream::forward(
                        io,
                        &backend,
                        req.method().clone(),
                        req.uri().path(),
                        skiff_stream::forward_headers(req.headers()),
                        Bytes::new(),
                        upgrade,
                    )
                    .await
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    addr
}

#[tokio::test]
async fn a_websocket_tunnel_reaches_the_backend_as_a_spdy_upgrade() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hop = hop(backend(seen.clone()).await).await;
    let mut request = format!("ws://{hop}/portForward/default/web")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        skiff_stream::tunnel::PROTOCOL.parse().unwrap(),
    );
    let tcp = TcpStream::connect(&hop).await.unwrap();
    let (mut ws, resp) = tokio_tungstenite::client_async(request, tcp).await.unwrap();
    assert_eq!(
        resp.headers()["sec-websocket-protocol"],
        skiff_stream::tunnel::PROTOCOL
    );
    ws.send(Message::Binary(b"spdy frames".to_vec().into()))
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 11 {
        match ws.next().await {
            Some(Ok(Message::Binary(d))) => got.extend_from_slice(&d),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, b"SPDY FRAMES");
    let seen = seen.lock().clone();
    assert_eq!(
        seen,
        vec![
            ("upgrade".to_string(), "SPDY/3.1".to_string()),
            (
                "x-stream-protocol-version".to_string(),
                "portforward.k8s.io".to_string()
            ),
            ("sec-websocket-key".to_string(), String::new()),
        ]
    );
}
