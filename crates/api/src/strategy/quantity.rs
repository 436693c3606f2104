//! Resource quantities: parsing, comparison, container resource checks and pod QoS class.

use super::names::qualified_name;
use super::value::{arr, Errs, Path};
use crate::FieldError;
use serde_json::{json, Map, Value};

/// Upstream's message for a malformed quantity string.
pub const QUANTITY_FORMAT: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// A quantity in units of 10^-9, saturating at the ends of `i128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(i128);

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity(0);

    /// Whether this is a whole number.
    pub fn is_integer(self) -> bool {
        self.0 % 1_000_000_000 == 0
    }

    /// Whether the value is below zero.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The sum, saturating.
    #[must_use]
    pub fn plus(self, o: Quantity) -> Quantity {
        Quantity(self.0.saturating_add(o.0))
    }
}

/// Parses a quantity string (`500m`, `1Gi`, `2.5`, `1e3`); `None` when malformed.
pub fn parse(s: &str) -> Option<Quantity> {
    let num_end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '+' || *c == '-'))))
        .map_or(s.len(), |(i, _)| i);
    let (num, suffix) = s.split_at(num_end);
    let (neg, digits) = match num.as_bytes().first() {
        Some(b'-') => (true, &num[1..]),
        Some(b'+') => (false, &num[1..]),
        _ => (false, num),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.len() + frac_part.len() == 0 || frac_part.contains('.') {
        return None;
    }
    let (pow10, pow2): (i64, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            let exp = suffix.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (
                exp.parse::<i64>()
                    .unwrap_or(if exp.starts_with('-') { -1000 } else { 1000 }),
                0,
            )
        }
    };
    let mut mantissa: i128 = 0;
    for b in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa
            .saturating_mul(10)
            .saturating_add(i128::from(b - b'0'));
    }
    let exp = (pow10 + 9 - frac_part.len() as i64).clamp(-200, 200);
    let mut v = mantissa.saturating_mul(1i128 << pow2);
    if exp >= 0 {
        for _ in 0..exp {
            v = v.saturating_mul(10);
        }
    } else {
        let div = 10i128.checked_pow(exp.unsigned_abs() as u32);
        v = match div {
            Some(d) => v.saturating_add(d - 1) / d,
            None => i128::from(v > 0),
        };
    }
    Some(Quantity(if neg { -v } else { v }))
}

/// A quantity from a JSON value (strings, or plain numbers as clients sometimes send).
pub fn parse_value(v: &Value) -> Option<Quantity> {
    match v {
        Value::String(s) => parse(s),
        Value::Number(n) => parse(&n.to_string()),
        _ => None,
    }
}

fn shown(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.to_string()),
        other => other.clone(),
    }
}

/// Resources that are not extended and allow requests below limits.
fn overcommit_allowed(name: &str) -> bool {
    is_native(name) && !name.starts_with("hugepages-")
}

fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-")
}

/// Validates a container's `resources` (names, quantities, requests against limits).
pub fn validate_requirements(res: &Value, path: &Path, errs: &mut Errs) {
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let empty = Map::new();
    let limits = res
        .get("limits")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let requests = res
        .get("requests")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for (name, q) in limits {
        check_quantity(name, q, &lim_path.key(name), errs);
    }
    for (name, q) in requests {
        let Some(req) = check_quantity(name, q, &req_path.key(name), errs) else {
            continue;
        };
        match limits.get(name).and_then(parse_value) {
            Some(lim) if req != lim && !overcommit_allowed(name) => errs.push(FieldError::invalid(
                &req_path,
                shown(q),
                format!(
                    "must be equal to {name} limit of {}",
                    shown_str(&limits[name])
                ),
            )),
            Some(lim) if req > lim => errs.push(FieldError::invalid(
                &req_path,
                shown(q),
                format!(
                    "must be less than or equal to {name} limit of {}",
                    shown_str(&limits[name])
                ),
            )),
            None if !overcommit_allowed(name) => errs.push(FieldError::required(
                &lim_path,
                "Limit must be set for non overcommitable resources",
            )),
            _ => {}
        }
    }
}

fn shown_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_quantity(name: &str, q: &Value, path: &Path, errs: &mut Errs) -> Option<Quantity> {
    let before = errs.len();
    for msg in qualified_name(name) {
        errs.push(FieldError::invalid(path, json!(name), msg));
    }
    if errs.len() == before && !name.contains('/') && !standard_container_resource(name) {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "must be a standard resource for containers",
        ));
    }
    let Some(v) = parse_value(q) else {
        errs.push(FieldError::invalid(path, shown(q), QUANTITY_FORMAT));
        return None;
    };
    if v.is_negative() {
        errs.push(FieldError::invalid(
            path,
            shown(q),
            "must be greater than or equal to 0",
        ));
    }
    if !is_native(name) && !v.is_integer() {
        errs.push(FieldError::invalid(path, shown(q), "must be an integer"));
    }
    Some(v)
}

/// The QoS class of a pod spec: `Guaranteed`, `Burstable` or `BestEffort`.
pub fn qos_class(spec: &Value) -> &'static str {
    let mut requests = [Quantity::ZERO; 2];
    let mut limits = [Quantity::ZERO; 2];
    let (mut has_req, mut has_lim) = ([false; 2], [false; 2]);
    let mut guaranteed = true;
    let containers = arr(spec, "containers")
        .iter()
        .chain(arr(spec, "initContainers"));
    for c in containers {
        let res = c.get("resources").unwrap_or(&Value::Null);
        let mut found = [false; 2];
        for (i, name) in ["cpu", "memory"].iter().enumerate() {
            if let Some(q) = res
                .pointer(&format!("/requests/{name}"))
                .and_then(parse_value)
            {
                if q > Quantity::ZERO {
                    requests[i] = requests[i].plus(q);
                    has_req[i] = true;
                }
            }
            if let Some(q) = res
                .pointer(&format!("/limits/{name}"))
                .and_then(parse_value)
            {
                if q > Quantity::ZERO {
                    limits[i] = limits[i].plus(q);
                    has_lim[i] = true;
                    found[i] = true;
                }
            }
        }
        guaranteed &= found == [true, true];
    }
    if has_req == [false; 2] && has_lim == [false; 2] {
        return "BestEffort";
    }
    let all_equal = (0..2).all(|i| !has_req[i] || (has_lim[i] && limits[i] == requests[i]));
    if guaranteed && all_equal && has_req == has_lim {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes_exactly() {
        assert_eq!(parse("1Gi"), parse("1073741824"));
        assert_eq!(parse("100m"), parse("0.1"));
        assert_eq!(parse("1k"), parse("1e3"));
        assert!(parse("1.5").unwrap() > parse("1").unwrap());
        assert!(parse("-1").unwrap().is_negative());
        assert_eq!(parse("abc"), None);
        assert_eq!(parse("1Xi"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("1..2"), None);
        assert!(parse("1e999999999999").is_some());
    }

    #[test]
    fn requests_may_not_exceed_limits() {
        let mut errs = Errs::new();
        let res = json!({"limits": {"cpu": "500m"}, "requests": {"cpu": "1", "memory": "1Gi"}});
        validate_requirements(
            &res,
            &Path::new("spec")
                .child("containers")
                .index(0)
                .child("resources"),
            &mut errs,
        );
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(got, vec!["spec.containers[0].resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m"]);
    }

    #[test]
    fn resource_names_and_values_are_checked() {
        let mut errs = Errs::new();
        let res = json!({"limits": {"gpu": "1", "example.com/dev": "0.5", "memory": "lots"}});
        validate_requirements(&res, &Path::new("r"), &mut errs);
        let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            vec![
                "r.limits[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
                "r.limits[example.com/dev]: Invalid value: \"0.5\": must be an integer",
                format!("r.limits[memory]: Invalid value: \"lots\": {QUANTITY_FORMAT}").as_str(),
            ]
        );
    }

    #[test]
    fn qos_classes() {
        let be = json!({"containers": [{"name": "a"}]});
        assert_eq!(qos_class(&be), "BestEffort");
        let g = json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}}}]});
        assert_eq!(qos_class(&g), "Guaranteed");
        let b = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(qos_class(&b), "Burstable");
        let partial = json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}}, {"name": "b"}]});
        assert_eq!(qos_class(&partial), "Burstable");
    }
}
