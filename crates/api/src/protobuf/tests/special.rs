//! Times, durations, embedded JSON and pointer zeros of the special messages.

use super::encoder::{envelope, meta, Msg};
use crate::protobuf::decode;
use serde_json::json;

#[test]
fn times_durations_and_pointer_zeros_in_lease_and_event() {
    let at = |nanos| Msg::new().int(1, 1_767_323_045).int(2, nanos);
    let lease_spec = Msg::new()
        .string(1, "")
        .int(2, 0)
        .msg(3, at(123_456_789))
        .int(5, 0);
    let lease = Msg::new().msg(1, meta("l", "ns")).msg(2, lease_spec);
    let expected = json!({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l", "namespace": "ns"},
        "spec": {"holderIdentity": "", "leaseDurationSeconds": 0, "acquireTime": "2026-01-02T03:04:05.123456Z", "leaseTransitions": 0},
    });
    assert_eq!(
        decode(&envelope("coordination.k8s.io/v1", "Lease", lease)).unwrap(),
        expected
    );
    let go_zero = Msg::new().int(1, -62_135_596_800).int(2, 0);
    let event = Msg::new()
        .msg(1, meta("e", "ns"))
        .msg(2, at(5_000))
        .msg(13, at(999))
        .msg(14, go_zero)
        .int(15, 0);
    let expected = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "ns"},
        "eventTime": "2026-01-02T03:04:05.000005Z", "deprecatedFirstTimestamp": "2026-01-02T03:04:05Z",
    });
    assert_eq!(
        decode(&envelope("events.k8s.io/v1", "Event", event)).unwrap(),
        expected
    );
}

#[test]
fn raw_extension_and_fields_v1_embed_their_json() {
    let managed = Msg::new()
        .string(1, "kubectl")
        .string(2, "Update")
        .string(6, "FieldsV1")
        .msg(7, Msg::new().bytes(1, br#"{"f:data":{}}"#));
    let revision = Msg::new()
        .msg(1, meta("r", "ns").msg(17, managed))
        .msg(2, Msg::new().bytes(1, br#"{"spec":{"x":1}}"#))
        .int(3, 0);
    let expected = json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": "r", "namespace": "ns", "managedFields": [
            {"manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}},
        ]},
        "data": {"spec": {"x": 1}},
        "revision": 0,
    });
    assert_eq!(
        decode(&envelope("apps/v1", "ControllerRevision", revision)).unwrap(),
        expected
    );
}

#[test]
fn go_duration_strings() {
    let cases = [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (500_000_000, "500ms"),
        (1_500_000_000, "1.5s"),
    ];
    let more = [
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (3_723_000_000_000, "1h2m3s"),
        (-2_000_000_000, "-2s"),
    ];
    for (nanos, text) in cases.into_iter().chain(more) {
        assert_eq!(crate::protobuf::special::go_duration(nanos), text);
    }
}
