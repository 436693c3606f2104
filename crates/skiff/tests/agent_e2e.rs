//! End-to-end: `skiff server` with its local node agent on real containerd, driven by real
//! kubectl. Needs root and Debian's containerd, runc, containernetworking-plugins and
//! busybox-static (scripts/test.sh installs them).

mod support;

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Cluster, BUSYBOX};

const WAIT: Duration = Duration::from_secs(90);

fn pod(c: &Cluster, name: &str) -> Value {
    serde_json::from_str(&c.ok(&["get", "pod", name, "-o", "json"])).unwrap()
}

fn phase(c: &Cluster, name: &str) -> String {
    c.jsonpath(&["pod", name], "{.status.phase}")
}

fn wait_ready(c: &Cluster, name: &str) {
    c.wait_for(&format!("pod {name} Ready"), WAIT, || {
        c.kubectl(&[
            "get",
            "pod",
            name,
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ])
        .stdout
            == b"True"
    });
}

fn apply(c: &Cluster, yaml: &str) {
    c.ok_stdin(&["apply", "-f", "-"], yaml);
}

/// The waiting reason of the pod's first container, if it waits.
fn waiting_reason(c: &Cluster, name: &str) -> String {
    c.jsonpath(
        &["pod", name],
        "{.status.containerStatuses[0].state.waiting.reason}",
    )
}

/// The body of `GET /` at `addr` (HTTP/1.0), if it answers 200.
fn http_get(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    let code = head.split_whitespace().nth(1)?;
    (code == "200").then(|| body.to_string())
}

#[test]
fn a_deployment_runs_and_serves_logs_exec_port_forward_and_cp() {
    let c = Cluster::start_with_agent();
    c.ok(&[
        "create",
        "deployment",
        "web",
        &format!("--image={BUSYBOX}"),
        "--",
        "sh",
        "-c",
        "echo hello > /var/www/index.html; echo started; exec httpd -f -v -p 8080 -h /var/www",
    ]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    let name = c.ok(&[
        "get",
        "pod",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);
    let p = pod(&c, &name);
    assert_eq!(p["status"]["phase"], "Running");
    assert_eq!(p["status"]["qosClass"], "BestEffort");
    assert_eq!(p["status"]["hostIP"], "127.0.0.1");
    let ip = p["status"]["podIP"].as_str().unwrap().to_string();
    let net = c.net;
    assert!(
        ip.starts_with(&format!("10.{net}.0.")),
        "pod IP {ip} from the node's pod CIDR"
    );
    let cs = &p["status"]["containerStatuses"][0];
    assert_eq!(cs["ready"], true);
    assert_eq!(cs["started"], true);
    assert!(cs["containerID"]
        .as_str()
        .unwrap()
        .starts_with("containerd://"));
    assert!(cs["imageID"].as_str().unwrap().contains("sha256:"));

    // the node reports what the host has
    let node: Value =
        serde_json::from_str(&c.ok(&["get", "node", &c.node_name(), "-o", "json"])).unwrap();
    let st = &node["status"];
    assert!(st["capacity"]["ephemeral-storage"]
        .as_str()
        .unwrap()
        .ends_with("Ki"));
    assert_eq!(
        st["nodeInfo"]["containerRuntimeVersion"]
            .as_str()
            .unwrap()
            .split("://")
            .next(),
        Some("containerd")
    );
    // pressure is measured (this host may really be short of something): each condition's
    // reason must match its status, with upstream's wording
    let expected = [
        (
            "MemoryPressure",
            "KubeletHasSufficientMemory",
            "KubeletHasInsufficientMemory",
        ),
        (
            "DiskPressure",
            "KubeletHasNoDiskPressure",
            "KubeletHasDiskPressure",
        ),
        (
            "PIDPressure",
            "KubeletHasSufficientPID",
            "KubeletHasInsufficientPID",
        ),
        ("Ready", "KubeletReady", "KubeletReady"),
    ];
    let conds = st["conditions"].as_array().unwrap();
    assert_eq!(conds.len(), expected.len());
    for (c, (kind, calm, short)) in conds.iter().zip(expected) {
        assert_eq!(c["type"], kind);
        let want = if c["status"] == "True" && kind != "Ready" {
            short
        } else {
            calm
        };
        assert_eq!(c["reason"], want, "{kind}");
    }
    assert_eq!(conds[3]["status"], "True");

    // the pod is reachable on its IP from the node (CNI bridge)
    assert_eq!(http_get(&format!("{ip}:8080")).as_deref(), Some("hello\n"));

    // logs
    assert!(c.ok(&["logs", &name]).contains("started"));
    let out = c.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 0",
    ]);
    assert_eq!(out, "out\n");
    let failed = c.kubectl(&["exec", &name, "--", "sh", "-c", "exit 3"]);
    assert_eq!(
        failed.status.code(),
        Some(3),
        "exec passes the exit code on"
    );
    let echoed = c.ok_stdin(&["exec", "-i", &name, "--", "cat"], "through stdin\n");
    assert_eq!(echoed, "through stdin\n");
    // kubectl speaks WebSocket v5 (no SPDY fallback); the end of stdin reaches the process
    let v5 = c.kubectl_stdin(
        &[
            "exec",
            "-i",
            "-v=4",
            &name,
            "--",
            "sh",
            "-c",
            "wc -l; echo err >&2",
        ],
        Some("a\nb\nc\n"),
    );
    let log = String::from_utf8_lossy(&v5.stderr);
    assert!(
        log.contains("The subprotocol is v5.channel.k8s.io") && !log.contains("fallback"),
        "{log}"
    );
    assert_eq!(String::from_utf8_lossy(&v5.stdout), "3\n");
    assert!(log.lines().any(|l| l == "err"), "stderr passed on: {log}");

    // logs -f streams what the container writes while it runs
    let mut follow = Command::new(support::kubectl_path())
        .args(["logs", "-f", &name])
        .env("KUBECONFIG", c.kubeconfig())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let busybox_url = "http://127.0.0.1:8080/";
    c.ok(&["exec", &name, "--", "wget", "-qO-", busybox_url]);
    // read on a thread so a silent stream cannot hang the test
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let mut stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&buf[..n]).to_string())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut seen = String::new();
    let deadline = Instant::now() + WAIT;
    while !seen.contains("response:200") && Instant::now() < deadline {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(500)) {
            seen.push_str(&chunk);
        }
    }
    let _ = follow.kill();
    let _ = follow.wait();
    assert!(
        seen.contains("started") && seen.contains("response:200"),
        "followed: {seen}"
    );
    let tail = c.ok(&["logs", &name, "--tail=1", "--timestamps"]);
    assert_eq!(tail.lines().count(), 1);
    assert!(tail.starts_with("20"), "timestamped: {tail}");

    // port-forward, then an HTTP request through it
    let local = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // -v=4 makes kubectl say when it falls back from the WebSocket tunnel to plain SPDY
    let pf_log = c.dir.path().join("port-forward.log");
    let mut pf = Command::new(support::kubectl_path())
        .args([
            "port-forward",
            "-v=4",
            &format!("pod/{name}"),
            &format!("{local}:8080"),
        ])
        .env("KUBECONFIG", c.kubeconfig())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&pf_log).unwrap())
        .spawn()
        .unwrap();
    let mut got = String::new();
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Some(body) = http_get(&format!("127.0.0.1:{local}")) {
            got = body;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = pf.kill();
    let _ = pf.wait();
    assert_eq!(got, "hello\n");
    let log = std::fs::read_to_string(&pf_log).unwrap();
    assert!(
        !log.contains("fallback to secondary dialer"),
        "port-forward went over SPDY, not the WebSocket tunnel:\n{log}"
    );

    // cp in and out
    let file = c.dir.path().join("in.txt");
    std::fs::write(&file, "copied in\n").unwrap();
    c.ok(&["cp", file.to_str().unwrap(), &format!("{name}:/tmp/in.txt")]);
    assert_eq!(
        c.ok(&["exec", &name, "--", "cat", "/tmp/in.txt"]),
        "copied in\n"
    );
    let back = c.dir.path().join("out.html");
    c.ok(&[
        "cp",
        &format!("{name}:/var/www/index.html"),
        back.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(back).unwrap(), "hello\n");

    // errors come back as Status with upstream's messages
    let err = c.fails(&["logs", &name, "--previous"], None);
    assert!(err.contains("previous terminated container"), "{err}");
    let err = c.fails(&["logs", &name, "-c", "nope"], None);
    assert!(err.contains("container nope is not valid"), "{err}");
}

#[test]
fn probes_restart_and_flip_readiness() {
    let c = Cluster::start_with_agent();
    apply(
        &c,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: probed}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: {BUSYBOX}
    command: [sh, -c, "touch /tmp/ready /tmp/alive; mkdir -p /www; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www"]
    readinessProbe:
      exec: {{command: [cat, /tmp/ready]}}
      periodSeconds: 1
      failureThreshold: 1
    livenessProbe:
      exec: {{command: [cat, /tmp/alive]}}
      periodSeconds: 1
      failureThreshold: 2
    startupProbe:
      httpGet: {{path: /index.html, port: 8080}}
      periodSeconds: 1
"#
        ),
    );
    wait_ready(&c, "probed");
    assert_eq!(
        c.jsonpath(&["pod", "probed"], "{.status.containerStatuses[0].started}"),
        "true"
    );
    // readiness fails: Ready goes False, the container keeps running
    c.ok(&["exec", "probed", "--", "rm", "/tmp/ready"]);
    c.wait_for("pod not ready", WAIT, || {
        c.jsonpath(
            &["pod", "probed"],
            "{.status.conditions[?(@.type==\"Ready\")].status}",
        ) == "False"
    });
    assert_eq!(
        c.jsonpath(
            &["pod", "probed"],
            "{.status.containerStatuses[0].restartCount}"
        ),
        "0"
    );
    c.ok(&["exec", "probed", "--", "touch", "/tmp/ready"]);
    wait_ready(&c, "probed");
    // liveness fails: the container is killed and restarted
    c.ok(&["exec", "probed", "--", "rm", "/tmp/alive"]);
    c.wait_for("a restart", WAIT, || {
        c.jsonpath(
            &["pod", "probed"],
            "{.status.containerStatuses[0].restartCount}",
        ) == "1"
    });
    let last = c.jsonpath(
        &["pod", "probed"],
        "{.status.containerStatuses[0].lastState.terminated.reason}",
    );
    assert_eq!(last, "Error", "killed by the liveness probe");
    // the new run has /tmp/alive again (the command recreates it) and becomes Ready
    wait_ready(&c, "probed");

    // a crashing container backs off: CrashLoopBackOff, restartCount grows
    c.ok(&[
        "run",
        "crash",
        &format!("--image={BUSYBOX}"),
        "--",
        "sh",
        "-c",
        "exit 1",
    ]);
    c.wait_for("CrashLoopBackOff", WAIT, || {
        waiting_reason(&c, "crash") == "CrashLoopBackOff"
    });
    let restarts: i64 = c
        .jsonpath(
            &["pod", "crash"],
            "{.status.containerStatuses[0].restartCount}",
        )
        .parse()
        .unwrap();
    assert!(restarts >= 1);
    let message = c.jsonpath(
        &["pod", "crash"],
        "{.status.containerStatuses[0].state.waiting.message}",
    );
    assert!(
        message.starts_with("back-off 10s restarting failed container=crash"),
        "{message}"
    );
}

#[test]
fn config_maps_secrets_empty_dirs_and_init_containers_reach_the_containers() {
    let c = Cluster::start_with_agent();
    apply(
        &c,
        &format!(
            r#"
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{greeting: hello, colour: blue}}
---
apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData: {{password: s3cret}}
---
apiVersion: v1
kind: Pod
metadata: {{name: mixed, labels: {{tier: back}}}}
spec:
  restartPolicy: Never
  initContainers:
  - name: first
    image: {BUSYBOX}
    command: [sh, -c, "echo first >> /shared/order"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  - name: second
    image: {BUSYBOX}
    command: [sh, -c, "echo second >> /shared/order"]
    volumeMounts: [{{name: shared, mountPath: /shared}}]
  containers:
  - name: writer
    image: {BUSYBOX}
    command: [sh, -c, "echo \"$GREETING $PASSWORD $POD_NAME $TIER $CFG_colour\" > /shared/env; cat /config/greeting /secret/password > /shared/files; sleep 3600"]
    env:
    - {{name: GREETING, valueFrom: {{configMapKeyRef: {{name: settings, key: greeting}}}}}}
    - {{name: PASSWORD, valueFrom: {{secretKeyRef: {{name: creds, key: password}}}}}}
    - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
    - {{name: TIER, valueFrom: {{fieldRef: {{fieldPath: "metadata.labels['tier']"}}}}}}
    envFrom:
    - {{prefix: CFG_, configMapRef: {{name: settings}}}}
    volumeMounts:
    - {{name: shared, mountPath: /shared}}
    - {{name: config, mountPath: /config}}
    - {{name: secret, mountPath: /secret}}
  - name: reader
    image: {BUSYBOX}
    command: [sleep, "3600"]
    volumeMounts:
    - {{name: shared, mountPath: /data}}
    - {{name: mem, mountPath: /mem}}
  volumes:
  - {{name: shared, emptyDir: {{}}}}
  - {{name: mem, emptyDir: {{medium: Memory}}}}
  - {{name: config, configMap: {{name: settings}}}}
  - {{name: secret, secret: {{secretName: creds}}}}
"#
        ),
    );
    wait_ready(&c, "mixed");
    let read = |path: &str| c.ok(&["exec", "mixed", "-c", "reader", "--", "cat", path]);
    c.wait_for("the writer's files", WAIT, || {
        c.kubectl(&["exec", "mixed", "-c", "reader", "--", "cat", "/data/files"])
            .status
            .success()
    });
    assert_eq!(
        read("/data/order"),
        "first\nsecond\n",
        "init containers ran in order"
    );
    assert_eq!(read("/data/env"), "hello s3cret mixed back blue\n");
    assert_eq!(read("/data/files"), "hellos3cret");
    let mounts = c.ok(&[
        "exec",
        "mixed",
        "-c",
        "reader",
        "--",
        "grep",
        " /mem ",
        "/proc/mounts",
    ]);
    assert!(
        mounts.contains("tmpfs"),
        "medium: Memory is a tmpfs: {mounts}"
    );
    // a ConfigMap update reaches the mounted file
    c.ok(&[
        "patch",
        "configmap",
        "settings",
        "-p",
        r#"{"data":{"greeting":"updated"}}"#,
    ]);
    c.wait_for("the update in the volume", WAIT, || {
        c.kubectl(&[
            "exec",
            "mixed",
            "-c",
            "writer",
            "--",
            "cat",
            "/config/greeting",
        ])
        .stdout
            == b"updated"
    });
    let init = pod(&c, "mixed")["status"]["initContainerStatuses"].clone();
    assert_eq!(init[0]["state"]["terminated"]["reason"], "Completed");
    assert_eq!(init[1]["state"]["terminated"]["reason"], "Completed");
}

#[test]
fn jobs_complete_and_unknown_images_back_off() {
    let c = Cluster::start_with_agent();
    c.ok(&[
        "create",
        "job",
        "once",
        &format!("--image={BUSYBOX}"),
        "--",
        "sh",
        "-c",
        "echo done",
    ]);
    c.ok(&[
        "wait",
        "--for=condition=complete",
        "job/once",
        "--timeout=90s",
    ]);
    let name = c.ok(&[
        "get",
        "pod",
        "-l",
        "job-name=once",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);
    assert_eq!(phase(&c, &name), "Succeeded");
    assert_eq!(
        c.jsonpath(
            &["pod", &name],
            "{.status.containerStatuses[0].state.terminated.reason}"
        ),
        "Completed"
    );
    assert_eq!(c.ok(&["logs", &name]), "done\n");

    c.ok(&["run", "ghost", "--image=127.0.0.1:1/does-not-exist:1"]);
    c.wait_for("ErrImagePull", WAIT, || {
        waiting_reason(&c, "ghost") == "ErrImagePull"
    });
    c.wait_for("ImagePullBackOff", WAIT, || {
        waiting_reason(&c, "ghost") == "ImagePullBackOff"
    });
    assert_eq!(phase(&c, "ghost"), "Pending");

    c.ok(&[
        "run",
        "never",
        &format!("--image={BUSYBOX}-absent"),
        "--image-pull-policy=Never",
    ]);
    c.wait_for("ErrImageNeverPull", WAIT, || {
        waiting_reason(&c, "never") == "ErrImageNeverPull"
    });
}

fn running_with_arg(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == marker.as_bytes()))
    })
}

#[test]
fn deleting_a_pod_stops_its_processes_within_the_grace_period() {
    let c = Cluster::start_with_agent();
    // PID 1 ignores SIGTERM: the kill comes when the grace period ends
    let marker = format!("9{}77", c.port);
    c.ok(&[
        "run",
        "stubborn",
        &format!("--image={BUSYBOX}"),
        "--",
        "sleep",
        &marker,
    ]);
    wait_ready(&c, "stubborn");
    assert!(running_with_arg(&marker));
    // a BestEffort pod lives in the besteffort branch of the QoS cgroup hierarchy
    assert_eq!(
        c.jsonpath(&["pod", "stubborn"], "{.status.qosClass}"),
        "BestEffort"
    );
    let uid = c.jsonpath(&["pod", "stubborn"], "{.metadata.uid}");
    let cgroups = c.ok(&["exec", "stubborn", "--", "cat", "/proc/self/cgroup"]);
    let parent = format!("/kubepods/besteffort/pod{uid}/");
    assert!(
        cgroups.lines().any(|l| l.contains(&parent)),
        "{parent} in {cgroups}"
    );
    let pod_cgroup = cgroup_dirs(&parent);
    assert!(!pod_cgroup.is_empty(), "no folder for {parent}");
    let started = Instant::now();
    c.ok(&["delete", "pod", "stubborn", "--grace-period=2"]);
    let took = started.elapsed();
    assert!(
        !running_with_arg(&marker),
        "the container's process is gone once the pod is"
    );
    assert!(
        took >= Duration::from_secs(2),
        "the grace period was honoured ({took:?})"
    );
    assert!(c
        .fails(&["get", "pod", "stubborn"], None)
        .contains("NotFound"));
    c.wait_for("the pod's cgroups removed", WAIT, || {
        pod_cgroup.iter().all(|d| !d.exists())
    });
}

/// The folders of a cgroup path in every hierarchy mounted here (v1: one per controller).
fn cgroup_dirs(path: &str) -> Vec<std::path::PathBuf> {
    let base = std::path::Path::new("/sys/fs/cgroup");
    let rel = path.trim_matches('/');
    let mut out: Vec<_> = std::fs::read_dir(base)
        .unwrap()
        .flatten()
        .map(|e| e.path().join(rel))
        .filter(|p| p.is_dir())
        .collect();
    if base.join(rel).is_dir() {
        out.push(base.join(rel));
    }
    out
}

#[test]
fn the_agent_adopts_its_containers_after_kill_9() {
    let mut c = Cluster::start_with_agent();
    c.ok(&[
        "run",
        "keeper",
        &format!("--image={BUSYBOX}"),
        "--",
        "sleep",
        "3600",
    ]);
    wait_ready(&c, "keeper");
    let before = c.jsonpath(
        &["pod", "keeper"],
        "{.status.containerStatuses[0].containerID}",
    );
    c.restart();
    // the node agent comes back, finds the container and leaves it alone
    std::thread::sleep(Duration::from_secs(3));
    wait_ready(&c, "keeper");
    let after = c.jsonpath(
        &["pod", "keeper"],
        "{.status.containerStatuses[0].containerID}",
    );
    assert_eq!(before, after);
    assert_eq!(
        c.jsonpath(
            &["pod", "keeper"],
            "{.status.containerStatuses[0].restartCount}"
        ),
        "0"
    );
    let out = Command::new("ctr")
        .arg("--address")
        .arg(c.containerd_socket())
        .args(["-n", "k8s.io", "tasks", "ls"])
        .output()
        .unwrap();
    let tasks = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        tasks.lines().filter(|l| l.contains("RUNNING")).count(),
        2,
        "sandbox + container, no duplicates:\n{tasks}"
    );
}

#[test]
fn pods_recover_after_a_reboot_like_restart() {
    let mut c = Cluster::start_with_agent();
    let marker = format!("8{}33", c.port);
    c.ok(&[
        "run",
        "survivor",
        &format!("--image={BUSYBOX}"),
        "--",
        "sleep",
        &marker,
    ]);
    c.ok(&[
        "run",
        "finished",
        "--restart=Never",
        &format!("--image={BUSYBOX}"),
        "--",
        "true",
    ]);
    wait_ready(&c, "survivor");
    c.wait_for("finished Succeeded", WAIT, || {
        phase(&c, "finished") == "Succeeded"
    });
    let before = c.jsonpath(
        &["pod", "survivor"],
        "{.status.containerStatuses[0].containerID}",
    );
    // containers, sandboxes, containerd and the server all go, as in a reboot
    c.reboot();
    assert!(
        !running_with_arg(&marker),
        "the reboot stopped the container"
    );
    c.wait_for("survivor running again", WAIT, || {
        running_with_arg(&marker)
            && c.jsonpath(
                &["pod", "survivor"],
                "{.status.containerStatuses[0].containerID}",
            ) != before
    });
    wait_ready(&c, "survivor");
    assert_eq!(phase(&c, "survivor"), "Running");
    assert!(!c
        .jsonpath(&["pod", "survivor"], "{.status.podIP}")
        .is_empty());
    // a pod that had finished stays finished (restartPolicy Never)
    assert_eq!(phase(&c, "finished"), "Succeeded");
    c.ok(&["exec", "survivor", "--", "true"]);
}

#[test]
fn attach_streams_a_running_container() {
    let c = Cluster::start_with_agent();
    apply(
        &c,
        &format!(
            r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "echo"}},
                "spec": {{"terminationGracePeriodSeconds": 1, "containers": [{{"name": "c", "image": "{BUSYBOX}",
                  "stdin": true, "command": ["sh", "-c", "echo ready; while read l; do echo got $l; done"]}}]}}}}"#
        ),
    );
    wait_ready(&c, "echo");
    // `kubectl attach -i` feeds our line to the container's stdin and shows its answer
    let attach_log = c.data_dir().join("attach.log");
    let mut child = Command::new(support::kubectl_path())
        .args(["attach", "-i", "-v=4", "echo", "-c", "c"])
        .env("KUBECONFIG", c.kubeconfig())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&attach_log).unwrap())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while Instant::now() < deadline && !seen.iter().any(|l: &String| l == "got hello") {
        use std::io::Write;
        let _ = writeln!(stdin, "hello");
        if let Ok(l) = rx.recv_timeout(Duration::from_secs(1)) {
            seen.push(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.iter().any(|l| l == "got hello"),
        "attach output: {seen:?}"
    );
    assert!(c.ok(&["logs", "echo"]).contains("got hello"));
    let log = std::fs::read_to_string(&attach_log).unwrap();
    assert!(
        log.contains("The subprotocol is v5.channel.k8s.io") && !log.contains("fallback"),
        "attach over WebSocket v5: {log}"
    );
}

#[test]
fn a_second_agent_joins_with_the_token_and_runs_pods() {
    let c = Cluster::start_with_agent();
    let token = std::fs::read_to_string(c.dir.path().join("node-token")).unwrap();
    let server = format!("https://127.0.0.1:{}", c.port);
    let agent_dir = tempfile::tempdir().unwrap();
    let images = agent_dir.path().join("agent/images");
    std::fs::create_dir_all(&images).unwrap();
    std::fs::copy(
        c.dir.path().join("agent/images/busybox.tar"),
        images.join("busybox.tar"),
    )
    .unwrap();
    let kubelet_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let agent = |token: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skiff"));
        cmd.args(["agent", "--server", &server, "--token", token, "--data-dir"])
            .arg(agent_dir.path())
            .args(["--node-name", "second", "--node-ip", "127.0.0.1"])
            .args(["--cni-bridge", &format!("sk{kubelet_port}")])
            .args(["--kubelet-port", &kubelet_port.to_string()]);
        cmd
    };
    let refused = agent("skiff::server:wrong").output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("refused the token"), "{stderr}");
    // the token pins the CA: a server with another CA is not trusted, whatever the secret
    let (pin, secret) = token.trim().split_once("::").unwrap();
    assert!(pin.starts_with("K10") && pin.len() == 3 + 64, "{pin}");
    let other_ca = format!("K10{}::{secret}", "0".repeat(64));
    let distrusted = agent(&other_ca).output().unwrap();
    assert!(!distrusted.status.success());
    let stderr = String::from_utf8_lossy(&distrusted.stderr);
    assert!(stderr.contains("is not the one the token pins"), "{stderr}");

    let log = std::fs::File::create(agent_dir.path().join("agent.log")).unwrap();
    let mut child = agent(token.trim())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    struct Cleanup<'a>(&'a mut std::process::Child, &'a std::path::Path);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
            let _ = Command::new(env!("CARGO_BIN_EXE_skiff"))
                .args(["killall", "--data-dir"])
                .arg(self.1)
                .status();
        }
    }
    let _cleanup = Cleanup(&mut child, agent_dir.path());
    c.wait_for("node second Ready", WAIT, || {
        c.kubectl(&[
            "get",
            "node",
            "second",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ])
        .stdout
            == b"True"
    });
    apply(
        &c,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: there}}
spec:
  nodeName: second
  containers:
  - {{name: app, image: {BUSYBOX}, command: [sh, -c, "echo on $NODE; sleep 3600"], env: [{{name: NODE, valueFrom: {{fieldRef: {{fieldPath: spec.nodeName}}}}}}]}}
"#
        ),
    );
    wait_ready(&c, "there");
    let p = pod(&c, "there");
    let net = c.net;
    let ip = p["status"]["podIP"].as_str().unwrap();
    assert!(
        ip.starts_with(&format!("10.{net}.1.")),
        "the second node's pod CIDR: {ip}"
    );
    c.wait_for("its log", WAIT, || {
        c.kubectl(&["logs", "there"]).stdout == b"on second\n"
    });
    assert_eq!(c.ok(&["exec", "there", "--", "echo", "hi"]), "hi\n");
}

#[test]
fn security_contexts_host_network_and_lifecycle_hooks_apply() {
    let c = Cluster::start_with_agent();
    let hooks_dir = c.dir.path().join("hooks");
    std::fs::create_dir_all(&hooks_dir).unwrap();
    apply(
        &c,
        &format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: locked}}
spec:
  securityContext: {{runAsUser: 1000, runAsGroup: 2000}}
  containers:
  - name: app
    image: {BUSYBOX}
    command: [sh, -c, "sleep 3600"]
    securityContext:
      readOnlyRootFilesystem: true
      capabilities: {{drop: [ALL]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: hostnet}}
spec:
  hostNetwork: true
  containers:
  - {{name: app, image: {BUSYBOX}, command: [sleep, "3600"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: hooked}}
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: app
    image: {BUSYBOX}
    command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 1; done"]
    volumeMounts: [{{name: out, mountPath: /out}}]
    lifecycle:
      postStart: {{exec: {{command: [sh, -c, "echo post > /out/post"]}}}}
      preStop: {{exec: {{command: [sh, -c, "echo pre > /out/pre"]}}}}
  volumes:
  - {{name: out, hostPath: {{path: {hooks}, type: Directory}}}}
"#,
            hooks = hooks_dir.display()
        ),
    );
    for p in ["locked", "hostnet", "hooked"] {
        wait_ready(&c, p);
    }
    assert_eq!(c.ok(&["exec", "locked", "--", "id", "-u"]), "1000\n");
    assert_eq!(c.ok(&["exec", "locked", "--", "id", "-g"]), "2000\n");
    let touch = c.kubectl(&["exec", "locked", "--", "touch", "/x"]);
    assert!(!touch.status.success(), "the root filesystem is read-only");
    let caps = c.ok(&[
        "exec",
        "locked",
        "--",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    assert!(
        caps.trim().ends_with("0000000000000000"),
        "every capability dropped: {caps}"
    );

    // a host-network pod has the node's IP and sees the host's interfaces
    assert_eq!(
        c.jsonpath(&["pod", "hostnet"], "{.status.podIP}"),
        "127.0.0.1"
    );
    let links = c.ok(&["exec", "hostnet", "--", "ip", "-o", "link"]);
    assert!(
        links.contains(&format!("sk{}", c.port)),
        "the node's bridge is visible: {links}"
    );

    assert_eq!(
        std::fs::read_to_string(hooks_dir.join("post")).unwrap(),
        "post\n"
    );
    c.ok(&["delete", "pod", "hooked"]);
    assert_eq!(
        std::fs::read_to_string(hooks_dir.join("pre")).unwrap(),
        "pre\n"
    );
}

/// A Debian `docker-registry` on a loopback port; killed on drop.
struct Registry {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog: {{level: error}}\nstorage: {{filesystem: {{rootdirectory: {}}}}}\nhttp: {{addr: 127.0.0.1:{port}}}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian package docker-registry)");
        let r = Registry {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    /// Pushes an OCI archive as `repo:tag` with skopeo.
    fn push(&self, archive: &std::path::Path, repo_tag: &str) {
        let out = Command::new("skopeo")
            .args(["copy", "--dest-tls-verify=false"])
            .arg(format!("oci-archive:{}", archive.display()))
            .arg(format!("docker://127.0.0.1:{}/{repo_tag}", self.port))
            .output()
            .expect("skopeo (Debian package skopeo)");
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn images_are_pulled_from_a_registry_directly_and_through_a_mirror() {
    let registry = Registry::start();
    let scratch = tempfile::tempdir().unwrap();
    let archive = scratch.path().join("pushed.tar");
    let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args([
            "image",
            "busybox",
            "--name",
            "skiff.local/pushed:1",
            "--out",
        ])
        .arg(&archive)
        .output()
        .unwrap();
    assert!(out.status.success());
    registry.push(&archive, "test/pushed:1");
    registry.push(&archive, "library/mirrored:1");
    let registries = scratch.path().join("registries.yaml");
    std::fs::write(
        &registries,
        format!(
            "mirrors:\n  docker.io:\n    endpoint: [\"http://127.0.0.1:{}\"]\n",
            registry.port
        ),
    )
    .unwrap();
    let c = Cluster::start_with_agent_args(&["--private-registry", registries.to_str().unwrap()]);
    let direct = format!("127.0.0.1:{}/test/pushed:1", registry.port);
    c.ok(&[
        "run",
        "direct",
        &format!("--image={direct}"),
        "--",
        "sleep",
        "3600",
    ]);
    c.ok(&[
        "run",
        "mirrored",
        "--image=docker.io/library/mirrored:1",
        "--",
        "sleep",
        "3600",
    ]);
    wait_ready(&c, "direct");
    wait_ready(&c, "mirrored");
    for p in ["direct", "mirrored"] {
        let id = c.jsonpath(&["pod", p], "{.status.containerStatuses[0].imageID}");
        assert!(id.contains("sha256:"), "{p}: {id}");
    }
    // Always pulls again, and still finds the image
    c.ok(&[
        "run",
        "always",
        &format!("--image={direct}"),
        "--image-pull-policy=Always",
        "--",
        "sleep",
        "3600",
    ]);
    wait_ready(&c, "always");
}

fn jsonpath_of(c: &Cluster, kind: &str, name: &str, path: &str) -> String {
    c.jsonpath(&[kind, name], path)
}

#[test]
fn claims_get_local_path_volumes_that_outlive_pods_and_go_with_the_claim() {
    let c = Cluster::start_with_agent();
    let node = c.node_name();
    let classes = c.ok(&["get", "storageclass"]);
    assert!(
        classes.contains("local-path (default)")
            && classes.contains("rancher.io/local-path")
            && classes.contains("WaitForFirstConsumer"),
        "{classes}"
    );

    // a claim without a class gets the default and waits for its first consumer
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}}"#,
    );
    assert_eq!(
        jsonpath_of(&c, "pvc", "data", "{.spec.storageClassName}"),
        "local-path"
    );
    c.wait_for("the WaitForFirstConsumer event", WAIT, || {
        c.ok(&["get", "events", "--field-selector=involvedObject.name=data"])
            .contains("waiting for first consumer to be created before binding")
    });
    assert_eq!(jsonpath_of(&c, "pvc", "data", "{.status.phase}"), "Pending");

    let pod_with_claim = |name: &str, script: &str| {
        format!(
            r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "{name}"}},
                "spec": {{"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                  "containers": [{{"name": "c", "image": "{BUSYBOX}", "command": ["sh", "-c", "{script}"],
                                   "volumeMounts": [{{"name": "d", "mountPath": "/data"}}]}}],
                  "volumes": [{{"name": "d", "persistentVolumeClaim": {{"claimName": "data"}}}}]}}}}"#
        )
    };
    apply(&c, &pod_with_claim("writer", "echo kept > /data/file"));
    c.wait_for("writer Succeeded", WAIT, || {
        phase(&c, "writer") == "Succeeded"
    });
    assert_eq!(jsonpath_of(&c, "pvc", "data", "{.status.phase}"), "Bound");
    assert_eq!(
        jsonpath_of(
            &c,
            "pvc",
            "data",
            "{.metadata.annotations.volume\\.kubernetes\\.io/selected-node}"
        ),
        node
    );
    let uid = jsonpath_of(&c, "pvc", "data", "{.metadata.uid}");
    let volume = jsonpath_of(&c, "pvc", "data", "{.spec.volumeName}");
    assert_eq!(volume, format!("pvc-{uid}"));
    assert_eq!(jsonpath_of(&c, "pv", &volume, "{.status.phase}"), "Bound");
    assert_eq!(
        jsonpath_of(&c, "pv", &volume, "{.spec.claimRef.name}"),
        "data"
    );
    assert_eq!(
        jsonpath_of(
            &c,
            "pv",
            &volume,
            "{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}"
        ),
        node
    );
    let folder = std::path::PathBuf::from(jsonpath_of(&c, "pv", &volume, "{.spec.hostPath.path}"));
    assert_eq!(
        folder.parent(),
        Some(c.data_dir().join("storage").as_path())
    );
    assert_eq!(
        std::fs::read_to_string(folder.join("file")).unwrap(),
        "kept\n"
    );

    // the data outlives the pod that wrote it
    apply(
        &c,
        &pod_with_claim("reader", "cat /data/file; exec sleep 3600"),
    );
    wait_ready(&c, "reader");
    assert_eq!(c.ok(&["logs", "reader"]), "kept\n");

    // a claim in use stays (Terminating) until its last pod goes; then its volume goes too
    c.ok(&["delete", "pvc", "data", "--wait=false"]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !jsonpath_of(&c, "pvc", "data", "{.metadata.deletionTimestamp}").is_empty(),
        "the claim in use must stay"
    );
    assert_eq!(
        jsonpath_of(&c, "pvc", "data", "{.metadata.finalizers[0]}"),
        "kubernetes.io/pvc-protection"
    );
    c.ok(&["delete", "pod", "reader", "writer"]);
    c.wait_for("the claim gone", WAIT, || {
        !c.kubectl(&["get", "pvc", "data"]).status.success()
    });
    c.wait_for("the volume gone", WAIT, || {
        !c.kubectl(&["get", "pv", &volume]).status.success()
    });
    assert!(!folder.exists(), "{} must be removed", folder.display());
}

#[test]
fn static_volumes_bind_at_once_are_retained_and_missing_claims_keep_pods_pending() {
    let c = Cluster::start_with_agent();
    let host = c.data_dir().join("static-volume");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("hello"), "static\n").unwrap();
    apply(
        &c,
        &format!(
            r#"{{"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {{"name": "manual-1"}},
                "spec": {{"capacity": {{"storage": "1Gi"}}, "accessModes": ["ReadWriteOnce"],
                         "storageClassName": "manual", "persistentVolumeReclaimPolicy": "Retain",
                         "hostPath": {{"path": "{}"}}}}}}"#,
            host.display()
        ),
    );
    c.wait_for("manual-1 Available", WAIT, || {
        jsonpath_of(&c, "pv", "manual-1", "{.status.phase}") == "Available"
    });
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "too-big"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                     "resources": {"requests": {"storage": "2Gi"}}}}"#,
    );
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "fits"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
                     "resources": {"requests": {"storage": "512Mi"}}}}"#,
    );
    // no class named "manual" exists, so binding is immediate and needs no pod
    c.wait_for("fits Bound", WAIT, || {
        jsonpath_of(&c, "pvc", "fits", "{.status.phase}") == "Bound"
    });
    assert_eq!(
        jsonpath_of(&c, "pvc", "fits", "{.spec.volumeName}"),
        "manual-1"
    );
    assert_eq!(
        jsonpath_of(&c, "pvc", "fits", "{.status.capacity.storage}"),
        "1Gi"
    );
    assert_eq!(
        jsonpath_of(&c, "pv", "manual-1", "{.status.phase}"),
        "Bound"
    );
    assert_eq!(
        jsonpath_of(&c, "pvc", "too-big", "{.status.phase}"),
        "Pending"
    );

    // a pod whose claim is unbound with immediate binding, or missing, is not scheduled
    let pod = |name: &str, claim: &str| {
        format!(
            r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "{name}"}},
                "spec": {{"terminationGracePeriodSeconds": 1,
                  "containers": [{{"name": "c", "image": "{BUSYBOX}", "command": ["sh", "-c", "cat /data/hello; exec sleep 3600"],
                                   "volumeMounts": [{{"name": "d", "mountPath": "/data"}}]}}],
                  "volumes": [{{"name": "d", "persistentVolumeClaim": {{"claimName": "{claim}"}}}}]}}}}"#
        )
    };
    apply(&c, &pod("unbound", "too-big"));
    apply(&c, &pod("missing", "nope"));
    let scheduled = |name: &str| {
        jsonpath_of(
            &c,
            "pod",
            name,
            "{.status.conditions[?(@.type==\"PodScheduled\")].message}",
        )
    };
    c.wait_for("unschedulable pods", WAIT, || {
        !scheduled("unbound").is_empty() && !scheduled("missing").is_empty()
    });
    assert_eq!(
        scheduled("unbound"),
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."
    );
    assert_eq!(
        scheduled("missing"),
        "0/1 nodes are available: persistentvolumeclaim \"nope\" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."
    );

    // the bound static volume serves a pod; released, it keeps its data (Retain)
    apply(&c, &pod("user", "fits"));
    wait_ready(&c, "user");
    assert_eq!(c.ok(&["logs", "user"]), "static\n");
    c.ok(&["delete", "pod", "user", "unbound", "missing"]);
    c.ok(&["delete", "pvc", "fits"]);
    c.wait_for("manual-1 Released", WAIT, || {
        jsonpath_of(&c, "pv", "manual-1", "{.status.phase}") == "Released"
    });
    assert!(host.join("hello").exists());
}

#[test]
fn docker_archives_import_and_grpc_probes_gate_readiness() {
    let c = Cluster::start_with_agent();
    // a docker-archive tarball (made from the OCI archive with skopeo) imports and runs
    let docker = c.data_dir().join("busybox-docker.tar");
    let out = Command::new("skopeo")
        .arg("copy")
        .arg(format!(
            "oci-archive:{}",
            c.data_dir().join("agent/images/busybox.tar").display()
        ))
        .arg(format!(
            "docker-archive:{}:skiff.local/busybox:docker",
            docker.display()
        ))
        .output()
        .expect("skopeo (Debian package skopeo)");
    assert!(
        out.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let import = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(["image", "import", "--data-dir"])
        .arg(c.data_dir())
        .arg(&docker)
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "skiff image import: {}",
        String::from_utf8_lossy(&import.stderr)
    );

    // a gRPC health server on the node; a host-network pod probes it
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (reporter, service) = rt.block_on(async {
        let (reporter, service) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("", tonic_health::ServingStatus::Serving)
            .await;
        (reporter, service)
    });
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    rt.spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve(addr),
    );
    apply(
        &c,
        &format!(
            r#"{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "grpc"}},
                "spec": {{"hostNetwork": true, "terminationGracePeriodSeconds": 1,
                  "containers": [{{"name": "c", "image": "skiff.local/busybox:docker",
                    "imagePullPolicy": "Never", "command": ["sleep", "3600"],
                    "readinessProbe": {{"grpc": {{"port": {port}}}, "periodSeconds": 1, "failureThreshold": 1}}}}]}}}}"#
        ),
    );
    wait_ready(&c, "grpc");
    assert_eq!(
        c.jsonpath(&["pod", "grpc"], "{.status.containerStatuses[0].image}"),
        "skiff.local/busybox:docker"
    );
    rt.block_on(reporter.set_service_status("", tonic_health::ServingStatus::NotServing));
    c.wait_for("grpc not ready once NOT_SERVING", WAIT, || {
        c.jsonpath(
            &["pod", "grpc"],
            "{.status.conditions[?(@.type==\"Ready\")].status}",
        ) == "False"
    });
    rt.block_on(reporter.set_service_status("", tonic_health::ServingStatus::Serving));
    wait_ready(&c, "grpc");
}

#[test]
fn services_get_endpoints_and_slices_from_their_ready_pods() {
    let c = Cluster::start_with_agent();
    apply(
        &c,
        &format!(
            r#"{{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {{"name": "web"}},
                "spec": {{"replicas": 2, "selector": {{"matchLabels": {{"app": "web"}}}},
                  "template": {{"metadata": {{"labels": {{"app": "web"}}}},
                    "spec": {{"terminationGracePeriodSeconds": 1, "containers": [{{"name": "c", "image": "{BUSYBOX}",
                      "command": ["sh", "-c", "touch /tmp/ready; exec httpd -f -p 8080 -h /tmp"],
                      "ports": [{{"name": "http", "containerPort": 8080}}],
                      "readinessProbe": {{"exec": {{"command": ["test", "-f", "/tmp/ready"]}}, "periodSeconds": 1, "failureThreshold": 1}}}}]}}}}}}}}"#
        ),
    );
    c.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    c.ok(&[
        "expose",
        "deployment",
        "web",
        "--port=80",
        "--target-port=http",
    ]);
    let addresses = |field: &str| {
        c.jsonpath(
            &["endpoints", "web"],
            &format!("{{.subsets[*].{field}[*].ip}}"),
        )
        .split_whitespace()
        .count()
    };
    c.wait_for("2 ready addresses", WAIT, || addresses("addresses") == 2);
    // the named target port resolved to the container port
    assert_eq!(
        c.jsonpath(&["endpoints", "web"], "{.subsets[0].ports[0].port}"),
        "8080"
    );
    let slice = || -> Value {
        let list: Value = serde_json::from_str(&c.ok(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "-o",
            "json",
        ]))
        .unwrap();
        let items = list["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1, "one slice: {items:?}");
        items[0].clone()
    };
    let s = slice();
    assert_eq!(s["addressType"], "IPv4");
    assert_eq!(s["ports"][0]["port"], 8080);
    assert_eq!(
        s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(s["metadata"]["ownerReferences"][0]["kind"], "Service");
    assert_eq!(s["endpoints"].as_array().unwrap().len(), 2);
    assert!(s["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["conditions"]["ready"] == true && e["targetRef"]["kind"] == "Pod"));
    // nothing changes while nothing happens
    let version = s["metadata"]["resourceVersion"].clone();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(slice()["metadata"]["resourceVersion"], version);

    // a pod failing readiness moves to notReadyAddresses, and back
    let pods = c.ok(&[
        "get",
        "pod",
        "-l",
        "app=web",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);
    c.ok(&["exec", &pods, "--", "rm", "/tmp/ready"]);
    c.wait_for("one not-ready address", WAIT, || {
        addresses("addresses") == 1 && addresses("notReadyAddresses") == 1
    });
    let ready: Vec<bool> = slice()["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["conditions"]["ready"] == true)
        .collect();
    assert_eq!(ready.iter().filter(|r| **r).count(), 1, "{ready:?}");
    c.ok(&["exec", &pods, "--", "touch", "/tmp/ready"]);
    c.wait_for("2 ready addresses again", WAIT, || {
        addresses("addresses") == 2
    });

    // scaling down removes the gone pod
    c.ok(&["scale", "deployment/web", "--replicas=1"]);
    c.wait_for("1 endpoint", WAIT, || {
        addresses("addresses") == 1 && slice()["endpoints"].as_array().map_or(0, Vec::len) == 1
    });

    // a headless Service is marked; a selector-less Service's Endpoints are mirrored
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hl"},
            "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 8080}]}}"#,
    );
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "manual"},
            "spec": {"ports": [{"name": "db", "port": 5432}]}}"#,
    );
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "manual"},
            "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"name": "db", "port": 15432}]}]}"#,
    );
    c.wait_for("the headless label", WAIT, || {
        c.jsonpath(&["endpoints", "hl"], "{.metadata.labels}")
            .contains("service.kubernetes.io/headless")
    });
    c.wait_for("the mirrored slice", WAIT, || {
        c.jsonpath(
            &["endpointslices", "-l", "kubernetes.io/service-name=manual"],
            "{.items[0].endpoints[0].addresses[0]}:{.items[0].ports[0].port}:{.items[0].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}",
        ) == "192.0.2.10:15432:endpointslicemirroring-controller.k8s.io"
    });
    // the user's Endpoints are left as written
    assert_eq!(
        c.jsonpath(&["endpoints", "manual"], "{.subsets[0].addresses[0].ip}"),
        "192.0.2.10"
    );

    // deleting the Service removes its Endpoints and slices
    c.ok(&["delete", "service", "web"]);
    c.wait_for("endpoints and slices gone", WAIT, || {
        !c.kubectl(&["get", "endpoints", "web"]).status.success()
            && c.ok(&[
                "get",
                "endpointslices",
                "-l",
                "kubernetes.io/service-name=web",
                "-o",
                "name",
            ])
            .is_empty()
    });
}

#[test]
fn cluster_ips_and_node_ports_balance_over_ready_pods_and_reject_without_any() {
    let c = Cluster::start_with_agent();
    c.ok(&[
        "create",
        "deployment",
        "web",
        "--replicas=2",
        &format!("--image={BUSYBOX}"),
        "--",
        "sh",
        "-c",
        "hostname > /tmp/index.html; exec httpd -f -p 8080 -h /tmp",
    ]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=90s"]);
    c.ok(&[
        "expose",
        "deployment",
        "web",
        "--port=80",
        "--target-port=8080",
        "--type=NodePort",
    ]);
    c.ok(&[
        "run",
        "client",
        &format!("--image={BUSYBOX}"),
        "--",
        "sleep",
        "3600",
    ]);
    wait_ready(&c, "client");
    let ip = c.jsonpath(&["service", "web"], "{.spec.clusterIP}");
    let node_port = c.jsonpath(&["service", "web"], "{.spec.ports[0].nodePort}");
    let replicas: Vec<String> = c
        .ok(&[
            "get",
            "pod",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(replicas.len(), 2);
    // HTTP with nc: Debian's static busybox wget crashes resolving addresses in a pod
    let fetch_many = |host: &str, port: &str| {
        c.kubectl(&[
            "exec",
            "client",
            "--",
            "sh",
            "-c",
            &format!(
                "for i in $(seq 30); do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {host} {port} | tail -1; done"
            ),
        ])
    };
    // the ClusterIP reaches both replicas
    let mut answers = String::new();
    c.wait_for("both replicas behind the ClusterIP", WAIT, || {
        answers = String::from_utf8_lossy(&fetch_many(&ip, "80").stdout).to_string();
        replicas.iter().all(|r| answers.contains(r.as_str()))
    });
    let counts: Vec<usize> = replicas
        .iter()
        .map(|r| answers.lines().filter(|l| l == r).count())
        .collect();
    assert_eq!(counts.iter().sum::<usize>(), 30, "{answers}");

    // the NodePort answers on a node address (the pod network's gateway is one)
    let cidr = c.jsonpath(&["node", &c.node_name()], "{.spec.podCIDR}");
    let gateway = {
        let base = cidr.split('/').next().unwrap();
        let mut octets: Vec<u8> = base.split('.').map(|o| o.parse().unwrap()).collect();
        octets[3] += 1;
        octets
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(".")
    };
    let via_node_port = fetch_many(&gateway, &node_port);
    let out = String::from_utf8_lossy(&via_node_port.stdout);
    assert!(
        replicas.iter().any(|r| out.contains(r.as_str())),
        "NodePort {gateway}:{node_port}: {out} {}",
        String::from_utf8_lossy(&via_node_port.stderr)
    );

    // external IPs are served like the ClusterIP
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
            "spec": {"selector": {"app": "web"}, "externalIPs": ["192.0.2.10"],
                     "ports": [{"port": 8088, "targetPort": 8080}]}}"#,
    );
    c.wait_for("the external IP answering", WAIT, || {
        let out = String::from_utf8_lossy(&fetch_many("192.0.2.10", "8088").stdout).to_string();
        replicas.iter().all(|r| out.contains(r.as_str()))
    });
    // LoadBalancer Services are served on the nodes' addresses; a second one on the same
    // port waits
    c.ok(&[
        "expose",
        "deployment",
        "web",
        "--name=lb",
        "--type=LoadBalancer",
        "--port=8081",
        "--target-port=8080",
    ]);
    let node_ip = c.jsonpath(
        &["node", &c.node_name()],
        "{.status.addresses[?(@.type==\"InternalIP\")].address}",
    );
    c.wait_for("the load balancer's ingress", WAIT, || {
        c.jsonpath(&["service", "lb"], "{.status.loadBalancer.ingress[*].ip}") == node_ip
    });
    c.ok(&[
        "expose",
        "deployment",
        "web",
        "--name=lb2",
        "--type=LoadBalancer",
        "--port=8081",
        "--target-port=8080",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.jsonpath(&["service", "lb2"], "{.status.loadBalancer.ingress}"),
        "",
        "the port is taken"
    );
    c.ok(&["delete", "service", "lb"]);
    c.wait_for(
        "the second load balancer served once the port is free",
        WAIT,
        || c.jsonpath(&["service", "lb2"], "{.status.loadBalancer.ingress[*].ip}") == node_ip,
    );

    // ClientIP affinity keeps one client on one replica
    c.ok(&[
        "expose",
        "deployment",
        "web",
        "--name=sticky",
        "--port=80",
        "--target-port=8080",
        "--session-affinity=ClientIP",
    ]);
    let sticky_ip = c.jsonpath(&["service", "sticky"], "{.spec.clusterIP}");
    let mut sticky = String::new();
    c.wait_for("the sticky Service answering", WAIT, || {
        sticky = String::from_utf8_lossy(&fetch_many(&sticky_ip, "80").stdout).to_string();
        sticky.lines().filter(|l| !l.is_empty()).count() == 30
    });
    let seen: std::collections::BTreeSet<&str> = sticky.lines().collect();
    assert_eq!(seen.len(), 1, "one replica for one client: {sticky}");

    // cluster DNS: pods resolve Services by name through 10.43.0.10
    assert_eq!(
        c.ok(&["exec", "client", "--", "cat", "/etc/resolv.conf"]),
        "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n"
    );
    let lookup = |name: &str| {
        String::from_utf8_lossy(
            &c.kubectl(&["exec", "client", "--", "nslookup", name])
                .stdout,
        )
        .to_string()
    };
    c.wait_for("web resolving to its ClusterIP", WAIT, || {
        lookup("web").contains(&format!("Address: {ip}"))
    });
    assert!(lookup("web.default.svc.cluster.local").contains(&format!("Address: {ip}")));
    let by_name = fetch_many("web", "80");
    let out = String::from_utf8_lossy(&by_name.stdout);
    assert!(
        replicas.iter().any(|r| out.contains(r.as_str())),
        "by name: {out} {}",
        String::from_utf8_lossy(&by_name.stderr)
    );
    // a headless Service resolves to its ready pods
    apply(
        &c,
        r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hl"},
            "spec": {"clusterIP": "None", "selector": {"app": "web"}, "ports": [{"port": 8080}]}}"#,
    );
    let pod_ips: Vec<String> = c
        .ok(&[
            "get",
            "pod",
            "-l",
            "app=web",
            "-o",
            "jsonpath={.items[*].status.podIP}",
        ])
        .split_whitespace()
        .map(str::to_string)
        .collect();
    c.wait_for("hl resolving to both pods", WAIT, || {
        let out = lookup("hl.default.svc.cluster.local");
        pod_ips
            .iter()
            .all(|p| out.contains(&format!("Address: {p}")))
    });

    // with no ready endpoint the port is refused at once, not left to time out
    c.ok(&["scale", "deployment/web", "--replicas=0"]);
    c.wait_for("no endpoints", WAIT, || {
        c.jsonpath(&["endpoints", "web"], "{.subsets}").is_empty()
    });
    let mut refused = String::new();
    c.wait_for("the ClusterIP refused", WAIT, || {
        let out = c.kubectl(&["exec", "client", "--", "nc", "-w", "5", &ip, "80"]);
        refused = String::from_utf8_lossy(&out.stderr).to_string();
        !out.status.success() && refused.contains("refused")
    });
}
