//! Settings of a group of hollow nodes.

use std::time::Duration;

/// How many hollow nodes to run and what each reports.
#[derive(Clone, Debug)]
pub struct NodesConfig {
    /// Number of nodes.
    pub count: usize,
    /// Node names are this prefix plus an index from 0.
    pub name_prefix: String,
    /// CPU capacity of each node.
    pub cpu: String,
    /// Memory capacity of each node.
    pub memory: String,
    /// Pod capacity of each node.
    pub pods: u32,
    /// Pod workers writing statuses at once (shared by all nodes).
    pub status_writers: usize,
    /// Lease renewal period (spread over the nodes).
    pub lease_interval: Duration,
    /// How often a node re-posts its status when nothing changed.
    pub node_status_interval: Duration,
    /// Registrations in flight at once.
    pub register_concurrency: usize,
}

impl Default for NodesConfig {
    fn default() -> Self {
        NodesConfig {
            count: 1,
            name_prefix: "sim-".to_string(),
            cpu: "8".to_string(),
            memory: "32Gi".to_string(),
            pods: 110,
            status_writers: 48,
            lease_interval: skiff_kubelet::lease::RENEW_INTERVAL,
            node_status_interval: Duration::from_secs(300),
            register_concurrency: 32,
        }
    }
}

impl NodesConfig {
    /// The name of node `i`.
    pub fn node_name(&self, i: usize) -> String {
        format!("{}{i}", self.name_prefix)
    }

    /// A loopback address for node `i` (never contacted; unique per node).
    pub fn node_ip(&self, i: usize) -> String {
        let n = i + 1;
        format!("127.{}.{}.{}", 1 + (n >> 16) % 254, (n >> 8) & 255, n & 255)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_unique_per_index() {
        let c = NodesConfig::default();
        assert_eq!(c.node_name(3), "sim-3");
        assert_eq!(c.node_ip(0), "127.1.0.1");
        assert_eq!(c.node_ip(255), "127.1.1.0");
        let ips: std::collections::HashSet<String> = (0..70_000).map(|i| c.node_ip(i)).collect();
        assert_eq!(ips.len(), 70_000);
    }
}
