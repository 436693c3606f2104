//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct DisruptionController;

impl DisruptionController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        DisruptionController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
