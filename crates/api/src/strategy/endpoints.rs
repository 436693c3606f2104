//! Endpoints and EndpointSlice checks and defaults.

use super::meta::immutable;
use super::names::{dns1123_label, dns1123_subdomain, NameRule};
use super::net::{
    app_protocol, ip, is_ipv4, is_ipv6, non_special_ip, port_name_label, port_number, protocol,
};
use super::value::{arr, each_mut, int, s, set_default, set_default_str, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};

const ADDRESS_TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];

/// Defaults endpoint port protocols to TCP.
pub fn default_endpoints(obj: &mut Value) {
    each_mut(obj, "subsets", |ss| {
        each_mut(ss, "ports", |p| set_default_str(p, "protocol", "TCP"))
    });
}

/// Defaults EndpointSlice ports: protocol TCP and an empty name.
pub fn default_endpoint_slice(obj: &mut Value) {
    each_mut(obj, "ports", |p| {
        set_default_str(p, "protocol", "TCP");
        set_default(p, "name", json!(""));
    });
}

fn node_and_host(addr: &Value, p: &Path, errs: &mut Errs) {
    let host = s(addr, "hostname");
    if !host.is_empty() {
        for msg in dns1123_label(host) {
            errs.push(FieldError::invalid(&p.child("hostname"), json!(host), msg));
        }
    }
    if let Some(node) = addr.get("nodeName").and_then(Value::as_str) {
        for msg in NameRule::Subdomain.check(node, false) {
            errs.push(FieldError::invalid(&p.child("nodeName"), json!(node), msg));
        }
    }
}

/// Validates Endpoints subsets.
pub fn validate_endpoints(obj: &Value, errs: &mut Errs) {
    let path = Path::new("subsets");
    for (i, ss) in arr(obj, "subsets").iter().enumerate() {
        let sp = path.index(i);
        if arr(ss, "addresses").is_empty() && arr(ss, "notReadyAddresses").is_empty() {
            errs.push(FieldError::required(
                &sp,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for field in ["addresses", "notReadyAddresses"] {
            for (j, addr) in arr(ss, field).iter().enumerate() {
                let p = sp.child(field).index(j);
                let a = s(addr, "ip");
                for msg in ip(a) {
                    errs.push(FieldError::invalid(&p.child("ip"), json!(a), msg));
                }
                node_and_host(addr, &p, errs);
                non_special_ip(a, &p.child("ip"), errs);
            }
        }
        let ports = arr(ss, "ports");
        for (j, port) in ports.iter().enumerate() {
            let p = sp.child("ports").index(j);
            port_name_label(port, &p, ports.len() > 1, errs);
            port_number(int(port, "port").unwrap_or(0), &p, errs);
            protocol(port, &p, errs);
            app_protocol(port, &p, errs);
        }
    }
}

/// Validates an EndpointSlice.
pub fn validate_endpoint_slice(obj: &Value, errs: &mut Errs) {
    let kind = s(obj, "addressType");
    match kind {
        "" => errs.push(FieldError::required(&Path::new("addressType"), "")),
        k if ADDRESS_TYPES.contains(&k) => {}
        k => errs.push(FieldError::not_supported(
            &Path::new("addressType"),
            json!(k),
            ADDRESS_TYPES,
        )),
    }
    let path = Path::new("endpoints");
    for (i, ep) in arr(obj, "endpoints").iter().enumerate() {
        let p = path.index(i);
        let addrs = arr(ep, "addresses");
        if addrs.is_empty() {
            errs.push(FieldError::required(
                &p.child("addresses"),
                "must contain at least 1 address",
            ));
        }
        for (j, a) in addrs.iter().enumerate() {
            let ap = p.child("addresses").index(j);
            let a = a.as_str().unwrap_or("");
            match kind {
                "IPv4" if !is_ipv4(a) => errs.push(FieldError::invalid(
                    &ap,
                    json!(a),
                    "must be a valid IPv4 address",
                )),
                "IPv6" if !is_ipv6(a) => errs.push(FieldError::invalid(
                    &ap,
                    json!(a),
                    "must be a valid IPv6 address",
                )),
                "IPv4" | "IPv6" => non_special_ip(a, &ap, errs),
                "FQDN" => {
                    let name = a.strip_suffix('.').unwrap_or(a);
                    for msg in dns1123_subdomain(name) {
                        errs.push(FieldError::invalid(&ap, json!(name), msg));
                    }
                    if name.split('.').count() < 2 {
                        errs.push(FieldError::invalid(
                            &ap,
                            json!(name),
                            "should be a domain with at least two segments separated by dots",
                        ));
                    }
                }
                _ => {}
            }
        }
        node_and_host(ep, &p, errs);
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, port) in arr(obj, "ports").iter().enumerate() {
        let p = Path::new("ports").index(i);
        let name = port_name_label(port, &p, false, errs);
        if names.contains(&name) {
            errs.push(FieldError::duplicate(&p.child("name"), json!(name)));
        } else {
            names.push(name);
        }
        protocol(port, &p, errs);
        if let Some(n) = int(port, "port") {
            port_number(n, &p, errs);
        }
        app_protocol(port, &p, errs);
    }
}

/// Checks an EndpointSlice update: the address type is fixed.
pub fn validate_endpoint_slice_update(new: &Value, old: &Value, errs: &mut Errs) {
    immutable(
        new.get("addressType"),
        old.get("addressType"),
        &Path::new("addressType"),
        errs,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn endpoints_need_addresses_and_named_ports() {
        let mut ep = json!({"subsets": [{"ports": [{"port": 80}, {"port": 81, "name": "b"}]}, {"addresses": [{"ip": "127.0.0.1"}]}]});
        default_endpoints(&mut ep);
        assert_eq!(ep["subsets"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(run(validate_endpoints, ep), vec![
            "subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`",
            "subsets[0].ports[0].name: Required value",
            "subsets[1].addresses[0].ip: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ]);
    }

    #[test]
    fn endpoint_slices() {
        assert_eq!(
            run(validate_endpoint_slice, json!({})),
            vec!["addressType: Required value"]
        );
        let mut slice = json!({"addressType": "IPv4", "endpoints": [{"addresses": ["fd00::1"]}, {"addresses": []}], "ports": [{"port": 80}, {"port": 81}]});
        default_endpoint_slice(&mut slice);
        assert_eq!(
            run(validate_endpoint_slice, slice),
            vec![
            "endpoints[0].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address",
            "endpoints[1].addresses: Required value: must contain at least 1 address",
            "ports[1].name: Duplicate value: \"\"",
        ]
        );
    }
}
