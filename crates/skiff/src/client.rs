//! A small HTTPS client configured from a kubeconfig, for benchmarks and tooling.

use anyhow::{anyhow, Context, Result};
use base64::Engine;
use std::path::Path;

/// An API client: base URL plus a reqwest client holding the admin credentials.
#[derive(Clone)]
pub struct ApiClient {
    /// `https://host:port`.
    pub base: String,
    /// The HTTP client.
    pub http: reqwest::Client,
}

fn field(yaml: &serde_yaml::Value, path: &[&str]) -> Option<String> {
    let mut v = yaml;
    for p in path {
        v = match v {
            serde_yaml::Value::Sequence(s) => s.first()?.get(p)?,
            _ => v.get(p)?,
        };
    }
    v.as_str().map(str::to_string)
}

impl ApiClient {
    /// Builds a client from the first cluster and user of a kubeconfig file.
    pub fn from_kubeconfig(path: &Path) -> Result<ApiClient> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text)?;
        let b64 = |p: &[&str]| -> Result<Vec<u8>> {
            let s = field(&yaml, p).ok_or_else(|| anyhow!("kubeconfig lacks {}", p.join(".")))?;
            Ok(base64::engine::general_purpose::STANDARD.decode(s)?)
        };
        let base = field(&yaml, &["clusters", "cluster", "server"])
            .ok_or_else(|| anyhow!("kubeconfig lacks a server"))?;
        let ca = b64(&["clusters", "cluster", "certificate-authority-data"])?;
        let mut ident = b64(&["users", "user", "client-certificate-data"])?;
        ident.extend(b64(&["users", "user", "client-key-data"])?);
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
            .identity(reqwest::Identity::from_pem(&ident)?)
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(ApiClient { base, http })
    }

    /// Full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}
