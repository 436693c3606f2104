use super::*;
use serde_json::json;

fn parse(s: &str) -> LabelSelector {
    LabelSelector::parse(s).unwrap()
}

fn err(s: &str) -> String {
    LabelSelector::parse(s).unwrap_err().0
}

#[test]
fn parses_every_operator_into_canonical_sorted_form() {
    assert_eq!(parse("a=b").to_string(), "a=b");
    assert_eq!(
        parse(" tier != db , app==web").to_string(),
        "app==web,tier!=db"
    );
    assert_eq!(
        parse("x in (foo,,baz),y,z notin ()").to_string(),
        "x in (,baz,foo),y,z notin ()"
    );
    assert_eq!(
        parse("!canary,env in (prod, dev)").to_string(),
        "!canary,env in (dev,prod)"
    );
    assert_eq!(parse("gen>1,gen<10").to_string(), "gen>1,gen<10");
    assert_eq!(parse("in in (in, notin)").to_string(), "in in (in,notin)");
    assert_eq!(parse("a=").to_string(), "a=");
    assert!(parse("").is_empty());
    assert!(parse("   ").is_empty());
}

#[test]
fn matches_labels_like_upstream() {
    let labels = json!({"app": "web", "tier": "front", "gen": "5"});
    let yes = |s: &str| parse(s).matches(Some(&labels));
    assert!(yes(""));
    assert!(yes("app=web"));
    assert!(yes("app in (api,web),tier"));
    assert!(yes("missing notin (x),!missing,tier!=db"));
    assert!(yes("gen>4,gen<6"));
    assert!(!yes("gen>5"));
    assert!(!yes("app>1"));
    assert!(!yes("app=api"));
    assert!(!yes("missing"));
    assert!(!yes("!app"));
    assert!(parse("!app").matches(None));
    assert!(!parse("app").matches(Some(&json!(null))));
}

#[test]
fn rejects_malformed_selectors_with_upstream_messages() {
    assert_eq!(
        err("a b"),
        "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"
    );
    assert_eq!(err("a=b c"), "found 'c', expected: ',' or 'end of string'");
    assert_eq!(
        err("=a"),
        "found '=', expected: !, identifier, or 'end of string'"
    );
    assert_eq!(err("a,"), "found '', expected: identifier after ','");
    assert_eq!(
        err("a in (x"),
        "unable to parse requirement: found '', expected: ',' or ')'"
    );
    assert_eq!(
        err("a in x"),
        "unable to parse requirement: found 'x' expected: '('"
    );
    assert_eq!(err("!a=b"), "found '=', expected: ',' or 'end of string'");
    assert_eq!(
        err("a=(b)"),
        "unable to parse requirement: found '(', expected: identifier"
    );
    assert!(err("-a").starts_with(
        "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist"
    ));
    assert!(err("a=-x").starts_with(
        "unable to parse requirement: values[0][a]: Invalid value: \"-x\": a valid label must be"
    ));
    assert_eq!(
        err("a>x"),
        "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"
    );
    let two = err("a<-x");
    assert!(
        two.starts_with("unable to parse requirement: [values[0]: Invalid value: \"-x\": for 'Gt'"),
        "{two}"
    );
    assert!(
        two.contains(", values[0][a]: Invalid value: \"-x\": a valid label"),
        "{two}"
    );
}

#[test]
fn converts_metav1_label_selectors() {
    let sel = json!({
        "matchLabels": {"tier": "front", "app": "nginx"},
        "matchExpressions": [
            {"key": "track", "operator": "In", "values": ["b", "a"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]
    });
    let sel = LabelSelector::from_label_selector(&sel).unwrap();
    assert_eq!(
        sel.to_string(),
        "app=nginx,!canary,tier=front,track in (a,b)"
    );
    assert!(sel.matches(Some(
        &json!({"app": "nginx", "tier": "front", "track": "a"})
    )));
    assert!(!sel.matches(Some(
        &json!({"app": "nginx", "tier": "front", "track": "c"})
    )));

    let nothing = LabelSelector::from_label_selector(&json!(null)).unwrap();
    assert!(nothing.matches_nothing() && !nothing.matches(Some(&json!({}))));
    let everything = LabelSelector::from_label_selector(&json!({})).unwrap();
    assert!(everything.is_empty() && everything.matches(None));
}

#[test]
fn rejects_invalid_metav1_label_selectors() {
    let bad_value = json!({"matchLabels": {"a": "x y"}});
    let e = LabelSelector::from_label_selector(&bad_value)
        .unwrap_err()
        .0;
    assert!(
        e.starts_with("values[0][a]: Invalid value: \"x y\": a valid label must be"),
        "{e}"
    );
    let bad_op = json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]});
    let e = LabelSelector::from_label_selector(&bad_op).unwrap_err().0;
    assert_eq!(e, "\"Equals\" is not a valid label selector operator");
    let no_values = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
    let e = LabelSelector::from_label_selector(&no_values)
        .unwrap_err()
        .0;
    assert_eq!(
        e,
        "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
    );
    assert!(LabelSelector::from_label_selector(&json!("a=b")).is_err());
}

#[test]
fn builds_equality_selectors_from_plain_maps() {
    let sel = LabelSelector::from_set(&json!({"b": "2", "a": "1"}));
    assert_eq!(sel.to_string(), "a=1,b=2");
    assert!(sel.matches(Some(&json!({"a": "1", "b": "2", "c": "3"}))));
    assert!(LabelSelector::from_set(&json!(null)).is_empty());
}

#[test]
fn never_panics_on_odd_input() {
    for s in [
        "(",
        ")",
        "!",
        "!!",
        "a in",
        "a notin (",
        ",",
        "a=b,",
        "é=ü",
        "a\0=b",
        "<>",
        "a in (,)",
        "a>",
        "x===",
    ] {
        let _ = LabelSelector::parse(s);
    }
    assert_eq!(parse("a in (,)").to_string(), "a in ()");
}
