//! Pod volumes on the node: emptyDir (disk or tmpfs), hostPath, PersistentVolumeClaims bound
//! to hostPath or local volumes, and ConfigMap, Secret,
//! downwardAPI and projected volumes written the way upstream's atomic writer does (a
//! timestamped folder behind a `..data` link, so updates appear all at once).

use super::objects::{Data, Objects};
use crate::runtime::Mount;
use k8s_openapi::api::core::v1::{Container, KeyToPath, Pod, Volume};
use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why a pod's volumes could not be set up (the pod stays ContainerCreating).
#[derive(Debug, thiserror::Error)]
#[error("volume {volume:?}: {message}")]
pub struct VolumeError {
    /// The volume.
    pub volume: String,
    /// What went wrong.
    pub message: String,
}

fn fail(volume: &str, message: impl std::fmt::Display) -> VolumeError {
    VolumeError {
        volume: volume.to_string(),
        message: message.to_string(),
    }
}

/// The folder of a pod's volumes of one kind.
fn volume_dir(pods_dir: &Path, uid: &str, plugin: &str, name: &str) -> PathBuf {
    pods_dir.join(uid).join("volumes").join(plugin).join(name)
}

/// Files of a volume: relative path → (bytes, mode).
type Files = BTreeMap<String, (Vec<u8>, u32)>;

fn project(
    files: &mut Files,
    data: &Data,
    items: Option<&Vec<KeyToPath>>,
    mode: u32,
) -> Result<(), String> {
    match items {
        None => {
            for (k, v) in data {
                files.insert(k.clone(), (v.clone(), mode));
            }
        }
        Some(items) => {
            for it in items {
                let v = data
                    .get(&it.key)
                    .ok_or_else(|| format!("configuration key {:?} not found", it.key))?;
                let m = it.mode.map_or(mode, |m| m as u32);
                files.insert(it.path.clone(), (v.clone(), m));
            }
        }
    }
    Ok(())
}

fn downward_field(pod: &Pod, path: &str) -> Result<Vec<u8>, String> {
    let m = &pod.metadata;
    let pairs = |map: &Option<BTreeMap<String, String>>| {
        map.iter()
            .flatten()
            .map(|(k, v)| format!("{k}={v:?}\n"))
            .collect::<String>()
    };
    Ok(match path {
        "metadata.name" => m.name.clone().unwrap_or_default(),
        "metadata.namespace" => m.namespace.clone().unwrap_or_default(),
        "metadata.uid" => m.uid.clone().unwrap_or_default(),
        "metadata.labels" => pairs(&m.labels),
        "metadata.annotations" => pairs(&m.annotations),
        p => {
            let quoted = |prefix: &str, map: &Option<BTreeMap<String, String>>| {
                p.strip_prefix(prefix)
                    .and_then(|r| r.strip_suffix("']"))
                    .map(|k| {
                        map.as_ref()
                            .and_then(|l| l.get(k))
                            .cloned()
                            .unwrap_or_default()
                    })
            };
            quoted("metadata.labels['", &m.labels)
                .or_else(|| quoted("metadata.annotations['", &m.annotations))
                .ok_or_else(|| format!("unsupported fieldRef path {p:?}"))?
        }
    }
    .into_bytes())
}

fn downward(
    files: &mut Files,
    pod: &Pod,
    items: &[k8s_openapi::api::core::v1::DownwardAPIVolumeFile],
    mode: u32,
) -> Result<(), String> {
    for it in items {
        let data = if let Some(f) = &it.field_ref {
            downward_field(pod, &f.field_path)?
        } else {
            // resource fields: not yet (needs node allocatable here); an empty file for now
            Vec::new()
        };
        files.insert(it.path.clone(), (data, it.mode.map_or(mode, |m| m as u32)));
    }
    Ok(())
}

/// Writes `files` under `dir` atomically (upstream's `..data` scheme); unchanged contents
/// are left alone.
fn write_atomic(dir: &Path, files: &Files) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let data_link = dir.join("..data");
    let current = std::fs::read_link(&data_link).ok();
    if let Some(cur) = &current {
        let cur_dir = dir.join(cur);
        let same = files.iter().all(|(p, (bytes, mode))| {
            let path = cur_dir.join(p);
            std::fs::read(&path).is_ok_and(|b| &b == bytes)
                && std::fs::metadata(&path).is_ok_and(|m| m.permissions().mode() & 0o7777 == *mode)
        }) && count_files(&cur_dir) == files.len();
        if same {
            return Ok(());
        }
    }
    let stamp = format!(
        "..{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let new_dir = dir.join(&stamp);
    std::fs::create_dir_all(&new_dir)?;
    for (p, (bytes, mode)) in files {
        let path = new_dir.join(p);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode))?;
    }
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&stamp, &tmp)?;
    std::fs::rename(&tmp, &data_link)?;
    // top-level names point through ..data
    let tops: std::collections::BTreeSet<String> = files
        .keys()
        .filter_map(|p| p.split('/').next().map(str::to_string))
        .collect();
    for top in &tops {
        let link = dir.join(top);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{top}"), &link)?;
        }
    }
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("..") {
            if name != "..data" && name != stamp && entry.path().is_dir() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        } else if !tops.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                n += count_files(&p);
            } else {
                n += 1;
            }
        }
    }
    n
}

fn is_mount_point(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.display().to_string();
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|mp| mp == want)
}

async fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = tokio::process::Command::new(cmd)
        .args(args)
        .output()
        .await
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

const DEFAULT_MODE: u32 = 0o644;

async fn source_data(
    objects: &Objects,
    volume: &str,
    namespace: &str,
    kind: &str,
    name: &str,
    optional: bool,
) -> Result<Option<Data>, VolumeError> {
    let got = if kind == "configmap" {
        objects.config_map(namespace, name).await
    } else {
        objects.secret(namespace, name).await
    }
    .map_err(|e| fail(volume, e))?;
    match got {
        Some(d) => Ok(Some(d)),
        None if optional => Ok(None),
        None => Err(fail(volume, format!("{kind} {name:?} not found"))),
    }
}

/// Sets up (or refreshes) one volume; returns its host path.
async fn prepare_one(
    objects: &Objects,
    pods_dir: &Path,
    pod: &Pod,
    v: &Volume,
) -> Result<PathBuf, VolumeError> {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = &v.name;
    let io = |e: std::io::Error| fail(name, e);
    if let Some(h) = &v.host_path {
        let path = PathBuf::from(&h.path);
        match h.type_.as_deref().unwrap_or("") {
            "DirectoryOrCreate" => std::fs::create_dir_all(&path).map_err(io)?,
            "FileOrCreate" if !path.exists() => {
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p).map_err(io)?;
                }
                std::fs::write(&path, b"").map_err(io)?;
            }
            "Directory" if !path.is_dir() => {
                return Err(fail(
                    name,
                    format!("hostPath type check failed: {} is not a directory", h.path),
                ))
            }
            "File" if !path.is_file() => {
                return Err(fail(
                    name,
                    format!("hostPath type check failed: {} is not a file", h.path),
                ))
            }
            "Socket" | "CharDevice" | "BlockDevice" if !path.exists() => {
                return Err(fail(
                    name,
                    format!("hostPath type check failed: {} does not exist", h.path),
                ))
            }
            _ => {}
        }
        return Ok(path);
    }
    if let Some(c) = &v.persistent_volume_claim {
        let (path, create) = objects
            .claim_path(namespace, &c.claim_name)
            .await
            .map_err(|e| fail(name, e))?
            .map_err(|m| fail(name, m))?;
        let path = PathBuf::from(path);
        if create {
            std::fs::create_dir_all(&path).map_err(io)?;
        } else if !path.exists() {
            return Err(fail(
                name,
                format!("path {} does not exist", path.display()),
            ));
        }
        return Ok(path);
    }
    if let Some(e) = &v.empty_dir {
        let dir = volume_dir(pods_dir, uid, "empty-dir", name);
        std::fs::create_dir_all(&dir).map_err(io)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).map_err(io)?;
        if e.medium.as_deref() == Some("Memory") && !is_mount_point(&dir) {
            let mut opts = "mode=0777".to_string();
            if let Some(size) = e
                .size_limit
                .as_ref()
                .and_then(|q| crate::status::qos::parse_quantity(&q.0))
            {
                opts.push_str(&format!(",size={}", size as u64));
            }
            let d = dir.display().to_string();
            run("mount", &["-t", "tmpfs", "-o", &opts, "tmpfs", &d])
                .await
                .map_err(|m| fail(name, m))?;
        }
        return Ok(dir);
    }
    let mut files = Files::new();
    let plugin;
    if let Some(c) = &v.config_map {
        plugin = "configmap";
        let mode = c.default_mode.map_or(DEFAULT_MODE, |m| m as u32);
        if let Some(d) = source_data(
            objects,
            name,
            namespace,
            "configmap",
            &c.name,
            c.optional.unwrap_or(false),
        )
        .await?
        {
            project(&mut files, &d, c.items.as_ref(), mode).map_err(|m| fail(name, m))?;
        }
    } else if let Some(s) = &v.secret {
        plugin = "secret";
        let mode = s.default_mode.map_or(DEFAULT_MODE, |m| m as u32);
        let secret = s.secret_name.clone().unwrap_or_default();
        if let Some(d) = source_data(
            objects,
            name,
            namespace,
            "secret",
            &secret,
            s.optional.unwrap_or(false),
        )
        .await?
        {
            project(&mut files, &d, s.items.as_ref(), mode).map_err(|m| fail(name, m))?;
        }
    } else if let Some(d) = &v.downward_api {
        plugin = "downward-api";
        let mode = d.default_mode.map_or(DEFAULT_MODE, |m| m as u32);
        downward(
            &mut files,
            pod,
            d.items.as_deref().unwrap_or_default(),
            mode,
        )
        .map_err(|m| fail(name, m))?;
    } else if let Some(p) = &v.projected {
        plugin = "projected";
        let mode = p.default_mode.map_or(DEFAULT_MODE, |m| m as u32);
        for src in p.sources.iter().flatten() {
            if let Some(c) = &src.config_map {
                if let Some(d) = source_data(
                    objects,
                    name,
                    namespace,
                    "configmap",
                    &c.name,
                    c.optional.unwrap_or(false),
                )
                .await?
                {
                    project(&mut files, &d, c.items.as_ref(), mode).map_err(|m| fail(name, m))?;
                }
            } else if let Some(s) = &src.secret {
                if let Some(d) = source_data(
                    objects,
                    name,
                    namespace,
                    "secret",
                    &s.name,
                    s.optional.unwrap_or(false),
                )
                .await?
                {
                    project(&mut files, &d, s.items.as_ref(), mode).map_err(|m| fail(name, m))?;
                }
            } else if let Some(d) = &src.downward_api {
                downward(
                    &mut files,
                    pod,
                    d.items.as_deref().unwrap_or_default(),
                    mode,
                )
                .map_err(|m| fail(name, m))?;
            } else if src.service_account_token.is_some() {
                return Err(fail(
                    name,
                    "serviceAccountToken projections are not supported yet",
                ));
            }
        }
    } else {
        return Err(fail(name, "this volume type is not supported yet"));
    }
    let dir = volume_dir(pods_dir, uid, plugin, name);
    write_atomic(&dir, &files).map_err(io)?;
    Ok(dir)
}

/// Sets up every volume of the pod; returns host paths by volume name.
pub async fn prepare(
    objects: &Objects,
    pods_dir: &Path,
    pod: &Pod,
) -> Result<HashMap<String, PathBuf>, VolumeError> {
    let mut out = HashMap::new();
    for v in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        out.insert(
            v.name.clone(),
            prepare_one(objects, pods_dir, pod, v).await?,
        );
    }
    Ok(out)
}

/// The mounts of container `c` from the prepared volumes.
pub fn mounts(
    c: &Container,
    volumes: &HashMap<String, PathBuf>,
) -> Result<Vec<Mount>, VolumeError> {
    let mut out = Vec::new();
    for m in c.volume_mounts.iter().flatten() {
        let base = volumes
            .get(&m.name)
            .ok_or_else(|| fail(&m.name, "no such volume in the pod"))?;
        let sub = m.sub_path.as_deref().unwrap_or("");
        if sub.starts_with('/') || sub.split('/').any(|p| p == "..") {
            return Err(fail(
                &m.name,
                format!("subPath {sub:?} must be a relative path inside the volume"),
            ));
        }
        let host = if sub.is_empty() {
            base.clone()
        } else {
            let p = base.join(sub);
            if !p.exists() {
                std::fs::create_dir_all(&p).map_err(|e| fail(&m.name, e))?;
            }
            p
        };
        out.push(Mount {
            container_path: m.mount_path.clone(),
            host_path: host.display().to_string(),
            readonly: m.read_only.unwrap_or(false),
        });
    }
    Ok(out)
}

/// Removes a pod's volume folders (unmounting tmpfs first).
pub async fn cleanup(pods_dir: &Path, uid: &str) {
    if uid.is_empty() {
        return;
    }
    let empty = pods_dir.join(uid).join("volumes").join("empty-dir");
    if let Ok(rd) = std::fs::read_dir(&empty) {
        for e in rd.flatten() {
            if is_mount_point(&e.path()) {
                let p = e.path().display().to_string();
                if let Err(m) = run("umount", &[&p]).await {
                    tracing::warn!("{m}");
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(pods_dir.join(uid));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Files {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), (v.as_bytes().to_vec(), 0o644)))
            .collect()
    }

    #[test]
    fn an_update_swaps_all_files_at_once_and_drops_removed_keys() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("v");
        write_atomic(&d, &files(&[("a", "1"), ("b", "2")])).unwrap();
        assert_eq!(std::fs::read_to_string(d.join("a")).unwrap(), "1");
        let first = std::fs::read_link(d.join("..data")).unwrap();
        // unchanged contents keep the same folder
        write_atomic(&d, &files(&[("a", "1"), ("b", "2")])).unwrap();
        assert_eq!(std::fs::read_link(d.join("..data")).unwrap(), first);
        write_atomic(&d, &files(&[("a", "3")])).unwrap();
        assert_eq!(std::fs::read_to_string(d.join("a")).unwrap(), "3");
        assert!(!d.join("b").exists());
        assert_ne!(std::fs::read_link(d.join("..data")).unwrap(), first);
        assert!(!d.join(first).exists(), "the old folder is removed");
    }

    #[test]
    fn items_pick_keys_paths_and_modes() {
        let data: Data = [("k".to_string(), b"v".to_vec())].into();
        let mut f = Files::new();
        let items = vec![KeyToPath {
            key: "k".into(),
            path: "dir/file".into(),
            mode: Some(0o400),
        }];
        project(&mut f, &data, Some(&items), 0o644).unwrap();
        assert_eq!(f.get("dir/file"), Some(&(b"v".to_vec(), 0o400)));
        let missing = vec![KeyToPath {
            key: "nope".into(),
            path: "x".into(),
            mode: None,
        }];
        assert!(project(&mut f, &data, Some(&missing), 0o644).is_err());
    }
}
