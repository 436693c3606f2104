//! Not written yet.

use crate::{Context, Informers};

/// Not written yet.
pub struct ReplicaSetController;
/// Not written yet.
pub struct ReplicationManager;

impl ReplicaSetController {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        ReplicaSetController
    }
    /// Starts the workers.
    pub fn start(self) {}
}
impl ReplicationManager {
    /// Registers with the informers.
    pub fn new(_ctx: &Context, _informers: &Informers) -> Self {
        ReplicationManager
    }
    /// Starts the workers.
    pub fn start(self) {}
}
