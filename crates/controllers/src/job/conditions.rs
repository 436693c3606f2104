//! When a Job has failed or succeeded, and the conditions that say so (with upstream's
//! interim `FailureTarget` / `SuccessCriteriaMet` before the terminal `Failed` / `Complete`).

use super::tracking::{is_indexed, parse_indexes};
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::sync::Arc;
use std::time::Duration;

/// How a Job ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// `true` for success.
    pub complete: bool,
    /// The condition reason.
    pub reason: String,
    /// The condition message.
    pub message: String,
}

/// `Complete` or `Failed` if the Job has that condition set to True.
pub fn finished_condition(job: &Job) -> Option<&'static str> {
    let conditions = job.status.as_ref()?.conditions.as_ref()?;
    ["Complete", "Failed"].into_iter().find(|t| {
        conditions
            .iter()
            .any(|c| c.type_ == *t && c.status == "True")
    })
}

fn condition<'a>(status: &'a JobStatus, type_: &str) -> Option<&'a JobCondition> {
    status
        .conditions
        .as_deref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
}

fn restarts(pods: &[Arc<Pod>]) -> i64 {
    pods.iter()
        .filter_map(|p| p.status.as_ref())
        .flat_map(|s| {
            s.container_statuses
                .iter()
                .flatten()
                .chain(s.init_container_statuses.iter().flatten())
        })
        .map(|c| i64::from(c.restart_count))
        .sum()
}

/// Whether the Job failed (backoff limit, deadline), or when to check its deadline again.
/// `prior_failed` is the failed count stored before this sync.
pub fn failure(
    job: &Job,
    status: &JobStatus,
    prior_failed: i32,
    active: &[Arc<Pod>],
    now: Timestamp,
) -> (Option<Finish>, Option<Duration>) {
    if let Some(c) = condition(status, "FailureTarget") {
        let finish = Finish {
            complete: false,
            reason: c.reason.clone().unwrap_or_default(),
            message: c.message.clone().unwrap_or_default(),
        };
        return (Some(finish), None);
    }
    let spec = job.spec.clone().unwrap_or_default();
    let limit = spec.backoff_limit.unwrap_or(6);
    let failed = status.failed.unwrap_or(0);
    let on_failure = spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        == Some("OnFailure");
    let restarts = restarts(active);
    let past_restarts = on_failure
        && if limit == 0 {
            restarts > 0
        } else {
            restarts >= i64::from(limit)
        };
    if (failed > prior_failed && failed > limit) || past_restarts {
        let finish = Finish {
            complete: false,
            reason: "BackoffLimitExceeded".into(),
            message: "Job has reached the specified backoff limit".into(),
        };
        return (Some(finish), None);
    }
    let (Some(deadline), Some(start)) = (spec.active_deadline_seconds, status.start_time.as_ref())
    else {
        return (None, None);
    };
    if spec.suspend == Some(true) {
        return (None, None);
    }
    let left_ms = start.0.as_millisecond() + deadline.saturating_mul(1000) - now.as_millisecond();
    if left_ms <= 0 {
        let finish = Finish {
            complete: false,
            reason: "DeadlineExceeded".into(),
            message: "Job was active longer than specified deadline".into(),
        };
        return (Some(finish), None);
    }
    (None, Some(Duration::from_millis(left_ms as u64)))
}

/// Whether the Job succeeded, with `active` pods left after this sync's changes.
pub fn success(job: &Job, status: &JobStatus, active: usize) -> Option<Finish> {
    if let Some(c) = condition(status, "SuccessCriteriaMet") {
        return Some(Finish {
            complete: true,
            reason: c.reason.clone().unwrap_or_default(),
            message: c.message.clone().unwrap_or_default(),
        });
    }
    let spec = job.spec.as_ref()?;
    let succeeded = status.succeeded.unwrap_or(0);
    let done = match spec.completions {
        _ if active > 0 => false,
        None => succeeded > 0,
        Some(c) if is_indexed(job) => {
            parse_indexes(status.completed_indexes.as_deref()).len() >= c.max(0) as usize
        }
        Some(c) => succeeded >= c,
    };
    done.then(|| Finish {
        complete: true,
        reason: "CompletionsReached".into(),
        message: "Reached expected number of succeeded pods".into(),
    })
}

/// Sets condition `type_` to `value`; returns whether anything changed.
pub fn set_condition(
    status: &mut JobStatus,
    type_: &str,
    value: &str,
    reason: &str,
    message: &str,
    now: Timestamp,
) -> bool {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == type_) {
        if c.status == value
            && c.reason.as_deref() == Some(reason)
            && c.message.as_deref() == Some(message)
        {
            return false;
        }
        if c.status != value {
            c.last_transition_time = Some(Time(now));
        }
        c.status = value.into();
        c.reason = Some(reason.into());
        c.message = Some(message.into());
        c.last_probe_time = Some(Time(now));
        return true;
    }
    conditions.push(JobCondition {
        type_: type_.into(),
        status: value.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    });
    true
}

/// Records `finish`: the interim condition always, the terminal one (and `completionTime`)
/// once no pod is terminating or uncounted. Returns whether the terminal one was added now.
pub fn apply_finish(
    status: &mut JobStatus,
    finish: &Finish,
    settled: bool,
    now: Timestamp,
) -> bool {
    let (interim, terminal) = if finish.complete {
        ("SuccessCriteriaMet", "Complete")
    } else {
        ("FailureTarget", "Failed")
    };
    set_condition(
        status,
        interim,
        "True",
        &finish.reason,
        &finish.message,
        now,
    );
    if !settled {
        return false;
    }
    let added = set_condition(
        status,
        terminal,
        "True",
        &finish.reason,
        &finish.message,
        now,
    );
    if finish.complete && status.completion_time.is_none() {
        status.completion_time = Some(Time(now));
    }
    added
}

/// Updates the `Suspended` condition; returns the event (reason, message) if it flipped.
pub fn suspension(
    status: &mut JobStatus,
    suspended: bool,
    now: Timestamp,
) -> Option<(&'static str, &'static str)> {
    let was = condition(status, "Suspended").is_some();
    match (suspended, was) {
        (true, false) => {
            set_condition(
                status,
                "Suspended",
                "True",
                "JobSuspended",
                "Job suspended",
                now,
            );
            Some(("Suspended", "Job suspended"))
        }
        (false, true) => {
            set_condition(
                status,
                "Suspended",
                "False",
                "JobResumed",
                "Job resumed",
                now,
            );
            status.start_time = Some(Time(now));
            Some(("Resumed", "Job resumed"))
        }
        _ => None,
    }
}

/// When a finished Job with `ttlSecondsAfterFinished` is due for deletion.
pub fn expiry(job: &Job) -> Option<Timestamp> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let status = job.status.as_ref()?;
    let finished = status.completion_time.as_ref().map(|t| t.0).or_else(|| {
        status
            .conditions
            .as_deref()?
            .iter()
            .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")?
            .last_transition_time
            .as_ref()
            .map(|t| t.0)
    })?;
    Timestamp::from_second(finished.as_second().saturating_add(i64::from(ttl))).ok()
}

/// Delay before new pods after `failures` consecutive failures, the last at `last`
/// (10 s doubling, at most 10 min, as upstream).
pub fn backoff_left(failures: u32, last: Option<Timestamp>, now: Timestamp) -> Option<Duration> {
    let last = last?;
    if failures == 0 {
        return None;
    }
    let delay = Duration::from_secs(10)
        .saturating_mul(1 << (failures - 1).min(10))
        .min(Duration::from_secs(600));
    let elapsed = Duration::from_millis(
        u64::try_from(now.as_millisecond() - last.as_millisecond()).unwrap_or(0),
    );
    delay.checked_sub(elapsed).filter(|d| !d.is_zero())
}
