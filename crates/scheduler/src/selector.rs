//! Label and node selectors, compiled once and matched many times.

use k8s_openapi::api::core::v1::{NodeSelector as ApiNodeSelector, NodeSelectorTerm as ApiTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as ApiLabelSelector;
use std::collections::BTreeMap;

/// Labels of an object, or an empty map.
pub type Labels = BTreeMap<String, String>;

/// The empty label set.
pub static NO_LABELS: Labels = BTreeMap::new();

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
    Invalid,
}

/// One `key op values` requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn new(key: &str, operator: &str, values: Option<&Vec<String>>) -> Self {
        let values = values.cloned().unwrap_or_default();
        let number = || match values.as_slice() {
            [v] => v.parse::<i64>().ok(),
            _ => None,
        };
        let op = match operator {
            "In" if !values.is_empty() => Op::In(values),
            "NotIn" if !values.is_empty() => Op::NotIn(values),
            "Exists" if values.is_empty() => Op::Exists,
            "DoesNotExist" if values.is_empty() => Op::DoesNotExist,
            "Gt" => number().map_or(Op::Invalid, Op::Gt),
            "Lt" => number().map_or(Op::Invalid, Op::Lt),
            _ => Op::Invalid,
        };
        Requirement {
            key: key.to_string(),
            op,
        }
    }

    fn matches(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (Op::In(vs), Some(v)) => vs.iter().any(|x| x == v),
            (Op::NotIn(vs), Some(v)) => !vs.iter().any(|x| x == v),
            (Op::NotIn(_), None) => true,
            (Op::Exists, v) => v.is_some(),
            (Op::DoesNotExist, v) => v.is_none(),
            (Op::Gt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x > *n),
            (Op::Lt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x < *n),
            _ => false,
        }
    }

    fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.key).map(String::as_str))
    }
}

/// A label selector: all requirements must hold; a nil or invalid selector matches nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Option<Vec<Requirement>>,
}

impl LabelSelector {
    /// Matches every label set.
    pub fn everything() -> Self {
        LabelSelector {
            reqs: Some(Vec::new()),
        }
    }

    /// Matches no label set.
    pub fn nothing() -> Self {
        LabelSelector { reqs: None }
    }

    /// Equality on every pair of `map`.
    pub fn from_map(map: &Labels) -> Self {
        let reqs = map
            .iter()
            .map(|(k, v)| Requirement::new(k, "In", Some(&vec![v.clone()])))
            .collect();
        LabelSelector { reqs: Some(reqs) }
    }

    /// A metav1 selector; `None` matches nothing, `{}` matches everything.
    pub fn from_api(sel: Option<&ApiLabelSelector>) -> Self {
        let Some(sel) = sel else {
            return Self::nothing();
        };
        let mut reqs = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            reqs.push(Requirement::new(k, "In", Some(&vec![v.clone()])));
        }
        for e in sel.match_expressions.iter().flatten() {
            let r = Requirement::new(&e.key, &e.operator, e.values.as_ref());
            if matches!(r.op, Op::Invalid | Op::Gt(_) | Op::Lt(_)) {
                return Self::nothing();
            }
            reqs.push(r);
        }
        LabelSelector { reqs: Some(reqs) }
    }

    /// Adds `key In (value of key in labels)` for each of `keys` present in `labels`.
    pub fn with_label_keys(mut self, keys: &[String], labels: &Labels) -> Self {
        if let Some(reqs) = self.reqs.as_mut() {
            for k in keys {
                if let Some(v) = labels.get(k) {
                    reqs.push(Requirement::new(k, "In", Some(&vec![v.clone()])));
                }
            }
        }
        self
    }

    /// Adds the requirements of `other`.
    pub fn and(&mut self, other: LabelSelector) {
        match (self.reqs.as_mut(), other.reqs) {
            (Some(mine), Some(theirs)) => mine.extend(theirs),
            _ => self.reqs = None,
        }
    }

    /// Whether the selector has no requirements (matches everything).
    pub fn is_empty(&self) -> bool {
        self.reqs.as_ref().is_some_and(Vec::is_empty)
    }

    /// Whether `labels` satisfy the selector.
    pub fn matches(&self, labels: &Labels) -> bool {
        match &self.reqs {
            Some(reqs) => reqs.iter().all(|r| r.matches_labels(labels)),
            None => false,
        }
    }
}

/// One node selector term: label expressions and `metadata.name` field expressions, ANDed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSelectorTerm {
    labels: Vec<Requirement>,
    fields: Vec<Requirement>,
}

impl NodeSelectorTerm {
    /// Compiles an API term.
    pub fn from_api(t: &ApiTerm) -> Self {
        let labels = t
            .match_expressions
            .iter()
            .flatten()
            .map(|e| Requirement::new(&e.key, &e.operator, e.values.as_ref()))
            .collect();
        let fields = t
            .match_fields
            .iter()
            .flatten()
            .map(|e| {
                let mut r = Requirement::new(&e.key, &e.operator, e.values.as_ref());
                let single = e.values.as_ref().is_some_and(|v| v.len() == 1);
                if e.key != "metadata.name" || !matches!(r.op, Op::In(_) | Op::NotIn(_)) || !single
                {
                    r.op = Op::Invalid;
                }
                r
            })
            .collect();
        NodeSelectorTerm { labels, fields }
    }

    /// Whether a node with this name and labels matches; an empty term matches nothing.
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        if self.labels.is_empty() && self.fields.is_empty() {
            return false;
        }
        self.labels.iter().all(|r| r.matches_labels(labels))
            && self.fields.iter().all(|r| r.matches(Some(node_name)))
    }
}

/// Node selector terms, ORed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSelector {
    terms: Vec<NodeSelectorTerm>,
}

impl NodeSelector {
    /// Compiles an API node selector.
    pub fn from_api(s: &ApiNodeSelector) -> Self {
        NodeSelector {
            terms: s
                .node_selector_terms
                .iter()
                .map(NodeSelectorTerm::from_api)
                .collect(),
        }
    }

    /// Whether any term matches.
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        self.terms.iter().any(|t| t.matches(node_name, labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeSelectorRequirement;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: (!values.is_empty()).then(|| values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn label_selector_nil_matches_nothing_and_empty_everything() {
        let l = labels(&[("app", "web")]);
        assert!(!LabelSelector::from_api(None).matches(&l));
        assert!(LabelSelector::from_api(Some(&ApiLabelSelector::default())).matches(&l));
    }

    #[test]
    fn label_selector_expressions() {
        let sel = ApiLabelSelector {
            match_labels: Some(labels(&[("app", "web")])),
            match_expressions: Some(vec![
                LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "NotIn".into(),
                    values: Some(vec!["db".into()]),
                },
                LabelSelectorRequirement {
                    key: "canary".into(),
                    operator: "DoesNotExist".into(),
                    values: None,
                },
            ]),
        };
        let s = LabelSelector::from_api(Some(&sel));
        assert!(s.matches(&labels(&[("app", "web")])));
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("canary", "1")])));
        assert!(!s.matches(&labels(&[("app", "api")])));
    }

    #[test]
    fn node_selector_terms_are_ored_and_expressions_anded() {
        let s = ApiNodeSelector {
            node_selector_terms: vec![
                ApiTerm {
                    match_expressions: Some(vec![
                        expr("zone", "In", &["a", "b"]),
                        expr("cores", "Gt", &["4"]),
                    ]),
                    match_fields: None,
                },
                ApiTerm {
                    match_expressions: None,
                    match_fields: Some(vec![expr("metadata.name", "In", &["special"])]),
                },
            ],
        };
        let s = NodeSelector::from_api(&s);
        assert!(s.matches("n1", &labels(&[("zone", "a"), ("cores", "8")])));
        assert!(!s.matches("n1", &labels(&[("zone", "a"), ("cores", "4")])));
        assert!(!s.matches("n1", &labels(&[("zone", "c"), ("cores", "8")])));
        assert!(s.matches("special", &Labels::new()));
    }

    #[test]
    fn lt_and_exists_and_empty_terms() {
        let term = ApiTerm {
            match_expressions: Some(vec![expr("gen", "Lt", &["3"]), expr("gpu", "Exists", &[])]),
            match_fields: None,
        };
        let t = NodeSelectorTerm::from_api(&term);
        assert!(t.matches("n", &labels(&[("gen", "2"), ("gpu", "")])));
        assert!(!t.matches("n", &labels(&[("gen", "x"), ("gpu", "")])));
        assert!(!NodeSelectorTerm::from_api(&ApiTerm::default()).matches("n", &Labels::new()));
    }

    #[test]
    fn match_label_keys_pin_the_pods_own_values() {
        let s = LabelSelector::everything().with_label_keys(
            &["pod-template-hash".to_string()],
            &labels(&[("pod-template-hash", "abc")]),
        );
        assert!(s.matches(&labels(&[("pod-template-hash", "abc")])));
        assert!(!s.matches(&labels(&[("pod-template-hash", "def")])));
    }
}
