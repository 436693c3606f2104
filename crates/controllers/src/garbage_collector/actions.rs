//! The collector's writes and live reads, through the dynamic API: delete with a uid
//! precondition, drop owner references, drop a finalizer, look an owner up.

use super::graph::{Node, FOREGROUND};
use super::resources::{self, WATCHED};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams, Preconditions, PropagationPolicy};

/// Errors talking to the API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request failed.
    #[error("{0}")]
    Api(#[from] kube::Error),
}

/// Result of a collector action.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a live read says about an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerState {
    /// It exists and is not waiting for its dependents.
    Solid,
    /// It exists, is being deleted and waits for its dependents (foreground).
    Waiting,
    /// It is gone (or was replaced by an object with another uid).
    Dangling,
    /// Its kind is not one the collector knows; it is left alone.
    Unknown,
}

fn api(client: &kube::Client, resource: usize, namespace: &str) -> Api<DynamicObject> {
    let w = &WATCHED[resource];
    if w.namespaced {
        Api::namespaced_with(client.clone(), namespace, &w.resource)
    } else {
        Api::all_with(client.clone(), &w.resource)
    }
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// Reads the owner a reference names, from the dependent's namespace.
pub async fn owner_state(
    client: &kube::Client,
    namespace: &str,
    owner: &OwnerReference,
) -> Result<OwnerState> {
    let Some(resource) = resources::find(&owner.api_version, &owner.kind) else {
        return Ok(OwnerState::Unknown);
    };
    match api(client, resource, namespace)
        .get_opt(&owner.name)
        .await?
    {
        Some(o) if o.metadata.uid.as_deref() == Some(owner.uid.as_str()) => {
            let waiting = o.metadata.deletion_timestamp.is_some()
                && o.metadata
                    .finalizers
                    .iter()
                    .flatten()
                    .any(|f| f == FOREGROUND);
            Ok(if waiting {
                OwnerState::Waiting
            } else {
                OwnerState::Solid
            })
        }
        _ => Ok(OwnerState::Dangling),
    }
}

/// Deletes an object if it still has the node's uid.
pub async fn delete(client: &kube::Client, node: &Node, policy: PropagationPolicy) -> Result<()> {
    let params = DeleteParams {
        propagation_policy: Some(policy),
        preconditions: Some(Preconditions {
            uid: Some(node.uid.clone()),
            resource_version: None,
        }),
        ..Default::default()
    };
    match api(client, node.resource, &node.namespace)
        .delete(&node.name, &params)
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, 404) || is_status(&e, 409) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Reads the object, lets `change` edit it, and writes it back; retries on conflicts.
async fn edit(
    client: &kube::Client,
    node: &Node,
    change: impl Fn(&mut DynamicObject) -> bool,
) -> Result<()> {
    let api = api(client, node.resource, &node.namespace);
    loop {
        let Some(mut obj) = api.get_opt(&node.name).await? else {
            return Ok(());
        };
        if obj.metadata.uid.as_deref() != Some(node.uid.as_str()) || !change(&mut obj) {
            return Ok(());
        }
        match api.replace(&node.name, &PostParams::default(), &obj).await {
            Ok(_) => return Ok(()),
            Err(e) if is_status(&e, 409) => continue,
            Err(e) if is_status(&e, 404) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Removes the owner references to `owner_uids` from an object.
pub async fn remove_owners(
    client: &kube::Client,
    node: &Node,
    owner_uids: &[String],
) -> Result<()> {
    edit(client, node, |obj| {
        let Some(refs) = obj.metadata.owner_references.as_mut() else {
            return false;
        };
        let before = refs.len();
        refs.retain(|r| !owner_uids.contains(&r.uid));
        refs.len() != before
    })
    .await
}

/// Removes `finalizer` from an object (the server deletes it once none is left).
pub async fn remove_finalizer(client: &kube::Client, node: &Node, finalizer: &str) -> Result<()> {
    edit(client, node, |obj| {
        let Some(fs) = obj.metadata.finalizers.as_mut() else {
            return false;
        };
        let before = fs.len();
        fs.retain(|f| f != finalizer);
        fs.len() != before
    })
    .await
}
