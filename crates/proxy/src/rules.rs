//! The nftables ruleset for a set of Service ports and their ready endpoints, written as one
//! `nft -f` transaction that replaces the proxy's table whole (so a sync never leaves half a
//! ruleset behind).
//!
//! Traffic to a ClusterIP, external IP or load-balancer IP (`ip daddr . proto . port`) or to
//! a NodePort on a local address (`proto . port`) jumps to the port's chain, which picks an
//! endpoint with equal probability (`numgen random mod N`) and DNATs to it. Connections that
//! need it are marked for masquerade: from the node itself, to NodePorts, and a pod reaching
//! itself through its Service (hairpin). A port with no ready endpoint is rejected at once.

use std::fmt::Write;

/// Marks connections to masquerade after DNAT.
pub const MASQUERADE_MARK: u32 = 0x4000;

/// One Service port as the data plane sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    /// `namespace/name:port-name`, for comments.
    pub name: String,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// Addresses the port is served on: the ClusterIP, external IPs, load-balancer IPs.
    pub ips: Vec<String>,
    /// The Service port.
    pub port: u16,
    /// The NodePort, if any.
    pub node_port: Option<u16>,
    /// Ready endpoints as `ip:port`.
    pub endpoints: Vec<(String, u16)>,
}

fn quote(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "/:._-".contains(*c))
        .collect()
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
    for (i, p) in ports.iter().enumerate() {
        for ip in &p.ips {
            if p.endpoints.is_empty() {
                rejected.push(format!("{ip} . {} . {}", p.protocol, p.port));
            } else {
                addrs.push(format!("{ip} . {} . {} : goto svc-{i}", p.protocol, p.port));
            }
        }
        if let Some(np) = p.node_port {
            if p.endpoints.is_empty() {
                rejected_node_ports.push(format!("{} . {np}", p.protocol));
            } else {
                node_ports.push(format!("{} . {np} : goto nodeport-{i}", p.protocol));
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
        let name = quote(&p.name);
        let n = p.endpoints.len();
        let targets: Vec<String> = (0..n).map(|k| format!("{k} : goto ep-{i}-{k}")).collect();
        // from the node itself: masquerade, so replies come back through this node
        let _ = writeln!(
            w,
            "  chain svc-{i} {{
    comment \"{name}\"
    fib saddr type local jump mark-for-masquerade
    numgen random mod {n} vmap {{ {} }}
  }}
  chain nodeport-{i} {{
    comment \"{name} nodeport\"
    jump mark-for-masquerade
    goto svc-{i}
  }}",
            targets.join(", ")
        );
        for (k, (ip, port)) in p.endpoints.iter().enumerate() {
            let _ = writeln!(
                w,
                "  chain ep-{i}-{k} {{
    ip saddr {ip} jump mark-for-masquerade
    meta l4proto {} dnat to {ip}:{port}
  }}",
                p.protocol
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
            ips: vec!["10.43.0.20".into()],
            port: 80,
            node_port: Some(30080),
            endpoints: endpoints
                .into_iter()
                .map(|(ip, p)| (ip.to_string(), p))
                .collect(),
        }
    }

    #[test]
    fn ready_endpoints_are_picked_with_equal_probability() {
        let r = ruleset(
            "skiff",
            &[port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)])],
        );
        assert!(r.starts_with("add table ip skiff\ndelete table ip skiff\ntable ip skiff {"));
        assert!(r.contains("elements = { 10.43.0.20 . tcp . 80 : goto svc-0 }"));
        assert!(r.contains("elements = { tcp . 30080 : goto nodeport-0 }"));
        assert!(r.contains("numgen random mod 2 vmap { 0 : goto ep-0-0, 1 : goto ep-0-1 }"));
        assert!(r.contains("ip saddr 10.42.0.6 jump mark-for-masquerade"));
        assert!(r.contains("meta l4proto tcp dnat to 10.42.0.6:8080"));
        assert!(
            !r.contains("set no-endpoints { type ipv4_addr . inet_proto . inet_service; elements")
        );
    }

    #[test]
    fn the_kernel_accepts_the_ruleset() {
        // `nft -c` checks the transaction against the kernel without committing it
        let script = ruleset(
            "skiff-check",
            &[
                port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)]),
                port(Vec::new()),
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
            "set no-endpoints { type ipv4_addr . inet_proto . inet_service; elements = { 10.43.0.20 . tcp . 80 }; }"
        ));
        assert!(r.contains("elements = { tcp . 30080 }"));
        assert!(!r.contains("chain svc-0"));
    }
}
