//! ConfigMaps, Secrets and PersistentVolumeClaims a pod uses, read from the API when the pod
//! is synced.

use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolume, PersistentVolumeClaim, Secret};
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

    /// The node folder behind a claim: its bound volume's hostPath or local path; `Err` with
    /// the reason while the claim is missing, unbound, or bound to a volume of another kind.
    pub async fn claim_path(
        &self,
        namespace: &str,
        claim: &str,
    ) -> Result<Result<(String, bool), String>, kube::Error> {
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), namespace);
        let Some(pvc) = claims.get_opt(claim).await? else {
            return Ok(Err(format!("persistentvolumeclaim {claim:?} not found")));
        };
        let volume = pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.clone())
            .filter(|v| !v.is_empty());
        let Some(volume) = volume else {
            return Ok(Err(format!(
                "persistentvolumeclaim {claim:?} is not bound yet"
            )));
        };
        let volumes: Api<PersistentVolume> = Api::all(self.client.clone());
        let Some(pv) = volumes.get_opt(&volume).await? else {
            return Ok(Err(format!("persistentvolume {volume:?} not found")));
        };
        let spec = pv.spec.unwrap_or_default();
        Ok(match (spec.host_path, spec.local) {
            (Some(h), _) => Ok((h.path, h.type_.as_deref() == Some("DirectoryOrCreate"))),
            (_, Some(l)) => Ok((l.path, false)),
            _ => Err(format!(
                "persistentvolume {volume:?}: only hostPath and local volumes can be mounted on this node"
            )),
        })
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
