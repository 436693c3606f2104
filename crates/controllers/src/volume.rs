//! The persistent volume controller: binds claims to volumes (or asks a provisioner for one),
//! keeps volume phases (Available, Bound, Released) and claim phases (Pending, Bound, Lost),
//! and the protection controllers: a claim stays while a pod uses it, a volume while bound.

use crate::{Context, Informers};
use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{json, Value};
use skiff_client::storage::{
    best_match, claim_class, is_free_for, selected_node, volume_serves_claim,
    BETA_STORAGE_PROVISIONER, BIND_COMPLETED, BOUND_BY_CONTROLLER, NO_PROVISIONER, PVC_PROTECTION,
    PV_PROTECTION, STORAGE_PROVISIONER,
};
use skiff_client::{key_of, Change, EventRecorder, EventType, Store, WorkQueue};
use std::sync::Arc;

/// Upstream's PersistentVolume binder with the pvc- and pv-protection controllers.
pub struct VolumeController {
    client: kube::Client,
    claims: Store<PersistentVolumeClaim>,
    volumes: Store<PersistentVolume>,
    classes: Store<StorageClass>,
    pods: Store<Pod>,
    claim_queue: WorkQueue<String>,
    volume_queue: WorkQueue<String>,
    events: EventRecorder,
}

/// The claims a pod mounts, as `namespace/name` keys.
fn pod_claims(pod: &Pod) -> impl Iterator<Item = String> + '_ {
    let ns = pod.metadata.namespace.as_deref().unwrap_or_default();
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(move |v| {
            Some(format!(
                "{ns}/{}",
                v.persistent_volume_claim.as_ref()?.claim_name
            ))
        })
}

fn is_terminated(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

fn has_finalizer(meta: &ObjectMeta, f: &str) -> bool {
    meta.finalizers.iter().flatten().any(|x| x == f)
}

/// A merge patch removing `finalizer` (failing if the object changed meanwhile).
fn without_finalizer(meta: &ObjectMeta, finalizer: &str) -> Value {
    let rest: Vec<&String> = meta
        .finalizers
        .iter()
        .flatten()
        .filter(|f| *f != finalizer)
        .collect();
    json!({"metadata": {"resourceVersion": meta.resource_version, "finalizers": rest}})
}

fn claim_ref_key(pv: &PersistentVolume) -> Option<String> {
    let r = pv.spec.as_ref()?.claim_ref.as_ref()?;
    Some(format!(
        "{}/{}",
        r.namespace.as_deref().unwrap_or_default(),
        r.name.as_deref().unwrap_or_default()
    ))
}

fn volume_phase(pv: &PersistentVolume) -> &str {
    pv.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

fn claim_phase(pvc: &PersistentVolumeClaim) -> &str {
    pvc.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn annotated(meta: &ObjectMeta, key: &str) -> bool {
    meta.annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(key))
}

impl VolumeController {
    /// Queues claims and volumes as they change, and claims whose pods go away.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let claim_queue = WorkQueue::new();
        let volume_queue = WorkQueue::new();
        let (cq, vq) = (claim_queue.clone(), volume_queue.clone());
        informers.persistent_volume_claims.on_change(move |c| {
            let pvc = c.object();
            cq.add(key_of(&pvc.metadata));
            if let Some(v) = pvc.spec.as_ref().and_then(|s| s.volume_name.as_deref()) {
                if !v.is_empty() {
                    vq.add(v.to_string());
                }
            }
        });
        let (cq, vq) = (claim_queue.clone(), volume_queue.clone());
        let claims = informers.persistent_volume_claims.store();
        informers.persistent_volumes.on_change(move |c| {
            let pv = c.object();
            vq.add(pv.metadata.name.clone().unwrap_or_default());
            if let Some(k) = claim_ref_key(pv) {
                if claims.get(&k).is_some() {
                    cq.add(k);
                }
            }
        });
        let cq = claim_queue.clone();
        let claims = informers.persistent_volume_claims.store();
        informers.pods.on_change(move |c| {
            let gone = match c {
                Change::Deleted(_) => true,
                Change::Applied { new, .. } => is_terminated(new),
            };
            if gone {
                for k in pod_claims(c.object()) {
                    if claims
                        .get(&k)
                        .is_some_and(|p| p.metadata.deletion_timestamp.is_some())
                    {
                        cq.add(k);
                    }
                }
            }
        });
        let cq = claim_queue.clone();
        let claims = informers.persistent_volume_claims.store();
        informers.storage_classes.on_change(move |_| {
            for pvc in claims.list() {
                if claim_phase(&pvc) != "Bound" {
                    cq.add(key_of(&pvc.metadata));
                }
            }
        });
        VolumeController {
            client: ctx.client.clone(),
            claims: informers.persistent_volume_claims.store(),
            volumes: informers.persistent_volumes.store(),
            classes: informers.storage_classes.store(),
            pods: informers.pods.store(),
            claim_queue,
            volume_queue,
            events: ctx.recorder("persistentvolume-controller"),
        }
    }

    /// Starts the workers.
    pub fn start(self) {
        let this = Arc::new(self);
        let t = this.clone();
        this.claim_queue
            .run_workers(2, "persistentvolumeclaim", move |key| {
                let t = t.clone();
                async move { t.sync_claim(&key).await }
            });
        let t = this.clone();
        this.volume_queue
            .run_workers(2, "persistentvolume", move |name| {
                let t = t.clone();
                async move { t.sync_volume(&name).await }
            });
    }

    fn claim_api(&self, ns: &str) -> Api<PersistentVolumeClaim> {
        Api::namespaced(self.client.clone(), ns)
    }

    fn volume_api(&self) -> Api<PersistentVolume> {
        Api::all(self.client.clone())
    }

    async fn sync_claim(&self, key: &str) -> Result<(), kube::Error> {
        let Some(pvc) = self.claims.get(key) else {
            return Ok(());
        };
        let ns = pvc.metadata.namespace.as_deref().unwrap_or_default();
        if pvc.metadata.deletion_timestamp.is_some() {
            return self.release_claim_protection(&pvc).await;
        }
        let volume_name = pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty());
        let Some(volume_name) = volume_name else {
            return self.sync_unbound_claim(&pvc).await;
        };
        let completed = annotated(&pvc.metadata, BIND_COMPLETED);
        match self.volumes.get(volume_name) {
            Some(pv) if is_free_for(&pv, &pvc) => self.bind(&pv, &pvc).await,
            Some(_) if completed => {
                self.set_claim_lost(
                    &pvc,
                    "ClaimMisbound",
                    "Two claims are bound to the same volume, this one is bound incorrectly",
                )
                .await
            }
            None if completed && claim_phase(&pvc) == "Bound" => {
                self.set_claim_lost(
                    &pvc,
                    "ClaimLost",
                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                )
                .await
            }
            // waiting for the named volume to appear or be released
            _ => self.set_claim_phase(ns, &pvc, "Pending").await,
        }
    }

    async fn sync_unbound_claim(&self, pvc: &PersistentVolumeClaim) -> Result<(), kube::Error> {
        let ns = pvc.metadata.namespace.as_deref().unwrap_or_default();
        let class_name = claim_class(pvc);
        let class = (!class_name.is_empty())
            .then(|| self.classes.get(class_name))
            .flatten();
        let delayed = class
            .as_ref()
            .and_then(|c| c.volume_binding_mode.as_deref())
            == Some("WaitForFirstConsumer");
        let volumes = self.volumes.list();
        // a volume claimed in advance for this claim binds whatever the binding mode
        let pre_bound = volumes.iter().map(|v| &**v).find(|pv| {
            pv.spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .is_some()
                && is_free_for(pv, pvc)
                && volume_serves_claim(pv, pvc)
        });
        let chosen = pre_bound.or_else(|| {
            (!delayed)
                .then(|| best_match(volumes.iter().map(|v| &**v), pvc))
                .flatten()
        });
        if let Some(pv) = chosen {
            return self.bind(pv, pvc).await;
        }
        self.set_claim_phase(ns, pvc, "Pending").await?;
        if delayed && selected_node(pvc).is_none() {
            self.events.publish(
                pvc,
                EventType::Normal,
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding".into(),
            );
            return Ok(());
        }
        let provisioner = class
            .as_ref()
            .map(|c| c.provisioner.as_str())
            .filter(|p| *p != NO_PROVISIONER);
        match provisioner {
            Some(p) => {
                let has = |k: &str| {
                    pvc.metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(k))
                        .is_some_and(|v| v == p)
                };
                if !(has(STORAGE_PROVISIONER) && has(BETA_STORAGE_PROVISIONER)) {
                    let patch = json!({"metadata": {"annotations": {
                        STORAGE_PROVISIONER: p, BETA_STORAGE_PROVISIONER: p}}});
                    self.claim_api(ns)
                        .patch(
                            pvc.metadata.name.as_deref().unwrap_or_default(),
                            &PatchParams::default(),
                            &Patch::Merge(&patch),
                        )
                        .await?;
                }
                self.events.publish(pvc, EventType::Normal, "ExternalProvisioning", format!("Waiting for a volume to be created either by the external provisioner '{p}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."));
            }
            None if class_name.is_empty() => self.events.publish(
                pvc,
                EventType::Normal,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set".into(),
            ),
            None if class.is_none() => self.events.publish(
                pvc,
                EventType::Warning,
                "ProvisioningFailed",
                format!("storageclass.storage.k8s.io {class_name:?} not found"),
            ),
            None => {}
        }
        Ok(())
    }

    /// Binds both ways: the volume's claimRef and Bound phase, then the claim's volumeName,
    /// annotations and Bound status (each write skipped when already so).
    async fn bind(
        &self,
        pv: &PersistentVolume,
        pvc: &PersistentVolumeClaim,
    ) -> Result<(), kube::Error> {
        let ns = pvc.metadata.namespace.as_deref().unwrap_or_default();
        let pv_name = pv.metadata.name.as_deref().unwrap_or_default();
        let pvc_name = pvc.metadata.name.as_deref().unwrap_or_default();
        let claim_ref = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        if claim_ref.and_then(|r| r.uid.as_deref()) != pvc.metadata.uid.as_deref() {
            let r = ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("PersistentVolumeClaim".into()),
                namespace: Some(ns.into()),
                name: Some(pvc_name.into()),
                uid: pvc.metadata.uid.clone(),
                resource_version: pvc.metadata.resource_version.clone(),
                ..Default::default()
            };
            let mut meta = json!({"resourceVersion": pv.metadata.resource_version});
            if claim_ref.is_none() {
                meta["annotations"] = json!({BOUND_BY_CONTROLLER: "yes"});
            }
            let patch = json!({"metadata": meta, "spec": {"claimRef": r}});
            self.volume_api()
                .patch(pv_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        if volume_phase(pv) != "Bound" {
            self.patch_volume_status(pv_name, json!({"phase": "Bound"}))
                .await?;
        }
        let bound_to = pvc.spec.as_ref().and_then(|s| s.volume_name.as_deref());
        if bound_to != Some(pv_name) || !annotated(&pvc.metadata, BIND_COMPLETED) {
            let mut annotations = json!({BIND_COMPLETED: "yes"});
            if bound_to.is_none_or(str::is_empty) {
                annotations[BOUND_BY_CONTROLLER] = json!("yes");
            }
            let patch = json!({
                "metadata": {"resourceVersion": pvc.metadata.resource_version, "annotations": annotations},
                "spec": {"volumeName": pv_name},
            });
            self.claim_api(ns)
                .patch(pvc_name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        let vs = pv.spec.as_ref();
        let status = json!({
            "phase": "Bound",
            "accessModes": vs.and_then(|s| s.access_modes.clone()),
            "capacity": vs.and_then(|s| s.capacity.clone()),
        });
        let current = pvc.status.as_ref().map(
            |s| json!({"phase": s.phase, "accessModes": s.access_modes, "capacity": s.capacity}),
        );
        if current.as_ref() != Some(&status) {
            self.claim_api(ns)
                .patch_status(
                    pvc_name,
                    &PatchParams::default(),
                    &Patch::Merge(&json!({"status": status})),
                )
                .await?;
            self.events.publish(
                pv,
                EventType::Normal,
                "Bound",
                format!("Bound to claim {ns}/{pvc_name}"),
            );
        }
        Ok(())
    }

    async fn set_claim_phase(
        &self,
        ns: &str,
        pvc: &PersistentVolumeClaim,
        phase: &str,
    ) -> Result<(), kube::Error> {
        if claim_phase(pvc) == phase {
            return Ok(());
        }
        self.claim_api(ns)
            .patch_status(
                pvc.metadata.name.as_deref().unwrap_or_default(),
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": {"phase": phase}})),
            )
            .await?;
        Ok(())
    }

    async fn set_claim_lost(
        &self,
        pvc: &PersistentVolumeClaim,
        reason: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let ns = pvc.metadata.namespace.as_deref().unwrap_or_default();
        if claim_phase(pvc) != "Lost" {
            self.events
                .publish(pvc, EventType::Warning, reason, message.into());
        }
        self.set_claim_phase(ns, pvc, "Lost").await
    }

    async fn patch_volume_status(&self, name: &str, status: Value) -> Result<(), kube::Error> {
        self.volume_api()
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(&json!({"status": status})),
            )
            .await?;
        Ok(())
    }

    /// Whether a pod that has not finished uses the claim (the cache first, then the API, as
    /// removing the finalizer cannot be undone).
    async fn claim_in_use(&self, pvc: &PersistentVolumeClaim) -> Result<bool, kube::Error> {
        let ns = pvc.metadata.namespace.as_deref().unwrap_or_default();
        let key = key_of(&pvc.metadata);
        let uses = |p: &Pod| !is_terminated(p) && pod_claims(p).any(|k| k == key);
        if self.pods.in_namespace(ns).iter().any(|p| uses(p)) {
            return Ok(true);
        }
        let live: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        Ok(live
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .any(uses))
    }

    async fn release_claim_protection(
        &self,
        pvc: &PersistentVolumeClaim,
    ) -> Result<(), kube::Error> {
        if !has_finalizer(&pvc.metadata, PVC_PROTECTION) || self.claim_in_use(pvc).await? {
            return Ok(());
        }
        let ns = pvc.metadata.namespace.as_deref().unwrap_or_default();
        let patch = without_finalizer(&pvc.metadata, PVC_PROTECTION);
        self.claim_api(ns)
            .patch(
                pvc.metadata.name.as_deref().unwrap_or_default(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        Ok(())
    }

    /// The claim a volume refers to: the cache, else the API (a new claim may not be cached yet).
    async fn referenced_claim(
        &self,
        r: &ObjectReference,
    ) -> Result<Option<Arc<PersistentVolumeClaim>>, kube::Error> {
        let ns = r.namespace.as_deref().unwrap_or_default();
        let name = r.name.as_deref().unwrap_or_default();
        if let Some(c) = self.claims.get_in(ns, name) {
            if c.metadata.uid == r.uid {
                return Ok(Some(c));
            }
        }
        Ok(self.claim_api(ns).get_opt(name).await?.map(Arc::new))
    }

    async fn sync_volume(&self, name: &str) -> Result<(), kube::Error> {
        let Some(pv) = self.volumes.get(name) else {
            return Ok(());
        };
        let claim_ref = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        let phase = volume_phase(&pv);
        let claim = match claim_ref.filter(|r| r.uid.as_deref().is_some_and(|u| !u.is_empty())) {
            Some(r) => self
                .referenced_claim(r)
                .await?
                .filter(|c| c.metadata.uid == r.uid),
            None => None,
        };
        let bound_claim = claim
            .as_ref()
            .filter(|c| c.spec.as_ref().and_then(|s| s.volume_name.as_deref()) == Some(name));
        if pv.metadata.deletion_timestamp.is_some() {
            if has_finalizer(&pv.metadata, PV_PROTECTION) && bound_claim.is_none() {
                let patch = without_finalizer(&pv.metadata, PV_PROTECTION);
                self.volume_api()
                    .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?;
            }
            return Ok(());
        }
        let want = match (claim_ref, &claim) {
            (None, _) => "Available",
            // claimed in advance by name: waits for that claim
            (Some(r), _) if r.uid.as_deref().is_none_or(str::is_empty) => "Available",
            (Some(_), None) => "Released",
            (Some(_), Some(_)) if bound_claim.is_some() => "Bound",
            // the claim is being bound (its sync finishes the job)
            (Some(_), Some(c)) => {
                self.claim_queue.add(key_of(&c.metadata));
                return Ok(());
            }
        };
        if phase == want || (want == "Released" && phase == "Failed") {
            return Ok(());
        }
        self.patch_volume_status(name, json!({"phase": want}))
            .await?;
        if want == "Released" {
            let policy = pv
                .spec
                .as_ref()
                .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
                .unwrap_or("Retain");
            tracing::info!(volume = name, policy, "volume released by its claim");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_name_their_claims_by_namespace() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "web"},
            "spec": {"containers": [], "volumes": [
                {"name": "a", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "b", "emptyDir": {}}]}}))
        .unwrap();
        assert_eq!(pod_claims(&pod).collect::<Vec<_>>(), vec!["web/data"]);
    }
}
