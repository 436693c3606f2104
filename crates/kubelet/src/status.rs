//! A pod's status from the runtime's view of it, by upstream kubelet's rules: phase per
//! restartPolicy, conditions, container statuses, IPs, start time and QoS class.

mod conditions;
pub(crate) mod qos;

use crate::pod_state::PodRuntimeState;
use crate::pod_sync::should_restart;
use crate::runtime::{ContainerState as RtState, ContainerStatus as RtStatus};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, HostIP, Pod, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use std::collections::HashMap;

pub use conditions::conditions;
pub use qos::qos_class;

/// Why a container waits (e.g. `CrashLoopBackOff`), as the pod worker decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Short reason.
    pub reason: String,
    /// Human message.
    pub message: String,
}

/// What the status needs beyond the pod and the runtime state.
pub struct StatusContext<'a> {
    /// The node's IP.
    pub host_ip: &'a str,
    /// Scheme of container IDs (`containerd`, `fake`).
    pub runtime_name: &'a str,
    /// Containers waiting for a reason the runtime does not know.
    pub waiting: &'a HashMap<String, Waiting>,
    /// Readiness by container name (from probes); absent means ready while running.
    pub readiness: &'a HashMap<String, bool>,
    /// Started by container name (from startup probes); absent means started while running.
    pub started: &'a HashMap<String, bool>,
    /// The time now.
    pub now: Timestamp,
}

/// A timestamp as the API keeps it (whole seconds).
pub fn time(t: Timestamp) -> Time {
    Time(Timestamp::from_second(t.as_second()).unwrap_or(t))
}

fn restart_policy(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always")
}

/// Whether an init container's newest run in the current sandbox exited 0.
pub fn init_done(state: &PodRuntimeState, name: &str) -> bool {
    state
        .attempts(name)
        .first()
        .is_some_and(|c| c.state == RtState::Exited && c.exit_code == 0)
}

/// Whether the pod's containers are done for good (nothing will run again).
pub fn runtime_is_terminal(pod: &Pod, state: &PodRuntimeState) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let policy = restart_policy(pod);
    for c in spec.init_containers.iter().flatten() {
        match state.attempts(&c.name).first() {
            Some(s) if s.state == RtState::Exited && s.exit_code != 0 => {
                return !should_restart(policy, s.exit_code)
            }
            Some(s) if s.state == RtState::Exited => {}
            _ => return false,
        }
    }
    !spec.containers.is_empty()
        && spec.containers.iter().all(|c| {
            state
                .latest(&c.name)
                .is_some_and(|s| s.state == RtState::Exited && !should_restart(policy, s.exit_code))
        })
}

fn terminated(s: &RtStatus, runtime: &str) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: s.exit_code,
            reason: Some(if s.reason.is_empty() {
                if s.exit_code == 0 {
                    "Completed"
                } else {
                    "Error"
                }
                .to_string()
            } else {
                s.reason.clone()
            }),
            message: (!s.message.is_empty()).then(|| s.message.clone()),
            started_at: s.started_at.map(time),
            finished_at: s.finished_at.map(time),
            container_id: Some(format!("{runtime}://{}", s.id)),
            signal: None,
        }),
        ..Default::default()
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..Default::default()
    }
}

/// The status of one container of the spec.
fn container_status(
    c: &Container,
    state: &PodRuntimeState,
    ctx: &StatusContext,
    default_reason: &str,
) -> ContainerStatus {
    let attempts = state.attempts(&c.name);
    let latest = attempts.first().copied().or_else(|| state.latest(&c.name));
    let mut cs = ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        image_id: String::new(),
        ready: false,
        restart_count: 0,
        started: Some(false),
        state: Some(waiting(default_reason, None)),
        ..Default::default()
    };
    let Some(s) = latest else {
        // never created: the worker may know why (image pull, configuration)
        if let Some(w) = ctx.waiting.get(&c.name) {
            cs.state = Some(waiting(&w.reason, Some(w.message.clone())));
        }
        return cs;
    };
    cs.restart_count = s.metadata.attempt as i32;
    cs.image_id = s.image_ref.clone();
    cs.container_id = Some(format!("{}://{}", ctx.runtime_name, s.id));
    if let Some(prev) = attempts.get(1) {
        cs.last_state = Some(terminated(prev, ctx.runtime_name));
    }
    match s.state {
        RtState::Created => cs.state = Some(waiting("ContainerCreating", None)),
        RtState::Running => {
            cs.state = Some(ContainerState {
                running: Some(ContainerStateRunning {
                    started_at: s.started_at.map(time),
                }),
                ..Default::default()
            });
            cs.started = Some(ctx.started.get(&c.name).copied().unwrap_or(true));
            cs.ready = ctx.readiness.get(&c.name).copied().unwrap_or(true);
        }
        RtState::Exited => match ctx.waiting.get(&c.name) {
            Some(w) => {
                cs.state = Some(waiting(&w.reason, Some(w.message.clone())));
                cs.last_state = Some(terminated(s, ctx.runtime_name));
            }
            None => cs.state = Some(terminated(s, ctx.runtime_name)),
        },
        RtState::Unknown => cs.state = Some(waiting("ContainerStatusUnknown", None)),
    }
    if cs.last_state.is_none() {
        cs.last_state = Some(ContainerState::default());
    }
    cs
}

/// The pod phase from container statuses (upstream's `getPhase`).
pub fn phase(pod: &Pod, init: &[ContainerStatus], regular: &[ContainerStatus]) -> &'static str {
    let policy = restart_policy(pod);
    let (mut pending_init, mut failed_init) = (0, 0);
    for cs in init {
        let st = cs.state.clone().unwrap_or_default();
        let last = cs.last_state.as_ref().and_then(|l| l.terminated.as_ref());
        match (&st.running, &st.terminated, &st.waiting) {
            (Some(_), _, _) => pending_init += 1,
            (_, Some(t), _) if t.exit_code == 0 => {}
            (_, Some(_), _) => failed_init += 1,
            (_, _, Some(_)) => match last {
                Some(t) if t.exit_code == 0 => {}
                Some(_) => failed_init += 1,
                None => pending_init += 1,
            },
            _ => pending_init += 1,
        }
    }
    if failed_init > 0 && policy == "Never" {
        return "Failed";
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for cs in regular {
        let st = cs.state.clone().unwrap_or_default();
        let last = cs.last_state.as_ref().and_then(|l| l.terminated.as_ref());
        match (&st.running, &st.terminated, &st.waiting) {
            (Some(_), _, _) => running += 1,
            (_, Some(t), _) => {
                stopped += 1;
                if t.exit_code == 0 {
                    succeeded += 1;
                }
            }
            (_, _, Some(_)) if last.is_some() => stopped += 1,
            _ => waiting += 1,
        }
    }
    if pending_init > 0 || failed_init > 0 || waiting > 0 {
        return "Pending";
    }
    if running > 0 {
        return "Running";
    }
    if stopped == 0 {
        return "Pending";
    }
    match policy {
        "Always" => "Running",
        _ if stopped == succeeded => "Succeeded",
        "Never" => "Failed",
        _ => "Running",
    }
}

/// The pod's status, starting from its current one and replacing what the kubelet owns.
pub fn pod_status(pod: &Pod, state: &PodRuntimeState, ctx: &StatusContext) -> PodStatus {
    let old = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let inits = spec.init_containers.as_deref().unwrap_or_default();
    let default_reason = if inits.is_empty() {
        "ContainerCreating"
    } else {
        "PodInitializing"
    };
    let init: Vec<ContainerStatus> = inits
        .iter()
        .map(|c| container_status(c, state, ctx, default_reason))
        .collect();
    let mut regular: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| container_status(c, state, ctx, default_reason))
        .collect();
    regular.sort_by(|a, b| a.name.cmp(&b.name));
    let mut phase = phase(pod, &init, &regular).to_string();
    if matches!(old.phase.as_deref(), Some("Succeeded" | "Failed")) {
        phase = old.phase.clone().unwrap_or_default();
    }
    let mut status = old.clone();
    status.conditions = Some(conditions(pod, &phase, state, &init, &regular, ctx.now));
    status.phase = Some(phase);
    status.init_container_statuses = (!init.is_empty()).then_some(init);
    status.container_statuses = Some(regular);
    status.host_ip = Some(ctx.host_ip.to_string());
    status.host_ips = Some(vec![HostIP {
        ip: ctx.host_ip.to_string(),
    }]);
    let pod_ip = if spec.host_network.unwrap_or(false) {
        Some(ctx.host_ip.to_string())
    } else {
        state.sandbox.as_ref().and_then(|s| s.ip.clone())
    };
    if let Some(ip) = pod_ip {
        status.pod_ip = Some(ip.clone());
        status.pod_ips = Some(vec![PodIP { ip }]);
    }
    status.start_time = old.start_time.or_else(|| Some(time(ctx.now)));
    status.qos_class = old.qos_class.or_else(|| Some(qos_class(&spec).to_string()));
    status
}

#[cfg(test)]
mod tests;
