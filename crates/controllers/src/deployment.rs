//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct DeploymentController;

impl DeploymentController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        DeploymentController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
