//! The kinds the garbage collector watches, as dynamic API resources.

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Node, PersistentVolume, PersistentVolumeClaim, Pod, PodTemplate,
    ReplicationController, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::ApiResource;
use kube::Resource;
use std::sync::LazyLock;

/// One watched kind.
pub struct Watched {
    /// Group, version, kind and plural.
    pub resource: ApiResource,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

fn namespaced<K: Resource<DynamicType = ()>>() -> Watched {
    Watched {
        resource: ApiResource::erase::<K>(&()),
        namespaced: true,
    }
}

fn cluster<K: Resource<DynamicType = ()>>() -> Watched {
    Watched {
        resource: ApiResource::erase::<K>(&()),
        namespaced: false,
    }
}

/// Every kind whose objects may own or depend on others. Events are left out: they carry
/// no owner references, and watching them would double the cost of every event written.
pub static WATCHED: LazyLock<Vec<Watched>> = LazyLock::new(|| {
    vec![
        namespaced::<Pod>(),
        namespaced::<ReplicaSet>(),
        namespaced::<ReplicationController>(),
        namespaced::<Deployment>(),
        namespaced::<DaemonSet>(),
        namespaced::<StatefulSet>(),
        namespaced::<ControllerRevision>(),
        namespaced::<Job>(),
        namespaced::<CronJob>(),
        namespaced::<PersistentVolumeClaim>(),
        namespaced::<Endpoints>(),
        namespaced::<EndpointSlice>(),
        namespaced::<ConfigMap>(),
        namespaced::<Secret>(),
        namespaced::<Service>(),
        namespaced::<ServiceAccount>(),
        namespaced::<Lease>(),
        namespaced::<PodTemplate>(),
        namespaced::<PodDisruptionBudget>(),
        namespaced::<Role>(),
        namespaced::<RoleBinding>(),
        cluster::<Node>(),
        cluster::<PersistentVolume>(),
    ]
});

/// The index in [`WATCHED`] of the kind an owner reference names (`apiVersion` + `kind`).
pub fn find(api_version: &str, kind: &str) -> Option<usize> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    WATCHED
        .iter()
        .position(|w| w.resource.group == group && w.resource.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_references_resolve_by_group_and_kind() {
        let rs = find("apps/v1", "ReplicaSet").unwrap();
        assert_eq!(WATCHED[rs].resource.plural, "replicasets");
        let pod = find("v1", "Pod").unwrap();
        assert!(WATCHED[pod].namespaced);
        assert!(!WATCHED[find("v1", "Node").unwrap()].namespaced);
        assert_eq!(find("example.com/v1", "Widget"), None);
    }
}
