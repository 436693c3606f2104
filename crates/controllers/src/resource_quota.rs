//! The ResourceQuota controller: recomputes each quota's `status.used` from what its namespace
//! holds, and copies `spec.hard` to `status.hard` (which admission enforces).

mod amount;
mod usage;

use crate::{Context, Informers};
use amount::Nanos;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, Pod, ReplicationController, ResourceQuota, ResourceQuotaStatus, Service,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::PartialObjectMeta;
use parking_lot::Mutex;
use skiff_client::{key_of, split_key, Change, Store, WorkQueue};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often every quota is recomputed (counts of kinds without an informer drift otherwise).
const RESYNC: Duration = Duration::from_secs(15);
/// How long a lower usage must persist before it replaces what admission charged: the pod
/// cache may not yet hold an object admission has already counted.
const SETTLE: Duration = Duration::from_secs(1);
const ONE: Nanos = 1_000_000_000;

/// A quota's usage by resource name.
type Used = BTreeMap<String, Quantity>;

/// Errors recomputing a quota.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listing objects or writing the status failed.
    #[error("{0}")]
    Api(#[from] kube::Error),
}

/// Upstream's resource quota controller.
pub struct ResourceQuotaController {
    client: kube::Client,
    quotas: Store<ResourceQuota>,
    pods: Store<Pod>,
    claims: Store<PersistentVolumeClaim>,
    replication_controllers: Store<ReplicationController>,
    queue: WorkQueue<String>,
    /// Lower usages waiting to settle, by quota key: the usage and when it was first seen.
    lowered: Mutex<HashMap<String, (Used, Instant)>>,
}

fn requeue_namespace(queue: &WorkQueue<String>, quotas: &Store<ResourceQuota>, ns: &str) {
    for q in quotas.in_namespace(ns) {
        queue.add(key_of(&q.metadata));
    }
}

impl ResourceQuotaController {
    /// Queues quotas when they or the objects they count change.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let q = queue.clone();
        informers.resource_quotas.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                q.add(key_of(&new.metadata));
            }
        });
        let (q, quotas) = (queue.clone(), informers.resource_quotas.store());
        informers.pods.on_change(move |c| {
            let relevant = match c {
                Change::Deleted(_) => true,
                Change::Applied { old: None, .. } => true,
                Change::Applied { old: Some(o), new } => usage::counts(o) != usage::counts(new),
            };
            if relevant {
                requeue_namespace(
                    &q,
                    &quotas,
                    c.object().metadata.namespace.as_deref().unwrap_or_default(),
                );
            }
        });
        let (q, quotas) = (queue.clone(), informers.resource_quotas.store());
        informers.persistent_volume_claims.on_change(move |c| {
            requeue_namespace(
                &q,
                &quotas,
                c.object().metadata.namespace.as_deref().unwrap_or_default(),
            );
        });
        let (q, quotas) = (queue.clone(), informers.resource_quotas.store());
        informers.replication_controllers.on_change(move |c| {
            if !matches!(c, Change::Applied { old: Some(_), .. }) {
                requeue_namespace(
                    &q,
                    &quotas,
                    c.object().metadata.namespace.as_deref().unwrap_or_default(),
                );
            }
        });
        ResourceQuotaController {
            client: ctx.client.clone(),
            quotas: informers.resource_quotas.store(),
            pods: informers.pods.store(),
            claims: informers.persistent_volume_claims.store(),
            replication_controllers: informers.replication_controllers.store(),
            queue,
            lowered: Default::default(),
        }
    }

    /// Starts the workers and the periodic full recompute.
    pub fn start(self) {
        let this = Arc::new(self);
        let (queue, quotas) = (this.queue.clone(), this.quotas.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RESYNC);
            loop {
                tick.tick().await;
                for key in quotas.keys() {
                    queue.add(key);
                }
            }
        });
        let queue = this.queue.clone();
        queue.run_workers(2, "resourcequota", move |key| {
            let this = this.clone();
            async move { this.sync(&key).await }
        });
    }

    /// Counts objects of a kind without an informer, by listing their metadata.
    async fn count(&self, ns: &str, group: &str, plural: &str) -> Result<Nanos, Error> {
        let Some(ar) = resolve(&self.client, group, plural).await? else {
            return Ok(0);
        };
        let api: Api<PartialObjectMeta<DynamicObject>> =
            Api::namespaced_with(self.client.clone(), ns, &ar);
        Ok(api.list_metadata(&ListParams::default()).await?.items.len() as Nanos * ONE)
    }

    async fn used(
        &self,
        quota: &ResourceQuota,
        ns: &str,
        name: &str,
    ) -> Result<Option<Nanos>, Error> {
        if let Some(found) = self.pod_used(quota, ns, name) {
            return Ok(Some(found));
        }
        if usage::scoped(quota) {
            return Ok(None);
        }
        let services = || async {
            let api: Api<Service> = Api::namespaced(self.client.clone(), ns);
            Ok::<_, Error>(api.list(&ListParams::default()).await?.items)
        };
        let claims = self.claims.in_namespace(ns);
        Ok(Some(match name {
            "persistentvolumeclaims" | "count/persistentvolumeclaims" => {
                claims.len() as Nanos * ONE
            }
            "requests.storage" => claims
                .iter()
                .filter_map(|c| {
                    c.spec
                        .as_ref()?
                        .resources
                        .as_ref()?
                        .requests
                        .as_ref()?
                        .get("storage")
                })
                .filter_map(|q| amount::parse(&q.0))
                .sum(),
            "replicationcontrollers" | "count/replicationcontrollers" => {
                self.replication_controllers.in_namespace(ns).len() as Nanos * ONE
            }
            "resourcequotas" | "count/resourcequotas" => {
                self.quotas.in_namespace(ns).len() as Nanos * ONE
            }
            "services" | "count/services" => services().await?.len() as Nanos * ONE,
            "services.nodeports" => services()
                .await?
                .iter()
                .filter_map(|s| s.spec.as_ref())
                .filter(|s| matches!(s.type_.as_deref(), Some("NodePort" | "LoadBalancer")))
                .map(|s| s.ports.as_ref().map_or(0, Vec::len) as Nanos * ONE)
                .sum(),
            "services.loadbalancers" => {
                services()
                    .await?
                    .iter()
                    .filter(|s| {
                        s.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer")
                    })
                    .count() as Nanos
                    * ONE
            }
            "configmaps" => self.count(ns, "", "configmaps").await?,
            "secrets" => self.count(ns, "", "secrets").await?,
            other => match other.strip_prefix("count/") {
                Some(gr) => {
                    let (plural, group) = gr.split_once('.').unwrap_or((gr, ""));
                    self.count(ns, group, plural).await?
                }
                None => return Ok(None),
            },
        }))
    }

    /// Pod-derived use (counts and compute), if `name` is one.
    fn pod_used(&self, quota: &ResourceQuota, ns: &str, name: &str) -> Option<Nanos> {
        let pod_names = ["pods", "count/pods"];
        let compute = name.starts_with("requests.") && name != "requests.storage"
            || name.starts_with("limits.")
            || matches!(name, "cpu" | "memory" | "ephemeral-storage");
        if !pod_names.contains(&name) && !compute {
            return None;
        }
        Some(
            self.pods
                .in_namespace(ns)
                .iter()
                .filter(|p| usage::counts(p) && usage::selects(quota, p))
                .map(|p| usage::pod_usage(p).get(name).copied().unwrap_or(0))
                .sum(),
        )
    }

    async fn sync(&self, key: &str) -> Result<(), Error> {
        let Some(quota) = self.quotas.get(key) else {
            return Ok(());
        };
        let (ns, name) = split_key(key);
        let hard = quota
            .spec
            .as_ref()
            .and_then(|s| s.hard.clone())
            .unwrap_or_default();
        let mut used = BTreeMap::new();
        for (resource, limit) in &hard {
            let value = self.used(&quota, ns, resource).await?.unwrap_or(0);
            let text = amount::format(value, amount::is_binary(&limit.0));
            used.insert(resource.clone(), Quantity(text));
        }
        if self.must_settle(key, &quota, &used) {
            return Ok(());
        }
        let status = ResourceQuotaStatus {
            hard: Some(hard),
            used: Some(used),
        };
        if quota.status.as_ref() == Some(&status) {
            return Ok(());
        }
        let mut updated = (*quota).clone();
        updated.status = Some(status);
        let api: Api<ResourceQuota> = Api::namespaced(self.client.clone(), ns);
        match api
            .replace_status(name, &PostParams::default(), &updated)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl ResourceQuotaController {
    /// Whether `used` lowers a charged usage that has not yet held for [`SETTLE`].
    fn must_settle(
        &self,
        key: &str,
        quota: &ResourceQuota,
        used: &BTreeMap<String, Quantity>,
    ) -> bool {
        let current = quota.status.as_ref().and_then(|s| s.used.as_ref());
        let lower = used.iter().any(|(k, v)| {
            let was = current
                .and_then(|c| c.get(k))
                .and_then(|q| amount::parse(&q.0));
            matches!((was, amount::parse(&v.0)), (Some(w), Some(n)) if n < w)
        });
        let mut lowered = self.lowered.lock();
        if !lower {
            lowered.remove(key);
            return false;
        }
        match lowered.get(key) {
            Some((seen, since)) if seen == used && since.elapsed() >= SETTLE => {
                lowered.remove(key);
                false
            }
            Some((seen, _)) if seen == used => {
                self.queue.add_after(key.to_string(), SETTLE);
                true
            }
            _ => {
                lowered.insert(key.to_string(), (used.clone(), Instant::now()));
                self.queue.add_after(key.to_string(), SETTLE);
                true
            }
        }
    }
}

/// The API resource for `group`/`plural` at its preferred version, if served.
async fn resolve(
    client: &kube::Client,
    group: &str,
    plural: &str,
) -> Result<Option<kube::api::ApiResource>, Error> {
    let g = match kube::discovery::group(client, group).await {
        Ok(g) => g,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(g.recommended_resources()
        .into_iter()
        .find(|(ar, _)| ar.plural == plural)
        .map(|(ar, _)| ar))
}
