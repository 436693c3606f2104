//! LimitRanger admission: containers get `default` limits and `defaultRequest` requests from
//! the namespace's LimitRanges, then min / max / maxLimitRequestRatio are enforced per
//! Container and per Pod (403 with upstream's messages).

use super::quota::amount;
use crate::error::{ApiError, ApiResult};
use crate::Api;
use serde_json::{json, Map, Value};
use skiff_api::{catalogue, ResourceType};

/// The annotation recording which defaults were applied.
const ANNOTATION: &str = "kubernetes.io/limit-ranger";

fn limit_items(ranges: &[Value], type_: &str) -> Vec<Value> {
    ranges
        .iter()
        .flat_map(|r| {
            r.pointer("/spec/limits")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter(|l| l.get("type").and_then(Value::as_str) == Some(type_))
        .collect()
}

fn containers_mut(pod: &mut Value) -> impl Iterator<Item = &mut Value> {
    let spec = pod.get_mut("spec").and_then(Value::as_object_mut);
    let mut out = Vec::new();
    if let Some(spec) = spec {
        for (k, v) in spec.iter_mut() {
            if k == "containers" || k == "initContainers" {
                if let Some(a) = v.as_array_mut() {
                    out.extend(a.iter_mut());
                }
            }
        }
    }
    out.into_iter()
}

/// Fills missing container requests and limits from the Container items' defaults.
fn apply_defaults(pod: &mut Value, items: &[Value]) {
    let mut notes = Vec::new();
    for c in containers_mut(pod) {
        let cname = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        for (field, from, what) in [
            ("limits", "default", "limit"),
            ("requests", "defaultRequest", "request"),
        ] {
            let mut set = Vec::new();
            for item in items {
                let Some(defaults) = item.get(from).and_then(Value::as_object) else {
                    continue;
                };
                let Some(obj) = c.as_object_mut() else {
                    continue;
                };
                let resources = obj.entry("resources").or_insert_with(|| json!({}));
                let Some(target) = resources
                    .as_object_mut()
                    .map(|r| r.entry(field).or_insert_with(|| json!({})))
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                for (name, q) in defaults {
                    if !target.contains_key(name) {
                        target.insert(name.clone(), q.clone());
                        set.push(name.clone());
                    }
                }
            }
            if !set.is_empty() {
                notes.push(format!("{} {what} for container {cname}", set.join(", ")));
            }
        }
    }
    if notes.is_empty() {
        return;
    }
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        let ann = meta.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = ann.as_object_mut() {
            a.insert(
                ANNOTATION.into(),
                json!(format!("LimitRanger plugin set: {}", notes.join("; "))),
            );
        }
    }
}

fn quantities(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// Checks one set of requests/limits against an item's min, max and ratio.
fn check(
    kind: &str,
    requests: &Map<String, Value>,
    limits: &Map<String, Value>,
    item: &Value,
    errs: &mut Vec<String>,
) {
    let q = |m: &Map<String, Value>, k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .map(|s| (s.to_string(), amount::parse(s).unwrap_or(0)))
    };
    for (name, enforced) in quantities(item.get("min")) {
        let Some(e) = enforced.as_str() else { continue };
        let ev = amount::parse(e).unwrap_or(0);
        match (q(requests, &name), q(limits, &name)) {
            (None, _) => errs.push(format!(
                "minimum {name} usage per {kind} is {e}.  No request is specified"
            )),
            (Some((r, rv)), _) if rv < ev => errs.push(format!(
                "minimum {name} usage per {kind} is {e}, but request is {r}"
            )),
            (_, Some((l, lv))) if lv < ev => errs.push(format!(
                "minimum {name} usage per {kind} is {e}, but limit is {l}"
            )),
            _ => {}
        }
    }
    for (name, enforced) in quantities(item.get("max")) {
        let Some(e) = enforced.as_str() else { continue };
        let ev = amount::parse(e).unwrap_or(0);
        match (q(requests, &name), q(limits, &name)) {
            (_, None) => errs.push(format!(
                "maximum {name} usage per {kind} is {e}.  No limit is specified"
            )),
            (_, Some((l, lv))) if lv > ev => errs.push(format!(
                "maximum {name} usage per {kind} is {e}, but limit is {l}"
            )),
            (Some((r, rv)), _) if rv > ev => errs.push(format!(
                "maximum {name} usage per {kind} is {e}, but request is {r}"
            )),
            _ => {}
        }
    }
    for (name, enforced) in quantities(item.get("maxLimitRequestRatio")) {
        let Some(e) = enforced.as_str() else { continue };
        let ev = amount::parse(e).unwrap_or(0);
        match (q(requests, &name), q(limits, &name)) {
            (None, _) | (Some((_, 0)), _) => errs.push(format!("{name} max limit to request ratio per {kind} is {e}, but no request is specified or request is 0")),
            (_, None) | (_, Some((_, 0))) => errs.push(format!("{name} max limit to request ratio per {kind} is {e}, but no limit is specified or limit is 0")),
            (Some((_, rv)), Some((_, lv))) => {
                let ratio = lv as f64 / rv as f64;
                if ratio * 1e9 > ev as f64 + 0.5 {
                    errs.push(format!("{name} max limit to request ratio per {kind} is {e}, but provided ratio is {ratio:.6}"));
                }
            }
        }
    }
}

/// Sums the containers' requests and limits (for `Pod` items).
fn pod_totals(pod: &Value) -> (Map<String, Value>, Map<String, Value>) {
    let mut sums: [std::collections::BTreeMap<String, i128>; 2] = Default::default();
    for c in pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (i, f) in ["requests", "limits"].iter().enumerate() {
            for (k, v) in quantities(c.pointer(&format!("/resources/{f}"))) {
                *sums[i].entry(k).or_default() += v.as_str().and_then(amount::parse).unwrap_or(0);
            }
        }
    }
    let to_map = |m: &std::collections::BTreeMap<String, i128>| {
        m.iter()
            .map(|(k, v)| (k.clone(), json!(amount::format(*v, false))))
            .collect()
    };
    (to_map(&sums[0]), to_map(&sums[1]))
}

/// Applies LimitRange defaults to a new pod and enforces its bounds.
pub async fn limit_ranger(
    api: &Api,
    rt: &ResourceType,
    ns: Option<&str>,
    pod: &mut Value,
) -> ApiResult<()> {
    if !(rt.group.is_empty() && rt.kind == "Pod") {
        return Ok(());
    }
    let (Some(ns), Some(lrt)) = (ns, catalogue::find("", "v1", "limitranges")) else {
        return Ok(());
    };
    let cached = api.registry.list_cached(lrt, Some(ns)).await?;
    if cached.is_empty() {
        return Ok(());
    }
    let ranges: Vec<Value> = cached.iter().map(|c| c.0.clone()).collect();
    let container_items = limit_items(&ranges, "Container");
    apply_defaults(pod, &container_items);
    let mut errs = Vec::new();
    for c in pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let requests = quantities(c.pointer("/resources/requests"));
        let limits = quantities(c.pointer("/resources/limits"));
        for item in &container_items {
            check("Container", &requests, &limits, item, &mut errs);
        }
    }
    let (requests, limits) = pod_totals(pod);
    for item in limit_items(&ranges, "Pod") {
        check("Pod", &requests, &limits, &item, &mut errs);
    }
    if errs.is_empty() {
        return Ok(());
    }
    let name = crate::meta::name(pod);
    let msg = if errs.len() == 1 {
        errs.remove(0)
    } else {
        format!("[{}]", errs.join(", "))
    };
    Err(ApiError::forbidden(format!(
        "pods {name:?} is forbidden: {msg}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_only_missing_values_and_are_annotated() {
        let item = json!({"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m", "memory": "64Mi"}});
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"memory": "1Gi"}}}]}});
        apply_defaults(&mut pod, &[item]);
        let r = &pod["spec"]["containers"][0]["resources"];
        assert_eq!(r["limits"]["cpu"], "500m");
        assert_eq!(r["requests"]["cpu"], "100m");
        assert_eq!(r["requests"]["memory"], "1Gi");
        assert_eq!(
            pod["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu limit for container c; cpu request for container c"
        );
    }

    #[test]
    fn bounds_are_enforced_with_upstreams_messages() {
        let item = json!({"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "10Mi"}, "maxLimitRequestRatio": {"cpu": "2"}});
        let req = |m: Value| quantities(Some(&m));
        let mut errs = Vec::new();
        check(
            "Container",
            &req(json!({"cpu": "500m"})),
            &req(json!({"cpu": "2"})),
            &item,
            &mut errs,
        );
        assert_eq!(
            errs,
            [
                "minimum memory usage per Container is 10Mi.  No request is specified",
                "maximum cpu usage per Container is 1, but limit is 2",
                "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000",
            ]
        );
    }
}
