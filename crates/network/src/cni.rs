//! The CNI network list the runtime runs for every pod sandbox: a bridge (`skiff0`) with
//! host-local addresses from the node's pod CIDR, and portmap for hostPorts. containerd adds
//! the loopback interface itself.

use serde_json::json;
use std::path::{Path, PathBuf};

/// The network's name.
pub const NETWORK_NAME: &str = "skiff";
/// The bridge pods attach to, unless configured otherwise.
pub const BRIDGE: &str = "skiff0";
/// The file name of the network list (first in name order, so the runtime picks it).
pub const CONFLIST: &str = "10-skiff.conflist";

/// Errors writing the configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The pod CIDR is not an IPv4 CIDR.
    #[error("pod CIDR {0:?} is not an IPv4 CIDR")]
    BadCidr(String),
    /// The file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The gateway of a pod CIDR: its first address (`10.42.0.0/24` → `10.42.0.1`).
pub fn gateway(pod_cidr: &str) -> Result<std::net::Ipv4Addr, Error> {
    let bad = || Error::BadCidr(pod_cidr.to_string());
    let (addr, len) = pod_cidr.split_once('/').ok_or_else(bad)?;
    let addr: std::net::Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    if !(1..=30).contains(&len) {
        return Err(bad());
    }
    let mask = u32::MAX << (32 - len);
    Ok(std::net::Ipv4Addr::from((u32::from(addr) & mask) + 1))
}

/// The network list for a node with `pod_cidr` on `bridge`, keeping IPAM state in `ipam_dir`.
pub fn conflist(pod_cidr: &str, ipam_dir: &Path, bridge: &str) -> Result<serde_json::Value, Error> {
    let gw = gateway(pod_cidr)?;
    Ok(json!({
        "cniVersion": "1.0.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": true,
                "ipMasq": false,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{ "subnet": pod_cidr, "gateway": gw.to_string() }]],
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "dataDir": ipam_dir.display().to_string(),
                },
            },
            { "type": "portmap", "capabilities": { "portMappings": true } },
        ],
    }))
}

/// Writes the network list into `conf_dir` (atomically: the runtime may read at any time).
/// Returns whether the file changed.
pub fn write_conflist(
    conf_dir: &Path,
    pod_cidr: &str,
    ipam_dir: &Path,
    bridge: &str,
) -> Result<bool, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let body = serde_json::to_string_pretty(&conflist(pod_cidr, ipam_dir, bridge)?)
        .expect("a JSON value always encodes");
    let path = conf_dir.join(CONFLIST);
    if std::fs::read_to_string(&path).is_ok_and(|old| old == body) {
        return Ok(false);
    }
    std::fs::create_dir_all(conf_dir).map_err(io(conf_dir))?;
    std::fs::create_dir_all(ipam_dir).map_err(io(ipam_dir))?;
    let tmp = conf_dir.join(format!(".{CONFLIST}.tmp"));
    std::fs::write(&tmp, &body).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(true)
}

/// The bridge named by the network list in `conf_dir`, if one was written.
pub fn bridge_of(conf_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(conf_dir.join(CONFLIST)).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["plugins"][0]["bridge"].as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_takes_the_first_address_and_hands_out_the_rest() {
        assert_eq!(gateway("10.42.3.0/24").unwrap().to_string(), "10.42.3.1");
        assert_eq!(gateway("10.42.3.77/24").unwrap().to_string(), "10.42.3.1");
        assert!(gateway("10.42.3.0").is_err());
        assert!(gateway("fd00::/64").is_err());
        let c = conflist("10.42.3.0/24", Path::new("/x"), BRIDGE).unwrap();
        let ipam = &c["plugins"][0]["ipam"];
        assert_eq!(ipam["ranges"][0][0]["subnet"], "10.42.3.0/24");
        assert_eq!(ipam["dataDir"], "/x");
        assert_eq!(c["plugins"][1]["type"], "portmap");
    }

    #[test]
    fn writing_the_same_list_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("net.d");
        let ipam = dir.path().join("ipam");
        assert!(write_conflist(&conf, "10.42.0.0/24", &ipam, "br9").unwrap());
        assert!(!write_conflist(&conf, "10.42.0.0/24", &ipam, "br9").unwrap());
        assert!(write_conflist(&conf, "10.42.1.0/24", &ipam, "br9").unwrap());
        assert_eq!(bridge_of(&conf).as_deref(), Some("br9"));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(conf.join(CONFLIST)).unwrap()).unwrap();
        assert_eq!(
            v["plugins"][0]["ipam"]["ranges"][0][0]["subnet"],
            "10.42.1.0/24"
        );
    }
}
