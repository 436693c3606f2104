//! Records core/v1 Events about objects, as upstream's event recorder: best effort, never
//! blocking the caller, repeats of the same event counted on one object.

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Resource};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

/// `Normal` or `Warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something the user should look at.
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

struct Pending {
    regarding: ObjectReference,
    kind: EventType,
    reason: String,
    message: String,
}

/// Sends Events for one component (e.g. `deployment-controller`). Cheap to clone.
#[derive(Clone)]
pub struct EventRecorder {
    tx: mpsc::Sender<Pending>,
}

/// How many events may wait to be written before new ones are dropped.
const BUFFER: usize = 8192;
/// How many writes run at once.
const WRITERS: usize = 8;

type SeenKey = (String, String, String, String);

impl EventRecorder {
    /// A recorder writing through `client` as `component`.
    pub fn new(client: kube::Client, component: &str) -> Self {
        let (tx, mut rx) = mpsc::channel::<Pending>(BUFFER);
        let component = component.to_string();
        let seen: Arc<Mutex<HashMap<SeenKey, (String, i32)>>> = Default::default();
        let permits = Arc::new(Semaphore::new(WRITERS));
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let client = client.clone();
                let component = component.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    write(client, &component, &seen, p).await;
                    drop(permit);
                });
            }
        });
        EventRecorder { tx }
    }

    /// Records an event about `regarding`; dropped if the writer is far behind.
    pub fn record(
        &self,
        regarding: ObjectReference,
        kind: EventType,
        reason: &str,
        message: String,
    ) {
        let _ = self.tx.try_send(Pending {
            regarding,
            kind,
            reason: reason.to_string(),
            message,
        });
    }

    /// Records an event about an object.
    pub fn publish<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        kind: EventType,
        reason: &str,
        message: String,
    ) {
        self.record(obj.object_ref(&()), kind, reason, message)
    }
}

async fn write(
    client: kube::Client,
    component: &str,
    seen: &Mutex<HashMap<SeenKey, (String, i32)>>,
    p: Pending,
) {
    let namespace = p
        .regarding
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let api: Api<Event> = Api::namespaced(client, &namespace);
    let now = Timestamp::now();
    let key = (
        p.regarding.uid.clone().unwrap_or_default(),
        p.regarding.field_path.clone().unwrap_or_default(),
        p.reason.clone(),
        p.message.clone(),
    );
    let repeat = seen.lock().get(&key).cloned();
    if let Some((name, count)) = repeat {
        let patch = serde_json::json!({"count": count + 1, "lastTimestamp": Time(now)});
        if api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .is_ok()
        {
            seen.lock().insert(key, (name, count + 1));
            return;
        }
    }
    let object_name = p.regarding.name.clone().unwrap_or_default();
    let name = format!("{object_name}.{:016x}", rand::random::<u64>());
    let event = Event {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace),
            ..Default::default()
        },
        involved_object: p.regarding,
        reason: Some(p.reason),
        message: Some(p.message),
        type_: Some(p.kind.as_str().to_string()),
        source: Some(EventSource {
            component: Some(component.to_string()),
            host: None,
        }),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        event_time: None::<MicroTime>,
        count: Some(1),
        reporting_component: Some(component.to_string()),
        reporting_instance: Some(component.to_string()),
        ..Default::default()
    };
    match api.create(&PostParams::default(), &event).await {
        Ok(_) => {
            let mut seen = seen.lock();
            if seen.len() > 10_000 {
                seen.clear();
            }
            seen.insert(key, (name, 1));
        }
        Err(e) => tracing::debug!(component, "event not recorded: {e}"),
    }
}
