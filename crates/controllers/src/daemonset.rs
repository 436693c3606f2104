//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct DaemonSetController;

impl DaemonSetController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        DaemonSetController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
