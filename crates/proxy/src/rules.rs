//! The nftables rules for a set of Service ports and their ready endpoints.
//!
//! Traffic to a ClusterIP (a `svc-…` chain) or to an external IP, load-balancer IP or NodePort
//! on a local address (`ext-…`) picks an endpoint with equal probability (`numgen random mod
//! N`) and is DNATed to it (`dnat … to numgen … map`); `internalTrafficPolicy`/
//! `externalTrafficPolicy: Local` restrict the choice to this node's endpoints (dropping when
//! there is none), and `sessionAffinity: ClientIP` goes through a chain per endpoint (`ep-…`)
//! that records the client in a timeout set (`aff-…`) consulted first. Connections are
//! masqueraded when they come from the node itself, are external under the Cluster policy, or
//! reach their own pod through the Service (hairpin, the `hairpin` set of `ip . ip` pairs). A
//! port with no ready endpoint is rejected at once.
//!
//! The per-port part of the table is a [`Model`]: chains named after their Service port (and
//! endpoint), affinity sets, and the elements of the dispatch maps. The first sync writes the
//! whole table ([`ruleset`]); later syncs send only what changed between two models
//! ([`changes`]), still as one `nft -f` transaction, so a sync never leaves half a ruleset
//! behind and unchanged endpoints keep their affinity sets.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;

/// Marks connections to masquerade after DNAT.
pub const MASQUERADE_MARK: u32 = 0x4000;

/// The dispatch maps and sets the per-port elements go in, in [`Model::elements`] order.
const DISPATCH: [&str; 5] = [
    "service-ips",
    "service-nodeports",
    "no-endpoints",
    "no-endpoint-nodeports",
    "hairpin",
];

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
    pub(crate) fn allowed(&self, local_only: bool) -> Vec<usize> {
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

/// A name usable as an nftables chain or set name: `prefix-<hash of readable>`. Short on
/// purpose: `nft` lists every chain of the table before each change, so the names' length is
/// paid on every sync (rules carry the readable name as a comment instead).
fn ident(prefix: &str, readable: &str) -> String {
    // FNV-1a (64 bits): stable across builds and runs, unlike std's hasher
    let hash = readable.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{prefix}-{hash:016x}")
}

/// The chains and affinity sets of one Service port, with the port they were made from.
#[derive(Debug, Default, PartialEq, Eq)]
struct Fragment {
    source: Option<ServicePort>,
    /// Chain name → its rules.
    chains: BTreeMap<String, Vec<String>>,
    /// Affinity set name → its declaration.
    sets: BTreeMap<String, String>,
}

/// The names a port's chains go by.
struct Names {
    svc: String,
    ext: String,
    endpoints: Vec<String>,
}

impl Names {
    fn of(id: &str, p: &ServicePort) -> Names {
        Names {
            svc: ident("svc", id),
            ext: ident("ext", id),
            endpoints: p
                .endpoints
                .iter()
                .map(|e| ident("ep", &format!("{id}__{}/{}", e.ip, e.port)))
                .collect(),
        }
    }

    /// The verdict for traffic a policy sends to `allowed` endpoints through `chain`: none at
    /// all is refused (`None`), none allowed here (a Local policy) is dropped, as upstream.
    fn verdict(p: &ServicePort, allowed: &[usize], chain: &str) -> Option<String> {
        if p.endpoints.is_empty() {
            None
        } else if allowed.is_empty() {
            Some("drop".to_string())
        } else {
            Some(format!("goto {chain}"))
        }
    }
}

impl Fragment {
    fn new(id: &str, p: &ServicePort) -> Fragment {
        let mut f = Fragment {
            source: Some(p.clone()),
            ..Fragment::default()
        };
        if p.endpoints.is_empty() {
            return f;
        }
        let names = Names::of(id, p);
        let affinity: Vec<Option<String>> = names
            .endpoints
            .iter()
            .map(|c| p.affinity_timeout.map(|t| format!("aff-{t}s-{}", &c[3..])))
            .collect();
        let comment = format!("comment \"{}\"", quote(&p.name));
        let chooser = |allowed: &[usize], masquerade: &str| {
            let mut rules = vec![format!("{masquerade} {comment}")];
            for k in allowed {
                if let Some(set) = &affinity[*k] {
                    rules.push(format!("ip saddr @{set} goto {}", names.endpoints[*k]));
                }
            }
            if p.affinity_timeout.is_some() {
                // through the endpoint's chain, which records the client for affinity
                let targets: Vec<String> = allowed
                    .iter()
                    .enumerate()
                    .map(|(n, k)| format!("{n} : goto {}", names.endpoints[*k]))
                    .collect();
                rules.push(format!(
                    "numgen random mod {} vmap {{ {} }}",
                    allowed.len(),
                    targets.join(", ")
                ));
            } else {
                // straight to the endpoint: no chain per endpoint, so the table has far fewer
                // chains for `nft` to list before every change
                let targets: Vec<String> = allowed
                    .iter()
                    .enumerate()
                    .map(|(n, k)| {
                        let e = &p.endpoints[*k];
                        format!("{n} : {} . {}", e.ip, e.port)
                    })
                    .collect();
                rules.push(format!(
                    "meta l4proto {} dnat ip addr . port to numgen random mod {} map {{ {} }}",
                    p.protocol,
                    allowed.len(),
                    targets.join(", ")
                ));
            }
            rules
        };
        let internal = p.allowed(p.internal_local);
        if !internal.is_empty() {
            // from the node itself: masquerade, so replies come back through this node
            let rules = chooser(&internal, "fib saddr type local jump mark-for-masquerade");
            f.chains.insert(names.svc.clone(), rules);
        }
        let external = p.allowed(p.external_local);
        if !external.is_empty() {
            // a Local policy keeps the client's address; otherwise replies must come back here
            let masquerade = if p.external_local {
                "fib saddr type local jump mark-for-masquerade"
            } else {
                "jump mark-for-masquerade"
            };
            f.chains
                .insert(names.ext.clone(), chooser(&external, masquerade));
        }
        if p.affinity_timeout.is_none() {
            return f;
        }
        for (k, e) in p.endpoints.iter().enumerate() {
            let mut rules = vec![format!("ip saddr {} jump mark-for-masquerade", e.ip)];
            if let (Some(set), Some(t)) = (&affinity[k], p.affinity_timeout) {
                f.sets.insert(
                    set.clone(),
                    format!("type ipv4_addr; flags dynamic,timeout; timeout {t}s;"),
                );
                rules.push(format!("update @{set} {{ ip saddr }}"));
            }
            rules.push(format!(
                "meta l4proto {} dnat to {}:{}",
                p.protocol, e.ip, e.port
            ));
            f.chains.insert(names.endpoints[k].clone(), rules);
        }
        f
    }
}

/// The per-port part of the proxy's table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    /// Port id (`ns/name/port/protocol`) → its chains and sets.
    ports: BTreeMap<String, Arc<Fragment>>,
    /// Per dispatch map or set ([`DISPATCH`]): key → verdict (empty for sets).
    elements: [BTreeMap<String, String>; 5],
}

impl Model {
    /// The chains, sets and elements that serve `ports`.
    pub fn new(ports: &[ServicePort]) -> Model {
        Model::default().rebuilt(ports)
    }

    /// The model serving `ports`, reusing this one's chains for the ports that have not
    /// changed (so a sync costs in proportion to what changed).
    pub fn rebuilt(&self, ports: &[ServicePort]) -> Model {
        let mut m = Model::default();
        for p in ports {
            let id = format!("{}/{}", p.name.replace(':', "/"), p.protocol);
            if m.ports.contains_key(&id) {
                continue;
            }
            let fragment = match self.ports.get(&id) {
                Some(f) if f.source.as_ref() == Some(p) => f.clone(),
                _ => Arc::new(Fragment::new(&id, p)),
            };
            m.add_elements(&id, p);
            m.ports.insert(id, fragment);
        }
        m
    }

    /// Chains in this model.
    pub fn chain_count(&self) -> usize {
        self.ports.values().map(|f| f.chains.len()).sum()
    }

    fn add_elements(&mut self, id: &str, p: &ServicePort) {
        let (svc, ext) = (ident("svc", id), ident("ext", id));
        let internal_verdict = Names::verdict(p, &p.allowed(p.internal_local), &svc);
        let external_verdict = Names::verdict(p, &p.allowed(p.external_local), &ext);
        // a key twice (two Services claiming one external IP and port) would fail the whole
        // transaction: the first claim wins
        let targets = std::iter::once((&p.cluster_ip, &internal_verdict))
            .chain(p.external_ips.iter().map(|ip| (ip, &external_verdict)));
        for (ip, v) in targets {
            let key = format!("{ip} . {} . {}", p.protocol, p.port);
            if self.elements[0].contains_key(&key) || self.elements[2].contains_key(&key) {
                continue;
            }
            match v {
                Some(v) => self.elements[0].insert(key, v.clone()),
                None => self.elements[2].insert(key, String::new()),
            };
        }
        // a pod reaching itself through the Service is masqueraded (postrouting)
        for e in &p.endpoints {
            self.elements[4].insert(format!("{0} . {0}", e.ip), String::new());
        }
        if let Some(np) = p.node_port {
            let key = format!("{} . {np}", p.protocol);
            if !self.elements[1].contains_key(&key) && !self.elements[3].contains_key(&key) {
                match &external_verdict {
                    Some(v) => self.elements[1].insert(key, v.clone()),
                    None => self.elements[3].insert(key, String::new()),
                };
            }
        }
    }
}

/// The fixed part of the table: the dispatch maps and the hooks.
fn base(w: &mut String, m: &Model) {
    let elements = |i: usize| {
        let v: Vec<String> = m.elements[i]
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k} : {v}")
                }
            })
            .collect();
        if v.is_empty() {
            String::new()
        } else {
            format!(" elements = {{ {} }};", v.join(", "))
        }
    };
    let _ = writeln!(
        w,
        "  map service-ips {{ type ipv4_addr . inet_proto . inet_service : verdict;{} }}",
        elements(0)
    );
    let _ = writeln!(
        w,
        "  map service-nodeports {{ type inet_proto . inet_service : verdict;{} }}",
        elements(1)
    );
    let _ = writeln!(
        w,
        "  set no-endpoints {{ type ipv4_addr . inet_proto . inet_service;{} }}",
        elements(2)
    );
    let _ = writeln!(
        w,
        "  set no-endpoint-nodeports {{ type inet_proto . inet_service;{} }}",
        elements(3)
    );
    let _ = writeln!(
        w,
        "  set hairpin {{ type ipv4_addr . ipv4_addr;{} }}",
        elements(4)
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
    ct status dnat ip saddr . ip daddr @hairpin masquerade
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
}

/// The transaction that makes table `ip <table>` hold exactly `m` (replacing it whole).
pub fn ruleset(table: &str, m: &Model) -> String {
    let mut out = String::new();
    let w = &mut out;
    // create-then-delete makes the delete safe when the table is new; all in one transaction
    let _ = writeln!(
        w,
        "add table ip {table}\ndelete table ip {table}\ntable ip {table} {{"
    );
    base(w, m);
    for f in m.ports.values() {
        for (name, decl) in &f.sets {
            let _ = writeln!(w, "  set {name} {{ {decl} }}");
        }
        for (name, rules) in &f.chains {
            let _ = writeln!(w, "  chain {name} {{\n    {}\n  }}", rules.join("\n    "));
        }
    }
    let _ = writeln!(w, "}}");
    out
}

/// The transaction that turns table `ip <table>`, holding `old`, into one holding `new`:
/// only the chains, sets and elements that differ. Empty when nothing does.
pub fn changes(table: &str, old: &Model, new: &Model) -> String {
    // in this order: new sets and chains, empty, so anything may refer to them; the chains
    // that change or go emptied, dropping their references; the dispatch elements; the rules
    // of new and changed chains; what is no longer referred to
    let [mut create, mut flush, mut fill, mut remove] = [(); 4].map(|_| String::new());
    let none = Fragment::default();
    let pairs = new
        .ports
        .iter()
        .map(|(id, f)| (old.ports.get(id).map_or(&none, |o| &**o), &**f))
        .chain(
            old.ports
                .iter()
                .filter(|(id, _)| !new.ports.contains_key(*id))
                .map(|(_, o)| (&**o, &none)),
        );
    for (before, after) in pairs {
        if std::ptr::eq(before, after) || before == after {
            continue;
        }
        for (name, decl) in &after.sets {
            if !before.sets.contains_key(name) {
                let _ = writeln!(create, "add set ip {table} {name} {{ {decl} }}");
            }
        }
        for (name, rules) in &after.chains {
            match before.chains.get(name) {
                Some(r) if r == rules => continue,
                Some(_) => {}
                None => {
                    let _ = writeln!(create, "add chain ip {table} {name}");
                }
            }
            for rule in rules {
                let _ = writeln!(fill, "add rule ip {table} {name} {rule}");
            }
        }
        for (name, rules) in &before.chains {
            if after.chains.get(name) != Some(rules) {
                let _ = writeln!(flush, "flush chain ip {table} {name}");
            }
            if !after.chains.contains_key(name) {
                let _ = writeln!(remove, "delete chain ip {table} {name}");
            }
        }
        for name in before.sets.keys() {
            if !after.sets.contains_key(name) {
                let _ = writeln!(remove, "delete set ip {table} {name}");
            }
        }
    }
    let mut elements = String::new();
    for (i, map) in DISPATCH.iter().enumerate() {
        let (before, after) = (&old.elements[i], &new.elements[i]);
        // a changed verdict is a delete and an add
        let gone: Vec<&str> = before
            .iter()
            .filter(|(k, v)| after.get(*k) != Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        if !gone.is_empty() {
            let _ = writeln!(
                elements,
                "delete element ip {table} {map} {{ {} }}",
                gone.join(", ")
            );
        }
        let added: Vec<String> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k} : {v}")
                }
            })
            .collect();
        if !added.is_empty() {
            let _ = writeln!(
                elements,
                "add element ip {table} {map} {{ {} }}",
                added.join(", ")
            );
        }
    }
    create + &flush + &elements + &fill + &remove
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

    fn ep(ip_port: &str) -> String {
        ident("ep", &format!("default/web/http/tcp__{ip_port}"))
    }

    #[test]
    fn ready_endpoints_are_picked_with_equal_probability() {
        let m = Model::new(&[port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)])]);
        let r = ruleset("skiff", &m);
        let (svc, ext) = (
            ident("svc", "default/web/http/tcp"),
            ident("ext", "default/web/http/tcp"),
        );
        assert!(svc.starts_with("svc-") && svc.len() == 20);
        assert!(r.starts_with("add table ip skiff\ndelete table ip skiff\ntable ip skiff {"));
        assert!(
            r.contains(&format!(
                "elements = {{ 10.43.0.20 . tcp . 80 : goto {svc}, 192.0.2.7 . tcp . 80 : goto {ext} }}"
            )),
            "{r}"
        );
        assert!(r.contains(&format!("elements = {{ tcp . 30080 : goto {ext} }}")));
        assert!(r.contains(&format!("chain {svc} {{\n    fib saddr type local jump mark-for-masquerade comment \"default/web:http\"\n    meta l4proto tcp dnat ip addr . port to numgen random mod 2 map {{ 0 : 10.42.0.5 . 8080, 1 : 10.42.0.6 . 8080 }}\n  }}")), "{r}");
        // no chain per endpoint without affinity; hairpin through the set
        assert!(!r.contains("chain ep-"), "{r}");
        assert!(r.contains("set hairpin { type ipv4_addr . ipv4_addr; elements = { 10.42.0.5 . 10.42.0.5, 10.42.0.6 . 10.42.0.6 }; }"), "{r}");
        assert!(
            !r.contains("set no-endpoints { type ipv4_addr . inet_proto . inet_service; elements")
        );
    }

    #[test]
    fn local_policies_use_local_endpoints_and_affinity_sticks() {
        let mut p = port(vec![("10.42.0.5", 8080), ("10.42.1.6", 8080)]);
        p.external_local = true;
        p.affinity_timeout = Some(60);
        let r = ruleset("skiff", &Model::new(&[p.clone()]));
        let (a, b) = (ep("10.42.0.5/8080"), ep("10.42.1.6/8080"));
        let (aff_a, aff_b) = (
            format!("aff-60s-{}", &a[3..]),
            format!("aff-60s-{}", &b[3..]),
        );
        // external traffic: only the local endpoint, the client's address kept
        let ext = ident("ext", "default/web/http/tcp");
        assert!(r.contains(&format!("chain {ext} {{\n    fib saddr type local jump mark-for-masquerade comment \"default/web:http\"\n    ip saddr @{aff_a} goto {a}\n    numgen random mod 1 vmap {{ 0 : goto {a} }}")), "{r}");
        assert!(r.contains(&format!(
            "set {aff_b} {{ type ipv4_addr; flags dynamic,timeout; timeout 60s; }}"
        )));
        assert!(r.contains(&format!("update @{aff_b} {{ ip saddr }}")));
        // internal traffic with a Local policy and no local endpoint is dropped
        p.internal_local = true;
        p.endpoints[0].local = false;
        let r = ruleset("skiff", &Model::new(&[p]));
        assert!(r.contains("10.43.0.20 . tcp . 80 : drop"), "{r}");
        assert!(!r.contains("chain svc-"));
    }

    #[test]
    fn ports_without_endpoints_are_rejected() {
        let r = ruleset("skiff", &Model::new(&[port(Vec::new())]));
        assert!(r.contains(
            "set no-endpoints { type ipv4_addr . inet_proto . inet_service; elements = { 10.43.0.20 . tcp . 80, 192.0.2.7 . tcp . 80 }; }"
        ));
        assert!(r.contains("elements = { tcp . 30080 }"));
        assert!(!r.contains("chain svc-"));
    }

    #[test]
    fn changes_touch_only_what_differs() {
        let before = Model::new(&[port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)])]);
        assert_eq!(changes("skiff", &before, &before), "");
        let after = Model::new(&[port(vec![("10.42.0.5", 8080), ("10.42.0.7", 8080)])]);
        let c = changes("skiff", &before, &after);
        let svc = ident("svc", "default/web/http/tcp");
        assert!(c.contains(&format!("flush chain ip skiff {svc}\n")), "{c}");
        assert!(c.contains("delete element ip skiff hairpin { 10.42.0.6 . 10.42.0.6 }\n"));
        assert!(c.contains("add element ip skiff hairpin { 10.42.0.7 . 10.42.0.7 }\n"));
        // the dispatch map points at the same chains: untouched
        assert!(!c.contains("service-ips"), "{c}");
        assert!(
            !c.contains("chain ep-") && !c.contains("delete chain"),
            "{c}"
        );

        // with affinity, endpoints have chains: a new one is added, the gone one deleted, the
        // kept one left as it is (with its affinity set)
        let sticky = |eps| {
            let mut p = port(eps);
            p.affinity_timeout = Some(60);
            Model::new(&[p])
        };
        let (before, after) = (
            sticky(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)]),
            sticky(vec![("10.42.0.5", 8080), ("10.42.0.7", 8080)]),
        );
        let c = changes("skiff", &before, &after);
        let (kept, gone, new) = (
            ep("10.42.0.5/8080"),
            ep("10.42.0.6/8080"),
            ep("10.42.0.7/8080"),
        );
        assert!(c.contains(&format!("add chain ip skiff {new}\n")), "{c}");
        assert!(
            c.contains(&format!("delete chain ip skiff {gone}\n")),
            "{c}"
        );
        assert!(
            c.contains(&format!("delete set ip skiff aff-60s-{}\n", &gone[3..])),
            "{c}"
        );
        assert!(
            !c.contains(&format!("flush chain ip skiff {kept}\n")),
            "{c}"
        );
        assert!(!c.contains(&format!("add rule ip skiff {kept} ")), "{c}");
        assert!(
            !c.contains(&format!("set ip skiff aff-60s-{}", &kept[3..])),
            "{c}"
        );
    }

    /// nft, or the test's own table in the kernel, removed when the test ends.
    struct Table(String);

    impl Drop for Table {
        fn drop(&mut self) {
            nft(&["-f", "-"], &teardown(&self.0)).ok();
        }
    }

    fn nft(args: &[&str], script: &str) -> Result<String, String> {
        use std::io::Write;
        let mut child = std::process::Command::new("nft")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("nft (Debian package nftables)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "{}\n{script}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The kernel's view of a table, independent of creation order and handles: every chain
    /// with its rules, every set and its elements, sorted.
    fn contents(table: &str) -> Vec<String> {
        let listing = nft(&["-j", "list", "table", "ip", table], "").unwrap();
        let json: serde_json::Value = serde_json::from_str(&listing).unwrap();
        let mut out = Vec::new();
        for item in json["nftables"].as_array().unwrap() {
            let Some((kind, v)) = item.as_object().and_then(|o| o.iter().next()) else {
                continue;
            };
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                o.remove("handle");
                if let Some(elem) = o.get_mut("elem").and_then(|e| e.as_array_mut()) {
                    elem.sort_by_key(|e| e.to_string());
                }
            }
            if kind != "metainfo" {
                out.push(format!("{kind} {v}").replace(table, "T"));
            }
        }
        out.sort();
        out
    }

    fn ports(step: usize) -> Vec<ServicePort> {
        let mut web = port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)]);
        let mut dns = ServicePort {
            name: "kube-system/dns:dns".into(),
            protocol: "udp".into(),
            cluster_ip: "10.43.0.10".into(),
            external_ips: Vec::new(),
            node_port: None,
            port: 53,
            ..port(vec![("10.42.0.2", 53)])
        };
        match step {
            0 => {}
            // an endpoint replaced, one added elsewhere
            1 => {
                web.endpoints[1].ip = "10.42.1.9".into();
                dns.endpoints.push(Endpoint {
                    ip: "10.42.1.3".into(),
                    port: 53,
                    local: false,
                });
            }
            // affinity on, a Local policy, an external IP more
            2 => {
                web.affinity_timeout = Some(30);
                web.external_local = true;
                web.external_ips.push("192.0.2.8".into());
            }
            // no endpoints left: rejected
            3 => web.endpoints.clear(),
            // a Service gone
            _ => return vec![dns],
        }
        vec![web, dns]
    }

    #[test]
    fn the_kernel_accepts_the_ruleset() {
        // `nft -c` checks the transaction against the kernel without committing it
        let script = ruleset(
            "skiff-check",
            &Model::new(&[
                port(vec![("10.42.0.5", 8080), ("10.42.0.6", 8080)]),
                port(Vec::new()),
                ServicePort {
                    name: "default/sticky:http".into(),
                    internal_local: true,
                    external_local: true,
                    affinity_timeout: Some(10800),
                    cluster_ip: "10.43.0.21".into(),
                    external_ips: vec!["192.0.2.8".into()],
                    node_port: Some(30081),
                    ..port(vec![("10.42.0.7", 8080), ("10.42.1.8", 8080)])
                },
                // claims the first port's addresses again: skipped, not a failed transaction
                ServicePort {
                    name: "other/web:http".into(),
                    ..port(vec![("10.42.0.9", 8080)])
                },
            ]),
        );
        nft(&["-c", "-f", "-"], &script).unwrap();
    }

    #[test]
    fn each_change_leaves_what_a_full_sync_would() {
        // a real table, changed step by step, compared with a table written whole each time
        let (changed, whole) = (
            Table(format!("skiff-test-inc-{}", std::process::id())),
            Table(format!("skiff-test-full-{}", std::process::id())),
        );
        let mut model = Model::new(&ports(0));
        nft(&["-f", "-"], &ruleset(&changed.0, &model)).unwrap();
        for step in 1..=5 {
            let next = Model::new(&ports(step));
            let script = changes(&changed.0, &model, &next);
            assert!(!script.contains("delete table"), "{script}");
            nft(&["-f", "-"], &script).unwrap();
            nft(&["-f", "-"], &ruleset(&whole.0, &next)).unwrap();
            let listing = contents(&whole.0);
            assert!(listing.iter().filter(|l| l.starts_with("rule ")).count() >= 5);
            assert_eq!(contents(&changed.0), listing, "step {step}");
            model = next;
        }
        // and back to the start
        let first = Model::new(&ports(0));
        nft(&["-f", "-"], &changes(&changed.0, &model, &first)).unwrap();
        nft(&["-f", "-"], &ruleset(&whole.0, &first)).unwrap();
        assert_eq!(contents(&changed.0), contents(&whole.0));
    }
}
