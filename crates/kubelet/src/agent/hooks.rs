//! Container lifecycle hooks: postStart right after a container starts (a failure kills it),
//! preStop before a container is stopped (within the grace period). Handlers are exec,
//! httpGet, tcpSocket (as probes run them) or sleep.

use super::probe;
use crate::runtime::Runtime;
use k8s_openapi::api::core::v1::{Container, LifecycleHandler, Probe};
use std::sync::Arc;
use std::time::Duration;

/// Runs `handler` for container `id` (pod at `pod_ip`), giving up after `timeout`.
pub async fn run(
    runtime: &Arc<dyn Runtime>,
    handler: &LifecycleHandler,
    id: &str,
    c: &Container,
    pod_ip: &str,
    timeout: Duration,
) -> Result<(), String> {
    if let Some(s) = &handler.sleep {
        let secs = Duration::from_secs(s.seconds.max(0) as u64);
        tokio::time::sleep(secs.min(timeout)).await;
        return Ok(());
    }
    let as_probe = Probe {
        exec: handler.exec.clone(),
        http_get: handler.http_get.clone(),
        tcp_socket: handler.tcp_socket.clone(),
        timeout_seconds: Some(timeout.as_secs().max(1) as i32),
        ..Default::default()
    };
    match tokio::time::timeout(timeout, probe::run(runtime, &as_probe, id, c, pod_ip)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the hook did not finish within {}s",
            timeout.as_secs()
        )),
    }
}
