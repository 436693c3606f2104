//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct NodeLifecycleController;

impl NodeLifecycleController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        NodeLifecycleController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
