//! The built-in service load balancer (like k3s's ServiceLB): a LoadBalancer Service without a
//! `loadBalancerClass` is served on every Ready node's InternalIP (the node proxies DNAT
//! those addresses like external IPs), so its `status.loadBalancer.ingress` lists them. A
//! Service whose port and protocol another LoadBalancer Service already holds stays pending,
//! as two cannot listen on one node port.

use crate::{Context, Informers};
use k8s_openapi::api::core::v1::{Node, Service};
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use skiff_client::{key_of, Change, Store, WorkQueue};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Serves LoadBalancer Services on the nodes' addresses.
pub struct ServiceLbController {
    client: kube::Client,
    services: Store<Service>,
    nodes: Store<Node>,
    queue: WorkQueue<String>,
}

fn is_ours(svc: &Service) -> bool {
    let spec = svc.spec.as_ref();
    spec.and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
        && spec
            .and_then(|s| s.load_balancer_class.as_deref())
            .is_none()
        && svc.metadata.deletion_timestamp.is_none()
}

/// The (protocol, port) pairs a Service listens on.
fn ports(svc: &Service) -> BTreeSet<(String, i32)> {
    svc.spec
        .iter()
        .flat_map(|s| s.ports.iter().flatten())
        .map(|p| (p.protocol.clone().unwrap_or_else(|| "TCP".into()), p.port))
        .collect()
}

/// The InternalIPs of Ready nodes, sorted.
pub fn node_addresses(nodes: &[Arc<Node>]) -> Vec<String> {
    let mut out: Vec<String> = nodes
        .iter()
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
        })
        .flat_map(|n| n.status.iter().flat_map(|s| s.addresses.iter().flatten()))
        .filter(|a| a.type_ == "InternalIP")
        .map(|a| a.address.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether an older LoadBalancer Service already holds one of `svc`'s ports.
fn port_taken(svc: &Service, all: &[Arc<Service>]) -> bool {
    let mine = ports(svc);
    let key = |s: &Service| {
        (
            s.metadata.creation_timestamp.as_ref().map(|t| t.0),
            key_of(&s.metadata),
        )
    };
    all.iter().any(|other| {
        is_ours(other)
            && other.metadata.uid != svc.metadata.uid
            && key(other) < key(svc)
            && !ports(other).is_disjoint(&mine)
    })
}

impl ServiceLbController {
    /// Queues LoadBalancer Services as they change, and all of them when nodes change.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let q = queue.clone();
        let services = informers.services.store();
        informers.services.on_change(move |c| {
            q.add(key_of(&c.object().metadata));
            // a deleted or changed holder may free a port for another
            if matches!(c, Change::Deleted(_)) || is_ours(c.object()) {
                for s in services.list().iter().filter(|s| is_ours(s)) {
                    q.add(key_of(&s.metadata));
                }
            }
        });
        let q = queue.clone();
        let services = informers.services.store();
        informers.nodes.on_change(move |_| {
            for s in services.list().iter().filter(|s| is_ours(s)) {
                q.add(key_of(&s.metadata));
            }
        });
        ServiceLbController {
            client: ctx.client.clone(),
            services: informers.services.store(),
            nodes: informers.nodes.store(),
            queue,
        }
    }

    /// Starts the workers.
    pub fn start(self) {
        let this = Arc::new(self);
        let queue = this.queue.clone();
        queue.run_workers(2, "servicelb", move |key| {
            let this = this.clone();
            async move { this.sync(&key).await }
        });
    }

    async fn sync(&self, key: &str) -> Result<(), kube::Error> {
        let Some(svc) = self.services.get(key) else {
            return Ok(());
        };
        let current = svc
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|l| l.ingress.clone())
            .unwrap_or_default();
        let is_lb = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
        let want: Vec<String> = if is_ours(&svc) && !port_taken(&svc, &self.services.list()) {
            node_addresses(&self.nodes.list())
        } else if is_ours(&svc) || !is_lb {
            // pending behind another Service's port, or no longer a LoadBalancer
            Vec::new()
        } else {
            // another load balancer's (loadBalancerClass): not ours to touch
            return Ok(());
        };
        let have: Vec<String> = current.iter().filter_map(|i| i.ip.clone()).collect();
        if have == want {
            return Ok(());
        }
        let ingress: Vec<_> = want
            .iter()
            .map(|ip| json!({"ip": ip, "ipMode": "VIP"}))
            .collect();
        let api: Api<Service> = Api::namespaced(
            self.client.clone(),
            svc.metadata.namespace.as_deref().unwrap_or_default(),
        );
        api.patch_status(
            svc.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"loadBalancer": {"ingress": ingress}}})),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str, created: &str, port: i32) -> Arc<Service> {
        Arc::new(
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "default", "uid": name,
                             "creationTimestamp": created},
                "spec": {"type": "LoadBalancer", "ports": [{"port": port}]}}))
            .unwrap(),
        )
    }

    #[test]
    fn the_older_service_keeps_a_port_and_ready_nodes_serve() {
        let a = svc("a", "2026-01-01T00:00:00Z", 80);
        let b = svc("b", "2026-01-02T00:00:00Z", 80);
        let c = svc("c", "2026-01-03T00:00:00Z", 81);
        let all = vec![a.clone(), b.clone(), c.clone()];
        assert!(!port_taken(&a, &all));
        assert!(port_taken(&b, &all));
        assert!(!port_taken(&c, &all));
        let node = |name: &str, ip: &str, ready: &str| -> Arc<Node> {
            Arc::new(
                serde_json::from_value(json!({"metadata": {"name": name},
                    "status": {"addresses": [{"type": "InternalIP", "address": ip},
                                             {"type": "Hostname", "address": name}],
                               "conditions": [{"type": "Ready", "status": ready}]}}))
                .unwrap(),
            )
        };
        assert_eq!(
            node_addresses(&[
                node("n2", "192.0.2.2", "True"),
                node("n1", "192.0.2.1", "True"),
                node("n3", "192.0.2.3", "Unknown")
            ]),
            vec!["192.0.2.1", "192.0.2.2"]
        );
    }
}
