//! The nftables ruleset for a set of Service ports and their ready endpoints, written as one
//! `nft -f` transaction that replaces the proxy's table whole (so a sync never leaves half a
//! ruleset behind).
//!
//! Traffic to a ClusterIP (`svc-N` chain) or to an external IP, load-balancer IP or NodePort
//! on a local address (`ext-N`) picks an endpoint with equal probability (`numgen random mod
//! N`) and is DNATed to it; `internalTrafficPolicy`/`externalTrafficPolicy: Local` restrict the
//! choice to this node's endpoints (dropping when there is none), and `sessionAffinity:
//! ClientIP` keeps a client on its endpoint through per-endpoint timeout sets. Connections are
//! marked for masquerade when they come from the node itself, are external under the Cluster
//! policy, or reach their own pod through the Service (hairpin). A port with no ready endpoint
//! is rejected at once.

use std::fmt::Write;

/// Marks connections to masquerade after DNAT.
pub const MASQUERADE_MARK: u32 = 0x4000;

/// A ready endpoint of a Service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The pod's IP.
    pub ip: String,
    /// The target port.
    pub port: u16,
    /// Whether it runs on this node.
    pub local: bool,
}

/// One Service port as the data plane sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    /// `namespace/name:port-name`, for comments.
    pub name: String,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// The ClusterIP.
    pub cluster_ip: String,
    /// External IPs and load-balancer IPs (external traffic).
    pub external_ips: Vec<String>,
    /// The Service port.
    pub port: u16,
    /// The NodePort, if any (external traffic).
    pub node_port: Option<u16>,
    /// Ready endpoints.
    pub endpoints: Vec<Endpoint>,
    /// `internalTrafficPolicy: Local`: ClusterIP traffic only to this node's endpoints.
    pub internal_local: bool,
    /// `externalTrafficPolicy: Local`: external traffic only to this node's endpoints, with
    /// the client's address kept.
    pub external_local: bool,
    /// `sessionAffinity: ClientIP` with this timeout in seconds.
    pub affinity_timeout: Option<u32>,
}

impl ServicePort {
    /// Indices of the endpoints a policy allows.
    fn allowed(&self, local_only: bool) -> Vec<usize> {
        (0..self.endpoints.len())
            .filter(|k| !local_only || self.endpoints[*k].local)
            .collect()
    }
}

fn quote(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "/:._-".contains(*c))
        .collect()
}

/// The verdict for traffic a policy sends to `allowed` endpoints: none at all is refused,
/// none allowed here (a Local policy) is dropped, as upstream.
fn verdict(p: &ServicePort, allowed: &[usize], chain: String) -> Option<String> {
    if p.endpoints.is_empty() {
        None
    } else if allowed.is_empty() {
        Some("drop".into())
    } else {
        Some(format!("goto {chain}"))
    }
}

/// A chain choosing among `allowed` endpoints of port `i` (sticky per client with affinity).
fn chooser(
    w: &mut String,
    i: usize,
    chain: &str,
    p: &ServicePort,
    allowed: &[usize],
    masquerade: &str,
) {
    let name = quote(&p.name);
    let _ = writeln!(
        w,
        "  chain {chain} {{\n    comment \"{name}\"\n    {masquerade}"
    );
    if p.affinity_timeout.is_some() {
        for k in allowed {
            let _ = writeln!(w, "    ip saddr @affinity-{i}-{k} goto ep-{i}-{k}");
        }
    }
    let targets: Vec<String> = allowed
        .iter()
        .enumerate()
        .map(|(n, k)| format!("{n} : goto ep-{i}-{k}"))
        .collect();
    let _ = writeln!(
        w,
        "    numgen random mod {} vmap {{ {} }}\n  }}",
        allowed.len(),
        targets.join(", ")
    );
}

/// The transaction that makes table `ip <table>` hold exactly these ports.
pub fn ruleset(table: &str, ports: &[ServicePort]) -> String {
    let mut out = String::new();
    let w = &mut out;
    // create-then-delete makes the delete safe when the table is new; all in one transaction
    let _ = writeln!(
        w,
        "add table ip {table}\ndelete table ip {table}\ntable ip {table} {{"
    );
    let mut addrs = Vec::new();
    let mut node_ports = Vec::new();
    let mut rejected = Vec::new();
    let mut rejected_node_ports = Vec::new();
    // a key twice (two Services claiming one external IP and port) would fail the whole
    // transaction: the first claim wins
    let mut seen = std::collections::HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let key = |ip: &str| format!("{ip} . {} . {}", p.protocol, p.port);
        let internal = verdict(p, &p.allowed(p.internal_local), format!("svc-{i}"));
        let external = verdict(p, &p.allowed(p.external_local), format!("ext-{i}"));
        let targets = std::iter::once((&p.cluster_ip, &internal))
            .chain(p.external_ips.iter().map(|ip| (ip, &external)));
        for (ip, v) in targets {
            let k = key(ip);
            if !seen.insert(k.clone()) {
                continue;
            }
            match v {
                Some(v) => addrs.push(format!("{k} : {v}")),
                None => rejected.push(k),
            }
        }
        if let Some(np) = p.node_port {
            let k = format!("{} . {np}", p.protocol);
            if !seen.insert(k.clone()) {
                continue;
            }
            match &external {
                Some(v) => node_ports.push(format!("{k} : {v}")),
                None => rejected_node_ports.push(k),
            }
        }
    }
    let elements = |v: &[String]| {
        if v.is_empty() {
            String::new()
        } else {
            format!(" elements = {{ {} }};", v.join(", "))
        }
    };
    let _ = writeln!(
        w,
        "  map service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict;{} }}",
        elements(&addrs)
    );
    let _ = writeln!(
        w,
        "  map service-nodeports {{ type inet_proto . inet_service : verdict;{} }}",
        elements(&node_ports)
    );
    let _ = writeln!(
        w,
        "  set no-endpoints {{ type ipv4_addr . inet_proto . inet_service;{} }}",
        elements(&rejected)
    );
    let _ = writeln!(
        w,
        "  set no-endpoint-nodeports {{ type inet_proto . inet_service;{} }}",
        elements(&rejected_node_ports)
    );
    let _ = writeln!(
        w,
        "  chain services {{
    ip daddr . meta l4proto . th dport vmap @service-ips
    fib daddr type local meta l4proto . th dport vmap @service-nodeports
  }}
  chain prerouting {{ type nat hook prerouting priority dstnat; policy accept; jump services; }}
  chain output {{ type nat hook output priority -100; policy accept; jump services; }}
  chain postrouting {{
    type nat hook postrouting priority srcnat; policy accept;
    meta mark & {MASQUERADE_MARK:#x} == {MASQUERADE_MARK:#x} meta mark set meta mark ^ {MASQUERADE_MARK:#x} masquerade
  }}
  chain reject-chain {{ reject; }}
  chain filter-forward {{
    type filter hook forward priority -110; policy accept;
    ct state new ip daddr . meta l4proto . th dport @no-endpoints goto reject-chain
  }}
  chain filter-output {{
    type filter hook output priority -110; policy accept;
    ct state new ip daddr . meta l4proto . th dport @no-endpoints goto reject-chain
    ct state new fib daddr type local meta l4proto . th dport @no-endpoint-nodeports goto reject-chain
  }}
  chain filter-input {{
    type filter hook input priority -110; policy accept;
    ct state new fib daddr type local meta l4proto . th dport @no-endpoint-nodeports goto reject-chain
  }}
  chain mark-for-masquerade {{ meta mark set meta mark | {MASQUERADE_MARK:#x}; }}"
    );
    for (i, p) in ports.iter().enumerate() {
        if p.endpoints.is_empty() {
            continue;
        }
        let internal = p.allowed(p.internal_local);
        if !internal.is_empty() {
            // from the node itself: masquerade, so replies come back through this node
            chooser(
                w,
                i,
                &format!("svc-{i}"),
                p,
                &internal,
                "fib saddr type local jump mark-for-masquerade",
            );
        }
        let external = p.allowed(p.external_local);
        if !external.is_empty() {
            // a Local policy keeps the client's address; otherwise replies must come back here
            let masquerade = if p.external_local {
                "fib saddr type local jump mark-for-masquerade"
            } else {
                "jump mark-for-masquerade"
            };
            chooser(w, i, &format!("ext-{i}"), p, &external, masquerade);
        }
        for (k, e) in p.endpoints.iter().enumerate() {
            let sticky = match p.affinity_timeout {
                Some(t) => {
                    let _ = writeln!(
                        w,
                        "  set affinity-{i}-{k} {{ type ipv4_addr; flags dynamic,timeout; timeout {t}s; }}"
                    );
                    format!("\n    update @affinity-{i}-{k} {{ ip saddr }}")
                }
                None => String::new(),
            };
            let _ = writeln!(
                w,
                "  chain ep-{i}-{k} {{
    ip saddr {ip} jump mark-for-masquerade{sticky}
    meta l4proto {proto} dnat to {ip}:{port}
  }}",
                ip = e.ip,
                port = e.port,
                proto = p.protocol
            );
        }
    }
    let _ = writeln!(w, "}}");
    out
}

/// The transaction that removes the table (clean shutdown).
pub fn teardown(table: &str) -> String {
    format!("add table ip {table}\ndelete table ip {table}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(endpoints: Vec<(&str, u16)>) -> ServicePort {
        ServicePort {
            name: "default/web:http".into(),
            protocol: "tcp".into(),
            cluster_ip: "10.43.0.20".into(),
            external_ips: vec!["192.0.2.7".into()],
            port: 80,
            node_port: Some(30080),
            endpoints: endpoints
                .into_iter()
                .enumerate()
                .map(|(k, (ip, p))| Endpoint {
                    ip: ip.to_string(),
                    port: p,
                    local: k == 0,
                })
                .collect(),
            internal_local: false,
            external_local: false,
            affinity_timeout: None,
        }
    }

    #[test]
    fn ready_endpoints_are_picked_with_equal_probability() {
        let r = ruleset(
            "skiff",
            &[port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)])],
        );
        assert!(r.starts_with("add table ip skiff\ndelete table ip skiff\ntable ip skiff {"));
        assert!(r.contains(
            "elements = { 10.43.0.20 . tcp . 80 : goto svc-0, 192.0.2.7 . tcp . 80 : goto ext-0 }"
        ));
        assert!(r.contains("elements = { tcp . 30080 : goto ext-0 }"));
        assert!(r.contains("numgen random mod 2 vmap { 0 : goto ep-0-0, 1 : goto ep-0-1 }"));
        assert!(r.contains("ip saddr 10.42.0.6 jump mark-for-masquerade"));
        assert!(r.contains("meta l4proto tcp dnat to 10.42.0.6:8080"));
        assert!(
            !r.contains("set no-endpoints { type ipv4_addr . inet_proto . inet_service; elements")
        );
    }

    #[test]
    fn local_policies_use_local_endpoints_and_affinity_sticks() {
        let mut p = port(vec![("10.42.0.5", 8080), ("10.42.1.6", 8080)]);
        p.external_local = true;
        p.affinity_timeout = Some(60);
        let r = ruleset("skiff", &[p.clone()]);
        // external traffic: only the local endpoint, the client's address kept
        assert!(r.contains("chain ext-0 {\n    comment \"default/web:http\"\n    fib saddr type local jump mark-for-masquerade\n    ip saddr @affinity-0-0 goto ep-0-0\n    numgen random mod 1 vmap { 0 : goto ep-0-0 }"), "{r}");
        assert!(
            r.contains("set affinity-0-1 { type ipv4_addr; flags dynamic,timeout; timeout 60s; }")
        );
        assert!(r.contains("update @affinity-0-1 { ip saddr }"));
        // internal traffic with a Local policy and no local endpoint is dropped
        p.internal_local = true;
        p.endpoints[0].local = false;
        let r = ruleset("skiff", &[p]);
        assert!(r.contains("10.43.0.20 . tcp . 80 : drop"), "{r}");
        assert!(!r.contains("chain svc-0"));
    }

    #[test]
    fn the_kernel_accepts_the_ruleset() {
        // `nft -c` checks the transaction against the kernel without committing it
        let script = ruleset(
            "skiff-check",
            &[
                port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)]),
                port(Vec::new()),
                ServicePort {
                    internal_local: true,
                    external_local: true,
                    affinity_timeout: Some(10800),
                    cluster_ip: "10.43.0.21".into(),
                    external_ips: vec!["192.0.2.8".into()],
                    node_port: Some(30081),
                    ..port(vec![("10.42.0.7", 8080), ("10.42.1.8", 8080)])
                },
                // claims the first port's addresses again: skipped, not a failed transaction
                port(vec![("10.42.0.9", 8080)]),
            ],
        );
        let mut child = std::process::Command::new("nft")
            .args(["-c", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("nft (Debian package nftables)");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}\n{script}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn ports_without_endpoints_are_rejected() {
        let r = ruleset("skiff", &[port(Vec::new())]);
        assert!(r.contains(
            "set no-endpoints { type ipv4_addr . inet_proto . inet_service; elements = { 10.43.0.20 . tcp . 80, 192.0.2.7 . tcp . 80 }; }"
        ));
        assert!(r.contains("elements = { tcp . 30080 }"));
        assert!(!r.contains("chain svc-0"));
    }
}
