//! Scheduler settings.

/// How the scheduler runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Pods whose `spec.schedulerName` is this (missing means `default-scheduler`) are ours.
    pub scheduler_name: String,
    /// Percentage of nodes to find feasible before scoring; upstream's adaptive rule if unset.
    pub percentage_of_nodes_to_score: Option<u32>,
    /// Where the informers come from (shared with other control loops in the process).
    pub informers: skiff_client::SharedInformers,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scheduler_name: DEFAULT_SCHEDULER.to_string(),
            percentage_of_nodes_to_score: None,
            informers: Default::default(),
        }
    }
}

/// The name pods without `spec.schedulerName` get.
pub const DEFAULT_SCHEDULER: &str = "default-scheduler";
