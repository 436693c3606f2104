//! Cluster DNS (`cluster.local`): a UDP and TCP server answering from watched Services and
//! EndpointSlices ([`records`]), and forwarding every other name to the host's resolvers
//! (failing at once with SERVFAIL when there are none or they do not answer).
#![forbid(unsafe_code)]

pub mod records;

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::Api;
use kube::runtime::watcher;
use records::{lookup, Lookup, Snapshot};
use skiff_client::{Informer, Store};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// How long a forwarded query may take.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket could not be opened.
    #[error("dns socket on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
}

/// Where answers come from.
#[derive(Clone)]
pub struct Zone {
    services: Store<Service>,
    slices: Store<EndpointSlice>,
    upstreams: Arc<Vec<SocketAddr>>,
}

impl Zone {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            services: self.services.list(),
            slices: self.slices.list(),
        }
    }

    /// The answer to one query message (`None`: not a message worth answering).
    pub async fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        if request.message_type() != MessageType::Query {
            return None;
        }
        let mut response = Message::new();
        response
            .set_id(request.id())
            .set_message_type(MessageType::Response)
            .set_op_code(request.op_code())
            .set_recursion_desired(request.recursion_desired())
            .set_recursion_available(true);
        let Some(q) = request.queries().first().cloned() else {
            response.set_response_code(ResponseCode::FormErr);
            return response.to_vec().ok();
        };
        response.add_query(q.clone());
        if request.op_code() != OpCode::Query {
            response.set_response_code(ResponseCode::NotImp);
            return response.to_vec().ok();
        }
        match lookup(&self.snapshot(), &q.name().to_ascii(), q.query_type()) {
            Lookup::Answers(records) => {
                response.set_authoritative(true).add_answers(records);
            }
            Lookup::NxDomain => {
                response
                    .set_authoritative(true)
                    .set_response_code(ResponseCode::NXDomain);
            }
            Lookup::Forward => match self.forward(query).await {
                Some(answer) => return Some(answer),
                None => {
                    response.set_response_code(ResponseCode::ServFail);
                }
            },
        }
        response.to_vec().ok()
    }

    /// Asks each upstream resolver in turn.
    async fn forward(&self, query: &[u8]) -> Option<Vec<u8>> {
        for upstream in self.upstreams.iter() {
            let Ok(sock) = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await else {
                continue;
            };
            if sock.send_to(query, upstream).await.is_err() {
                continue;
            }
            let mut buf = vec![0u8; 4096];
            if let Ok(Ok(n)) = tokio::time::timeout(FORWARD_TIMEOUT, sock.recv(&mut buf)).await {
                buf.truncate(n);
                return Some(buf);
            }
        }
        None
    }
}

/// The host's resolvers (`nameserver` lines of `/etc/resolv.conf`), without `exclude`.
pub fn host_resolvers(resolv_conf: &str, exclude: Ipv4Addr) -> Vec<SocketAddr> {
    resolv_conf
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|ip| ip.trim().parse::<std::net::IpAddr>().ok())
        .filter(|ip| *ip != std::net::IpAddr::V4(exclude))
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// A UDP socket on `addr` that may be bound before the address exists (the pod bridge gets
/// its address with the first pod).
fn udp_socket(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    s.set_freebind_v4(true)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    UdpSocket::from_std(s.into())
}

fn tcp_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    s.set_freebind_v4(true)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(128)?;
    TcpListener::from_std(s.into())
}

/// Serves cluster DNS on `addr` (UDP and TCP) until dropped.
pub async fn serve(client: kube::Client, addr: SocketAddr) -> Result<(), Error> {
    let udp = Arc::new(udp_socket(addr).map_err(|e| Error::Bind(addr, e))?);
    let tcp = tcp_listener(addr).map_err(|e| Error::Bind(addr, e))?;
    let services = Informer::new(
        Api::<Service>::all(client.clone()),
        watcher::Config::default(),
    );
    let slices = Informer::new(
        Api::<EndpointSlice>::all(client),
        watcher::Config::default(),
    );
    let own = match addr.ip() {
        std::net::IpAddr::V4(ip) => ip,
        std::net::IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let zone = Zone {
        services: services.store(),
        slices: slices.store(),
        upstreams: Arc::new(host_resolvers(&resolv, own)),
    };
    tokio::spawn(services.run());
    tokio::spawn(slices.run());
    tracing::info!(%addr, upstreams = ?zone.upstreams, "cluster DNS serving");
    let z = zone.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = tcp.accept().await else {
                continue;
            };
            let z = z.clone();
            tokio::spawn(async move {
                let mut tcp = tcp;
                loop {
                    let mut len = [0u8; 2];
                    if tcp.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
                    if tcp.read_exact(&mut msg).await.is_err() {
                        return;
                    }
                    let Some(answer) = z.answer(&msg).await else {
                        return;
                    };
                    let mut out = (answer.len() as u16).to_be_bytes().to_vec();
                    out.extend(answer);
                    if tcp.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, from)) = udp.recv_from(&mut buf).await else {
            continue;
        };
        let (query, udp, zone) = (buf[..n].to_vec(), udp.clone(), zone.clone());
        tokio::spawn(async move {
            if let Some(answer) = zone.answer(&query).await {
                let _ = udp.send_to(&answer, from).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers_come_from_resolv_conf_without_ourselves() {
        let conf = "# generated\nnameserver 10.0.0.2\nsearch example\nnameserver 10.42.0.1\nnameserver ::1\n";
        assert_eq!(
            host_resolvers(conf, Ipv4Addr::new(10, 42, 0, 1)),
            vec![
                "10.0.0.2:53".parse::<SocketAddr>().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
    }
}
