//! Per-kind selectable fields for field selectors (`spec.nodeName`, `status.phase`, …).

mod values;

use crate::selectors::{FieldSelector, SelectorError};
use crate::ResourceType;
use serde_json::Value;

/// How a kind's field-label conversion rejects an unknown label.
#[derive(Clone, Copy)]
enum Reject {
    /// `field label not supported: spec.foo` (core/v1 and events.k8s.io/v1 kinds).
    NotSupported,
    /// `field label "spec.foo" not supported for Job` (batch/v1).
    NotSupportedFor(&'static str),
    /// `"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"`.
    MetadataOnly,
}

/// A kind's field-label conversion: accepted labels and the canonical label each maps to.
struct Conversion {
    labels: &'static [(&'static str, &'static str)],
    reject: Reject,
}

const fn same(label: &'static str) -> (&'static str, &'static str) {
    (label, label)
}

const NAME: (&str, &str) = same("metadata.name");
const NAMESPACE: (&str, &str) = same("metadata.namespace");

static DEFAULT: Conversion = Conversion {
    labels: &[NAME, NAMESPACE],
    reject: Reject::MetadataOnly,
};

static POD: Conversion = Conversion {
    labels: &[
        NAME,
        NAMESPACE,
        same("spec.nodeName"),
        same("spec.restartPolicy"),
        same("spec.schedulerName"),
        same("spec.serviceAccountName"),
        same("spec.hostNetwork"),
        same("status.phase"),
        same("status.podIP"),
        same("status.podIPs"),
        same("status.nominatedNodeName"),
        ("spec.host", "spec.nodeName"),
    ],
    reject: Reject::NotSupported,
};

static NODE: Conversion = Conversion {
    labels: &[NAME, same("spec.unschedulable")],
    reject: Reject::NotSupported,
};

static REPLICATION_CONTROLLER: Conversion = Conversion {
    labels: &[NAME, NAMESPACE, same("status.replicas")],
    reject: Reject::NotSupported,
};

static CORE_EVENT: Conversion = Conversion {
    labels: &[
        same("involvedObject.kind"),
        same("involvedObject.namespace"),
        same("involvedObject.name"),
        same("involvedObject.uid"),
        same("involvedObject.apiVersion"),
        same("involvedObject.resourceVersion"),
        same("involvedObject.fieldPath"),
        same("reason"),
        same("reportingComponent"),
        same("source"),
        same("type"),
        NAMESPACE,
        NAME,
    ],
    reject: Reject::NotSupported,
};

static EVENTS_EVENT: Conversion = Conversion {
    labels: &[
        same("reason"),
        ("regarding.kind", "involvedObject.kind"),
        ("regarding.namespace", "involvedObject.namespace"),
        ("regarding.name", "involvedObject.name"),
        ("regarding.uid", "involvedObject.uid"),
        ("regarding.apiVersion", "involvedObject.apiVersion"),
        (
            "regarding.resourceVersion",
            "involvedObject.resourceVersion",
        ),
        ("regarding.fieldPath", "involvedObject.fieldPath"),
        ("reportingController", "reportingComponent"),
        same("type"),
        NAMESPACE,
        NAME,
    ],
    reject: Reject::NotSupported,
};

static NAMESPACE_KIND: Conversion = Conversion {
    labels: &[same("status.phase"), NAME],
    reject: Reject::NotSupported,
};

static SECRET: Conversion = Conversion {
    labels: &[same("type"), NAMESPACE, NAME],
    reject: Reject::NotSupported,
};

static SERVICE: Conversion = Conversion {
    labels: &[NAMESPACE, NAME, same("spec.clusterIP"), same("spec.type")],
    reject: Reject::NotSupported,
};

static JOB: Conversion = Conversion {
    labels: &[NAME, NAMESPACE, same("status.successful")],
    reject: Reject::NotSupportedFor("Job"),
};

/// Go's `%q` rendering of a label, close enough for messages.
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// The field-label conversion upstream registers for the type, or the metadata-only default.
fn conversion(rt: &ResourceType) -> &'static Conversion {
    match (rt.group, rt.kind) {
        ("", "Pod") => &POD,
        ("", "Node") => &NODE,
        ("", "ReplicationController") => &REPLICATION_CONTROLLER,
        ("", "Event") => &CORE_EVENT,
        ("events.k8s.io", "Event") => &EVENTS_EVENT,
        ("", "Namespace") => &NAMESPACE_KIND,
        ("", "Secret") => &SECRET,
        ("", "Service") => &SERVICE,
        ("batch", "Job") => &JOB,
        _ => &DEFAULT,
    }
}

/// The canonical label a selectable field label maps to, or upstream's rejection message.
pub fn canonical_label(rt: &ResourceType, label: &str) -> Result<&'static str, SelectorError> {
    let conv = conversion(rt);
    if let Some((_, canonical)) = conv.labels.iter().find(|(l, _)| *l == label) {
        return Ok(canonical);
    }
    Err(SelectorError(match conv.reject {
        Reject::NotSupported => format!("field label not supported: {label}"),
        Reject::NotSupportedFor(kind) => {
            format!("field label {} not supported for {kind}", go_quote(label))
        }
        Reject::MetadataOnly => format!(
            "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            go_quote(label)
        ),
    }))
}

/// Checks every field in the selector is selectable for the type; the error message is
/// upstream's (`field label not supported: spec.foo`).
pub fn check_supported(rt: &ResourceType, sel: &FieldSelector) -> Result<(), SelectorError> {
    sel.requirements
        .iter()
        .try_for_each(|(field, _, _)| canonical_label(rt, field).map(|_| ()))
}

/// Whether the object matches the field selector.
pub fn matches(rt: &ResourceType, sel: &FieldSelector, obj: &Value) -> bool {
    sel.matches_with(|label| match canonical_label(rt, label) {
        Ok(canonical) => values::field_value(rt, canonical, obj),
        Err(_) => String::new(),
    })
}

#[cfg(test)]
mod tests;
