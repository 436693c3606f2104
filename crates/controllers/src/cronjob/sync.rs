//! One CronJob sync: reconcile `status.active`, start the due Job, prune history, requeue at
//! the next scheduled time.

use super::plan::{earliest_time, job_for, job_name, jobs_to_prune, most_recent, MAX_MISSED};
use super::schedule::Schedule;
use super::Shared;
use crate::error::Result;
use crate::informers::controlled_by;
use crate::job::finished_condition;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Resource};
use skiff_client::{split_key, EventType};
use std::time::Duration;

fn job_ref(job: &Job) -> ObjectReference {
    let mut r = job.object_ref(&());
    r.api_version = Some("batch/v1".into());
    r.kind = Some("Job".into());
    r
}

/// Syncs the CronJob under `key`.
pub(super) async fn sync(shared: &Shared, key: &str) -> Result<()> {
    let Some(cj) = shared.cron_jobs.get(key) else {
        return Ok(());
    };
    if cj.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let (namespace, name) = split_key(key);
    let uid = cj.metadata.uid.clone().unwrap_or_default();
    let jobs = controlled_by(&shared.jobs, &uid);
    let jobs_api: Api<Job> = Api::namespaced(shared.client.clone(), namespace);
    let mut status = cj.status.clone().unwrap_or_default();
    reconcile_active(shared, &jobs_api, &cj, &jobs, &mut status).await?;

    let now = Timestamp::now();
    let requeue = schedule_next(shared, &cj, &jobs_api, &mut status, now).await?;

    for job in jobs_to_prune(&cj, &jobs) {
        let job_name = job.metadata.name.clone().unwrap_or_default();
        match jobs_api
            .delete(&job_name, &DeleteParams::background())
            .await
        {
            Ok(_) => shared.recorder.publish(
                cj.as_ref(),
                EventType::Normal,
                "SuccessfulDelete",
                format!("Deleted job {job_name}"),
            ),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }

    if cj.status.clone().unwrap_or_default() != status {
        let mut updated = (*cj).clone();
        updated.status = Some(status);
        let api: Api<CronJob> = Api::namespaced(shared.client.clone(), namespace);
        api.replace_status(name, &PostParams::default(), &updated)
            .await?;
    }
    if let Some(at) = requeue {
        let wait = at.as_millisecond() - Timestamp::now().as_millisecond() + 100;
        let wait = Duration::from_millis(u64::try_from(wait).unwrap_or(0));
        shared.queue.add_after(key.to_string(), wait);
    }
    Ok(())
}

/// Drops finished and vanished Jobs from `status.active`; records the last success.
async fn reconcile_active(
    shared: &Shared,
    api: &Api<Job>,
    cj: &CronJob,
    jobs: &[std::sync::Arc<Job>],
    status: &mut CronJobStatus,
) -> Result<()> {
    let mut active = status.active.take().unwrap_or_default();
    for job in jobs {
        let juid = job.metadata.uid.as_deref();
        let listed = active.iter().any(|r| r.uid.as_deref() == juid);
        let condition = finished_condition(job);
        if let (true, Some(c)) = (listed, condition) {
            active.retain(|r| r.uid.as_deref() != juid);
            shared.recorder.publish(
                cj,
                EventType::Normal,
                "SawCompletedJob",
                format!(
                    "Saw completed job: {}, condition: {c}",
                    job.metadata.name.as_deref().unwrap_or_default()
                ),
            );
        }
        if condition == Some("Complete") {
            let done = job.status.as_ref().and_then(|s| s.completion_time.clone());
            if done.is_some()
                && status.last_successful_time.as_ref().map(|t| t.0) < done.as_ref().map(|t| t.0)
            {
                status.last_successful_time = done;
            }
        }
    }
    let mut kept = Vec::with_capacity(active.len());
    for r in active {
        if !jobs.iter().any(|j| j.metadata.uid == r.uid) {
            let name = r.name.clone().unwrap_or_default();
            // The cache may lag behind a Job this controller just created: ask the API.
            match api.get_opt(&name).await? {
                Some(j) if j.metadata.uid == r.uid => {}
                _ => {
                    shared.recorder.publish(
                        cj,
                        EventType::Normal,
                        "MissingJob",
                        format!("Active job went missing: {name}"),
                    );
                    continue;
                }
            }
        }
        kept.push(r);
    }
    status.active = (!kept.is_empty()).then_some(kept);
    Ok(())
}

/// Starts the Job due now, if any; returns when to look again.
async fn schedule_next(
    shared: &Shared,
    cj: &CronJob,
    api: &Api<Job>,
    status: &mut CronJobStatus,
    now: Timestamp,
) -> Result<Option<Timestamp>> {
    let spec = cj.spec.clone().unwrap_or_default();
    if spec.suspend == Some(true) {
        return Ok(None);
    }
    let tz = match spec.time_zone.as_deref() {
        None => TimeZone::system(),
        Some(name) => match TimeZone::get(name) {
            Ok(tz) => tz,
            Err(_) => {
                let msg = format!("invalid timeZone: {name:?}: unknown time zone {name}");
                shared
                    .recorder
                    .publish(cj, EventType::Warning, "UnknownTimeZone", msg);
                return Ok(None);
            }
        },
    };
    let schedule = match Schedule::parse(&spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            let msg = format!("unparseable schedule: {:?} : {e}", spec.schedule);
            shared
                .recorder
                .publish(cj, EventType::Warning, "UnparseableSchedule", msg);
            return Ok(None);
        }
    };
    let next = schedule.next(now, &tz);
    let (due, missed) = most_recent(&schedule, &tz, earliest_time(cj, now), now);
    let Some(due) = due else { return Ok(next) };
    if missed > MAX_MISSED {
        shared.recorder.publish(
            cj,
            EventType::Warning,
            "TooManyMissedTimes",
            format!("too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
        );
    }
    if let Some(sds) = spec.starting_deadline_seconds {
        if due.as_second().saturating_add(sds) < now.as_second() {
            let msg = format!(
                "Missed scheduled time to start a job: {}",
                due.strftime("%Y-%m-%dT%H:%M:%SZ")
            );
            shared
                .recorder
                .publish(cj, EventType::Warning, "MissSchedule", msg);
            return Ok(next);
        }
    }
    let cj_name = cj.metadata.name.clone().unwrap_or_default();
    let name = job_name(&cj_name, due);
    let active = status.active.clone().unwrap_or_default();
    if active.iter().any(|r| r.name.as_deref() == Some(&name))
        || status.last_schedule_time.as_ref().map(|t| t.0) == Some(due)
    {
        return Ok(next);
    }
    match spec.concurrency_policy.as_deref() {
        Some("Forbid") if !active.is_empty() => return Ok(next),
        Some("Replace") => {
            for r in &active {
                let old = r.name.clone().unwrap_or_default();
                match api.delete(&old, &DeleteParams::background()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    Err(e) => return Err(e.into()),
                }
                shared.recorder.publish(
                    cj,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted job {old}"),
                );
            }
            status.active = None;
        }
        _ => {}
    }
    let job = job_for(cj, due, &tz);
    let created = match api.create(&PostParams::default(), &job).await {
        Ok(j) => {
            shared.recorder.publish(
                cj,
                EventType::Normal,
                "SuccessfulCreate",
                format!("Created job {name}"),
            );
            j
        }
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let existing = api.get_opt(&name).await?;
            let ours = existing.filter(|j| {
                crate::informers::controller_uid(&j.metadata) == cj.metadata.uid.as_deref()
            });
            match ours {
                Some(j) if finished_condition(&j).is_none() => j,
                Some(_) => {
                    status.last_schedule_time = Some(Time(due));
                    return Ok(next);
                }
                None => return Ok(next),
            }
        }
        Err(e) => {
            shared.recorder.publish(
                cj,
                EventType::Warning,
                "FailedCreate",
                format!("Error creating job: {e}"),
            );
            return Err(e.into());
        }
    };
    let mut active = status.active.take().unwrap_or_default();
    if !active.iter().any(|r| r.uid == created.metadata.uid) {
        active.push(job_ref(&created));
    }
    status.active = Some(active);
    status.last_schedule_time = Some(Time(due));
    Ok(next)
}
