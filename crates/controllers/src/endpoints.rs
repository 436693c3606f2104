//! The Endpoints and EndpointSlice controllers (one loop per Service): a Service with a
//! selector gets an Endpoints object of the same name and EndpointSlices owned by it, from
//! the pods it selects; a Service without a selector keeps the Endpoints its user writes,
//! and those are mirrored into EndpointSlices (upstream's mirroring controller).

pub mod desired;

use crate::{Context, Informers};
use desired::{counts, pod_endpoint, slices, subsets, SliceContent};
use k8s_openapi::api::core::v1::{EndpointAddress, EndpointSubset, Endpoints, Pod, Service};
use k8s_openapi::api::discovery::v1::{
    Endpoint, EndpointConditions, EndpointPort as SlicePort, EndpointSlice,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, PostParams};
use kube::Resource;
use skiff_client::{key_of, Change, Store, WorkQueue};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The label naming a slice's Service.
pub const SERVICE_NAME: &str = "kubernetes.io/service-name";
/// The label naming a slice's manager.
pub const MANAGED_BY: &str = "endpointslice.kubernetes.io/managed-by";
/// Our name as a slice manager.
pub const CONTROLLER: &str = "endpointslice-controller.k8s.io";
/// The mirroring controller's name as a slice manager.
pub const MIRRORING: &str = "endpointslicemirroring-controller.k8s.io";
/// Marks Endpoints that must not be mirrored.
pub const SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
/// Set on the Endpoints and slices of headless Services.
pub const HEADLESS: &str = "service.kubernetes.io/headless";

/// Keeps Endpoints and EndpointSlices in step with Services and their pods.
pub struct EndpointsController {
    client: kube::Client,
    services: Store<Service>,
    pods: Store<Pod>,
    endpoints: Store<Endpoints>,
    slices: Store<EndpointSlice>,
    queue: WorkQueue<String>,
}

fn selector(svc: &Service) -> Option<&BTreeMap<String, String>> {
    svc.spec
        .as_ref()?
        .selector
        .as_ref()
        .filter(|s| !s.is_empty())
}

fn selects(svc: &Service, pod: &Pod) -> bool {
    let Some(sel) = selector(svc) else {
        return false;
    };
    let labels = pod.metadata.labels.as_ref();
    sel.iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

fn is_external_name(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName")
}

/// The labels the Endpoints and slices carry: the Service's, plus the headless mark.
fn object_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    if is_headless(svc) {
        labels.insert(HEADLESS.into(), String::new());
    }
    labels
}

fn same_json<T: serde::Serialize>(a: &T, b: &T) -> bool {
    serde_json::to_value(a).ok() == serde_json::to_value(b).ok()
}

/// Slices from manually written Endpoints: ready and not-ready addresses per subset.
fn mirrored(ep: &Endpoints) -> Vec<SliceContent> {
    let endpoint = |a: &EndpointAddress, ready: bool| Endpoint {
        addresses: vec![a.ip.clone()],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(ready),
            terminating: Some(false),
        }),
        hostname: a.hostname.clone(),
        node_name: a.node_name.clone(),
        target_ref: a.target_ref.clone(),
        ..Default::default()
    };
    ep.subsets
        .iter()
        .flatten()
        .map(|s: &EndpointSubset| SliceContent {
            ports: s
                .ports
                .iter()
                .flatten()
                .map(|p| SlicePort {
                    name: Some(p.name.clone().unwrap_or_default()),
                    port: Some(p.port),
                    protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
                    app_protocol: p.app_protocol.clone(),
                })
                .collect(),
            endpoints: s
                .addresses
                .iter()
                .flatten()
                .map(|a| endpoint(a, true))
                .chain(
                    s.not_ready_addresses
                        .iter()
                        .flatten()
                        .map(|a| endpoint(a, false)),
                )
                .collect(),
        })
        .collect()
}

impl EndpointsController {
    /// Queues Services as they, their pods, their Endpoints or their slices change.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let q = queue.clone();
        informers
            .services
            .on_change(move |c| q.add(key_of(&c.object().metadata)));
        let (q, services) = (queue.clone(), informers.services.store());
        informers.pods.on_change(move |c| {
            let (old, new) = match c {
                Change::Applied { old, new } => (old.as_deref(), &**new),
                Change::Deleted(p) => (None, &**p),
            };
            let ns = new.metadata.namespace.as_deref().unwrap_or_default();
            for svc in services.in_namespace(ns) {
                if selects(&svc, new) || old.is_some_and(|o| selects(&svc, o)) {
                    q.add(key_of(&svc.metadata));
                }
            }
        });
        let q = queue.clone();
        informers
            .endpoints
            .on_change(move |c| q.add(key_of(&c.object().metadata)));
        let q = queue.clone();
        informers.endpoint_slices.on_change(move |c| {
            let s = c.object();
            if let Some(name) = s.metadata.labels.as_ref().and_then(|l| l.get(SERVICE_NAME)) {
                let ns = s.metadata.namespace.as_deref().unwrap_or_default();
                q.add(format!("{ns}/{name}"));
            }
        });
        EndpointsController {
            client: ctx.client.clone(),
            services: informers.services.store(),
            pods: informers.pods.store(),
            endpoints: informers.endpoints.store(),
            slices: informers.endpoint_slices.store(),
            queue,
        }
    }

    /// Starts the workers.
    pub fn start(self) {
        let this = Arc::new(self);
        let queue = this.queue.clone();
        queue.run_workers(4, "endpoints", move |key| {
            let this = this.clone();
            async move { this.sync(&key).await }
        });
    }

    async fn sync(&self, key: &str) -> Result<(), kube::Error> {
        let (ns, name) = skiff_client::split_key(key);
        let Some(svc) = self.services.get(key) else {
            // the Service is gone: its Endpoints go (slices follow through their owner)
            if let Some(ep) = self.endpoints.get(key) {
                if ep
                    .metadata
                    .labels
                    .as_ref()
                    .is_none_or(|l| !l.contains_key(SKIP_MIRROR))
                {
                    self.delete_endpoints(ns, name).await?;
                }
            }
            return Ok(());
        };
        if is_external_name(&svc) {
            return self
                .reconcile_slices(&svc, CONTROLLER, Vec::new(), None)
                .await;
        }
        if selector(&svc).is_none() {
            return self.mirror(&svc).await;
        }
        let eps: Vec<_> = self
            .pods
            .in_namespace(ns)
            .iter()
            .filter(|p| selects(&svc, p) && counts(p, true))
            .map(|p| pod_endpoint(&svc, p))
            .collect();
        self.write_endpoints(&svc, subsets(&svc, &eps)).await?;
        let owner = svc.controller_owner_ref(&());
        self.reconcile_slices(&svc, CONTROLLER, slices(&svc, &eps), owner)
            .await
    }

    async fn delete_endpoints(&self, ns: &str, name: &str) -> Result<(), kube::Error> {
        let api: Api<Endpoints> = Api::namespaced(self.client.clone(), ns);
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn write_endpoints(
        &self,
        svc: &Service,
        subsets: Vec<EndpointSubset>,
    ) -> Result<(), kube::Error> {
        let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
        let name = svc.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Endpoints> = Api::namespaced(self.client.clone(), ns);
        let labels = object_labels(svc);
        let subsets = (!subsets.is_empty()).then_some(subsets);
        match self.endpoints.get_in(ns, name) {
            None => {
                let ep = Endpoints {
                    metadata: ObjectMeta {
                        name: Some(name.into()),
                        namespace: Some(ns.into()),
                        labels: Some(labels),
                        ..Default::default()
                    },
                    subsets,
                };
                match api.create(&PostParams::default(), &ep).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
                    Err(e) => Err(e),
                }
            }
            Some(old) => {
                let old_labels = old.metadata.labels.clone().unwrap_or_default();
                if same_json(&old.subsets, &subsets) && old_labels == labels {
                    return Ok(());
                }
                let mut ep = (*old).clone();
                ep.metadata.labels = Some(labels);
                ep.subsets = subsets;
                api.replace(name, &PostParams::default(), &ep).await?;
                Ok(())
            }
        }
    }

    /// Mirrors a selector-less Service's Endpoints into slices (none when there are none, or
    /// they opt out).
    async fn mirror(&self, svc: &Service) -> Result<(), kube::Error> {
        // slices the selector path made before the selector went away
        self.reconcile_slices(svc, CONTROLLER, Vec::new(), None)
            .await?;
        let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
        let name = svc.metadata.name.as_deref().unwrap_or_default();
        let ep = self.endpoints.get_in(ns, name).filter(|ep| {
            ep.metadata
                .labels
                .as_ref()
                .is_none_or(|l| !l.contains_key(SKIP_MIRROR))
        });
        let (content, owner) = match &ep {
            Some(ep) => (mirrored(ep), ep.controller_owner_ref(&())),
            None => (Vec::new(), None),
        };
        self.reconcile_slices_for(svc, MIRRORING, content, owner, ep.is_some())
            .await
    }

    async fn reconcile_slices(
        &self,
        svc: &Service,
        manager: &str,
        content: Vec<SliceContent>,
        owner: Option<OwnerReference>,
    ) -> Result<(), kube::Error> {
        let wanted = owner.is_some();
        self.reconcile_slices_for(svc, manager, content, owner, wanted)
            .await
    }

    /// Makes the slices `manager` keeps for `svc` hold `content`: updates in place, creates
    /// what is missing, deletes the rest; with `wanted` and no content, one empty slice stays
    /// (upstream's placeholder).
    async fn reconcile_slices_for(
        &self,
        svc: &Service,
        manager: &str,
        mut content: Vec<SliceContent>,
        owner: Option<OwnerReference>,
        wanted: bool,
    ) -> Result<(), kube::Error> {
        let ns = svc.metadata.namespace.as_deref().unwrap_or_default();
        let name = svc.metadata.name.as_deref().unwrap_or_default();
        let api: Api<EndpointSlice> = Api::namespaced(self.client.clone(), ns);
        let mut existing: Vec<Arc<EndpointSlice>> = self
            .slices
            .in_namespace(ns)
            .into_iter()
            .filter(|s| {
                let l = s.metadata.labels.as_ref();
                l.and_then(|l| l.get(SERVICE_NAME)).map(String::as_str) == Some(name)
                    && l.and_then(|l| l.get(MANAGED_BY)).map(String::as_str) == Some(manager)
            })
            .collect();
        existing.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        if wanted && content.is_empty() {
            content.push(SliceContent {
                ports: Vec::new(),
                endpoints: Vec::new(),
            });
        }
        if !wanted {
            content.clear();
        }
        let mut labels = object_labels(svc);
        labels.insert(SERVICE_NAME.into(), name.into());
        labels.insert(MANAGED_BY.into(), manager.into());
        let used = content.len();
        for (i, want) in content.into_iter().enumerate() {
            let ports = (!want.ports.is_empty()).then_some(want.ports);
            match existing.get(i) {
                Some(old) => {
                    if same_json(&old.ports, &ports)
                        && same_json(&old.endpoints, &want.endpoints)
                        && old.metadata.labels.as_ref() == Some(&labels)
                    {
                        continue;
                    }
                    let mut s = (**old).clone();
                    s.ports = ports;
                    s.endpoints = want.endpoints;
                    s.metadata.labels = Some(labels.clone());
                    api.replace(
                        s.metadata.name.as_deref().unwrap_or_default(),
                        &PostParams::default(),
                        &s,
                    )
                    .await?;
                }
                None => {
                    let s = EndpointSlice {
                        metadata: ObjectMeta {
                            generate_name: Some(format!("{name}-")),
                            namespace: Some(ns.into()),
                            labels: Some(labels.clone()),
                            owner_references: owner.clone().map(|o| vec![o]),
                            ..Default::default()
                        },
                        address_type: "IPv4".into(),
                        endpoints: want.endpoints,
                        ports,
                    };
                    api.create(&PostParams::default(), &s).await?;
                }
            }
        }
        for old in existing.iter().skip(used) {
            match api
                .delete(
                    old.metadata.name.as_deref().unwrap_or_default(),
                    &DeleteParams::default(),
                )
                .await
            {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
