//! The pool of node pod CIDRs: subnets of one mask size (default `/24`) carved from the
//! cluster CIDR (default `10.42.0.0/16`), each held by one node.

use std::collections::HashMap;
use std::net::Ipv4Addr;

/// Why a cluster CIDR / mask pair is unusable.
#[derive(Debug, thiserror::Error)]
#[error("invalid cluster CIDR {cidr:?} with node mask /{mask}: {why}")]
pub struct InvalidRange {
    cidr: String,
    mask: u8,
    why: &'static str,
}

/// Which subnet each node holds.
pub struct CidrSet {
    network: u32,
    prefix: u8,
    mask: u8,
    size: u32,
    by_node: HashMap<String, u32>,
    used: HashMap<u32, String>,
    next: u32,
}

impl Default for CidrSet {
    fn default() -> Self {
        CidrSet::new("10.42.0.0/16", 24).expect("the default range is valid")
    }
}

impl CidrSet {
    /// The subnets of size `/mask` in `cluster_cidr`.
    pub fn new(cluster_cidr: &str, mask: u8) -> Result<CidrSet, InvalidRange> {
        let bad = |why| InvalidRange {
            cidr: cluster_cidr.to_string(),
            mask,
            why,
        };
        let (addr, bits) = cluster_cidr
            .split_once('/')
            .ok_or_else(|| bad("not a CIDR"))?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| bad("not an IPv4 address"))?;
        let prefix: u8 = bits.parse().map_err(|_| bad("bad prefix length"))?;
        if prefix > 30 || mask > 30 || mask < prefix || mask - prefix > 20 {
            return Err(bad("the node mask must be longer than the cluster prefix, by at most 20 bits, and at most /30"));
        }
        let host_bits = 32 - u32::from(prefix);
        let network = u32::from(addr) & !((1u64 << host_bits) - 1) as u32;
        Ok(CidrSet {
            network,
            prefix,
            mask,
            size: 1 << (mask - prefix),
            by_node: HashMap::new(),
            used: HashMap::new(),
            next: 0,
        })
    }

    /// Subnet `i` as CIDR text.
    pub fn cidr(&self, i: u32) -> String {
        let addr = self.network + (i << (32 - u32::from(self.mask)));
        format!("{}/{}", Ipv4Addr::from(addr), self.mask)
    }

    /// The index of a subnet of this pool, if `text` is one.
    pub fn parse(&self, text: &str) -> Option<u32> {
        let (addr, bits) = text.split_once('/')?;
        if bits.parse::<u8>().ok()? != self.mask {
            return None;
        }
        let addr = u32::from(addr.parse::<Ipv4Addr>().ok()?);
        let host_bits = 32 - u32::from(self.mask);
        let outer = 32 - u32::from(self.prefix);
        let inside = addr >> outer == self.network >> outer;
        let aligned = addr & ((1u64 << host_bits) - 1) as u32 == 0;
        (inside && aligned).then(|| (addr - self.network) >> host_bits)
    }

    /// The subnet `node` holds, if any.
    pub fn of(&self, node: &str) -> Option<u32> {
        self.by_node.get(node).copied()
    }

    /// Records that `node` holds subnet `i` (as read from its spec); `false` if another does.
    pub fn occupy(&mut self, node: &str, i: u32) -> bool {
        match self.used.get(&i) {
            Some(holder) if holder != node => false,
            _ => {
                self.used.insert(i, node.to_string());
                self.by_node.insert(node.to_string(), i);
                true
            }
        }
    }

    /// Gives `node` a free subnet (the one it holds, if it holds one); `None` when all are taken.
    pub fn allocate(&mut self, node: &str) -> Option<u32> {
        if let Some(i) = self.of(node) {
            return Some(i);
        }
        let i = (0..self.size)
            .map(|k| (self.next + k) % self.size)
            .find(|i| !self.used.contains_key(i))?;
        self.next = i + 1;
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
        assert_eq!(set.cidr(a), "10.42.1.0/24");
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
    fn only_subnets_of_the_cluster_cidr_parse() {
        let set = CidrSet::default();
        assert_eq!(set.parse("10.42.7.0/24"), Some(7));
        assert_eq!(set.parse("10.43.7.0/24"), None);
        assert_eq!(set.parse("10.42.7.0/16"), None);
        assert_eq!(set.parse("10.42.7.5/24"), None);
        assert_eq!(set.parse("garbage"), None);
    }

    #[test]
    fn larger_ranges_hold_thousands_of_nodes() {
        let mut set = CidrSet::new("10.64.0.0/10", 24).unwrap();
        for n in 0..5000 {
            assert!(set.allocate(&format!("n{n}")).is_some());
        }
        let last = set.of("n4999").unwrap();
        assert_eq!(set.cidr(last), "10.83.135.0/24");
        assert_eq!(set.parse("10.83.135.0/24"), Some(last));
        assert!(CidrSet::new("10.42.0.0/16", 12).is_err());
    }
}
