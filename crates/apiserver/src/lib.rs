//! Kubernetes-compatible HTTPS API surface for Skiff.

pub mod admission;
pub mod auth;
pub mod bootstrap;
pub mod discovery;
pub mod duplicates;
pub mod error;
pub mod handlers;
pub mod join;
pub mod kind_cache;
pub mod loopback;
pub mod meta;
pub mod namespace_cache;
pub mod negotiate;
pub mod pki;
pub mod registry;
pub mod request;
pub mod server;
pub mod start;
pub mod state;
pub mod system;
pub mod watch_cache;

pub use start::{start, Config, Running, StartError};
pub use state::Api;
