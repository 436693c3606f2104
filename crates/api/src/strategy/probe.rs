//! Probe and lifecycle-hook checks: one handler each, valid ports, non-negative timings.

use super::meta::non_negative;
use super::names::{http_header_name, port_name, port_num};
use super::value::{arr, has, int, int_or_str, s, Errs, IntOrStr, Path};
use crate::FieldError;
use serde_json::{json, Value};

/// Which container probe is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    /// `livenessProbe`.
    Liveness,
    /// `readinessProbe`.
    Readiness,
    /// `startupProbe`.
    Startup,
}

impl ProbeKind {
    /// The container field holding this probe.
    pub const fn field(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "livenessProbe",
            ProbeKind::Readiness => "readinessProbe",
            ProbeKind::Startup => "startupProbe",
        }
    }
}

/// Validates a probe of the given kind; `grace` is the pod's termination grace period.
pub fn validate_probe(
    kind: ProbeKind,
    probe: &Value,
    grace: Option<i64>,
    path: &Path,
    errs: &mut Errs,
) {
    validate_handler(
        probe,
        &["exec", "httpGet", "tcpSocket", "grpc"],
        grace,
        path,
        errs,
    );
    for field in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        non_negative(int(probe, field), &path.child(field), errs);
    }
    if let Some(t) = int(probe, "terminationGracePeriodSeconds").filter(|t| *t <= 0) {
        errs.push(FieldError::invalid(
            &path.child("terminationGracePeriodSeconds"),
            json!(t),
            "must be greater than 0",
        ));
    }
    let success = int(probe, "successThreshold").unwrap_or(0);
    match kind {
        ProbeKind::Liveness | ProbeKind::Startup if success != 1 => {
            errs.push(FieldError::invalid(
                &path.child("successThreshold"),
                json!(success),
                "must be 1",
            ));
        }
        ProbeKind::Readiness if has(probe, "terminationGracePeriodSeconds") => {
            errs.push(FieldError::invalid(
                &path.child("terminationGracePeriodSeconds"),
                probe["terminationGracePeriodSeconds"].clone(),
                "must not be set for readinessProbes",
            ))
        }
        _ => {}
    }
}

/// Validates `lifecycle.postStart` and `lifecycle.preStop`.
pub fn validate_lifecycle(lc: &Value, grace: Option<i64>, path: &Path, errs: &mut Errs) {
    for hook in ["postStart", "preStop"] {
        if let Some(h) = lc.get(hook).filter(|h| !h.is_null()) {
            validate_handler(
                h,
                &["exec", "httpGet", "tcpSocket", "sleep"],
                grace,
                &path.child(hook),
                errs,
            );
        }
    }
}

fn validate_handler(h: &Value, kinds: &[&str], grace: Option<i64>, path: &Path, errs: &mut Errs) {
    let mut n = 0;
    for kind in kinds.iter().copied().filter(|k| has(h, k)) {
        let p = path.child(kind);
        if n > 0 {
            errs.push(FieldError::forbidden(
                &p,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        n += 1;
        let a = &h[kind];
        match kind {
            "exec" if arr(a, "command").is_empty() => {
                errs.push(FieldError::required(&p.child("command"), ""))
            }
            "httpGet" => {
                if s(a, "path").is_empty() {
                    errs.push(FieldError::required(&p.child("path"), ""));
                }
                port_num_or_name(
                    a.get("port").unwrap_or(&Value::Null),
                    &p.child("port"),
                    errs,
                );
                let scheme = s(a, "scheme");
                if scheme != "HTTP" && scheme != "HTTPS" {
                    errs.push(FieldError::not_supported(
                        &p.child("scheme"),
                        json!(scheme),
                        &["HTTP", "HTTPS"],
                    ));
                }
                for header in arr(a, "httpHeaders") {
                    for msg in http_header_name(s(header, "name")) {
                        errs.push(FieldError::invalid(
                            &p.child("httpHeaders"),
                            json!(s(header, "name")),
                            msg,
                        ));
                    }
                }
            }
            "tcpSocket" => port_num_or_name(
                a.get("port").unwrap_or(&Value::Null),
                &p.child("port"),
                errs,
            ),
            "grpc" => {
                let port = int(a, "port").unwrap_or(0);
                for msg in port_num(port) {
                    errs.push(FieldError::invalid(&p.child("port"), json!(port), msg));
                }
            }
            "sleep" => {
                let secs = int(a, "seconds").unwrap_or(0);
                if let Some(g) = grace.filter(|g| secs < 0 || secs > *g) {
                    errs.push(FieldError::invalid(
                        &p,
                        json!(secs),
                        format!("must be non-negative and less than terminationGracePeriodSeconds ({g})"),
                    ));
                }
            }
            _ => {}
        }
    }
    if n == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
}

/// Validates an `IntOrString` port: a number 1–65535 or an IANA port name.
pub fn port_num_or_name(v: &Value, path: &Path, errs: &mut Errs) {
    match int_or_str(v) {
        Some(IntOrStr::Int(n)) => {
            for msg in port_num(n) {
                errs.push(FieldError::invalid(path, json!(n), msg));
            }
        }
        Some(IntOrStr::Str(name)) => {
            for msg in port_name(name) {
                errs.push(FieldError::invalid(path, json!(name), msg));
            }
        }
        None => {
            for msg in port_num(0) {
                errs.push(FieldError::invalid(path, json!(0), msg));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_errs(kind: ProbeKind, probe: Value) -> Vec<String> {
        let mut errs = Errs::new();
        validate_probe(kind, &probe, Some(30), &Path::new("p"), &mut errs);
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn probes_need_exactly_one_handler() {
        assert_eq!(
            probe_errs(ProbeKind::Readiness, json!({})),
            vec!["p: Required value: must specify a handler type"]
        );
        assert_eq!(
            probe_errs(
                ProbeKind::Readiness,
                json!({"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}})
            ),
            vec!["p.tcpSocket: Forbidden: may not specify more than 1 handler type"]
        );
    }

    #[test]
    fn probe_fields_are_checked() {
        let got = probe_errs(
            ProbeKind::Liveness,
            json!({"httpGet": {"path": "/", "port": 70000, "scheme": "HTTP"}, "periodSeconds": -1, "successThreshold": 2}),
        );
        assert_eq!(
            got,
            vec![
                "p.httpGet.port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                "p.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
                "p.successThreshold: Invalid value: 2: must be 1",
            ]
        );
        assert_eq!(
            probe_errs(ProbeKind::Readiness, json!({"tcpSocket": {"port": "Bad"}, "terminationGracePeriodSeconds": 5})),
            vec![
                "p.tcpSocket.port: Invalid value: \"Bad\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "p.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes",
            ]
        );
    }

    #[test]
    fn sleep_hook_respects_grace_period() {
        let mut errs = Errs::new();
        validate_lifecycle(
            &json!({"preStop": {"sleep": {"seconds": 60}}}),
            Some(30),
            &Path::new("l"),
            &mut errs,
        );
        assert_eq!(errs[0].to_string(), "l.preStop.sleep: Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)");
    }
}
