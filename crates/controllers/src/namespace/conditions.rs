//! The deletion conditions a terminating namespace reports, with upstream's reasons and messages.

use super::content::Remaining;
use k8s_openapi::api::core::v1::NamespaceCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The conditions for a pass that failed discovery (`None`) or found `left`.
pub fn conditions(
    left: Option<&Remaining>,
    discovery_error: Option<&str>,
) -> Vec<NamespaceCondition> {
    let now = Timestamp::now();
    let cond = |type_: &str, on: bool, reason: &str, message: String| NamespaceCondition {
        type_: type_.to_string(),
        status: if on { "True" } else { "False" }.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_transition_time: Some(Time(now)),
    };
    let mut out = vec![match discovery_error {
        Some(e) => cond(
            "NamespaceDeletionDiscoveryFailure",
            true,
            "DiscoveryFailed",
            format!("Discovery failed for some groups: {e}"),
        ),
        None => cond(
            "NamespaceDeletionDiscoveryFailure",
            false,
            "ResourcesDiscovered",
            "All resources successfully discovered".into(),
        ),
    }];
    let Some(left) = left else {
        return out;
    };
    out.push(if left.failures.is_empty() {
        cond(
            "NamespaceDeletionContentFailure",
            false,
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization".into(),
        )
    } else {
        cond(
            "NamespaceDeletionContentFailure",
            true,
            "ContentDeletionFailed",
            format!(
                "Failed to delete all resource types, {} remaining: {}",
                left.failures.len(),
                left.failures.join(", ")
            ),
        )
    });
    out.push(if left.resources.is_empty() {
        cond(
            "NamespaceContentRemaining",
            false,
            "ContentRemoved",
            "All content successfully removed".into(),
        )
    } else {
        let parts: Vec<String> = left
            .resources
            .iter()
            .map(|(gr, n)| format!("{gr} has {n} resource instances"))
            .collect();
        cond(
            "NamespaceContentRemaining",
            true,
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", parts.join(", ")),
        )
    });
    out.push(if left.finalizers.is_empty() {
        cond(
            "NamespaceFinalizersRemaining",
            false,
            "ContentHasNoFinalizers",
            "All content-preserving finalizers have been removed".into(),
        )
    } else {
        let parts: Vec<String> = left
            .finalizers
            .iter()
            .map(|(f, n)| format!("{f} in {n} resource instances"))
            .collect();
        cond(
            "NamespaceFinalizersRemaining",
            true,
            "SomeFinalizersRemain",
            format!(
                "Some content in the namespace has finalizers remaining: {}",
                parts.join(", ")
            ),
        )
    });
    out
}

/// Merges `new` into `existing`, keeping transition times of conditions whose status held.
pub fn merge(
    existing: &[NamespaceCondition],
    new: Vec<NamespaceCondition>,
) -> Vec<NamespaceCondition> {
    let mut out: Vec<NamespaceCondition> = existing
        .iter()
        .filter(|c| !new.iter().any(|n| n.type_ == c.type_))
        .cloned()
        .collect();
    for mut n in new {
        if let Some(old) = existing
            .iter()
            .find(|c| c.type_ == n.type_ && c.status == n.status)
        {
            n.last_transition_time = old.last_transition_time.clone();
        }
        out.push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_content_is_described_like_upstream() {
        let mut left = Remaining::default();
        left.resources.insert("pods.".into(), 2);
        left.finalizers.insert("example.com/hold".into(), 1);
        let c = conditions(Some(&left), None);
        let remaining = c
            .iter()
            .find(|c| c.type_ == "NamespaceContentRemaining")
            .unwrap();
        assert_eq!(remaining.status, "True");
        assert_eq!(remaining.reason.as_deref(), Some("SomeResourcesRemain"));
        assert_eq!(
            remaining.message.as_deref(),
            Some("Some resources are remaining: pods. has 2 resource instances")
        );
        let fin = c
            .iter()
            .find(|c| c.type_ == "NamespaceFinalizersRemaining")
            .unwrap();
        assert_eq!(fin.status, "True");
        assert_eq!(c.len(), 4);
    }
}
