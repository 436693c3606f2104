//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct CronJobController;

impl CronJobController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        CronJobController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
