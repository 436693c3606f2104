//! In-process API server on a loopback port, driven over HTTPS with the admin certificate.

use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

struct Server {
    _dir: tempfile::TempDir,
    base: String,
    http: reqwest::Client,
    anon: reqwest::Client,
    running: skiff_apiserver::Running,
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
    let build = |with_ident: bool| {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap());
        if with_ident {
            b = b.identity(reqwest::Identity::from_pem(&ident).unwrap());
        }
        b.build().unwrap()
    };
    Server {
        base: format!("https://{}", running.local_addr),
        http: build(true),
        anon: build(false),
        running,
        _dir: dir,
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        ct: &str,
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(b) = body {
            req = req.header("content-type", ct).body(b);
        }
        let resp = req.send().await.unwrap();
        let code = resp.status().as_u16();
        let text = resp.bytes().await.unwrap();
        (code, serde_json::from_slice(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            "application/json",
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::PUT,
            path,
            "application/json",
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    async fn patch(&self, path: &str, ct: &str, body: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::PATCH,
            path,
            ct,
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, "", None).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, "", None).await
    }
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn cm(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"k": "v"}})
}

fn rv(obj: &Value) -> i64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn errors_are_statuses_with_upstream_codes_and_reasons() {
    let s = server().await;
    let (code, st) = s
        .send(
            reqwest::Method::POST,
            CMS,
            "application/json",
            Some(b"{not json".to_vec()),
        )
        .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (400, Some("BadRequest")),
        "{st}"
    );
    assert_eq!(st["kind"], "Status");
    let (code, st) = s
        .send(
            reqwest::Method::POST,
            CMS,
            "application/yaml",
            Some(b"a: [b".to_vec()),
        )
        .await;
    assert_eq!(code, 400, "{st}");
    let (code, st) = s
        .send(
            reqwest::Method::POST,
            CMS,
            "text/plain",
            Some(b"x".to_vec()),
        )
        .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (415, Some("UnsupportedMediaType")),
        "{st}"
    );
    let big = cm("big", json!({}));
    let mut big = big;
    big["data"]["k"] = json!("x".repeat(3 * 1024 * 1024 + 10));
    let (code, st) = s.post(CMS, big).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (413, Some("RequestEntityTooLarge")),
        "{st}"
    );
    let (code, st) = s.get(&format!("{CMS}/missing")).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (404, Some("NotFound")),
        "{st}"
    );
    assert_eq!(st["message"], "configmaps \"missing\" not found");
    assert_eq!(st["details"]["kind"], "configmaps");
    assert_eq!(s.post(CMS, cm("a", json!({}))).await.0, 201);
    let (code, st) = s.post(CMS, cm("a", json!({}))).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (409, Some("AlreadyExists")),
        "{st}"
    );
    let (code, st) = s
        .post(
            CMS,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_Valid"}}),
        )
        .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (422, Some("Invalid")),
        "{st}"
    );
    assert_eq!(st["details"]["causes"][0]["field"], "metadata.name");
    assert_eq!(st["details"]["causes"][0]["reason"], "FieldValueInvalid");
    let (code, _) = s
        .send(
            reqwest::Method::POST,
            &format!("{CMS}/a"),
            "application/json",
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(code, 405);
    let resp = s.anon.get(s.url(CMS)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(
        s.anon
            .get(s.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    for (path, want) in [("/version", 200), ("/openapi/v3", 401)] {
        let code = s
            .anon
            .get(s.url(path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(
            code, want,
            "{path}: OpenAPI is for authenticated clients only"
        );
    }
    let (code, st) = s.get("/api/v1/pods?labelSelector=a%20in%20(").await;
    assert_eq!(code, 400, "{st}");
    let dup = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d","name":"d"},"data":{"k":"v"}}"#.to_vec();
    let (code, st) = s
        .send(
            reqwest::Method::POST,
            &format!("{CMS}?fieldValidation=Strict"),
            "application/json",
            Some(dup.clone()),
        )
        .await;
    assert_eq!(code, 400, "{st}");
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .contains("duplicate field \"metadata.name\""),
        "{st}"
    );
    let resp = s
        .http
        .post(s.url(CMS))
        .header("content-type", "application/json")
        .body(dup)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        201,
        "Warn (the default) accepts the body"
    );
    let warning = resp
        .headers()
        .get("warning")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(warning.contains("duplicate field"), "{warning}");
    assert_eq!(
        s.send(reqwest::Method::DELETE, &format!("{CMS}/d"), "", None)
            .await
            .0,
        200
    );
    // nothing that failed was stored
    let (_, list) = s.get(CMS).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a"]);
}

#[tokio::test]
async fn updates_compare_and_swap_on_resource_version() {
    let s = server().await;
    let (_, created) = s.post(CMS, cm("a", json!({}))).await;
    let mut stale = created.clone();
    stale["data"]["k"] = json!("first");
    let (code, first) = s.put(&format!("{CMS}/a"), stale.clone()).await;
    assert_eq!(code, 200);
    assert!(rv(&first) > rv(&created));
    stale["data"]["k"] = json!("second");
    let (code, st) = s.put(&format!("{CMS}/a"), stale).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (409, Some("Conflict")),
        "{st}"
    );
    assert!(st["message"]
        .as_str()
        .unwrap()
        .contains("the object has been modified"));
    // an update that changes nothing does not write
    let (code, same) = s.put(&format!("{CMS}/a"), first.clone()).await;
    assert_eq!(code, 200);
    assert_eq!(rv(&same), rv(&first));
    // a patch with a stale resourceVersion is a conflict too
    let (code, _) = s.patch(&format!("{CMS}/a"), "application/merge-patch+json", json!({"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "data": {"x": "1"}})).await;
    assert_eq!(code, 409);
    // uid and creationTimestamp cannot be changed
    let mut forged = first.clone();
    forged["metadata"]["creationTimestamp"] = json!("2000-01-01T00:00:00Z");
    forged["metadata"]["resourceVersion"] = json!("");
    let (code, after) = s.put(&format!("{CMS}/a"), forged).await;
    assert_eq!(code, 200);
    assert_eq!(
        after["metadata"]["creationTimestamp"],
        first["metadata"]["creationTimestamp"]
    );
}

#[tokio::test]
async fn generation_counts_spec_changes_only_and_status_is_its_own_subresource() {
    let s = server().await;
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
    let path = "/apis/apps/v1/namespaces/default/deployments";
    let (code, d) = s.post(path, deploy).await;
    assert_eq!(code, 201, "{d}");
    assert_eq!(d["metadata"]["generation"], 1);
    let (_, d) = s
        .patch(
            &format!("{path}/d"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"x": "y"}}}),
        )
        .await;
    assert_eq!(d["metadata"]["generation"], 1, "labels are not spec");
    let (_, d) = s
        .patch(
            &format!("{path}/d"),
            "application/merge-patch+json",
            json!({"spec": {"replicas": 4}, "status": {"replicas": 9}}),
        )
        .await;
    assert_eq!(d["metadata"]["generation"], 2);
    assert!(
        d["status"].get("replicas").is_none(),
        "status is ignored on the main resource: {d}"
    );
    let (code, d) = s
        .patch(
            &format!("{path}/d/status"),
            "application/merge-patch+json",
            json!({"spec": {"replicas": 1}, "status": {"replicas": 9}}),
        )
        .await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["status"]["replicas"], 9);
    assert_eq!(d["spec"]["replicas"], 4, "spec is ignored on /status");
    let (code, scale) = s.get(&format!("{path}/d/scale")).await;
    assert_eq!(code, 200);
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 4);
    assert_eq!(scale["status"]["selector"], "a=b");
    let (code, scale) = s
        .patch(
            &format!("{path}/d/scale"),
            "application/merge-patch+json",
            json!({"spec": {"replicas": 7}}),
        )
        .await;
    assert_eq!(code, 200, "{scale}");
    let (_, d) = s.get(&format!("{path}/d")).await;
    assert_eq!(d["spec"]["replicas"], 7);
}

#[tokio::test]
async fn lists_page_with_limit_and_continue_and_filter_by_labels() {
    let s = server().await;
    for i in 0..7 {
        let color = if i % 2 == 0 { "red" } else { "blue" };
        assert_eq!(
            s.post(CMS, cm(&format!("c{i}"), json!({"color": color})))
                .await
                .0,
            201
        );
    }
    let (_, page1) = s.get(&format!("{CMS}?limit=3")).await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 3);
    assert_eq!(page1["metadata"]["remainingItemCount"], 4);
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    // a write between pages does not show up: pages read one snapshot
    assert_eq!(s.post(CMS, cm("c9", json!({}))).await.0, 201);
    let (_, page2) = s.get(&format!("{CMS}?limit=10&continue={token}")).await;
    let names: Vec<&str> = page2["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c3", "c4", "c5", "c6"]);
    assert!(page2["metadata"]
        .get("continue")
        .is_none_or(|c| c.is_null() || c == ""));
    let (_, red) = s.get(&format!("{CMS}?labelSelector=color%3Dred")).await;
    assert_eq!(red["items"].as_array().unwrap().len(), 4);
    let (_, set) = s
        .get(&format!("{CMS}?labelSelector=color%20in%20(blue),!missing"))
        .await;
    assert_eq!(set["items"].as_array().unwrap().len(), 3);
    let (_, named) = s
        .get("/api/v1/configmaps?fieldSelector=metadata.name%3Dc2")
        .await;
    assert_eq!(named["items"].as_array().unwrap().len(), 1);
    let (code, _) = s.get(&format!("{CMS}?continue=garbage")).await;
    assert_eq!(code, 400);
    let (code, table) = s.send(reqwest::Method::GET, CMS, "", None).await;
    assert_eq!(code, 200);
    assert_eq!(table["kind"], "ConfigMapList");
    let resp = s
        .http
        .get(s.url(CMS))
        .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .send()
        .await
        .unwrap();
    let table: Value = resp.json().await.unwrap();
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["columnDefinitions"][0]["name"], "Name");
    assert_eq!(table["rows"].as_array().unwrap().len(), 8);
}

async fn next_event(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut Vec<u8>,
) -> Value {
    loop {
        if let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            return serde_json::from_slice(&line).unwrap();
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap();
        buf.extend_from_slice(&chunk);
    }
}

#[tokio::test]
async fn watches_resume_filter_and_report_label_transitions() {
    let s = server().await;
    let (_, a) = s.post(CMS, cm("a", json!({"w": "yes"}))).await;
    let start = a["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    s.post(CMS, cm("b", json!({"w": "no"}))).await;
    s.patch(
        &format!("{CMS}/a"),
        "application/merge-patch+json",
        json!({"data": {"k": "2"}}),
    )
    .await;
    s.patch(
        &format!("{CMS}/a"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"w": "no"}}}),
    )
    .await;
    s.patch(
        &format!("{CMS}/b"),
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"w": "yes"}}}),
    )
    .await;
    s.delete(&format!("{CMS}/b")).await;
    let url = s.url(&format!(
        "{CMS}?watch=true&resourceVersion={start}&labelSelector=w%3Dyes"
    ));
    let resp = s.http.get(url).send().await.unwrap();
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let ev = next_event(&mut stream, &mut buf).await;
        seen.push(format!(
            "{} {}",
            ev["type"].as_str().unwrap(),
            ev["object"]["metadata"]["name"].as_str().unwrap()
        ));
    }
    assert_eq!(seen, ["MODIFIED a", "DELETED a", "ADDED b", "DELETED b"]);
    // a watch with no resourceVersion starts with the current state
    let resp = s
        .http
        .get(s.url(&format!("{CMS}?watch=1")))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let ev = next_event(&mut stream, &mut buf).await;
    assert_eq!(
        (
            ev["type"].as_str(),
            ev["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("a"))
    );
    s.post(CMS, cm("c", json!({}))).await;
    let ev = next_event(&mut stream, &mut buf).await;
    assert_eq!(
        (
            ev["type"].as_str(),
            ev["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("c"))
    );
    // sendInitialEvents ends the initial state with a bookmark
    let url = s.url(&format!("{CMS}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"));
    let mut stream = s.http.get(url).send().await.unwrap().bytes_stream();
    let mut buf = Vec::new();
    let mut kinds = Vec::new();
    loop {
        let ev = next_event(&mut stream, &mut buf).await;
        kinds.push(ev["type"].as_str().unwrap().to_string());
        if ev["type"] == "BOOKMARK" {
            assert_eq!(
                ev["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
                "true"
            );
            break;
        }
    }
    assert_eq!(kinds, ["ADDED", "ADDED", "BOOKMARK"]);
}

#[tokio::test]
async fn compacted_revisions_are_gone_with_reason_expired() {
    let s = server().await;
    let (_, a) = s.post(CMS, cm("a", json!({}))).await;
    for i in 0..5 {
        s.patch(
            &format!("{CMS}/a"),
            "application/merge-patch+json",
            json!({"data": {"k": i.to_string()}}),
        )
        .await;
    }
    let store = &s.running.api.registry.store;
    let current = store.current_revision().await.unwrap();
    store.compact(current - 1).await.unwrap();
    let (code, st) = s
        .get(&format!(
            "{CMS}?resourceVersion={}&resourceVersionMatch=Exact",
            rv(&a)
        ))
        .await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (410, Some("Expired")),
        "{st}"
    );
    let resp = s
        .http
        .get(s.url(&format!("{CMS}?watch=1&resourceVersion={}", rv(&a))))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let ev = next_event(&mut stream, &mut buf).await;
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let s = server().await;
    let mut obj = cm("held", json!({}));
    obj["metadata"]["finalizers"] = json!(["example.com/hold"]);
    s.post(CMS, obj).await;
    let (code, st) = s.delete(&format!("{CMS}/held")).await;
    assert_eq!(code, 200, "{st}");
    let (code, held) = s.get(&format!("{CMS}/held")).await;
    assert_eq!(code, 200);
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    let (code, _) = s
        .patch(
            &format!("{CMS}/held"),
            "application/merge-patch+json",
            json!({"metadata": {"finalizers": null}}),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(s.get(&format!("{CMS}/held")).await.0, 404);
    // dry run changes nothing
    s.post(CMS, cm("keep", json!({}))).await;
    assert_eq!(
        s.send(
            reqwest::Method::DELETE,
            &format!("{CMS}/keep?dryRun=All"),
            "",
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(s.get(&format!("{CMS}/keep")).await.0, 200);
    assert_eq!(
        s.post(&format!("{CMS}?dryRun=All"), cm("ghost", json!({})))
            .await
            .0,
        201
    );
    assert_eq!(s.get(&format!("{CMS}/ghost")).await.0, 404);
    // generateName
    let (code, g) = s
        .post(
            CMS,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}),
        )
        .await;
    assert_eq!(code, 201);
    assert!(g["metadata"]["name"].as_str().unwrap().starts_with("gen-"));
    // deletecollection by label
    s.post(CMS, cm("x1", json!({"drop": "y"}))).await;
    s.post(CMS, cm("x2", json!({"drop": "y"}))).await;
    let (code, _) = s.delete(&format!("{CMS}?labelSelector=drop%3Dy")).await;
    assert_eq!(code, 200);
    let (_, list) = s.get(CMS).await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["metadata"]["labels"]["drop"].is_null()));
}

#[tokio::test]
async fn pods_bind_once_and_bound_pods_delete_gracefully() {
    let s = server().await;
    let pods = "/api/v1/namespaces/default/pods";
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    let (code, p) = s.post(pods, pod.clone()).await;
    assert_eq!(code, 201, "{p}");
    assert_eq!(p["status"]["phase"], "Pending");
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}});
    let (code, st) = s.post(&format!("{pods}/p/binding"), binding.clone()).await;
    assert_eq!(code, 201, "{st}");
    let (code, st) = s.post(&format!("{pods}/p/binding"), binding).await;
    assert_eq!(code, 409, "{st}");
    let (_, p) = s.get(&format!("{pods}/p")).await;
    assert_eq!(p["spec"]["nodeName"], "n1");
    let (code, p) = s.delete(&format!("{pods}/p")).await;
    assert_eq!(code, 200);
    assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 30, "{p}");
    assert_eq!(
        s.get(&format!("{pods}/p")).await.0,
        200,
        "a bound pod waits for its kubelet"
    );
    let (code, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!("{pods}/p?gracePeriodSeconds=0"),
            "",
            None,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(s.get(&format!("{pods}/p")).await.0, 404);
    // unbound pods go at once; pods cannot be created in missing namespaces
    s.post(pods, pod.clone()).await;
    s.delete(&format!("{pods}/p")).await;
    assert_eq!(s.get(&format!("{pods}/p")).await.0, 404);
    let (code, st) = s.post("/api/v1/namespaces/nowhere/pods", pod).await;
    assert_eq!(
        (code, st["message"].as_str()),
        (404, Some("namespaces \"nowhere\" not found"))
    );
}

#[tokio::test]
async fn services_get_cluster_ips_and_node_ports_that_never_collide() {
    let s = server().await;
    let svcs = "/api/v1/namespaces/default/services";
    let svc = |name: &str, t: &str, np: Option<i64>| {
        let mut port = json!({"port": 80});
        if let Some(n) = np {
            port["nodePort"] = json!(n);
        }
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": {"type": t, "selector": {"a": "b"}, "ports": [port]}})
    };
    let (code, a) = s.post(svcs, svc("a", "NodePort", Some(30080))).await;
    assert_eq!(code, 201, "{a}");
    assert!(a["spec"]["clusterIP"]
        .as_str()
        .unwrap()
        .starts_with("10.43."));
    assert_eq!(a["spec"]["ports"][0]["nodePort"], 30080);
    assert_eq!(a["spec"]["ports"][0]["targetPort"], 80);
    let (code, st) = s.post(svcs, svc("b", "NodePort", Some(30080))).await;
    assert_eq!(code, 422, "{st}");
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .contains("provided port is already allocated"),
        "{st}"
    );
    let (code, b) = s.post(svcs, svc("b", "LoadBalancer", None)).await;
    assert_eq!(code, 201, "{b}");
    let np = b["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&np));
    assert_ne!(a["spec"]["clusterIP"], b["spec"]["clusterIP"]);
    let (_, k) = s.get(&format!("{svcs}/kubernetes")).await;
    assert_eq!(k["spec"]["clusterIP"], "10.43.0.1");
    // clusterIP is kept when an update omits it
    let mut upd = b.clone();
    upd["spec"].as_object_mut().unwrap().remove("clusterIP");
    upd["spec"].as_object_mut().unwrap().remove("clusterIPs");
    let (code, after) = s.put(&format!("{svcs}/b"), upd).await;
    assert_eq!(code, 200, "{after}");
    assert_eq!(after["spec"]["clusterIP"], b["spec"]["clusterIP"]);
}

#[tokio::test]
async fn discovery_documents_describe_the_served_resources() {
    let s = server().await;
    let (_, apis) = s.get("/apis").await;
    assert_eq!(apis["kind"], "APIGroupList");
    let resp = s
        .http
        .get(s.url("/apis"))
        .header(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    let agg: Value = resp.json().await.unwrap();
    let apps = agg["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "apps")
        .unwrap();
    let deploy = apps["versions"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "deployments")
        .unwrap();
    assert_eq!(deploy["shortNames"], json!(["deploy"]));
    let (_, v1) = s.get("/api/v1").await;
    assert!(v1["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "pods/eviction"));
    let (code, idx) = s.get("/openapi/v3").await;
    assert_eq!(code, 200);
    let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, doc) = s.get(&url).await;
    assert_eq!(code, 200);
    assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].is_object());
    let (_, version) = s.get("/version").await;
    assert_eq!(version["major"], "1");
}

#[tokio::test]
async fn events_are_one_collection_in_both_apis() {
    let s = server().await;
    let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1"},
        "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "skiff/test", "reportingInstance": "i",
        "action": "Sync", "reason": "Synced", "type": "Normal", "note": "all good",
        "regarding": {"kind": "Pod", "namespace": "default", "name": "p1"}});
    let (code, created) = s
        .post("/apis/events.k8s.io/v1/namespaces/default/events", ev)
        .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["note"], "all good");
    let (_, core) = s
        .get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dp1")
        .await;
    let items = core["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{core}");
    assert_eq!(items[0]["message"], "all good");
    assert_eq!(items[0]["involvedObject"]["kind"], "Pod");
    let core_ev = json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e2"}, "message": "hello",
        "reason": "Hi", "type": "Normal", "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p2"}});
    assert_eq!(
        s.post("/api/v1/namespaces/default/events", core_ev).await.0,
        201
    );
    let (code, v1) = s
        .get("/apis/events.k8s.io/v1/namespaces/default/events/e2")
        .await;
    assert_eq!(code, 200, "{v1}");
    assert_eq!(v1["note"], "hello");
    assert_eq!(v1["regarding"]["name"], "p2");
    let (_, all) = s
        .get("/apis/events.k8s.io/v1/events?fieldSelector=regarding.name%3Dp2")
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
}

#[tokio::test]
async fn concurrent_binds_of_one_pod_assign_it_once() {
    let s = server().await;
    let pods = "/api/v1/namespaces/default/pods";
    for i in 0..5 {
        let name = format!("race-{i}");
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
        assert_eq!(s.post(pods, pod).await.0, 201);
        let bind = |node: &str| json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name}, "target": {"kind": "Node", "name": node}});
        let path = format!("{pods}/{name}/binding");
        let (a, b) = tokio::join!(s.post(&path, bind("n1")), s.post(&path, bind("n2")));
        let mut codes = [a.0, b.0];
        codes.sort();
        assert_eq!(codes, [201, 409], "exactly one bind wins: {a:?} {b:?}");
    }
    let (code, st) = s.post(&format!("{pods}/race-0/binding"), json!({"metadata": {"name": "race-0", "annotations": "x"}, "target": {"name": "Bad Name!"}})).await;
    assert_eq!(code, 422, "{st}");
}

#[tokio::test]
async fn evictions_spend_the_disruption_budget() {
    let s = server().await;
    let pods = "/api/v1/namespaces/default/pods";
    for name in ["a", "b"] {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
        s.post(pods, pod).await;
        s.patch(
            &format!("{pods}/{name}/status"),
            "application/merge-patch+json",
            json!({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
        )
        .await;
    }
    let pdbs = "/apis/policy/v1/namespaces/default/poddisruptionbudgets";
    let (code, pdb) = s.post(pdbs, json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}}})).await;
    assert_eq!(code, 201, "{pdb}");
    let status = json!({"status": {"observedGeneration": 1, "disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2}});
    assert_eq!(
        s.patch(
            &format!("{pdbs}/p/status"),
            "application/merge-patch+json",
            status
        )
        .await
        .0,
        200
    );
    let evict = |name: &str| json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}});
    let (code, st) = s.post(&format!("{pods}/a/eviction"), evict("a")).await;
    assert_eq!(code, 201, "{st}");
    let (code, st) = s.post(&format!("{pods}/b/eviction"), evict("b")).await;
    assert_eq!(
        (code, st["reason"].as_str()),
        (429, Some("TooManyRequests")),
        "{st}"
    );
    let (_, pdb) = s.get(&format!("{pdbs}/p")).await;
    assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
    assert!(pdb["status"]["disruptedPods"]["a"].is_string(), "{pdb}");
    assert_eq!(s.get(&format!("{pods}/b")).await.0, 200);
}

#[tokio::test]
async fn hostile_input_gets_statuses_not_crashes() {
    let s = server().await;
    let (code, st) = s.post(CMS, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": format!("a{}", "é".repeat(40))}})).await;
    assert!(code == 201 || code == 422, "{code} {st}");
    let svcs = "/api/v1/namespaces/default/services";
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
    assert_eq!(s.post(svcs, svc).await.0, 201);
    let (code, st) = s
        .patch(
            &format!("{svcs}/np"),
            "application/merge-patch+json",
            json!({"spec": {"ports": [5]}}),
        )
        .await;
    assert_eq!(code, 422, "{st}");
    let (code, st) = s
        .patch(
            &format!("{svcs}/np"),
            "application/merge-patch+json",
            json!({"spec": {"ports": [{"port": 80, "nodePort": 80}]}}),
        )
        .await;
    assert_eq!(code, 422, "{st}");
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .contains("not in the valid range"),
        "{st}"
    );
    // an unknown field is dropped (Warn), so a later strict apply of the object still works
    let (code, cm) = s
        .post(
            CMS,
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fv"}, "foo": 1}),
        )
        .await;
    assert_eq!(code, 201);
    assert!(cm.get("foo").is_none(), "{cm}");
    let (code, st) = s
        .patch(
            &format!("{CMS}/fv?fieldValidation=Strict"),
            "application/merge-patch+json",
            json!({"data": {"a": "b"}}),
        )
        .await;
    assert_eq!(code, 200, "{st}");
    // collection writes need a namespace; namespaces are not deleted in bulk
    assert_eq!(s.delete("/api/v1/configmaps").await.0, 405);
    assert_eq!(s.delete("/api/v1/namespaces").await.0, 405);
    let (_, list) = s.get("/api/v1/namespaces/kube-system/configmaps").await;
    assert!(list["items"].is_array());
    // a PUT that would create an object under another name or namespace is refused
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "other", "namespace": "kube-system"}});
    let (code, st) = s
        .put(
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/l1",
            lease,
        )
        .await;
    assert_eq!(code, 400, "{st}");
}

#[tokio::test]
async fn objects_leaving_a_watched_selection_are_deleted_with_their_last_matching_state() {
    let s = server().await;
    let (_, a) = s.post(CMS, cm("a", json!({"sel": "yes"}))).await;
    let url = s.url(&format!(
        "{CMS}?watch=1&labelSelector=sel%3Dyes&resourceVersion={}",
        rv(&a)
    ));
    let mut stream = s.http.get(url).send().await.unwrap().bytes_stream();
    let mut buf = Vec::new();
    let (_, changed) = s
        .patch(
            &format!("{CMS}/a"),
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"sel": null}}}),
        )
        .await;
    let ev = next_event(&mut stream, &mut buf).await;
    assert_eq!(ev["type"], "DELETED");
    assert_eq!(ev["object"]["metadata"]["labels"]["sel"], "yes");
    assert_eq!(
        ev["object"]["metadata"]["resourceVersion"],
        changed["metadata"]["resourceVersion"]
    );
}

#[tokio::test]
async fn terminating_namespaces_refuse_content_and_go_once_finalized() {
    // no namespace controller runs here: the namespace waits for its `kubernetes` finalizer
    let s = server().await;
    let (code, _) = s
        .post(
            "/api/v1/namespaces",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}}),
        )
        .await;
    assert_eq!(code, 201);
    s.post("/api/v1/namespaces/gone/configmaps", cm("c", json!({})))
        .await;
    let (code, ns) = s.delete("/api/v1/namespaces/gone").await;
    assert_eq!(code, 200);
    assert_eq!(ns["status"]["phase"], "Terminating");
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    let (code, st) = s
        .post("/api/v1/namespaces/gone/configmaps", cm("late", json!({})))
        .await;
    assert_eq!(code, 403, "{st}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        s.get("/api/v1/namespaces/gone").await.0,
        200,
        "the finalizer holds the namespace"
    );
    let mut body = s.get("/api/v1/namespaces/gone").await.1;
    body["spec"]["finalizers"] = json!([]);
    let (code, st) = s.put("/api/v1/namespaces/gone/finalize", body).await;
    assert_eq!(code, 200, "{st}");
    assert_eq!(s.get("/api/v1/namespaces/gone").await.0, 404);
}

#[tokio::test]
async fn future_revisions_and_uid_rewrites_are_refused() {
    let s = server().await;
    let (_, a) = s.post(CMS, cm("a", json!({}))).await;
    let future = rv(&a) + 1000;
    let (code, st) = s
        .get(&format!("{CMS}?watch=1&resourceVersion={future}"))
        .await;
    assert_eq!(code, 504, "{st}");
    assert_eq!(
        st["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    let (code, st) = s.get(&format!("{CMS}?resourceVersion={future}")).await;
    assert_eq!(code, 504, "{st}");
    let (code, st) = s
        .patch(
            &format!("{CMS}/a"),
            "application/merge-patch+json",
            json!({"metadata": {"uid": "forged"}}),
        )
        .await;
    assert_eq!(code, 422, "{st}");
    assert_eq!(st["details"]["causes"][0]["field"], "metadata.uid");
}
