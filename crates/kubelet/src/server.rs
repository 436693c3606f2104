//! The kubelet API (HTTPS, default port 10250): container logs, exec, attach and port-forward
//! for the API server, which alone may call it (a client certificate from the cluster CA for
//! `kube-apiserver-kubelet-client`). Streams are forwarded to the runtime's streaming server.

pub mod logs;

use crate::pod_state::PodRuntimeState;
use crate::runtime::{ContainerState, Runtime, StreamIo};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use k8s_openapi::api::core::v1::Pod;
use logs::LogOptions;
use skiff_client::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// The only client the kubelet API serves.
pub const API_SERVER_USER: &str = "kube-apiserver-kubelet-client";

type Body = BoxBody<Bytes, std::io::Error>;

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Certificates could not be made or read.
    #[error("kubelet certificates: {0}")]
    Tls(String),
    /// The port could not be bound.
    #[error("listening on {0}: {1}")]
    Listen(std::net::SocketAddr, #[source] std::io::Error),
}

/// What the server reads from.
pub struct KubeletApi {
    /// The runtime.
    pub runtime: Arc<dyn Runtime>,
    /// The node's pods.
    pub pods: Store<Pod>,
    /// Where pod log folders are.
    pub logs_dir: PathBuf,
}

fn text(code: StatusCode, msg: impl Into<String>) -> Response<Body> {
    let mut r = Response::new(
        Full::new(Bytes::from(msg.into()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *r.status_mut() = code;
    r
}

fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_string)
}

/// Serving TLS: a self-signed certificate for the node, client certificates from `ca_pem`.
fn tls_config(ca_pem: &str, node_name: &str, node_ip: &str) -> Result<rustls::ServerConfig, Error> {
    let err = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
    let mut names = vec![node_name.to_string(), "localhost".to_string()];
    names.push(node_ip.to_string());
    let key = rcgen::KeyPair::generate().map_err(|e| err(&e))?;
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| err(&e))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{node_name}@kubelet"));
    let cert = params.self_signed(&key).map_err(|e| err(&e))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in skiff_stream::tls::certs(ca_pem).map_err(|e| err(&e))? {
        roots.add(c).map_err(|e| err(&e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| err(&e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(&e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![cert.der().clone()],
            skiff_stream::tls::key(&key.serialize_pem()).map_err(|e| err(&e))?,
        )
        .map_err(|e| err(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Binds `addr`; the returned future serves the kubelet API until dropped.
pub async fn serve(
    api: Arc<KubeletApi>,
    addr: std::net::SocketAddr,
    ca_pem: &str,
    node_name: &str,
    node_ip: &str,
) -> Result<impl std::future::Future<Output = ()> + Send + 'static, Error> {
    let tls = Arc::new(tls_config(ca_pem, node_name, node_ip)?);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Listen(addr, e))?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    Ok(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, api) = (acceptor.clone(), api.clone());
            tokio::spawn(async move {
                let Ok(Ok(stream)) =
                    tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                else {
                    return;
                };
                let caller = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| common_name(c));
                let allowed = caller.as_deref() == Some(API_SERVER_USER);
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let api = api.clone();
                    async move {
                        let resp = if allowed {
                            route(&api, req).await
                        } else {
                            text(
                                StatusCode::FORBIDDEN,
                                "only the API server may call the kubelet API",
                            )
                        };
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                if let Err(e) = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!("kubelet connection: {e}");
                }
            });
        }
    })
}

fn query_pairs(req: &Request<Incoming>) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn flag(q: &[(String, String)], name: &str) -> bool {
    q.iter()
        .any(|(k, v)| k == name && (v == "true" || v == "1"))
}

async fn route(api: &KubeletApi, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method(), parts.as_slice()) {
        (&Method::GET, ["healthz"]) => text(StatusCode::OK, "ok"),
        (&Method::GET, ["containerLogs", ns, pod, container]) => {
            let q = query_pairs(&req);
            container_logs(api, ns, pod, container, &q).await
        }
        (&Method::GET | &Method::POST, ["exec" | "attach", ns, pod, container]) => {
            let attach = parts[0] == "attach";
            stream(
                api,
                req,
                ns.to_string(),
                pod.to_string(),
                Some(container.to_string()),
                attach,
            )
            .await
        }
        (&Method::GET | &Method::POST, ["portForward", ns, pod]) => {
            stream(api, req, ns.to_string(), pod.to_string(), None, false).await
        }
        _ => text(
            StatusCode::NOT_FOUND,
            format!("no kubelet endpoint at {path}"),
        ),
    }
}

/// The runtime state of a pod the node runs.
async fn pod_state(
    api: &KubeletApi,
    ns: &str,
    pod: &str,
) -> Result<(Arc<Pod>, PodRuntimeState), Response<Body>> {
    let p = api.pods.get_in(ns, pod).ok_or_else(|| {
        text(
            StatusCode::NOT_FOUND,
            format!("pod {ns}/{pod} is not on this node"),
        )
    })?;
    let uid = p.metadata.uid.clone().unwrap_or_default();
    let state = PodRuntimeState::read(&*api.runtime, &uid)
        .await
        .map_err(|e| text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((p, state))
}

async fn container_logs(
    api: &KubeletApi,
    ns: &str,
    pod: &str,
    container: &str,
    q: &[(String, String)],
) -> Response<Body> {
    let opts = match LogOptions::parse(q, k8s_openapi::jiff::Timestamp::now()) {
        Ok(o) => o,
        Err(m) => return text(StatusCode::BAD_REQUEST, m),
    };
    let previous = flag(q, "previous");
    let (p, state) = match pod_state(api, ns, pod).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut runs: Vec<_> = state
        .containers
        .iter()
        .filter(|c| c.metadata.name == container)
        .collect();
    runs.sort_by(|a, b| {
        (b.metadata.attempt, b.created_at).cmp(&(a.metadata.attempt, a.created_at))
    });
    let run = if previous { runs.get(1) } else { runs.first() };
    let Some(run) = run.map(|r| (*r).clone()) else {
        let msg = if previous {
            format!("previous terminated container \"{container}\" in pod \"{pod}\" not found")
        } else {
            format!(
                "container \"{container}\" in pod \"{pod}\" is waiting to start: ContainerCreating"
            )
        };
        return text(StatusCode::BAD_REQUEST, msg);
    };
    let uid = p.metadata.uid.clone().unwrap_or_default();
    let file = api
        .logs_dir
        .join(format!("{ns}_{pod}_{uid}"))
        .join(container)
        .join(format!("{}.log", run.metadata.attempt));
    let mut f = match tokio::fs::File::open(&file).await {
        Ok(f) => f,
        Err(e) => return text(StatusCode::NOT_FOUND, format!("{}: {e}", file.display())),
    };
    let mut data = Vec::new();
    if let Err(e) = f.read_to_end(&mut data).await {
        return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    // only whole lines now; a trailing partial line is read again when following
    let whole = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    logs::render(&data[..whole], &opts, &mut out);
    let mut first = match opts.tail_lines {
        Some(n) => logs::tail(&out, n).to_vec(),
        None => out,
    };
    let mut budget = opts.limit_bytes.unwrap_or(usize::MAX);
    first.truncate(budget);
    budget -= first.len();
    let follow = opts.follow && !previous && run.state == ContainerState::Running && budget > 0;
    if !follow {
        return plain(first);
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(16);
    let runtime = api.runtime.clone();
    let id = run.id.clone();
    let _ = f.seek(std::io::SeekFrom::Start(whole as u64)).await;
    tokio::spawn(async move {
        if tx.send(Ok(Frame::data(Bytes::from(first)))).await.is_err() {
            return;
        }
        let mut pending: Vec<u8> = Vec::new();
        let mut budget = budget;
        let mut idle = 0u32;
        loop {
            let mut chunk = Vec::new();
            let n = f.read_to_end(&mut chunk).await.unwrap_or(0);
            if n > 0 {
                idle = 0;
                pending.extend_from_slice(&chunk);
                if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
                    let lines: Vec<u8> = pending.drain(..=end).collect();
                    let mut out = Vec::new();
                    logs::render(&lines, &opts, &mut out);
                    out.truncate(budget);
                    budget -= out.len();
                    if tx.send(Ok(Frame::data(Bytes::from(out)))).await.is_err() || budget == 0 {
                        return;
                    }
                }
                continue;
            }
            idle += 1;
            // every second of quiet, check whether the container still runs
            if idle.is_multiple_of(5) {
                let running = runtime
                    .container_status(&id)
                    .await
                    .is_ok_and(|s| s.state == ContainerState::Running);
                if !running {
                    return;
                }
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let body = StreamBody::new(tokio_stream_from(rx));
    let mut r = Response::new(BodyExt::boxed(body));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    r
}

fn tokio_stream_from<T>(mut rx: tokio::sync::mpsc::Receiver<T>) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn plain(bytes: Vec<u8>) -> Response<Body> {
    let mut r = text(StatusCode::OK, String::new());
    *r.body_mut() = Full::new(Bytes::from(bytes))
        .map_err(|never| match never {})
        .boxed();
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    r
}

/// exec, attach and port-forward: asks the runtime for a streaming URL and forwards the
/// (upgrading) request there.
async fn stream(
    api: &KubeletApi,
    mut req: Request<Incoming>,
    ns: String,
    pod: String,
    container: Option<String>,
    attach: bool,
) -> Response<Body> {
    let q = query_pairs(&req);
    let (_, state) = match pod_state(api, &ns, &pod).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let io = StreamIo {
        stdin: flag(&q, "stdin") || flag(&q, "input"),
        stdout: flag(&q, "stdout") || flag(&q, "output"),
        stderr: flag(&q, "stderr") || flag(&q, "error"),
        tty: flag(&q, "tty"),
    };
    let url = match &container {
        Some(name) => {
            let Some(c) = state
                .attempts(name)
                .into_iter()
                .find(|c| c.state == ContainerState::Running)
                .cloned()
            else {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("container {name} is not running in pod {ns}/{pod}"),
                );
            };
            if attach {
                api.runtime.attach_url(&c.id, io).await
            } else {
                let cmd: Vec<String> = q
                    .iter()
                    .filter(|(k, _)| k == "command")
                    .map(|(_, v)| v.clone())
                    .collect();
                if cmd.is_empty() {
                    return text(StatusCode::BAD_REQUEST, "no command given");
                }
                api.runtime.exec_url(&c.id, &cmd, io).await
            }
        }
        None => match state.sandbox.as_ref().filter(|_| state.sandbox_ready()) {
            Some(s) => api.runtime.port_forward_url(&s.id).await,
            None => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("pod {ns}/{pod} has no running sandbox"),
                )
            }
        },
    };
    let url = match url {
        Ok(u) => u,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let Some((host, path)) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(h, p)| (h.to_string(), format!("/{p}")))
    else {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("unexpected streaming URL {url}"),
        );
    };
    let tcp = match tokio::net::TcpStream::connect(&host).await {
        Ok(t) => t,
        Err(e) => {
            return text(
                StatusCode::BAD_GATEWAY,
                format!("runtime streaming server {host}: {e}"),
            )
        }
    };
    let upgrade = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>();
    let method = req.method().clone();
    let headers = skiff_stream::forward_headers(req.headers());
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    match skiff_stream::forward(tcp, &host, method, &path, headers, body, upgrade).await {
        Ok(resp) => resp.map(|b| b.map_err(std::io::Error::other).boxed()),
        Err(e) => text(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}
