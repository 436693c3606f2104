//! The pod scheduler: filters, scores, queue with backoff, binding, preemption.

pub mod cache;
pub mod cycle_state;
pub mod default_selector;
pub mod diagnosis;
pub mod framework;
pub mod node_info;
pub mod plugins;
pub mod pod_info;
pub mod preemption;
pub mod priority;
pub mod queue;
pub mod resources;
pub mod schedule;
pub mod selector;

#[cfg(test)]
mod testing;
