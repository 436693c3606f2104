//! Builds the sandbox ("pause") program as a static executable for the pause image.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=pause/pause.c");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(&cc)
        .args(["-static", "-Os", "-s", "-o"])
        .arg(out.join("pause"))
        .arg("pause/pause.c")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{cc} failed to build the pause program ({s}); a C compiler with static libc is needed (Debian: gcc, libc6-dev)"),
        Err(e) => panic!("running {cc} to build the pause program: {e}; install gcc (Debian: apt-get install -y gcc libc6-dev)"),
    }
}
