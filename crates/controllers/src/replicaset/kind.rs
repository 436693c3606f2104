//! What the replica controller needs from ReplicaSets and ReplicationControllers.

use crate::Informers;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use serde::de::DeserializeOwned;
use serde::Serialize;
use skiff_client::Informer;
use std::fmt::Debug;

/// A kind that keeps a number of pods from a template.
pub trait Replicated:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + DeserializeOwned
    + Serialize
    + Debug
    + Send
    + Sync
    + 'static
{
    /// `ReplicaSet` or `ReplicationController`.
    const KIND: &'static str;
    /// The owner reference apiVersion.
    const API_VERSION: &'static str;
    /// The event source name.
    const COMPONENT: &'static str;
    /// The informer of this kind.
    fn informer(informers: &Informers) -> &Informer<Self>;
    /// Desired replicas (default 1).
    fn replicas(&self) -> i32;
    /// The pod selector.
    fn selector(&self) -> LabelSelector;
    /// The pod template.
    fn template(&self) -> Option<&PodTemplateSpec>;
    /// Seconds a pod must be Ready to count as available.
    fn min_ready_seconds(&self) -> i32;
    /// The current status as JSON (to compare before writing).
    fn status_json(&self) -> serde_json::Value;
}

impl Replicated for ReplicaSet {
    const KIND: &'static str = "ReplicaSet";
    const API_VERSION: &'static str = "apps/v1";
    const COMPONENT: &'static str = "replicaset-controller";
    fn informer(informers: &Informers) -> &Informer<Self> {
        &informers.replica_sets
    }
    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn selector(&self) -> LabelSelector {
        self.spec
            .as_ref()
            .map(|s| s.selector.clone())
            .unwrap_or_default()
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref()?.template.as_ref()
    }
    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }
    fn status_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.status).unwrap_or_default()
    }
}

impl Replicated for ReplicationController {
    const KIND: &'static str = "ReplicationController";
    const API_VERSION: &'static str = "v1";
    const COMPONENT: &'static str = "replication-controller";
    fn informer(informers: &Informers) -> &Informer<Self> {
        &informers.replication_controllers
    }
    fn replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }
    fn selector(&self) -> LabelSelector {
        LabelSelector {
            match_labels: self.spec.as_ref().and_then(|s| s.selector.clone()),
            match_expressions: None,
        }
    }
    fn template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref()?.template.as_ref()
    }
    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }
    fn status_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.status).unwrap_or_default()
    }
}
