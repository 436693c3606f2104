//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct GarbageCollector;

impl GarbageCollector {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        GarbageCollector
    }

    /// Starts the workers.
    pub fn start(self) {}
}
