//! A watch: replay from the buffer or the log, then follow live events, never skipping one.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::hub::Subscription;
use super::{read, Shared};
use crate::error::{Error, Result};
use crate::types::{Event, Revision};
use crate::watch_stream::WatchStream;

/// Most log rows read per catch-up query.
const REPLAY_PAGE: usize = 1_000;

/// Where a watch stands.
enum Phase {
    /// Following the hub: buffered backlog first, then the channel.
    Live {
        rx: mpsc::Receiver<Arc<Event>>,
        backlog: VecDeque<Arc<Event>>,
    },
    /// Not subscribed; must rejoin the hub or read the log.
    Behind,
    /// Yielding a page read from the log, complete through `through`.
    Replay {
        events: VecDeque<Event>,
        through: Revision,
    },
    /// Finished after an error.
    Done,
}

struct WatchState {
    shared: Arc<Shared>,
    prefix: String,
    /// Revision of the last event delivered (or known not to match).
    last: Revision,
    phase: Phase,
}

/// Starts a watch of `prefix` for events after `after` (0: from now).
pub(crate) fn watch(shared: Arc<Shared>, prefix: String, after: Revision) -> Result<WatchStream> {
    let (current, compacted) = shared.revisions();
    if after < 0 || (after > 0 && after < compacted) {
        return Err(Error::Compacted {
            compact_revision: compacted,
            current_revision: current,
        });
    }
    let (phase, last) = if after == 0 {
        let (rx, last) = shared.hub.subscribe_now(&prefix).ok_or(Error::Closed)?;
        let backlog = VecDeque::new();
        (Phase::Live { rx, backlog }, last)
    } else {
        (Phase::Behind, after)
    };
    let state = WatchState {
        shared,
        prefix,
        last,
        phase,
    };
    Ok(WatchStream::new(futures::stream::unfold(state, next)))
}

/// Produces the next event, or the error that ends the stream.
async fn next(mut st: WatchState) -> Option<(Result<Event>, WatchState)> {
    loop {
        match &mut st.phase {
            Phase::Done => return None,
            Phase::Live { rx, backlog } => {
                let event = match backlog.pop_front() {
                    Some(event) => event,
                    None => match rx.recv().await {
                        Some(event) => event,
                        // Dropped for lagging, or the store closed: rejoin decides which.
                        None => {
                            st.phase = Phase::Behind;
                            continue;
                        }
                    },
                };
                if event.revision() <= st.last || !event.kv.key.starts_with(&st.prefix) {
                    continue;
                }
                st.last = event.revision();
                return Some((Ok(Event::clone(&event)), st));
            }
            Phase::Replay { events, through } => match events.pop_front() {
                Some(event) => {
                    st.last = event.revision();
                    return Some((Ok(event), st));
                }
                None => {
                    st.last = st.last.max(*through);
                    st.phase = Phase::Behind;
                }
            },
            Phase::Behind => match st.shared.hub.subscribe(&st.prefix, st.last) {
                Subscription::Live { rx, backlog } => {
                    let backlog = backlog.into();
                    st.phase = Phase::Live { rx, backlog };
                }
                Subscription::Closed => return fail(st, Error::Closed),
                Subscription::Behind => {
                    let (prefix, after) = (st.prefix.clone(), st.last);
                    let page = read::run(&st.shared, move |conn| {
                        read::events_after(conn, &prefix, after, REPLAY_PAGE)
                    })
                    .await;
                    match page {
                        Ok(page) => {
                            let events = page.events.into();
                            st.phase = Phase::Replay {
                                events,
                                through: page.through,
                            };
                        }
                        Err(err) => return fail(st, err),
                    }
                }
            },
        }
    }
}

fn fail(mut st: WatchState, err: Error) -> Option<(Result<Event>, WatchState)> {
    st.phase = Phase::Done;
    Some((Err(err), st))
}
