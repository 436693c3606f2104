//! The selector of a pod's siblings (its services and controller), for default spreading.

use crate::selector::{LabelSelector, Labels, NO_LABELS};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::sync::Arc;

/// The kinds of controller whose selector joins the default selector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControllerKind {
    /// core/v1 ReplicationController.
    ReplicationController,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// apps/v1 StatefulSet.
    StatefulSet,
}

/// The pod's controller reference, if it is one of the kinds that count.
pub fn controller_of(pod: &Pod) -> Option<(ControllerKind, &OwnerReference)> {
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))?;
    let kind = match (owner.api_version.as_str(), owner.kind.as_str()) {
        ("v1", "ReplicationController") => ControllerKind::ReplicationController,
        ("apps/v1", "ReplicaSet") => ControllerKind::ReplicaSet,
        ("apps/v1", "StatefulSet") => ControllerKind::StatefulSet,
        _ => return None,
    };
    Some((kind, owner))
}

/// Requirements of every service selecting the pod, plus its controller's selector; `None`
/// when that is empty.
pub fn default_selector(
    pod: &Pod,
    services: &[Arc<Service>],
    controller: Option<LabelSelector>,
) -> Option<LabelSelector> {
    let labels = pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
    let mut merged = Labels::new();
    for svc in services {
        let Some(sel) = svc.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
            continue;
        };
        if sel.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            merged.extend(sel.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    let mut selector = LabelSelector::from_map(&merged);
    if let Some(c) = controller {
        selector.and(c);
    }
    (!selector.is_empty()).then_some(selector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;
    use k8s_openapi::api::core::v1::ServiceSpec;

    fn service(selector: &[(&str, &str)]) -> Arc<Service> {
        Arc::new(Service {
            spec: Some(ServiceSpec {
                selector: Some(
                    selector
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    #[test]
    fn services_selecting_the_pod_and_its_controller_merge() {
        let p = pod("a", "", "")
            .labels(&[("app", "web"), ("tier", "fe")])
            .build();
        let other = pod("b", "", "")
            .labels(&[("app", "web"), ("tier", "be")])
            .build();
        let services = [service(&[("app", "web")]), service(&[("app", "db")])];
        let controller = LabelSelector::from_map(&[("tier".to_string(), "fe".to_string())].into());
        let sel = default_selector(&p, &services, Some(controller)).expect("selector");
        assert!(sel.matches(p.metadata.labels.as_ref().expect("labels")));
        assert!(!sel.matches(other.metadata.labels.as_ref().expect("labels")));
        assert!(default_selector(&p, &[service(&[("app", "db")])], None).is_none());
    }

    #[test]
    fn only_controllers_of_known_kinds_count() {
        let mut p = pod("a", "", "").build();
        p.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "rs".into(),
            uid: "u".into(),
            controller: Some(true),
            block_owner_deletion: None,
        }]);
        assert_eq!(
            controller_of(&p).map(|(k, o)| (k, o.name.as_str())),
            Some((ControllerKind::ReplicaSet, "rs"))
        );
        if let Some(o) = p.metadata.owner_references.as_mut() {
            o[0].kind = "Job".into();
        }
        assert!(controller_of(&p).is_none());
    }
}
