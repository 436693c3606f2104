//! In-process clients: the scheduler and controller manager running inside `skiff server`
//! call the handlers directly, as a given user, without TCP, TLS or HTTP framing.
//!
//! Requests and responses are the same `http` values the HTTPS listener passes, so these
//! clients see exactly what remote ones do (watch streams included); only the transport
//! is skipped. Under `skiff bench density` the in-process components' TLS and HTTP
//! handling was about a fifth of the server's CPU.

use crate::auth::User;
use crate::handlers;
use crate::Api;
use axum::body::{Body, HttpBody};
use axum::http::{Request, Response};
use axum::BoxError;
use bytes::Bytes;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A `tower::Service` that serves requests in process as `user`.
#[derive(Clone)]
pub struct Loopback {
    api: Arc<Api>,
    user: User,
}

impl Loopback {
    /// A client identity `name` (authenticated, in `groups`) for this server.
    pub fn new(api: Arc<Api>, name: &str, groups: &[&str]) -> Loopback {
        let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        groups.push("system:authenticated".into());
        Loopback {
            api,
            user: User {
                name: name.to_string(),
                groups,
            },
        }
    }
}

impl<B> tower::Service<Request<B>> for Loopback
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let api = self.api.clone();
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(self.user.clone());
        Box::pin(async move { Ok(handlers::serve(api, req).await) })
    }
}
