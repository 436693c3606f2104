//! The `cluster.local` zone computed from Services and EndpointSlices (upstream's DNS
//! specification for Services and pods):
//!
//! - `<svc>.<ns>.svc.cluster.local` A: the ClusterIP; for a headless Service, the ready
//!   endpoints' IPs. An ExternalName Service answers a CNAME.
//! - `<hostname>.<svc>.<ns>.svc.cluster.local` A: an endpoint with that hostname.
//! - `_<port>._<proto>.<svc>.<ns>.svc.cluster.local` SRV: named ports.
//! - `a-b-c-d.<ns>.pod.cluster.local` A: that pod IP.
//! - PTR for Service IPs and named endpoints.

use hickory_proto::rr::rdata::{A, CNAME, PTR, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The cluster domain.
pub const DOMAIN: &str = "cluster.local";
/// Answers' time to live (upstream CoreDNS default for the kubernetes plugin).
pub const TTL: u32 = 5;

/// What the server knows: every Service and EndpointSlice.
#[derive(Default, Clone)]
pub struct Snapshot {
    /// Services.
    pub services: Vec<Arc<Service>>,
    /// EndpointSlices.
    pub slices: Vec<Arc<EndpointSlice>>,
}

/// The outcome of a lookup.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// The name is ours: these records (none: the name exists without that type).
    Answers(Vec<Record>),
    /// The name is in the cluster domain but does not exist.
    NxDomain,
    /// Not ours: ask the host's resolvers.
    Forward,
}

fn name(s: &str) -> Option<Name> {
    Name::from_ascii(format!("{s}.")).ok()
}

fn a(owner: &str, ip: Ipv4Addr) -> Option<Record> {
    Some(Record::from_rdata(name(owner)?, TTL, RData::A(A(ip))))
}

/// A ready endpoint of a Service: IP and hostname.
fn ready_endpoints<'a>(
    snap: &'a Snapshot,
    ns: &'a str,
    svc: &'a str,
) -> impl Iterator<Item = (Ipv4Addr, Option<&'a str>)> + 'a {
    snap.slices
        .iter()
        .filter(move |s| {
            s.metadata.namespace.as_deref() == Some(ns)
                && s.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("kubernetes.io/service-name"))
                    .map(String::as_str)
                    == Some(svc)
                && s.address_type == "IPv4"
        })
        .flat_map(|s| s.endpoints.iter())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .filter_map(|e| {
            let ip = e.addresses.first()?.parse().ok()?;
            Some((ip, e.hostname.as_deref()))
        })
}

fn find<'a>(snap: &'a Snapshot, ns: &str, svc: &str) -> Option<&'a Service> {
    snap.services
        .iter()
        .find(|s| {
            s.metadata.namespace.as_deref() == Some(ns) && s.metadata.name.as_deref() == Some(svc)
        })
        .map(|s| &**s)
}

fn dashed(ip: Ipv4Addr) -> String {
    ip.to_string().replace('.', "-")
}

/// Answers `qname` (lowercase, no trailing dot) for `qtype`.
pub fn lookup(snap: &Snapshot, qname: &str, qtype: RecordType) -> Lookup {
    let qname = qname.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rev) = qname.strip_suffix(".in-addr.arpa") {
        return reverse(snap, &qname, rev, qtype);
    }
    let Some(rest) = qname.strip_suffix(&format!(".{DOMAIN}")) else {
        return if qname == DOMAIN {
            Lookup::Answers(Vec::new())
        } else {
            Lookup::Forward
        };
    };
    let labels: Vec<&str> = rest.split('.').collect();
    match labels.as_slice() {
        [pod_ip, _ns, "pod"] => match pod_ip.replace('-', ".").parse::<Ipv4Addr>() {
            Ok(ip) if matches!(qtype, RecordType::A | RecordType::ANY) => {
                Lookup::Answers(a(&qname, ip).into_iter().collect())
            }
            Ok(_) => Lookup::Answers(Vec::new()),
            Err(_) => Lookup::NxDomain,
        },
        [svc, ns, "svc"] => service(snap, &qname, ns, svc, qtype),
        [port, proto, svc, ns, "svc"] if port.starts_with('_') && proto.starts_with('_') => {
            srv(snap, &qname, ns, svc, &port[1..], &proto[1..], qtype)
        }
        [host, svc, ns, "svc"] => {
            let records: Vec<Record> = ready_endpoints(snap, ns, svc)
                .filter(|(ip, h)| *h == Some(*host) || dashed(*ip) == *host)
                .filter(|_| matches!(qtype, RecordType::A | RecordType::ANY))
                .filter_map(|(ip, _)| a(&qname, ip))
                .collect();
            let exists = ready_endpoints(snap, ns, svc)
                .any(|(ip, h)| h == Some(*host) || dashed(ip) == *host);
            if exists {
                Lookup::Answers(records)
            } else {
                Lookup::NxDomain
            }
        }
        // `svc`, `<ns>.svc` and `pod` exist as empty non-terminals
        ["svc"] | [_, "svc"] | ["pod"] | [_, "pod"] => Lookup::Answers(Vec::new()),
        _ => Lookup::NxDomain,
    }
}

fn service(snap: &Snapshot, qname: &str, ns: &str, svc: &str, qtype: RecordType) -> Lookup {
    let Some(s) = find(snap, ns, svc) else {
        return Lookup::NxDomain;
    };
    let spec = s.spec.as_ref();
    if spec.and_then(|s| s.type_.as_deref()) == Some("ExternalName") {
        let target = spec.and_then(|s| s.external_name.as_deref()).unwrap_or("");
        return Lookup::Answers(
            name(qname)
                .zip(name(target.trim_end_matches('.')))
                .map(|(n, t)| Record::from_rdata(n, TTL, RData::CNAME(CNAME(t))))
                .into_iter()
                .collect(),
        );
    }
    if !matches!(qtype, RecordType::A | RecordType::ANY) {
        return Lookup::Answers(Vec::new());
    }
    let cluster_ip = spec.and_then(|s| s.cluster_ip.as_deref()).unwrap_or("");
    let records = match cluster_ip.parse::<Ipv4Addr>() {
        Ok(ip) => a(qname, ip).into_iter().collect(),
        // headless: every ready endpoint
        Err(_) => ready_endpoints(snap, ns, svc)
            .filter_map(|(ip, _)| a(qname, ip))
            .collect(),
    };
    Lookup::Answers(records)
}

fn srv(
    snap: &Snapshot,
    qname: &str,
    ns: &str,
    svc: &str,
    port: &str,
    proto: &str,
    qtype: RecordType,
) -> Lookup {
    let Some(s) = find(snap, ns, svc) else {
        return Lookup::NxDomain;
    };
    let spec = s.spec.as_ref();
    let Some(p) = spec
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .find(|p| {
            p.name.as_deref() == Some(port)
                && p.protocol
                    .as_deref()
                    .unwrap_or("TCP")
                    .eq_ignore_ascii_case(proto)
        })
    else {
        return Lookup::NxDomain;
    };
    if !matches!(qtype, RecordType::SRV | RecordType::ANY) {
        return Lookup::Answers(Vec::new());
    }
    let base = format!("{svc}.{ns}.svc.{DOMAIN}");
    let headless = spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None");
    let targets: Vec<(String, u16)> = if headless {
        // the endpoints' own port for this name lives in the slices; the Service port
        // is what clients were told, so upstream answers with the endpoint's port
        ready_endpoints(snap, ns, svc)
            .map(|(ip, h)| {
                let host = h.map_or_else(|| dashed(ip), str::to_string);
                (format!("{host}.{base}"), p.port as u16)
            })
            .collect()
    } else {
        vec![(base, p.port as u16)]
    };
    let Some(owner) = name(qname) else {
        return Lookup::NxDomain;
    };
    Lookup::Answers(
        targets
            .into_iter()
            .filter_map(|(t, port)| {
                let srv = SRV::new(0, 100, port, name(&t)?);
                Some(Record::from_rdata(owner.clone(), TTL, RData::SRV(srv)))
            })
            .collect(),
    )
}

fn reverse(snap: &Snapshot, qname: &str, rev: &str, qtype: RecordType) -> Lookup {
    let mut octets: Vec<&str> = rev.split('.').collect();
    octets.reverse();
    let Ok(ip) = octets.join(".").parse::<Ipv4Addr>() else {
        return Lookup::Forward;
    };
    let ip_text = ip.to_string();
    let mut targets = Vec::new();
    for s in &snap.services {
        let spec = s.spec.as_ref();
        let ns = s.metadata.namespace.as_deref().unwrap_or_default();
        let svc = s.metadata.name.as_deref().unwrap_or_default();
        if spec.and_then(|s| s.cluster_ip.as_deref()) == Some(ip_text.as_str()) {
            targets.push(format!("{svc}.{ns}.svc.{DOMAIN}"));
        }
        for (eip, host) in ready_endpoints(snap, ns, svc) {
            if let (true, Some(h)) = (eip == ip, host) {
                targets.push(format!("{h}.{svc}.{ns}.svc.{DOMAIN}"));
            }
        }
    }
    if targets.is_empty() {
        return Lookup::Forward;
    }
    if !matches!(qtype, RecordType::PTR | RecordType::ANY) {
        return Lookup::Answers(Vec::new());
    }
    let Some(owner) = name(qname) else {
        return Lookup::NxDomain;
    };
    Lookup::Answers(
        targets
            .iter()
            .filter_map(|t| {
                Some(Record::from_rdata(
                    owner.clone(),
                    TTL,
                    RData::PTR(PTR(name(t)?)),
                ))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> Snapshot {
        let svc = |v: serde_json::Value| Arc::new(serde_json::from_value::<Service>(v).unwrap());
        let slice =
            |v: serde_json::Value| Arc::new(serde_json::from_value::<EndpointSlice>(v).unwrap());
        Snapshot {
            services: vec![
                svc(json!({"metadata": {"name": "web", "namespace": "default"},
                    "spec": {"clusterIP": "10.43.0.20", "ports": [{"name": "http", "port": 80}]}})),
                svc(json!({"metadata": {"name": "db", "namespace": "data"},
                    "spec": {"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}})),
                svc(json!({"metadata": {"name": "ext", "namespace": "default"},
                    "spec": {"type": "ExternalName", "externalName": "example.org"}})),
            ],
            slices: vec![slice(json!({
                "metadata": {"name": "db-x", "namespace": "data",
                             "labels": {"kubernetes.io/service-name": "db"}},
                "addressType": "IPv4",
                "endpoints": [
                    {"addresses": ["10.42.0.7"], "hostname": "db-0", "conditions": {"ready": true}},
                    {"addresses": ["10.42.0.8"], "conditions": {"ready": true}},
                    {"addresses": ["10.42.0.9"], "conditions": {"ready": false}}]}))],
        }
    }

    fn ips(l: Lookup) -> Vec<String> {
        match l {
            Lookup::Answers(r) => r.iter().map(|r| r.data().to_string()).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn services_answer_their_cluster_ip_and_headless_ones_their_ready_pods() {
        let s = snapshot();
        assert_eq!(
            ips(lookup(&s, "web.default.svc.cluster.local", RecordType::A)),
            vec!["10.43.0.20"]
        );
        assert_eq!(
            ips(lookup(&s, "db.data.svc.cluster.local.", RecordType::A)),
            vec!["10.42.0.7", "10.42.0.8"]
        );
        assert_eq!(
            ips(lookup(&s, "db-0.db.data.svc.cluster.local", RecordType::A)),
            vec!["10.42.0.7"]
        );
        assert_eq!(
            lookup(&s, "nope.default.svc.cluster.local", RecordType::A),
            Lookup::NxDomain
        );
        // the name exists, but not with that type
        assert_eq!(
            lookup(&s, "web.default.svc.cluster.local", RecordType::AAAA),
            Lookup::Answers(Vec::new())
        );
        assert_eq!(lookup(&s, "example.org", RecordType::A), Lookup::Forward);
    }

    #[test]
    fn srv_cname_ptr_and_pod_names() {
        let s = snapshot();
        assert_eq!(
            ips(lookup(
                &s,
                "_http._tcp.web.default.svc.cluster.local",
                RecordType::SRV
            )),
            vec!["0 100 80 web.default.svc.cluster.local."]
        );
        assert_eq!(
            ips(lookup(
                &s,
                "_pg._tcp.db.data.svc.cluster.local",
                RecordType::SRV
            )),
            vec![
                "0 100 5432 db-0.db.data.svc.cluster.local.",
                "0 100 5432 10-42-0-8.db.data.svc.cluster.local."
            ]
        );
        assert_eq!(
            ips(lookup(&s, "ext.default.svc.cluster.local", RecordType::A)),
            vec!["example.org."]
        );
        assert_eq!(
            ips(lookup(&s, "20.0.43.10.in-addr.arpa", RecordType::PTR)),
            vec!["web.default.svc.cluster.local."]
        );
        assert_eq!(
            ips(lookup(
                &s,
                "10-42-0-99.default.pod.cluster.local",
                RecordType::A
            )),
            vec!["10.42.0.99"]
        );
        assert_eq!(
            lookup(&s, "1.1.168.192.in-addr.arpa", RecordType::PTR),
            Lookup::Forward
        );
    }
}
