//! The stream of events a watch returns.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{BoxStream, Stream, StreamExt};

use crate::error::Result;
use crate::types::Event;

/// Events of one watch, in revision order; ends after an error.
pub struct WatchStream {
    inner: BoxStream<'static, Result<Event>>,
}

impl WatchStream {
    /// Wraps a backend's event stream.
    pub fn new(inner: impl Stream<Item = Result<Event>> + Send + 'static) -> Self {
        WatchStream {
            inner: inner.boxed(),
        }
    }
}

impl Stream for WatchStream {
    type Item = Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{EventKind, KeyValue};

    fn assert_send_unpin<T: Stream + Send + Unpin + 'static>(_: &T) {}

    #[tokio::test]
    async fn wraps_any_event_stream() {
        let kv = KeyValue {
            key: "/a".into(),
            value: vec![1],
            create_revision: 2,
            mod_revision: 2,
        };
        let event = Event {
            kind: EventKind::Put,
            kv,
            prev: None,
        };
        let mut stream = WatchStream::new(futures::stream::iter(vec![Ok(event.clone())]));
        assert_send_unpin(&stream);
        assert_eq!(stream.next().await.map(|r| r.ok()), Some(Some(event)));
        assert!(stream.next().await.is_none());
    }
}
