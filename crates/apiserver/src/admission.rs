//! Built-in admission: namespace lifecycle, Service IP and port allocation, disruption budgets,
//! ServiceAccount, Priority, DefaultTolerationSeconds, DefaultStorageClass,
//! StorageObjectInUseProtection, LimitRanger and ResourceQuota.

mod default_tolerations;
mod eviction;
mod limit_ranger;
mod namespace;
mod priority;
mod quota;
mod service;
mod service_account;
mod storage;

pub use default_tolerations::default_toleration_seconds;
pub use eviction::admit_eviction;
pub use limit_ranger::limit_ranger;
pub use namespace::namespace_lifecycle;
pub use priority::{priority, priority_classes, SYSTEM_CLASSES};
pub use quota::charge_create;
pub use service::{create_service, in_service_net, mutate_update, AllocationGuard, NODE_PORTS};
pub use service_account::service_account;
pub use storage::{is_default_class, storage, storage_classes, PVC_PROTECTION, PV_PROTECTION};

use crate::error::ApiResult;
use crate::Api;
use serde_json::Value;
use skiff_api::ResourceType;

/// Mutating admission of a new object, before defaulting: ServiceAccount, Priority,
/// DefaultTolerationSeconds, DefaultStorageClass and StorageObjectInUseProtection.
pub async fn mutate_create(api: &Api, rt: &ResourceType, obj: &mut Value) -> ApiResult<()> {
    service_account(rt, obj);
    priority(api, rt, obj).await?;
    default_toleration_seconds(rt, obj);
    storage(api, rt, obj).await?;
    Ok(())
}
