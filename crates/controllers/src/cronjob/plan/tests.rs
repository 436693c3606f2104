use super::*;
use k8s_openapi::api::batch::v1::{CronJobSpec, CronJobStatus, JobCondition, JobStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn cron_job(created: &str, last: Option<&str>, deadline: Option<i64>) -> CronJob {
    CronJob {
        metadata: ObjectMeta {
            name: Some("hello".into()),
            namespace: Some("default".into()),
            uid: Some("cj-uid".into()),
            creation_timestamp: Some(Time(ts(created))),
            ..Default::default()
        },
        spec: Some(CronJobSpec {
            schedule: "*/1 * * * *".into(),
            starting_deadline_seconds: deadline,
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(1),
            ..Default::default()
        }),
        status: Some(CronJobStatus {
            last_schedule_time: last.map(|l| Time(ts(l))),
            ..Default::default()
        }),
    }
}

#[test]
fn job_name_is_minutes_since_epoch() {
    assert_eq!(
        job_name("hello", ts("2024-05-01T10:01:00Z")),
        "hello-28575961"
    );
}

#[test]
fn most_recent_time_is_the_last_one_not_after_now() {
    let s = Schedule::parse("*/1 * * * *").unwrap();
    let (t, n) = most_recent(
        &s,
        &TimeZone::UTC,
        ts("2024-05-01T10:00:00Z"),
        ts("2024-05-01T10:03:30Z"),
    );
    assert_eq!(t, Some(ts("2024-05-01T10:03:00Z")));
    assert_eq!(n, 3);
    let (t, n) = most_recent(
        &s,
        &TimeZone::UTC,
        ts("2024-05-01T10:00:00Z"),
        ts("2024-05-01T10:00:59Z"),
    );
    assert_eq!((t, n), (None, 0));
}

#[test]
fn many_missed_times_still_find_the_latest() {
    let s = Schedule::parse("*/1 * * * *").unwrap();
    let (t, n) = most_recent(
        &s,
        &TimeZone::UTC,
        ts("2024-01-01T00:00:00Z"),
        ts("2024-05-01T10:03:30Z"),
    );
    assert_eq!(t, Some(ts("2024-05-01T10:03:00Z")));
    assert!(n > MAX_MISSED);
}

#[test]
fn starting_deadline_bounds_the_search() {
    let now = ts("2024-05-01T10:00:00Z");
    let cj = cron_job("2024-01-01T00:00:00Z", None, Some(200));
    assert_eq!(earliest_time(&cj, now), ts("2024-05-01T09:56:40Z"));
    let cj = cron_job(
        "2024-01-01T00:00:00Z",
        Some("2024-05-01T09:59:00Z"),
        Some(200),
    );
    assert_eq!(earliest_time(&cj, now), ts("2024-05-01T09:59:00Z"));
    let cj = cron_job("2024-01-01T00:00:00Z", None, None);
    assert_eq!(earliest_time(&cj, now), ts("2024-01-01T00:00:00Z"));
}

#[test]
fn job_carries_owner_and_scheduled_timestamp() {
    let cj = cron_job("2024-01-01T00:00:00Z", None, None);
    let job = job_for(&cj, ts("2024-05-01T10:01:00Z"), &TimeZone::UTC);
    assert_eq!(job.metadata.name.as_deref(), Some("hello-28575961"));
    let annotations = job.metadata.annotations.unwrap();
    assert_eq!(annotations[SCHEDULED_TIMESTAMP], "2024-05-01T10:01:00Z");
    let owner = &job.metadata.owner_references.unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.uid.as_str()),
        ("CronJob", "cj-uid")
    );
    assert_eq!(owner.controller, Some(true));
    let tz = TimeZone::get("Asia/Kolkata").unwrap();
    let job = job_for(&cj, ts("2024-05-01T10:01:00Z"), &tz);
    assert_eq!(
        job.metadata.annotations.unwrap()[SCHEDULED_TIMESTAMP],
        "2024-05-01T15:31:00+05:30"
    );
}

fn finished(name: &str, condition: &str, start: &str) -> Arc<Job> {
    Arc::new(Job {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: None,
        status: Some(JobStatus {
            start_time: Some(Time(ts(start))),
            conditions: Some(vec![JobCondition {
                type_: condition.into(),
                status: "True".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    })
}

#[test]
fn history_limits_prune_the_oldest_finished_jobs() {
    let cj = cron_job("2024-01-01T00:00:00Z", None, None);
    let jobs = vec![
        finished("ok-4", "Complete", "2024-05-01T10:04:00Z"),
        finished("ok-1", "Complete", "2024-05-01T10:01:00Z"),
        finished("ok-3", "Complete", "2024-05-01T10:03:00Z"),
        finished("ok-2", "Complete", "2024-05-01T10:02:00Z"),
        finished("bad-1", "Failed", "2024-05-01T10:01:30Z"),
        finished("bad-2", "Failed", "2024-05-01T10:02:30Z"),
    ];
    let names: Vec<_> = jobs_to_prune(&cj, &jobs)
        .iter()
        .map(|j| j.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["ok-1", "bad-1"]);
}
