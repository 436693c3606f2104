//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct ResourceQuotaController;

impl ResourceQuotaController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        ResourceQuotaController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
