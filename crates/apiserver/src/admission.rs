//! Built-in admission: namespace lifecycle, Service IP and port allocation, disruption budgets.

mod eviction;
mod namespace;
mod service;

pub use eviction::admit_eviction;
pub use namespace::namespace_lifecycle;
pub use service::{create_service, in_service_net, mutate_update, AllocationGuard, NODE_PORTS};
