//! Container probes as upstream's prober runs them: startup first, then liveness and
//! readiness, each every `periodSeconds` after `initialDelaySeconds`, judged by
//! `successThreshold`/`failureThreshold`, with exec, httpGet, tcpSocket and grpc checks.
//! A failed startup or liveness probe kills the container (the pod worker restarts it per
//! restartPolicy); readiness drives the container's `ready` and the pod's Ready condition.

use crate::runtime::{ContainerState, ContainerStatus, Runtime};
use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Which probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// startupProbe.
    Startup,
    /// livenessProbe.
    Liveness,
    /// readinessProbe.
    Readiness,
}

#[derive(Default)]
struct Tracked {
    started: bool,
    ready: bool,
    successes: HashMap<Kind, i32>,
    failures: HashMap<Kind, i32>,
    last: HashMap<Kind, Instant>,
    running: HashMap<Kind, bool>,
}

/// What the probes of a node's containers found, by container id.
#[derive(Default)]
pub struct Probes {
    tracked: Mutex<HashMap<String, Tracked>>,
}

/// What a probe run concluded.
pub enum Outcome {
    /// Nothing visible changed.
    Same,
    /// Ready or started changed: the pod's status should be written.
    Changed,
    /// The container must be killed (liveness or startup failed).
    Kill(String),
}

impl Probes {
    /// Whether a container passed its startup probe (true if it has none).
    pub fn started(&self, id: &str, c: &Container) -> bool {
        c.startup_probe.is_none() || self.tracked.lock().get(id).is_some_and(|t| t.started)
    }

    /// Whether a container is ready by its readiness probe (true if it has none, once started).
    pub fn ready(&self, id: &str, c: &Container) -> bool {
        if !self.started(id, c) {
            return false;
        }
        c.readiness_probe.is_none() || self.tracked.lock().get(id).is_some_and(|t| t.ready)
    }

    /// Forgets containers not in `live`.
    pub fn retain(&self, live: &std::collections::HashSet<String>) {
        self.tracked.lock().retain(|id, _| live.contains(id));
    }

    /// The probes of `c` (running as `status`) due now, marking them in flight.
    pub fn due(&self, status: &ContainerStatus, c: &Container, now: Instant) -> Vec<(Kind, Probe)> {
        if status.state != ContainerState::Running {
            return Vec::new();
        }
        let mut tracked = self.tracked.lock();
        let t = tracked.entry(status.id.clone()).or_default();
        let age = status
            .started_at
            .map(|s| {
                let secs = k8s_openapi::jiff::Timestamp::now().as_second() - s.as_second();
                Duration::from_secs(secs.max(0) as u64)
            })
            .unwrap_or_default();
        let mut out = Vec::new();
        let candidates: Vec<(Kind, &Option<Probe>)> = if c.startup_probe.is_some() && !t.started {
            vec![(Kind::Startup, &c.startup_probe)]
        } else {
            vec![
                (Kind::Liveness, &c.liveness_probe),
                (Kind::Readiness, &c.readiness_probe),
            ]
        };
        for (kind, probe) in candidates {
            let Some(p) = probe else { continue };
            if t.running.get(&kind).copied().unwrap_or(false) {
                continue;
            }
            let delay = Duration::from_secs(p.initial_delay_seconds.unwrap_or(0).max(0) as u64);
            let period = Duration::from_secs(p.period_seconds.unwrap_or(10).max(1) as u64);
            if age < delay {
                continue;
            }
            if t.last
                .get(&kind)
                .is_some_and(|l| now.duration_since(*l) < period)
            {
                continue;
            }
            t.last.insert(kind, now);
            t.running.insert(kind, true);
            out.push((kind, p.clone()));
        }
        out
    }

    /// Records a probe result.
    pub fn record(
        &self,
        id: &str,
        kind: Kind,
        probe: &Probe,
        result: Result<(), String>,
    ) -> Outcome {
        let mut tracked = self.tracked.lock();
        let Some(t) = tracked.get_mut(id) else {
            return Outcome::Same;
        };
        t.running.insert(kind, false);
        let success_threshold = probe.success_threshold.unwrap_or(1).max(1);
        let failure_threshold = probe.failure_threshold.unwrap_or(3).max(1);
        match result {
            Ok(()) => {
                t.failures.insert(kind, 0);
                let n = t.successes.entry(kind).or_insert(0);
                *n += 1;
                let passed = *n >= success_threshold;
                match kind {
                    Kind::Startup if passed && !t.started => {
                        t.started = true;
                        Outcome::Changed
                    }
                    Kind::Readiness if passed && !t.ready => {
                        t.ready = true;
                        Outcome::Changed
                    }
                    _ => Outcome::Same,
                }
            }
            Err(message) => {
                t.successes.insert(kind, 0);
                let n = t.failures.entry(kind).or_insert(0);
                *n += 1;
                let failed = *n >= failure_threshold;
                match kind {
                    Kind::Readiness if t.ready && failed => {
                        t.ready = false;
                        Outcome::Changed
                    }
                    Kind::Liveness | Kind::Startup if failed => {
                        t.failures.insert(kind, 0);
                        // no more probes of this run: it is being killed
                        t.running.insert(kind, true);
                        let what = if kind == Kind::Liveness {
                            "Liveness"
                        } else {
                            "Startup"
                        };
                        Outcome::Kill(format!("{what} probe failed: {message}"))
                    }
                    _ => Outcome::Same,
                }
            }
        }
    }
}

/// The port a probe names, resolving named ports from the container.
fn port(p: &IntOrString, c: &Container) -> Result<u16, String> {
    match p {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("invalid port {n}")),
        IntOrString::String(name) => c
            .ports
            .iter()
            .flatten()
            .find(|cp| cp.name.as_deref() == Some(name.as_str()))
            .and_then(|cp| u16::try_from(cp.container_port).ok())
            .ok_or_else(|| format!("no port named {name:?} in container {}", c.name)),
    }
}

/// Runs one probe against container `id` of a pod at `pod_ip`.
pub async fn run(
    runtime: &Arc<dyn Runtime>,
    probe: &Probe,
    id: &str,
    c: &Container,
    pod_ip: &str,
) -> Result<(), String> {
    let timeout = Duration::from_secs(probe.timeout_seconds.unwrap_or(1).max(1) as u64);
    if let Some(e) = &probe.exec {
        let cmd = e.command.clone().unwrap_or_default();
        let r = runtime
            .exec_sync(id, &cmd, timeout)
            .await
            .map_err(|e| e.to_string())?;
        if r.exit_code == 0 {
            return Ok(());
        }
        let out = String::from_utf8_lossy(&r.stdout).trim().to_string();
        return Err(format!(
            "command {cmd:?} exited with {}: {out}",
            r.exit_code
        ));
    }
    if let Some(h) = &probe.http_get {
        let host = h
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| pod_ip.to_string());
        let port = port(&h.port, c)?;
        let scheme = h.scheme.as_deref().unwrap_or("HTTP").to_lowercase();
        let path = h.path.clone().unwrap_or_else(|| "/".to_string());
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let url = format!("{scheme}://{host}:{port}{path}");
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .danger_accept_invalid_certs(true)
            .build()
            .map_err(|e| e.to_string())?;
        let mut req = client.get(&url).header("User-Agent", "kube-probe/1.33");
        for hh in h.http_headers.iter().flatten() {
            req = req.header(hh.name.as_str(), hh.value.as_str());
        }
        let resp = req.send().await.map_err(|e| format!("Get {url:?}: {e}"))?;
        let code = resp.status().as_u16();
        return if (200..400).contains(&code) {
            Ok(())
        } else {
            Err(format!("HTTP probe failed with statuscode: {code}"))
        };
    }
    if let Some(t) = &probe.tcp_socket {
        let host = t
            .host
            .clone()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| pod_ip.to_string());
        let port = port(&t.port, c)?;
        return match tokio::time::timeout(
            timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("dial tcp {host}:{port}: {e}")),
            Err(_) => Err(format!("dial tcp {host}:{port}: i/o timeout")),
        };
    }
    if let Some(g) = &probe.grpc {
        let port = u16::try_from(g.port).map_err(|_| format!("invalid port {}", g.port))?;
        return grpc_check(pod_ip, port, g.service.as_deref().unwrap_or(""), timeout).await;
    }
    Err("the probe names no check".to_string())
}

/// The gRPC health check (`grpc.health.v1.Health/Check`): SERVING passes.
async fn grpc_check(ip: &str, port: u16, service: &str, timeout: Duration) -> Result<(), String> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{ip}:{port}"))
        .map_err(|e| e.to_string())?
        .connect_timeout(timeout)
        .timeout(timeout);
    let channel = endpoint.connect().await.map_err(|e| {
        format!(
            "failed to connect service \"{ip}:{port}\" within {}s: {e}",
            timeout.as_secs()
        )
    })?;
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    let resp = client
        .check(tonic_health::pb::HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .map_err(|e| format!("health rpc failed: {}", e.message()))?;
    let status = resp.into_inner().status;
    if status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32 {
        Ok(())
    } else {
        Err(format!("service unhealthy (responded with {status})"))
    }
}

/// The containers of a pod spec that have probes.
pub fn probed(pod: &Pod) -> impl Iterator<Item = &Container> {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter(|c| {
            c.liveness_probe.is_some() || c.readiness_probe.is_some() || c.startup_probe.is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(success: i32, failure: i32) -> Probe {
        Probe {
            success_threshold: Some(success),
            failure_threshold: Some(failure),
            ..Default::default()
        }
    }

    fn track(p: &Probes, id: &str) {
        p.tracked.lock().insert(id.to_string(), Tracked::default());
    }

    #[test]
    fn readiness_needs_its_success_threshold_and_drops_at_its_failure_threshold() {
        let p = Probes::default();
        track(&p, "c1");
        let pr = probe(2, 2);
        assert!(matches!(
            p.record("c1", Kind::Readiness, &pr, Ok(())),
            Outcome::Same
        ));
        assert!(matches!(
            p.record("c1", Kind::Readiness, &pr, Ok(())),
            Outcome::Changed
        ));
        assert!(p.tracked.lock()["c1"].ready);
        assert!(matches!(
            p.record("c1", Kind::Readiness, &pr, Err("x".into())),
            Outcome::Same
        ));
        assert!(matches!(
            p.record("c1", Kind::Readiness, &pr, Err("x".into())),
            Outcome::Changed
        ));
        assert!(!p.tracked.lock()["c1"].ready);
    }

    #[test]
    fn liveness_kills_after_consecutive_failures_only() {
        let p = Probes::default();
        track(&p, "c1");
        let pr = probe(1, 3);
        for _ in 0..2 {
            assert!(matches!(
                p.record("c1", Kind::Liveness, &pr, Err("x".into())),
                Outcome::Same
            ));
        }
        // a success in between starts the count again
        assert!(matches!(
            p.record("c1", Kind::Liveness, &pr, Ok(())),
            Outcome::Same
        ));
        for _ in 0..2 {
            assert!(matches!(
                p.record("c1", Kind::Liveness, &pr, Err("x".into())),
                Outcome::Same
            ));
        }
        assert!(
            matches!(p.record("c1", Kind::Liveness, &pr, Err("boom".into())), Outcome::Kill(m) if m.contains("boom"))
        );
    }
}
