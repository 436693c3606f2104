//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct StatefulSetController;

impl StatefulSetController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        StatefulSetController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
