//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct NodeIpamController;

impl NodeIpamController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        NodeIpamController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
