//! The resource catalogue: every kind the API serves, with its names, scope and subresources.

/// A subresource served under a resource's object path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    /// `/status`: replaces only `.status`.
    Status,
    /// `/scale`: an `autoscaling/v1` Scale view of `.spec.replicas`.
    Scale,
    /// `pods/binding`: assigns a pod to a node.
    Binding,
    /// `pods/eviction`: a policy-checked delete.
    Eviction,
    /// `pods/log`: container logs streamed from the node.
    Log,
    /// `pods/exec`: a command in a container (upgrade).
    Exec,
    /// `pods/attach`: attach to a container (upgrade).
    Attach,
    /// `pods/portforward`: port forwarding (upgrade).
    PortForward,
    /// `namespaces/finalize`: replaces `.spec.finalizers`.
    Finalize,
    /// `serviceaccounts/token`: a TokenRequest.
    Token,
}

impl Subresource {
    /// The path segment naming this subresource.
    pub const fn name(self) -> &'static str {
        match self {
            Subresource::Status => "status",
            Subresource::Scale => "scale",
            Subresource::Binding => "binding",
            Subresource::Eviction => "eviction",
            Subresource::Log => "log",
            Subresource::Exec => "exec",
            Subresource::Attach => "attach",
            Subresource::PortForward => "portforward",
            Subresource::Finalize => "finalize",
            Subresource::Token => "token",
        }
    }

    /// The subresource named by a path segment.
    pub fn parse(s: &str) -> Option<Subresource> {
        ALL_SUBRESOURCES.iter().copied().find(|sr| sr.name() == s)
    }
}

const ALL_SUBRESOURCES: &[Subresource] = &[
    Subresource::Status,
    Subresource::Scale,
    Subresource::Binding,
    Subresource::Eviction,
    Subresource::Log,
    Subresource::Exec,
    Subresource::Attach,
    Subresource::PortForward,
    Subresource::Finalize,
    Subresource::Token,
];

/// One served resource type: a group/version/kind and the REST names it goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// API group; empty for the legacy core group.
    pub group: &'static str,
    /// API version within the group.
    pub version: &'static str,
    /// Kind of a single object.
    pub kind: &'static str,
    /// Lower-case plural used in URLs.
    pub plural: &'static str,
    /// Lower-case singular name.
    pub singular: &'static str,
    /// Whether objects live inside a namespace.
    pub namespaced: bool,
    /// kubectl short names.
    pub short_names: &'static [&'static str],
    /// Discovery categories (`all`).
    pub categories: &'static [&'static str],
    /// Subresources served under each object.
    pub subresources: &'static [Subresource],
}

impl ResourceType {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` as upstream writes it in messages (`deployments.apps`), or `plural`.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Kind.group` as upstream writes it in Invalid messages (`Deployment.apps`), or `Kind`.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The kind of a list of these objects.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// Whether the subresource is served for this type.
    pub fn has_subresource(&self, sr: Subresource) -> bool {
        self.subresources.contains(&sr)
    }

    /// Whether the resource only takes POSTs whose answer is computed, not stored
    /// (Binding, and the access and identity reviews).
    pub fn create_only(&self) -> bool {
        self.kind == "Binding" || self.kind.ends_with("Review")
    }

    /// The verbs discovery advertises for the resource itself.
    pub fn verbs(&self) -> &'static [&'static str] {
        if self.create_only() {
            return &["create"];
        }
        &[
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ]
    }
}

macro_rules! rt {
    ($group:expr, $version:expr, $kind:expr, $plural:expr, $singular:expr, $ns:expr,
     [$($short:expr),*], [$($cat:expr),*], [$($sr:ident),*]) => {
        ResourceType {
            group: $group,
            version: $version,
            kind: $kind,
            plural: $plural,
            singular: $singular,
            namespaced: $ns,
            short_names: &[$($short),*],
            categories: &[$($cat),*],
            subresources: &[$(Subresource::$sr),*],
        }
    };
}

const NS: bool = true;
const CLUSTER: bool = false;

/// Every resource type the API server serves, in discovery order.
pub static RESOURCES: &[ResourceType] = &[
    rt!("", "v1", "Binding", "bindings", "binding", NS, [], [], []),
    rt!(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        NS,
        ["cm"],
        [],
        []
    ),
    rt!(
        "",
        "v1",
        "Endpoints",
        "endpoints",
        "endpoints",
        NS,
        ["ep"],
        [],
        []
    ),
    rt!("", "v1", "Event", "events", "event", NS, ["ev"], [], []),
    rt!(
        "",
        "v1",
        "LimitRange",
        "limitranges",
        "limitrange",
        NS,
        ["limits"],
        [],
        []
    ),
    rt!(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        CLUSTER,
        ["ns"],
        [],
        [Status, Finalize]
    ),
    rt!(
        "",
        "v1",
        "Node",
        "nodes",
        "node",
        CLUSTER,
        ["no"],
        [],
        [Status]
    ),
    rt!(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        NS,
        ["pvc"],
        [],
        [Status]
    ),
    rt!(
        "",
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        "persistentvolume",
        CLUSTER,
        ["pv"],
        [],
        [Status]
    ),
    rt!(
        "",
        "v1",
        "Pod",
        "pods",
        "pod",
        NS,
        ["po"],
        ["all"],
        [Status, Binding, Eviction, Log, Exec, Attach, PortForward]
    ),
    rt!(
        "",
        "v1",
        "PodTemplate",
        "podtemplates",
        "podtemplate",
        NS,
        [],
        [],
        []
    ),
    rt!(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        "replicationcontroller",
        NS,
        ["rc"],
        ["all"],
        [Status, Scale]
    ),
    rt!(
        "",
        "v1",
        "ResourceQuota",
        "resourcequotas",
        "resourcequota",
        NS,
        ["quota"],
        [],
        [Status]
    ),
    rt!("", "v1", "Secret", "secrets", "secret", NS, [], [], []),
    rt!(
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        "serviceaccount",
        NS,
        ["sa"],
        [],
        [Token]
    ),
    rt!(
        "",
        "v1",
        "Service",
        "services",
        "service",
        NS,
        ["svc"],
        ["all"],
        [Status]
    ),
    rt!(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        "controllerrevision",
        NS,
        [],
        [],
        []
    ),
    rt!(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        "daemonset",
        NS,
        ["ds"],
        ["all"],
        [Status]
    ),
    rt!(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        "deployment",
        NS,
        ["deploy"],
        ["all"],
        [Status, Scale]
    ),
    rt!(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        "replicaset",
        NS,
        ["rs"],
        ["all"],
        [Status, Scale]
    ),
    rt!(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        "statefulset",
        NS,
        ["sts"],
        ["all"],
        [Status, Scale]
    ),
    rt!(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        NS,
        ["cj"],
        ["all"],
        [Status]
    ),
    rt!(
        "batch",
        "v1",
        "Job",
        "jobs",
        "job",
        NS,
        [],
        ["all"],
        [Status]
    ),
    rt!(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        NS,
        [],
        [],
        []
    ),
    rt!(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        NS,
        [],
        [],
        []
    ),
    rt!(
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        "event",
        NS,
        ["ev"],
        [],
        []
    ),
    rt!(
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        "ingressclass",
        CLUSTER,
        [],
        [],
        []
    ),
    rt!(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        "ingress",
        NS,
        ["ing"],
        [],
        [Status]
    ),
    rt!(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        "networkpolicy",
        NS,
        ["netpol"],
        [],
        []
    ),
    rt!(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        NS,
        ["pdb"],
        [],
        [Status]
    ),
    rt!(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        "clusterrolebinding",
        CLUSTER,
        [],
        [],
        []
    ),
    rt!(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        "clusterrole",
        CLUSTER,
        [],
        [],
        []
    ),
    rt!(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        "rolebinding",
        NS,
        [],
        [],
        []
    ),
    rt!(
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        "role",
        NS,
        [],
        [],
        []
    ),
    rt!(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        "priorityclass",
        CLUSTER,
        ["pc"],
        [],
        []
    ),
    rt!(
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        "storageclass",
        CLUSTER,
        ["sc"],
        [],
        []
    ),
    rt!(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        "selfsubjectreview",
        CLUSTER,
        [],
        [],
        []
    ),
    rt!(
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        "localsubjectaccessreview",
        NS,
        [],
        [],
        []
    ),
    rt!(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        CLUSTER,
        [],
        [],
        []
    ),
    rt!(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        "selfsubjectrulesreview",
        CLUSTER,
        [],
        [],
        []
    ),
    rt!(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        "subjectaccessreview",
        CLUSTER,
        [],
        [],
        []
    ),
];

/// The served API groups in discovery order, each with its one version.
pub static GROUPS: &[(&str, &str)] = &[
    ("authentication.k8s.io", "v1"),
    ("authorization.k8s.io", "v1"),
    ("apps", "v1"),
    ("events.k8s.io", "v1"),
    ("batch", "v1"),
    ("coordination.k8s.io", "v1"),
    ("discovery.k8s.io", "v1"),
    ("networking.k8s.io", "v1"),
    ("policy", "v1"),
    ("rbac.authorization.k8s.io", "v1"),
    ("storage.k8s.io", "v1"),
    ("scheduling.k8s.io", "v1"),
];

fn well_known(group: &str, plural: &str) -> &'static ResourceType {
    find(group, "v1", plural).unwrap_or_else(|| panic!("{plural} are missing from the catalogue"))
}

/// core/v1 namespaces.
pub fn namespaces() -> &'static ResourceType {
    well_known("", "namespaces")
}

/// core/v1 pods.
pub fn pods() -> &'static ResourceType {
    well_known("", "pods")
}

/// core/v1 services.
pub fn services() -> &'static ResourceType {
    well_known("", "services")
}

/// policy/v1 poddisruptionbudgets.
pub fn pod_disruption_budgets() -> &'static ResourceType {
    well_known("policy", "poddisruptionbudgets")
}

/// Looks up a resource type by group, version and URL plural.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Looks up a resource type by group, version and kind.
pub fn find_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The resource types of one group/version.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceType> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// Whether the API serves this group/version.
pub fn serves_group_version(group: &str, version: &str) -> bool {
    (group.is_empty() && version == "v1") || GROUPS.contains(&(group, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_are_unique_within_a_group_version() {
        for (i, a) in RESOURCES.iter().enumerate() {
            for b in &RESOURCES[i + 1..] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "duplicate {}",
                    a.plural
                );
            }
        }
    }

    #[test]
    fn every_resource_group_is_served() {
        for r in RESOURCES {
            assert!(serves_group_version(r.group, r.version), "{}", r.plural);
        }
    }

    #[test]
    fn well_known_types_are_served() {
        assert_eq!(namespaces().kind, "Namespace");
        assert_eq!(pods().kind, "Pod");
        assert_eq!(services().kind, "Service");
        assert_eq!(pod_disruption_budgets().kind, "PodDisruptionBudget");
    }

    #[test]
    fn finds_deployments_by_plural_and_kind() {
        let d = find("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert_eq!(find_kind("apps", "v1", "Deployment"), Some(d));
        assert_eq!(d.group_kind(), "Deployment.apps");
        assert!(d.has_subresource(Subresource::Scale));
    }
}
