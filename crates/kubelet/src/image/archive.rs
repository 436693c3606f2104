//! OCI image archives (the `oci-archive` layout in a tar) written from files in memory: the
//! pause image, and busybox images built from the host's static busybox for tests.

use serde_json::json;
use sha2::{Digest, Sha256};
use std::io;

/// One file system entry of a layer.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A folder.
    Dir {
        /// Path without a leading slash.
        path: String,
        /// Permission bits.
        mode: u32,
    },
    /// A regular file.
    File {
        /// Path without a leading slash.
        path: String,
        /// Permission bits.
        mode: u32,
        /// Contents.
        data: Vec<u8>,
    },
    /// A symbolic link.
    Symlink {
        /// Path without a leading slash.
        path: String,
        /// Where it points.
        target: String,
    },
}

/// What an image is made of.
#[derive(Clone, Debug, Default)]
pub struct Image {
    /// Full reference, e.g. `skiff.local/pause:1`.
    pub name: String,
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Default arguments.
    pub cmd: Vec<String>,
    /// Environment (`NAME=value`).
    pub env: Vec<String>,
    /// Working directory.
    pub working_dir: String,
    /// The one layer's entries.
    pub entries: Vec<Entry>,
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

/// The layer tarball of `entries` (deterministic: fixed owners and times).
fn layer(entries: &[Entry]) -> io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            Entry::Dir { path, mode } => {
                let mut h = header(tar::EntryType::Directory, *mode, 0);
                b.append_data(&mut h, format!("{path}/"), io::empty())?;
            }
            Entry::File { path, mode, data } => {
                let mut h = header(tar::EntryType::Regular, *mode, data.len() as u64);
                b.append_data(&mut h, path, data.as_slice())?;
            }
            Entry::Symlink { path, target } => {
                let mut h = header(tar::EntryType::Symlink, 0o777, 0);
                b.append_link(&mut h, path, target)?;
            }
        }
    }
    b.into_inner()
}

fn blob(b: &mut tar::Builder<Vec<u8>>, bytes: &[u8]) -> io::Result<String> {
    let d = digest(bytes);
    let mut h = header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
    let path = format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    b.append_data(&mut h, path, bytes)?;
    Ok(d)
}

/// The `io.containerd.image.name`-annotated OCI archive of `image`, ready for import.
pub fn oci_archive(image: &Image) -> io::Result<Vec<u8>> {
    let layer = layer(&image.entries)?;
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = header(tar::EntryType::Directory, 0o755, 0);
    b.append_data(&mut dir, "blobs/", io::empty())?;
    let mut dir = header(tar::EntryType::Directory, 0o755, 0);
    b.append_data(&mut dir, "blobs/sha256/", io::empty())?;
    let layer_digest = blob(&mut b, &layer)?;
    let mut config = json!({
        "architecture": crate::node::go_arch(),
        "os": "linux",
        "config": { "Env": image.env },
        "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
    });
    if !image.entrypoint.is_empty() {
        config["config"]["Entrypoint"] = json!(image.entrypoint);
    }
    if !image.cmd.is_empty() {
        config["config"]["Cmd"] = json!(image.cmd);
    }
    if !image.working_dir.is_empty() {
        config["config"]["WorkingDir"] = json!(image.working_dir);
    }
    let config = serde_json::to_vec(&config)?;
    let config_digest = blob(&mut b, &config)?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest,
            "size": layer.len(),
        }],
    }))?;
    let manifest_digest = blob(&mut b, &manifest)?;
    let tag = image
        .name
        .rsplit_once(':')
        .filter(|(_, t)| !t.contains('/'))
        .map_or("latest", |(_, t)| t);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
            "annotations": {
                "io.containerd.image.name": image.name,
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }))?;
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    for (name, bytes) in [("oci-layout", &layout[..]), ("index.json", &index[..])] {
        let mut h = header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
        b.append_data(&mut h, name, bytes)?;
    }
    b.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut a = tar::Archive::new(archive);
        a.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().to_string();
                let mut data = Vec::new();
                io::Read::read_to_end(&mut e, &mut data).unwrap();
                (path, data)
            })
            .collect()
    }

    #[test]
    fn blobs_are_named_by_their_digest_and_the_index_names_the_image() {
        let image = Image {
            name: "skiff.local/test:3".to_string(),
            entrypoint: vec!["/hello".to_string()],
            entries: vec![Entry::File {
                path: "hello".to_string(),
                mode: 0o755,
                data: b"#!/bin/sh\n".to_vec(),
            }],
            ..Default::default()
        };
        let a = oci_archive(&image).unwrap();
        let files = files(&a);
        for (path, data) in &files {
            if let Some(hex) = path.strip_prefix("blobs/sha256/") {
                if !hex.is_empty() {
                    assert_eq!(digest(data), format!("sha256:{hex}"), "{path}");
                }
            }
        }
        let index = &files.iter().find(|(p, _)| p == "index.json").unwrap().1;
        let index: serde_json::Value = serde_json::from_slice(index).unwrap();
        let m = &index["manifests"][0];
        assert_eq!(
            m["annotations"]["io.containerd.image.name"],
            "skiff.local/test:3"
        );
        assert_eq!(m["annotations"]["org.opencontainers.image.ref.name"], "3");
        // the same input gives the same bytes (images are imported idempotently)
        assert_eq!(a, oci_archive(&image).unwrap());
    }
}
