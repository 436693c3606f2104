//! The k8s-openapi type behind every served kind, as a schema generator entry.

use k8s_openapi::api::{
    apps::v1 as apps, authentication::v1 as authn, authorization::v1 as authz,
    autoscaling::v1 as autoscaling, batch::v1 as batch, coordination::v1 as coordination,
    core::v1 as core, discovery::v1 as discovery, events::v1 as events,
    networking::v1 as networking, policy::v1 as policy, rbac::v1 as rbac,
    scheduling::v1 as scheduling, storage::v1 as storage,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use schemars::{JsonSchema, SchemaGenerator};

/// Adds one type's schema (and everything it references) to a generator.
pub type AddFn = fn(&mut SchemaGenerator);

/// A top-level kind: group, version, kind and how to generate its schema.
pub struct KindEntry {
    /// API group; empty for core.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Kind name.
    pub kind: &'static str,
    /// Definition name in the OpenAPI documents.
    pub definition: &'static str,
    /// Generator entry.
    pub add: AddFn,
}

fn add<T: JsonSchema>(gen: &mut SchemaGenerator) {
    gen.subschema_for::<T>();
}

macro_rules! kinds {
    ($($group:literal $version:literal $kind:literal => $ty:ty, $def:literal;)*) => {
        /// Every kind with a schema: served kinds, subresource kinds and meta kinds.
        pub static KINDS: &[KindEntry] = &[
            $(KindEntry { group: $group, version: $version, kind: $kind, definition: $def, add: add::<$ty> },)*
        ];
    };
}

kinds! {
    "" "v1" "Binding" => core::Binding, "io.k8s.api.core.v1.Binding";
    "authentication.k8s.io" "v1" "SelfSubjectReview" => authn::SelfSubjectReview, "io.k8s.api.authentication.v1.SelfSubjectReview";
    "authorization.k8s.io" "v1" "LocalSubjectAccessReview" => authz::LocalSubjectAccessReview, "io.k8s.api.authorization.v1.LocalSubjectAccessReview";
    "authorization.k8s.io" "v1" "SelfSubjectAccessReview" => authz::SelfSubjectAccessReview, "io.k8s.api.authorization.v1.SelfSubjectAccessReview";
    "authorization.k8s.io" "v1" "SelfSubjectRulesReview" => authz::SelfSubjectRulesReview, "io.k8s.api.authorization.v1.SelfSubjectRulesReview";
    "authorization.k8s.io" "v1" "SubjectAccessReview" => authz::SubjectAccessReview, "io.k8s.api.authorization.v1.SubjectAccessReview";
    "" "v1" "ConfigMap" => core::ConfigMap, "io.k8s.api.core.v1.ConfigMap";
    "" "v1" "Endpoints" => core::Endpoints, "io.k8s.api.core.v1.Endpoints";
    "" "v1" "Event" => core::Event, "io.k8s.api.core.v1.Event";
    "" "v1" "LimitRange" => core::LimitRange, "io.k8s.api.core.v1.LimitRange";
    "" "v1" "Namespace" => core::Namespace, "io.k8s.api.core.v1.Namespace";
    "" "v1" "Node" => core::Node, "io.k8s.api.core.v1.Node";
    "" "v1" "PersistentVolumeClaim" => core::PersistentVolumeClaim, "io.k8s.api.core.v1.PersistentVolumeClaim";
    "" "v1" "PersistentVolume" => core::PersistentVolume, "io.k8s.api.core.v1.PersistentVolume";
    "" "v1" "Pod" => core::Pod, "io.k8s.api.core.v1.Pod";
    "" "v1" "PodTemplate" => core::PodTemplate, "io.k8s.api.core.v1.PodTemplate";
    "" "v1" "ReplicationController" => core::ReplicationController, "io.k8s.api.core.v1.ReplicationController";
    "" "v1" "ResourceQuota" => core::ResourceQuota, "io.k8s.api.core.v1.ResourceQuota";
    "" "v1" "Secret" => core::Secret, "io.k8s.api.core.v1.Secret";
    "" "v1" "ServiceAccount" => core::ServiceAccount, "io.k8s.api.core.v1.ServiceAccount";
    "" "v1" "Service" => core::Service, "io.k8s.api.core.v1.Service";
    "apps" "v1" "ControllerRevision" => apps::ControllerRevision, "io.k8s.api.apps.v1.ControllerRevision";
    "apps" "v1" "DaemonSet" => apps::DaemonSet, "io.k8s.api.apps.v1.DaemonSet";
    "apps" "v1" "Deployment" => apps::Deployment, "io.k8s.api.apps.v1.Deployment";
    "apps" "v1" "ReplicaSet" => apps::ReplicaSet, "io.k8s.api.apps.v1.ReplicaSet";
    "apps" "v1" "StatefulSet" => apps::StatefulSet, "io.k8s.api.apps.v1.StatefulSet";
    "batch" "v1" "CronJob" => batch::CronJob, "io.k8s.api.batch.v1.CronJob";
    "batch" "v1" "Job" => batch::Job, "io.k8s.api.batch.v1.Job";
    "coordination.k8s.io" "v1" "Lease" => coordination::Lease, "io.k8s.api.coordination.v1.Lease";
    "discovery.k8s.io" "v1" "EndpointSlice" => discovery::EndpointSlice, "io.k8s.api.discovery.v1.EndpointSlice";
    "events.k8s.io" "v1" "Event" => events::Event, "io.k8s.api.events.v1.Event";
    "networking.k8s.io" "v1" "IngressClass" => networking::IngressClass, "io.k8s.api.networking.v1.IngressClass";
    "networking.k8s.io" "v1" "Ingress" => networking::Ingress, "io.k8s.api.networking.v1.Ingress";
    "networking.k8s.io" "v1" "NetworkPolicy" => networking::NetworkPolicy, "io.k8s.api.networking.v1.NetworkPolicy";
    "policy" "v1" "PodDisruptionBudget" => policy::PodDisruptionBudget, "io.k8s.api.policy.v1.PodDisruptionBudget";
    "policy" "v1" "Eviction" => policy::Eviction, "io.k8s.api.policy.v1.Eviction";
    "rbac.authorization.k8s.io" "v1" "ClusterRoleBinding" => rbac::ClusterRoleBinding, "io.k8s.api.rbac.v1.ClusterRoleBinding";
    "rbac.authorization.k8s.io" "v1" "ClusterRole" => rbac::ClusterRole, "io.k8s.api.rbac.v1.ClusterRole";
    "rbac.authorization.k8s.io" "v1" "RoleBinding" => rbac::RoleBinding, "io.k8s.api.rbac.v1.RoleBinding";
    "rbac.authorization.k8s.io" "v1" "Role" => rbac::Role, "io.k8s.api.rbac.v1.Role";
    "scheduling.k8s.io" "v1" "PriorityClass" => scheduling::PriorityClass, "io.k8s.api.scheduling.v1.PriorityClass";
    "storage.k8s.io" "v1" "StorageClass" => storage::StorageClass, "io.k8s.api.storage.v1.StorageClass";
    "autoscaling" "v1" "Scale" => autoscaling::Scale, "io.k8s.api.autoscaling.v1.Scale";
    "authentication.k8s.io" "v1" "TokenRequest" => authn::TokenRequest, "io.k8s.api.authentication.v1.TokenRequest";
    "" "v1" "Status" => meta::Status, "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
    "" "v1" "DeleteOptions" => meta::DeleteOptions, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
    "" "v1" "WatchEvent" => meta::WatchEvent<()>, "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";
    "" "v1" "APIResourceList" => meta::APIResourceList, "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList";
}

/// Meta types every document carries besides the kinds (`Patch`, `Time`, …).
pub fn add_meta_types(gen: &mut SchemaGenerator) {
    add::<meta::Patch>(gen);
    add::<meta::Time>(gen);
    add::<meta::MicroTime>(gen);
    add::<meta::ListMeta>(gen);
    add::<meta::ObjectMeta>(gen);
    add::<k8s_openapi::apimachinery::pkg::api::resource::Quantity>(gen);
    add::<k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>(gen);
}

/// The entry for a group/version/kind.
pub fn find(group: &str, version: &str, kind: &str) -> Option<&'static KindEntry> {
    KINDS
        .iter()
        .find(|k| k.group == group && k.version == version && k.kind == kind)
}
