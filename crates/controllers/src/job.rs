//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct JobController;

impl JobController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        JobController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
