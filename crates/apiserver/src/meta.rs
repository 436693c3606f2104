//! Generic `metadata` handling shared by every kind: names, uids, timestamps, managed fields.

use crate::error::{ApiError, ApiResult};
use serde_json::{json, Map, Value};
use skiff_api::ResourceType;

/// The current time as upstream writes timestamps (RFC 3339, seconds, `Z`).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The object's `metadata` map, created if missing; 400 if it is not an object.
pub fn metadata_mut(obj: &mut Value) -> ApiResult<&mut Map<String, Value>> {
    let o = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the object must be a JSON object"))?;
    let m = o.entry("metadata").or_insert_with(|| json!({}));
    if m.is_null() {
        *m = json!({});
    }
    m.as_object_mut()
        .ok_or_else(|| ApiError::bad_request("metadata must be an object"))
}

/// A string field of metadata.
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(field)?.as_str()
}

/// The object's name.
pub fn name(obj: &Value) -> &str {
    meta_str(obj, "name").unwrap_or("")
}

fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Checks apiVersion/kind against the endpoint and fills them in when empty.
pub fn check_type(rt: &ResourceType, obj: &mut Value) -> ApiResult<()> {
    let o = obj
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("the body of the request must be a JSON object"))?;
    let want_av = rt.api_version();
    match o.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            o.insert("apiVersion".into(), json!(want_av));
        }
        Some(av) if av == want_av => {}
        Some(av) => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )))
        }
    }
    match o.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            o.insert("kind".into(), json!(rt.kind));
        }
        Some(k) if k == rt.kind => {}
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )))
        }
    }
    Ok(())
}

/// Reconciles the body's namespace with the request path's.
pub fn check_namespace(rt: &ResourceType, obj: &mut Value, path_ns: Option<&str>) -> ApiResult<()> {
    let meta = metadata_mut(obj)?;
    if !rt.namespaced {
        meta.remove("namespace");
        return Ok(());
    }
    let Some(ns) = path_ns else {
        return Err(ApiError::bad_request(
            "a namespaced resource needs a namespace in the request path",
        ));
    };
    match meta.get("namespace").and_then(Value::as_str) {
        None | Some("") => {
            meta.insert("namespace".into(), json!(ns));
            Ok(())
        }
        Some(n) if n == ns => Ok(()),
        Some(_) => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
    }
}

/// Fills system metadata of a new object: name from generateName, uid, creationTimestamp.
pub fn prepare_create(obj: &mut Value) -> ApiResult<()> {
    let meta = metadata_mut(obj)?;
    let has_name = meta
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !has_name {
        if let Some(prefix) = meta
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|g| !g.is_empty())
        {
            let mut base = prefix.to_string();
            let mut cut = base.len().min(63 - 5);
            while !base.is_char_boundary(cut) {
                cut -= 1;
            }
            base.truncate(cut);
            let generated = format!("{base}{}", random_suffix());
            meta.insert("name".into(), json!(generated));
        }
    }
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(now()));
    for f in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
    ] {
        meta.remove(f);
    }
    Ok(())
}

/// Carries the fields clients may not change from the stored object into an update.
pub fn keep_system_fields(new: &mut Value, old: &Value) -> ApiResult<()> {
    let meta = metadata_mut(new)?;
    meta.remove("selfLink");
    for f in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match old.get("metadata").and_then(|m| m.get(f)) {
            Some(v) => {
                meta.insert(f.into(), v.clone());
            }
            None => {
                meta.remove(f);
            }
        }
    }
    Ok(())
}

/// The field manager for a write: the `fieldManager` parameter, else the user agent's program.
pub fn manager_name(param: Option<&str>, user_agent: Option<&str>) -> String {
    if let Some(m) = param {
        return m.to_string();
    }
    user_agent
        .and_then(|ua| ua.split('/').next())
        .filter(|s| !s.is_empty())
        .unwrap_or("unknown")
        .chars()
        .take(128)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_name_gets_a_five_letter_suffix() {
        let mut o = json!({"metadata": {"generateName": "web-"}});
        prepare_create(&mut o).unwrap();
        let n = name(&o);
        assert!(n.starts_with("web-") && n.len() == 9, "{n}");
        assert!(o.pointer("/metadata/uid").is_some());
    }

    #[test]
    fn mismatched_kind_is_a_bad_request() {
        let rt = skiff_api::catalogue::find("", "v1", "pods").unwrap();
        let mut o = json!({"apiVersion": "v1", "kind": "Service"});
        assert_eq!(check_type(rt, &mut o).unwrap_err().code, 400);
        let mut o = json!({});
        check_type(rt, &mut o).unwrap();
        assert_eq!(o["kind"], "Pod");
    }

    #[test]
    fn namespace_in_body_must_match_the_path() {
        let rt = skiff_api::catalogue::find("", "v1", "pods").unwrap();
        let mut o = json!({"metadata": {"namespace": "a"}});
        assert!(check_namespace(rt, &mut o, Some("b")).is_err());
        let mut o = json!({"metadata": {}});
        check_namespace(rt, &mut o, Some("b")).unwrap();
        assert_eq!(o["metadata"]["namespace"], "b");
    }
}
