//! A container's environment as upstream's kubelet builds it: `envFrom` first, then `env` in
//! order with `$(VAR)` references expanded, `valueFrom` resolved from the pod, its resources,
//! ConfigMaps and Secrets.

use super::objects::Objects;
use crate::pod_sync::EnvValue;
use crate::status::qos::parse_quantity;
use k8s_openapi::api::core::v1::{Container, EnvVar, Pod};
use std::collections::HashMap;

/// Why an environment could not be built (the container waits with
/// `CreateContainerConfigError`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(pub String);

/// Expands `$(NAME)` from `known`; `$$` escapes a dollar; unknown references stay as written.
pub fn expand(value: &str, known: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) => {
                    let name = &inner[..end];
                    match known.get(name) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[end + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn field(pod: &Pod, path: &str, host_ip: &str) -> Result<EnvValue, EnvError> {
    let m = &pod.metadata;
    let spec = pod.spec.as_ref();
    let lookup = |map: &Option<std::collections::BTreeMap<String, String>>, key: &str| {
        map.as_ref()
            .and_then(|l| l.get(key))
            .cloned()
            .unwrap_or_default()
    };
    let quoted = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix("']"))
            .map(str::to_string)
    };
    let v = match path {
        "metadata.name" => m.name.clone().unwrap_or_default(),
        "metadata.namespace" => m.namespace.clone().unwrap_or_default(),
        "metadata.uid" => m.uid.clone().unwrap_or_default(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => host_ip.to_string(),
        "status.podIP" => return Ok(EnvValue::PodIp),
        "status.podIPs" => return Ok(EnvValue::PodIps),
        p => {
            if let Some(k) = quoted("metadata.labels['") {
                lookup(&m.labels, &k)
            } else if let Some(k) = quoted("metadata.annotations['") {
                lookup(&m.annotations, &k)
            } else {
                return Err(EnvError(format!("unsupported fieldRef path {p:?}")));
            }
        }
    };
    Ok(EnvValue::Literal(v))
}

/// A `resourceFieldRef` value: the container's request or limit (limits default to the node's
/// allocatable), divided by the divisor and rounded up, as upstream.
fn resource(
    pod: &Pod,
    container: &str,
    name: &str,
    divisor: Option<&str>,
    node_cpu: f64,
    node_memory: f64,
) -> Result<String, EnvError> {
    let c = pod
        .spec
        .as_ref()
        .and_then(|s| {
            s.containers
                .iter()
                .chain(s.init_containers.iter().flatten())
                .find(|c| c.name == container)
        })
        .ok_or_else(|| EnvError(format!("resourceFieldRef: no container {container:?}")))?;
    let res = c.resources.as_ref();
    let get = |which: &str, key: &str| {
        let map = if which == "limits" {
            res.and_then(|r| r.limits.as_ref())
        } else {
            res.and_then(|r| r.requests.as_ref())
        };
        map.and_then(|m| m.get(key))
            .and_then(|q| parse_quantity(&q.0))
    };
    let (which, key) = name
        .split_once('.')
        .ok_or_else(|| EnvError(format!("unsupported resource {name:?}")))?;
    let value = match (which, key) {
        ("limits", "cpu") => get("limits", "cpu").unwrap_or(node_cpu),
        ("limits", "memory") => get("limits", "memory").unwrap_or(node_memory),
        ("requests", "cpu") => get("requests", "cpu").unwrap_or(0.0),
        ("requests", "memory") => get("requests", "memory").unwrap_or(0.0),
        ("limits" | "requests", "ephemeral-storage") => get(which, key).unwrap_or(0.0),
        _ => return Err(EnvError(format!("unsupported resource {name:?}"))),
    };
    let divisor = divisor
        .and_then(parse_quantity)
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    Ok(format!("{}", (value / divisor).ceil() as i64))
}

/// Node capacity for resourceFieldRef limits that are not set.
#[derive(Clone, Copy, Debug)]
pub struct NodeAllocatable {
    /// CPUs.
    pub cpu: f64,
    /// Memory bytes.
    pub memory: f64,
}

/// The environment of `c`.
pub async fn environment(
    objects: &Objects,
    pod: &Pod,
    c: &Container,
    host_ip: &str,
    node: NodeAllocatable,
) -> Result<Vec<(String, EnvValue)>, EnvError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut out: Vec<(String, EnvValue)> = Vec::new();
    let mut known: HashMap<String, String> = HashMap::new();
    fn set(
        out: &mut Vec<(String, EnvValue)>,
        known: &mut HashMap<String, String>,
        k: String,
        v: EnvValue,
    ) {
        if let EnvValue::Literal(s) = &v {
            known.insert(k.clone(), s.clone());
        }
        match out.iter_mut().find(|(n, _)| *n == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    for from in c.env_from.iter().flatten() {
        let prefix = from.prefix.clone().unwrap_or_default();
        let data = if let Some(r) = &from.config_map_ref {
            let optional = r.optional.unwrap_or(false);
            match objects.config_map(namespace, &r.name).await {
                Ok(Some(d)) => d,
                Ok(None) if optional => continue,
                Ok(None) => return Err(EnvError(format!("configmap \"{}\" not found", r.name))),
                Err(e) => return Err(EnvError(e.to_string())),
            }
        } else if let Some(r) = &from.secret_ref {
            let optional = r.optional.unwrap_or(false);
            match objects.secret(namespace, &r.name).await {
                Ok(Some(d)) => d,
                Ok(None) if optional => continue,
                Ok(None) => return Err(EnvError(format!("secret \"{}\" not found", r.name))),
                Err(e) => return Err(EnvError(e.to_string())),
            }
        } else {
            continue;
        };
        for (k, v) in data {
            set(
                &mut out,
                &mut known,
                format!("{prefix}{k}"),
                EnvValue::Literal(String::from_utf8_lossy(&v).into_owned()),
            );
        }
    }
    for EnvVar {
        name,
        value,
        value_from,
    } in c.env.iter().flatten()
    {
        let v = match (value, value_from) {
            (Some(v), _) => EnvValue::Literal(expand(v, &known)),
            (None, Some(from)) => {
                if let Some(f) = &from.field_ref {
                    field(pod, &f.field_path, host_ip)?
                } else if let Some(r) = &from.resource_field_ref {
                    let container = r.container_name.as_deref().unwrap_or(&c.name);
                    let divisor = r.divisor.as_ref().map(|d| d.0.as_str());
                    EnvValue::Literal(resource(
                        pod,
                        container,
                        &r.resource,
                        divisor,
                        node.cpu,
                        node.memory,
                    )?)
                } else if let Some(r) = &from.config_map_key_ref {
                    let optional = r.optional.unwrap_or(false);
                    let data = objects
                        .config_map(namespace, &r.name)
                        .await
                        .map_err(|e| EnvError(e.to_string()))?;
                    match data.and_then(|d| d.get(&r.key).cloned()) {
                        Some(v) => EnvValue::Literal(String::from_utf8_lossy(&v).into_owned()),
                        None if optional => continue,
                        None => {
                            return Err(EnvError(format!(
                                "couldn't find key {} in ConfigMap {namespace}/{}",
                                r.key, r.name
                            )))
                        }
                    }
                } else if let Some(r) = &from.secret_key_ref {
                    let optional = r.optional.unwrap_or(false);
                    let data = objects
                        .secret(namespace, &r.name)
                        .await
                        .map_err(|e| EnvError(e.to_string()))?;
                    match data.and_then(|d| d.get(&r.key).cloned()) {
                        Some(v) => EnvValue::Literal(String::from_utf8_lossy(&v).into_owned()),
                        None if optional => continue,
                        None => {
                            return Err(EnvError(format!(
                                "couldn't find key {} in Secret {namespace}/{}",
                                r.key, r.name
                            )))
                        }
                    }
                } else {
                    EnvValue::Literal(String::new())
                }
            }
            (None, None) => EnvValue::Literal(String::new()),
        };
        set(&mut out, &mut known, name.clone(), v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_expand_from_earlier_variables_and_dollars_escape() {
        let known = HashMap::from([("A".to_string(), "x".to_string())]);
        assert_eq!(expand("$(A)-$(B)", &known), "x-$(B)");
        assert_eq!(expand("$$(A)", &known), "$(A)");
        assert_eq!(expand("cost $5", &known), "cost $5");
        assert_eq!(expand("$(A", &known), "$(A");
    }

    #[test]
    fn resource_fields_divide_and_round_up_and_limits_default_to_the_node() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "resources": {
                "requests": {"cpu": "250m", "memory": "64Mi"},
                "limits": {"memory": "128Mi"}
            }}]}
        }))
        .unwrap();
        let r = |name: &str, div: Option<&str>| resource(&pod, "c", name, div, 2.0, 1e9).unwrap();
        assert_eq!(r("requests.cpu", None), "1");
        assert_eq!(r("requests.cpu", Some("1m")), "250");
        assert_eq!(r("limits.memory", Some("1Mi")), "128");
        assert_eq!(r("limits.cpu", None), "2");
        assert_eq!(r("requests.memory", None), "67108864");
    }
}
