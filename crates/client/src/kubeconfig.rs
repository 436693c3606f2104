//! API clients built from kubeconfig files.

use std::path::Path;

/// Errors building a client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig file could not be read or parsed.
    #[error("reading kubeconfig {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// The client could not be configured from the kubeconfig.
    #[error("configuring a client from {path}: {source}")]
    Client {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
}

/// Builds a kube-rs client from the current context of a kubeconfig file.
pub async fn client_from_kubeconfig(path: &Path) -> Result<kube::Client, Error> {
    let shown = path.display().to_string();
    let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|source| Error::Read {
        path: shown.clone(),
        source,
    })?;
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|source| Error::Read {
            path: shown.clone(),
            source,
        })?;
    config.connect_timeout = Some(std::time::Duration::from_secs(10));
    kube::Client::try_from(config).map_err(|source| Error::Client {
        path: shown,
        source,
    })
}
