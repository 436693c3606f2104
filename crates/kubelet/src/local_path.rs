//! The built-in local-path provisioner (k3s's `rancher.io/local-path`), run by every agent
//! for its own node: a claim the scheduler placed here gets a hostPath volume in a fresh
//! folder under the storage directory, pinned to this node; when such a volume is released
//! and its reclaim policy is Delete, the folder and the volume are removed.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;
use skiff_client::storage::{
    claim_class, requested_bytes, selected_node, LOCAL_PATH_PROVISIONER, PROVISIONED_BY,
    STORAGE_PROVISIONER,
};
use skiff_client::{key_of, EventRecorder, EventType, Informer, Store, WorkQueue};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a provisioned volume records its node (as rancher's provisioner does).
const NODE_ANNOTATION: &str = "local.path.provisioner/selected-node";

/// Work items: a claim to provision for, or a volume to reclaim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Item {
    Claim(String),
    Volume(String),
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Claim(k) => write!(f, "claim {k}"),
            Item::Volume(n) => write!(f, "volume {n}"),
        }
    }
}

/// The provisioner of one node.
pub struct LocalPath {
    client: kube::Client,
    node: String,
    root: PathBuf,
    claims: Store<PersistentVolumeClaim>,
    volumes: Store<PersistentVolume>,
    classes: Store<StorageClass>,
    queue: WorkQueue<Item>,
    events: EventRecorder,
}

/// Whether this node's provisioner should create a volume for the claim.
fn wants_volume(pvc: &PersistentVolumeClaim, node: &str) -> bool {
    let provisioner = pvc
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(STORAGE_PROVISIONER));
    pvc.metadata.deletion_timestamp.is_none()
        && provisioner.map(String::as_str) == Some(LOCAL_PATH_PROVISIONER)
        && selected_node(pvc) == Some(node)
        && pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .is_none_or(str::is_empty)
}

/// Whether the volume is ours to delete: provisioned here, released, reclaim policy Delete.
fn wants_reclaim(pv: &PersistentVolume, node: &str) -> bool {
    let a = pv.metadata.annotations.as_ref();
    let get = |k: &str| a.and_then(|a| a.get(k)).map(String::as_str);
    let spec = pv.spec.as_ref();
    get(PROVISIONED_BY) == Some(LOCAL_PATH_PROVISIONER)
        && get(NODE_ANNOTATION) == Some(node)
        && pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released")
        && spec.and_then(|s| s.persistent_volume_reclaim_policy.as_deref()) == Some("Delete")
}

/// The folder of a claim's volume: `pvc-<uid>_<namespace>_<name>` as rancher names it.
fn folder(root: &Path, pvc: &PersistentVolumeClaim) -> PathBuf {
    let m = &pvc.metadata;
    root.join(format!(
        "pvc-{}_{}_{}",
        m.uid.as_deref().unwrap_or_default(),
        m.namespace.as_deref().unwrap_or_default(),
        m.name.as_deref().unwrap_or_default()
    ))
}

/// The volume for a claim on `node` in `dir`.
fn volume_for(
    pvc: &PersistentVolumeClaim,
    class: Option<&StorageClass>,
    node: &str,
    dir: &Path,
) -> serde_json::Value {
    let m = &pvc.metadata;
    let spec = pvc.spec.as_ref();
    let storage = spec
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map_or_else(|| "0".to_string(), |q| q.0.clone());
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": format!("pvc-{}", m.uid.as_deref().unwrap_or_default()),
            "annotations": {PROVISIONED_BY: LOCAL_PATH_PROVISIONER, NODE_ANNOTATION: node},
        },
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": spec.and_then(|s| s.access_modes.clone()).unwrap_or_default(),
            "persistentVolumeReclaimPolicy":
                class.and_then(|c| c.reclaim_policy.clone()).unwrap_or_else(|| "Delete".into()),
            "storageClassName": claim_class(pvc),
            "volumeMode": "Filesystem",
            "hostPath": {"path": dir.display().to_string(), "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}},
            "claimRef": {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "namespace": m.namespace, "name": m.name, "uid": m.uid,
                "resourceVersion": m.resource_version,
            },
        },
    })
}

impl LocalPath {
    /// Runs the provisioner for `node`, keeping volumes under `root`, until dropped.
    pub async fn run(client: kube::Client, node: String, root: PathBuf) {
        let node = node.as_str();
        let claims = Informer::new(
            Api::<PersistentVolumeClaim>::all(client.clone()),
            watcher::Config::default(),
        );
        let volumes = Informer::new(
            Api::<PersistentVolume>::all(client.clone()),
            watcher::Config::default(),
        );
        let classes = Informer::new(
            Api::<StorageClass>::all(client.clone()),
            watcher::Config::default(),
        );
        let queue = WorkQueue::new();
        let (q, n) = (queue.clone(), node.to_string());
        claims.on_change(move |c| {
            if wants_volume(c.object(), &n) {
                q.add(Item::Claim(key_of(&c.object().metadata)));
            }
        });
        let (q, n) = (queue.clone(), node.to_string());
        volumes.on_change(move |c| {
            if wants_reclaim(c.object(), &n) {
                q.add(Item::Volume(
                    c.object().metadata.name.clone().unwrap_or_default(),
                ));
            }
        });
        let this = Arc::new(LocalPath {
            events: EventRecorder::new(client.clone(), LOCAL_PATH_PROVISIONER),
            client,
            node: node.to_string(),
            root,
            claims: claims.store(),
            volumes: volumes.store(),
            classes: classes.store(),
            queue: queue.clone(),
        });
        let t = this.clone();
        this.queue.run_workers(1, "local-path", move |item| {
            let t = t.clone();
            async move { t.sync(&item).await }
        });
        futures::future::join3(claims.run(), volumes.run(), classes.run()).await;
    }

    async fn sync(&self, item: &Item) -> Result<(), String> {
        match item {
            Item::Claim(key) => match self.claims.get(key) {
                Some(pvc) if wants_volume(&pvc, &self.node) => self.provision(&pvc).await,
                _ => Ok(()),
            },
            Item::Volume(name) => match self.volumes.get(name) {
                Some(pv) if wants_reclaim(&pv, &self.node) => self.reclaim(&pv).await,
                _ => Ok(()),
            },
        }
    }

    async fn provision(&self, pvc: &PersistentVolumeClaim) -> Result<(), String> {
        self.classes.wait_ready().await;
        let class = self.classes.get(claim_class(pvc));
        let dir = folder(&self.root, pvc);
        std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        // any uid may write, as with rancher's provisioner
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let pv: PersistentVolume =
            serde_json::from_value(volume_for(pvc, class.as_deref(), &self.node, &dir))
                .map_err(|e| e.to_string())?;
        let name = pv.metadata.name.clone().unwrap_or_default();
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        match api.create(&PostParams::default(), &pv).await {
            Ok(_) => {
                tracing::info!(
                    volume = %name, claim = %key_of(&pvc.metadata), bytes = requested_bytes(pvc),
                    path = %dir.display(), "provisioned a local-path volume"
                );
                self.events.publish(
                    pvc,
                    EventType::Normal,
                    "ProvisioningSucceeded",
                    format!("Successfully provisioned volume {name}"),
                );
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
            Err(e) => {
                self.events.publish(
                    pvc,
                    EventType::Warning,
                    "ProvisioningFailed",
                    format!(
                        "failed to provision volume with StorageClass {:?}: {e}",
                        claim_class(pvc)
                    ),
                );
                Err(e.to_string())
            }
        }
    }

    async fn reclaim(&self, pv: &PersistentVolume) -> Result<(), String> {
        let name = pv.metadata.name.as_deref().unwrap_or_default();
        let path = pv
            .spec
            .as_ref()
            .and_then(|s| s.host_path.as_ref())
            .map(|h| PathBuf::from(&h.path));
        // only folders this provisioner made, never anything else a volume may name
        match path {
            Some(p) if p.parent() == Some(&self.root) && p.exists() => {
                std::fs::remove_dir_all(&p)
                    .map_err(|e| format!("removing {}: {e}", p.display()))?;
            }
            Some(p) if p.parent() != Some(&self.root) => {
                tracing::warn!(volume = name, path = %p.display(), "not removing a folder outside the storage directory");
            }
            _ => {}
        }
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {
                tracing::info!(volume = name, "deleted a released local-path volume");
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(annotations: serde_json::Value) -> PersistentVolumeClaim {
        serde_json::from_value(json!({
            "metadata": {"name": "data", "namespace": "web", "uid": "u1", "annotations": annotations},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-path",
                     "resources": {"requests": {"storage": "2Gi"}}}}))
        .unwrap()
    }

    #[test]
    fn only_claims_placed_on_this_node_for_local_path_are_provisioned() {
        let ours = claim(json!({STORAGE_PROVISIONER: LOCAL_PATH_PROVISIONER,
            "volume.kubernetes.io/selected-node": "n1"}));
        assert!(wants_volume(&ours, "n1"));
        assert!(!wants_volume(&ours, "n2"));
        let other = claim(json!({STORAGE_PROVISIONER: "ebs.csi.aws.com",
            "volume.kubernetes.io/selected-node": "n1"}));
        assert!(!wants_volume(&other, "n1"));
        assert!(!wants_volume(
            &claim(json!({STORAGE_PROVISIONER: LOCAL_PATH_PROVISIONER})),
            "n1"
        ));
    }

    #[test]
    fn the_volume_is_pinned_to_the_node_and_claimed() {
        let pvc = claim(json!({}));
        let dir = folder(Path::new("/var/lib/skiff/storage"), &pvc);
        assert_eq!(dir, Path::new("/var/lib/skiff/storage/pvc-u1_web_data"));
        let v = volume_for(&pvc, None, "n1", &dir);
        assert_eq!(v["metadata"]["name"], "pvc-u1");
        assert_eq!(v["spec"]["capacity"]["storage"], "2Gi");
        assert_eq!(v["spec"]["persistentVolumeReclaimPolicy"], "Delete");
        assert_eq!(v["spec"]["claimRef"]["uid"], "u1");
        assert_eq!(
            v["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
                ["values"],
            json!(["n1"])
        );
        let pv: PersistentVolume = serde_json::from_value(v).unwrap();
        assert!(!wants_reclaim(&pv, "n1"), "a new volume is not released");
        let mut released = pv.clone();
        released.status = Some(serde_json::from_value(json!({"phase": "Released"})).unwrap());
        assert!(wants_reclaim(&released, "n1"));
        assert!(!wants_reclaim(&released, "n2"));
    }
}
