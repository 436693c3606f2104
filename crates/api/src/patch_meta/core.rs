//! Patch metadata of `core/v1` and `meta/v1` definitions.

use super::{
    map_by, merge_by, merge_by_atomic, merge_by_keys, Entry, FieldMeta, ATOMIC, MERGE_SET,
};

macro_rules! table {
    ($($def:literal { $($prop:literal: $meta:expr),* $(,)? })*) => {
        &[$($(Entry { definition: $def, property: $prop, meta: $meta },)*)*]
    };
}

const NAME: FieldMeta = merge_by(&["name"]);
const TYPE: FieldMeta = merge_by(&["type"]);
const CONTAINER_PORTS: FieldMeta = merge_by_keys("containerPort", &["containerPort", "protocol"]);

/// Rows for `io.k8s.api.core.v1.*` and `io.k8s.apimachinery.pkg.apis.meta.v1.*`.
pub(super) static ENTRIES: &[Entry] = table! {
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
        "finalizers": MERGE_SET,
        "ownerReferences": merge_by(&["uid"]),
        "managedFields": ATOMIC,
    }
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector" { "matchExpressions": ATOMIC }
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement" { "values": ATOMIC }
    "io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails" { "causes": ATOMIC }
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions" { "dryRun": ATOMIC }
    "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList" { "resources": ATOMIC }
    "io.k8s.api.core.v1.PodSpec" {
        "volumes": FieldMeta { patch_strategy: Some("merge,retainKeys"), ..NAME },
        "initContainers": NAME,
        "containers": NAME,
        "ephemeralContainers": NAME,
        "imagePullSecrets": NAME,
        "hostAliases": merge_by(&["ip"]),
        "tolerations": ATOMIC,
        "topologySpreadConstraints": merge_by_keys("topologyKey", &["topologyKey", "whenUnsatisfiable"]),
        "readinessGates": ATOMIC,
        "resourceClaims": FieldMeta { patch_strategy: Some("merge,retainKeys"), ..NAME },
        "schedulingGates": NAME,
    }
    "io.k8s.api.core.v1.Container" {
        "command": ATOMIC, "args": ATOMIC, "ports": CONTAINER_PORTS, "envFrom": ATOMIC,
        "env": NAME, "volumeMounts": merge_by(&["mountPath"]),
        "volumeDevices": merge_by(&["devicePath"]), "resizePolicy": ATOMIC,
    }
    "io.k8s.api.core.v1.EphemeralContainer" {
        "command": ATOMIC, "args": ATOMIC, "ports": CONTAINER_PORTS, "envFrom": ATOMIC,
        "env": NAME, "volumeMounts": merge_by(&["mountPath"]),
        "volumeDevices": merge_by(&["devicePath"]), "resizePolicy": ATOMIC,
    }
    "io.k8s.api.core.v1.ResourceRequirements" { "claims": map_by(&["name"]) }
    "io.k8s.api.core.v1.Capabilities" { "add": ATOMIC, "drop": ATOMIC }
    "io.k8s.api.core.v1.ExecAction" { "command": ATOMIC }
    "io.k8s.api.core.v1.HTTPGetAction" { "httpHeaders": ATOMIC }
    "io.k8s.api.core.v1.PodSecurityContext" {
        "supplementalGroups": ATOMIC, "sysctls": ATOMIC,
    }
    "io.k8s.api.core.v1.PodDNSConfig" {
        "nameservers": ATOMIC, "searches": ATOMIC, "options": ATOMIC,
    }
    "io.k8s.api.core.v1.HostAlias" { "hostnames": ATOMIC }
    "io.k8s.api.core.v1.TopologySpreadConstraint" { "matchLabelKeys": ATOMIC }
    "io.k8s.api.core.v1.NodeSelector" { "nodeSelectorTerms": ATOMIC }
    "io.k8s.api.core.v1.NodeSelectorTerm" { "matchExpressions": ATOMIC, "matchFields": ATOMIC }
    "io.k8s.api.core.v1.NodeSelectorRequirement" { "values": ATOMIC }
    "io.k8s.api.core.v1.NodeAffinity" { "preferredDuringSchedulingIgnoredDuringExecution": ATOMIC }
    "io.k8s.api.core.v1.PodAffinity" {
        "requiredDuringSchedulingIgnoredDuringExecution": ATOMIC,
        "preferredDuringSchedulingIgnoredDuringExecution": ATOMIC,
    }
    "io.k8s.api.core.v1.PodAntiAffinity" {
        "requiredDuringSchedulingIgnoredDuringExecution": ATOMIC,
        "preferredDuringSchedulingIgnoredDuringExecution": ATOMIC,
    }
    "io.k8s.api.core.v1.PodAffinityTerm" {
        "namespaces": ATOMIC, "matchLabelKeys": ATOMIC, "mismatchLabelKeys": ATOMIC,
    }
    "io.k8s.api.core.v1.ConfigMapVolumeSource" { "items": ATOMIC }
    "io.k8s.api.core.v1.SecretVolumeSource" { "items": ATOMIC }
    "io.k8s.api.core.v1.ConfigMapProjection" { "items": ATOMIC }
    "io.k8s.api.core.v1.SecretProjection" { "items": ATOMIC }
    "io.k8s.api.core.v1.DownwardAPIVolumeSource" { "items": ATOMIC }
    "io.k8s.api.core.v1.DownwardAPIProjection" { "items": ATOMIC }
    "io.k8s.api.core.v1.ProjectedVolumeSource" { "sources": ATOMIC }
    "io.k8s.api.core.v1.PodStatus" {
        "conditions": TYPE,
        "podIPs": merge_by(&["ip"]),
        "hostIPs": merge_by_atomic("ip"),
        "initContainerStatuses": ATOMIC,
        "containerStatuses": ATOMIC,
        "ephemeralContainerStatuses": ATOMIC,
        "resourceClaimStatuses": FieldMeta { patch_strategy: Some("merge,retainKeys"), ..NAME },
    }
    "io.k8s.api.core.v1.ContainerStatus" {
        "volumeMounts": merge_by(&["mountPath"]),
        "allocatedResourcesStatus": NAME,
    }
    "io.k8s.api.core.v1.ResourceStatus" { "resources": map_by(&["resourceID"]) }
    "io.k8s.api.core.v1.NodeSpec" { "podCIDRs": MERGE_SET, "taints": ATOMIC }
    "io.k8s.api.core.v1.NodeStatus" {
        "conditions": TYPE, "addresses": TYPE, "images": ATOMIC,
        "volumesInUse": ATOMIC, "volumesAttached": ATOMIC,
    }
    "io.k8s.api.core.v1.ContainerImage" { "names": ATOMIC }
    "io.k8s.api.core.v1.ServiceSpec" {
        "ports": merge_by_keys("port", &["port", "protocol"]),
        "clusterIPs": ATOMIC, "externalIPs": ATOMIC, "ipFamilies": ATOMIC,
        "loadBalancerSourceRanges": ATOMIC,
    }
    "io.k8s.api.core.v1.ServiceStatus" { "conditions": TYPE }
    "io.k8s.api.core.v1.LoadBalancerStatus" { "ingress": ATOMIC }
    "io.k8s.api.core.v1.LoadBalancerIngress" { "ports": ATOMIC }
    "io.k8s.api.core.v1.ServiceAccount" { "secrets": NAME, "imagePullSecrets": ATOMIC }
    "io.k8s.api.core.v1.Endpoints" { "subsets": ATOMIC }
    "io.k8s.api.core.v1.EndpointSubset" {
        "addresses": ATOMIC, "notReadyAddresses": ATOMIC, "ports": ATOMIC,
    }
    "io.k8s.api.core.v1.NamespaceSpec" { "finalizers": ATOMIC }
    "io.k8s.api.core.v1.NamespaceStatus" { "conditions": TYPE }
    "io.k8s.api.core.v1.PersistentVolumeClaimSpec" { "accessModes": ATOMIC }
    "io.k8s.api.core.v1.PersistentVolumeClaimStatus" {
        "conditions": TYPE, "accessModes": ATOMIC,
    }
    "io.k8s.api.core.v1.PersistentVolumeSpec" { "accessModes": ATOMIC, "mountOptions": ATOMIC }
    "io.k8s.api.core.v1.ReplicationControllerStatus" { "conditions": TYPE }
    "io.k8s.api.core.v1.LimitRangeSpec" { "limits": ATOMIC }
    "io.k8s.api.core.v1.ResourceQuotaSpec" { "scopes": ATOMIC }
    "io.k8s.api.core.v1.ScopeSelector" { "matchExpressions": ATOMIC }
    "io.k8s.api.core.v1.ScopedResourceSelectorRequirement" { "values": ATOMIC }
    "io.k8s.api.core.v1.TopologySelectorTerm" { "matchLabelExpressions": ATOMIC }
    "io.k8s.api.core.v1.TopologySelectorLabelRequirement" { "values": ATOMIC }
};

/// Definitions upstream marks `x-kubernetes-map-type: atomic`.
pub(super) static ATOMIC_STRUCTS: &[&str] = &[
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.api.core.v1.TypedObjectReference",
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ConfigMapEnvSource",
    "io.k8s.api.core.v1.SecretEnvSource",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.TopologySelectorTerm",
    "io.k8s.api.core.v1.ScopeSelector",
    "io.k8s.api.core.v1.SecretReference",
    "io.k8s.api.core.v1.ConfigMapNodeConfigSource",
];
