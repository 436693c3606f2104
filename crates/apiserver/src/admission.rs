//! Built-in admission: namespace lifecycle, Service IP and port allocation, disruption budgets.

use crate::error::{ApiError, ApiResult};
use crate::handlers::Ctx;
use crate::registry;
use crate::Api;
use serde_json::{json, Value};
use skiff_api::catalogue;
use skiff_api::selectors::LabelSelector;
use skiff_api::{FieldError, ResourceType};
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// The service CIDR `10.43.0.0/16`: its first address belongs to the `kubernetes` Service.
const SERVICE_NET: u32 = u32::from_be_bytes([10, 43, 0, 0]);
const SERVICE_BITS: u32 = 16;
/// The NodePort range.
pub const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

fn namespaces() -> &'static ResourceType {
    catalogue::find("", "v1", "namespaces").expect("namespaces are in the catalogue")
}

/// Rejects creation in a missing (404) or terminating (403) namespace.
pub async fn namespace_lifecycle(
    api: &Api,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
) -> ApiResult<()> {
    let Some(ns) = ns.filter(|_| rt.namespaced) else {
        return Ok(());
    };
    match api.registry.get_opt(namespaces(), None, ns).await? {
        None => Err(ApiError::namespace_not_found(ns)),
        Some((obj, _)) if obj.pointer("/metadata/deletionTimestamp").is_some_and(|v| !v.is_null()) => {
            Err(ApiError::forbidden(format!(
                "{} {name:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                rt.group_resource()
            )))
        }
        Some(_) => Ok(()),
    }
}

/// Validating admission on create, after the kind's own validation.
pub async fn validate_create(_api: &Api, _rt: &ResourceType, _obj: &Value) -> ApiResult<()> {
    Ok(())
}

/// Validating admission on update.
pub async fn validate_update(
    _api: &Api,
    _rt: &ResourceType,
    _new: &Value,
    _old: &Value,
) -> ApiResult<()> {
    Ok(())
}

/// Mutating admission on update: Services keep their allocated IPs and ports.
pub async fn mutate_update(
    api: &Api,
    rt: &ResourceType,
    new: &mut Value,
    old: &Value,
) -> ApiResult<()> {
    if !(rt.group.is_empty() && rt.kind == "Service") {
        return Ok(());
    }
    for f in ["clusterIP", "clusterIPs"] {
        let unset = new
            .pointer(&format!("/spec/{f}"))
            .is_none_or(|v| v.is_null() || v == "" || v == &json!([]));
        if unset {
            if let (Some(v), Some(spec)) = (
                old.pointer(&format!("/spec/{f}")).cloned(),
                new.get_mut("spec").and_then(Value::as_object_mut),
            ) {
                spec.insert(f.into(), v);
            }
        }
    }
    let old_ports: Vec<(i64, i64)> = old
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| Some((p.get("port")?.as_i64()?, p.get("nodePort")?.as_i64()?)))
                .collect()
        })
        .unwrap_or_default();
    if wants_node_ports(new) {
        let _guard = api.service_alloc.lock().await;
        let (_, mut used) = used_addresses(api, meta_uid(old)).await?;
        if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut() {
                if p.get("nodePort").and_then(Value::as_i64).is_some() {
                    continue;
                }
                let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                let keep = old_ports
                    .iter()
                    .find(|(pp, _)| *pp == port)
                    .map(|(_, np)| *np);
                let np = match keep {
                    Some(np) => np,
                    None => allocate_port(&used)
                        .ok_or_else(|| ApiError::internal("no free NodePort"))?,
                };
                used.insert(np);
                p["nodePort"] = json!(np);
            }
        }
    } else if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            if let Some(o) = p.as_object_mut() {
                o.remove("nodePort");
            }
        }
    }
    Ok(())
}

fn meta_uid(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn wants_node_ports(svc: &Value) -> bool {
    matches!(
        svc.pointer("/spec/type").and_then(Value::as_str),
        Some("NodePort" | "LoadBalancer")
    )
}

/// Cluster IPs and node ports in use by Services other than `except_uid`.
async fn used_addresses(
    api: &Api,
    except_uid: Option<String>,
) -> ApiResult<(HashSet<u32>, HashSet<i64>)> {
    let rt = catalogue::find("", "v1", "services").expect("services are in the catalogue");
    let list = api
        .registry
        .store
        .list(&registry::prefix(rt, None), Default::default())
        .await?;
    let mut ips = HashSet::new();
    let mut ports = HashSet::new();
    for kv in &list.items {
        let svc = registry::decode(rt, kv)?;
        if except_uid.is_some() && meta_uid(&svc) == except_uid {
            continue;
        }
        if let Some(ip) = svc
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<Ipv4Addr>().ok())
        {
            ips.insert(u32::from(ip));
        }
        for p in svc
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(np) = p.get("nodePort").and_then(Value::as_i64) {
                ports.insert(np);
            }
        }
    }
    Ok((ips, ports))
}

fn allocate_port(used: &HashSet<i64>) -> Option<i64> {
    let span = NODE_PORTS.end() - NODE_PORTS.start() + 1;
    let offset = (rand::random::<u64>() % span as u64) as i64;
    (0..span)
        .map(|i| NODE_PORTS.start() + (offset + i) % span)
        .find(|p| !used.contains(p))
}

fn allocate_ip(used: &HashSet<u32>) -> Option<u32> {
    let size = 1u32 << (32 - SERVICE_BITS);
    let offset = rand::random::<u32>() % size;
    // skip the network address, the kubernetes service (.1) and the DNS address (.10) unless asked for
    (0..size)
        .map(|i| SERVICE_NET + (offset + i) % size)
        .find(|ip| {
            let host = ip - SERVICE_NET;
            host > 10 && host < size - 1 && !used.contains(ip)
        })
}

/// Whether an address is inside the service CIDR.
pub fn in_service_net(ip: Ipv4Addr) -> bool {
    u32::from(ip) >> (32 - SERVICE_BITS) == SERVICE_NET >> (32 - SERVICE_BITS)
}

/// Allocates a Service's cluster IP and node ports, then stores it.
pub async fn create_service(
    api: &Api,
    ns: Option<&str>,
    name: &str,
    mut svc: Value,
    dry_run: bool,
) -> ApiResult<Value> {
    let rt = catalogue::find("", "v1", "services").expect("services are in the catalogue");
    let _guard = api.service_alloc.lock().await;
    let (used_ips, mut used_ports) = used_addresses(api, None).await?;
    let external_name = svc.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName");
    let mut errors = Vec::new();
    if !external_name {
        let asked = svc
            .pointer("/spec/clusterIP")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let ip = match asked.as_str() {
            "" => allocate_ip(&used_ips).map(|ip| Ipv4Addr::from(ip).to_string()),
            "None" => Some("None".to_string()),
            s => match s.parse::<Ipv4Addr>() {
                Ok(a) if !in_service_net(a) => {
                    errors.push(FieldError::invalid("spec.clusterIPs", json!([s]), format!("failed to allocate IP {s}: the provided IP ({s}) is not in the valid range. The range of valid IPs is 10.43.0.0/16")));
                    None
                }
                Ok(a) if used_ips.contains(&u32::from(a)) => {
                    errors.push(FieldError::invalid(
                        "spec.clusterIPs",
                        json!([s]),
                        format!("failed to allocate IP {s}: provided IP is already allocated"),
                    ));
                    None
                }
                _ => Some(s.to_string()),
            },
        };
        if let (Some(ip), Some(spec)) = (ip, svc.get_mut("spec").and_then(Value::as_object_mut)) {
            spec.insert("clusterIP".into(), json!(ip));
            spec.insert("clusterIPs".into(), json!([ip]));
        }
    }
    if wants_node_ports(&svc) {
        if let Some(ports) = svc.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
            for (i, p) in ports.iter_mut().enumerate() {
                let field = format!("spec.ports[{i}].nodePort");
                match p.get("nodePort").and_then(Value::as_i64) {
                    Some(np) if !NODE_PORTS.contains(&np) => errors.push(FieldError::invalid(field, json!(np), "provided port is not in the valid range. The range of valid ports is 30000-32767")),
                    Some(np) if used_ports.contains(&np) => errors.push(FieldError::invalid(field, json!(np), "provided port is already allocated")),
                    Some(np) => {
                        used_ports.insert(np);
                    }
                    None => match allocate_port(&used_ports) {
                        Some(np) => {
                            used_ports.insert(np);
                            p["nodePort"] = json!(np);
                        }
                        None => errors.push(FieldError::invalid(field, json!(0), "range is full")),
                    },
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(rt, name, &errors));
    }
    if dry_run {
        return Ok(svc);
    }
    api.registry.create(rt, ns, name, &svc).await
}

/// Refuses an eviction that a PodDisruptionBudget does not allow (429).
pub async fn check_disruption_budgets(ctx: &Ctx, pod_name: &str) -> ApiResult<()> {
    let ns = ctx.target.namespace.as_deref();
    let (pod, _) = ctx.api.registry.get(ctx.target.rt, ns, pod_name).await?;
    if matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed" | "Pending")
    ) {
        return Ok(());
    }
    let pdbs =
        catalogue::find("policy", "v1", "poddisruptionbudgets").expect("pdbs are in the catalogue");
    let list = ctx
        .api
        .registry
        .store
        .list(&registry::prefix(pdbs, ns), Default::default())
        .await?;
    for kv in &list.items {
        let pdb = registry::decode(pdbs, kv)?;
        let Some(sel) = pdb
            .pointer("/spec/selector")
            .and_then(|s| LabelSelector::from_label_selector(s).ok())
        else {
            continue;
        };
        if !sel.matches(pod.pointer("/metadata/labels")) {
            continue;
        }
        let allowed = pdb
            .pointer("/status/disruptionsAllowed")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if allowed <= 0 {
            let pdb_name = pdb
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(ApiError::new(429, "TooManyRequests", format!(
                "Cannot evict pod as it would violate the pod's disruption budget. The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                pdb.pointer("/status/desiredHealthy").and_then(Value::as_i64).unwrap_or(0),
                pdb.pointer("/status/currentHealthy").and_then(Value::as_i64).unwrap_or(0),
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocated_ips_stay_in_the_service_range_and_skip_reserved_ones() {
        let mut used = HashSet::new();
        for _ in 0..100 {
            let ip = allocate_ip(&used).unwrap();
            assert!(in_service_net(Ipv4Addr::from(ip)));
            assert!(ip - SERVICE_NET > 10);
            assert!(used.insert(ip));
        }
    }

    #[test]
    fn node_ports_come_from_the_range_and_never_repeat() {
        let mut used = HashSet::new();
        for _ in 0..500 {
            let p = allocate_port(&used).unwrap();
            assert!(NODE_PORTS.contains(&p));
            assert!(used.insert(p));
        }
    }
}
