//! Helpers and fixtures shared by the strategy tests.

use super::batch::generate_selector;
use super::value::{Errs, Path};
use serde_json::{json, Value};
use std::borrow::Borrow;

/// The messages of field errors, as upstream prints them.
pub(super) fn messages(errs: &Errs) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

/// The messages a validator of one object reports.
pub(super) fn run(f: fn(&Value, &mut Errs), v: impl Borrow<Value>) -> Vec<String> {
    let mut errs = Errs::new();
    f(v.borrow(), &mut errs);
    messages(&errs)
}

/// The messages a validator of a list reports, the list standing at path `x`.
pub(super) fn run_list(f: fn(&[Value], &Path, &mut Errs), v: Value) -> Vec<String> {
    let mut errs = Errs::new();
    f(
        v.as_array().map(Vec::as_slice).unwrap_or(&[]),
        &Path::new("x"),
        &mut errs,
    );
    messages(&errs)
}

/// A defaulted Job with a generated selector, for tests of batch kinds.
pub(super) fn test_job() -> Value {
    let mut j = json!({"metadata": {"name": "pi", "uid": "u1"}, "spec": {"backoffLimit": 6, "template": {"spec": {
        "containers": [{"name": "c", "image": "perl", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}],
        "restartPolicy": "Never", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30}}}});
    generate_selector(&mut j);
    j
}

/// A valid defaulted pod template with the given labels, for tests of controller kinds.
pub(super) fn test_template(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {
        "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Always", "terminationMessagePolicy": "File"}],
        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30}})
}
