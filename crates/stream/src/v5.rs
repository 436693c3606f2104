//! exec and attach over WebSocket `v5.channel.k8s.io` (kubectl 1.30 and later), translated to
//! SPDY `v4.channel.k8s.io` for a backend that speaks only SPDY and older WebSocket protocols
//! (containerd's streaming server), as upstream's API server does.
//!
//! On the WebSocket each binary message starts with a channel byte: 0 stdin, 1 stdout,
//! 2 stderr, 3 error (the final Status), 4 resize, and 255 to close a channel (v5's addition:
//! `[255, 0]` ends stdin). On SPDY each channel is a stream the client opens with a
//! `streamtype` header; stdin ends with a FIN.

use crate::spdy::{self, Encoder, Frame};
use futures::{SinkExt, StreamExt};
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, UPGRADE};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Message, Role};
use tokio_tungstenite::WebSocketStream;

/// The WebSocket subprotocol translated.
pub const PROTOCOL: &str = "v5.channel.k8s.io";
/// The SPDY subprotocol asked of the backend.
pub const BACKEND_PROTOCOL: &str = "v4.channel.k8s.io";

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// Whether the request asks for a v5 WebSocket.
pub fn is_v5_request(headers: &HeaderMap) -> bool {
    crate::tunnel::offers(headers, PROTOCOL)
}

/// The backend's request headers: a SPDY upgrade for the v4 protocol instead of the WebSocket.
pub fn backend_headers(headers: HeaderMap) -> HeaderMap {
    let mut h = crate::tunnel::without_websocket(headers);
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    h.insert(UPGRADE, HeaderValue::from_static("SPDY/3.1"));
    h.insert(
        "x-stream-protocol-version",
        HeaderValue::from_static(BACKEND_PROTOCOL),
    );
    h
}

/// Which channels a request uses (its `stdin`, `stdout`, `stderr` and `tty` parameters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    /// Input to the process.
    pub stdin: bool,
    /// Output of the process.
    pub stdout: bool,
    /// Errors of the process (merged into stdout with a TTY).
    pub stderr: bool,
    /// A terminal (with resize events).
    pub tty: bool,
}

impl Channels {
    /// Reads the parameters of `path_and_query` (`true`/`1` as Go's ParseBool).
    pub fn from_query(path_and_query: &str) -> Self {
        let query = path_and_query.split_once('?').map_or("", |(_, q)| q);
        let mut c = Channels::default();
        for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
            let on = matches!(v, "1" | "t" | "T" | "true" | "TRUE" | "True");
            match k {
                "stdin" | "input" => c.stdin = on,
                "stdout" | "output" => c.stdout = on,
                "stderr" => c.stderr = on,
                "tty" => c.tty = on,
                _ => {}
            }
        }
        c
    }
}

/// The SPDY stream ids of each channel (client streams are odd, opened in upstream's order).
#[derive(Debug, PartialEq, Eq)]
struct Streams {
    error: u32,
    stdin: Option<u32>,
    stdout: Option<u32>,
    stderr: Option<u32>,
    resize: Option<u32>,
}

impl Streams {
    fn plan(c: Channels) -> Self {
        let mut next = 1u32;
        let mut id = |on: bool| {
            on.then(|| {
                let i = next;
                next += 2;
                i
            })
        };
        Streams {
            error: id(true).unwrap_or(1),
            stdin: id(c.stdin),
            stdout: id(c.stdout),
            stderr: id(c.stderr && !c.tty),
            resize: id(c.tty),
        }
    }

    fn opening(&self) -> Vec<u8> {
        let mut enc = Encoder::default();
        let mut out = Vec::new();
        for (id, kind) in [
            (Some(self.error), "error"),
            (self.stdin, "stdin"),
            (self.stdout, "stdout"),
            (self.stderr, "stderr"),
            (self.resize, "resize"),
        ] {
            if let Some(id) = id {
                out.extend(enc.syn_stream(id, &[("streamType", kind)]));
            }
        }
        out
    }

    /// The WebSocket channel of a server stream.
    fn channel(&self, stream: u32) -> Option<u8> {
        if stream == self.error {
            Some(ERROR)
        } else if Some(stream) == self.stdout {
            Some(STDOUT)
        } else if Some(stream) == self.stderr {
            Some(STDERR)
        } else {
            None
        }
    }

    /// What to send the backend for a message from the client.
    fn frames_for(&self, msg: &[u8]) -> Option<Vec<u8>> {
        let (&channel, payload) = msg.split_first()?;
        match channel {
            STDIN => Some(spdy::data(self.stdin?, false, payload)),
            RESIZE => Some(spdy::data(self.resize?, false, payload)),
            CLOSE if payload.first() == Some(&STDIN) => Some(spdy::data(self.stdin?, true, &[])),
            _ => None,
        }
    }
}

/// Translates between the client's v5 WebSocket and the backend's SPDY session until the
/// process's output and status have been passed on, or either side goes away.
pub async fn bridge(client: Upgraded, backend: Upgraded, channels: Channels) {
    let streams = Streams::plan(channels);
    let ws = WebSocketStream::from_raw_socket(TokioIo::new(client), Role::Server, None).await;
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut from_backend, mut to_backend) = tokio::io::split(TokioIo::new(backend));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let _ = tx.send(streams.opening());
    tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if to_backend.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to_backend.shutdown().await;
    });
    let up = async {
        while let Some(msg) = ws_rx.next().await {
            match msg {
                Ok(Message::Binary(m)) => {
                    if let Some(frames) = streams.frames_for(&m) {
                        if tx.send(frames).is_err() {
                            break;
                        }
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    let down = async {
        let mut open: Vec<u32> = [Some(streams.error), streams.stdout, streams.stderr]
            .into_iter()
            .flatten()
            .collect();
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut chunk = vec![0u8; 32 * 1024];
        'read: while !open.is_empty() {
            let n = match from_backend.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            while let Some(frame) = spdy::parse(&mut buf) {
                match frame {
                    Frame::Data { stream, fin, data } => {
                        if let (Some(ch), false) = (streams.channel(stream), data.is_empty()) {
                            let mut msg = Vec::with_capacity(data.len() + 1);
                            msg.push(ch);
                            msg.extend_from_slice(&data);
                            if ws_tx.send(Message::Binary(msg.into())).await.is_err() {
                                break 'read;
                            }
                        }
                        if fin {
                            open.retain(|s| *s != stream);
                        }
                    }
                    Frame::Reset(stream) => open.retain(|s| *s != stream),
                    Frame::Ping(id) => {
                        let _ = tx.send(spdy::ping(id));
                    }
                    Frame::GoAway => break 'read,
                    Frame::Other => {}
                }
            }
        }
        let _ = ws_tx
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            })))
            .await;
    };
    // the output and status passed on, or the client gone: the session is over
    tokio::select! {
        _ = down => {}
        _ = up => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_come_from_the_query_and_map_to_streams_in_upstream_order() {
        let c = Channels::from_query(
            "/exec/ns/p/c?command=sh&stdin=true&stdout=1&stderr=true&tty=true",
        );
        assert_eq!(
            c,
            Channels {
                stdin: true,
                stdout: true,
                stderr: true,
                tty: true
            }
        );
        // with a TTY stderr is merged into stdout and a resize stream is opened
        assert_eq!(
            Streams::plan(c),
            Streams {
                error: 1,
                stdin: Some(3),
                stdout: Some(5),
                stderr: None,
                resize: Some(7)
            }
        );
        let plain = Streams::plan(Channels::from_query(
            "/attach/ns/p/c?stdout=true&stderr=true",
        ));
        assert_eq!(
            plain,
            Streams {
                error: 1,
                stdin: None,
                stdout: Some(3),
                stderr: Some(5),
                resize: None
            }
        );
        assert_eq!(plain.channel(5), Some(STDERR));
        assert_eq!(plain.channel(1), Some(ERROR));
    }

    #[test]
    fn client_messages_become_frames_and_close_ends_stdin() {
        let s = Streams::plan(Channels {
            stdin: true,
            stdout: true,
            stderr: false,
            tty: true,
        });
        assert_eq!(
            s.frames_for(&[STDIN, b'h', b'i']),
            Some(spdy::data(3, false, b"hi"))
        );
        assert_eq!(
            s.frames_for(&[CLOSE, STDIN]),
            Some(spdy::data(3, true, b""))
        );
        let resize = br#"{"Width":80,"Height":24}"#;
        let mut msg = vec![RESIZE];
        msg.extend_from_slice(resize);
        assert_eq!(s.frames_for(&msg), Some(spdy::data(7, false, resize)));
        assert_eq!(s.frames_for(&[STDOUT, b'x']), None);
        assert_eq!(s.frames_for(&[]), None);
    }
}
