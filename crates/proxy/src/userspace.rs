//! The userspace proxy mode (`--proxy-mode userspace`, as upstream's old userspace
//! kube-proxy): the agent listens on a port of its own for every Service port and relays TCP
//! connections and UDP datagrams to the ready endpoints in round robin (sticky per client
//! with `sessionAffinity: ClientIP`). nftables only redirects: traffic to a ClusterIP,
//! external or load-balancer IP, or to a NodePort on a local address, goes to the listener of
//! its Service port (`redirect`, which keeps the reply's source right through conntrack).

use crate::rules::ServicePort;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// How long a TCP connect to an endpoint may take before the next one is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a UDP client's session with its endpoint lives without a reply (upstream's
/// userspace proxy default; DNS clients use a new port per query, so sessions must go fast).
const UDP_IDLE: Duration = Duration::from_millis(250);

/// The endpoints of one Service port and how to choose among them.
#[derive(Default)]
struct Choice {
    endpoints: Mutex<Vec<SocketAddr>>,
    next: AtomicUsize,
    affinity: Mutex<Option<Duration>>,
    sticky: Mutex<HashMap<IpAddr, (SocketAddr, Instant)>>,
}

impl Choice {
    /// The endpoint for a connection from `client`: its sticky one if affinity holds and the
    /// endpoint is still ready, else the next in turn.
    fn pick(&self, client: IpAddr) -> Option<SocketAddr> {
        let endpoints = self.endpoints.lock().clone();
        if endpoints.is_empty() {
            return None;
        }
        let affinity = *self.affinity.lock();
        if let Some(timeout) = affinity {
            let mut sticky = self.sticky.lock();
            // forget expired clients now and then, so the map does not grow forever
            if sticky.len() > 4096 {
                sticky.retain(|_, (_, at)| at.elapsed() < timeout);
            }
            if let Some((ep, at)) = sticky.get(&client) {
                if at.elapsed() < timeout && endpoints.contains(ep) {
                    let ep = *ep;
                    sticky.insert(client, (ep, Instant::now()));
                    return Some(ep);
                }
            }
        }
        let ep = endpoints[self.next.fetch_add(1, Ordering::Relaxed) % endpoints.len()];
        if affinity.is_some() {
            self.sticky.lock().insert(client, (ep, Instant::now()));
        }
        Some(ep)
    }

    /// `ep` refused a connection from `client`: its affinity goes, so the next pick moves on.
    fn failed(&self, client: IpAddr, ep: SocketAddr) {
        let mut sticky = self.sticky.lock();
        if sticky.get(&client).is_some_and(|(e, _)| *e == ep) {
            sticky.remove(&client);
        }
    }

    fn update(&self, p: &ServicePort) {
        let endpoints = p
            .allowed(p.internal_local)
            .into_iter()
            .filter_map(|k| {
                let e = &p.endpoints[k];
                Some(SocketAddr::new(e.ip.parse().ok()?, e.port))
            })
            .collect();
        *self.endpoints.lock() = endpoints;
        *self.affinity.lock() = p.affinity_timeout.map(|t| Duration::from_secs(t.into()));
    }
}

/// A listener relaying one Service port.
struct Relay {
    port: u16,
    choice: Arc<Choice>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    async fn start(protocol: &str) -> std::io::Result<Relay> {
        let choice = Arc::new(Choice::default());
        let any = SocketAddr::from(([0, 0, 0, 0], 0));
        let (port, task) = match protocol {
            "udp" => {
                let socket = Arc::new(UdpSocket::bind(any).await?);
                let port = socket.local_addr()?.port();
                (port, tokio::spawn(relay_udp(socket, choice.clone())))
            }
            _ => {
                let listener = TcpListener::bind(any).await?;
                let port = listener.local_addr()?.port();
                (port, tokio::spawn(relay_tcp(listener, choice.clone())))
            }
        };
        Ok(Relay { port, choice, task })
    }
}

async fn relay_tcp(listener: TcpListener, choice: Arc<Choice>) {
    loop {
        let Ok((mut inbound, client)) = listener.accept().await else {
            // out of file descriptors and the like: do not spin
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let choice = choice.clone();
        tokio::spawn(async move {
            // try each endpoint once at most, as upstream's userspace proxy did
            let tries = choice.endpoints.lock().len();
            for _ in 0..tries {
                let Some(ep) = choice.pick(client.ip()) else {
                    break;
                };
                match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(ep)).await {
                    Ok(Ok(mut outbound)) => {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        return;
                    }
                    _ => {
                        tracing::debug!(%ep, "endpoint did not accept; trying the next");
                        choice.failed(client.ip(), ep);
                    }
                }
            }
            // no endpoint: the connection is closed
        });
    }
}

async fn relay_udp(socket: Arc<UdpSocket>, choice: Arc<Choice>) {
    let sessions: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
    let mut buf = vec![0u8; 65535];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let existing = sessions.lock().get(&client).cloned();
        let upstream = match existing {
            Some(u) => u,
            None => {
                let Some(ep) = choice.pick(client.ip()) else {
                    continue;
                };
                let Ok(u) = UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], 0))).await else {
                    continue;
                };
                if u.connect(ep).await.is_err() {
                    continue;
                }
                let u = Arc::new(u);
                sessions.lock().insert(client, u.clone());
                // replies go back to the client from the listening socket
                let (reply, back, sessions) = (u.clone(), socket.clone(), sessions.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65535];
                    while let Ok(Ok(n)) = tokio::time::timeout(UDP_IDLE, reply.recv(&mut buf)).await
                    {
                        let _ = back.send_to(&buf[..n], client).await;
                    }
                    sessions.lock().remove(&client);
                });
                u
            }
        };
        let _ = upstream.send(&buf[..n]).await;
    }
}

/// The relays of a node's Service ports and the redirect rules to them.
#[derive(Default)]
pub struct Relays {
    relays: HashMap<String, Relay>,
}

impl Relays {
    /// Starts, updates and stops relays so there is one per port in `ports`; returns the
    /// nftables transaction that redirects to them, as table `ip <table>`.
    pub async fn sync(&mut self, table: &str, ports: &[ServicePort]) -> String {
        let mut keep = HashMap::new();
        let mut rules = String::new();
        for p in ports {
            if p.protocol != "tcp" && p.protocol != "udp" {
                continue;
            }
            let id = format!("{}/{}", p.name, p.protocol);
            let relay = match self.relays.remove(&id) {
                Some(r) => r,
                None => match Relay::start(&p.protocol).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(port = %p.name, "listening for the userspace proxy: {e}");
                        continue;
                    }
                },
            };
            relay.choice.update(p);
            let to = format!(
                "{} dport {} redirect to :{}",
                p.protocol, p.port, relay.port
            );
            let _ = writeln!(rules, "    ip daddr {} {to}", p.cluster_ip);
            for ip in &p.external_ips {
                let _ = writeln!(rules, "    ip daddr {ip} {to}");
            }
            if let Some(np) = p.node_port {
                let _ = writeln!(
                    rules,
                    "    fib daddr type local {} dport {np} redirect to :{}",
                    p.protocol, relay.port
                );
            }
            keep.insert(id, relay);
        }
        // dropping the rest stops their listeners
        self.relays = keep;
        format!(
            "add table ip {table}\ndelete table ip {table}\ntable ip {table} {{
  chain services {{
{rules}  }}
  chain prerouting {{ type nat hook prerouting priority dstnat; policy accept; jump services; }}
  chain output {{ type nat hook output priority -100; policy accept; jump services; }}
}}
"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Endpoint;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn port(protocol: &str, endpoints: &[SocketAddr], affinity: Option<u32>) -> ServicePort {
        ServicePort {
            name: "default/echo:p".into(),
            protocol: protocol.into(),
            cluster_ip: "10.43.0.30".into(),
            external_ips: vec!["192.0.2.9".into()],
            port: 80,
            node_port: Some(30090),
            endpoints: endpoints
                .iter()
                .map(|a| Endpoint {
                    ip: a.ip().to_string(),
                    port: a.port(),
                    local: true,
                })
                .collect(),
            internal_local: false,
            external_local: false,
            affinity_timeout: affinity,
        }
    }

    /// A TCP server answering every connection with `name`.
    async fn named_server(name: &'static str) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let _ = s.write_all(name.as_bytes()).await;
            }
        });
        addr
    }

    async fn ask(port: u16) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out).await;
        out
    }

    #[tokio::test]
    async fn tcp_connections_go_round_robin_and_stick_with_affinity() {
        let (a, b) = (named_server("a").await, named_server("b").await);
        let mut relays = Relays::default();
        let rules = relays.sync("t", &[port("tcp", &[a, b], None)]).await;
        let relay_port = relays.relays.values().next().unwrap().port;
        assert!(rules.contains(&format!(
            "ip daddr 10.43.0.30 tcp dport 80 redirect to :{relay_port}"
        )));
        assert!(rules.contains(&format!(
            "ip daddr 192.0.2.9 tcp dport 80 redirect to :{relay_port}"
        )));
        assert!(rules.contains(&format!(
            "fib daddr type local tcp dport 30090 redirect to :{relay_port}"
        )));
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(ask(relay_port).await);
        }
        assert_eq!(got, ["a", "b", "a", "b"]);
        // the same port keeps its listener; affinity now keeps the client on one endpoint
        relays.sync("t", &[port("tcp", &[a, b], Some(60))]).await;
        assert_eq!(relays.relays.values().next().unwrap().port, relay_port);
        let first = ask(relay_port).await;
        for _ in 0..4 {
            assert_eq!(ask(relay_port).await, first);
        }
        // an endpoint that refuses is passed over, also for a client it was sticky for
        let dead = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            l.local_addr().unwrap()
        };
        relays.sync("t", &[port("tcp", &[dead, b], Some(60))]).await;
        for _ in 0..4 {
            assert_eq!(ask(relay_port).await, "b");
        }
        // an endpoint gone is never chosen; none left closes the connection
        relays.sync("t", &[port("tcp", &[b], Some(60))]).await;
        assert_eq!(ask(relay_port).await, "b");
        relays.sync("t", &[port("tcp", &[], None)]).await;
        assert_eq!(ask(relay_port).await, "");
        // a port gone stops its listener
        relays.sync("t", &[]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(("127.0.0.1", relay_port)).await.is_err());
    }

    #[tokio::test]
    async fn udp_datagrams_are_relayed_both_ways() {
        let echo = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = echo.recv_from(&mut buf).await {
                let mut reply = b"echo:".to_vec();
                reply.extend_from_slice(&buf[..n]);
                let _ = echo.send_to(&reply, from).await;
            }
        });
        let mut relays = Relays::default();
        let rules = relays.sync("t", &[port("udp", &[echo_addr], None)]).await;
        assert!(rules.contains("udp dport 80 redirect to :"));
        let relay_port = relays.relays.values().next().unwrap().port;
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.connect(("127.0.0.1", relay_port)).await.unwrap();
        for msg in ["one", "two"] {
            client.send(msg.as_bytes()).await.unwrap();
            let mut buf = [0u8; 512];
            let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&buf[..n], format!("echo:{msg}").as_bytes());
        }
    }
}
