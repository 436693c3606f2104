//! The pod cgroup hierarchy by QoS class, as upstream's kubelet lays it out with the cgroupfs
//! driver: `/kubepods/pod<uid>` (Guaranteed), `/kubepods/burstable/pod<uid>`,
//! `/kubepods/besteffort/pod<uid>`. The runtime creates the folders; the agent removes a pod's
//! folders once its containers are gone.

use std::path::{Path, PathBuf};

/// The top of the hierarchy.
pub const ROOT: &str = "/kubepods";

/// The cgroup parent of a pod's sandbox and containers.
pub fn pod_parent(qos_class: &str, uid: &str) -> String {
    match qos_class {
        "Guaranteed" => format!("{ROOT}/pod{uid}"),
        "Burstable" => format!("{ROOT}/burstable/pod{uid}"),
        _ => format!("{ROOT}/besteffort/pod{uid}"),
    }
}

/// Every folder a pod's cgroup may have under `mount` (cgroup v2: the unified mount; v1: each
/// controller's mount).
fn pod_folders(mount: &Path, uid: &str) -> Vec<PathBuf> {
    ["Guaranteed", "Burstable", "BestEffort"]
        .iter()
        .map(|q| mount.join(pod_parent(q, uid).trim_start_matches('/')))
        .collect()
}

/// The cgroup mounts of this host: `/sys/fs/cgroup` itself on v2, its subfolders on v1.
fn mounts(base: &Path) -> Vec<PathBuf> {
    if base.join("cgroup.controllers").exists() {
        return vec![base.to_path_buf()];
    }
    std::fs::read_dir(base)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.join(ROOT.trim_start_matches('/')).is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes a pod's cgroup folders (left behind by the runtime, which removes only its
/// containers' own); folders still holding processes stay.
pub fn remove_pod(uid: &str) {
    if uid.is_empty() {
        return;
    }
    for mount in mounts(Path::new("/sys/fs/cgroup")) {
        for dir in pod_folders(&mount, uid) {
            if dir.is_dir() {
                if let Err(e) = std::fs::remove_dir(&dir) {
                    tracing::debug!(path = %dir.display(), "keeping a pod cgroup: {e}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes_have_their_own_branches() {
        assert_eq!(pod_parent("Guaranteed", "u"), "/kubepods/podu");
        assert_eq!(pod_parent("Burstable", "u"), "/kubepods/burstable/podu");
        assert_eq!(pod_parent("BestEffort", "u"), "/kubepods/besteffort/podu");
        assert_eq!(
            pod_folders(Path::new("/sys/fs/cgroup/memory"), "u")[1],
            Path::new("/sys/fs/cgroup/memory/kubepods/burstable/podu")
        );
    }
}
