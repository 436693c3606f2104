//! Node networking: the CNI configuration that puts pods on a bridge with addresses from the
//! node's pod CIDR. (The overlay between nodes comes with service networking.)
#![forbid(unsafe_code)]

pub mod cni;
