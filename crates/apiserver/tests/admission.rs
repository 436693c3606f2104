//! Admission plugins on an in-process API server (no controllers run): ServiceAccount,
//! DefaultTolerationSeconds, Priority, LimitRanger, ResourceQuota and unready-pod evictions.

use serde_json::{json, Value};

struct Server {
    _dir: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
    _running: skiff_apiserver::Running,
}

async fn server() -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let running = skiff_apiserver::start(skiff_apiserver::Config {
        data_dir: dir.path().to_path_buf(),
        bind_address: "127.0.0.1".parse().unwrap(),
        https_port: 0,
        tls_sans: vec![],
    })
    .await
    .unwrap();
    let tls = dir.path().join("server/tls");
    let ca = std::fs::read(tls.join("server-ca.crt")).unwrap();
    let mut ident = std::fs::read(tls.join("client-admin.crt")).unwrap();
    ident.extend(std::fs::read(tls.join("client-admin.key")).unwrap());
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .identity(reqwest::Identity::from_pem(&ident).unwrap())
        .build()
        .unwrap();
    Server {
        base: format!("https://{}", running.local_addr),
        http,
        _running: running,
        _dir: dir,
    }
}

impl Server {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        ct: &str,
        body: Value,
    ) -> (u16, Value) {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", ct)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let code = resp.status().as_u16();
        (code, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, "application/json", body)
            .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let code = resp.status().as_u16();
        (code, resp.json().await.unwrap_or(Value::Null))
    }

    async fn merge_status(&self, path: &str, body: Value) -> u16 {
        let path = format!("{path}/status");
        self.send(
            reqwest::Method::PATCH,
            &path,
            "application/merge-patch+json",
            body,
        )
        .await
        .0
    }
}

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, spec: Value) -> Value {
    let mut spec = spec;
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "busybox"}]);
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})
}

#[tokio::test]
async fn pods_get_the_default_account_tolerations_and_priority() {
    let s = server().await;
    let (code, p) = s.post(PODS, pod("plain", json!({}))).await;
    assert_eq!(code, 201, "{p}");
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    let tolerations = p["spec"]["tolerations"].as_array().unwrap();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        assert!(
            tolerations.iter().any(|t| t["key"] == key
                && t["tolerationSeconds"] == 300
                && t["effect"] == "NoExecute"),
            "{p}"
        );
    }
    assert_eq!(p["spec"]["priority"], 0);
    let (code, pc) = s
        .get("/apis/scheduling.k8s.io/v1/priorityclasses/system-node-critical")
        .await;
    assert_eq!((code, pc["value"].as_i64()), (200, Some(2_000_001_000)));
    let (code, p) = s
        .post(
            PODS,
            pod(
                "critical",
                json!({"priorityClassName": "system-cluster-critical"}),
            ),
        )
        .await;
    assert_eq!(code, 201, "{p}");
    assert_eq!(p["spec"]["priority"], 2_000_000_000);
    let (code, st) = s
        .post(PODS, pod("lost", json!({"priorityClassName": "nope"})))
        .await;
    assert_eq!((code, st["reason"].as_str()), (403, Some("Forbidden")));
    assert_eq!(
        st["message"],
        "pods \"lost\" is forbidden: no PriorityClass with name nope was found"
    );
    let class = json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "batch"}, "value": 1000, "globalDefault": true, "preemptionPolicy": "Never"});
    assert_eq!(
        s.post("/apis/scheduling.k8s.io/v1/priorityclasses", class)
            .await
            .0,
        201
    );
    let (_, p) = s.post(PODS, pod("defaulted", json!({}))).await;
    assert_eq!(
        (
            p["spec"]["priorityClassName"].as_str(),
            p["spec"]["priority"].as_i64()
        ),
        (Some("batch"), Some(1000))
    );
    assert_eq!(p["spec"]["preemptionPolicy"], "Never");
    let (code, st) = s.post(PODS, pod("forged", json!({"priority": 5}))).await;
    assert_eq!(code, 403, "{st}");
    // admission reads classes from a cache; a delete it has acknowledged is already seen there
    let (code, _) = s
        .send(
            reqwest::Method::DELETE,
            "/apis/scheduling.k8s.io/v1/priorityclasses/batch",
            "application/json",
            json!({}),
        )
        .await;
    assert_eq!(code, 200);
    let (_, p) = s.post(PODS, pod("after-delete", json!({}))).await;
    assert_eq!(p["spec"]["priority"], 0, "{p}");
    assert!(p["spec"].get("priorityClassName").is_none(), "{p}");
}

#[tokio::test]
async fn limit_ranges_default_and_bound_container_resources() {
    let s = server().await;
    let lr = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"}, "spec": {"limits": [
        {"type": "Container", "default": {"cpu": "500m"}, "defaultRequest": {"cpu": "100m"}, "max": {"cpu": "1"}}
    ]}});
    let (code, body) = s.post("/api/v1/namespaces/default/limitranges", lr).await;
    assert_eq!(code, 201, "{body}");
    let (code, p) = s.post(PODS, pod("small", json!({}))).await;
    assert_eq!(code, 201, "{p}");
    let r = &p["spec"]["containers"][0]["resources"];
    assert_eq!(
        (r["requests"]["cpu"].as_str(), r["limits"]["cpu"].as_str()),
        (Some("100m"), Some("500m"))
    );
    assert!(p["metadata"]["annotations"]["kubernetes.io/limit-ranger"]
        .as_str()
        .unwrap()
        .starts_with("LimitRanger plugin set: "));
    let big = json!({"containers": [{"name": "c", "image": "busybox", "resources": {"limits": {"cpu": "2"}}}]});
    let (code, st) = s.post(PODS, pod("big", big)).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (403, Some("Forbidden")),
        "{st}"
    );
    assert_eq!(
        st["message"],
        "pods \"big\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
    );
}

#[tokio::test]
async fn quotas_charge_creations_and_refuse_what_exceeds_them() {
    let s = server().await;
    let quotas = "/api/v1/namespaces/default/resourcequotas";
    let q = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q"}, "spec": {"hard": {"pods": "2", "requests.cpu": "1"}}});
    assert_eq!(s.post(quotas, q).await.0, 201);
    // without a status (no controller has computed it) the quota does not apply, as upstream
    let cpu = |m: &str| json!({"containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": m}}}]});
    assert_eq!(s.post(PODS, pod("early", cpu("100m"))).await.0, 201);
    let status = json!({"status": {"hard": {"pods": "2", "requests.cpu": "1"}, "used": {"pods": "1", "requests.cpu": "100m"}}});
    assert_eq!(s.merge_status(&format!("{quotas}/q"), status).await, 200);
    let (code, st) = s.post(PODS, pod("bare", json!({}))).await;
    assert_eq!(code, 403, "{st}");
    assert_eq!(
        st["message"],
        "pods \"bare\" is forbidden: failed quota: q: must specify requests.cpu for: c"
    );
    let (code, st) = s.post(PODS, pod("huge", cpu("1"))).await;
    assert_eq!(code, 403, "{st}");
    assert_eq!(st["message"], "pods \"huge\" is forbidden: exceeded quota: q, requested: requests.cpu=1, used: requests.cpu=100m, limited: requests.cpu=1");
    // two creations racing for the last slot: exactly one lands
    let (a, b) = tokio::join!(
        s.post(PODS, pod("r1", cpu("100m"))),
        s.post(PODS, pod("r2", cpu("100m")))
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [201, 403], "{a:?} {b:?}");
    let (_, q) = s.get(&format!("{quotas}/q")).await;
    assert_eq!(
        q["status"]["used"],
        json!({"pods": "2", "requests.cpu": "200m"})
    );
    let (code, st) = s.post(PODS, pod("third", cpu("100m"))).await;
    assert_eq!(code, 403);
    assert_eq!(st["message"], "pods \"third\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2");
}

#[tokio::test]
async fn an_unready_pod_is_evicted_without_spending_the_budget() {
    let s = server().await;
    for (name, ready) in [("ok", "True"), ("sick", "False")] {
        let mut p = pod(name, json!({}));
        p["metadata"]["labels"] = json!({"app": "x"});
        assert_eq!(s.post(PODS, p).await.0, 201);
        let status = json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": ready}]}});
        assert_eq!(s.merge_status(&format!("{PODS}/{name}"), status).await, 200);
    }
    let pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
    let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}}});
    assert_eq!(s.post(pdbs, pdb).await.0, 201);
    let status = json!({"status": {"observedGeneration": 1, "disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 2}});
    assert_eq!(s.merge_status(&format!("{pdbs}/p"), status).await, 200);
    let evict = |name: &str| json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}});
    let (code, st) = s.post(&format!("{PODS}/ok/eviction"), evict("ok")).await;
    assert_eq!(code, 429, "{st}");
    let (code, st) = s
        .post(&format!("{PODS}/sick/eviction"), evict("sick"))
        .await;
    assert_eq!(code, 201, "{st}");
    assert_eq!(s.get(&format!("{PODS}/sick")).await.0, 404);
}
