//! Tables for Jobs (status, completions, duration) and CronJobs.

use super::format::{
    age, condition_true, human_duration, int_at, list_at, name, since, str_at, template_cells,
    text, time_at,
};
use super::{col, wide, Column, Printer, AGE, CONTAINERS, IMAGES, NAME};
use chrono::{DateTime, Utc};
use serde_json::Value;

const NULL: Value = Value::Null;

static JOB_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col(
        "Completions",
        "string",
        "The number of pods which reached phase Succeeded.",
    ),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide(
        "Selector",
        "string",
        "A label query over pods that should match the pod count.",
    ),
];

/// `succeeded/completions`, `succeeded/1 of parallelism` or `succeeded/1`.
fn completions(obj: &Value) -> String {
    let succeeded = int_at(obj, "/status/succeeded", 0);
    if let Some(completions) = obj.pointer("/spec/completions").and_then(Value::as_i64) {
        return format!("{succeeded}/{completions}");
    }
    match int_at(obj, "/spec/parallelism", 0) {
        p if p > 1 => format!("{succeeded}/1 of {p}"),
        _ => format!("{succeeded}/1"),
    }
}

/// Upstream's job status: Complete, Failed, Terminating, Suspended, FailureTarget or Running.
fn job_status(obj: &Value) -> &'static str {
    let conditions = list_at(obj, "/status/conditions");
    let deleting = obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    if condition_true(conditions, "Complete") {
        "Complete"
    } else if condition_true(conditions, "Failed") {
        "Failed"
    } else if deleting {
        "Terminating"
    } else if condition_true(conditions, "Suspended") {
        "Suspended"
    } else if condition_true(conditions, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

fn job_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let duration = match (
        time_at(obj, "/status/startTime"),
        time_at(obj, "/status/completionTime"),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration(now.signed_duration_since(start)),
        (Some(start), Some(end)) => human_duration(end.signed_duration_since(start)),
    };
    let mut cells = vec![
        name(obj),
        text(job_status(obj)),
        text(completions(obj)),
        text(duration),
        age(obj, now),
    ];
    cells.extend(template_cells(obj.get("spec").unwrap_or(&NULL)));
    cells
}

/// The Job printer.
pub(crate) static JOB: Printer = Printer {
    columns: JOB_COLUMNS,
    row: job_row,
};

static CRON_JOB_COLUMNS: &[Column] = &[
    NAME,
    col("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    col("Timezone", "string", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
    col("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions."),
    col("Active", "integer", "A list of pointers to currently running jobs."),
    col("Last Schedule", "string", "Information when was the last time the job was successfully scheduled."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", "A label query over pods that should match the pod count."),
];

fn cron_job_row(obj: &Value, now: DateTime<Utc>) -> Vec<Value> {
    let last = match obj.pointer("/status/lastScheduleTime") {
        Some(v) if !v.is_null() => since(obj, "/status/lastScheduleTime", now),
        _ => "<none>".to_string(),
    };
    let suspend = match obj.pointer("/spec/suspend").and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let time_zone = obj
        .pointer("/spec/timeZone")
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let job_spec = obj.pointer("/spec/jobTemplate/spec").unwrap_or(&NULL);
    let mut cells = vec![
        name(obj),
        text(str_at(obj, "/spec/schedule")),
        text(time_zone),
        text(suspend),
        Value::from(list_at(obj, "/status/active").len()),
        text(last),
        age(obj, now),
    ];
    cells.extend(template_cells(job_spec));
    cells
}

/// The CronJob printer.
pub(crate) static CRON_JOB: Printer = Printer {
    columns: CRON_JOB_COLUMNS,
    row: cron_job_row,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::test_support::now;
    use serde_json::json;

    fn job(extra_spec: Value, status: Value) -> Value {
        let mut obj = json!({"metadata": {"name": "pi", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5"}]}},
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}},
            "status": status});
        if let (Some(spec), Value::Object(extra)) = (obj["spec"].as_object_mut(), extra_spec) {
            spec.extend(extra);
        }
        obj
    }

    #[test]
    fn completed_job_shows_status_completions_and_duration() {
        let status = json!({"succeeded": 1, "startTime": "2024-05-01T11:00:00Z",
            "completionTime": "2024-05-01T11:00:42Z",
            "conditions": [{"type": "Complete", "status": "True"}]});
        let cells = job_row(&job(json!({"completions": 1}), status), now());
        assert_eq!(
            cells[..5],
            [
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("42s"),
                json!("60m")
            ]
        );
        assert_eq!(
            cells[5..],
            [
                json!("pi"),
                json!("perl:5"),
                json!("batch.kubernetes.io/controller-uid=u1")
            ]
        );
    }

    #[test]
    fn running_jobs_count_parallel_work_and_elapsed_time() {
        let status = json!({"succeeded": 2, "startTime": "2024-05-01T11:57:00Z"});
        let cells = job_row(&job(json!({"parallelism": 3}), status), now());
        assert_eq!(
            cells[1..4],
            [json!("Running"), json!("2/1 of 3"), json!("3m")]
        );
        let cells = job_row(&job(json!({}), json!({})), now());
        assert_eq!(cells[1..4], [json!("Running"), json!("0/1"), json!("")]);
        let failed = json!({"conditions": [{"type": "Failed", "status": "True"}]});
        assert_eq!(job_row(&job(json!({}), failed), now())[1], json!("Failed"));
    }

    #[test]
    fn cron_job_shows_schedule_suspension_and_last_run() {
        let cj = json!({"metadata": {"name": "nightly", "creationTimestamp": "2024-04-29T12:00:00Z"},
            "spec": {"schedule": "0 3 * * *", "suspend": false,
                "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox"}]}}}}},
            "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": "2024-05-01T03:00:00Z"}});
        let cells = cron_job_row(&cj, now());
        assert_eq!(
            cells,
            [
                json!("nightly"),
                json!("0 3 * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("9h"),
                json!("2d"),
                json!("b"),
                json!("busybox"),
                json!("<none>")
            ]
        );
    }
}
