//! ConfigMap and Secret checks, `stringData` folding and `immutable` rules.

use super::meta::{immutable, semantic_eq};
use super::names::config_map_key;
use super::value::{boolean, map, s, set_default_str, Errs, Path};
use crate::FieldError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

/// Largest total size of a ConfigMap's or Secret's data.
pub const MAX_DATA_SIZE: usize = 1024 * 1024;
const IMMUTABLE_SET: &str = "field is immutable when `immutable` is set";

fn decoded(v: &Value) -> Option<Vec<u8>> {
    v.as_str().and_then(|b| STANDARD.decode(b).ok())
}

fn decoded_len(v: &Value) -> usize {
    decoded(v).map_or_else(|| v.as_str().map_or(0, |b| b.len() * 3 / 4), |d| d.len())
}

fn check_keys(obj: &Value, field: &str, errs: &mut Errs) {
    for key in map(obj, field).into_iter().flat_map(|m| m.keys()) {
        for msg in config_map_key(key) {
            errs.push(FieldError::invalid(
                &Path::new(field).key(key),
                json!(key),
                msg,
            ));
        }
    }
}

/// Defaults a Secret: type Opaque, and `stringData` folded into base64 `data` as upstream's decoder does.
pub fn default_secret(obj: &mut Value) {
    set_default_str(obj, "type", "Opaque");
    let Some(string_data) = obj.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return;
    };
    let Some(entries) = string_data.as_object() else {
        return;
    };
    if !obj.get("data").is_some_and(Value::is_object) {
        obj["data"] = json!({});
    }
    for (k, v) in entries {
        obj["data"][k] = json!(STANDARD.encode(v.as_str().unwrap_or("")));
    }
}

/// Validates a ConfigMap.
pub fn validate_config_map(obj: &Value, errs: &mut Errs) {
    let mut total = 0;
    for (key, v) in map(obj, "data").into_iter().flatten() {
        for msg in config_map_key(key) {
            errs.push(FieldError::invalid(
                &Path::new("data").key(key),
                json!(key),
                msg,
            ));
        }
        if map(obj, "binaryData").is_some_and(|b| b.contains_key(key)) {
            errs.push(FieldError::invalid(
                &Path::new("data").key(key),
                json!(key),
                "duplicate of key present in binaryData",
            ));
        }
        total += v.as_str().map_or(0, str::len);
    }
    check_keys(obj, "binaryData", errs);
    total += map(obj, "binaryData")
        .into_iter()
        .flatten()
        .map(|(_, v)| decoded_len(v))
        .sum::<usize>();
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long(&Path::default(), MAX_DATA_SIZE));
    }
}

/// Checks a ConfigMap update against `immutable`.
pub fn validate_config_map_update(new: &Value, old: &Value, errs: &mut Errs) {
    if boolean(old, "immutable") == Some(true) {
        if boolean(new, "immutable") != Some(true) {
            errs.push(FieldError::forbidden(
                &Path::new("immutable"),
                IMMUTABLE_SET,
            ));
        }
        for field in ["data", "binaryData"] {
            if !semantic_eq(&new[field], &old[field]) {
                errs.push(FieldError::forbidden(&Path::new(field), IMMUTABLE_SET));
            }
        }
    }
}

/// Validates a Secret: keys, size and the keys its type requires.
pub fn validate_secret(obj: &Value, errs: &mut Errs) {
    check_keys(obj, "data", errs);
    let data = map(obj, "data");
    let total: usize = data
        .into_iter()
        .flatten()
        .map(|(_, v)| decoded_len(v))
        .sum();
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long(&Path::new("data"), MAX_DATA_SIZE));
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let required =
        |k: &str, errs: &mut Errs| errs.push(FieldError::required(&Path::new("data").key(k), ""));
    match s(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let ann = obj
                .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
                .and_then(Value::as_str);
            if ann.unwrap_or("").is_empty() {
                let p = Path::new("metadata")
                    .child("annotations")
                    .key("kubernetes.io/service-account.name");
                errs.push(FieldError::required(&p, ""));
            }
        }
        t @ ("kubernetes.io/dockercfg" | "kubernetes.io/dockerconfigjson") => {
            let key = if t == "kubernetes.io/dockercfg" {
                ".dockercfg"
            } else {
                ".dockerconfigjson"
            };
            match data.and_then(|d| d.get(key)) {
                None => required(key, errs),
                Some(v) => {
                    let bytes = decoded(v).unwrap_or_default();
                    if let Err(e) = serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes)
                    {
                        errs.push(FieldError::invalid(
                            &Path::new("data").key(key),
                            json!("<secret contents redacted>"),
                            e.to_string(),
                        ));
                    }
                }
            }
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            required("username", errs);
            required("password", errs);
        }
        "kubernetes.io/ssh-auth"
            if data
                .and_then(|d| d.get("ssh-privatekey"))
                .is_none_or(|v| decoded_len(v) == 0) =>
        {
            required("ssh-privatekey", errs);
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !has(key) {
                    required(key, errs);
                }
            }
        }
        _ => {}
    }
}

/// Checks a Secret update: type is fixed, and data too once `immutable` is set.
pub fn validate_secret_update(new: &Value, old: &Value, errs: &mut Errs) {
    immutable(new.get("type"), old.get("type"), &Path::new("type"), errs);
    if boolean(old, "immutable") == Some(true) {
        if boolean(new, "immutable") != Some(true) {
            errs.push(FieldError::forbidden(
                &Path::new("immutable"),
                IMMUTABLE_SET,
            ));
        }
        if !semantic_eq(&new["data"], &old["data"]) {
            errs.push(FieldError::forbidden(&Path::new("data"), IMMUTABLE_SET));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::test_support::run;

    #[test]
    fn config_map_keys_and_size() {
        let got = run(
            validate_config_map,
            json!({"data": {"ok.key": "v", "bad key": "v", "dup": "x"}, "binaryData": {"dup": "eA=="}}),
        );
        assert_eq!(got.len(), 2);
        assert!(got[0].starts_with("data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters"));
        assert_eq!(
            got[1],
            "data[dup]: Invalid value: \"dup\": duplicate of key present in binaryData"
        );
        let big = run(
            validate_config_map,
            json!({"data": {"a": "x".repeat(MAX_DATA_SIZE + 1)}}),
        );
        assert_eq!(big, vec![": Too long: may not be more than 1048576 bytes"]);
    }

    #[test]
    fn string_data_is_folded_into_data() {
        let mut s = json!({"stringData": {"user": "admin"}, "data": {"a": "Yg=="}});
        default_secret(&mut s);
        assert_eq!(
            s,
            json!({"data": {"a": "Yg==", "user": "YWRtaW4="}, "type": "Opaque"})
        );
    }

    #[test]
    fn typed_secrets_need_their_keys() {
        assert_eq!(
            run(
                validate_secret,
                json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}})
            ),
            vec!["data[tls.key]: Required value"]
        );
        assert_eq!(
            run(
                validate_secret,
                json!({"type": "kubernetes.io/dockerconfigjson", "data": {}})
            ),
            vec!["data[.dockerconfigjson]: Required value"]
        );
        let bad_json = run(
            validate_secret,
            json!({"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "bm90IGpzb24="}}),
        );
        assert!(bad_json[0].starts_with(
            "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": "
        ));
        assert_eq!(
            run(
                validate_secret,
                json!({"type": "kubernetes.io/service-account-token"})
            ),
            vec!["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
        );
    }

    #[test]
    fn immutable_objects_keep_their_data() {
        let old = json!({"immutable": true, "data": {"a": "1"}});
        let mut errs = Errs::new();
        validate_config_map_update(
            &json!({"immutable": true, "data": {"a": "2"}}),
            &old,
            &mut errs,
        );
        assert_eq!(
            errs[0].to_string(),
            "data: Forbidden: field is immutable when `immutable` is set"
        );
        errs.clear();
        validate_secret_update(
            &json!({"type": "Opaque"}),
            &json!({"type": "kubernetes.io/tls"}),
            &mut errs,
        );
        assert_eq!(
            errs[0].to_string(),
            "type: Invalid value: \"Opaque\": field is immutable"
        );
    }
}
