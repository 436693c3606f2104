//! Malformed, hostile and unsupported bodies: errors, never panics.

use super::encoder::{envelope, meta, Msg};
use crate::protobuf::{decode, decode_reporting_unknown, ProtobufError, UnknownField, MAGIC};

#[test]
fn unknown_fields_are_skipped_and_reported() {
    let ns = Msg::new()
        .msg(1, meta("foo", ""))
        .msg(2, Msg::new().string(1, "x").int(99, 7))
        .string(42, "?");
    let decoded = decode_reporting_unknown(&envelope("v1", "Namespace", ns)).unwrap();
    assert_eq!(
        decoded.object["spec"]["finalizers"],
        serde_json::json!(["x"])
    );
    let unknown = [
        UnknownField {
            path: "spec".into(),
            number: 99,
        },
        UnknownField {
            path: String::new(),
            number: 42,
        },
    ];
    assert_eq!(decoded.unknown_fields, unknown);
    assert_eq!(unknown[0].to_string(), "unknown protobuf field 99 in spec");
}

#[test]
fn envelope_problems_are_named() {
    assert!(matches!(
        decode(b"{\"kind\":\"Namespace\"}"),
        Err(ProtobufError::NoMagic)
    ));
    assert!(matches!(
        decode(&envelope("v1", "", Msg::new())),
        Err(ProtobufError::NoKind)
    ));
    let crd = decode(&envelope("example.com/v1", "Widget", Msg::new()));
    assert!(
        matches!(crd, Err(ProtobufError::UnknownKind { .. })),
        "{crd:?}"
    );
    let type_meta = Msg::new().string(1, "v1").string(2, "Namespace");
    let gzip = Msg::new().msg(1, type_meta).bytes(2, &[]).string(3, "gzip");
    let body = [MAGIC.as_slice(), &gzip.0].concat();
    assert!(matches!(decode(&body), Err(ProtobufError::ContentEncoding(e)) if e == "gzip"));
}

#[test]
fn wrong_wire_type_and_truncation_are_malformed() {
    let wrong = Msg::new().int(1, 5);
    let err = decode(&envelope("v1", "Namespace", wrong)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed protobuf at metadata: field 1 has wire type Varint, expected Len"
    );
    let body = envelope("v1", "Namespace", Msg::new().msg(1, meta("foo", "")));
    let object_start = MAGIC.len() + 2 + 2 + "v1".len() + 2 + "Namespace".len();
    let object_end = body.len() - 4;
    for cut in object_start + 1..object_end {
        assert!(decode(&body[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn invalid_times_and_embedded_json_are_refused() {
    let bad_nanos = Msg::new().msg(
        1,
        Msg::new().msg(8, Msg::new().int(1, 0).int(2, 2_000_000_000)),
    );
    let err = decode(&envelope("v1", "Namespace", bad_nanos)).unwrap_err();
    assert!(
        matches!(err, ProtobufError::InvalidValue { ref path, .. } if path == "metadata.creationTimestamp"),
        "{err}"
    );
    let far = Msg::new().msg(1, Msg::new().msg(8, Msg::new().int(1, i64::MAX)));
    assert!(decode(&envelope("v1", "Namespace", far)).is_err());
    let not_json = Msg::new().msg(2, Msg::new().bytes(1, b"{nope"));
    let err = decode(&envelope("apps/v1", "ControllerRevision", not_json)).unwrap_err();
    assert!(matches!(err, ProtobufError::EmbeddedJson { .. }), "{err}");
}

#[test]
fn nesting_through_raw_extensions_is_bounded() {
    let mut body = envelope("v1", "Namespace", Msg::new());
    for _ in 0..200 {
        body = envelope(
            "apps/v1",
            "ControllerRevision",
            Msg::new().msg(2, Msg::new().bytes(1, &body)),
        );
    }
    assert!(matches!(decode(&body), Err(ProtobufError::TooDeep { .. })));
    let mut shallow = envelope("v1", "Namespace", Msg::new());
    for _ in 0..3 {
        shallow = envelope(
            "apps/v1",
            "ControllerRevision",
            Msg::new().msg(2, Msg::new().bytes(1, &shallow)),
        );
    }
    let decoded = decode(&shallow).unwrap();
    assert_eq!(decoded["data"]["data"]["data"]["kind"], "Namespace");
}

#[test]
fn length_prefix_past_the_end_is_refused() {
    let mut body = MAGIC.to_vec();
    body.extend_from_slice(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(decode(&body).is_err());
    body.truncate(MAGIC.len());
    body.push(0x0a);
    body.extend_from_slice(&[0xff; 11]);
    assert!(decode(&body).is_err());
}

#[test]
fn random_and_mutated_bodies_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/protobuf/testdata");
    let bodies: Vec<Vec<u8>> = ["deployment", "ingress", "cronjob", "secret"]
        .iter()
        .map(|n| std::fs::read(format!("{dir}/{n}.pb")).expect("fixture"))
        .collect();
    for round in 0..20_000 {
        let mut body = bodies[round % bodies.len()].clone();
        for _ in 0..1 + next() % 4 {
            let i = MAGIC.len() + (next() as usize) % (body.len() - MAGIC.len());
            body[i] = next() as u8;
        }
        let _ = decode(&body);
        let random: Vec<u8> = MAGIC
            .iter()
            .copied()
            .chain((0..next() % 64).map(|_| next() as u8))
            .collect();
        let _ = decode(&random);
    }
}
