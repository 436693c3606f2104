//! Operations of subresources: status, scale, binding, eviction, token, finalize, log, exec.

use super::operation::{Answer, Body, Names, PathItem, ACCEPTED, CREATED, OK};
use super::params::{self, Param};
use super::paths::{object_ops, SCALE};
use crate::catalogue::Subresource;
use crate::schema::definition_name;

/// The path of one subresource of a resource's objects.
pub(super) fn subresource_path(
    n: &Names,
    sr: Subresource,
    collection: &str,
    object_params: &[Param],
) -> Option<PathItem> {
    let kind = n.rt.kind;
    let post = |suffix: &str, group, version, sub_kind, def: &str| {
        n.op("post", "create", suffix)
            .with(
                "post",
                format!("create {} of a {kind}", sr.name()),
                params::WRITE,
            )
            .kind(group, version, sub_kind)
            .body(Body::Object(def.into()))
            .answers(Answer::Object(def.into()), &[OK, CREATED, ACCEPTED])
    };
    let connect = |suffix: &str, p: &[&'static str]| {
        ["get", "post"].map(|method| {
            let verb = if method == "get" {
                "connectGet"
            } else {
                "connectPost"
            };
            let mut op = n
                .op(method, verb, suffix)
                .with(
                    "connect",
                    format!(
                        "connect {} requests to {} of {kind}",
                        method.to_uppercase(),
                        sr.name()
                    ),
                    p,
                )
                .answers(Answer::Text, &[OK]);
            op.gvk = None;
            op
        })
    };
    let ops = match sr {
        Subresource::Status => object_ops(
            n,
            "Status",
            "status of ",
            Answer::Object(definition_name(n.rt)),
            false,
        ),
        Subresource::Scale => {
            object_ops(n, "Scale", "scale of ", Answer::Object(SCALE.into()), false)
                .into_iter()
                .map(|op| op.kind("autoscaling", "v1", "Scale"))
                .collect()
        }
        Subresource::Binding => vec![post(
            "Binding",
            "",
            "v1",
            "Binding",
            "io.k8s.api.core.v1.Binding",
        )],
        Subresource::Eviction => vec![post(
            "Eviction",
            "policy",
            "v1",
            "Eviction",
            "io.k8s.api.policy.v1.Eviction",
        )],
        Subresource::Token => vec![post(
            "Token",
            "authentication.k8s.io",
            "v1",
            "TokenRequest",
            "io.k8s.api.authentication.v1.TokenRequest",
        )],
        Subresource::Finalize => {
            let def = definition_name(n.rt);
            vec![n
                .op("put", "replace", "Finalize")
                .with(
                    "put",
                    format!("replace finalize of the specified {kind}"),
                    params::WRITE,
                )
                .body(Body::Object(def.clone()))
                .answers(Answer::Object(def), &[OK, CREATED])]
        }
        Subresource::Log => {
            let mut op = n
                .op("get", "read", "Log")
                .with(
                    "get",
                    format!("read log of the specified {kind}"),
                    params::LOG,
                )
                .answers(Answer::Text, &[OK]);
            op.gvk = None;
            vec![op]
        }
        Subresource::Exec => connect("Exec", params::EXEC).to_vec(),
        Subresource::Attach => connect("Attach", params::ATTACH).to_vec(),
        Subresource::PortForward => connect("Portforward", params::PORT_FORWARD).to_vec(),
    };
    Some(PathItem {
        path: format!("{collection}/{{name}}/{}", sr.name()),
        params: object_params.to_vec(),
        ops,
    })
}
