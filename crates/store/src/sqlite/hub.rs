//! Fan-out of committed events to watchers, with a buffer of recent events for late joiners.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::types::{Event, Revision};

/// The writer's events and the watchers subscribed to them.
pub(crate) struct Hub {
    state: Mutex<HubState>,
    buffer: usize,
    channel: usize,
}

struct HubState {
    /// The newest events, contiguous in revision and ending at `last`.
    recent: VecDeque<Arc<Event>>,
    /// Revision of the newest published event (the store's revision at open before any).
    last: Revision,
    subscribers: Vec<Subscriber>,
    closed: bool,
}

struct Subscriber {
    prefix: String,
    tx: mpsc::Sender<Arc<Event>>,
}

/// The outcome of joining the live event feed.
pub(crate) enum Subscription {
    /// Joined: `backlog` holds the buffered events after the requested revision, then `rx` the rest.
    Live {
        rx: mpsc::Receiver<Arc<Event>>,
        backlog: Vec<Arc<Event>>,
    },
    /// The buffer no longer reaches back to the requested revision; read the log first.
    Behind,
    /// The store is closed.
    Closed,
}

impl Hub {
    /// Creates a hub whose store is at revision `last`.
    pub fn new(last: Revision, buffer: usize, channel: usize) -> Self {
        Hub {
            state: Mutex::new(HubState {
                recent: VecDeque::with_capacity(buffer.min(4_096)),
                last,
                subscribers: Vec::new(),
                closed: false,
            }),
            buffer,
            channel: channel.max(1),
        }
    }

    /// Delivers committed events (in revision order); a watcher whose queue is full is dropped
    /// and catches up by itself.
    pub fn publish(&self, events: &[Arc<Event>]) {
        let mut state = self.state.lock();
        for event in events {
            if self.buffer > 0 {
                if state.recent.len() == self.buffer {
                    state.recent.pop_front();
                }
                state.recent.push_back(Arc::clone(event));
            }
            state.last = event.revision();
        }
        state.subscribers.retain(|sub| {
            events
                .iter()
                .filter(|event| event.kv.key.starts_with(&sub.prefix))
                .all(|event| match sub.tx.try_send(Arc::clone(event)) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_) | TrySendError::Closed(_)) => false,
                })
        });
    }

    /// Joins the feed for events after `after` if the buffer still holds all of them.
    pub fn subscribe(&self, prefix: &str, after: Revision) -> Subscription {
        let mut state = self.state.lock();
        if state.closed {
            return Subscription::Closed;
        }
        let backlog = if after >= state.last {
            Vec::new()
        } else if state
            .recent
            .front()
            .is_some_and(|e| e.revision() <= after + 1)
        {
            state
                .recent
                .iter()
                .filter(|e| e.revision() > after && e.kv.key.starts_with(prefix))
                .cloned()
                .collect()
        } else {
            return Subscription::Behind;
        };
        let rx = self.register(&mut state, prefix);
        Subscription::Live { rx, backlog }
    }

    /// Joins the feed for events after the newest published one, which it returns.
    pub fn subscribe_now(&self, prefix: &str) -> Option<(mpsc::Receiver<Arc<Event>>, Revision)> {
        let mut state = self.state.lock();
        if state.closed {
            return None;
        }
        let last = state.last;
        Some((self.register(&mut state, prefix), last))
    }

    /// Ends every subscription and refuses new ones.
    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        state.subscribers.clear();
    }

    fn register(&self, state: &mut HubState, prefix: &str) -> mpsc::Receiver<Arc<Event>> {
        let (tx, rx) = mpsc::channel(self.channel);
        state.subscribers.push(Subscriber {
            prefix: prefix.to_owned(),
            tx,
        });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{EventKind, KeyValue};

    fn put(key: &str, revision: Revision) -> Arc<Event> {
        let kv = KeyValue {
            key: key.to_owned(),
            value: vec![],
            create_revision: revision,
            mod_revision: revision,
        };
        Arc::new(Event {
            kind: EventKind::Put,
            kv,
            prev: None,
        })
    }

    fn revisions(events: &[Arc<Event>]) -> Vec<Revision> {
        events.iter().map(|e| e.revision()).collect()
    }

    #[test]
    fn late_subscriber_gets_the_buffered_backlog_for_its_prefix() {
        let hub = Hub::new(1, 3, 8);
        hub.publish(&[
            put("/a/1", 2),
            put("/b/1", 3),
            put("/a/2", 4),
            put("/a/3", 5),
        ]);
        // The buffer holds revisions 3..=5, enough to resume after 2 but not after 1.
        assert!(matches!(hub.subscribe("/a/", 1), Subscription::Behind));
        let Subscription::Live { backlog, .. } = hub.subscribe("/a/", 2) else {
            panic!("buffer covers revision 3 onwards");
        };
        assert_eq!(revisions(&backlog), vec![4, 5]);
    }

    #[test]
    fn full_watcher_is_dropped_without_blocking_the_publisher() {
        let hub = Hub::new(1, 0, 2);
        let (mut rx, last) = hub.subscribe_now("/a/").expect("open");
        assert_eq!(last, 1);
        hub.publish(&[put("/a/1", 2), put("/a/2", 3), put("/a/3", 4)]);
        assert_eq!(rx.try_recv().expect("first").revision(), 2);
        assert_eq!(rx.try_recv().expect("second").revision(), 3);
        assert!(matches!(
            rx.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        // With no buffer, a watcher that is behind must read the log.
        assert!(matches!(hub.subscribe("/a/", 3), Subscription::Behind));
    }

    #[test]
    fn close_ends_subscriptions() {
        let hub = Hub::new(1, 4, 4);
        let (mut rx, _) = hub.subscribe_now("/").expect("open");
        hub.close();
        assert!(matches!(
            rx.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));
        assert!(matches!(hub.subscribe("/", 1), Subscription::Closed));
        assert!(hub.subscribe_now("/").is_none());
    }
}
