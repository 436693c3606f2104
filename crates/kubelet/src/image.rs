//! Images the agent brings itself: the sandbox ("pause") image built from this project, busybox
//! images from the host's static busybox (for offline use and tests), and importing image
//! tarballs into containerd.

pub mod archive;

use archive::{Entry, Image};
use std::path::{Path, PathBuf};

/// The sandbox image every pod's sandbox runs.
pub const PAUSE_IMAGE: &str = concat!("skiff.local/pause:", env!("CARGO_PKG_VERSION"));

/// The containerd namespace CRI keeps its images and containers in.
pub const CRI_NAMESPACE: &str = "k8s.io";

/// The static pause program (built by build.rs from `pause/pause.c`).
const PAUSE_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pause"));

/// Errors building or importing images.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The importer failed.
    #[error("importing {path}: {message}")]
    Import {
        /// The tarball.
        path: PathBuf,
        /// What the importer said.
        message: String,
    },
}

fn dir(path: &str, mode: u32) -> Entry {
    Entry::Dir {
        path: path.to_string(),
        mode,
    }
}

/// The pause image as an OCI archive.
pub fn pause_archive() -> std::io::Result<Vec<u8>> {
    archive::oci_archive(&Image {
        name: PAUSE_IMAGE.to_string(),
        entrypoint: vec!["/pause".to_string()],
        entries: vec![Entry::File {
            path: "pause".to_string(),
            mode: 0o755,
            data: PAUSE_BINARY.to_vec(),
        }],
        ..Default::default()
    })
}

/// Where Debian's `busybox-static` installs its binary.
pub const HOST_BUSYBOX: &str = "/bin/busybox";

/// A busybox image named `name` from the static busybox at `busybox`: every applet linked
/// in `/bin`, a root and a nobody user, `/tmp`, `/var/www`; the default command is `sh`.
pub fn busybox_archive(name: &str, busybox: &Path) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: busybox.to_path_buf(),
        source,
    };
    let data = std::fs::read(busybox).map_err(io)?;
    let out = std::process::Command::new(busybox)
        .arg("--list")
        .output()
        .map_err(io)?;
    let mut entries = vec![
        dir("bin", 0o755),
        dir("etc", 0o755),
        dir("tmp", 0o1777),
        dir("root", 0o700),
        dir("home", 0o755),
        dir("var", 0o755),
        dir("var/www", 0o755),
        dir("proc", 0o555),
        dir("sys", 0o555),
        dir("dev", 0o755),
        Entry::File {
            path: "bin/busybox".to_string(),
            mode: 0o755,
            data,
        },
        Entry::File {
            path: "etc/passwd".to_string(),
            mode: 0o644,
            data: b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
                .to_vec(),
        },
        Entry::File {
            path: "etc/group".to_string(),
            mode: 0o644,
            data: b"root:x:0:\nnogroup:x:65534:\n".to_vec(),
        },
    ];
    for applet in String::from_utf8_lossy(&out.stdout).lines() {
        let applet = applet.trim();
        if applet.is_empty() || applet == "busybox" || applet.contains('/') {
            continue;
        }
        entries.push(Entry::Symlink {
            path: format!("bin/{applet}"),
            target: "busybox".to_string(),
        });
    }
    archive::oci_archive(&Image {
        name: name.to_string(),
        cmd: vec!["sh".to_string()],
        env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string()],
        entries,
        ..Default::default()
    })
    .map_err(io)
}

/// Imports an image tarball (docker-archive or OCI archive) into containerd's CRI namespace
/// with `ctr`, unpacked for `snapshotter`.
pub async fn import(socket: &Path, tarball: &Path, snapshotter: &str) -> Result<(), Error> {
    let out = tokio::process::Command::new("ctr")
        .arg("--address")
        .arg(socket)
        .args(["--namespace", CRI_NAMESPACE, "images", "import"])
        .args(["--snapshotter", snapshotter])
        .arg(tarball)
        .output()
        .await
        .map_err(|source| Error::Io {
            path: PathBuf::from("ctr"),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::Import {
            path: tarball.to_path_buf(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Imports the pause image (written to `scratch` first).
pub async fn import_pause(socket: &Path, scratch: &Path, snapshotter: &str) -> Result<(), Error> {
    let path = scratch.join("pause.oci.tar");
    let bytes = pause_archive().map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    std::fs::write(&path, bytes).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    import(socket, &path, snapshotter).await
}

/// Imports every tarball in `dir` (`*.tar`, `*.tar.gz`, `*.tgz`, `*.tar.zst`), in name
/// order; a missing folder holds none. Returns how many were imported.
pub async fn import_dir(socket: &Path, dir: &Path, snapshotter: &str) -> Result<usize, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => {
            return Err(Error::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.to_string_lossy();
            [".tar", ".tar.gz", ".tgz", ".tar.zst"]
                .iter()
                .any(|s| n.ends_with(s))
        })
        .collect();
    files.sort();
    for f in &files {
        import(socket, f, snapshotter).await?;
    }
    Ok(files.len())
}
