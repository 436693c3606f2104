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
