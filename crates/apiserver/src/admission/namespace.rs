//! NamespaceLifecycle: no new content in missing or terminating namespaces.

use crate::error::{ApiError, ApiResult};
use crate::namespace_cache::Phase;
use crate::Api;
use skiff_api::catalogue;
use skiff_api::ResourceType;

/// Rejects creation in a missing (404) or terminating (403) namespace.
pub async fn namespace_lifecycle(
    api: &Api,
    rt: &ResourceType,
    ns: Option<&str>,
    name: &str,
) -> ApiResult<()> {
    let Some(ns) = ns.filter(|_| rt.namespaced) else {
        return Ok(());
    };
    // the cache answers for known namespaces; a miss may be a namespace created a moment ago
    let phase = match api.namespaces.get(ns) {
        Some(p) => Some(p),
        None => api
            .registry
            .get_opt(catalogue::namespaces(), None, ns)
            .await?
            .map(
                |(obj, _)| match obj.pointer("/metadata/deletionTimestamp") {
                    Some(t) if !t.is_null() => Phase::Terminating,
                    _ => Phase::Active,
                },
            ),
    };
    match phase {
        None => Err(ApiError::namespace_not_found(ns)),
        Some(Phase::Terminating) => Err(ApiError::forbidden(format!(
            "{} {name:?} is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            rt.group_resource()
        ))),
        Some(Phase::Active) => Ok(()),
    }
}
