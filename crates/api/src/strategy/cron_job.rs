//! CronJob checks.

use super::batch::{manual_selector, validate_job_spec};
use super::cron::parse_schedule;
use super::labels::{validate_annotations, validate_labels};
use super::meta::non_negative;
use super::value::{int, s, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

/// Validates a CronJob.
pub fn validate_cron_job(obj: &Value, errs: &mut Errs) {
    let name = s(&obj["metadata"], "name");
    if name.len() > 52 {
        errs.push(FieldError::invalid(
            &Path::new("metadata").child("name"),
            json!(name),
            "must be no more than 52 characters",
        ));
    }
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    let schedule = s(spec, "schedule");
    if schedule.is_empty() {
        errs.push(FieldError::required(&sp.child("schedule"), ""));
    } else {
        if let Err(e) = parse_schedule(schedule) {
            errs.push(FieldError::invalid(
                &sp.child("schedule"),
                json!(schedule),
                e,
            ));
        }
        if schedule.contains("TZ") {
            errs.push(FieldError::invalid(
                &sp.child("schedule"),
                json!(schedule),
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    non_negative(
        int(spec, "startingDeadlineSeconds"),
        &sp.child("startingDeadlineSeconds"),
        errs,
    );
    match s(spec, "concurrencyPolicy") {
        "" => errs.push(FieldError::required(&sp.child("concurrencyPolicy"), "")),
        "Allow" | "Forbid" | "Replace" => {}
        p => errs.push(FieldError::not_supported(
            &sp.child("concurrencyPolicy"),
            json!(p),
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let jt = spec.get("jobTemplate").unwrap_or(&Value::Null);
    let jp = sp.child("jobTemplate");
    let meta = jt.get("metadata").unwrap_or(&Value::Null);
    validate_labels(
        meta.get("labels"),
        &jp.child("metadata").child("labels"),
        errs,
    );
    validate_annotations(
        meta.get("annotations"),
        &jp.child("metadata").child("annotations"),
        errs,
    );
    let job_spec = jt.get("spec").unwrap_or(&Value::Null);
    validate_job_spec(job_spec, &jp.child("spec"), errs);
    if let Some(sel) = job_spec.get("selector").filter(|v| !v.is_null()) {
        errs.push(FieldError::invalid(
            &jp.child("spec").child("selector"),
            sel.clone(),
            "`selector` will be auto-generated",
        ));
    }
    if manual_selector(job_spec) {
        errs.push(FieldError::not_supported(
            &jp.child("spec").child("manualSelector"),
            json!(true),
            &["nil", "false"],
        ));
    }
    for field in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        non_negative(int(spec, field), &sp.child(field), errs);
    }
    if let Some(tz) = spec.get("timeZone").filter(|v| !v.is_null()) {
        let t = tz.as_str().unwrap_or("");
        let tp = sp.child("timeZone");
        if t.is_empty() {
            errs.push(FieldError::invalid(
                &tp,
                tz.clone(),
                "timeZone must be nil or non-empty string",
            ));
        } else if t.eq_ignore_ascii_case("Local") {
            errs.push(FieldError::invalid(&tp, tz.clone(), "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
        } else if !t.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
        }) {
            errs.push(FieldError::invalid(
                &tp,
                tz.clone(),
                format!("unknown time zone {t}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;
    use crate::strategy::test_support::test_job as job;

    #[test]
    fn cron_jobs() {
        let mut cj = json!({"metadata": {"name": "c"}, "spec": {"schedule": "61 * * * *", "concurrencyPolicy": "Sometimes",
            "jobTemplate": {"spec": {"selector": {}, "template": job()["spec"]["template"].clone()}}}});
        assert_eq!(run(validate_cron_job, &cj), vec![
            "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61",
            "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"",
            "spec.jobTemplate.spec.selector: Invalid value: map[string]string{}: `selector` will be auto-generated",
        ]);
        cj["spec"]["schedule"] = json!("@hourly");
        cj["spec"]["concurrencyPolicy"] = json!("Allow");
        cj["spec"]["jobTemplate"]["spec"]["selector"] = Value::Null;
        assert!(run(validate_cron_job, &cj).is_empty());
    }
}
