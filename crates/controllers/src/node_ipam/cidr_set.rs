//! The pool of node pod CIDRs: `/24`s of the cluster CIDR `10.42.0.0/16`, each held by one node.

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The cluster CIDR's network address.
const CLUSTER_NET: [u8; 4] = [10, 42, 0, 0];
/// How many `/24`s the `/16` holds.
const SUBNETS: usize = 256;

/// Which `/24` each node holds.
#[derive(Default)]
pub struct CidrSet {
    by_node: HashMap<String, u8>,
    used: HashMap<u8, String>,
    next: usize,
}

/// The `/24` with index `i` as CIDR text.
pub fn cidr(i: u8) -> String {
    let [a, b, _, _] = CLUSTER_NET;
    format!("{}/24", Ipv4Addr::new(a, b, i, 0))
}

/// The index of a `/24` inside the cluster CIDR, if it is one.
pub fn parse(text: &str) -> Option<u8> {
    let (addr, bits) = text.split_once('/')?;
    let [a, b, c, d] = addr.parse::<Ipv4Addr>().ok()?.octets();
    ([a, b] == CLUSTER_NET[..2] && d == 0 && bits == "24").then_some(c)
}

impl CidrSet {
    /// The `/24` `node` holds, if any.
    pub fn of(&self, node: &str) -> Option<u8> {
        self.by_node.get(node).copied()
    }

    /// Records that `node` holds `/24` `i` (as read from its spec); `false` if another does.
    pub fn occupy(&mut self, node: &str, i: u8) -> bool {
        match self.used.get(&i) {
            Some(holder) if holder != node => false,
            _ => {
                self.used.insert(i, node.to_string());
                self.by_node.insert(node.to_string(), i);
                true
            }
        }
    }

    /// Gives `node` a free `/24` (the one it holds, if it holds one); `None` when all are taken.
    pub fn allocate(&mut self, node: &str) -> Option<u8> {
        if let Some(i) = self.of(node) {
            return Some(i);
        }
        let i = (0..SUBNETS)
            .map(|k| (self.next + k) % SUBNETS)
            .find(|i| !self.used.contains_key(&(*i as u8)))? as u8;
        self.next = usize::from(i) + 1;
        self.occupy(node, i);
        Some(i)
    }

    /// Frees what `node` holds.
    pub fn release(&mut self, node: &str) {
        if let Some(i) = self.by_node.remove(node) {
            if self.used.get(&i).is_some_and(|h| h == node) {
                self.used.remove(&i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_node_gets_its_own_slash_24_until_the_range_is_full() {
        let mut set = CidrSet::default();
        assert!(set.occupy("old", 0));
        let a = set.allocate("a").unwrap();
        assert_eq!(cidr(a), "10.42.1.0/24");
        assert_eq!(set.allocate("a"), Some(a), "stable for one node");
        for n in 0..254 {
            assert!(set.allocate(&format!("n{n}")).is_some());
        }
        assert_eq!(set.allocate("late"), None);
        set.release("a");
        assert_eq!(set.allocate("late"), Some(a));
        assert!(!set.occupy("other", a));
    }

    #[test]
    fn only_slash_24s_of_the_cluster_cidr_parse() {
        assert_eq!(parse("10.42.7.0/24"), Some(7));
        assert_eq!(parse("10.43.7.0/24"), None);
        assert_eq!(parse("10.42.7.0/16"), None);
        assert_eq!(parse("garbage"), None);
    }
}
