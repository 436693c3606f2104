//! Acceptance for the API server (issue 2): real kubectl 1.33 against the real binary.

mod support;

use support::Cluster;

const APP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: blue
      - name: sidecar
        image: busybox:1.36
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 80
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
  labels: {app: web}
data:
  greeting: hello
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: shop
  labels: {app: web}
type: Opaque
stringData:
  password: s3cret
"#;

fn shop() -> Cluster {
    let c = Cluster::start();
    c.ok(&["create", "namespace", "shop"]);
    c.ok_stdin(&["apply", "-f", "-"], APP);
    c
}

#[test]
fn cluster_info_and_discovery_work() {
    let c = Cluster::start();
    let info = c.ok(&["cluster-info"]);
    assert!(
        info.contains("Kubernetes control plane is running at https://127.0.0.1:"),
        "{info}"
    );
    let res = c.ok(&["api-resources"]);
    for line in [
        "deployments",
        "deploy",
        "apps/v1",
        "Deployment",
        "configmaps",
        "cm",
        "leases",
        "coordination.k8s.io/v1",
    ] {
        assert!(res.contains(line), "api-resources lacks {line}:\n{res}");
    }
    let versions = c.ok(&["api-versions"]);
    for gv in [
        "v1",
        "apps/v1",
        "batch/v1",
        "networking.k8s.io/v1",
        "rbac.authorization.k8s.io/v1",
    ] {
        assert!(
            versions.lines().any(|l| l == gv),
            "api-versions lacks {gv}:\n{versions}"
        );
    }
    let ns = c.ok(&["get", "namespaces", "-o", "name"]);
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(ns.contains(&format!("namespace/{n}")), "{ns}");
    }
    // no authorizer yet: every authenticated user may do everything, and says so
    assert_eq!(c.ok(&["auth", "can-i", "create", "pods"]).trim(), "yes");
    let who = c.ok(&["auth", "whoami"]);
    assert!(
        who.contains("system:admin") && who.contains("system:masters"),
        "{who}"
    );
    let v = c.ok(&["version", "-o", "json"]);
    assert!(v.contains("\"minor\": \"33\""), "{v}");
}

#[test]
fn the_kubernetes_service_points_at_the_server() {
    let c = Cluster::start();
    assert_eq!(
        c.jsonpath(&["service", "kubernetes"], "{.spec.clusterIP}"),
        "10.43.0.1"
    );
    let port = c.port.to_string();
    assert_eq!(
        c.jsonpath(
            &["endpoints", "kubernetes"],
            "{.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}"
        ),
        format!("127.0.0.1:{port}")
    );
    // the server writes the slice itself; its Endpoints are not mirrored
    let slices = c.ok(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=kubernetes",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}={.endpoints[0].addresses[0]}:{.ports[0].port} {end}",
    ]);
    assert_eq!(slices.trim(), format!("kubernetes=127.0.0.1:{port}"));
    std::thread::sleep(std::time::Duration::from_secs(2));
    let again = c.ok(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=kubernetes",
        "-o",
        "name",
    ]);
    assert_eq!(again.trim(), "endpointslice.discovery.k8s.io/kubernetes");
}

#[test]
fn apply_creates_then_patches_with_strategic_merge() {
    let c = shop();
    let out = c.jsonpath(
        &["deploy", "web", "-n", "shop"],
        "{.spec.template.spec.containers[*].image}",
    );
    assert_eq!(out, "nginx:1.25 busybox:1.36");
    let edited = APP
        .replace("nginx:1.25", "nginx:1.26")
        .replace("value: blue", "value: green");
    let out = c.ok_stdin(&["apply", "-f", "-"], &edited);
    assert!(out.contains("deployment.apps/web configured"), "{out}");
    assert!(out.contains("configmap/web-config unchanged"), "{out}");
    let d = c.ok(&["get", "deploy", "web", "-n", "shop", "-o", "json"]);
    let d: serde_json::Value = serde_json::from_str(&d).unwrap();
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 2, "{containers:?}");
    assert_eq!(containers[0]["image"], "nginx:1.26");
    assert_eq!(containers[0]["env"][0]["value"], "green");
    assert_eq!(containers[1]["image"], "busybox:1.36");
    assert_eq!(d["metadata"]["generation"], 2);
    assert!(
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
            .unwrap()
            .contains("nginx:1.26")
    );
}

#[test]
fn get_in_every_output_format() {
    let c = shop();
    let table = c.ok(&["get", "deploy", "-n", "shop"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        "{table}"
    );
    assert!(table.lines().nth(1).unwrap().starts_with("web "), "{table}");
    let wide = c.ok(&["get", "deploy", "-n", "shop", "-o", "wide"]);
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR"
        ],
        "{wide}"
    );
    assert!(
        wide.contains("nginx,sidecar") && wide.contains("app=web"),
        "{wide}"
    );
    let svc = c.ok(&["get", "svc", "web", "-n", "shop"]);
    let header: Vec<&str> = svc.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ],
        "{svc}"
    );
    assert!(
        svc.contains("ClusterIP") && svc.contains("10.43.") && svc.contains("80/TCP"),
        "{svc}"
    );
    let yaml = c.ok(&["get", "cm", "web-config", "-n", "shop", "-o", "yaml"]);
    assert!(
        yaml.contains("greeting: hello") && yaml.contains("resourceVersion:"),
        "{yaml}"
    );
    let secret = c.jsonpath(&["secret", "web-secret", "-n", "shop"], "{.data.password}");
    assert_eq!(secret, "czNjcmV0");
    let by_label = c.ok(&[
        "get",
        "all,cm,secret",
        "-n",
        "shop",
        "-l",
        "app=web",
        "-o",
        "name",
    ]);
    for n in [
        "deployment.apps/web",
        "service/web",
        "configmap/web-config",
        "secret/web-secret",
    ] {
        assert!(by_label.contains(n), "{by_label}");
    }
    let none = c.ok(&[
        "get",
        "cm",
        "-n",
        "shop",
        "-l",
        "app notin (web)",
        "-o",
        "name",
    ]);
    assert!(!none.contains("web-config"), "{none}");
    let field = c.ok(&[
        "get",
        "cm",
        "-A",
        "--field-selector",
        "metadata.name=web-config",
    ]);
    assert!(
        field.lines().next().unwrap().starts_with("NAMESPACE"),
        "{field}"
    );
    assert_eq!(field.lines().count(), 2, "{field}");
    let bad = c.fails(&["get", "pods", "--field-selector", "spec.bogus=x"], None);
    assert!(
        bad.contains("field label not supported") || bad.contains("not a known field selector"),
        "{bad}"
    );
    let all = c.ok(&["get", "svc", "-A"]);
    assert!(
        all.contains("default") && all.contains("kubernetes") && all.contains("shop"),
        "{all}"
    );
}

#[test]
fn describe_label_annotate_patch_replace_scale() {
    let c = shop();
    let d = c.ok(&["describe", "deployment", "web", "-n", "shop"]);
    assert!(
        d.contains("Name:")
            && d.contains("web")
            && d.contains("nginx:1.25")
            && d.contains("RollingUpdate"),
        "{d}"
    );
    let s = c.ok(&["describe", "svc", "web", "-n", "shop"]);
    assert!(s.contains("Selector:") && s.contains("app=web"), "{s}");
    c.ok(&["label", "cm", "web-config", "-n", "shop", "color=red"]);
    c.ok(&["annotate", "cm", "web-config", "-n", "shop", "note=hi"]);
    let cm = c.jsonpath(
        &["cm", "web-config", "-n", "shop"],
        "{.metadata.labels.color}/{.metadata.annotations.note}",
    );
    assert_eq!(cm, "red/hi");
    c.ok(&["label", "cm", "web-config", "-n", "shop", "color-"]);
    assert_eq!(
        c.jsonpath(
            &["cm", "web-config", "-n", "shop"],
            "{.metadata.labels.color}"
        ),
        ""
    );
    c.ok(&[
        "patch",
        "cm",
        "web-config",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        r#"{"data":{"extra":"1"}}"#,
    ]);
    c.ok(&[
        "patch",
        "cm",
        "web-config",
        "-n",
        "shop",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/data/greeting","value":"bye"}]"#,
    ]);
    c.ok(&["patch", "deploy", "web", "-n", "shop", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:1.37"}]}}}}"#]);
    assert_eq!(
        c.jsonpath(
            &["cm", "web-config", "-n", "shop"],
            "{.data.greeting}/{.data.extra}"
        ),
        "bye/1"
    );
    let images = c.jsonpath(
        &["deploy", "web", "-n", "shop"],
        "{.spec.template.spec.containers[*].image}",
    );
    assert_eq!(
        images, "nginx:1.25 busybox:1.37",
        "strategic merge keeps the other container"
    );
    let bad = c.fails(
        &[
            "patch",
            "cm",
            "web-config",
            "-n",
            "shop",
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/data/nope"}]"#,
        ],
        None,
    );
    assert!(!bad.is_empty());
    let mut cm: serde_json::Value =
        serde_json::from_str(&c.ok(&["get", "cm", "web-config", "-n", "shop", "-o", "json"]))
            .unwrap();
    cm["data"] = serde_json::json!({"only": "this"});
    c.ok_stdin(&["replace", "-f", "-"], &cm.to_string());
    assert_eq!(
        c.jsonpath(&["cm", "web-config", "-n", "shop"], "{.data}"),
        r#"{"only":"this"}"#
    );
    // replacing with the stale resourceVersion is a conflict
    let stale = c.fails(&["replace", "-f", "-"], Some(&cm.to_string()));
    assert!(stale.contains("the object has been modified"), "{stale}");
    c.ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=5"]);
    assert_eq!(
        c.jsonpath(&["deploy", "web", "-n", "shop"], "{.spec.replicas}"),
        "5"
    );
}

#[test]
fn watch_sees_changes_made_elsewhere() {
    let c = shop();
    let mut cmd = std::process::Command::new(support::kubectl_path());
    cmd.args([
        "get",
        "cm",
        "-n",
        "shop",
        "-w",
        "-o",
        "name",
        "--request-timeout=20s",
    ])
    .env("KUBECONFIG", c.kubeconfig())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    let mut watcher = cmd.spawn().unwrap();
    let stdout = watcher.stdout.take().unwrap();
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
    // the initial listing comes first
    let first = rx.recv_timeout(std::time::Duration::from_secs(15)).unwrap();
    assert_eq!(first, "configmap/web-config");
    c.ok(&[
        "create",
        "configmap",
        "late-arrival",
        "-n",
        "shop",
        "--from-literal=a=b",
    ]);
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            got.push(l.clone());
            if l == "configmap/late-arrival" {
                break;
            }
        }
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(
        got.contains(&"configmap/late-arrival".to_string()),
        "{got:?}"
    );
    // a table watch prints rows for changes too
    let table = c.ok(&[
        "get",
        "cm",
        "-n",
        "shop",
        "--watch-only",
        "--request-timeout=2s",
    ]);
    assert!(table.is_empty() || table.starts_with("NAME"), "{table}");
}

#[test]
fn delete_by_name_label_and_all() {
    let c = shop();
    c.ok(&["create", "cm", "a", "-n", "shop", "--from-literal=k=v"]);
    c.ok(&["create", "cm", "b", "-n", "shop", "--from-literal=k=v"]);
    c.ok(&["label", "cm", "b", "-n", "shop", "drop=yes"]);
    let out = c.ok(&["delete", "cm", "a", "-n", "shop"]);
    assert!(out.contains("configmap \"a\" deleted"), "{out}");
    let nf = c.fails(&["get", "cm", "a", "-n", "shop"], None);
    assert!(nf.contains("configmaps \"a\" not found"), "{nf}");
    c.ok(&["delete", "cm", "-n", "shop", "-l", "drop=yes"]);
    assert!(c.kubectl(&["get", "cm", "b", "-n", "shop"]).status.code() != Some(0));
    c.ok(&["delete", "deploy,svc,secret,cm", "--all", "-n", "shop"]);
    let left = c.ok(&["get", "deploy,svc,secret,cm", "-n", "shop", "-o", "name"]);
    assert!(left.trim().is_empty(), "{left}");
    let ns = c.ok(&["delete", "namespace", "shop", "--timeout=30s"]);
    assert!(ns.contains("namespace \"shop\" deleted"), "{ns}");
    let gone = c.fails(&["get", "namespace", "shop"], None);
    assert!(gone.contains("not found"), "{gone}");
    let forbidden = c.fails(&["delete", "namespace", "default"], None);
    assert!(forbidden.contains("may not be deleted"), "{forbidden}");
}

#[test]
fn explain_and_diff() {
    let c = shop();
    let e = c.ok(&["explain", "deployment.spec.strategy"]);
    assert!(
        e.contains("KIND:") && e.contains("Deployment") && e.contains("rollingUpdate"),
        "{e}"
    );
    assert!(e.contains("FIELD: strategy"), "{e}");
    let edited = APP.replace("replicas: 2", "replicas: 3");
    let out = c.kubectl_stdin(&["diff", "-f", "-"], Some(&edited));
    assert_eq!(
        out.status.code(),
        Some(1),
        "diff exits 1 when there are differences: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("-  replicas: 2") && text.contains("+  replicas: 3"),
        "{text}"
    );
    let same = c.kubectl_stdin(&["diff", "-f", "-"], Some(APP));
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    assert_eq!(
        c.jsonpath(&["deploy", "web", "-n", "shop"], "{.spec.replicas}"),
        "2",
        "diff is a dry run"
    );
}

#[test]
fn invalid_objects_get_upstream_shaped_errors() {
    let c = shop();
    let bad = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bad","namespace":"shop"},
      "spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"y"}},
      "spec":{"containers":[{"name":"c"}]}}}}"#;
    let err = c.fails(&["create", "-f", "-"], Some(bad));
    assert!(err.contains("The Deployment \"bad\" is invalid:"), "{err}");
    assert!(
        err.contains("spec.template.metadata.labels: Invalid value"),
        "{err}"
    );
    assert!(
        err.contains("spec.template.spec.containers[0].image: Required value"),
        "{err}"
    );
    let unknown = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"u","namespace":"shop"},"bogus":1}"#;
    let err = c.fails(&["create", "-f", "-"], Some(unknown));
    assert!(err.contains("unknown field \"bogus\""), "{err}");
    let err = c.fails(&["create", "cm", "x", "-n", "nowhere"], None);
    assert!(err.contains("namespaces \"nowhere\" not found"), "{err}");
    let err = c.fails(&["create", "cm", "web-config", "-n", "shop"], None);
    assert!(err.contains("already exists"), "{err}");
    assert!(
        c.kubectl(&["get", "deploy", "bad", "-n", "shop"])
            .status
            .code()
            != Some(0),
        "nothing was stored"
    );
}

#[test]
fn restart_keeps_every_object() {
    let mut c = shop();
    let before = c.jsonpath(
        &["all,cm,secret,ns", "-A"],
        "{range .items[*]}{.metadata.uid}{\"\\n\"}{end}",
    );
    let kubeconfig = std::fs::read_to_string(c.kubeconfig()).unwrap();
    c.restart();
    let after = c.jsonpath(
        &["all,cm,secret,ns", "-A"],
        "{range .items[*]}{.metadata.uid}{\"\\n\"}{end}",
    );
    let mut b: Vec<&str> = before.lines().collect();
    let mut a: Vec<&str> = after.lines().collect();
    b.sort();
    a.sort();
    assert_eq!(a, b);
    assert!(b.len() >= 8, "{b:?}");
    assert_eq!(
        std::fs::read_to_string(c.kubeconfig()).unwrap(),
        kubeconfig,
        "credentials survive a restart"
    );
}

#[test]
fn server_side_apply_prunes_conflicts_and_forces() {
    let c = Cluster::start();
    c.ok(&["create", "namespace", "shop"]);
    let out = c.ok_stdin(&["apply", "--server-side", "-f", "-"], APP);
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    // re-applying without a field removes it
    let without_env = APP.replace(
        "        env:\n        - name: MODE\n          value: blue\n",
        "",
    );
    c.ok_stdin(&["apply", "--server-side", "-f", "-"], &without_env);
    let env = c.jsonpath(
        &["deploy", "web", "-n", "shop"],
        "{.spec.template.spec.containers[0].env}",
    );
    assert_eq!(
        env, "",
        "env was dropped with the field the applier stopped managing"
    );
    // a field another manager changed conflicts, unless forced
    c.ok(&["scale", "deploy", "web", "-n", "shop", "--replicas=4"]);
    let three = without_env.replace("replicas: 2", "replicas: 3");
    let err = c.fails(&["apply", "--server-side", "-f", "-"], Some(&three));
    assert!(
        err.contains("Apply failed with 1 conflict") && err.contains(".spec.replicas"),
        "{err}"
    );
    assert_eq!(
        c.jsonpath(&["deploy", "web", "-n", "shop"], "{.spec.replicas}"),
        "4"
    );
    c.ok_stdin(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        &three,
    );
    assert_eq!(
        c.jsonpath(&["deploy", "web", "-n", "shop"], "{.spec.replicas}"),
        "3"
    );
    let managers = c.jsonpath(
        &["deploy", "web", "-n", "shop", "--show-managed-fields"],
        "{.metadata.managedFields[*].operation}",
    );
    assert!(managers.contains("Apply"), "{managers}");
}

#[test]
fn a_clean_shutdown_gives_up_the_leader_leases() {
    let mut c = Cluster::start();
    let holder = |c: &Cluster, lease: &str| {
        c.jsonpath(
            &["lease", "-n", "kube-system", lease],
            "{.spec.holderIdentity}",
        )
    };
    c.wait_for(
        "the scheduler's Lease",
        std::time::Duration::from_secs(30),
        || {
            c.kubectl(&["get", "lease", "-n", "kube-system", "kube-scheduler"])
                .status
                .success()
        },
    );
    assert!(!holder(&c, "kube-scheduler").is_empty());
    // back without a scheduler or controllers: nothing takes the Leases again
    c.restart_gracefully_with(&["--disable-scheduler", "--disable-controller-manager"]);
    assert_eq!(holder(&c, "kube-scheduler"), "");
    assert_eq!(holder(&c, "kube-controller-manager"), "");
}
