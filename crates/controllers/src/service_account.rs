//! The ServiceAccount controller: every active namespace has a `default` ServiceAccount,
//! recreated if deleted.

use crate::{Context, Informers};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use skiff_client::{Change, Store, WorkQueue};
use std::sync::Arc;

/// The ServiceAccount every namespace gets.
pub const DEFAULT: &str = "default";

/// Upstream's service account controller (the `default` account only).
pub struct ServiceAccountController {
    client: kube::Client,
    namespaces: Store<Namespace>,
    accounts: Store<ServiceAccount>,
    queue: WorkQueue<String>,
}

impl ServiceAccountController {
    /// Queues namespaces as they appear and when their `default` account goes.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let q = queue.clone();
        informers.namespaces.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                q.add(new.metadata.name.clone().unwrap_or_default());
            }
        });
        let q = queue.clone();
        informers.service_accounts.on_change(move |c| {
            if let Change::Deleted(sa) = c {
                if sa.metadata.name.as_deref() == Some(DEFAULT) {
                    q.add(sa.metadata.namespace.clone().unwrap_or_default());
                }
            }
        });
        ServiceAccountController {
            client: ctx.client.clone(),
            namespaces: informers.namespaces.store(),
            accounts: informers.service_accounts.store(),
            queue,
        }
    }

    /// Starts the workers.
    pub fn start(self) {
        let this = Arc::new(self);
        let queue = this.queue.clone();
        queue.run_workers(2, "serviceaccount", move |ns| {
            let this = this.clone();
            async move { this.sync(&ns).await }
        });
    }

    async fn sync(&self, namespace: &str) -> Result<(), kube::Error> {
        let Some(ns) = self.namespaces.get(namespace) else {
            return Ok(());
        };
        if ns.metadata.deletion_timestamp.is_some()
            || self.accounts.get_in(namespace, DEFAULT).is_some()
        {
            return Ok(());
        }
        let sa = ServiceAccount {
            metadata: ObjectMeta {
                name: Some(DEFAULT.into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        match api.create(&PostParams::default(), &sa).await {
            Ok(_) => Ok(()),
            // exists already, or the namespace started terminating
            Err(kube::Error::Api(s)) if matches!(s.code, 409 | 403 | 404) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
