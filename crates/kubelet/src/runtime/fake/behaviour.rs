//! How fake containers behave: run time and exit code from annotations; pretend image digests.

use super::{EXIT_CODE_ANNOTATION, RUN_SECONDS_ANNOTATION};
use crate::runtime::{ContainerConfig, PodSandboxConfig, CONTAINER_TYPE_LABEL};
use std::time::Duration;

/// A stable pretend digest reference for an image.
pub fn image_ref(image: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in image.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    let repo = image.split([':', '@']).next().unwrap_or(image);
    format!("{repo}@sha256:{h:016x}{h:016x}{h:016x}{h:016x}")
}

/// How a container behaves: `(run time, exit code)`, or `None` to run until stopped.
///
/// `<key>.<container>` pod annotations come first, then the container's own annotations,
/// then (for regular containers) the pod-wide keys. An exit code alone means exit at once;
/// init containers exit 0 at once unless told otherwise.
pub fn behaviour(config: &ContainerConfig, sandbox: &PodSandboxConfig) -> Option<(Duration, i32)> {
    let name = &config.metadata.name;
    let init = config.labels.get(CONTAINER_TYPE_LABEL).map(String::as_str) == Some("init");
    let lookup = |key: &str| {
        sandbox
            .annotations
            .get(&format!("{key}.{name}"))
            .or_else(|| config.annotations.get(key))
            .or_else(|| {
                if init {
                    None
                } else {
                    sandbox.annotations.get(key)
                }
            })
    };
    let code = lookup(EXIT_CODE_ANNOTATION).and_then(|c| c.trim().parse::<i32>().ok());
    let seconds = lookup(RUN_SECONDS_ANNOTATION)
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0);
    match (seconds, code) {
        (Some(s), code) => Some((Duration::from_secs_f64(s.min(1e9)), code.unwrap_or(0))),
        (None, Some(code)) => Some((Duration::ZERO, code)),
        (None, None) if init => Some((Duration::ZERO, 0)),
        (None, None) => None,
    }
}
