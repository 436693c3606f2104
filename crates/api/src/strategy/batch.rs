//! Job checks, update rules and the generated Job selector.

use super::labels::{selector_matches, validate_selector};
use super::meta::{immutable, non_negative, semantic_eq};
use super::pod::validate_template;
use super::value::{boolean, ensure_obj, has, int, s, set_default, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";
const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";

/// Whether the Job selects its pods itself.
pub fn manual_selector(spec: &Value) -> bool {
    boolean(spec, "manualSelector") == Some(true)
}

/// Generates a Job's selector and pod labels from its uid, unless `manualSelector` is set.
pub fn generate_selector(job: &mut Value) {
    let name = s(&job["metadata"], "name").to_string();
    let uid = s(&job["metadata"], "uid").to_string();
    let Some(spec) = job.get_mut("spec").filter(|v| v.is_object()) else {
        return;
    };
    if manual_selector(spec) || uid.is_empty() {
        return;
    }
    if let Some(labels) = ensure_obj(spec, "template")
        .and_then(|t| ensure_obj(t, "metadata"))
        .and_then(|m| ensure_obj(m, "labels"))
    {
        for key in [LEGACY_JOB_NAME, JOB_NAME] {
            set_default(labels, key, json!(name));
        }
        for key in [LEGACY_CONTROLLER_UID, CONTROLLER_UID] {
            set_default(labels, key, json!(uid));
        }
    }
    if let Some(m) = ensure_obj(spec, "selector").and_then(|sel| ensure_obj(sel, "matchLabels")) {
        set_default(m, CONTROLLER_UID, json!(uid));
    }
}

/// Validates a Job: generated selector, spec and selector against template labels.
pub fn validate_job(obj: &Value, errs: &mut Errs) {
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    generated_selector(obj, spec, errs);
    validate_job_spec(spec, &sp, errs);
    match spec.get("selector").filter(|v| !v.is_null()) {
        None => errs.push(FieldError::required(&sp.child("selector"), "")),
        Some(sel) => validate_selector(sel, &sp.child("selector"), errs),
    }
    let labels = spec.pointer("/template/metadata/labels");
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        if selector_matches(sel, labels) == Some(false) {
            errs.push(FieldError::invalid(
                &sp.child("template").child("metadata").child("labels"),
                labels.cloned().unwrap_or(json!({})),
                "`selector` does not match template `labels`",
            ));
        }
    }
    if s(spec, "completionMode") == "Indexed" {
        if let Some(c) = int(spec, "completions").filter(|c| *c > 0) {
            let name = s(&obj["metadata"], "name");
            let host = format!("{name}-{}", c - 1);
            if !super::names::dns1123_label(&host).is_empty() {
                errs.push(FieldError::invalid(
                    &Path::new("metadata").child("name"),
                    json!(name),
                    format!("will not able to create pod with invalid DNS label: {host}"),
                ));
            }
        }
    }
}

fn generated_selector(obj: &Value, spec: &Value, errs: &mut Errs) {
    if manual_selector(spec) || !has(spec, "selector") {
        return;
    }
    let meta = obj.get("metadata").unwrap_or(&Value::Null);
    let (uid, name) = (s(meta, "uid"), s(meta, "name"));
    if uid.is_empty() {
        errs.push(FieldError::required(
            &Path::new("metadata").child("uid"),
            "",
        ));
    }
    let tp = Path::new("spec").child("template").child("metadata");
    let labels = spec.pointer("/template/metadata/labels");
    for (key, want) in [
        (LEGACY_CONTROLLER_UID, uid),
        (LEGACY_JOB_NAME, name),
        (CONTROLLER_UID, uid),
        (JOB_NAME, name),
    ] {
        match labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
            None => errs.push(FieldError::required(
                &tp.child("labels").key(key),
                format!("must be '{want}'"),
            )),
            Some(v) if v != want => errs.push(FieldError::invalid(
                &tp.child("labels").key(key),
                labels.cloned().unwrap_or_default(),
                format!("must be '{want}'"),
            )),
            Some(_) => {}
        }
    }
    let expected = json!({CONTROLLER_UID: uid, JOB_NAME: name});
    if selector_matches(&spec["selector"], Some(&expected)) == Some(false) {
        errs.push(FieldError::invalid(
            &Path::new("spec").child("selector"),
            spec["selector"].clone(),
            "`selector` not auto-generated",
        ));
    }
}

/// Validates the parts of a Job spec shared with CronJob job templates.
pub fn validate_job_spec(spec: &Value, path: &Path, errs: &mut Errs) {
    for field in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ] {
        non_negative(int(spec, field), &path.child(field), errs);
    }
    let mode = s(spec, "completionMode");
    if let Some(b) = int(spec, "backoffLimitPerIndex") {
        if mode != "Indexed" {
            errs.push(FieldError::invalid(
                &path.child("backoffLimitPerIndex"),
                json!(b),
                "requires indexed completion mode",
            ));
        }
    }
    match mode {
        "" | "NonIndexed" => {}
        "Indexed" => {
            if !has(spec, "completions") {
                errs.push(FieldError::required(
                    &path.child("completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(p) = int(spec, "parallelism").filter(|p| *p > 100_000) {
                errs.push(FieldError::invalid(
                    &path.child("parallelism"),
                    json!(p),
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
        }
        m => errs.push(FieldError::not_supported(
            &path.child("completionMode"),
            json!(m),
            &["NonIndexed", "Indexed"],
        )),
    }
    let failure_policy = has(spec, "podFailurePolicy");
    if let Some(p) = spec.get("podReplacementPolicy").and_then(Value::as_str) {
        let allowed: &[&str] = if failure_policy {
            &["Failed"]
        } else {
            &["Failed", "TerminatingOrFailed"]
        };
        if !allowed.contains(&p) {
            errs.push(FieldError::not_supported(
                &path.child("podReplacementPolicy"),
                json!(p),
                allowed,
            ));
        }
    }
    let tp = path.child("template");
    let template = spec.get("template").unwrap_or(&Value::Null);
    validate_template(template, &tp, errs);
    let rp = tp.child("spec").child("restartPolicy");
    match template
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
    {
        "" | "Always" => errs.push(FieldError::required(
            &rp,
            "valid values: \"OnFailure\", \"Never\"",
        )),
        "Never" => {}
        "OnFailure" if failure_policy => errs.push(FieldError::invalid(
            &rp,
            json!("OnFailure"),
            "only \"Never\" is supported when podFailurePolicy is specified",
        )),
        "OnFailure" => {}
        r => errs.push(FieldError::not_supported(
            &rp,
            json!(r),
            &["OnFailure", "Never"],
        )),
    }
}

/// Checks a Job update: selector, completion mode and (mostly) the pod template are fixed.
pub fn validate_job_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    let sp = Path::new("spec");
    let elastic = s(os, "completionMode") == "Indexed"
        && int(ns, "completions") == int(ns, "parallelism")
        && int(os, "completions") == int(os, "parallelism");
    if !elastic {
        immutable(
            ns.get("completions"),
            os.get("completions"),
            &sp.child("completions"),
            errs,
        );
    }
    immutable(
        ns.get("selector"),
        os.get("selector"),
        &sp.child("selector"),
        errs,
    );
    let mut old_template = os.get("template").cloned().unwrap_or(Value::Null);
    let never_started = boolean(os, "suspend") == Some(true) && !has(&old["status"], "startTime");
    if never_started {
        let new_template = ns.get("template").unwrap_or(&Value::Null);
        for ptr in [
            "/spec/nodeSelector",
            "/spec/tolerations",
            "/metadata/annotations",
            "/metadata/labels",
            "/spec/schedulingGates",
            "/spec/affinity/nodeAffinity",
        ] {
            copy_pointer(&mut old_template, new_template, ptr);
        }
    }
    if !semantic_eq(ns.get("template").unwrap_or(&Value::Null), &old_template) {
        errs.push(FieldError::invalid(
            &sp.child("template"),
            ns.get("template").cloned().unwrap_or_default(),
            super::meta::IMMUTABLE,
        ));
    }
    for field in [
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ] {
        immutable(ns.get(field), os.get(field), &sp.child(field), errs);
    }
}

fn copy_pointer(dst: &mut Value, src: &Value, ptr: &str) {
    let (parent, key) = ptr.rsplit_once('/').unwrap_or(("", ptr));
    let value = src.pointer(ptr).cloned();
    if let Some(obj) = dst.pointer_mut(parent).and_then(Value::as_object_mut) {
        match value {
            Some(v) => obj.insert(key.to_string(), v),
            None => obj.remove(key),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;
    use crate::strategy::test_support::test_job as job;

    #[test]
    fn generated_selector_makes_a_valid_job() {
        let j = job();
        assert_eq!(
            j["spec"]["selector"],
            json!({"matchLabels": {CONTROLLER_UID: "u1"}})
        );
        assert_eq!(j["spec"]["template"]["metadata"]["labels"][JOB_NAME], "pi");
        assert_eq!(
            j["spec"]["template"]["metadata"]["labels"][LEGACY_CONTROLLER_UID],
            "u1"
        );
        assert!(
            run(validate_job, &j).is_empty(),
            "{:?}",
            run(validate_job, &j)
        );
    }

    #[test]
    fn restart_policy_must_be_on_failure_or_never() {
        let mut j = job();
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
        j["spec"]["backoffLimit"] = json!(-1);
        assert_eq!(run(validate_job, &j), vec![
            "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"",
        ]);
    }

    #[test]
    fn job_template_is_immutable() {
        let old = job();
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:2");
        let mut errs = Errs::new();
        validate_job_update(&new, &old, &mut errs);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template");
        assert_eq!(errs[0].detail, "field is immutable");
    }
}
