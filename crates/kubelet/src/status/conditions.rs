//! Pod conditions: PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled.

use super::time;
use crate::pod_state::PodRuntimeState;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod, PodCondition};
use k8s_openapi::jiff::Timestamp;

fn go_list(names: &[String]) -> String {
    format!("[{}]", names.join(" "))
}

fn condition(
    pod: &Pod,
    kind: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: Timestamp,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let old = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == kind));
    let last_transition_time = match old {
        Some(o) if o.status == status => o.last_transition_time.clone(),
        _ => Some(time(now)),
    };
    PodCondition {
        type_: kind.to_string(),
        status: status.to_string(),
        reason: reason.map(str::to_string),
        message,
        last_transition_time,
        last_probe_time: None,
        observed_generation: old.and_then(|o| o.observed_generation),
    }
}

fn readiness_message(statuses: &[ContainerStatus]) -> Option<String> {
    let unready: Vec<String> = statuses
        .iter()
        .filter(|c| !c.ready)
        .map(|c| c.name.clone())
        .collect();
    (!unready.is_empty()).then(|| format!("containers with unready status: {}", go_list(&unready)))
}

/// The conditions the kubelet owns, plus the scheduler's PodScheduled (kept, or True).
pub fn conditions(
    pod: &Pod,
    phase: &str,
    state: &PodRuntimeState,
    init: &[ContainerStatus],
    regular: &[ContainerStatus],
    now: Timestamp,
) -> Vec<PodCondition> {
    let incomplete: Vec<String> = init
        .iter()
        .filter(|c| {
            let st = c.state.clone().unwrap_or_default();
            st.terminated.is_none_or(|t| t.exit_code != 0)
        })
        .map(|c| c.name.clone())
        .collect();
    let initialized = incomplete.is_empty() || phase == "Succeeded";
    let completed = phase == "Succeeded";
    let message = readiness_message(regular);
    let ready = message.is_none() && !completed && phase == "Running";
    let (reason, msg) = if completed {
        (Some("PodCompleted"), None)
    } else if ready {
        (None, None)
    } else {
        (Some("ContainersNotReady"), message)
    };
    let gates: Vec<String> = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_ref())
        .into_iter()
        .flatten()
        .map(|g| g.condition_type.clone())
        .filter(|t| {
            !pod.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == *t && c.status == "True"))
        })
        .collect();
    let pod_ready = if ready && !gates.is_empty() {
        condition(
            pod,
            "Ready",
            false,
            Some("ReadinessGatesNotReady"),
            Some(format!(
                "corresponding condition of pod readiness gate \"{}\" does not exist.",
                gates[0]
            )),
            now,
        )
    } else {
        condition(pod, "Ready", ready, reason, msg.clone(), now)
    };
    let scheduled = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled").cloned())
        .unwrap_or_else(|| condition(pod, "PodScheduled", true, None, None, now));
    let mut out = vec![
        condition(
            pod,
            "PodReadyToStartContainers",
            state.sandbox_ready(),
            None,
            None,
            now,
        ),
        if initialized {
            condition(pod, "Initialized", true, None, None, now)
        } else {
            condition(
                pod,
                "Initialized",
                false,
                Some("ContainersNotInitialized"),
                Some(format!(
                    "containers with incomplete status: {}",
                    go_list(&incomplete)
                )),
                now,
            )
        },
        pod_ready,
        condition(pod, "ContainersReady", ready, reason, msg, now),
        scheduled,
    ];
    let owned = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ];
    out.extend(
        pod.status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .into_iter()
            .flatten()
            .filter(|c| !owned.contains(&c.type_.as_str())),
    );
    out
}
