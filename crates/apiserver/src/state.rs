//! Shared state of a running API server.

use crate::namespace_cache::NamespaceCache;
use crate::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared state of a running API server.
pub struct Api {
    /// Objects in the store.
    pub registry: Registry,
    /// Namespace phases for admission, fed by a watch.
    pub namespaces: NamespaceCache,
    /// Serializes Service IP and port allocation.
    pub service_alloc: tokio::sync::Mutex<()>,
    /// `host:port` clients reach the server at.
    pub server_address: String,
    /// Watch events decoded and rendered once for all watchers.
    pub watch_cache: crate::watch_cache::WatchCache,
    /// TLS for calling kubelets (client certificate `kube-apiserver-kubelet-client`).
    pub kubelet_tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// Admits nodes presenting the node token (none: joining is off).
    pub join: Option<crate::join::JoinAuthority>,
    pub(crate) ready: AtomicBool,
}

impl Api {
    /// Whether start-up has finished.
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}
