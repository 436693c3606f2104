//! Bodies captured from kubectl 1.33.1 (`testdata/*.pb`) against its own `--dry-run=client -o json`.

use crate::protobuf::{decode, decode_reporting_unknown};
use serde_json::{json, Value};

/// The captured body and the JSON kubectl prints for the same command.
fn fixture(name: &str) -> (Vec<u8>, Option<Value>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/protobuf/testdata");
    let body = std::fs::read(format!("{dir}/{name}.pb")).expect("fixture body");
    let json = std::fs::read_to_string(format!("{dir}/{name}.json")).ok();
    (
        body,
        json.map(|j| without_nulls(serde_json::from_str(&j).expect("fixture json"))),
    )
}

/// Drops `null` members, which Go's JSON writes for zero times (`creationTimestamp: null`).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[test]
fn kubectl_create_bodies_decode_to_the_json_kubectl_would_send() {
    let names = [
        "namespace",
        "configmap",
        "secret",
        "dockercfg",
        "deployment",
        "service",
        "job",
        "cronjob",
        "role",
        "rolebinding",
        "clusterrole",
        "clusterrolebinding",
        "serviceaccount",
        "quota",
        "pdb1",
        "pdb2",
        "pc1",
        "pc2",
        "ingress",
    ];
    for name in names {
        let (body, expected) = fixture(name);
        let decoded = decode_reporting_unknown(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.object, expected.expect("json fixture"), "{name}");
        assert!(
            decoded.unknown_fields.is_empty(),
            "{name}: {:?}",
            decoded.unknown_fields
        );
    }
}

#[test]
fn kubectl_create_token_body_decodes() {
    let (body, _) = fixture("tokenrequest");
    let expected = json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "metadata": {},
        "spec": {"audiences": ["api"], "expirationSeconds": 3600},
        "status": {"token": ""},
    });
    assert_eq!(decode(&body).unwrap(), expected);
}

#[test]
fn replicas_zero_and_max_unavailable_zero_survive() {
    let deployment = decode(&fixture("deployment").0).unwrap();
    assert_eq!(deployment["spec"]["replicas"], 0);
    let pdb = decode(&fixture("pdb2").0).unwrap();
    assert_eq!(pdb["spec"]["maxUnavailable"], 0);
    let priority = decode(&fixture("pc1").0).unwrap();
    assert_eq!(priority["value"], 0);
}
