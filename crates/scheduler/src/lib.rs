//! The pod scheduler: filters, scores, queue with backoff, binding, preemption.
//!
//! Pods with no node and our `schedulerName` are queued by priority; each scheduling cycle
//! filters enough feasible nodes (upstream's `percentageOfNodesToScore`), scores them with
//! upstream's default plugins and weights, assumes the pod on the best node and binds it in
//! the background. Pods that fit nowhere get `PodScheduled=False`, an Event, maybe a
//! preemption, and are retried with backoff when the cluster changes.

pub mod api;
pub mod cache;
pub mod config;
pub mod cycle_state;
pub mod default_selector;
pub mod diagnosis;
pub mod framework;
pub mod informers;
pub mod label_groups;
pub mod node_info;
pub mod plugins;
pub mod pod_info;
pub mod preemption;
pub mod priority;
pub mod queue;
pub mod resources;
pub mod schedule;
pub mod scheduler;
pub mod selector;

#[cfg(test)]
mod testing;

pub use config::Config;
pub use scheduler::run;
