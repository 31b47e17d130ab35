//! Serves an axum app over TCP with the limits every server of ours needs, so that a client
//! that never finishes its request cannot hold a connection (or the server) for ever:
//!
//! - a **header timeout**: a request's headers must arrive within it, counted from when the
//!   server starts waiting for them, so it also closes idle keep-alive connections;
//! - a **body timeout**: the whole request body must arrive within it once the headers are
//!   in; a handler reading it then sees [`BodyTimeout`] (see [`is_body_timeout`]);
//! - a **connection cap**: beyond it, new connections wait in the listen queue until one
//!   closes, so the server never runs out of memory or file descriptors;
//! - **graceful shutdown**: cancelling the token closes the listener (new connections are
//!   refused), closes idle connections and lets requests in flight finish, for at most the
//!   **drain timeout**; connections still busy then are closed.
//!
//! The sandbox, `bbagent mcp --http` and the tool router all serve through [`Serving`], and
//! stop on [`shutdown_signal`] (SIGTERM or Ctrl-C).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt as _};

/// How long a client may take and how many connections it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most time a request's headers may take to arrive (also the most a keep-alive
    /// connection may sit idle).
    pub header_timeout: Duration,
    /// The most time a request's body may take to arrive once its headers are in.
    pub body_timeout: Duration,
    /// The most connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// On shutdown, the most time requests in flight get to finish.
    pub drain_timeout: Duration,
}

impl Limits {
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(15);
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
    pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// At least one connection is always served.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    pub fn with_drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            drain_timeout: Self::DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

/// An app being served until its token is cancelled (or this is dropped).
#[derive(Debug)]
pub struct Serving {
    ct: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Serving {
    /// Serves `app` on `listener` within `limits` until `ct` is cancelled, then finishes the
    /// requests in flight (within the drain timeout).
    pub fn spawn<S>(listener: TcpListener, app: S, limits: Limits, ct: CancellationToken) -> Self
    where
        S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
        S::Future: Send + 'static,
    {
        let task = tokio::spawn(run(listener, app, limits, ct.clone()));
        Self {
            ct,
            task: Some(task),
        }
    }

    /// Stops accepting and waits for the requests in flight to finish, at most the drain
    /// timeout (and a moment to close what is still open then).
    pub async fn shutdown(&mut self) {
        self.ct.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Resolves when the server stops: by itself (an I/O failure), or once shut down from
    /// elsewhere through its token; pending while it serves.
    pub async fn stopped(&mut self) -> std::io::Result<()> {
        match self.task.as_mut() {
            Some(task) => {
                let result = task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
                self.task = None;
                result
            }
            None => std::future::pending().await,
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.ct.cancel();
    }
}

async fn run<S>(
    listener: TcpListener,
    app: S,
    limits: Limits,
    ct: CancellationToken,
) -> std::io::Result<()>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let max = limits
        .max_connections
        .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let slots = Arc::new(Semaphore::new(max));
    // Cancelled when the drain timeout is over: connections still open then are dropped.
    let cut = CancellationToken::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        // A slot first: beyond the cap, connections wait in the kernel's listen queue.
        let slot = tokio::select! {
            () = ct.cancelled() => break,
            slot = Arc::clone(&slots).acquire_owned() => slot.map_err(std::io::Error::other)?,
        };
        let stream = tokio::select! {
            () = ct.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let request =
                request.map(|body| axum::body::Body::new(TimeoutBody::new(body, body_timeout)));
            app.clone().oneshot(request)
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let ct = ct.clone();
        let cut = cut.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = ct.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    tokio::select! {
                        result = connection.as_mut() => result,
                        // Dropping the connection closes it, answer or not.
                        () = cut.cancelled() => return,
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    // Refuse new connections now, rather than leave them in the listen queue while draining.
    drop(listener);
    // Every slot back means every connection has finished.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let busy = max - slots.available_permits();
    if tokio::time::timeout(limits.drain_timeout, slots.acquire_many(all))
        .await
        .is_err()
    {
        let still = max - slots.available_permits();
        tracing::warn!(
            busy,
            cut = still,
            drain_timeout_ms = u64::try_from(limits.drain_timeout.as_millis()).unwrap_or(u64::MAX),
            "closing connections still busy after the drain timeout"
        );
        cut.cancel();
        let _all = slots.acquire_many(all).await;
    }
    Ok(())
}

/// Resolves on SIGTERM (a service manager's or `kill`'s polite stop) or SIGINT (Ctrl-C),
/// whichever comes first; the servers then stop as [`Serving::shutdown`] does.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind| async move {
        match signal(kind) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            // Without a handler the signal keeps its default action (the process ends).
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for a signal");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = listen(SignalKind::terminate()) => {}
        () = listen(SignalKind::interrupt()) => {}
    }
}

/// `body` as a response body that ends (cleanly) once `stopping` is cancelled: for streams
/// with no natural end, such as an MCP server's event stream, which would otherwise keep a
/// shutdown waiting for the whole drain timeout.
pub fn end_on(stopping: CancellationToken, body: axum::body::Body) -> axum::body::Body {
    axum::body::Body::new(EndOn {
        inner: body,
        stopping: Box::pin(stopping.cancelled_owned()),
    })
}

struct EndOn {
    inner: axum::body::Body,
    stopping: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
}

impl Body for EndOn {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.stopping.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn size_hint(&self) -> SizeHint {
        // It may end early, so no exact size.
        SizeHint::new()
    }
}

/// `body` as a response body that keeps `guard` until it is done: sent to its end, or dropped
/// with its connection. For work that lasts as long as the answer, such as a call streamed
/// back as events.
pub fn keeping<G: Send + Unpin + 'static>(guard: G, body: axum::body::Body) -> axum::body::Body {
    axum::body::Body::new(Keeping {
        inner: body,
        _guard: guard,
    })
}

struct Keeping<G> {
    inner: axum::body::Body,
    _guard: G,
}

impl<G: Unpin> Body for Keeping<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Errors of one connection that do not concern the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// The request body did not arrive within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {}s", .0.as_secs_f64())]
pub struct BodyTimeout(pub Duration);

/// Whether `error`, or one of its causes, is a [`BodyTimeout`].
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyTimeout>() {
            return true;
        }
        cause = e.source();
    }
    false
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body that fails with [`BodyTimeout`] when it is not complete by its deadline.
struct TimeoutBody<B> {
    inner: B,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<B> TimeoutBody<B> {
    fn new(inner: B, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl<B> Body for TimeoutBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyTimeout(this.timeout)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
