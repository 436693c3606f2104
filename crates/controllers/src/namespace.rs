//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct NamespaceController;

impl NamespaceController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        NamespaceController
    }

    /// Starts the workers.
    pub fn start(self) {}
}
