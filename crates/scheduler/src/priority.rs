//! Pod priority and preemption policy, resolved from PriorityClasses when the pod lacks them.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use skiff_client::Store;
use std::sync::Arc;

/// The value of the built-in `system-cluster-critical` class.
pub const SYSTEM_CLUSTER_CRITICAL: i32 = 2_000_000_000;
/// The value of the built-in `system-node-critical` class.
pub const SYSTEM_NODE_CRITICAL: i32 = 2_000_001_000;

/// Where PriorityClasses are looked up.
pub trait PriorityClasses {
    /// The class called `name`.
    fn get(&self, name: &str) -> Option<Arc<PriorityClass>>;
    /// The class marked `globalDefault`, if any.
    fn global_default(&self) -> Option<Arc<PriorityClass>>;
}

impl PriorityClasses for Store<PriorityClass> {
    fn get(&self, name: &str) -> Option<Arc<PriorityClass>> {
        Store::get(self, name)
    }

    fn global_default(&self) -> Option<Arc<PriorityClass>> {
        self.list()
            .into_iter()
            .find(|c| c.global_default == Some(true))
    }
}

impl PriorityClasses for Vec<PriorityClass> {
    fn get(&self, name: &str) -> Option<Arc<PriorityClass>> {
        self.iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
            .map(|c| Arc::new(c.clone()))
    }

    fn global_default(&self) -> Option<Arc<PriorityClass>> {
        self.iter()
            .find(|c| c.global_default == Some(true))
            .map(|c| Arc::new(c.clone()))
    }
}

fn class_of(pod: &Pod, classes: &dyn PriorityClasses) -> Option<Arc<PriorityClass>> {
    match pod.spec.as_ref()?.priority_class_name.as_deref() {
        Some(name) if !name.is_empty() => classes.get(name),
        _ => classes.global_default(),
    }
}

/// `spec.priority`, else the value of the pod's class (or the global default class), else 0.
pub fn pod_priority(pod: &Pod, classes: &dyn PriorityClasses) -> i32 {
    let spec = pod.spec.as_ref();
    if let Some(p) = spec.and_then(|s| s.priority) {
        return p;
    }
    if let Some(class) = class_of(pod, classes) {
        return class.value;
    }
    match spec.and_then(|s| s.priority_class_name.as_deref()) {
        Some("system-cluster-critical") => SYSTEM_CLUSTER_CRITICAL,
        Some("system-node-critical") => SYSTEM_NODE_CRITICAL,
        _ => 0,
    }
}

/// Whether the pod may preempt others (`preemptionPolicy` is not `Never`).
pub fn may_preempt(pod: &Pod, classes: &dyn PriorityClasses) -> bool {
    let own = pod.spec.as_ref().and_then(|s| s.preemption_policy.clone());
    let policy = own.or_else(|| class_of(pod, classes).and_then(|c| c.preemption_policy.clone()));
    policy.as_deref() != Some("Never")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn class(name: &str, value: i32, default: bool, policy: Option<&str>) -> PriorityClass {
        PriorityClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            value,
            global_default: Some(default),
            preemption_policy: policy.map(Into::into),
            description: None,
        }
    }

    #[test]
    fn spec_priority_wins_then_the_named_class_then_the_default() {
        let classes = vec![
            class("high", 1000, false, None),
            class("base", 10, true, Some("Never")),
        ];
        assert_eq!(
            pod_priority(&pod("a", "", "").priority(7).build(), &classes),
            7
        );
        let mut named = pod("b", "", "").build();
        named.spec.as_mut().expect("spec").priority_class_name = Some("high".into());
        assert_eq!(pod_priority(&named, &classes), 1000);
        assert!(may_preempt(&named, &classes));
        let plain = pod("c", "", "").build();
        assert_eq!(pod_priority(&plain, &classes), 10);
        assert!(
            !may_preempt(&plain, &classes),
            "the default class says Never"
        );
        assert_eq!(pod_priority(&plain, &Vec::new()), 0);
    }

    #[test]
    fn built_in_classes_resolve_without_objects() {
        let mut p = pod("a", "", "").build();
        p.spec.as_mut().expect("spec").priority_class_name = Some("system-node-critical".into());
        assert_eq!(pod_priority(&p, &Vec::new()), SYSTEM_NODE_CRITICAL);
    }
}
