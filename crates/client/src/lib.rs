//! Client-side machinery shared by Skiff's control loops (scheduler, controllers, agents):
//! API clients from kubeconfig files, shared informers with indexes, work queues with
//! backoff, Lease-based leader election and an Event recorder. Everything talks to the API
//! through kube-rs, as an external operator would.

pub mod events;
pub mod informer;
pub mod kubeconfig;
pub mod leader;
pub mod quantity;
pub mod queue;
pub mod shared;
pub mod storage;

pub use events::{EventRecorder, EventType};
pub use informer::{Change, Informer, Store};
pub use kubeconfig::client_from_kubeconfig;
pub use leader::LeaderElector;
pub use queue::WorkQueue;
pub use shared::SharedInformers;

/// `namespace/name` (or `name` for cluster-scoped objects): the key queues and stores use.
pub fn key_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    let name = meta.name.as_deref().unwrap_or_default();
    match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// Splits a key made by [`key_of`] into namespace (empty for cluster-scoped) and name.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}
