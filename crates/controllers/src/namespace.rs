//! The namespace controller: empties a terminating namespace, reports its progress in
//! conditions, and releases the `kubernetes` finalizer through `namespaces/<name>/finalize`.

mod conditions;
mod content;

use crate::{Context, Informers};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use skiff_client::{Change, Store, WorkQueue};
use std::sync::Arc;
use std::time::Duration;

/// The finalizer the namespace controller owns.
pub const FINALIZER: &str = "kubernetes";
/// How soon a namespace with content still terminating is looked at again.
const RECHECK: Duration = Duration::from_secs(2);

/// Errors deleting a namespace's content.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Content could not be discovered.
    #[error(transparent)]
    Content(#[from] content::Error),
    /// A namespace write failed.
    #[error("namespace update: {0}")]
    Api(#[from] kube::Error),
}

/// Upstream's namespace controller.
pub struct NamespaceController {
    client: kube::Client,
    namespaces: Store<Namespace>,
    queue: WorkQueue<String>,
}

impl NamespaceController {
    /// Queues namespaces as they start terminating.
    pub fn new(ctx: &Context, informers: &Informers) -> Self {
        let queue = WorkQueue::new();
        let q = queue.clone();
        informers.namespaces.on_change(move |c| {
            if let Change::Applied { new, .. } = c {
                if new.metadata.deletion_timestamp.is_some() {
                    q.add(new.metadata.name.clone().unwrap_or_default());
                }
            }
        });
        NamespaceController {
            client: ctx.client.clone(),
            namespaces: informers.namespaces.store(),
            queue,
        }
    }

    /// Starts the workers.
    pub fn start(self) {
        let this = Arc::new(self);
        let queue = this.queue.clone();
        queue.run_workers(2, "namespace", move |name| {
            let this = this.clone();
            async move { this.sync(&name).await }
        });
    }

    async fn sync(&self, name: &str) -> Result<(), Error> {
        let Some(ns) = self.namespaces.get(name) else {
            return Ok(());
        };
        let holds = |ns: &Namespace| {
            ns.spec
                .as_ref()
                .and_then(|s| s.finalizers.as_ref())
                .is_some_and(|f| f.iter().any(|x| x == FINALIZER))
        };
        if ns.metadata.deletion_timestamp.is_none() || !holds(&ns) {
            return Ok(());
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        let (left, discovery_error) = match content::delete_all(&self.client, name).await {
            Ok(left) => (Some(left), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let new = conditions::conditions(left.as_ref(), discovery_error.as_deref());
        // report progress; a conflict only means the next pass writes it
        if let Some(mut latest) = api.get_opt(name).await? {
            let status = latest.status.get_or_insert_with(Default::default);
            let old = status.conditions.clone().unwrap_or_default();
            let merged = conditions::merge(&old, new);
            if merged
                .iter()
                .map(|c| (&c.type_, &c.status, &c.message))
                .ne(old.iter().map(|c| (&c.type_, &c.status, &c.message)))
            {
                status.conditions = Some(merged);
                if let Err(e) = api
                    .replace_status(name, &PostParams::default(), &latest)
                    .await
                {
                    tracing::debug!(namespace = name, "namespace status not updated: {e}");
                }
            }
        }
        if !left.as_ref().is_some_and(content::Remaining::is_empty) {
            self.queue.add_after(name.to_string(), RECHECK);
            return Ok(());
        }
        let Some(mut latest) = api.get_opt(name).await? else {
            return Ok(());
        };
        if !holds(&latest) {
            return Ok(());
        }
        if let Some(f) = latest.spec.as_mut().and_then(|s| s.finalizers.as_mut()) {
            f.retain(|x| x != FINALIZER);
        }
        api.replace_subresource("finalize", name, &PostParams::default(), &latest)
            .await?;
        tracing::info!(namespace = name, "namespace emptied and finalized");
        Ok(())
    }
}
