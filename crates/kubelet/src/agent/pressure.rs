//! Measuring the node's resource pressure as upstream's eviction manager signals it:
//! `memory.available < 100Mi`, `nodefs.available < 10%`, `nodefs.inodesFree < 5%`, and
//! process ids in use above 90% of `pid_max`.

use crate::node::Pressure;
use std::path::Path;

/// Memory below which the node reports MemoryPressure (upstream's default hard threshold).
pub const MEMORY_AVAILABLE_MIN: u64 = 100 * 1024 * 1024;

/// `MemAvailable` from /proc/meminfo, in bytes.
fn memory_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Free and total bytes and inodes of the filesystem holding `path`.
pub fn filesystem(path: &Path) -> Option<(u64, u64, u64, u64)> {
    let s = nix::sys::statvfs::statvfs(path).ok()?;
    let frsize = s.fragment_size() as u64;
    Some((
        s.blocks_available() as u64 * frsize,
        s.blocks() as u64 * frsize,
        s.files_available() as u64,
        s.files() as u64,
    ))
}

fn processes() -> Option<(u64, u64)> {
    let max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let used = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .count() as u64;
    Some((used, max))
}

/// Judges measurements against the thresholds.
pub fn judge(
    memory_available: Option<u64>,
    fs: Option<(u64, u64, u64, u64)>,
    procs: Option<(u64, u64)>,
) -> Pressure {
    Pressure {
        memory: memory_available.is_some_and(|m| m < MEMORY_AVAILABLE_MIN),
        disk: fs.is_some_and(|(free, total, ifree, itotal)| {
            (total > 0 && free * 10 < total) || (itotal > 0 && ifree * 20 < itotal)
        }),
        pid: procs.is_some_and(|(used, max)| max > 0 && used * 10 > max * 9),
    }
}

/// The node's pressure now, with the node filesystem being the one holding `dir`.
pub fn measure(dir: &Path) -> Pressure {
    judge(memory_available(), filesystem(dir), processes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_upstreams_defaults() {
        let calm = judge(
            Some(1 << 30),
            Some((50, 100, 50, 100)),
            Some((100, 4_194_304)),
        );
        assert_eq!(calm, Pressure::default());
        assert!(judge(Some(99 << 20), None, None).memory);
        assert!(judge(None, Some((9, 100, 50, 100)), None).disk);
        assert!(judge(None, Some((50, 100, 4, 100)), None).disk);
        assert!(judge(None, None, Some((91, 100))).pid);
        assert!(!judge(None, None, Some((90, 100))).pid);
        // what this machine measures is at least well-formed
        let _ = measure(Path::new("/"));
    }
}
