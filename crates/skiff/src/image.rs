//! `skiff image`: import image tarballs into the node's containerd, or build a busybox image
//! from the host's static busybox (for trying Skiff offline and for tests).

use anyhow::{Context, Result};
use skiff_kubelet::containerd::{Layout, DEFAULT_SOCKET, SNAPSHOTTER};
use std::path::PathBuf;

/// `skiff image …`
#[derive(clap::Subcommand)]
pub enum ImageCommand {
    /// Imports docker-archive or OCI-archive tarballs into the node's containerd.
    Import {
        /// Tarballs to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The agent's data folder (to find the containerd it started).
        #[arg(long, env = "SKIFF_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The CRI socket (default: the agent's containerd, else the host's).
        #[arg(long)]
        container_runtime_endpoint: Option<PathBuf>,
    },
    /// Writes an OCI archive of a busybox image built from the host's static busybox
    /// (Debian: busybox-static).
    Busybox {
        /// Where to write the archive.
        #[arg(long)]
        out: PathBuf,
        /// The image name.
        #[arg(long, default_value = "skiff.local/busybox:1")]
        name: String,
        /// The static busybox binary.
        #[arg(long, default_value = skiff_kubelet::image::HOST_BUSYBOX)]
        busybox: PathBuf,
    },
}

/// Runs an image command.
pub async fn run(cmd: ImageCommand) -> Result<()> {
    match cmd {
        ImageCommand::Import {
            files,
            data_dir,
            container_runtime_endpoint,
        } => {
            let socket = container_runtime_endpoint.unwrap_or_else(|| {
                let agent_dir = data_dir
                    .unwrap_or_else(crate::default_data_dir)
                    .join("agent");
                let own = Layout::new(&agent_dir).socket;
                if own.exists() {
                    own
                } else {
                    PathBuf::from(DEFAULT_SOCKET)
                }
            });
            for f in &files {
                skiff_kubelet::image::import(&socket, f, SNAPSHOTTER)
                    .await
                    .with_context(|| format!("through {}", socket.display()))?;
                println!("imported {}", f.display());
            }
            Ok(())
        }
        ImageCommand::Busybox { out, name, busybox } => {
            let bytes = skiff_kubelet::image::busybox_archive(&name, &busybox)?;
            std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {name} to {}", out.display());
            Ok(())
        }
    }
}
