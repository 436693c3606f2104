//! skiff-sim
