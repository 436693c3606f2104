//! Objects every cluster starts with: system namespaces, the cluster DNS Service `kube-dns`,
//! the `kubernetes` Service with
//! Endpoints and an EndpointSlice pointing at this server, the system PriorityClasses and the
//! default StorageClass `local-path`.

use crate::error::ApiResult;
use crate::registry::Registry;
use serde_json::json;
use skiff_api::{catalogue, strategy};

/// Namespaces that exist from the start.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The cluster DNS Service's address.
pub const CLUSTER_DNS: &str = "10.43.0.10";

/// The default StorageClass, served by every node's built-in local-path provisioner (k3s's
/// names, so manifests written for k3s work unchanged).
pub const LOCAL_PATH_CLASS: &str = "local-path";

/// The host's first global IPv4 address, else loopback.
pub fn host_ipv4() -> std::net::Ipv4Addr {
    let out = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output();
    out.ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout).lines().find_map(|l| {
                let mut words = l.split_whitespace();
                words.find(|w| *w == "inet")?;
                words.next()?.split('/').next()?.parse().ok()
            })
        })
        .unwrap_or(std::net::Ipv4Addr::LOCALHOST)
}

/// Points the `kubernetes` Service at this server: Endpoints (not mirrored) and an
/// EndpointSlice named `kubernetes`, rewritten when the address changes.
pub async fn kubernetes_endpoints(reg: &Registry, address: std::net::SocketAddr) -> ApiResult<()> {
    let ip = address.ip().to_string();
    let port = address.port();
    let ep_rt = catalogue::find("", "v1", "endpoints").ok_or_else(|| {
        crate::error::ApiError::internal("endpoints are missing from the catalogue")
    })?;
    let endpoints = json!({
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": { "name": "kubernetes", "namespace": "default",
                      "labels": { "endpointslice.kubernetes.io/skip-mirror": "true" } },
        "subsets": [{ "addresses": [{ "ip": ip }],
                      "ports": [{ "name": "https", "port": port, "protocol": "TCP" }] }],
    });
    let slice_rt =
        catalogue::find("discovery.k8s.io", "v1", "endpointslices").ok_or_else(|| {
            crate::error::ApiError::internal("endpointslices are missing from the catalogue")
        })?;
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": { "name": "kubernetes", "namespace": "default",
                      "labels": { "kubernetes.io/service-name": "kubernetes" } },
        "addressType": "IPv4",
        "endpoints": [{ "addresses": [ip], "conditions": { "ready": true } }],
        "ports": [{ "name": "https", "port": port, "protocol": "TCP" }],
    });
    for (rt, obj, field) in [
        (ep_rt, endpoints, "subsets"),
        (slice_rt, slice, "endpoints"),
    ] {
        match reg.get_opt(rt, Some("default"), "kubernetes").await? {
            None => create_missing(reg, rt, Some("default"), "kubernetes", obj).await?,
            Some((old, rev)) => {
                let same = |f: &str| old.get(f) == obj.get(f);
                if same(field) && same("ports") {
                    continue;
                }
                let mut new = old.clone();
                for f in [field, "ports"] {
                    if let Some(v) = obj.get(f) {
                        new[f] = v.clone();
                    }
                }
                if let crate::registry::Cas::Conflict = reg
                    .update_at(rt, Some("default"), "kubernetes", new, rev)
                    .await?
                {
                    tracing::debug!("the kubernetes {} changed meanwhile; left as is", rt.kind);
                }
            }
        }
    }
    Ok(())
}

/// Creates an object unless it exists (another server may have just created it).
async fn create_missing(
    reg: &Registry,
    rt: &'static skiff_api::ResourceType,
    namespace: Option<&str>,
    name: &str,
    mut obj: serde_json::Value,
) -> ApiResult<()> {
    crate::meta::prepare_create(&mut obj)?;
    strategy::default(rt, &mut obj);
    strategy::prepare_for_create(rt, &mut obj);
    match reg.create(rt, namespace, name, obj).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates the system namespaces, the `kubernetes` Service, the system PriorityClasses and the
/// default StorageClass if they are missing.
pub async fn ensure_defaults(reg: &Registry) -> ApiResult<()> {
    let ns_rt = catalogue::namespaces();
    for name in SYSTEM_NAMESPACES {
        if reg.get_opt(ns_rt, None, name).await?.is_some() {
            continue;
        }
        let obj = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": name, "labels": { "kubernetes.io/metadata.name": name } },
        });
        create_missing(reg, ns_rt, None, name, obj).await?;
    }
    let svc_rt = catalogue::services();
    if reg
        .get_opt(svc_rt, Some("default"), "kubernetes")
        .await?
        .is_none()
    {
        let svc = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "kubernetes", "namespace": "default",
                          "labels": { "component": "apiserver", "provider": "kubernetes" } },
            "spec": {
                "type": "ClusterIP", "clusterIP": "10.43.0.1", "clusterIPs": ["10.43.0.1"],
                "ports": [{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443 }],
                "sessionAffinity": "None",
            },
        });
        create_missing(reg, svc_rt, Some("default"), "kubernetes", svc).await?;
    }
    if reg
        .get_opt(svc_rt, Some("kube-system"), "kube-dns")
        .await?
        .is_none()
    {
        // cluster DNS: every agent serves it on its pod gateway and adds itself as an endpoint
        let dns = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "kube-dns", "namespace": "kube-system",
                          "labels": { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" } },
            "spec": {
                "type": "ClusterIP", "clusterIP": CLUSTER_DNS, "clusterIPs": [CLUSTER_DNS],
                "ports": [
                    { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53 },
                    { "name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53 },
                ],
                "sessionAffinity": "None",
            },
        });
        create_missing(reg, svc_rt, Some("kube-system"), "kube-dns", dns).await?;
    }
    let pc_rt = crate::admission::priority_classes()?;
    for (name, value, description) in crate::admission::SYSTEM_CLASSES {
        if reg.get_opt(pc_rt, None, name).await?.is_some() {
            continue;
        }
        let pc = json!({
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": { "name": name },
            "value": value, "description": description, "preemptionPolicy": "PreemptLowerPriority",
        });
        create_missing(reg, pc_rt, None, name, pc).await?;
    }
    let sc_rt = crate::admission::storage_classes()?;
    if reg.get_opt(sc_rt, None, LOCAL_PATH_CLASS).await?.is_none() {
        let sc = json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": { "name": LOCAL_PATH_CLASS,
                          "annotations": { "storageclass.kubernetes.io/is-default-class": "true" } },
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        });
        create_missing(reg, sc_rt, None, LOCAL_PATH_CLASS, sc).await?;
    }
    Ok(())
}
