//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct ServiceAccountController;

impl ServiceAccountController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        ServiceAccountController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
