//! Host-local style address allocation from the node's pod CIDR.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Hands out addresses of one IPv4 CIDR, skipping the network, gateway (.1) and broadcast.
pub struct Ipam {
    cidr: String,
    base: u32,
    size: u32,
    used: BTreeSet<u32>,
    next: u32,
}

impl Ipam {
    /// An allocator for `cidr` (e.g. `10.42.3.0/24`); `None` unless IPv4 with prefix 8–30.
    pub fn new(cidr: &str) -> Option<Ipam> {
        let (ip, prefix) = cidr.split_once('/')?;
        let ip: Ipv4Addr = ip.parse().ok()?;
        let prefix: u32 = prefix.parse().ok()?;
        if !(8..=30).contains(&prefix) {
            return None;
        }
        let size = 1u32 << (32 - prefix);
        Some(Ipam {
            cidr: cidr.to_string(),
            base: u32::from(ip) & !(size - 1),
            size,
            used: BTreeSet::new(),
            next: 2,
        })
    }

    /// The CIDR served.
    pub fn cidr(&self) -> &str {
        &self.cidr
    }

    /// The next free address, if any.
    pub fn allocate(&mut self) -> Option<String> {
        let usable = self.size - 3;
        for _ in 0..usable {
            let offset = self.next;
            self.next = if self.next + 1 >= self.size - 1 {
                2
            } else {
                self.next + 1
            };
            if self.used.insert(offset) {
                return Some(Ipv4Addr::from(self.base + offset).to_string());
            }
        }
        None
    }

    /// Returns an address to the pool.
    pub fn release(&mut self, ip: &str) {
        if let Ok(ip) = ip.parse::<Ipv4Addr>() {
            let offset = u32::from(ip).wrapping_sub(self.base);
            self.used.remove(&offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_inside_the_cidr_and_reuses_released_addresses() {
        let mut ipam = Ipam::new("10.42.7.0/30").unwrap();
        assert_eq!(ipam.allocate().as_deref(), Some("10.42.7.2"));
        assert_eq!(ipam.allocate(), None, "a /30 has one usable pod address");
        ipam.release("10.42.7.2");
        assert_eq!(ipam.allocate().as_deref(), Some("10.42.7.2"));
    }

    #[test]
    fn a_24_has_253_pod_addresses() {
        let mut ipam = Ipam::new("10.42.0.0/24").unwrap();
        let all: Vec<String> = std::iter::from_fn(|| ipam.allocate()).collect();
        assert_eq!(all.len(), 253);
        assert_eq!(all[0], "10.42.0.2");
        assert_eq!(all[252], "10.42.0.254");
    }

    #[test]
    fn rejects_what_is_not_an_ipv4_cidr() {
        assert!(Ipam::new("fd00::/64").is_none());
        assert!(Ipam::new("10.42.0.0").is_none());
        assert!(Ipam::new("10.42.0.0/33").is_none());
    }
}
