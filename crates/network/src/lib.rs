//! Node networking: the CNI configuration that puts pods on a bridge with addresses from the
//! node's pod CIDR, and the VXLAN overlay that routes every other node's pod CIDR.
#![forbid(unsafe_code)]

pub mod cni;
pub mod overlay;
