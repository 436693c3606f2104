//! RBAC Role, ClusterRole, RoleBinding and ClusterRoleBinding checks and defaults.

use super::names::{path_segment_name, NameRule};
use super::value::{arr, each_mut, obj_mut, s, set_default_str, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const GROUP: &str = "rbac.authorization.k8s.io";

/// Defaults binding `roleRef.apiGroup` and subject API groups.
pub fn default_binding(obj: &mut Value) {
    if let Some(r) = obj_mut(obj, "roleRef") {
        set_default_str(r, "apiGroup", GROUP);
    }
    each_mut(obj, "subjects", |sub| match s(sub, "kind") {
        "User" | "Group" => set_default_str(sub, "apiGroup", GROUP),
        "ServiceAccount" => set_default_str(sub, "apiGroup", ""),
        _ => {}
    });
}

/// Validates the rules of a Role (`namespaced`) or ClusterRole.
pub fn validate_role(obj: &Value, namespaced: bool, errs: &mut Errs) {
    for (i, rule) in arr(obj, "rules").iter().enumerate() {
        let p = Path::new("rules").index(i);
        if arr(rule, "verbs").is_empty() {
            errs.push(FieldError::required(
                &p.child("verbs"),
                "verbs must contain at least one value",
            ));
        }
        let urls = arr(rule, "nonResourceURLs");
        if !urls.is_empty() {
            let shown = Value::Array(urls.to_vec());
            if namespaced {
                errs.push(FieldError::invalid(
                    &p.child("nonResourceURLs"),
                    shown.clone(),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !arr(rule, "apiGroups").is_empty()
                || !arr(rule, "resources").is_empty()
                || !arr(rule, "resourceNames").is_empty()
            {
                errs.push(FieldError::invalid(
                    &p.child("nonResourceURLs"),
                    shown,
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if arr(rule, "apiGroups").is_empty() {
            errs.push(FieldError::required(
                &p.child("apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr(rule, "resources").is_empty() {
            errs.push(FieldError::required(
                &p.child("resources"),
                "resource rules must supply at least one resource",
            ));
        }
        if !arr(rule, "resourceNames").is_empty() && arr(rule, "resources").len() > 1 {
            errs.push(FieldError::required(
                &p.child("resourceNames"),
                "resource names cannot apply to multiple resources",
            ));
        }
    }
}

/// Validates a RoleBinding (`namespaced`) or ClusterRoleBinding.
pub fn validate_binding(obj: &Value, namespaced: bool, errs: &mut Errs) {
    let role_ref = obj.get("roleRef").unwrap_or(&Value::Null);
    let rp = Path::new("roleRef");
    let group = s(role_ref, "apiGroup");
    if group != GROUP {
        errs.push(FieldError::not_supported(
            &rp.child("apiGroup"),
            json!(group),
            &[GROUP],
        ));
    }
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    let kind = s(role_ref, "kind");
    if !kinds.contains(&kind) {
        errs.push(FieldError::not_supported(
            &rp.child("kind"),
            json!(kind),
            kinds,
        ));
    }
    let name = s(role_ref, "name");
    if name.is_empty() {
        errs.push(FieldError::required(&rp.child("name"), ""));
    } else {
        for msg in path_segment_name(name) {
            errs.push(FieldError::invalid(&rp.child("name"), json!(name), msg));
        }
    }
    for (i, sub) in arr(obj, "subjects").iter().enumerate() {
        subject(sub, namespaced, &Path::new("subjects").index(i), errs);
    }
}

fn subject(sub: &Value, namespaced: bool, p: &Path, errs: &mut Errs) {
    let (name, group) = (s(sub, "name"), s(sub, "apiGroup"));
    if name.is_empty() {
        errs.push(FieldError::required(&p.child("name"), ""));
    }
    match s(sub, "kind") {
        "ServiceAccount" => {
            if !name.is_empty() {
                for msg in NameRule::Subdomain.check(name, false) {
                    errs.push(FieldError::invalid(&p.child("name"), json!(name), msg));
                }
            }
            if !group.is_empty() {
                errs.push(FieldError::not_supported(
                    &p.child("apiGroup"),
                    json!(group),
                    &[""],
                ));
            }
            if !namespaced && s(sub, "namespace").is_empty() {
                errs.push(FieldError::required(&p.child("namespace"), ""));
            }
        }
        kind @ ("User" | "Group") => {
            if name.is_empty() {
                let what = if kind == "User" { "user" } else { "group" };
                errs.push(FieldError::invalid(
                    &p.child("name"),
                    json!(name),
                    format!("{what} name cannot be empty"),
                ));
            }
            if group != GROUP {
                errs.push(FieldError::not_supported(
                    &p.child("apiGroup"),
                    json!(group),
                    &[GROUP],
                ));
            }
        }
        kind => errs.push(FieldError::not_supported(
            &p.child("kind"),
            json!(kind),
            &["ServiceAccount", "User", "Group"],
        )),
    }
}

/// Checks a binding update: `roleRef` may not change.
pub fn validate_binding_update(new: &Value, old: &Value, errs: &mut Errs) {
    if new.get("roleRef") != old.get("roleRef") {
        errs.push(FieldError::invalid(
            &Path::new("roleRef"),
            new.get("roleRef").cloned().unwrap_or_default(),
            "cannot change roleRef",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_get_api_groups() {
        let mut b = json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "sa", "namespace": "x"}]});
        default_binding(&mut b);
        assert_eq!(b["roleRef"]["apiGroup"], GROUP);
        assert_eq!(b["subjects"][0]["apiGroup"], GROUP);
        assert_eq!(b["subjects"][1]["apiGroup"], "");
        let mut errs = Errs::new();
        validate_binding(&b, true, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
    }

    #[test]
    fn rules_need_verbs_and_resources() {
        let mut errs = Errs::new();
        validate_role(
            &json!({"rules": [{"apiGroups": [""]}, {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}]}),
            true,
            &mut errs,
        );
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(got, vec![
            "rules[0].verbs: Required value: verbs must contain at least one value",
            "rules[0].resources: Required value: resource rules must supply at least one resource",
            "rules[1].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
        ]);
    }

    #[test]
    fn cluster_bindings_need_cluster_roles_and_namespaces() {
        let mut errs = Errs::new();
        let b = json!({"roleRef": {"apiGroup": GROUP, "kind": "Role", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "sa"}]});
        validate_binding(&b, false, &mut errs);
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                "subjects[0].namespace: Required value",
            ]
        );
        errs.clear();
        validate_binding_update(
            &json!({"roleRef": {"name": "b"}}),
            &json!({"roleRef": {"name": "a"}}),
            &mut errs,
        );
        assert_eq!(errs[0].detail, "cannot change roleRef");
    }
}
