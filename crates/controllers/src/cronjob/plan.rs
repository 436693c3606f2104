//! Pure decisions of the CronJob controller: the due scheduled time, the Job made for it and
//! which finished Jobs fall out of the history limits.

use super::schedule::Schedule;
use crate::job::finished_condition;
use crate::pods::controller_ref;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::sync::Arc;

/// Annotation on a Job holding the scheduled time it was created for (RFC 3339).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// More missed start times than this earn a `TooManyMissedTimes` warning.
pub const MAX_MISSED: usize = 100;

/// `<cronjob>-<scheduled time in minutes since the epoch>`.
pub fn job_name(cron_job: &str, scheduled: Timestamp) -> String {
    format!("{cron_job}-{}", scheduled.as_second().div_euclid(60))
}

/// The most recent scheduled time in `(earliest, now]` and how many fell in that window
/// (counting stops past [`MAX_MISSED`]).
pub fn most_recent(
    schedule: &Schedule,
    tz: &TimeZone,
    earliest: Timestamp,
    now: Timestamp,
) -> (Option<Timestamp>, usize) {
    let (mut last, mut count) = (None, 0);
    let mut t = earliest;
    while let Some(next) = schedule.next(t, tz).filter(|n| *n <= now) {
        last = Some(next);
        count += 1;
        t = next;
        if count > MAX_MISSED {
            return (latest_before(schedule, tz, earliest, now), count);
        }
    }
    (last, count)
}

/// The latest scheduled time in `(earliest, now]`, searched in widening windows before `now`.
fn latest_before(
    schedule: &Schedule,
    tz: &TimeZone,
    earliest: Timestamp,
    now: Timestamp,
) -> Option<Timestamp> {
    for window in [120, 7_200, 172_800, 5_529_600, 63_072_000, 189_216_000] {
        let start =
            Timestamp::from_second(now.as_second() - window).map_or(earliest, |s| s.max(earliest));
        let mut last = None;
        let mut t = start;
        while let Some(next) = schedule.next(t, tz).filter(|n| *n <= now) {
            last = Some(next);
            t = next;
        }
        if last.is_some() || start == earliest {
            return last;
        }
    }
    None
}

/// Where the search for missed times starts: last schedule (or creation), bounded by the
/// starting deadline.
pub fn earliest_time(cj: &CronJob, now: Timestamp) -> Timestamp {
    let mut earliest = cj
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref())
        .or(cj.metadata.creation_timestamp.as_ref())
        .map_or(now, |t| t.0);
    let deadline = cj.spec.as_ref().and_then(|s| s.starting_deadline_seconds);
    if let Some(sds) = deadline {
        if let Ok(limit) = Timestamp::from_second(now.as_second().saturating_sub(sds)) {
            earliest = earliest.max(limit);
        }
    }
    earliest
}

/// The Job a CronJob creates for `scheduled`.
pub fn job_for(cj: &CronJob, scheduled: Timestamp, tz: &TimeZone) -> Job {
    let template = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    let stamp = scheduled.to_zoned(tz.clone());
    let format = if stamp.offset().seconds() == 0 {
        "%Y-%m-%dT%H:%M:%SZ"
    } else {
        "%Y-%m-%dT%H:%M:%S%:z"
    };
    annotations.insert(
        SCHEDULED_TIMESTAMP.to_string(),
        stamp.strftime(format).to_string(),
    );
    let name = cj.metadata.name.as_deref().unwrap_or_default();
    Job {
        metadata: ObjectMeta {
            name: Some(job_name(name, scheduled)),
            namespace: cj.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![controller_ref("batch/v1", "CronJob", &cj.metadata)]),
            ..Default::default()
        },
        spec: template.spec,
        status: None,
    }
}

fn start_order(a: &Arc<Job>, b: &Arc<Job>) -> std::cmp::Ordering {
    let start = |j: &Job| {
        j.status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0)
    };
    match (start(a), start(b)) {
        (Some(x), Some(y)) if x != y => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        _ => a.metadata.name.cmp(&b.metadata.name),
    }
}

/// Finished Jobs beyond the successful/failed history limits, oldest first.
pub fn jobs_to_prune(cj: &CronJob, jobs: &[Arc<Job>]) -> Vec<Arc<Job>> {
    let spec = cj.spec.as_ref();
    let mut out = Vec::new();
    for (condition, limit) in [
        (
            "Complete",
            spec.and_then(|s| s.successful_jobs_history_limit),
        ),
        ("Failed", spec.and_then(|s| s.failed_jobs_history_limit)),
    ] {
        let Some(limit) = limit else { continue };
        let mut done: Vec<Arc<Job>> = jobs
            .iter()
            .filter(|j| finished_condition(j) == Some(condition))
            .cloned()
            .collect();
        done.sort_by(start_order);
        let excess = done
            .len()
            .saturating_sub(usize::try_from(limit).unwrap_or(0));
        out.extend(done.into_iter().take(excess));
    }
    out
}

#[cfg(test)]
mod tests;
