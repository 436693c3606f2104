//! Pod update rules: only images, a shorter active deadline and added tolerations may change.

use super::meta::{diff_lines, semantic_eq};
use super::names::inclusive_range_error;
use super::value::{arr, int, s, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const UPDATABLE: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// Validates the spec changes of a pod update.
pub fn validate_pod_update(new: &Value, old: &Value, errs: &mut Errs) {
    let (ns, os) = (&new["spec"], &old["spec"]);
    let path = Path::new("spec");
    for key in ["containers", "initContainers"] {
        let (nc, oc) = (arr(ns, key), arr(os, key));
        if nc.len() != oc.len() {
            errs.push(FieldError::forbidden(
                &path.child(key),
                "pod updates may not add or remove containers",
            ));
            return;
        }
        for (i, c) in nc.iter().enumerate() {
            let image = s(c, "image");
            if image.is_empty() {
                errs.push(FieldError::required(
                    &path.child(key).index(i).child("image"),
                    "",
                ));
            }
        }
    }
    let deadline = path.child("activeDeadlineSeconds");
    match (
        int(ns, "activeDeadlineSeconds"),
        int(os, "activeDeadlineSeconds"),
    ) {
        (Some(n), _) if !(0..=i64::from(i32::MAX)).contains(&n) => {
            errs.push(FieldError::invalid(
                &deadline,
                json!(n),
                inclusive_range_error(0, i64::from(i32::MAX)),
            ));
            return;
        }
        (Some(n), Some(o)) if o < n => {
            errs.push(FieldError::invalid(
                &deadline,
                json!(n),
                "must be less than or equal to previous value",
            ));
            return;
        }
        (None, Some(_)) => errs.push(FieldError::invalid(
            &deadline,
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    let (nt, ot) = (arr(ns, "tolerations"), arr(os, "tolerations"));
    let kept = ot.iter().all(|o| {
        nt.iter().any(|n| {
            let mut o = o.clone();
            if let Some(m) = o.as_object_mut() {
                m.remove("tolerationSeconds");
                if let Some(secs) = n.get("tolerationSeconds") {
                    m.insert("tolerationSeconds".into(), secs.clone());
                }
            }
            semantic_eq(&o, n)
        })
    });
    if !kept {
        errs.push(FieldError::forbidden(
            &path.child("tolerations"),
            "existing toleration can not be modified except its tolerationSeconds",
        ));
    }
    let old_gates: Vec<&str> = arr(os, "schedulingGates")
        .iter()
        .map(|g| s(g, "name"))
        .collect();
    for (i, gate) in arr(ns, "schedulingGates").iter().enumerate() {
        if !old_gates.contains(&s(gate, "name")) {
            errs.push(FieldError::forbidden(
                &path.child("schedulingGates").index(i).child("name"),
                format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    s(gate, "name")
                ),
            ));
        }
    }
    if semantic_eq(ns, os) {
        return;
    }
    let munged = munge(ns, os);
    if !semantic_eq(&munged, os) {
        errs.push(FieldError::forbidden(
            &path,
            format!(
                "pod updates may not change fields other than {UPDATABLE}\n{}",
                diff_lines(os, &munged)
            ),
        ));
    }
}

/// The new spec with every field a pod update may change reset to its old value.
fn munge(ns: &Value, os: &Value) -> Value {
    let mut m = ns.clone();
    for key in ["containers", "initContainers"] {
        if let Some(list) = m.get_mut(key).and_then(Value::as_array_mut) {
            for (c, o) in list.iter_mut().zip(arr(os, key)) {
                copy_field(c, o, "image");
            }
        }
    }
    for key in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
        copy_field(&mut m, os, key);
    }
    let old_grace = int(os, "terminationGracePeriodSeconds");
    if old_grace.is_some_and(|g| g < 0) && int(&m, "terminationGracePeriodSeconds") == Some(1) {
        copy_field(&mut m, os, "terminationGracePeriodSeconds");
    }
    m
}

fn copy_field(dst: &mut Value, src: &Value, key: &str) {
    if let Some(d) = dst.as_object_mut() {
        match src.get(key) {
            Some(v) => d.insert(key.to_string(), v.clone()),
            None => d.remove(key),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(image: &str) -> Value {
        json!({"spec": {"containers": [{"name": "c", "image": image}], "tolerations": [{"key": "a", "operator": "Exists"}], "activeDeadlineSeconds": 100}})
    }

    fn errs_of(new: &Value, old: &Value) -> Vec<String> {
        let mut errs = Errs::new();
        validate_pod_update(new, old, &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn image_and_deadline_may_change() {
        let mut new = pod("nginx:2");
        new["spec"]["activeDeadlineSeconds"] = json!(50);
        new["spec"]["tolerations"] =
            json!([{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]);
        assert!(errs_of(&new, &pod("nginx:1")).is_empty());
    }

    #[test]
    fn other_changes_are_forbidden() {
        let mut new = pod("nginx");
        new["spec"]["containers"][0]["name"] = json!("d");
        let got = errs_of(&new, &pod("nginx"));
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"));
        let mut more = pod("nginx");
        more["spec"]["containers"] =
            json!([{"name": "c", "image": "x"}, {"name": "d", "image": "y"}]);
        assert_eq!(
            errs_of(&more, &pod("nginx")),
            vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
        );
    }

    #[test]
    fn deadline_may_only_shrink_and_tolerations_only_grow() {
        let mut new = pod("nginx");
        new["spec"]["activeDeadlineSeconds"] = json!(200);
        assert_eq!(errs_of(&new, &pod("nginx")), vec!["spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"]);
        let mut new = pod("nginx");
        new["spec"]["tolerations"] = json!([]);
        assert_eq!(errs_of(&new, &pod("nginx"))[0], "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds");
    }
}
