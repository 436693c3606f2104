//! Registry settings in k3s's `registries.yaml` format: per-registry mirrors (endpoints),
//! TLS (CA, client certificate, skipping verification) and credentials. Mirrors and TLS
//! become containerd `hosts.toml` files under the agent's `certs.d`; credentials go with each
//! CRI pull of that registry.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file's contents.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Registries {
    /// Registry host (e.g. `docker.io`, `127.0.0.1:5000`, `*`) → where to pull from.
    #[serde(default)]
    pub mirrors: BTreeMap<String, Mirror>,
    /// Registry host → TLS and credentials.
    #[serde(default)]
    pub configs: BTreeMap<String, RegistryConfig>,
}

/// Endpoints tried in order for a registry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Mirror {
    /// URLs such as `http://127.0.0.1:5000` or `https://mirror.example`.
    #[serde(default)]
    pub endpoint: Vec<String>,
}

/// TLS and credentials of one registry host.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct RegistryConfig {
    /// Credentials.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// TLS settings.
    #[serde(default)]
    pub tls: Option<Tls>,
}

/// Registry credentials.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Auth {
    /// User name.
    #[serde(default)]
    pub username: String,
    /// Password.
    #[serde(default)]
    pub password: String,
    /// Identity token.
    #[serde(default)]
    pub auth: String,
}

/// Registry TLS settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Tls {
    /// CA bundle file.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Client certificate file.
    #[serde(default)]
    pub cert_file: Option<String>,
    /// Client key file.
    #[serde(default)]
    pub key_file: Option<String>,
    /// Accept any server certificate.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// Errors reading or applying the settings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Registries {
    /// Reads `path`; a missing file means no settings.
    pub fn load(path: &Path) -> Result<Registries, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Registries::default()),
            Err(source) => {
                return Err(Error::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let r: Registries = serde_yaml::from_str(&text).map_err(|e| Error::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        for (host, m) in &r.mirrors {
            for e in &m.endpoint {
                if !(e.starts_with("http://") || e.starts_with("https://")) {
                    return Err(Error::Invalid {
                        path: path.to_path_buf(),
                        message: format!(
                            "mirror endpoint {e:?} of {host:?} must start with http:// or https://"
                        ),
                    });
                }
            }
        }
        Ok(r)
    }

    /// The host of an endpoint URL (`https://a:5000/v2` → `a:5000`).
    fn endpoint_host(url: &str) -> &str {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }

    fn tls_lines(&self, host: &str) -> String {
        let Some(tls) = self.configs.get(host).and_then(|c| c.tls.as_ref()) else {
            return String::new();
        };
        let mut out = String::new();
        if tls.insecure_skip_verify {
            out.push_str("  skip_verify = true\n");
        }
        if let Some(ca) = &tls.ca_file {
            out.push_str(&format!("  ca = {ca:?}\n"));
        }
        if let (Some(c), Some(k)) = (&tls.cert_file, &tls.key_file) {
            out.push_str(&format!("  client = [[{c:?}, {k:?}]]\n"));
        }
        out
    }

    /// The `hosts.toml` of each registry, by directory name under `certs.d`.
    pub fn hosts_files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let mut registries: Vec<&String> = self.mirrors.keys().collect();
        registries.extend(
            self.configs
                .keys()
                .filter(|h| !self.mirrors.contains_key(*h)),
        );
        for registry in registries {
            let dir = if registry == "*" {
                "_default"
            } else {
                registry.as_str()
            };
            let server = match registry.as_str() {
                "docker.io" => "https://registry-1.docker.io".to_string(),
                "*" => String::new(),
                r => format!("https://{r}"),
            };
            let mut text = String::from("# Written by skiff agent from the registries file.\n");
            if !server.is_empty() {
                text.push_str(&format!("server = {server:?}\n"));
                text.push_str(&self.tls_lines(registry).replace("  ", ""));
            }
            for e in self
                .mirrors
                .get(registry)
                .map(|m| m.endpoint.as_slice())
                .unwrap_or_default()
            {
                text.push_str(&format!(
                    "\n[host.{e:?}]\n  capabilities = [\"pull\", \"resolve\"]\n"
                ));
                text.push_str(&self.tls_lines(Self::endpoint_host(e)));
            }
            out.insert(dir.to_string(), text);
        }
        out
    }

    /// Writes the `hosts.toml` files into `certs_d` (replacing what an earlier start wrote).
    pub fn write_hosts(&self, certs_d: &Path) -> Result<(), Error> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        if certs_d.exists() {
            std::fs::remove_dir_all(certs_d).map_err(io(certs_d))?;
        }
        for (dir, text) in self.hosts_files() {
            let d = certs_d.join(dir);
            std::fs::create_dir_all(&d).map_err(io(&d))?;
            let f = d.join("hosts.toml");
            std::fs::write(&f, text).map_err(io(&f))?;
        }
        Ok(())
    }

    /// Credentials for pulling `image` (by the registry host of its reference).
    pub fn auth_for(&self, image: &str) -> Option<&Auth> {
        let host = registry_of(image);
        self.configs.get(&host).and_then(|c| c.auth.as_ref())
    }
}

/// The registry host of an image reference (`busybox` → `docker.io`).
pub fn registry_of(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.to_string()
        }
        _ => "docker.io".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_and_tls_become_hosts_files_and_auth_goes_by_registry() {
        let r: Registries = serde_yaml::from_str(
            r#"
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:5000", "https://mirror.example"]
configs:
  mirror.example:
    tls: {insecure_skip_verify: true, ca_file: /etc/ca.pem}
  registry.example:
    auth: {username: u, password: p}
"#,
        )
        .unwrap();
        let files = r.hosts_files();
        let docker = &files["docker.io"];
        assert!(docker.contains("server = \"https://registry-1.docker.io\""));
        assert!(docker.contains("[host.\"http://127.0.0.1:5000\"]"));
        let mirror = docker
            .split("[host.\"https://mirror.example\"]")
            .nth(1)
            .unwrap();
        assert!(mirror.contains("skip_verify = true") && mirror.contains("ca = \"/etc/ca.pem\""));
        assert!(files.contains_key("registry.example"));
        assert_eq!(r.auth_for("registry.example/app:1").unwrap().username, "u");
        assert!(r.auth_for("busybox").is_none());
        assert_eq!(registry_of("busybox:1"), "docker.io");
        assert_eq!(registry_of("127.0.0.1:5000/x/y:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/x"), "localhost");
    }
}
