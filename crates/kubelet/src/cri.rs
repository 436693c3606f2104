//! The [`Runtime`] over CRI v1: gRPC to containerd (or any CRI runtime) on a unix socket.

mod convert;

use crate::runtime::{
    ContainerConfig, ContainerEvent, ContainerFilter, ContainerState, ContainerStatus, Error,
    ExecResult, PodSandbox, PodSandboxConfig, PodSandboxFilter, Result, Runtime, RuntimeVersion,
    StreamIo,
};
use futures::stream::BoxStream;
use futures::StreamExt;
use hyper_util::rt::TokioIo;
use k8s_cri::v1 as cri;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint, Uri};

/// A CRI runtime reached over a unix socket.
#[derive(Clone)]
pub struct CriRuntime {
    runtime: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
    /// Statuses of exited containers by id: they never change, so they are asked for once.
    exited: std::sync::Arc<Mutex<HashMap<String, ContainerStatus>>>,
    /// Registry credentials for pulls.
    registries: std::sync::Arc<crate::registries::Registries>,
}

fn rpc(e: tonic::Status) -> Error {
    if e.code() == tonic::Code::NotFound {
        return Error::NotFound {
            kind: "object",
            id: e.message().to_string(),
        };
    }
    Error::Runtime(Box::new(e))
}

impl CriRuntime {
    /// Connects to the CRI socket at `socket` (lazily: the first call dials).
    pub fn connect(socket: &Path) -> Result<CriRuntime> {
        let path: PathBuf = socket.to_path_buf();
        let endpoint = Endpoint::try_from("http://[::]:50051")
            .map_err(|e| Error::Runtime(Box::new(e)))?
            .connect_timeout(Duration::from_secs(5));
        let channel = endpoint.connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        }));
        Ok(CriRuntime {
            runtime: RuntimeServiceClient::new(channel.clone()).max_decoding_message_size(64 << 20),
            images: ImageServiceClient::new(channel).max_decoding_message_size(64 << 20),
            exited: Default::default(),
            registries: Default::default(),
        })
    }

    /// Pulls with the credentials of `registries`.
    #[must_use]
    pub fn with_registries(mut self, registries: crate::registries::Registries) -> Self {
        self.registries = std::sync::Arc::new(registries);
        self
    }

    /// Whether the runtime answers `Version` within a second.
    pub async fn answers(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(1), self.version())
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Whether the runtime reports itself and its network ready (CRI `Status`).
    pub async fn ready(&self) -> Result<(bool, String)> {
        let resp = self
            .runtime
            .clone()
            .status(cri::StatusRequest { verbose: false })
            .await
            .map_err(rpc)?
            .into_inner();
        let conditions = resp.status.map(|s| s.conditions).unwrap_or_default();
        let failing: Vec<String> = conditions
            .iter()
            .filter(|c| !c.status)
            .map(|c| format!("{}: {} {}", c.r#type, c.reason, c.message))
            .collect();
        Ok((failing.is_empty(), failing.join("; ")))
    }

    /// The ids of every image the runtime holds, with their tags.
    pub async fn list_images(&self) -> Result<Vec<(String, Vec<String>)>> {
        let resp = self
            .images
            .clone()
            .list_images(cri::ListImagesRequest { filter: None })
            .await
            .map_err(rpc)?
            .into_inner();
        Ok(resp
            .images
            .into_iter()
            .map(|i| (i.id, i.repo_tags))
            .collect())
    }
}

#[async_trait::async_trait]
impl Runtime for CriRuntime {
    async fn version(&self) -> Result<RuntimeVersion> {
        let v = self
            .runtime
            .clone()
            .version(cri::VersionRequest {
                version: "v1".to_string(),
            })
            .await
            .map_err(rpc)?
            .into_inner();
        Ok(RuntimeVersion {
            runtime_name: v.runtime_name,
            runtime_version: v.runtime_version,
        })
    }

    async fn update_runtime_config(&self, pod_cidr: &str) -> Result<()> {
        self.runtime
            .clone()
            .update_runtime_config(cri::UpdateRuntimeConfigRequest {
                runtime_config: Some(cri::RuntimeConfig {
                    network_config: Some(cri::NetworkConfig {
                        pod_cidr: pod_cidr.to_string(),
                    }),
                }),
            })
            .await
            .map_err(rpc)?;
        Ok(())
    }

    async fn run_pod_sandbox(&self, config: &PodSandboxConfig) -> Result<String> {
        let resp = self
            .runtime
            .clone()
            .run_pod_sandbox(cri::RunPodSandboxRequest {
                config: Some(convert::sandbox_config(config)),
                runtime_handler: String::new(),
            })
            .await
            .map_err(|e| {
                if e.message().contains("network") || e.message().contains("cni") {
                    Error::NetworkNotReady(e.message().to_string())
                } else {
                    rpc(e)
                }
            })?;
        Ok(resp.into_inner().pod_sandbox_id)
    }

    async fn stop_pod_sandbox(&self, id: &str) -> Result<()> {
        self.runtime
            .clone()
            .stop_pod_sandbox(cri::StopPodSandboxRequest {
                pod_sandbox_id: id.to_string(),
            })
            .await
            .map_err(rpc)?;
        Ok(())
    }

    async fn remove_pod_sandbox(&self, id: &str) -> Result<()> {
        self.runtime
            .clone()
            .remove_pod_sandbox(cri::RemovePodSandboxRequest {
                pod_sandbox_id: id.to_string(),
            })
            .await
            .map_err(rpc)?;
        self.exited.lock().retain(|_, c| c.pod_sandbox_id != id);
        Ok(())
    }

    async fn pod_sandbox_status(&self, id: &str) -> Result<PodSandbox> {
        let resp = self
            .runtime
            .clone()
            .pod_sandbox_status(cri::PodSandboxStatusRequest {
                pod_sandbox_id: id.to_string(),
                verbose: false,
            })
            .await
            .map_err(rpc)?
            .into_inner();
        let status = resp.status.ok_or_else(|| Error::NotFound {
            kind: "sandbox",
            id: id.to_string(),
        })?;
        Ok(convert::sandbox_status(status))
    }

    async fn list_pod_sandboxes(&self, filter: &PodSandboxFilter) -> Result<Vec<PodSandbox>> {
        let resp = self
            .runtime
            .clone()
            .list_pod_sandbox(cri::ListPodSandboxRequest {
                filter: Some(convert::sandbox_filter(filter)),
            })
            .await
            .map_err(rpc)?
            .into_inner();
        // the list has no IPs: ready sandboxes are asked for their status
        let mut out = Vec::with_capacity(resp.items.len());
        for item in resp.items {
            if item.state == cri::PodSandboxState::SandboxReady as i32 {
                match self.pod_sandbox_status(&item.id).await {
                    Ok(s) => out.push(s),
                    Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            } else {
                out.push(convert::sandbox(item));
            }
        }
        Ok(out)
    }

    async fn create_container(
        &self,
        pod_sandbox_id: &str,
        config: &ContainerConfig,
        sandbox_config: &PodSandboxConfig,
    ) -> Result<String> {
        let resp = self
            .runtime
            .clone()
            .create_container(cri::CreateContainerRequest {
                pod_sandbox_id: pod_sandbox_id.to_string(),
                config: Some(convert::container_config(config, sandbox_config)),
                sandbox_config: Some(convert::sandbox_config(sandbox_config)),
            })
            .await
            .map_err(rpc)?;
        Ok(resp.into_inner().container_id)
    }

    async fn start_container(&self, id: &str) -> Result<()> {
        self.runtime
            .clone()
            .start_container(cri::StartContainerRequest {
                container_id: id.to_string(),
            })
            .await
            .map_err(rpc)?;
        Ok(())
    }

    async fn stop_container(&self, id: &str, timeout: Duration) -> Result<()> {
        let mut client = self.runtime.clone();
        let request = cri::StopContainerRequest {
            container_id: id.to_string(),
            // whole seconds, rounded up: a grace period is never cut short
            timeout: timeout.as_secs_f64().ceil() as i64,
        };
        // the call lasts as long as the grace period; no client-side deadline shorter than it
        client.stop_container(request).await.map_err(rpc)?;
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<()> {
        self.runtime
            .clone()
            .remove_container(cri::RemoveContainerRequest {
                container_id: id.to_string(),
            })
            .await
            .map_err(rpc)?;
        self.exited.lock().remove(id);
        Ok(())
    }

    async fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerStatus>> {
        let resp = self
            .runtime
            .clone()
            .list_containers(cri::ListContainersRequest {
                filter: Some(convert::container_filter(filter)),
            })
            .await
            .map_err(rpc)?
            .into_inner();
        let mut out = Vec::with_capacity(resp.containers.len());
        for c in resp.containers {
            if let Some(s) = self.exited.lock().get(&c.id) {
                out.push(s.clone());
                continue;
            }
            match self.status_in(&c.id, &c.pod_sandbox_id).await {
                Ok(s) => out.push(s),
                Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn container_status(&self, id: &str) -> Result<ContainerStatus> {
        if let Some(s) = self.exited.lock().get(id) {
            return Ok(s.clone());
        }
        let list = self
            .runtime
            .clone()
            .list_containers(cri::ListContainersRequest {
                filter: Some(cri::ContainerFilter {
                    id: id.to_string(),
                    ..Default::default()
                }),
            })
            .await
            .map_err(rpc)?
            .into_inner();
        let sandbox = list
            .containers
            .first()
            .map(|c| c.pod_sandbox_id.clone())
            .unwrap_or_default();
        self.status_in(id, &sandbox).await
    }

    fn container_events(&self) -> BoxStream<'static, ContainerEvent> {
        let mut client = self.runtime.clone();
        futures::stream::once(async move {
            match client.get_container_events(cri::GetEventsRequest {}).await {
                Ok(resp) => resp
                    .into_inner()
                    .filter_map(|e| async move { e.ok().and_then(convert::event) })
                    .boxed(),
                // containerd 1.6 has no event stream: the agent relists instead
                Err(_) => futures::stream::empty().boxed(),
            }
        })
        .flatten()
        .boxed()
    }

    async fn image_status(&self, image: &str) -> Result<Option<String>> {
        let resp = self
            .images
            .clone()
            .image_status(cri::ImageStatusRequest {
                image: Some(cri::ImageSpec {
                    image: image.to_string(),
                    ..Default::default()
                }),
                verbose: false,
            })
            .await
            .map_err(rpc)?
            .into_inner();
        Ok(resp.image.map(|i| i.id))
    }

    async fn pull_image(&self, image: &str) -> Result<String> {
        let resp = self
            .images
            .clone()
            .pull_image(cri::PullImageRequest {
                image: Some(cri::ImageSpec {
                    image: image.to_string(),
                    ..Default::default()
                }),
                auth: self.registries.auth_for(image).map(|a| cri::AuthConfig {
                    username: a.username.clone(),
                    password: a.password.clone(),
                    identity_token: a.auth.clone(),
                    ..Default::default()
                }),
                sandbox_config: None,
            })
            .await
            .map_err(|e| Error::ImagePull {
                image: image.to_string(),
                message: e.message().to_string(),
            })?;
        Ok(resp.into_inner().image_ref)
    }

    async fn exec_url(&self, id: &str, cmd: &[String], io: StreamIo) -> Result<String> {
        self.exec_url_inner(id, cmd, io).await
    }

    async fn attach_url(&self, id: &str, io: StreamIo) -> Result<String> {
        let resp = self
            .runtime
            .clone()
            .attach(cri::AttachRequest {
                container_id: id.to_string(),
                stdin: io.stdin,
                tty: io.tty,
                stdout: io.stdout,
                stderr: io.stderr && !io.tty,
            })
            .await
            .map_err(rpc)?;
        Ok(resp.into_inner().url)
    }

    async fn port_forward_url(&self, sandbox_id: &str) -> Result<String> {
        let resp = self
            .runtime
            .clone()
            .port_forward(cri::PortForwardRequest {
                pod_sandbox_id: sandbox_id.to_string(),
                port: Vec::new(),
            })
            .await
            .map_err(rpc)?;
        Ok(resp.into_inner().url)
    }

    async fn exec_sync(&self, id: &str, cmd: &[String], timeout: Duration) -> Result<ExecResult> {
        let resp = self
            .runtime
            .clone()
            .exec_sync(cri::ExecSyncRequest {
                container_id: id.to_string(),
                cmd: cmd.to_vec(),
                timeout: timeout.as_secs().max(1) as i64,
            })
            .await
            .map_err(rpc)?
            .into_inner();
        Ok(ExecResult {
            exit_code: resp.exit_code,
            stdout: resp.stdout,
            stderr: resp.stderr,
        })
    }
}

impl CriRuntime {
    async fn exec_url_inner(&self, id: &str, cmd: &[String], io: StreamIo) -> Result<String> {
        let resp = self
            .runtime
            .clone()
            .exec(cri::ExecRequest {
                container_id: id.to_string(),
                cmd: cmd.to_vec(),
                tty: io.tty,
                stdin: io.stdin,
                stdout: io.stdout,
                stderr: io.stderr && !io.tty,
            })
            .await
            .map_err(rpc)?;
        Ok(resp.into_inner().url)
    }

    /// The status of a container in a known sandbox; exited ones are remembered.
    async fn status_in(&self, id: &str, sandbox: &str) -> Result<ContainerStatus> {
        let resp = self
            .runtime
            .clone()
            .container_status(cri::ContainerStatusRequest {
                container_id: id.to_string(),
                verbose: false,
            })
            .await
            .map_err(rpc)?
            .into_inner();
        let status = resp.status.ok_or_else(|| Error::NotFound {
            kind: "container",
            id: id.to_string(),
        })?;
        let s = convert::container_status(status, sandbox);
        if s.state == ContainerState::Exited {
            self.exited.lock().insert(id.to_string(), s.clone());
        }
        Ok(s)
    }
}
