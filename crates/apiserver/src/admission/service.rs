//! Service cluster IP and NodePort allocation, on create and on update.

use crate::error::{ApiError, ApiResult};
use crate::registry;
use crate::Api;
use serde_json::{json, Value};
use skiff_api::catalogue;
use skiff_api::{FieldError, ResourceType};
use std::collections::HashSet;
use std::net::Ipv4Addr;

/// The service CIDR `10.43.0.0/16`: its first address belongs to the `kubernetes` Service.
const SERVICE_NET: u32 = u32::from_be_bytes([10, 43, 0, 0]);
const SERVICE_BITS: u32 = 16;
/// The NodePort range.
pub const NODE_PORTS: std::ops::RangeInclusive<i64> = 30000..=32767;

/// Held while a Service write that allocated addresses is in flight.
pub type AllocationGuard<'a> = Option<tokio::sync::MutexGuard<'a, ()>>;

/// Mutating admission on update: Services keep their allocated IPs and ports, and get new
/// ones when their type starts to need them. Hold the guard until the write commits.
pub async fn mutate_update<'a>(
    api: &'a Api,
    rt: &ResourceType,
    new: &mut Value,
    old: &Value,
) -> ApiResult<AllocationGuard<'a>> {
    if !(rt.group.is_empty() && rt.kind == "Service") {
        return Ok(None);
    }
    let guard = api.service_alloc.lock().await;
    let (used_ips, mut used_ports) = used_addresses(api, meta_uid(old)).await?;
    let name = crate::meta::name(new).to_string();
    let mut errors = Vec::new();
    if !is_external_name(new) && cluster_ip(new).is_empty() {
        let ip = match cluster_ip(old) {
            kept if !kept.is_empty() && !is_external_name(old) => Some(kept.to_string()),
            _ => allocate_ip(&used_ips).map(|ip| Ipv4Addr::from(ip).to_string()),
        };
        if let (Some(ip), Some(spec)) = (ip, new.get_mut("spec").and_then(Value::as_object_mut)) {
            let ips = old
                .pointer("/spec/clusterIPs")
                .filter(|_| cluster_ip(old) == ip)
                .cloned()
                .unwrap_or_else(|| json!([ip]));
            spec.insert("clusterIP".into(), json!(ip));
            spec.insert("clusterIPs".into(), ips);
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
    let wants = wants_node_ports(new);
    let ports = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut);
    for (i, p) in ports.into_iter().flatten().enumerate() {
        let Some(port) = p.as_object_mut() else {
            continue;
        };
        if !wants {
            port.remove("nodePort");
            continue;
        }
        let field = format!("spec.ports[{i}].nodePort");
        match port.get("nodePort").and_then(Value::as_i64) {
            Some(np) if !NODE_PORTS.contains(&np) => errors.push(FieldError::invalid(
                field,
                json!(np),
                "provided port is not in the valid range. The range of valid ports is 30000-32767",
            )),
            Some(np) if used_ports.contains(&np) => errors.push(FieldError::invalid(
                field,
                json!(np),
                "provided port is already allocated",
            )),
            Some(np) => {
                used_ports.insert(np);
            }
            None => {
                let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
                let kept = old_ports
                    .iter()
                    .find(|(pp, _)| *pp == number)
                    .map(|(_, np)| *np);
                match kept.or_else(|| allocate_port(&used_ports)) {
                    Some(np) => {
                        used_ports.insert(np);
                        port.insert("nodePort".into(), json!(np));
                    }
                    None => errors.push(FieldError::invalid(field, json!(0), "range is full")),
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(Some(guard))
    } else {
        Err(ApiError::invalid(catalogue::services(), &name, &errors))
    }
}

fn cluster_ip(svc: &Value) -> &str {
    svc.pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn is_external_name(svc: &Value) -> bool {
    svc.pointer("/spec/type").and_then(Value::as_str) == Some("ExternalName")
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
    let rt = catalogue::services();
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
    let rt = catalogue::services();
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
                            if let Some(o) = p.as_object_mut() {
                                o.insert("nodePort".into(), json!(np));
                            }
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
    api.registry.create(rt, ns, name, svc).await
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
