//! Service networking across nodes: a server and two agents made by `scripts/cluster-up`, each
//! node in its own network namespace with its own containerd, pods on the VXLAN overlay, real
//! kubectl. Needs root, containerd, runc, CNI plugins, nftables, iproute2 and busybox-static.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::kubectl_path;

const WAIT: Duration = Duration::from_secs(90);

/// A cluster of `scripts/cluster-up`, taken down (with `scripts/cluster-down`) on drop.
struct Lan {
    dir: tempfile::TempDir,
    name: String,
    net: String,
    port: u16,
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(name)
}

impl Lan {
    fn up(nodes: usize, agent_args: &str) -> Lan {
        let pid = std::process::id();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let lan = Lan {
            dir: tempfile::tempdir().unwrap(),
            // both tests of this file may share a process (cargo test): the mode tells them apart
            name: format!(
                "t{}{}",
                pid % 100_000,
                if agent_args.contains("userspace") {
                    'u'
                } else {
                    'n'
                }
            ),
            // distinct per live test unless their ports happen to be 512 apart
            net: format!("172.{}.{}", 30 + port % 2, (port / 2) % 256),
            port,
        };
        let out = lan
            .command("cluster-up")
            .env("SKIFF_AGENT_ARGS", agent_args)
            .arg(nodes.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cluster-up failed:\n{}\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(lan.dir.path().join("server.log")).unwrap_or_default()
        );
        lan
    }

    fn command(&self, name: &str) -> Command {
        let mut cmd = Command::new(script(name));
        cmd.env("SKIFF_BIN", env!("CARGO_BIN_EXE_skiff"))
            .env("SKIFF_CLUSTER", &self.name)
            .env("SKIFF_CLUSTER_DIR", self.dir.path())
            .env("SKIFF_CLUSTER_NET", &self.net)
            .env("SKIFF_CLUSTER_PORT", self.port.to_string())
            .env("KUBECTL", kubectl_path())
            .stdin(Stdio::null());
        cmd
    }

    fn node(&self, i: usize) -> String {
        format!("{}-n{i}", self.name)
    }

    fn node_ip(&self, i: usize) -> String {
        format!("{}.{}", self.net, i + 1)
    }

    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut child = Command::new(kubectl_path())
            .args(args)
            .env("KUBECONFIG", self.dir.path().join("server/kubeconfig.yaml"))
            .env("HOME", self.dir.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl");
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args, None);
        assert!(
            out.status.success(),
            "kubectl {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn apply(&self, yaml: &str) {
        let out = self.kubectl(&["apply", "-f", "-"], Some(yaml));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn wait_for(&self, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !check() {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}\npods:\n{}\nagent n1 log tail:\n{}",
                String::from_utf8_lossy(&self.kubectl(&["get", "pods", "-o", "wide"], None).stdout),
                std::fs::read_to_string(self.dir.path().join("n1.log"))
                    .unwrap_or_default()
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `n` HTTP requests (`wget -qO- http://host:port/`) from pod `client`: the body's last
    /// line of each (the replica's hostname), or `-` for a request that got no answer.
    /// (`timeout`, not wget's `-T`: Debian's static busybox wget crashes with `-T`.)
    fn get(&self, client: &str, host: &str, port: u16, n: usize) -> Vec<String> {
        let loop_ = format!(
            "for i in $(seq {n}); do r=$(timeout 3 wget -qO- http://{host}:{port}/ | tail -n 1); echo \"${{r:--}}\"; done"
        );
        let out = self.kubectl(&["exec", client, "--", "sh", "-c", &loop_], None);
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(
            lines.len(),
            n,
            "exec in {client}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        lines
    }

    /// The hostnames `n` requests reached.
    fn reached(&self, client: &str, host: &str, port: u16, n: usize) -> BTreeSet<String> {
        self.get(client, host, port, n).into_iter().collect()
    }

    /// `ip …` inside node `i`'s network namespace.
    fn ip(&self, i: usize, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.node(i)])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        let _ = self.command("cluster-down").output();
    }
}

fn web_pods(lan: &Lan) -> Vec<(String, String, String)> {
    lan.json(&["pods", "-l", "app=web"])["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| p["status"]["podIP"].is_string())
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["spec"]["nodeName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                p["status"]["podIP"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn services_dns_and_pods_work_across_nodes_on_the_overlay() {
    acceptance("");
}

#[test]
fn the_same_works_with_the_userspace_proxy() {
    acceptance("--proxy-mode userspace");
}

/// The issue's acceptance: server + 2 agents, a 4-replica Deployment spread over both.
fn acceptance(agent_args: &str) {
    let lan = Lan::up(2, agent_args);
    let (n1, n2) = (lan.node(1), lan.node(2));
    // every node routes the other's pod CIDR over its VXLAN device
    let cidr = |n: &str| {
        lan.json(&["node", n])["spec"]["podCIDR"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (cidr1, cidr2) = (cidr(&n1), cidr(&n2));
    lan.wait_for("overlay routes", || {
        lan.ip(1, &["route"]).contains(&format!("{cidr2} via"))
            && lan.ip(2, &["route"]).contains(&format!("{cidr1} via"))
    });
    assert!(lan.ip(1, &["route"]).contains("dev skiff.1 onlink"));

    lan.apply(&format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      topologySpreadConstraints:
      - {{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: web}}}}}}
      containers:
      - name: web
        image: skiff.local/busybox:1
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']
        ports: [{{containerPort: 80, name: http}}]
        readinessProbe: {{httpGet: {{path: /index.html, port: 80}}, periodSeconds: 1}}
---
apiVersion: v1
kind: Pod
metadata: {{name: client}}
spec:
  nodeName: {n1}
  containers:
  - {{name: c, image: skiff.local/busybox:1, command: [sleep, "3600"]}}
"#
    ));
    lan.ok(&["expose", "deployment", "web", "--port", "80"]);
    lan.ok(&[
        "expose",
        "deployment",
        "web",
        "--name",
        "web-np",
        "--port",
        "80",
        "--type",
        "NodePort",
    ]);
    lan.ok(&[
        "expose",
        "deployment",
        "web",
        "--name",
        "web-lb",
        "--port",
        "8080",
        "--target-port",
        "80",
        "--type",
        "LoadBalancer",
    ]);
    lan.apply(
        r#"
apiVersion: v1
kind: Service
metadata: {name: web-sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
"#,
    );
    lan.wait_for("4 ready replicas and the client", || {
        lan.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ]) == "4"
            && lan.ok(&["get", "pod", "client", "-o", "jsonpath={.status.phase}"]) == "Running"
    });
    // the mode asked for is the one serving: kernel DNAT, or redirects to the agent's relays
    let ruleset = Command::new("ip")
        .args(["netns", "exec", &n1, "nft", "list", "ruleset"])
        .output()
        .unwrap();
    let ruleset = String::from_utf8_lossy(&ruleset.stdout);
    if agent_args.contains("userspace") {
        assert!(
            ruleset.contains("redirect to :") && !ruleset.contains("dnat ip to"),
            "{ruleset}"
        );
    } else {
        assert!(
            ruleset.contains("dnat ip to") && !ruleset.contains("redirect to :"),
            "{ruleset}"
        );
    }
    let pods = web_pods(&lan);
    let nodes: BTreeSet<&str> = pods.iter().map(|p| p.1.as_str()).collect();
    assert_eq!(
        nodes,
        BTreeSet::from([n1.as_str(), n2.as_str()]),
        "{pods:?}"
    );
    let all: BTreeSet<String> = pods.iter().map(|p| p.0.clone()).collect();

    // pod to pod across nodes, by pod IP
    let (far, _, far_ip) = pods.iter().find(|p| p.1 == n2).unwrap();
    assert_eq!(lan.get("client", far_ip, 80, 1), vec![far.clone()]);

    // by name (cluster DNS on either node, through the kube-dns Service): all 4 replicas
    let mut seen = BTreeSet::new();
    lan.wait_for("requests to web reaching all 4 replicas", || {
        seen.extend(lan.reached("client", "web", 80, 20));
        all.is_subset(&seen)
    });
    assert!(seen.is_subset(&all), "only replicas answer: {seen:?}");
    // the ClusterIP itself
    let cluster_ip = lan.ok(&["get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"]);
    assert!(lan.reached("client", &cluster_ip, 80, 10).is_subset(&all));

    // hairpin: a replica reaching its own Service, and so sometimes itself, always gets an
    // answer (masqueraded, or its reply would bypass the DNAT)
    let (me, _, _) = &pods[0];
    let mut seen = Vec::new();
    lan.wait_for("a replica reaching itself through its Service", || {
        let got = lan.get(me, "web", 80, 10);
        assert!(got.iter().all(|h| all.contains(h)), "{got:?}");
        seen.extend(got);
        seen.contains(me)
    });

    // the NodePort on both nodes' IPs
    let node_port: u16 = lan
        .ok(&[
            "get",
            "svc",
            "web-np",
            "-o",
            "jsonpath={.spec.ports[0].nodePort}",
        ])
        .parse()
        .unwrap();
    for i in [1, 2] {
        let got = lan.reached("client", &lan.node_ip(i), node_port, 8);
        assert!(
            !got.is_empty() && got.is_subset(&all),
            "NodePort on node {i}: {got:?}"
        );
    }

    // the load balancer: ingress at both nodes' IPs, answering on the Service port
    lan.wait_for("load-balancer ingress", || {
        lan.ok(&[
            "get",
            "svc",
            "web-lb",
            "-o",
            "jsonpath={.status.loadBalancer.ingress[*].ip}",
        ])
        .split(' ')
        .collect::<BTreeSet<_>>()
            == BTreeSet::from([lan.node_ip(1).as_str(), lan.node_ip(2).as_str()])
    });
    for i in [1, 2] {
        let got = lan.reached("client", &lan.node_ip(i), 8080, 8);
        assert!(
            !got.is_empty() && got.is_subset(&all),
            "LB on node {i}: {got:?}"
        );
    }

    // ClientIP affinity: one client, one replica
    let sticky = lan.reached("client", "web-sticky", 80, 20);
    assert!(sticky.len() == 1 && !sticky.contains("-"), "{sticky:?}");

    // headless: the name resolves to the pods' IPs
    // (busybox nslookup exits 1 when the AAAA query finds nothing: the output is what counts)
    let out = lan.kubectl(&["exec", "client", "--", "nslookup", "web-headless"], None);
    let lookup = String::from_utf8_lossy(&out.stdout);
    for (_, _, ip) in &pods {
        assert!(lookup.contains(ip.as_str()), "{ip} in {lookup}");
    }

    // pods reach the API server through the `kubernetes` Service: masqueraded as they leave
    // the pod networks, so its replies find the way back
    let out = lan.kubectl(
        &[
            "exec",
            "client",
            "--",
            "sh",
            "-c",
            "timeout 3 nc kubernetes.default.svc 443 </dev/null && echo connected",
        ],
        None,
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("connected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // a replica whose readiness fails leaves rotation, and comes back
    let (sick, _, _) = pods.iter().find(|p| p.1 == n2).unwrap();
    lan.ok(&["exec", sick, "--", "mv", "/www/index.html", "/www/away"]);
    lan.wait_for("the unready replica out of the endpoints", || {
        lan.ok(&[
            "get",
            "endpoints",
            "web",
            "-o",
            "jsonpath={.subsets[*].notReadyAddresses[*].targetRef.name}",
        ])
        .contains(sick.as_str())
    });
    let got = lan.get("client", "web", 80, 20);
    assert!(
        !got.contains(sick) && got.iter().all(|h| all.contains(h)),
        "{sick} still in rotation, or no answer: {got:?}"
    );
    lan.ok(&["exec", sick, "--", "mv", "/www/away", "/www/index.html"]);
    let mut seen = BTreeSet::new();
    lan.wait_for("the replica back in rotation", || {
        seen.extend(lan.reached("client", "web", 80, 10));
        seen.contains(sick)
    });

    // scaling to 2 takes the gone replicas out of rotation
    lan.ok(&["scale", "deployment", "web", "--replicas", "2"]);
    let started = Instant::now();
    lan.wait_for("2 replicas", || web_pods(&lan).len() == 2);
    let left: BTreeSet<String> = web_pods(&lan).into_iter().map(|p| p.0).collect();
    lan.wait_for("only the 2 replicas answering", || {
        lan.reached("client", "web", 80, 10).is_subset(&left)
    });
    eprintln!(
        "scale to 2: gone replicas out of rotation after {} ms (including pod deletion)",
        started.elapsed().as_millis()
    );
    let got = lan.reached("client", "web", 80, 20);
    assert!(got.is_subset(&left), "{got:?} not within {left:?}");

    // `skiff bench net --cluster` measures this cluster's data path (small, just that it runs)
    if !agent_args.contains("userspace") {
        let out = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["bench", "net", "--cluster", "--mib", "8", "--runs", "1"])
            .env("KUBECONFIG", lan.dir.path().join("server/kubeconfig.yaml"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for want in [
            "TCP to pod: median",
            "TCP to clusterip: median",
            "ClusterIP / pod IP:",
            "DNS one query at a time:",
            "queries/s",
        ] {
            assert!(text.contains(want), "{want} in {text}");
        }
    }

    // the overlay heals: a route removed behind the agent's back comes back at the next sync
    lan.ip(1, &["route", "del", &cidr2]);
    assert!(!lan.ip(1, &["route"]).contains(&format!("{cidr2} via")));
    lan.ok(&["annotate", "node", &n2, "touched=1", "--overwrite"]);
    lan.wait_for("the overlay route back", || {
        lan.ip(1, &["route"]).contains(&format!("{cidr2} via"))
    });
    // and a node that leaves takes its route with it
    lan.ok(&["delete", "node", &n2, "--wait=false"]);
    lan.wait_for("the gone node's route removed", || {
        !lan.ip(1, &["route"]).contains(&format!("{cidr2} via"))
    });
    // and comes back when the node returns (its agent restarted registers it again)
    let pid_file = lan.dir.path().join("n2.pid");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .unwrap();
    let started = Command::new(lan.dir.path().join("n2.start"))
        .status()
        .unwrap();
    assert!(started.success());
    lan.wait_for("the node back with a pod CIDR", || {
        lan.kubectl(
            &["get", "node", &n2, "-o", "jsonpath={.spec.podCIDR}"],
            None,
        )
        .stdout
        .ends_with(b"/24")
    });
    let back = cidr(&n2);
    lan.wait_for("the returned node's route", || {
        lan.ip(1, &["route"]).contains(&format!("{back} via"))
    });
}
