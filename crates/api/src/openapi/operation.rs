//! One REST operation and its path, in a form both OpenAPI dialects render from.

use super::params::{query_params, Param};
use crate::catalogue::ResourceType;
use crate::schema::definition_name;

/// A group/version/kind named by an operation.
#[derive(Debug, Clone, Copy)]
pub(super) struct Gvk {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
}

/// What an operation accepts as its body.
#[derive(Debug, Clone)]
pub(super) enum Body {
    None,
    Object(String),
    Patch,
}

/// What an operation answers with.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    Object(String),
    Text,
}

/// One operation on a path.
#[derive(Debug, Clone)]
pub(super) struct Operation {
    pub method: &'static str,
    pub id: String,
    pub description: String,
    pub action: &'static str,
    pub gvk: Option<Gvk>,
    pub params: Vec<Param>,
    pub body: Body,
    pub responses: Vec<(&'static str, &'static str)>,
    pub answer: Answer,
}

/// A path with its path-level parameters and operations.
#[derive(Debug, Clone)]
pub(super) struct PathItem {
    pub path: String,
    pub params: Vec<Param>,
    pub ops: Vec<Operation>,
}

/// Names operations of one resource (`readAppsV1NamespacedDeployment`).
pub(super) struct Names<'a> {
    pub rt: &'a ResourceType,
    pub gv: String,
    pub scope: &'static str,
}

impl Names<'_> {
    pub(super) fn op(&self, method: &'static str, verb: &str, suffix: &str) -> Operation {
        let id = format!("{verb}{}{}{}{suffix}", self.gv, self.scope, self.rt.kind);
        self.op_with_id(method, id)
    }

    pub(super) fn op_with_id(&self, method: &'static str, id: String) -> Operation {
        Operation {
            method,
            id,
            description: String::new(),
            action: "",
            gvk: Some(Gvk {
                group: self.rt.group,
                version: self.rt.version,
                kind: self.rt.kind,
            }),
            params: Vec::new(),
            body: Body::None,
            responses: vec![("200", "OK"), ("401", "Unauthorized")],
            answer: Answer::Object(definition_name(self.rt)),
        }
    }
}

impl Operation {
    pub(super) fn with(
        mut self,
        action: &'static str,
        description: String,
        params: &[&'static str],
    ) -> Self {
        self.action = action;
        self.description = description;
        self.params = query_params(params);
        self
    }

    pub(super) fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub(super) fn answers(
        mut self,
        answer: Answer,
        codes: &[(&'static str, &'static str)],
    ) -> Self {
        self.answer = answer;
        self.responses = codes.to_vec();
        self.responses.push(("401", "Unauthorized"));
        self
    }

    pub(super) fn kind(
        mut self,
        group: &'static str,
        version: &'static str,
        kind: &'static str,
    ) -> Self {
        self.gvk = Some(Gvk {
            group,
            version,
            kind,
        });
        self
    }
}

pub(super) const OK: (&str, &str) = ("200", "OK");
pub(super) const CREATED: (&str, &str) = ("201", "Created");
pub(super) const ACCEPTED: (&str, &str) = ("202", "Accepted");
