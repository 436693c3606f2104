//! Patch metadata of the named API groups' definitions.

use super::{merge_by, merge_by_atomic, Entry, FieldMeta, ATOMIC, REPLACE, RETAIN_KEYS, SET};

macro_rules! table {
    ($($def:literal { $($prop:literal: $meta:expr),* $(,)? })*) => {
        &[$($(Entry { definition: $def, property: $prop, meta: $meta },)*)*]
    };
}

const TYPE: FieldMeta = merge_by(&["type"]);

/// Rows for `apps`, `batch`, `discovery`, `networking`, `policy`, `rbac`, `storage`, ….
pub(super) static ENTRIES: &[Entry] = table! {
    "io.k8s.api.apps.v1.DeploymentSpec" { "strategy": RETAIN_KEYS }
    "io.k8s.api.apps.v1.DeploymentStatus" { "conditions": TYPE }
    "io.k8s.api.apps.v1.ReplicaSetStatus" { "conditions": TYPE }
    "io.k8s.api.apps.v1.DaemonSetStatus" { "conditions": TYPE }
    "io.k8s.api.apps.v1.StatefulSetSpec" { "volumeClaimTemplates": ATOMIC }
    "io.k8s.api.apps.v1.StatefulSetStatus" { "conditions": TYPE }
    "io.k8s.api.batch.v1.JobStatus" { "conditions": merge_by_atomic("type") }
    "io.k8s.api.batch.v1.PodFailurePolicy" { "rules": ATOMIC }
    "io.k8s.api.batch.v1.PodFailurePolicyRule" { "onPodConditions": ATOMIC }
    "io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement" { "values": SET }
    "io.k8s.api.batch.v1.SuccessPolicy" { "rules": ATOMIC }
    "io.k8s.api.batch.v1.CronJobStatus" { "active": ATOMIC }
    "io.k8s.api.discovery.v1.EndpointSlice" { "endpoints": ATOMIC, "ports": ATOMIC }
    "io.k8s.api.discovery.v1.Endpoint" { "addresses": SET }
    "io.k8s.api.discovery.v1.EndpointHints" { "forZones": ATOMIC }
    "io.k8s.api.networking.v1.IngressSpec" { "tls": ATOMIC, "rules": ATOMIC }
    "io.k8s.api.networking.v1.IngressTLS" { "hosts": ATOMIC }
    "io.k8s.api.networking.v1.HTTPIngressRuleValue" { "paths": ATOMIC }
    "io.k8s.api.networking.v1.IngressLoadBalancerStatus" { "ingress": ATOMIC }
    "io.k8s.api.networking.v1.IngressLoadBalancerIngress" { "ports": ATOMIC }
    "io.k8s.api.networking.v1.NetworkPolicySpec" {
        "ingress": ATOMIC, "egress": ATOMIC, "policyTypes": ATOMIC,
    }
    "io.k8s.api.networking.v1.NetworkPolicyIngressRule" { "ports": ATOMIC, "from": ATOMIC }
    "io.k8s.api.networking.v1.NetworkPolicyEgressRule" { "ports": ATOMIC, "to": ATOMIC }
    "io.k8s.api.policy.v1.PodDisruptionBudgetSpec" { "selector": REPLACE }
    "io.k8s.api.policy.v1.PodDisruptionBudgetStatus" { "conditions": TYPE }
    "io.k8s.api.rbac.v1.ClusterRole" { "rules": ATOMIC }
    "io.k8s.api.rbac.v1.Role" { "rules": ATOMIC }
    "io.k8s.api.rbac.v1.AggregationRule" { "clusterRoleSelectors": ATOMIC }
    "io.k8s.api.rbac.v1.PolicyRule" {
        "verbs": ATOMIC, "apiGroups": ATOMIC, "resources": ATOMIC,
        "resourceNames": ATOMIC, "nonResourceURLs": ATOMIC,
    }
    "io.k8s.api.rbac.v1.ClusterRoleBinding" { "subjects": ATOMIC }
    "io.k8s.api.rbac.v1.RoleBinding" { "subjects": ATOMIC }
    "io.k8s.api.storage.v1.StorageClass" { "mountOptions": ATOMIC, "allowedTopologies": ATOMIC }
    "io.k8s.api.authentication.v1.TokenRequestSpec" { "audiences": ATOMIC }
};
