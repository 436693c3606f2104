//! Parsing a request path and query into what the client asks for.

use crate::error::{ApiError, ApiResult};
use skiff_api::catalogue::{self, ResourceType, Subresource};
use std::collections::HashMap;

/// What a resource request addresses.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource type.
    pub rt: &'static ResourceType,
    /// Namespace from the path (namespaced types), if any.
    pub namespace: Option<String>,
    /// Object name, if the path names one.
    pub name: Option<String>,
    /// Subresource, if the path names one.
    pub subresource: Option<Subresource>,
    /// Whether the path used the legacy `/watch/` prefix.
    pub watch_prefix: bool,
}

/// A request path, classified.
#[derive(Debug, Clone)]
pub enum Route {
    /// `/api`.
    LegacyRoot,
    /// `/apis`.
    GroupsRoot,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    GroupVersion(String, String),
    /// A resource collection or object.
    Resource(Target),
}

fn unescape(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Classifies a request path; `None` when no API route matches.
pub fn parse_path(path: &str) -> ApiResult<Option<Route>> {
    let parts: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .map(unescape)
        .collect();
    let p: Vec<&str> = parts.iter().map(String::as_str).collect();
    let (group, version, rest) = match p.as_slice() {
        ["api"] => return Ok(Some(Route::LegacyRoot)),
        ["apis"] => return Ok(Some(Route::GroupsRoot)),
        ["apis", g] => return Ok(Some(Route::Group(g.to_string()))),
        ["api", v] => return Ok(Some(Route::GroupVersion(String::new(), v.to_string()))),
        ["apis", g, v] => return Ok(Some(Route::GroupVersion(g.to_string(), v.to_string()))),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Ok(None),
    };
    if !catalogue::serves_group_version(group, version) {
        return Ok(None);
    }
    let (watch_prefix, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    // namespaces/<ns>/<resource>/... unless it is namespaces/<name>/{status,finalize}
    let (namespace, rest): (Option<&str>, &[&str]) = match rest {
        ["namespaces", ns, r, ..] if !matches!(*r, "status" | "finalize") => {
            (Some(*ns), &rest[2..])
        }
        _ => (None, rest),
    };
    let (resource, name, sub) = match rest {
        [r] => (*r, None, None),
        [r, n] => (*r, Some(*n), None),
        [r, n, s] => (*r, Some(*n), Some(*s)),
        _ => return Ok(None),
    };
    let Some(rt) = catalogue::find(group, version, resource) else {
        return Ok(None);
    };
    if namespace.is_some() && !rt.namespaced {
        return Ok(None);
    }
    let subresource = match sub {
        None => None,
        Some(s) => match Subresource::parse(s) {
            Some(sr) if rt.has_subresource(sr) => Some(sr),
            _ => return Ok(None),
        },
    };
    if watch_prefix && (subresource.is_some()) {
        return Ok(None);
    }
    Ok(Some(Route::Resource(Target {
        rt,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        subresource,
        watch_prefix,
    })))
}

/// The query string as a map (last value wins).
#[derive(Debug, Clone, Default)]
pub struct Query(pub HashMap<String, String>);

impl Query {
    /// Parses a raw query string.
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A parameter's value, if present and non-empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A boolean flag (`true`/`1`).
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }

    /// A non-negative integer parameter; 400 when malformed.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid value for {key}: {v:?}"))),
        }
    }

    /// Whether `dryRun=All` was given; 400 for other values.
    pub fn dry_run(&self) -> ApiResult<bool> {
        match self.0.get("dryRun").map(String::as_str) {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(v) => Err(ApiError::bad_request(format!(
                "Invalid dry run value: {v:?}: supported values: \"All\""
            ))),
        }
    }
}

/// How unknown or duplicate fields in a body are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    /// Reject the request.
    Strict,
    /// Accept it with a warning header.
    Warn,
    /// Accept it silently.
    Ignore,
}

impl FieldValidation {
    /// Reads `fieldValidation` (default Warn, as upstream).
    pub fn from_query(q: &Query) -> ApiResult<Self> {
        match q.get("fieldValidation") {
            None | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some(v) => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got {v:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match parse_path(path).unwrap() {
            Some(Route::Resource(t)) => t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn namespaced_object_with_subresource() {
        let t = target("/apis/apps/v1/namespaces/default/deployments/web/scale");
        assert_eq!(t.rt.kind, "Deployment");
        assert_eq!(t.namespace.as_deref(), Some("default"));
        assert_eq!(t.name.as_deref(), Some("web"));
        assert_eq!(t.subresource, Some(Subresource::Scale));
    }

    #[test]
    fn namespace_status_is_a_subresource_not_a_resource() {
        let t = target("/api/v1/namespaces/kube-system/status");
        assert_eq!(t.rt.kind, "Namespace");
        assert_eq!(t.name.as_deref(), Some("kube-system"));
        assert_eq!(t.subresource, Some(Subresource::Status));
        let t = target("/api/v1/namespaces/kube-system");
        assert_eq!(t.rt.kind, "Namespace");
        assert_eq!(t.namespace, None);
    }

    #[test]
    fn legacy_watch_prefix_and_cluster_lists() {
        let t = target("/api/v1/watch/namespaces/default/pods");
        assert!(t.watch_prefix);
        assert_eq!(t.rt.kind, "Pod");
        let t = target("/api/v1/pods");
        assert_eq!(t.namespace, None);
        assert!(parse_path("/api/v1/namespaces/default/nodes")
            .unwrap()
            .is_none());
        assert!(parse_path("/apis/apps/v2/deployments").unwrap().is_none());
    }
}
