//! Finding or starting containerd: a given endpoint, the host's default socket if it answers,
//! else a containerd child with a configuration written under the agent's data folder.

use crate::cri::CriRuntime;
use crate::image::PAUSE_IMAGE;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Child;

/// The host's containerd socket.
pub const DEFAULT_SOCKET: &str = "/run/containerd/containerd.sock";
/// Where Debian's `containernetworking-plugins` installs the CNI plugins.
pub const DEBIAN_CNI_BIN: &str = "/usr/lib/cni";
/// The snapshotter used for our own containerd and for imports.
pub const SNAPSHOTTER: &str = "overlayfs";

/// Errors finding or starting containerd.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not installed.
    #[error("containerd is not installed; install it with: apt-get install -y containerd runc containernetworking-plugins")]
    NotInstalled,
    /// The given endpoint does not answer.
    #[error("no CRI runtime answers at {0}")]
    NoAnswer(PathBuf),
    /// The child did not come up.
    #[error("containerd did not start (see {log}): {message}")]
    Start {
        /// Its log file.
        log: PathBuf,
        /// Why.
        message: String,
    },
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The containerd the agent talks to.
pub struct Containerd {
    /// Its CRI socket.
    pub socket: PathBuf,
    /// Where registry `hosts.toml` files go (none: the host's containerd decides).
    pub registry_dir: Option<PathBuf>,
    /// Where CNI configuration files go for it.
    pub cni_conf_dir: PathBuf,
    /// Where it looks for CNI plugins.
    pub cni_bin_dir: PathBuf,
    /// Our child, when we started it.
    child: Option<Child>,
}

/// Paths of a containerd the agent runs itself.
pub struct Layout {
    /// Configuration file.
    pub config: PathBuf,
    /// Persistent root (images, snapshots).
    pub root: PathBuf,
    /// Runtime state (sockets, mounts).
    pub state: PathBuf,
    /// The gRPC socket.
    pub socket: PathBuf,
    /// Log file.
    pub log: PathBuf,
    /// CNI configuration folder.
    pub cni_conf_dir: PathBuf,
    /// Registry host configuration folder (`certs.d`).
    pub registry_dir: PathBuf,
}

impl Layout {
    /// The layout for an agent data folder. Runtime state goes under `/run/skiff/<id>`, so
    /// several agents on one host (tests) keep apart and socket paths stay short.
    pub fn new(agent_dir: &Path) -> Layout {
        use sha2::Digest;
        let id = hex::encode(&sha2::Sha256::digest(agent_dir.as_os_str().as_encoded_bytes())[..4]);
        let run = PathBuf::from("/run/skiff").join(id);
        Layout {
            config: agent_dir.join("etc/containerd/config.toml"),
            root: agent_dir.join("containerd"),
            state: run.join("containerd"),
            socket: run.join("containerd.sock"),
            log: agent_dir.join("containerd/containerd.log"),
            cni_conf_dir: agent_dir.join("etc/cni/net.d"),
            registry_dir: agent_dir.join("etc/containerd/certs.d"),
        }
    }

    /// containerd's configuration (version 2, for containerd 1.6 and 1.7).
    pub fn config_toml(&self, cni_bin_dir: &Path) -> String {
        let q = |p: &Path| format!("{:?}", p.display().to_string());
        format!(
            r#"# Written by skiff agent at every start; edits are overwritten.
version = 2
root = {root}
state = {state}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = {socket}

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = {restrict_oom}

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "{snapshotter}"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = {bin}
  conf_dir = {conf}

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = {registry}
"#,
            root = q(&self.root),
            state = q(&self.state),
            socket = q(&self.socket),
            pause = PAUSE_IMAGE,
            snapshotter = SNAPSHOTTER,
            bin = q(cni_bin_dir),
            conf = q(&self.cni_conf_dir),
            registry = q(&self.registry_dir),
            restrict_oom = !has_capability(CAP_SYS_RESOURCE),
        )
    }
}

/// The capability needed to lower an OOM score (the sandbox asks for -998).
const CAP_SYS_RESOURCE: u32 = 24;

/// Whether this process holds a capability (from `CapEff` in /proc/self/status). Without
/// CAP_SYS_RESOURCE (as in some VMs and containers) containerd must not lower OOM scores
/// below its own, or every sandbox fails to start.
pub fn has_capability(bit: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .is_some_and(|caps| caps & (1u64 << bit) != 0)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

async fn answers(socket: &Path) -> bool {
    socket.exists()
        && match CriRuntime::connect(socket) {
            Ok(rt) => rt.answers().await,
            Err(_) => false,
        }
}

impl Containerd {
    /// The runtime at `endpoint` if given; else the host's containerd if it answers; else our
    /// own child (reused if one started earlier by this agent still answers).
    pub async fn find_or_start(
        agent_dir: &Path,
        endpoint: Option<&Path>,
        use_host: bool,
    ) -> Result<Self, Error> {
        let layout = Layout::new(agent_dir);
        if let Some(socket) = endpoint {
            if !answers(socket).await {
                return Err(Error::NoAnswer(socket.to_path_buf()));
            }
            return Ok(Containerd::host(socket));
        }
        if use_host && answers(Path::new(DEFAULT_SOCKET)).await {
            return Ok(Containerd::host(Path::new(DEFAULT_SOCKET)));
        }
        let mut own = Containerd {
            socket: layout.socket.clone(),
            registry_dir: Some(layout.registry_dir.clone()),
            cni_conf_dir: layout.cni_conf_dir.clone(),
            cni_bin_dir: PathBuf::from(DEBIAN_CNI_BIN),
            child: None,
        };
        if answers(&layout.socket).await {
            tracing::info!(socket = %layout.socket.display(), "reusing the containerd this agent started before");
            return Ok(own);
        }
        if !on_path("containerd") {
            return Err(Error::NotInstalled);
        }
        for d in [
            layout.config.parent().unwrap_or(agent_dir),
            &layout.root,
            &layout.state,
            &layout.cni_conf_dir,
            &layout.registry_dir,
        ] {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        std::fs::write(&layout.config, layout.config_toml(&own.cni_bin_dir))
            .map_err(io(&layout.config))?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&layout.log)
            .map_err(io(&layout.log))?;
        let err_log = log.try_clone().map_err(io(&layout.log))?;
        let _ = std::fs::remove_file(&layout.socket);
        let mut cmd = tokio::process::Command::new("containerd");
        cmd.arg("--config")
            .arg(&layout.config)
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(err_log)
            // its own process group: a Ctrl-C meant for the agent does not reach it
            .process_group(0);
        let child = cmd.spawn().map_err(|e| Error::Start {
            log: layout.log.clone(),
            message: e.to_string(),
        })?;
        own.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if answers(&layout.socket).await {
                break;
            }
            if let Some(child) = own.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(Error::Start {
                        log: layout.log.clone(),
                        message: format!("it exited ({status})"),
                    });
                }
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Error::Start {
                    log: layout.log.clone(),
                    message: "its socket did not answer within 30 s".to_string(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tracing::info!(socket = %layout.socket.display(), "started containerd");
        Ok(own)
    }

    fn host(socket: &Path) -> Containerd {
        let bin = ["/opt/cni/bin", DEBIAN_CNI_BIN]
            .into_iter()
            .map(PathBuf::from)
            .find(|d| d.join("bridge").is_file())
            .unwrap_or_else(|| PathBuf::from("/opt/cni/bin"));
        if bin != Path::new("/opt/cni/bin") {
            tracing::warn!("the host's containerd looks for CNI plugins in /opt/cni/bin (by default), but they are in {}; link them there if pods get no network", bin.display());
        }
        Containerd {
            socket: socket.to_path_buf(),
            registry_dir: None,
            cni_conf_dir: PathBuf::from("/etc/cni/net.d"),
            cni_bin_dir: bin,
            child: None,
        }
    }

    /// Whether this agent started containerd itself.
    pub fn is_child(&self) -> bool {
        self.child.is_some()
    }

    /// Stops our child cleanly (SIGTERM, then SIGKILL after 10 s); containers keep running.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
}
