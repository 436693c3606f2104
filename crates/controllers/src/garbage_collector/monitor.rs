//! Metadata-only watches of every watched kind, feeding the ownership graph and queueing the
//! uids each change makes worth re-checking.

use super::graph::{Graph, Node};
use super::resources::WATCHED;
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::{watcher, WatchStreamExt};
use parking_lot::RwLock;
use skiff_client::WorkQueue;
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::watch;

/// Starts one watch per kind; each receiver turns true once its kind's first list is in.
pub fn spawn(
    client: &kube::Client,
    graph: &Arc<RwLock<Graph>>,
    queue: &WorkQueue<String>,
) -> Vec<watch::Receiver<bool>> {
    (0..WATCHED.len())
        .map(|resource| {
            let (tx, rx) = watch::channel(false);
            tokio::spawn(run(
                client.clone(),
                resource,
                graph.clone(),
                queue.clone(),
                tx,
            ));
            rx
        })
        .collect()
}

fn enqueue(queue: &WorkQueue<String>, uids: Vec<String>) {
    for uid in uids {
        queue.add(uid);
    }
}

async fn run(
    client: kube::Client,
    resource: usize,
    graph: Arc<RwLock<Graph>>,
    queue: WorkQueue<String>,
    ready: watch::Sender<bool>,
) {
    let api: Api<PartialObjectMeta<DynamicObject>> =
        Api::all_with(client, &WATCHED[resource].resource);
    let mut stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut fresh: HashSet<String> = HashSet::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(watcher::Event::Init) => fresh.clear(),
            Ok(watcher::Event::InitApply(o)) => {
                if let Some(node) = Node::from_meta(resource, &o.metadata) {
                    fresh.insert(node.uid.clone());
                    let check = graph.write().apply(node);
                    enqueue(&queue, check);
                }
            }
            Ok(watcher::Event::InitDone) => {
                let mut g = graph.write();
                let gone: Vec<String> = g
                    .uids_of(resource)
                    .into_iter()
                    .filter(|u| !fresh.contains(u))
                    .collect();
                for uid in gone {
                    let check = g.delete(&uid);
                    enqueue(&queue, check);
                }
                drop(g);
                fresh.clear();
                let _ = ready.send(true);
            }
            Ok(watcher::Event::Apply(o)) => {
                if let Some(node) = Node::from_meta(resource, &o.metadata) {
                    let check = graph.write().apply(node);
                    enqueue(&queue, check);
                }
            }
            Ok(watcher::Event::Delete(o)) => {
                if let Some(uid) = o.metadata.uid.as_deref() {
                    let check = graph.write().delete(uid);
                    enqueue(&queue, check);
                }
            }
            Err(e) => {
                let kind = &WATCHED[resource].resource.kind;
                tracing::debug!(%kind, "garbage collector watch failed, re-listing: {e}");
            }
        }
    }
}
