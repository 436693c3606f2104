//! ConfigMaps and Secrets a pod uses, read from the API when the pod is synced.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use std::collections::BTreeMap;

/// Keys and their bytes.
pub type Data = BTreeMap<String, Vec<u8>>;

/// Reads ConfigMaps and Secrets for the node's pods.
#[derive(Clone)]
pub struct Objects {
    client: kube::Client,
}

impl Objects {
    /// Reads through `client`.
    pub fn new(client: kube::Client) -> Self {
        Objects { client }
    }

    /// A ConfigMap's `data` and `binaryData`, or `None` if it does not exist.
    pub async fn config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Data>, kube::Error> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), namespace);
        Ok(api.get_opt(name).await?.map(|cm| {
            let mut out: Data = cm
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_bytes()))
                .collect();
            for (k, v) in cm.binary_data.unwrap_or_default() {
                out.insert(k, v.0);
            }
            out
        }))
    }

    /// A Secret's data (decoded), or `None` if it does not exist.
    pub async fn secret(&self, namespace: &str, name: &str) -> Result<Option<Data>, kube::Error> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        Ok(api.get_opt(name).await?.map(|s| {
            let mut out: Data = s
                .data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0))
                .collect();
            for (k, v) in s.string_data.unwrap_or_default() {
                out.insert(k, v.into_bytes());
            }
            out
        }))
    }
}
