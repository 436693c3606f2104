//! The Pod table: readiness, upstream's computed status reason, restarts with last-restart age.

use super::format::{
    age, condition_true, human_duration, list_at, name, or_none, str_at, text, time_at,
};
use super::{col, wide, Column, Printer, AGE, NAME};
use chrono::{DateTime, Utc};
use serde_json::Value;

static COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "string", "The aggregate status of the containers in this pod."),
    col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
    AGE,
    wide("IP", "string", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
    wide("Node", "string", "NodeName indicates in which node this pod is scheduled."),
    wide("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods."),
    wide("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness."),
];

/// The pod printer.
pub(crate) static POD: Printer = Printer {
    columns: COLUMNS,
    row,
};

/// The running total of restarts and the latest `lastState.terminated.finishedAt`.
#[derive(Default, Clone, Copy)]
struct Restarts {
    count: i64,
    last: Option<DateTime<Utc>>,
}

impl Restarts {
    fn add(&mut self, status: &Value) {
        let count = status.pointer("/restartCount").and_then(Value::as_i64);
        self.count = self.count.saturating_add(count.unwrap_or(0));
        if let Some(t) = time_at(status, "/lastState/terminated/finishedAt") {
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }
}

/// `ExitCode:N`, `Signal:N` or the terminated reason, as upstream names a failed container.
fn terminated_reason(terminated: &Value, prefix: &str) -> String {
    let reason = str_at(terminated, "/reason");
    if !reason.is_empty() {
        return format!("{prefix}{reason}");
    }
    let signal = terminated
        .pointer("/signal")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        let code = terminated
            .pointer("/exitCode")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        format!("{prefix}ExitCode:{code}")
    }
}

/// Whether the named init container is a sidecar (`restartPolicy: Always`).
fn is_sidecar(obj: &Value, container: &str) -> bool {
    list_at(obj, "/spec/initContainers")
        .iter()
        .any(|c| str_at(c, "/name") == container && str_at(c, "/restartPolicy") == "Always")
}

fn row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let init_specs = list_at(obj, "/spec/initContainers");
    let conditions = list_at(obj, "/status/conditions");
    let sidecars = init_specs
        .iter()
        .filter(|c| str_at(c, "/restartPolicy") == "Always")
        .count();
    let total = list_at(obj, "/spec/containers").len() + sidecars;
    let mut ready = 0;
    let phase = str_at(obj, "/status/phase");
    let mut reason = match str_at(obj, "/status/reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    let gated = conditions
        .iter()
        .any(|c| str_at(c, "/type") == "PodScheduled" && str_at(c, "/reason") == "SchedulingGated");
    if gated {
        reason = "SchedulingGated".to_string();
    }

    let mut all = Restarts::default();
    let mut sidecar = Restarts::default();
    let mut initializing = false;
    for (i, status) in list_at(obj, "/status/initContainerStatuses")
        .iter()
        .enumerate()
    {
        all.add(status);
        let restartable = is_sidecar(obj, str_at(status, "/name"));
        if restartable {
            sidecar.add(status);
        }
        let terminated = status
            .pointer("/state/terminated")
            .filter(|t| t.is_object());
        let waiting = str_at(status, "/state/waiting/reason");
        let exit_code = terminated.map(|t| t.pointer("/exitCode").and_then(Value::as_i64));
        if exit_code.is_some_and(|c| c.unwrap_or(0) == 0) {
            continue;
        }
        if restartable && status.pointer("/started").and_then(Value::as_bool) == Some(true) {
            if status.pointer("/ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        reason = match terminated {
            Some(t) => terminated_reason(t, "Init:"),
            None if !waiting.is_empty() && waiting != "PodInitializing" => {
                format!("Init:{waiting}")
            }
            None => format!("Init:{i}/{}", init_specs.len()),
        };
        initializing = true;
        break;
    }

    let mut restarts = all;
    if !initializing || condition_true(conditions, "Initialized") {
        restarts = sidecar;
        let mut has_running = false;
        for status in list_at(obj, "/status/containerStatuses").iter().rev() {
            restarts.add(status);
            let waiting = str_at(status, "/state/waiting/reason");
            let terminated = status
                .pointer("/state/terminated")
                .filter(|t| t.is_object());
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                reason = terminated_reason(t, "");
            } else if status.pointer("/ready").and_then(Value::as_bool) == Some(true)
                && status
                    .pointer("/state/running")
                    .is_some_and(Value::is_object)
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(conditions, "Ready") {
                "Running"
            } else {
                "NotReady"
            }
            .to_string();
        }
    }

    let deleting = obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    if deleting && str_at(obj, "/status/reason") == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_cell = match restarts.last {
        Some(last) if restarts.count != 0 => {
            let ago = human_duration(now.signed_duration_since(last));
            format!("{} ({ago} ago)", restarts.count)
        }
        _ => restarts.count.to_string(),
    };
    let pod_ip = match str_at(obj, "/status/podIPs/0/ip") {
        "" => str_at(obj, "/status/podIP"),
        ip => ip,
    };
    vec![
        name(obj),
        text(format!("{ready}/{total}")),
        text(reason),
        text(restarts_cell),
        age(obj, now),
        or_none(pod_ip),
        or_none(str_at(obj, "/spec/nodeName")),
        or_none(str_at(obj, "/status/nominatedNodeName")),
        text(readiness_gates(obj, conditions)),
    ]
}

/// `true/total` over the pod's readiness gates, or `<none>`.
fn readiness_gates(obj: &Value, conditions: &[Value]) -> String {
    let gates = list_at(obj, "/spec/readinessGates");
    if gates.is_empty() {
        return "<none>".to_string();
    }
    let passed = gates
        .iter()
        .filter(|g| condition_true(conditions, str_at(g, "/conditionType")))
        .count();
    format!("{passed}/{}", gates.len())
}

#[cfg(test)]
mod tests;
