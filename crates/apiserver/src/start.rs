//! Start-up: store, credentials, listener, bootstrap objects and background tasks.

use crate::kind_cache::KindCaches;
use crate::registry::Registry;
use crate::state::Api;
use crate::{bootstrap, namespace_cache, pki, server};
use skiff_api::catalogue;
use skiff_store::Store;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for the store, certificates, kubeconfig and token.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub bind_address: IpAddr,
    /// HTTPS port (0 picks a free one).
    pub https_port: u16,
    /// Extra names or IPs for the serving certificate.
    pub tls_sans: Vec<String>,
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data folder could not be prepared.
    #[error("data dir {0}: {1}")]
    DataDir(PathBuf, #[source] std::io::Error),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] skiff_store::Error),
    /// Credentials could not be created or loaded.
    #[error("credentials: {0}")]
    Pki(#[from] pki::Error),
    /// TLS could not be configured.
    #[error("tls: {0}")]
    Tls(#[from] server::Error),
    /// The listener could not be bound.
    #[error("listen on {0}: {1}")]
    Listen(SocketAddr, #[source] std::io::Error),
    /// The kubelet client credentials could not be built.
    #[error("kubelet client tls: {0}")]
    KubeletTls(String),
    /// Bootstrap objects could not be written.
    #[error("bootstrap: {0}")]
    Bootstrap(#[source] crate::error::ApiError),
}

/// A started server.
pub struct Running {
    /// The address it listens on.
    pub local_addr: SocketAddr,
    /// Path of the admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// Kubeconfig of the scheduler (user `system:kube-scheduler`).
    pub scheduler_kubeconfig: PathBuf,
    /// Kubeconfig of the controllers (user `system:kube-controller-manager`).
    pub controllers_kubeconfig: PathBuf,
    /// Shared state.
    pub api: Arc<Api>,
}

/// The user the API server presents to kubelets (they accept no other).
pub const KUBELET_CLIENT_USER: &str = "kube-apiserver-kubelet-client";

/// TLS for calling kubelets: a fresh client certificate for [`KUBELET_CLIENT_USER`] signed by
/// the cluster CA; kubelet serving certificates are not checked (as upstream's default).
fn kubelet_client_tls(
    creds: &pki::ServerCredentials,
) -> Result<std::sync::Arc<rustls::ClientConfig>, StartError> {
    let issued = pki::issue_client(
        &creds.ca_cert_pem,
        &creds.ca_key_pem,
        KUBELET_CLIENT_USER,
        Some("system:masters"),
    )?;
    let config = skiff_stream::tls::client_any_server(&issued.cert_pem, &issued.key_pem)
        .map_err(|e| StartError::KubeletTls(e.to_string()))?;
    Ok(std::sync::Arc::new(config))
}

/// Opens the store, prepares credentials, binds the port and starts serving.
pub async fn start(config: Config) -> Result<Running, StartError> {
    skiff_api::schema::warm();
    skiff_api::openapi::warm_in_background();
    let dir = &config.data_dir;
    let server_dir = dir.join("server");
    std::fs::create_dir_all(server_dir.join("db"))
        .map_err(|e| StartError::DataDir(server_dir.clone(), e))?;
    let store: Arc<dyn Store> = skiff_store::SqliteStore::open(
        &server_dir.join("db").join("state.db"),
        Default::default(),
    )?;
    let addr = SocketAddr::new(config.bind_address, config.https_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| StartError::Listen(addr, e))?;
    let local_addr = listener
        .local_addr()
        .map_err(|e| StartError::Listen(addr, e))?;
    let mut sans = config.tls_sans.clone();
    sans.push(config.bind_address.to_string());
    if config.bind_address.is_unspecified() {
        // agents on other hosts reach a server bound to every address by the host's address
        // or name (the certificate is made once; `--tls-san` adds more)
        sans.push(bootstrap::host_ipv4().to_string());
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let name = name.trim().to_ascii_lowercase();
        let dns_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if dns_name {
            sans.push(name);
        }
    }
    let creds = pki::load_or_create(
        &server_dir.join("tls"),
        &dir.join("node-token"),
        &pki::serving_names(&sans),
    )?;
    let host = if config.bind_address.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        config.bind_address.to_string()
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let server_address = format!("{host}:{}", local_addr.port());
    let kubeconfig = dir.join("kubeconfig.yaml");
    pki::write_private(
        &kubeconfig,
        &pki::admin_kubeconfig(&creds, &format!("https://{server_address}")),
        0o600,
    )?;
    let cred_dir = server_dir.join("cred");
    std::fs::create_dir_all(&cred_dir).map_err(|e| StartError::DataDir(cred_dir.clone(), e))?;
    let scheduler_kubeconfig = cred_dir.join("scheduler.kubeconfig");
    let controllers_kubeconfig = cred_dir.join("controllers.kubeconfig");
    for (path, user) in [
        (&scheduler_kubeconfig, "system:kube-scheduler"),
        (&controllers_kubeconfig, "system:kube-controller-manager"),
    ] {
        pki::component_kubeconfig(
            path,
            &creds,
            &format!("https://{server_address}"),
            user,
            None,
        )?;
    }
    let tls = server::tls_config(
        &creds.ca_cert_pem,
        &creds.serving_cert_pem,
        &creds.serving_key_pem,
    )?;
    let cached = [
        catalogue::find("scheduling.k8s.io", "v1", "priorityclasses"),
        catalogue::find("", "v1", "resourcequotas"),
        catalogue::find("", "v1", "limitranges"),
    ];
    let caches = KindCaches::start(&store, &cached.into_iter().flatten().collect::<Vec<_>>());
    let registry = Registry { store, caches };
    let namespaces = namespace_cache::NamespaceCache::default();
    tokio::spawn(namespaces.clone().run(registry.store.clone()));
    let api = Arc::new(Api {
        registry: registry.clone(),
        namespaces,
        service_alloc: Default::default(),
        server_address,
        watch_cache: Default::default(),
        kubelet_tls: Some(kubelet_client_tls(&creds)?),
        join: Some(crate::join::JoinAuthority {
            token: creds.node_token.clone(),
            ca_cert_pem: creds.ca_cert_pem.clone(),
            ca_key_pem: creds.ca_key_pem.clone(),
        }),
        ready: AtomicBool::new(false),
    });
    tokio::spawn(server::serve(listener, tls, api.clone()));
    bootstrap::ensure_defaults(&registry)
        .await
        .map_err(StartError::Bootstrap)?;
    let advertise = match config.bind_address {
        ip if ip.is_unspecified() => IpAddr::V4(bootstrap::host_ipv4()),
        ip => ip,
    };
    bootstrap::kubernetes_endpoints(&registry, SocketAddr::new(advertise, local_addr.port()))
        .await
        .map_err(StartError::Bootstrap)?;
    api.ready.store(true, Ordering::Release);
    Ok(Running {
        local_addr,
        kubeconfig,
        scheduler_kubeconfig,
        controllers_kubeconfig,
        api,
    })
}
