//! IP address and CIDR checks, the rules for endpoint addresses (no loopback, link-local, …) and port fields.

use super::names::{dns1123_label, port_num, qualified_name};
use super::value::{s, Errs, Path};
use crate::FieldError;
use serde_json::{json, Value};
use std::net::IpAddr;

/// The protocols a port may carry.
pub const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// Parses an IP address the lenient way upstream does (IPv4 octets may carry leading zeros).
pub fn parse_ip(v: &str) -> Option<IpAddr> {
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip);
    }
    let octets: Vec<&str> = v.split('.').collect();
    if octets.len() != 4 || octets.iter().any(|o| o.is_empty() || o.len() > 3) {
        return None;
    }
    let mut b = [0u8; 4];
    for (i, o) in octets.iter().enumerate() {
        b[i] = o.parse().ok()?;
    }
    Some(IpAddr::from(b))
}

/// `must be a valid IP address, …` when `v` is not an IP.
pub fn ip(v: &str) -> Vec<String> {
    match parse_ip(v) {
        Some(_) => Vec::new(),
        None => vec!["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".to_string()],
    }
}

/// `must be a valid CIDR value, …` when `v` is not `ip/prefix`.
pub fn cidr(v: &str) -> Vec<String> {
    let ok = v.split_once('/').is_some_and(|(addr, bits)| {
        let max = match parse_ip(addr) {
            Some(IpAddr::V4(_)) => 32,
            Some(IpAddr::V6(_)) => 128,
            None => return false,
        };
        !bits.is_empty() && bits.len() <= 3 && bits.parse::<u32>().is_ok_and(|b| b <= max)
    });
    if ok {
        Vec::new()
    } else {
        vec!["must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)".to_string()]
    }
}

/// Rejects addresses that make no sense as endpoints (upstream `ValidateNonSpecialIP`).
pub fn non_special_ip(addr: &str, path: &Path, errs: &mut Errs) {
    let Some(ip) = parse_ip(addr) else {
        errs.push(FieldError::invalid(
            path,
            json!(addr),
            "must be a valid IP address",
        ));
        return;
    };
    let v = json!(addr);
    if ip.is_unspecified() {
        errs.push(FieldError::invalid(
            path,
            v.clone(),
            format!("may not be unspecified ({addr})"),
        ));
    }
    if ip.is_loopback() {
        errs.push(FieldError::invalid(
            path,
            v.clone(),
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let (link_local, link_local_multicast) = match ip {
        IpAddr::V4(a) => (a.is_link_local(), a.octets()[..3] == [224, 0, 0]),
        IpAddr::V6(a) => (
            (a.segments()[0] & 0xffc0) == 0xfe80,
            (a.segments()[0] & 0xff0f) == 0xff02,
        ),
    };
    if link_local {
        errs.push(FieldError::invalid(
            path,
            v.clone(),
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if link_local_multicast {
        errs.push(FieldError::invalid(
            path,
            v,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
}

/// Whether the string is an IPv6 address.
pub fn is_ipv6(addr: &str) -> bool {
    matches!(parse_ip(addr), Some(IpAddr::V6(_)))
}

/// Whether the string is an IPv4 address.
pub fn is_ipv4(addr: &str) -> bool {
    matches!(parse_ip(addr), Some(IpAddr::V4(_)))
}

/// Checks a port's `name`: required among several ports, else a DNS label when set; returns it.
pub fn port_name_label<'a>(port: &'a Value, p: &Path, several: bool, errs: &mut Errs) -> &'a str {
    let name = s(port, "name");
    if several && name.is_empty() {
        errs.push(FieldError::required(&p.child("name"), ""));
    } else if !name.is_empty() {
        for msg in dns1123_label(name) {
            errs.push(FieldError::invalid(&p.child("name"), json!(name), msg));
        }
    }
    name
}

/// Checks a port's `port` number: 1 to 65535.
pub fn port_number(n: i64, p: &Path, errs: &mut Errs) {
    for msg in port_num(n) {
        errs.push(FieldError::invalid(&p.child("port"), json!(n), msg));
    }
}

/// Checks a port's `protocol`: required and one of [`PROTOCOLS`].
pub fn protocol(port: &Value, p: &Path, errs: &mut Errs) {
    match s(port, "protocol") {
        "" => errs.push(FieldError::required(&p.child("protocol"), "")),
        pr if PROTOCOLS.contains(&pr) => {}
        pr => errs.push(FieldError::not_supported(
            &p.child("protocol"),
            json!(pr),
            PROTOCOLS,
        )),
    }
}

/// Checks a port's `appProtocol`, when set: a qualified name.
pub fn app_protocol(port: &Value, p: &Path, errs: &mut Errs) {
    if let Some(ap) = port.get("appProtocol").and_then(Value::as_str) {
        for msg in qualified_name(ap) {
            errs.push(FieldError::invalid(&p.child("appProtocol"), json!(ap), msg));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs_of(addr: &str) -> Vec<String> {
        let mut errs = Errs::new();
        non_special_ip(addr, &Path::new("ip"), &mut errs);
        errs.into_iter().map(|e| e.detail).collect()
    }

    #[test]
    fn addresses_and_cidrs() {
        assert!(ip("10.0.0.1").is_empty());
        assert!(ip("010.000.0.1").is_empty());
        assert!(!ip("10.0.0").is_empty());
        assert!(cidr("10.42.0.0/16").is_empty());
        assert!(!cidr("10.42.0.0/33").is_empty());
    }

    #[test]
    fn special_addresses_are_rejected() {
        assert!(errs_of("10.42.0.7").is_empty());
        assert_eq!(errs_of("0.0.0.0"), vec!["may not be unspecified (0.0.0.0)"]);
        assert_eq!(
            errs_of("127.0.0.1"),
            vec!["may not be in the loopback range (127.0.0.0/8, ::1/128)"]
        );
        assert_eq!(
            errs_of("169.254.1.1"),
            vec!["may not be in the link-local range (169.254.0.0/16, fe80::/10)"]
        );
        assert_eq!(
            errs_of("fe80::1"),
            vec!["may not be in the link-local range (169.254.0.0/16, fe80::/10)"]
        );
        assert_eq!(errs_of("224.0.0.5").len(), 1);
        assert!(is_ipv6("::1") && is_ipv4("1.2.3.4") && !is_ipv4("x"));
    }
}
