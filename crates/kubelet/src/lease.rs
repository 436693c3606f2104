//! The node's heartbeat: the `kube-node-lease/<node>` Lease, renewed every 10 s.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use std::time::Duration;

/// Namespace of node Leases.
pub const NAMESPACE: &str = "kube-node-lease";
/// How long a Lease holds without renewal, in seconds.
pub const LEASE_DURATION_SECONDS: i32 = 40;
/// How often the Lease is renewed.
pub const RENEW_INTERVAL: Duration = Duration::from_secs(10);

/// Errors renewing a Lease.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused or could not be reached.
    #[error("lease {name}: {source}")]
    Api {
        /// The Lease (node) name.
        name: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

/// The Lease of one node.
#[derive(Clone)]
pub struct NodeLease {
    api: Api<Lease>,
    node: String,
    owner: Option<OwnerReference>,
}

impl NodeLease {
    /// The Lease of node `node`.
    pub fn new(client: kube::Client, node: &str) -> Self {
        NodeLease {
            api: Api::namespaced(client, NAMESPACE),
            node: node.to_string(),
            owner: None,
        }
    }

    /// The same Lease, owned by the Node with `uid` (garbage-collected with it).
    #[must_use]
    pub fn owned_by(mut self, uid: &str) -> Self {
        self.owner = Some(OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: self.node.clone(),
            uid: uid.to_string(),
            ..Default::default()
        });
        self
    }

    /// The Lease object as renewed at `now`.
    pub fn lease(&self, now: Timestamp) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some(self.node.clone()),
                namespace: Some(NAMESPACE.to_string()),
                owner_references: self.owner.clone().map(|o| vec![o]),
                ..Default::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.node.clone()),
                lease_duration_seconds: Some(LEASE_DURATION_SECONDS),
                renew_time: Some(MicroTime(now)),
                ..Default::default()
            }),
        }
    }

    /// Renews the Lease now, creating it if missing.
    pub async fn renew(&self) -> Result<(), Error> {
        let err = |source| Error::Api {
            name: self.node.clone(),
            source,
        };
        let lease = self.lease(Timestamp::now());
        let patch = serde_json::json!({ "spec": lease.spec });
        match self
            .api
            .patch(&self.node, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => {
                match self.api.create(&PostParams::default(), &lease).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
                    Err(e) => Err(err(e)),
                }
            }
            Err(e) => Err(err(e)),
        }
    }

    /// Renews every `interval` after `first_delay`, forever; failures retry sooner.
    pub async fn run(self, first_delay: Duration, interval: Duration) {
        tokio::time::sleep(first_delay).await;
        loop {
            let next = match self.renew().await {
                Ok(()) => interval,
                Err(e) => {
                    tracing::warn!("renewing node lease: {e}");
                    (interval / 5).max(Duration::from_millis(200))
                }
            };
            tokio::time::sleep(next).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_lease_names_its_node_as_holder_for_40_seconds() {
        let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
        let client = kube::Client::try_from(config).unwrap();
        let lease = NodeLease::new(client, "n1")
            .owned_by("u1")
            .lease(Timestamp::UNIX_EPOCH);
        assert_eq!(lease.metadata.namespace.as_deref(), Some(NAMESPACE));
        let spec = lease.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("n1"));
        assert_eq!(spec.lease_duration_seconds, Some(40));
        assert_eq!(lease.metadata.owner_references.unwrap()[0].kind, "Node");
    }
}
