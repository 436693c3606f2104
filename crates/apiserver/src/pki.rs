//! The cluster's certificate authority, serving certificate, admin kubeconfig and join token.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Errors creating or loading the cluster's credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A credential file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A certificate or key could not be generated or parsed.
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
}

/// Result of credential operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// File names inside the server's TLS folder.
const CA_CERT: &str = "server-ca.crt";
const CA_KEY: &str = "server-ca.key";
const SERVING_CERT: &str = "serving.crt";
const SERVING_KEY: &str = "serving.key";
const ADMIN_CERT: &str = "client-admin.crt";
const ADMIN_KEY: &str = "client-admin.key";

/// PEM credentials the server needs to serve TLS and authenticate clients.
#[derive(Clone)]
pub struct ServerCredentials {
    /// The cluster CA certificate (PEM): signs serving and client certificates.
    pub ca_cert_pem: String,
    /// The cluster CA private key (PEM).
    pub ca_key_pem: String,
    /// The serving certificate chain (PEM).
    pub serving_cert_pem: String,
    /// The serving private key (PEM).
    pub serving_key_pem: String,
    /// The admin client certificate (PEM).
    pub admin_cert_pem: String,
    /// The admin client key (PEM).
    pub admin_key_pem: String,
    /// The node join token.
    pub node_token: String,
}

fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.into(),
            source,
        }),
    }
}

/// Writes a file atomically (temp file, fsync, rename) with the given mode.
pub fn write_private(path: &Path, contents: &str, mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| Error::Io {
        path: path.into(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(contents.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn dn(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    if let Some(o) = organization {
        dn.push(DnType::OrganizationName, o);
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A newly issued certificate and key, both PEM.
pub struct Issued {
    /// Certificate (PEM).
    pub cert_pem: String,
    /// Private key (PEM).
    pub key_pem: String,
}

/// Signs a client certificate for `user` in `group` with the cluster CA.
pub fn issue_client(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    user: &str,
    group: Option<&str>,
) -> Result<Issued> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = dn(user, group);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn issue_serving(ca_cert_pem: &str, ca_key_pem: &str, sans: &[String]) -> Result<Issued> {
    let ca_key = KeyPair::from_pem(ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = dn("skiff-apiserver", None);
    params.subject_alt_names = sans
        .iter()
        .map(|s| match s.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => s.clone().try_into().map(SanType::DnsName),
        })
        .collect::<Result<_, rcgen::Error>>()?;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

fn new_ca() -> Result<Issued> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = dn("skiff-server-ca", None);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// The names the serving certificate covers.
pub fn serving_names(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = [
        "localhost",
        "127.0.0.1",
        "::1",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "10.43.0.1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in extra {
        if !n.is_empty() && n != "0.0.0.0" && n != "::" && !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

/// Loads the credentials in `tls_dir`, creating whatever is missing.
pub fn load_or_create(
    tls_dir: &Path,
    token_path: &Path,
    sans: &[String],
) -> Result<ServerCredentials> {
    std::fs::create_dir_all(tls_dir).map_err(|source| Error::Io {
        path: tls_dir.into(),
        source,
    })?;
    let p = |n: &str| tls_dir.join(n);
    let (ca_cert_pem, ca_key_pem) = match (read(&p(CA_CERT))?, read(&p(CA_KEY))?) {
        (Some(c), Some(k)) => (c, k),
        _ => {
            let ca = new_ca()?;
            write_private(&p(CA_KEY), &ca.key_pem, 0o600)?;
            write_private(&p(CA_CERT), &ca.cert_pem, 0o644)?;
            (ca.cert_pem, ca.key_pem)
        }
    };
    let (serving_cert_pem, serving_key_pem) =
        match (read(&p(SERVING_CERT))?, read(&p(SERVING_KEY))?) {
            (Some(c), Some(k)) => (c, k),
            _ => {
                let s = issue_serving(&ca_cert_pem, &ca_key_pem, sans)?;
                write_private(&p(SERVING_KEY), &s.key_pem, 0o600)?;
                write_private(&p(SERVING_CERT), &s.cert_pem, 0o644)?;
                (s.cert_pem, s.key_pem)
            }
        };
    let (admin_cert_pem, admin_key_pem) = match (read(&p(ADMIN_CERT))?, read(&p(ADMIN_KEY))?) {
        (Some(c), Some(k)) => (c, k),
        _ => {
            let a = issue_client(
                &ca_cert_pem,
                &ca_key_pem,
                "system:admin",
                Some("system:masters"),
            )?;
            write_private(&p(ADMIN_KEY), &a.key_pem, 0o600)?;
            write_private(&p(ADMIN_CERT), &a.cert_pem, 0o644)?;
            (a.cert_pem, a.key_pem)
        }
    };
    let node_token = match read(token_path)? {
        Some(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            let t = new_token(&ca_cert_pem);
            write_private(token_path, &format!("{t}\n"), 0o600)?;
            t
        }
    };
    Ok(ServerCredentials {
        ca_cert_pem,
        ca_key_pem,
        serving_cert_pem,
        serving_key_pem,
        admin_cert_pem,
        admin_key_pem,
        node_token,
    })
}

/// The hash a join token pins the cluster CA with: SHA-256 of the PEM text that
/// `GET /cacerts` serves, in hex.
pub fn ca_hash(ca_cert_pem: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(ca_cert_pem.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A join token in k3s's secure format: `K10<CA hash>::server:<random secret>`.
fn new_token(ca_cert_pem: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let secret: String = (0..32)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("K10{}::server:{secret}", ca_hash(ca_cert_pem))
}

/// The admin kubeconfig (YAML) pointing at `server_url`.
pub fn admin_kubeconfig(creds: &ServerCredentials, server_url: &str) -> String {
    kubeconfig(
        &creds.ca_cert_pem,
        server_url,
        &creds.admin_cert_pem,
        &creds.admin_key_pem,
    )
}

/// A kubeconfig (YAML) for a client certificate, trusting `ca_cert_pem` at `server_url`.
pub fn kubeconfig(ca_cert_pem: &str, server_url: &str, cert_pem: &str, key_pem: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {}\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\npreferences: {{}}\nusers:\n- name: default\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(ca_cert_pem),
        server_url,
        b64(cert_pem),
        b64(key_pem),
    )
}

/// Writes (once) a kubeconfig for a control-plane component to `path`, with a client
/// certificate for `user` in `group`.
pub fn component_kubeconfig(
    path: &Path,
    creds: &ServerCredentials,
    server_url: &str,
    user: &str,
    group: Option<&str>,
) -> Result<()> {
    let issued = issue_client(&creds.ca_cert_pem, &creds.ca_key_pem, user, group)?;
    write_private(
        path,
        &kubeconfig(
            &creds.ca_cert_pem,
            server_url,
            &issued.cert_pem,
            &issued.key_pem,
        ),
        0o600,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_survive_a_second_load() {
        let dir = tempfile::tempdir().unwrap();
        let tls = dir.path().join("tls");
        let token = dir.path().join("node-token");
        let a = load_or_create(&tls, &token, &serving_names(&[])).unwrap();
        let b = load_or_create(&tls, &token, &serving_names(&[])).unwrap();
        assert_eq!(a.ca_cert_pem, b.ca_cert_pem);
        assert_eq!(a.admin_cert_pem, b.admin_cert_pem);
        assert_eq!(a.node_token, b.node_token);
        assert!(a
            .node_token
            .starts_with(&format!("K10{}::server:", ca_hash(&a.ca_cert_pem))));
    }

    #[test]
    fn kubeconfig_names_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let c = load_or_create(
            &dir.path().join("tls"),
            &dir.path().join("t"),
            &serving_names(&[]),
        )
        .unwrap();
        let k = admin_kubeconfig(&c, "https://127.0.0.1:6443");
        assert!(k.contains("server: https://127.0.0.1:6443"));
        assert!(k.contains("client-certificate-data: "));
    }
}
