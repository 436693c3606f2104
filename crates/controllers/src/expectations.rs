//! Creations and deletions a controller has asked for but not yet seen in its informer, so a
//! lagging cache never makes it create or delete twice (upstream's ControllerExpectations).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an expectation is trusted before the controller syncs anyway.
const TTL: Duration = Duration::from_secs(300);

#[derive(Clone, Copy)]
struct Expected {
    adds: i64,
    deletes: i64,
    set_at: Instant,
}

/// Pending creations/deletions per controller key.
#[derive(Default)]
pub struct Expectations {
    map: Mutex<HashMap<String, Expected>>,
}

impl Expectations {
    /// Whether the controller for `key` may act on its cache.
    pub fn satisfied(&self, key: &str) -> bool {
        match self.map.lock().get(key) {
            None => true,
            Some(e) => (e.adds <= 0 && e.deletes <= 0) || e.set_at.elapsed() > TTL,
        }
    }

    /// Records that `adds` creations and `deletes` deletions are on their way.
    pub fn expect(&self, key: &str, adds: i64, deletes: i64) {
        self.map.lock().insert(
            key.to_string(),
            Expected {
                adds,
                deletes,
                set_at: Instant::now(),
            },
        );
    }

    /// One expected creation was seen (or will never happen).
    pub fn creation_observed(&self, key: &str) {
        if let Some(e) = self.map.lock().get_mut(key) {
            e.adds -= 1;
        }
    }

    /// One expected deletion was seen (or will never happen).
    pub fn deletion_observed(&self, key: &str) {
        if let Some(e) = self.map.lock().get_mut(key) {
            e.deletes -= 1;
        }
    }

    /// Forgets `key` (its controller was deleted).
    pub fn forget(&self, key: &str) {
        self.map.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfied_once_every_expected_event_is_seen() {
        let e = Expectations::default();
        assert!(e.satisfied("ns/rs"));
        e.expect("ns/rs", 2, 0);
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(!e.satisfied("ns/rs"));
        e.creation_observed("ns/rs");
        assert!(e.satisfied("ns/rs"));
    }
}
