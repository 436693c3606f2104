//! ResourceQuota admission: a new object is charged to every quota in its namespace that
//! tracks it, with compare-and-swap on the quota's `status.used`, or refused with upstream's
//! message when it would exceed one.

pub(super) mod amount;
mod usage;

use crate::error::{ApiError, ApiResult};
use crate::registry::Cas;
use crate::Api;
use amount::Nanos;
use serde_json::{json, Value};
use skiff_api::{catalogue, ResourceType};
use std::collections::{BTreeMap, BTreeSet};

fn quotas() -> ApiResult<&'static ResourceType> {
    catalogue::find("", "v1", "resourcequotas")
        .ok_or_else(|| ApiError::internal("resourcequotas are missing from the catalogue"))
}

fn amounts(quota: &Value, field: &str) -> BTreeMap<String, (Nanos, bool)> {
    quota
        .pointer(&format!("/status/{field}"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let s = v.as_str()?;
            Some((k.clone(), (amount::parse(s)?, amount::is_binary(s))))
        })
        .collect()
}

fn pretty(values: &BTreeMap<String, Nanos>, binary: &BTreeMap<String, (Nanos, bool)>) -> String {
    values
        .iter()
        .map(|(k, v)| {
            let b = binary.get(k).is_some_and(|(_, b)| *b);
            format!("{k}={}", amount::format(*v, b))
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// What one quota says about the new object: nothing to charge, or its new `status.used`.
fn evaluate(
    quota: &Value,
    rt: &ResourceType,
    obj: &Value,
    use_: &BTreeMap<String, Nanos>,
    forbidden: &dyn Fn(String) -> ApiError,
) -> ApiResult<Option<Value>> {
    let qname = crate::meta::name(quota);
    let hard = amounts(quota, "hard");
    if hard.is_empty() || !usage::selects(quota, rt, obj) {
        return Ok(None);
    }
    let is_pod = rt.group.is_empty() && rt.kind == "Pod";
    let restricted: BTreeSet<String> = hard
        .keys()
        .filter(|k| use_.contains_key(*k) || (is_pod && usage::COMPUTE.contains(&k.as_str())))
        .cloned()
        .collect();
    if restricted.is_empty() {
        return Ok(None);
    }
    let used = amounts(quota, "used");
    let unknown: Vec<&str> = restricted
        .iter()
        .filter(|k| !used.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(forbidden(format!(
            "status unknown for quota: {qname}, resources: {}",
            unknown.join(",")
        )));
    }
    if is_pod {
        let required: BTreeSet<String> = restricted
            .iter()
            .filter(|k| usage::COMPUTE.contains(&k.as_str()))
            .cloned()
            .collect();
        let missing = usage::missing_compute(obj, &required);
        if !missing.is_empty() {
            let parts: Vec<String> = missing
                .iter()
                .map(|(r, cs)| {
                    format!(
                        "{r} for: {}",
                        cs.iter().cloned().collect::<Vec<_>>().join(",")
                    )
                })
                .collect();
            return Err(forbidden(format!(
                "failed quota: {qname}: must specify {}",
                parts.join("; ")
            )));
        }
    }
    let requested: BTreeMap<String, Nanos> = use_
        .iter()
        .filter(|(k, v)| restricted.contains(*k) && **v != 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    if requested.is_empty() {
        return Ok(None);
    }
    let exceeded: Vec<&String> = requested
        .iter()
        .filter(|(k, v)| used[*k].0 + **v > hard[*k].0)
        .map(|(k, _)| k)
        .collect();
    if !exceeded.is_empty() {
        let pick = |m: &dyn Fn(&String) -> Nanos| -> BTreeMap<String, Nanos> {
            exceeded.iter().map(|k| ((*k).clone(), m(k))).collect()
        };
        return Err(forbidden(format!(
            "exceeded quota: {qname}, requested: {}, used: {}, limited: {}",
            pretty(&pick(&|k| requested[k]), &hard),
            pretty(&pick(&|k| used[k].0), &hard),
            pretty(&pick(&|k| hard[k].0), &hard),
        )));
    }
    let mut updated = quota.clone();
    for (k, v) in &requested {
        let binary = hard[k].1;
        updated["status"]["used"][k] = json!(amount::format(used[k].0 + v, binary));
    }
    Ok(Some(updated))
}

/// Charges a new object to the quotas of its namespace, or refuses it (403).
pub async fn charge_create(
    api: &Api,
    rt: &ResourceType,
    ns: Option<&str>,
    obj: &Value,
    dry_run: bool,
) -> ApiResult<()> {
    let Some(ns) = ns.filter(|_| rt.namespaced) else {
        return Ok(());
    };
    let qrt = quotas()?;
    let quotas = api.registry.list_cached(qrt, Some(ns)).await?;
    if quotas.is_empty() {
        return Ok(());
    }
    let name = crate::meta::name(obj).to_string();
    let forbidden = |msg: String| {
        ApiError::forbidden(format!(
            "{} {name:?} is forbidden: {msg}",
            rt.group_resource()
        ))
    };
    let use_ = usage::usage(rt, obj);
    for cached in &quotas {
        let (mut quota, mut rev) = (cached.0.clone(), cached.1);
        loop {
            let Some(updated) = evaluate(&quota, rt, obj, &use_, &forbidden)? else {
                break;
            };
            if dry_run {
                break;
            }
            let qname = crate::meta::name(&quota).to_string();
            match api
                .registry
                .update_at(qrt, Some(ns), &qname, updated, rev)
                .await
            {
                Ok(Cas::Done(_)) => break,
                Ok(Cas::Conflict) => match api.registry.get_opt(qrt, Some(ns), &qname).await? {
                    Some((q, r)) => (quota, rev) = (q, r),
                    None => break,
                },
                Err(e) if e.code == 404 => break,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(hard: Value, used: Value) -> Value {
        json!({"metadata": {"name": "q"}, "spec": {"hard": hard}, "status": {"hard": hard, "used": used}})
    }

    fn check(q: &Value, pod: &Value) -> ApiResult<Option<Value>> {
        let rt = catalogue::pods();
        let forbidden = |m: String| ApiError::forbidden(format!("pods \"p\" is forbidden: {m}"));
        evaluate(q, rt, pod, &usage::usage(rt, pod), &forbidden)
    }

    #[test]
    fn exceeding_a_quota_is_refused_with_upstreams_message() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
        let q = quota(json!({"pods": "2"}), json!({"pods": "2"}));
        let e = check(&q, &pod).unwrap_err();
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods \"p\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2"
        );
        let q = quota(json!({"pods": "2"}), json!({"pods": "1"}));
        let updated = check(&q, &pod).unwrap().unwrap();
        assert_eq!(updated["status"]["used"]["pods"], "2");
    }

    #[test]
    fn compute_quotas_need_requests_and_unknown_status_refuses() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}});
        let q = quota(json!({"requests.cpu": "1"}), json!({"requests.cpu": "0"}));
        let e = check(&q, &pod).unwrap_err();
        assert_eq!(
            e.message,
            "pods \"p\" is forbidden: failed quota: q: must specify requests.cpu for: c"
        );
        let q = quota(json!({"pods": "2"}), json!({}));
        let e = check(&q, &pod).unwrap_err();
        assert!(
            e.message
                .ends_with("status unknown for quota: q, resources: pods"),
            "{}",
            e.message
        );
        let cpu = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "600m"}}}]}});
        let q = quota(
            json!({"requests.cpu": "1"}),
            json!({"requests.cpu": "500m"}),
        );
        let e = check(&q, &cpu).unwrap_err();
        assert!(
            e.message.ends_with(
                "requested: requests.cpu=600m, used: requests.cpu=500m, limited: requests.cpu=1"
            ),
            "{}",
            e.message
        );
    }
}
