//! The scheduler's writes: volume pre-binding, bindings, PodScheduled conditions, nominations and victim deletion.

use crate::plugins::volume_binding;
use k8s_openapi::api::core::v1::{
    Binding, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::Api;
use serde_json::json;
use skiff_client::storage::{BOUND_BY_CONTROLLER, SELECTED_NODE};

/// Errors writing to the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The binding was refused or failed.
    #[error("binding {pod} to {node}: {source}")]
    Bind {
        /// `namespace/name` of the pod.
        pod: String,
        /// The chosen node.
        node: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// The pod's status could not be patched.
    #[error("updating the status of {pod}: {source}")]
    Status {
        /// `namespace/name` of the pod.
        pod: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// A victim could not be deleted.
    #[error("deleting victim {pod}: {source}")]
    Delete {
        /// `namespace/name` of the pod.
        pod: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

/// Results of API writes.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    fn source_code(&self) -> Option<u16> {
        let (Error::Bind { source, .. }
        | Error::Status { source, .. }
        | Error::Delete { source, .. }) = self;
        match source {
            kube::Error::Api(s) => Some(s.code),
            _ => None,
        }
    }

    /// Whether the API answered 404 (the pod is gone).
    pub fn is_not_found(&self) -> bool {
        self.source_code() == Some(404)
    }

    /// Whether the API answered 409 (bound elsewhere, or being deleted).
    pub fn is_conflict(&self) -> bool {
        self.source_code() == Some(409)
    }
}

fn names(pod: &Pod) -> (&str, &str) {
    (
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or_default(),
    )
}

/// Writes what the pod's delayed claims need before it is bound (the VolumeBinding PreBind).
pub async fn prebind_volumes(
    client: &kube::Client,
    pod: &Pod,
    node: &str,
    writes: &[volume_binding::Write],
) -> Result<()> {
    let fail = |source| Error::Bind {
        pod: format!("{}/{}", names(pod).0, names(pod).1),
        node: node.to_string(),
        source,
    };
    for w in writes {
        match w {
            volume_binding::Write::ClaimVolume {
                volume,
                resource_version,
                claim: (ns, name, uid),
            } => {
                let api: Api<PersistentVolume> = Api::all(client.clone());
                let patch = json!({
                    "metadata": {"resourceVersion": resource_version,
                                 "annotations": {BOUND_BY_CONTROLLER: "yes"}},
                    "spec": {"claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                          "namespace": ns, "name": name, "uid": uid}},
                });
                api.patch(volume, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(fail)?;
            }
            volume_binding::Write::SelectNode {
                claim: (ns, name),
                node,
            } => {
                let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
                let patch = json!({"metadata": {"annotations": {SELECTED_NODE: node}}});
                api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(fail)?;
            }
        }
    }
    Ok(())
}

/// POSTs a Binding of `pod` to `node`.
pub async fn bind(client: &kube::Client, pod: &Pod, node: &str) -> Result<()> {
    let (ns, name) = names(pod);
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let binding = Binding {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(ns.to_string()),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        },
        target: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node.to_string()),
            ..Default::default()
        },
    };
    api.create_subresource::<_, serde_json::Value>(
        "binding",
        name,
        &PostParams::default(),
        &binding,
    )
    .await
    .map(drop)
    .map_err(|source| Error::Bind {
        pod: format!("{ns}/{name}"),
        node: node.to_string(),
        source,
    })
}

/// The status patch setting `PodScheduled=False`, or `None` when the pod already says so.
pub fn unschedulable_patch(
    pod: &Pod,
    message: &str,
    nominated: Option<&str>,
) -> Option<serde_json::Value> {
    let status = pod.status.as_ref();
    let current = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"));
    let same = current.is_some_and(|c| {
        c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
            && c.message.as_deref() == Some(message)
    });
    let current_nominated = status.and_then(|s| s.nominated_node_name.as_deref());
    if same && (nominated.is_none() || nominated == current_nominated) {
        return None;
    }
    let transition = match current {
        Some(c) if c.status == "False" => c.last_transition_time.as_ref().map(|t| json!(t)),
        _ => None,
    }
    .unwrap_or_else(|| {
        json!(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now()
        ))
    });
    let mut patch = json!({"status": {"conditions": [{
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
        "lastProbeTime": null,
        "lastTransitionTime": transition,
    }]}});
    if let Some(n) = nominated {
        patch["status"]["nominatedNodeName"] = json!(n);
    }
    Some(patch)
}

/// Applies a strategic-merge patch to the pod's status.
pub async fn patch_status(
    client: &kube::Client,
    pod: &Pod,
    patch: &serde_json::Value,
) -> Result<()> {
    let (ns, name) = names(pod);
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    api.patch_status(name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .map(drop)
        .map_err(|source| Error::Status {
            pod: format!("{ns}/{name}"),
            source,
        })
}

/// Clears `status.nominatedNodeName`.
pub async fn clear_nomination(client: &kube::Client, pod: &Pod) -> Result<()> {
    patch_status(client, pod, &json!({"status": {"nominatedNodeName": null}})).await
}

/// Deletes a victim gracefully, only if it is still the same pod.
pub async fn delete_victim(client: &kube::Client, pod: &Pod) -> Result<()> {
    let (ns, name) = names(pod);
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.metadata.uid.clone(),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(source) => Err(Error::Delete {
            pod: format!("{ns}/{name}"),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};

    #[test]
    fn the_condition_is_patched_only_when_it_changes() {
        let mut p = pod("a", "", "").build();
        let patch = unschedulable_patch(&p, "0/1 nodes are available: 1 Insufficient cpu.", None)
            .expect("patch");
        assert_eq!(patch["status"]["conditions"][0]["reason"], "Unschedulable");
        assert_eq!(patch["status"]["conditions"][0]["status"], "False");
        assert!(patch["status"].get("nominatedNodeName").is_none());
        p.status = Some(PodStatus {
            conditions: Some(vec![PodCondition {
                type_: "PodScheduled".into(),
                status: "False".into(),
                reason: Some("Unschedulable".into()),
                message: Some("0/1 nodes are available: 1 Insufficient cpu.".into()),
                ..Default::default()
            }]),
            ..Default::default()
        });
        assert!(
            unschedulable_patch(&p, "0/1 nodes are available: 1 Insufficient cpu.", None).is_none()
        );
        let nominated = unschedulable_patch(
            &p,
            "0/1 nodes are available: 1 Insufficient cpu.",
            Some("n1"),
        )
        .expect("nomination changes");
        assert_eq!(nominated["status"]["nominatedNodeName"], "n1");
        assert!(
            unschedulable_patch(&p, "0/2 nodes are available: 2 Insufficient cpu.", None).is_some()
        );
    }
}
