//! The VXLAN overlay between nodes (like flannel's vxlan backend).
//!
//! Every node has a VXLAN device (`skiff.1`, VNI 1, UDP 8472) holding the first address of
//! its pod CIDR's network (`10.42.1.0/32`) and a MAC derived from its name, and publishes both
//! on its Node object with flannel's annotations. For every other node with a pod CIDR and
//! those annotations it keeps three entries: a route `<cidr> via <cidr network> dev skiff.1
//! onlink`, a permanent neighbour `<cidr network> lladdr <their MAC>`, and a forwarding
//! entry `<their MAC> dst <their node IP>`. So a packet for a pod on another node leaves
//! through the device, is encapsulated to that node's IP, and arrives on its device, from
//! where its bridge takes it. Each sync compares the kernel's entries with the Nodes and
//! fixes both ways, so the overlay heals when a node leaves, returns, or changes address.

use k8s_openapi::api::core::v1::Node;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// The VXLAN device, as flannel's `flannel.1`.
pub const DEVICE: &str = "skiff.1";
/// The VXLAN network identifier.
pub const VNI: u32 = 1;
/// The UDP port of the encapsulation (Linux's and flannel's default).
pub const PORT: u16 = 8472;
/// Bytes the encapsulation adds to every packet.
pub const OVERHEAD: u32 = 50;
/// flannel's annotation with the backend data (`{"VNI":1,"VtepMAC":"…"}`).
pub const BACKEND_DATA: &str = "flannel.alpha.coreos.com/backend-data";
/// flannel's annotation with the backend type.
pub const BACKEND_TYPE: &str = "flannel.alpha.coreos.com/backend-type";
/// The nftables table masquerading pods' traffic that leaves the cluster's pod networks.
pub const EGRESS_TABLE: &str = "skiff-egress";
/// flannel's annotation with the address other nodes encapsulate to.
pub const PUBLIC_IP: &str = "flannel.alpha.coreos.com/public-ip";

/// Errors programming the overlay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command could not run.
    #[error("running {0} (Debian packages iproute2, nftables): {1}")]
    Spawn(String, std::io::Error),
    /// A command failed.
    #[error("{0}: {1}")]
    Failed(String, String),
    /// The pod CIDR is not an IPv4 CIDR.
    #[error("pod CIDR {0:?} is not an IPv4 CIDR")]
    BadCidr(String),
    /// No interface holds the node IP.
    #[error("no interface has the node IP {0}")]
    NoInterface(Ipv4Addr),
}

/// Another node's pod CIDR and where its VXLAN device is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Peer {
    /// The node's pod CIDR.
    pub cidr: String,
    /// Its network address, held by the node's VXLAN device.
    pub gateway: Ipv4Addr,
    /// The node's IP, where its encapsulated traffic goes.
    pub node_ip: Ipv4Addr,
    /// The MAC of its VXLAN device.
    pub mac: String,
}

/// The network address of `cidr` (`10.42.1.0/24` → `10.42.1.0`).
pub fn network(cidr: &str) -> Result<Ipv4Addr, Error> {
    let bad = || Error::BadCidr(cidr.to_string());
    let (addr, len) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    if !(1..=30).contains(&len) {
        return Err(bad());
    }
    Ok(Ipv4Addr::from(u32::from(addr) & (u32::MAX << (32 - len))))
}

/// The MAC of `node`'s VXLAN device: locally administered, derived from the name, so a
/// re-created device keeps the address other nodes know.
pub fn vtep_mac(node: &str) -> String {
    let hash = node.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let b = hash.to_be_bytes();
    format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4]
    )
}

/// The annotations a node publishes for the others.
pub fn annotations(node: &str, node_ip: Ipv4Addr) -> BTreeMap<String, String> {
    BTreeMap::from([
        (BACKEND_TYPE.to_string(), "vxlan".to_string()),
        (
            BACKEND_DATA.to_string(),
            serde_json::json!({"VNI": VNI, "VtepMAC": vtep_mac(node)}).to_string(),
        ),
        (PUBLIC_IP.to_string(), node_ip.to_string()),
    ])
}

/// The peers of node `me`: every other node with a pod CIDR and published VXLAN data.
pub fn peers<'a>(nodes: impl IntoIterator<Item = &'a Node>, me: &str) -> Vec<Peer> {
    let mut out: Vec<Peer> = nodes
        .into_iter()
        .filter(|n| n.metadata.name.as_deref() != Some(me))
        .filter(|n| n.metadata.deletion_timestamp.is_none())
        .filter_map(|n| {
            let a = n.metadata.annotations.as_ref()?;
            if a.get(BACKEND_TYPE).map(String::as_str) != Some("vxlan") {
                return None;
            }
            let data: serde_json::Value = serde_json::from_str(a.get(BACKEND_DATA)?).ok()?;
            let mac = data["VtepMAC"].as_str()?.to_ascii_lowercase();
            // a malformed MAC would fail the commands for every peer after it
            let octets: Vec<&str> = mac.split(':').collect();
            let valid = octets.len() == 6
                && octets
                    .iter()
                    .all(|o| o.len() == 2 && o.chars().all(|c| c.is_ascii_hexdigit()));
            if !valid {
                return None;
            }
            let node_ip: Ipv4Addr = a.get(PUBLIC_IP)?.parse().ok()?;
            let cidr = n.spec.as_ref()?.pod_cidr.clone()?;
            let gateway = network(&cidr).ok()?;
            Some(Peer {
                cidr: format!("{gateway}/{}", cidr.split_once('/')?.1),
                gateway,
                node_ip,
                mac,
            })
        })
        .collect();
    out.sort();
    // two nodes claiming one CIDR (a stale Node): one keeps it, the same on every sync (the
    // lower node IP), so the route does not flap
    let mut seen = BTreeSet::new();
    out.retain(|p| seen.insert(p.cidr.clone()));
    out
}

async fn command(program: &str, args: &[&str]) -> Result<String, Error> {
    let what = format!("{program} {}", args.join(" "));
    let out = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .map_err(|e| Error::Spawn(program.to_string(), e))?;
    if !out.status.success() {
        return Err(Error::Failed(
            what,
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

async fn json(program: &str, args: &[&str]) -> Result<Vec<serde_json::Value>, Error> {
    let text = command(program, args).await?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

/// The interface holding `ip`, with its MTU.
async fn interface_of(ip: Ipv4Addr) -> Result<(String, u32), Error> {
    for link in json("ip", &["-j", "-4", "addr", "show"]).await? {
        let holds = link["addr_info"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|a| a["local"].as_str() == Some(&ip.to_string()));
        if holds {
            let name = link["ifname"].as_str().unwrap_or_default().to_string();
            let mtu = link["mtu"].as_u64().unwrap_or(1500) as u32;
            return Ok((name, mtu));
        }
    }
    Err(Error::NoInterface(ip))
}

/// The overlay of one node.
pub struct Overlay {
    node: String,
    node_ip: Ipv4Addr,
    device: String,
}

impl Overlay {
    /// The overlay of `node`, encapsulating from `node_ip`.
    pub fn new(node: &str, node_ip: Ipv4Addr) -> Self {
        Overlay {
            node: node.to_string(),
            node_ip,
            device: DEVICE.to_string(),
        }
    }

    /// Creates (or re-creates, when its settings differ) the VXLAN device with the network
    /// address of `pod_cidr`, and brings it up.
    pub async fn ensure_device(&self, pod_cidr: &str) -> Result<(), Error> {
        let address = network(pod_cidr)?;
        let (parent, mtu) = interface_of(self.node_ip).await?;
        let mac = vtep_mac(&self.node);
        let dev = self.device.as_str();
        let current = json("ip", &["-j", "-d", "link", "show", "dev", dev])
            .await
            .unwrap_or_default();
        let fits = current.first().is_some_and(|l| {
            let info = &l["linkinfo"]["info_data"];
            l["address"].as_str() == Some(&mac)
                && info["id"].as_u64() == Some(u64::from(VNI))
                && info["local"].as_str() == Some(&self.node_ip.to_string())
                && info["port"].as_u64() == Some(u64::from(PORT))
        });
        if !fits {
            if !current.is_empty() {
                command("ip", &["link", "delete", dev]).await?;
            }
            let (vni, port, local) = (VNI.to_string(), PORT.to_string(), self.node_ip.to_string());
            command(
                "ip",
                &[
                    "link",
                    "add",
                    dev,
                    "address",
                    &mac,
                    "type",
                    "vxlan",
                    "id",
                    &vni,
                    "local",
                    &local,
                    "dev",
                    &parent,
                    "dstport",
                    &port,
                    "nolearning",
                ],
            )
            .await?;
            tracing::info!(device = dev, parent, %mac, "created the overlay device");
        }
        let mtu = mtu.saturating_sub(OVERHEAD).to_string();
        command("ip", &["link", "set", dev, "mtu", &mtu]).await?;
        // exactly one address: the pod CIDR's network
        let want = format!("{address}/32");
        for link in json("ip", &["-j", "-4", "addr", "show", "dev", dev]).await? {
            for a in link["addr_info"].as_array().into_iter().flatten() {
                let have = format!(
                    "{}/{}",
                    a["local"].as_str().unwrap_or_default(),
                    a["prefixlen"].as_u64().unwrap_or(0)
                );
                if have != want {
                    command("ip", &["addr", "del", &have, "dev", dev]).await?;
                }
            }
        }
        command("ip", &["addr", "replace", &want, "dev", dev]).await?;
        command("ip", &["link", "set", dev, "up"]).await?;
        Ok(())
    }

    /// Makes the device's routes, neighbours and forwarding entries those of `peers`.
    pub async fn sync(&self, peers: &[Peer]) -> Result<(), Error> {
        let dev = self.device.as_str();
        let routes: BTreeSet<String> = json("ip", &["-j", "-4", "route", "show", "dev", dev])
            .await?
            .iter()
            .filter_map(|r| {
                Some(format!(
                    "{} via {}",
                    r["dst"].as_str()?,
                    r["gateway"].as_str()?
                ))
            })
            .collect();
        let neighbours: BTreeSet<String> = json("ip", &["-j", "-4", "neigh", "show", "dev", dev])
            .await?
            .iter()
            .filter_map(|n| Some(format!("{} {}", n["dst"].as_str()?, n["lladdr"].as_str()?)))
            .collect();
        let fdb: BTreeSet<String> = json("bridge", &["-j", "fdb", "show", "dev", dev])
            .await?
            .iter()
            .filter_map(|f| Some(format!("{} {}", f["mac"].as_str()?, f["dst"].as_str()?)))
            .collect();
        let want_routes: BTreeSet<String> = peers
            .iter()
            .map(|p| format!("{} via {}", p.cidr, p.gateway))
            .collect();
        let want_neighbours: BTreeSet<String> = peers
            .iter()
            .map(|p| format!("{} {}", p.gateway, p.mac))
            .collect();
        let want_fdb: BTreeSet<String> = peers
            .iter()
            .map(|p| format!("{} {}", p.mac, p.node_ip))
            .collect();
        // what went away first, so a moved MAC or CIDR is re-added cleanly
        for r in routes.difference(&want_routes) {
            let dst = r.split(' ').next().unwrap_or_default();
            command("ip", &["route", "del", dst, "dev", dev]).await?;
        }
        for n in neighbours.difference(&want_neighbours) {
            let ip = n.split(' ').next().unwrap_or_default();
            command("ip", &["neigh", "del", ip, "dev", dev]).await?;
        }
        for f in fdb.difference(&want_fdb) {
            let (mac, dst) = f.split_once(' ').unwrap_or_default();
            command("bridge", &["fdb", "del", mac, "dev", dev, "dst", dst]).await?;
        }
        for p in peers {
            let (gw, ip) = (p.gateway.to_string(), p.node_ip.to_string());
            if !neighbours.contains(&format!("{gw} {}", p.mac)) {
                command(
                    "ip",
                    &[
                        "neigh",
                        "replace",
                        &gw,
                        "lladdr",
                        &p.mac,
                        "dev",
                        dev,
                        "nud",
                        "permanent",
                    ],
                )
                .await?;
            }
            if !fdb.contains(&format!("{} {ip}", p.mac)) {
                command(
                    "bridge",
                    &[
                        "fdb",
                        "append",
                        &p.mac,
                        "dev",
                        dev,
                        "dst",
                        &ip,
                        "self",
                        "permanent",
                    ],
                )
                .await?;
            }
            if !routes.contains(&format!("{} via {gw}", p.cidr)) {
                command(
                    "ip",
                    &[
                        "route", "replace", &p.cidr, "via", &gw, "dev", dev, "onlink",
                    ],
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Masquerades what this node's pods (`pod_cidr`) send beyond every pod network (the
    /// API server, the nodes' LAN, the outside), as flannel does: replies then come back
    /// through this node. Traffic between pods keeps its addresses. One `nft -f` transaction
    /// replacing table `ip skiff-egress`.
    pub async fn masquerade(&self, pod_cidr: &str, peers: &[Peer]) -> Result<(), Error> {
        let own = format!(
            "{}/{}",
            network(pod_cidr)?,
            pod_cidr.split_once('/').map_or("24", |p| p.1)
        );
        let mut cidrs: Vec<&str> = peers.iter().map(|p| p.cidr.as_str()).collect();
        cidrs.push(&own);
        let script = format!(
            "add table ip {EGRESS_TABLE}\ndelete table ip {EGRESS_TABLE}\ntable ip {EGRESS_TABLE} {{
  set pod-networks {{ type ipv4_addr; flags interval; auto-merge; elements = {{ {} }}; }}
  chain postrouting {{
    type nat hook postrouting priority srcnat + 10; policy accept;
    ip saddr {own} ip daddr != @pod-networks masquerade
  }}
}}
",
            cidrs.join(", ")
        );
        let mut child = tokio::process::Command::new("nft")
            .args(["-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| Error::Spawn("nft".into(), e))?;
        if let Some(mut stdin) = child.stdin.take() {
            use tokio::io::AsyncWriteExt;
            stdin
                .write_all(script.as_bytes())
                .await
                .map_err(|e| Error::Spawn("nft".into(), e))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| Error::Spawn("nft".into(), e))?;
        if !out.status.success() {
            return Err(Error::Failed(
                "nft -f (egress masquerade)".into(),
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(())
    }

    /// Removes the device, and with it every overlay route and entry, and the egress
    /// masquerade (clean shutdown).
    pub async fn teardown() {
        let _ = command("ip", &["link", "delete", DEVICE]).await;
        let _ = command("nft", &["delete", "table", "ip", EGRESS_TABLE]).await;
    }
}

/// Keeps node `node`'s overlay in step with the cluster's Nodes until dropped: waits for its
/// pod CIDR, publishes its VXLAN data on its Node, creates the device, then syncs on every
/// Node change and every 30 s (healing entries removed behind its back).
pub async fn run(client: kube::Client, node: String, node_ip: Ipv4Addr) {
    use kube::api::{Api, Patch, PatchParams};
    use std::time::{Duration, Instant};
    let nodes: Api<Node> = Api::all(client.clone());
    let overlay = Overlay::new(&node, node_ip);
    let pod_cidr = loop {
        let cidr = nodes
            .get_opt(&node)
            .await
            .ok()
            .flatten()
            .and_then(|n| n.spec?.pod_cidr);
        if let Some(c) = cidr {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let patch = serde_json::json!({"metadata": {"annotations": annotations(&node, node_ip)}});
    loop {
        let published = nodes
            .patch(&node, &PatchParams::default(), &Patch::Merge(&patch))
            .await;
        let device = overlay.ensure_device(&pod_cidr).await;
        match (published, device) {
            (Ok(_), Ok(())) => break,
            (Err(e), _) => tracing::warn!("publishing this node's overlay address: {e}"),
            (_, Err(e)) => tracing::warn!("creating the overlay device: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let informer = skiff_client::Informer::new(nodes, kube::runtime::watcher::Config::default());
    let changed = std::sync::Arc::new(tokio::sync::Notify::new());
    let n = changed.clone();
    informer.on_change(move |_| n.notify_one());
    let store = informer.store();
    tokio::spawn(informer.run());
    store.wait_ready().await;
    let mut last: Option<Vec<Peer>> = None;
    let mut reconciled = Instant::now();
    loop {
        let list = store.list();
        let want = peers(list.iter().map(|n| &**n), &node);
        // every node's status heartbeat is a Node change: when the peers are the same, the
        // kernel is compared at most every 10 s
        if last.as_ref() == Some(&want) && reconciled.elapsed() < Duration::from_secs(10) {
            let _ = tokio::time::timeout(Duration::from_secs(30), changed.notified()).await;
            continue;
        }
        reconciled = Instant::now();
        let result = match overlay.ensure_device(&pod_cidr).await {
            Ok(()) => match overlay.sync(&want).await {
                Ok(()) if last.as_ref() != Some(&want) => {
                    overlay.masquerade(&pod_cidr, &want).await
                }
                other => other,
            },
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                if last.as_ref() != Some(&want) {
                    tracing::info!(peers = want.len(), "overlay synced");
                }
                last = Some(want);
            }
            Err(e) => {
                tracing::warn!("syncing the overlay: {e}");
                last = None;
            }
        }
        let wait = if last.is_some() { 30 } else { 2 };
        let _ = tokio::time::timeout(Duration::from_secs(wait), changed.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cidr: Option<&str>, ip: &str) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some(name.into());
        n.metadata.annotations = Some(annotations(name, ip.parse().unwrap()));
        n.spec = Some(k8s_openapi::api::core::v1::NodeSpec {
            pod_cidr: cidr.map(str::to_string),
            ..Default::default()
        });
        n
    }

    #[test]
    fn peers_are_the_other_nodes_with_a_cidr_and_vxlan_data() {
        let mut bare = node("bare", Some("10.42.9.0/24"), "10.0.0.9");
        bare.metadata.annotations = None;
        let nodes = [
            node("a", Some("10.42.0.0/24"), "10.0.0.1"),
            node("b", Some("10.42.1.7/24"), "10.0.0.2"),
            node("c", None, "10.0.0.3"),
            bare,
            // a stale node with b's CIDR: b (the lower node IP) keeps it
            node("d", Some("10.42.1.0/24"), "10.0.0.4"),
            // a MAC that is not one: left out rather than failing every peer's commands
            {
                let mut n = node("e", Some("10.42.5.0/24"), "10.0.0.5");
                n.metadata.annotations.as_mut().unwrap().insert(
                    BACKEND_DATA.into(),
                    r#"{"VNI":1,"VtepMAC":"02:zz:00:00:00:01; reboot"}"#.into(),
                );
                n
            },
        ];
        let p = peers(&nodes, "a");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].cidr, "10.42.1.0/24");
        assert_eq!(p[0].gateway.to_string(), "10.42.1.0");
        assert_eq!(p[0].node_ip.to_string(), "10.0.0.2");
        assert_eq!(p[0].mac, vtep_mac("b"));
    }

    #[test]
    fn macs_are_stable_and_locally_administered() {
        assert_eq!(vtep_mac("n1"), vtep_mac("n1"));
        assert_ne!(vtep_mac("n1"), vtep_mac("n2"));
        assert!(vtep_mac("n1").starts_with("02:"));
        assert_eq!(vtep_mac("n1").len(), 17);
        assert_eq!(network("10.42.3.77/24").unwrap().to_string(), "10.42.3.0");
        assert!(network("10.42.3.0").is_err());
    }
}
