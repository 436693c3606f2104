//! Emptying a terminating namespace: discover every namespaced resource, delete each
//! collection, and count what is left (and which finalizers hold it).

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::core::PartialObjectMeta;
use kube::discovery::{verbs, Discovery, Scope};
use std::collections::BTreeMap;

/// Errors emptying a namespace.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API's discovery documents could not be read.
    #[error("discovery failed: {0}")]
    Discovery(#[source] kube::Error),
}

/// What one pass over the namespace's content found.
#[derive(Debug, Default, PartialEq)]
pub struct Remaining {
    /// Objects left per `resource.group`.
    pub resources: BTreeMap<String, usize>,
    /// Objects held per finalizer.
    pub finalizers: BTreeMap<String, usize>,
    /// Deletions or lists that failed, per `resource.group`.
    pub failures: Vec<String>,
}

impl Remaining {
    /// Whether nothing is left and nothing failed.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.failures.is_empty()
    }
}

/// Deletes every collection in `namespace` and reports what is left.
pub async fn delete_all(client: &kube::Client, namespace: &str) -> Result<Remaining, Error> {
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(Error::Discovery)?;
    let mut left = Remaining::default();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced
                || !caps.supports_operation(verbs::LIST)
                || !caps.supports_operation(verbs::DELETE_COLLECTION)
            {
                continue;
            }
            let gr = if ar.group.is_empty() {
                format!("{}.", ar.plural)
            } else {
                format!("{}.{}", ar.plural, ar.group)
            };
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
            let meta: Api<PartialObjectMeta<DynamicObject>> =
                Api::namespaced_with(client.clone(), namespace, &ar);
            // a cheap look first: most collections are already empty
            match meta.list_metadata(&ListParams::default().limit(1)).await {
                Ok(l) if l.items.is_empty() => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(%gr, "namespace controller: list failed: {e}");
                    left.failures.push(gr);
                    continue;
                }
            }
            if let Err(e) = api
                .delete_collection(&DeleteParams::default(), &ListParams::default())
                .await
            {
                tracing::debug!(%gr, "namespace controller: delete collection failed: {e}");
                left.failures.push(gr.clone());
            }
            match meta.list_metadata(&ListParams::default()).await {
                Ok(l) if l.items.is_empty() => {}
                Ok(l) => {
                    left.resources.insert(gr, l.items.len());
                    for item in &l.items {
                        for f in item.metadata.finalizers.iter().flatten() {
                            *left.finalizers.entry(f.clone()).or_default() += 1;
                        }
                    }
                }
                Err(_) => left.failures.push(gr),
            }
        }
    }
    Ok(left)
}
