//! A real `skiff server` process and a real kubectl pointed at it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The kubectl binary the tests drive: $KUBECTL, the cached tool, or the installed 1.33.
pub fn kubectl_path() -> PathBuf {
    if let Some(k) = std::env::var_os("KUBECTL") {
        return PathBuf::from(k);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cached = root.join(".cache/tools/kubectl");
    if cached.exists() {
        return cached;
    }
    PathBuf::from("/usr/lib/google-cloud-sdk/bin/kubectl.1.33")
}

/// A running server on a loopback port with its own data folder; killed on drop.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
    /// With a local node agent: its kubelet port.
    pub kubelet_port: Option<u16>,
    /// Extra server flags.
    extra: Vec<String>,
    /// With a local node agent: the second octet of its cluster CIDR (`10.<net>.0.0/16`),
    /// claimed for this cluster alone (see [`claim_net`]).
    pub net: u16,
    net_claim: Option<PathBuf>,
}

/// Claims a pod network `10.<net>.0.0/16` (100 ≤ net < 250) that no other live test cluster
/// on this host uses, so parallel clusters never share a pod gateway (cluster DNS binds it):
/// a file per network under /tmp/skiff-test-nets holds the owning process's pid; a claim
/// whose process is gone is taken over.
fn claim_net(seed: u16) -> (u16, PathBuf) {
    let dir = Path::new("/tmp/skiff-test-nets");
    std::fs::create_dir_all(dir).unwrap();
    for k in 0..150u16 {
        let net = 100 + (seed.wrapping_add(k)) % 150;
        let path = dir.join(net.to_string());
        let taken = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        match taken {
            Ok(mut f) => {
                use std::io::Write;
                write!(f, "{}", std::process::id()).unwrap();
                return (net, path);
            }
            Err(_) => {
                let owner = std::fs::read_to_string(&path).unwrap_or_default();
                let alive =
                    !owner.is_empty() && Path::new(&format!("/proc/{}", owner.trim())).exists();
                if !alive {
                    let _ = std::fs::remove_file(&path);
                    if let Ok(mut f) = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                    {
                        use std::io::Write;
                        write!(f, "{}", std::process::id()).unwrap();
                        return (net, path);
                    }
                }
            }
        }
    }
    panic!("no free test pod network under /tmp/skiff-test-nets");
}

/// The name of the test image every agent cluster imports at start.
pub const BUSYBOX: &str = "skiff.local/busybox:1";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// Starts a server and waits until kubectl can reach it.
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cluster {
            dir,
            port: free_port(),
            child: None,
            kubelet_port: None,
            extra: Vec::new(),
            net: 0,
            net_claim: None,
        };
        c.boot();
        c
    }

    /// Starts a server with its local node agent (real containerd; needs root) and a busybox
    /// image in the agent's air-gap folder; waits until the node is Ready.
    pub fn start_with_agent() -> Cluster {
        Self::start_with_agent_args(&[])
    }

    /// [`Cluster::start_with_agent`] with extra server flags.
    pub fn start_with_agent_args(extra: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("agent/images");
        std::fs::create_dir_all(&images).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["image", "busybox", "--name", BUSYBOX, "--out"])
            .arg(images.join("busybox.tar"))
            .output()
            .expect("run skiff image busybox");
        assert!(
            out.status.success(),
            "building the busybox image (needs Debian busybox-static): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let (net, claim) = claim_net(port);
        let mut c = Cluster {
            dir,
            port,
            child: None,
            kubelet_port: Some(free_port()),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            net,
            net_claim: Some(claim),
        };
        c.boot();
        let node = c.node_name();
        c.wait_for(
            &format!("node {node} Ready"),
            Duration::from_secs(60),
            || {
                c.kubectl(&[
                    "get",
                    "node",
                    &node,
                    "-o",
                    "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
                ])
                .stdout
                    == b"True"
            },
        );
        c
    }

    /// The server's data folder.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The local agent's node name.
    pub fn node_name(&self) -> String {
        format!("node-{}", self.port)
    }

    /// The agent's containerd socket.
    pub fn containerd_socket(&self) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        // as skiff_kubelet::containerd::Layout: /run/skiff/<first 4 bytes of sha256(agent dir)>
        let agent = self.dir.path().join("agent");
        let out = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(agent.as_os_str().as_bytes())?;
                c.wait_with_output()
            })
            .expect("sha256sum");
        let hex = String::from_utf8_lossy(&out.stdout)[..8].to_string();
        PathBuf::from(format!("/run/skiff/{hex}/containerd.sock"))
    }

    fn boot(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
        cmd.args([
            "server",
            "--bind-address",
            "127.0.0.1",
            "--https-port",
            &self.port.to_string(),
            "--data-dir",
        ])
        .arg(self.dir.path());
        match self.kubelet_port {
            None => {
                cmd.arg("--disable-agent");
            }
            Some(kp) => {
                // clusters of parallel tests share the host: each gets its own pod range
                // and bridge
                let net = self.net;
                cmd.args(["--node-name", &self.node_name(), "--node-ip", "127.0.0.1"])
                    .args(["--kubelet-port", &kp.to_string()])
                    .args(["--cluster-cidr", &format!("10.{net}.0.0/16")])
                    .args(["--cni-bridge", &format!("sk{}", self.port)]);
            }
        }
        cmd.args(&self.extra);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn skiff server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.kubeconfig().exists() {
                let out = self.kubectl(&["get", "--raw", "/readyz"]);
                if out.status.success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "server not ready; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL) and starts it again on the same data folder.
    pub fn restart(&mut self) {
        self.kill();
        self.boot();
    }

    /// Stops the server with SIGTERM (a clean shutdown) and starts it again with `extra`
    /// flags instead of the ones it had.
    pub fn restart_gracefully_with(&mut self, extra: &[&str]) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
        self.extra = extra.iter().map(|s| s.to_string()).collect();
        self.boot();
    }

    /// A reboot of the host, as the node sees it: the server is killed, every container and
    /// the agent's containerd stop (`skiff killall`), and the server starts again.
    pub fn reboot(&mut self) {
        self.kill();
        self.killall();
        self.boot();
    }

    fn killall(&self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["killall", "--data-dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Kills the server process.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The admin kubeconfig the server wrote.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig.yaml")
    }

    /// Runs kubectl with the cluster's kubeconfig.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_stdin(args, None)
    }

    /// Runs kubectl with text on its standard input.
    pub fn kubectl_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(kubectl_path());
        cmd.args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", self.dir.path())
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn kubectl");
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs kubectl, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {} failed:\nstdout: {}\nstderr: {}\nserver log tail:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log(), 30),
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `kubectl get ARGS -o jsonpath=PATH`, asserting success.
    pub fn jsonpath(&self, args: &[&str], path: &str) -> String {
        let output = format!("jsonpath={path}");
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", &output]);
        self.ok(&all)
    }

    /// Runs kubectl with stdin, asserts success, returns stdout.
    pub fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.kubectl_stdin(args, Some(stdin));
        assert!(
            out.status.success(),
            "kubectl {} failed:\nstdout: {}\nstderr: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs kubectl, asserts failure, returns stderr.
    pub fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kubectl_stdin(args, stdin);
        assert!(
            !out.status.success(),
            "kubectl {} unexpectedly succeeded: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kill();
        if self.kubelet_port.is_some() {
            // the pods' containers outlive the server: stop them and the agent's containerd
            self.killall();
        }
        if let Some(claim) = self.net_claim.take() {
            let _ = std::fs::remove_file(claim);
        }
    }
}

/// A `skiff sim nodes` process; killed on drop (its nodes stop heartbeating).
pub struct SimNodes {
    child: Option<Child>,
    pub prefix: String,
    pub count: usize,
}

impl SimNodes {
    /// Kills the process: its nodes stop renewing their Leases.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The node names this process runs.
    pub fn names(&self) -> Vec<String> {
        (0..self.count)
            .map(|i| format!("{}{i}", self.prefix))
            .collect()
    }
}

impl Drop for SimNodes {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Cluster {
    /// Starts `count` simulated nodes named `<prefix><i>` and waits until they are Ready.
    pub fn sim_nodes(&self, count: usize, prefix: &str) -> SimNodes {
        let log = std::fs::File::create(self.dir.path().join(format!("sim-{prefix}log"))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["sim", "nodes", "--kubeconfig"])
            .arg(self.kubeconfig())
            .args(["--count", &count.to_string(), "--name-prefix", prefix])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn skiff sim nodes");
        let sim = SimNodes {
            child: Some(child),
            prefix: prefix.to_string(),
            count,
        };
        for name in sim.names() {
            self.wait_for(
                &format!("node {name} Ready"),
                Duration::from_secs(60),
                || {
                    let out = self.kubectl(&[
                        "get",
                        "node",
                        &name,
                        "-o",
                        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
                    ]);
                    String::from_utf8_lossy(&out.stdout) == "True"
                },
            );
        }
        sim
    }

    /// Polls `check` every 200 ms until it holds; panics with `what` and the server log
    /// after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !check() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; server log tail:\n{}",
                tail(&self.log(), 40)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
