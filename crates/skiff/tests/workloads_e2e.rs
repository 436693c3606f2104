//! Issue 3 acceptance: the scheduler and controllers driven by real kubectl against
//! `skiff server --disable-agent` with simulated nodes (`skiff sim nodes`).

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::BufReader;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::{kubectl_path, Cluster};

const LONG: Duration = Duration::from_secs(120);

fn pods_json(c: &Cluster, selector: &str) -> Vec<Value> {
    let out = c.ok(&["get", "pods", "-l", selector, "-o", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v["items"].as_array().cloned().unwrap_or_default()
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn live(pods: &[Value]) -> Vec<&Value> {
    pods.iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

/// Watches pods matching `selector` in a kubectl watch and records the fewest Ready,
/// non-terminating pods seen after `armed` is set.
struct ReadyWatch {
    min_ready: Arc<parking_lot_free::Min>,
    armed: Arc<AtomicBool>,
    child: std::process::Child,
}

mod parking_lot_free {
    use std::sync::atomic::{AtomicI64, Ordering};
    /// A shared running minimum.
    pub struct Min(AtomicI64);
    impl Min {
        pub fn new() -> Min {
            Min(AtomicI64::new(i64::MAX))
        }
        pub fn observe(&self, v: i64) {
            self.0.fetch_min(v, Ordering::SeqCst);
        }
        pub fn get(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }
}

impl ReadyWatch {
    fn start(c: &Cluster, selector: &str) -> ReadyWatch {
        let mut child = Command::new(kubectl_path())
            .args([
                "get",
                "pods",
                "-l",
                selector,
                "--watch",
                "-o",
                "json",
                "--output-watch-events",
            ])
            .env("KUBECONFIG", c.kubeconfig())
            .env("HOME", c.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let min_ready = Arc::new(parking_lot_free::Min::new());
        let armed = Arc::new(AtomicBool::new(false));
        let (m, a) = (min_ready.clone(), armed.clone());
        std::thread::spawn(move || {
            let mut ready: HashMap<String, bool> = HashMap::new();
            let stream =
                serde_json::Deserializer::from_reader(BufReader::new(stdout)).into_iter::<Value>();
            for ev in stream.flatten() {
                let obj = &ev["object"];
                let name = obj["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let counts = ev["type"] != "DELETED"
                    && obj["metadata"]["deletionTimestamp"].is_null()
                    && is_ready(obj);
                ready.insert(name, counts);
                if a.load(Ordering::SeqCst) {
                    m.observe(ready.values().filter(|r| **r).count() as i64);
                }
            }
        });
        ReadyWatch {
            min_ready,
            armed,
            child,
        }
    }
}

impl Drop for ReadyWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nodes_of(pods: &[&Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for p in pods {
        *m.entry(p["spec"]["nodeName"].as_str().unwrap_or("").to_string())
            .or_insert(0) += 1;
    }
    m
}

fn wait_ready_pods(c: &Cluster, selector: &str, n: usize) {
    c.wait_for(&format!("{n} ready pods for {selector}"), LONG, || {
        let pods = pods_json(c, selector);
        let live = live(&pods);
        live.len() == n && live.iter().all(|p| is_ready(p))
    });
}

#[test]
fn deployment_spreads_rolls_out_rolls_back_and_scales() {
    let c = Cluster::start();
    let _sim = c.sim_nodes(3, "sim-");
    c.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=6",
    ]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    let pods = pods_json(&c, "app=web");
    let live_pods = live(&pods);
    assert_eq!(live_pods.len(), 6);
    let spread = nodes_of(&live_pods);
    assert_eq!(spread.len(), 3, "pods spread over all 3 nodes: {spread:?}");
    assert!(
        spread.values().all(|n| *n == 2),
        "2 pods per node: {spread:?}"
    );
    let first_rs = c.jsonpath(&["rs", "-l", "app=web"], "{.items[0].metadata.name}");

    let watch = ReadyWatch::start(&c, "app=web");
    std::thread::sleep(Duration::from_secs(1));
    watch.armed.store(true, Ordering::SeqCst);
    c.ok(&["set", "image", "deployment/web", "busybox=busybox:1.36"]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    std::thread::sleep(Duration::from_millis(500));
    // 25% of 6 rounds down to 1 unavailable: at least 5 Ready pods at every step.
    let min = watch.min_ready.get();
    assert!(
        min >= 5 && min != i64::MAX,
        "fewest ready pods during the rollout: {min}"
    );
    drop(watch);
    let image = c.jsonpath(
        &["deployment", "web"],
        "{.spec.template.spec.containers[0].image}",
    );
    assert_eq!(image, "busybox:1.36");
    let history = c.ok(&["rollout", "history", "deployment/web"]);
    assert!(
        history.contains("1 ") && history.contains("2 "),
        "{history}"
    );

    c.ok(&["rollout", "undo", "deployment/web"]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    let image = c.jsonpath(
        &["deployment", "web"],
        "{.spec.template.spec.containers[0].image}",
    );
    assert_eq!(image, "busybox");
    let first_replicas = c.jsonpath(&["rs", &first_rs], "{.spec.replicas}");
    assert_eq!(
        first_replicas, "6",
        "undo scaled the first ReplicaSet back up"
    );
    let revision = c.jsonpath(
        &["deployment", "web"],
        "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}",
    );
    assert_eq!(revision, "3");

    c.ok(&["scale", "deployment/web", "--replicas=9"]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    wait_ready_pods(&c, "app=web", 9);
    c.ok(&["scale", "deployment/web", "--replicas=2"]);
    wait_ready_pods(&c, "app=web", 2);
    let ready = c.jsonpath(&["deployment", "web"], "{.status.readyReplicas}");
    c.wait_for("deployment status 2 ready", LONG, || {
        c.jsonpath(&["deployment", "web"], "{.status.readyReplicas}") == "2"
    });
    let _ = ready;
}

#[test]
fn daemonset_runs_one_pod_per_node_including_new_nodes() {
    let c = Cluster::start();
    let _sim = c.sim_nodes(3, "sim-");
    c.ok_stdin(
        &["apply", "-f", "-"],
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: busybox}]}
"#,
    );
    wait_ready_pods(&c, "app=agent", 3);
    let pods = pods_json(&c, "app=agent");
    assert_eq!(nodes_of(&live(&pods)).len(), 3, "one pod on each node");
    let _extra = c.sim_nodes(1, "extra-");
    wait_ready_pods(&c, "app=agent", 4);
    let pods = pods_json(&c, "app=agent");
    let spread = nodes_of(&live(&pods));
    assert_eq!(spread.get("extra-0"), Some(&1), "{spread:?}");
    c.ok(&["rollout", "status", "daemonset/agent", "--timeout=60s"]);
}

#[test]
fn job_with_completions_and_parallelism_completes() {
    let c = Cluster::start();
    let _sim = c.sim_nodes(3, "sim-");
    c.ok_stdin(
        &["apply", "-f", "-"],
        r#"apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  completions: 5
  parallelism: 2
  template:
    metadata:
      annotations: {sim.skiff.io/exit-code: "0", sim.skiff.io/run-seconds: "1"}
    spec:
      restartPolicy: Never
      containers: [{name: work, image: busybox}]
"#,
    );
    let mut max_active = 0;
    c.wait_for("job complete", LONG, || {
        let active: usize = c
            .jsonpath(&["job", "batch"], "{.status.active}")
            .parse()
            .unwrap_or(0);
        max_active = max_active.max(active);
        c.jsonpath(
            &["job", "batch"],
            "{.status.conditions[?(@.type==\"Complete\")].status}",
        ) == "True"
    });
    assert!(max_active <= 2, "parallelism 2, saw {max_active} active");
    assert_eq!(c.jsonpath(&["job", "batch"], "{.status.succeeded}"), "5");
}

#[test]
fn cronjob_every_minute_creates_a_job() {
    let c = Cluster::start();
    let _sim = c.sim_nodes(1, "sim-");
    c.ok(&[
        "create",
        "cronjob",
        "tick",
        "--image=busybox",
        "--schedule=*/1 * * * *",
    ]);
    c.wait_for("a Job from the CronJob", Duration::from_secs(90), || {
        let out = c.ok(&["get", "jobs", "-o", "json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["items"].as_array().into_iter().flatten().any(|j| {
            j["metadata"]["ownerReferences"][0]["name"] == "tick"
                && j["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("tick-")
        })
    });
    c.wait_for("lastScheduleTime", Duration::from_secs(30), || {
        !c.jsonpath(&["cronjob", "tick"], "{.status.lastScheduleTime}")
            .is_empty()
    });
}

#[test]
fn drain_moves_pods_while_a_pdb_keeps_min_available() {
    let c = Cluster::start();
    let _sim = c.sim_nodes(3, "sim-");
    c.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=3",
    ]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    c.ok(&[
        "create",
        "pdb",
        "web",
        "--selector=app=web",
        "--min-available=3",
    ]);
    c.wait_for("pdb status", LONG, || {
        c.jsonpath(&["pdb", "web"], "{.status.currentHealthy}") == "3"
    });
    // minAvailable 3 of 3: an eviction must be refused with 429.
    let node = c.jsonpath(&["pods", "-l", "app=web"], "{.items[0].spec.nodeName}");
    let refused = c.fails(
        &["drain", &node, "--ignore-daemonsets", "--timeout=5s"],
        None,
    );
    assert!(
        refused.contains("disruption budget") || refused.contains("Cannot evict"),
        "{refused}"
    );
    c.ok(&["uncordon", &node]);

    c.ok(&[
        "patch",
        "pdb",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"minAvailable":2}}"#,
    ]);
    c.wait_for("pdb allows one disruption", LONG, || {
        c.jsonpath(&["pdb", "web"], "{.status.disruptionsAllowed}") == "1"
    });
    let watch = ReadyWatch::start(&c, "app=web");
    std::thread::sleep(Duration::from_secs(1));
    watch.armed.store(true, Ordering::SeqCst);
    c.ok(&["drain", &node, "--ignore-daemonsets", "--timeout=120s"]);
    wait_ready_pods(&c, "app=web", 3);
    let min = watch.min_ready.get();
    assert!(
        min >= 2 && min != i64::MAX,
        "fewest ready pods during the drain: {min}"
    );
    let pods = pods_json(&c, "app=web");
    let spread = nodes_of(&live(&pods));
    assert!(
        !spread.contains_key(&node),
        "no pod left on the drained node: {spread:?}"
    );
    assert_eq!(
        c.jsonpath(&["node", &node], "{.spec.unschedulable}"),
        "true"
    );
}

#[test]
fn a_stopped_node_goes_not_ready_and_its_pods_are_replaced() {
    let c = Cluster::start();
    let _stay = c.sim_nodes(2, "stay-");
    let mut doomed = c.sim_nodes(1, "doomed-");
    c.ok_stdin(
        &["apply", "-f", "-"],
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: busybox}]
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 3}
"#,
    );
    c.ok(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    let pods = pods_json(&c, "app=web");
    let on_doomed = live(&pods)
        .iter()
        .filter(|p| p["spec"]["nodeName"] == "doomed-0")
        .count();
    assert!(on_doomed > 0, "the spread put pods on doomed-0");
    doomed.stop();
    c.wait_for("doomed-0 NotReady", Duration::from_secs(90), || {
        c.jsonpath(
            &["node", "doomed-0"],
            "{.status.conditions[?(@.type==\"Ready\")].status}",
        ) == "Unknown"
    });
    c.wait_for(
        "the unreachable NoExecute taint",
        Duration::from_secs(30),
        || {
            c.jsonpath(&["node", "doomed-0"], "{.spec.taints[*].key}")
                .contains("node.kubernetes.io/unreachable")
        },
    );
    c.wait_for("pods replaced on the remaining nodes", LONG, || {
        let pods = pods_json(&c, "app=web");
        let live = live(&pods);
        live.len() == 6
            && live
                .iter()
                .all(|p| is_ready(p) && p["spec"]["nodeName"] != "doomed-0")
    });
}

#[test]
fn deleting_a_namespace_removes_everything_in_it() {
    let c = Cluster::start();
    let _sim = c.sim_nodes(1, "sim-");
    c.ok(&["create", "namespace", "doomed"]);
    c.ok(&[
        "-n",
        "doomed",
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=2",
    ]);
    c.ok(&[
        "-n",
        "doomed",
        "create",
        "configmap",
        "cfg",
        "--from-literal=a=b",
    ]);
    c.ok(&[
        "-n",
        "doomed",
        "rollout",
        "status",
        "deployment/web",
        "--timeout=120s",
    ]);
    c.ok(&["delete", "namespace", "doomed", "--timeout=120s"]);
    let out = c.kubectl(&["get", "namespace", "doomed"]);
    assert!(!out.status.success(), "namespace gone");
    let all = c.ok(&[
        "get",
        "pods,rs,deployments,configmaps",
        "-A",
        "-o",
        "name",
        "--field-selector=metadata.namespace=doomed",
    ]);
    assert!(all.trim().is_empty(), "left over: {all}");
}

#[test]
fn orphan_cascade_leaves_the_pods() {
    let c = Cluster::start();
    let _sim = c.sim_nodes(1, "sim-");
    c.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=2",
    ]);
    c.ok(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    c.ok(&["delete", "deployment", "web", "--cascade=orphan"]);
    c.wait_for("ReplicaSet released", LONG, || {
        c.jsonpath(
            &["rs", "-l", "app=web"],
            "{.items[0].metadata.ownerReferences}",
        )
        .is_empty()
    });
    std::thread::sleep(Duration::from_secs(3));
    let pods = pods_json(&c, "app=web");
    assert_eq!(live(&pods).len(), 2, "pods stay after an orphaning delete");
    assert_eq!(
        c.jsonpath(&["rs", "-l", "app=web"], "{.items[0].status.replicas}"),
        "2"
    );
}
